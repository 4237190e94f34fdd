//! Undilated 3×3 convolutions by Winograd's minimal filtering (Lavin & Gray 2015). F(4×4, 3×3)
//! computes each 4×4 block of output pixels (a "tile") from a 6×6 patch with 36 multiplications
//! per input channel instead of 144, 4× fewer; F(2×2, 3×3) computes a 2×2 tile from a 4×4 patch
//! with 16 instead of 36, 2.25× fewer, and wastes less on small maps. Each convolution uses the
//! one that does less arithmetic for its size.
//!
//! For an `a × a` patch `d` of the input (`a = m + 2`) and a 3×3 kernel `g`, the `m × m` output
//! is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. The kernel transform `U = G g Gᵀ` is done once, at load. Per
//! convolution, a row of tiles is handled in chunks of `NB` tiles:
//! 1. the input transform `V = Bᵀ d B` of every input channel (additions and small constants),
//!    laid out as `[a²][ci][NB]`;
//! 2. `a²` small matrix products, `M[p] = U[p] · V[p]` (`co × ci` by `ci × NB`), by the same
//!    register tile as the direct convolution (4 output channels × 8 or 16 tiles);
//! 3. the output transform `Aᵀ M A`, the bias and the ReLU.
//!
//! The input is first split by padded column modulo `m`, so both transforms run on contiguous
//! rows of consecutive tiles, which the compiler vectorises.

#[cfg(not(target_arch = "wasm32"))]
use super::ops::tile;
use super::ops::{relu, OB};

/// Which Winograd variant a convolution uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// F(2×2, 3×3).
    F2,
    /// F(4×4, 3×3).
    F4,
}

impl Variant {
    /// Output pixels per tile side.
    fn m(self) -> usize {
        match self {
            Variant::F2 => 2,
            Variant::F4 => 4,
        }
    }

    /// The variant with fewer multiplications for an `h × w` map, counting the tiles a chunk
    /// computes beyond the right edge.
    pub fn for_size(h: usize, w: usize) -> Variant {
        let cost = |v: Variant| {
            let m = v.m();
            h.div_ceil(m) * w.div_ceil(m).next_multiple_of(NB) * (m + 2) * (m + 2)
        };
        if cost(Variant::F4) <= cost(Variant::F2) {
            Variant::F4
        } else {
            Variant::F2
        }
    }
}

/// The kernels of one convolution, transformed: `[a²][co / OB][ci][OB]`.
#[derive(Debug)]
pub struct Winograd {
    variant: Variant,
    u: Vec<f32>,
}

/// Tiles per chunk (a multiple of every register tile's width). Fixed, so that the transforms
/// run on arrays the compiler vectorises without bounds checks.
const NB: usize = 16;

/// One value per tile of a chunk.
type Lane = [f32; NB];

impl Winograd {
    /// `weights` as ONNX lays them out, `[co][ci][3][3]`.
    pub fn new(weights: &[f32], co: usize, ci: usize, variant: Variant) -> Winograd {
        let blocks = co.div_ceil(OB);
        let a = variant.m() + 2;
        let mut u = vec![0f32; a * a * blocks * ci * OB];
        // G times a column (or row) of the kernel, in f64 and rounded once at the end (the
        // first `a` values).
        let g = |x: f64, y: f64, z: f64| -> [f64; 6] {
            match variant {
                Variant::F2 => [x, (x + y + z) / 2.0, (x - y + z) / 2.0, z, 0.0, 0.0],
                Variant::F4 => [
                    x / 4.0,
                    -(x + y + z) / 6.0,
                    -(x - y + z) / 6.0,
                    x / 24.0 + y / 12.0 + z / 6.0,
                    x / 24.0 - y / 12.0 + z / 6.0,
                    z,
                ],
            }
        };
        for oc in 0..co {
            for ic in 0..ci {
                let k = &weights[(oc * ci + ic) * 9..][..9];
                let cols: [[f64; 6]; 3] =
                    std::array::from_fn(|c| g(k[c] as f64, k[3 + c] as f64, k[6 + c] as f64));
                for r in 0..a {
                    let row = g(cols[0][r], cols[1][r], cols[2][r]);
                    for (c, v) in row[..a].iter().enumerate() {
                        u[(((r * a + c) * blocks + oc / OB) * ci + ic) * OB + oc % OB] = *v as f32;
                    }
                }
            }
        }
        Winograd { variant, u }
    }

    /// The convolution of `x` (`chw`) with "same" padding: `co` planes of `h × w`, plus the bias,
    /// through the ReLU if `relu`. `XB` and `FMA` choose the native register tile; wasm32 uses
    /// its SIMD128 tile.
    #[inline(always)]
    pub fn run<const XB: usize, const FMA: bool>(
        &self,
        x: &[f32],
        chw: [usize; 3],
        co: usize,
        bias: &[f32],
        relu: bool,
    ) -> Vec<f32> {
        match self.variant {
            Variant::F2 => self.run_m::<2, 4, 16, XB, FMA>(x, chw, co, bias, relu, bt4, at4),
            Variant::F4 => self.run_m::<4, 6, 36, XB, FMA>(x, chw, co, bias, relu, bt6, at6),
        }
    }

    /// The convolution with `M × M` tiles from `A × A` patches (`P = A²`), given the 1-D input
    /// transform `bt` (`Bᵀ d`) and output transform `at` (`Aᵀ m`).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn run_m<const M: usize, const A: usize, const P: usize, const XB: usize, const FMA: bool>(
        &self,
        x: &[f32],
        [ci, h, w]: [usize; 3],
        co: usize,
        bias: &[f32],
        relu: bool,
        bt: fn([&Lane; A]) -> [Lane; A],
        at: fn([&Lane; A]) -> [Lane; M],
    ) -> Vec<f32> {
        let (th, tw) = (h.div_ceil(M), w.div_ceil(M));
        let chunks = tw.div_ceil(NB);
        let split = Split::new::<M>(x, [ci, h, w], th, chunks * NB + 1);
        let cop = co.div_ceil(OB) * OB;
        let mut s = Scratch {
            v: vec![[0f32; NB]; P * ci],
            m: vec![[0f32; NB]; P * cop],
        };
        let mut out = vec![0f32; co * h * w];
        for ty in 0..th {
            for c in 0..chunks {
                let job = Chunk {
                    ty,
                    t0: c * NB,
                    ci,
                    co,
                    h,
                    w,
                    relu,
                };
                self.chunk::<M, A, P, XB, FMA>(&split, &job, bias, &mut s, &mut out, bt, at);
            }
        }
        out
    }

    /// One chunk of tiles: both transforms and the products. On wasm32 a function of its own,
    /// called thousands of times per convolution, so that V8 optimises it early.
    // The transforms index arrays across two dimensions; ranges say that more plainly.
    #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn chunk<const M: usize, const A: usize, const P: usize, const XB: usize, const FMA: bool>(
        &self,
        split: &Split,
        j: &Chunk,
        bias: &[f32],
        s: &mut Scratch,
        out: &mut [f32],
        bt: fn([&Lane; A]) -> [Lane; A],
        at: fn([&Lane; A]) -> [Lane; M],
    ) {
        let ci = j.ci;
        // 1. V = Bᵀ d B: along each of the patch's rows, then down its columns.
        for ic in 0..ci {
            let rows: [[Lane; A]; A] =
                std::array::from_fn(|r| bt(split.row::<M, A>(ic, M * j.ty + r, j.t0)));
            for q in 0..A {
                let v = bt(std::array::from_fn(|r| &rows[r][q]));
                for (i, v) in v.iter().enumerate() {
                    s.v[(A * i + q) * ci + ic] = *v;
                }
            }
        }
        // 2. M[p] = U[p] · V[p].
        let blocks = j.co.div_ceil(OB);
        for p in 0..P {
            let vp = &s.v[p * ci..][..ci];
            for ob in 0..blocks {
                let up = &self.u[(p * blocks + ob) * ci * OB..][..ci * OB];
                let m: &mut [Lane; OB] = (&mut s.m[(p * blocks + ob) * OB..][..OB])
                    .try_into()
                    .expect("block");
                #[cfg(target_arch = "wasm32")]
                gemm_wasm(up, vp, m);
                #[cfg(not(target_arch = "wasm32"))]
                gemm::<XB, FMA>(up, vp, m);
            }
        }
        // 3. Y = Aᵀ M A: along the rows of M, then down its columns; the bias and the ReLU.
        let cop = blocks * OB;
        let n = (j.w.div_ceil(M) - j.t0).min(NB);
        for oc in 0..j.co {
            let m = |p: usize| &s.m[p * cop + oc];
            let rows: [[Lane; M]; A] =
                std::array::from_fn(|i| at(std::array::from_fn(|q| m(A * i + q))));
            // y[c][r]: output row r of the tiles, column c of each.
            let mut y: [[Lane; M]; M] =
                std::array::from_fn(|c| at(std::array::from_fn(|i| &rows[i][c])));
            let b = bias[oc];
            for lane in y.iter_mut().flatten() {
                for v in lane.iter_mut() {
                    *v = if j.relu { relu(*v + b) } else { *v + b };
                }
            }
            for r in 0..M {
                let oy = M * j.ty + r;
                if oy >= j.h {
                    break;
                }
                let x0 = M * j.t0;
                let dst = &mut out[(oc * j.h + oy) * j.w + x0..][..j.w - x0];
                if dst.len() >= M * NB {
                    for t in 0..NB {
                        for c in 0..M {
                            dst[M * t + c] = y[c][r][t];
                        }
                    }
                } else {
                    for (t, d) in dst.chunks_mut(M).take(n).enumerate() {
                        for (c, d) in d.iter_mut().enumerate() {
                            *d = y[c][r][t];
                        }
                    }
                }
            }
        }
    }
}

/// `Bᵀ d` for F(2×2, 3×3): `Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]`.
#[inline(always)]
fn bt4([d0, d1, d2, d3]: [&Lane; 4]) -> [Lane; 4] {
    let mut r = [[0f32; NB]; 4];
    for t in 0..NB {
        r[0][t] = d0[t] - d2[t];
        r[1][t] = d1[t] + d2[t];
        r[2][t] = d2[t] - d1[t];
        r[3][t] = d1[t] - d3[t];
    }
    r
}

/// `Aᵀ m` for F(2×2, 3×3): `Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]]`.
#[inline(always)]
fn at4([m0, m1, m2, m3]: [&Lane; 4]) -> [Lane; 2] {
    let mut r = [[0f32; NB]; 2];
    for t in 0..NB {
        r[0][t] = m0[t] + m1[t] + m2[t];
        r[1][t] = m1[t] - m2[t] - m3[t];
    }
    r
}

/// `Bᵀ d` for F(4×4, 3×3), with `Bᵀ` =
/// `[[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
/// [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]`.
#[inline(always)]
fn bt6([d0, d1, d2, d3, d4, d5]: [&Lane; 6]) -> [Lane; 6] {
    let mut r = [[0f32; NB]; 6];
    for t in 0..NB {
        let (a, b) = (d4[t] - 4.0 * d2[t], d3[t] - 4.0 * d1[t]);
        let (c, d) = (d4[t] - d2[t], 2.0 * (d3[t] - d1[t]));
        r[0][t] = 4.0 * d0[t] - 5.0 * d2[t] + d4[t];
        r[1][t] = a + b;
        r[2][t] = a - b;
        r[3][t] = c + d;
        r[4][t] = c - d;
        r[5][t] = 4.0 * d1[t] - 5.0 * d3[t] + d5[t];
    }
    r
}

/// `Aᵀ m` for F(4×4, 3×3): `Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
/// [0, 1, -1, 8, -8, 1]]`.
#[inline(always)]
fn at6([m0, m1, m2, m3, m4, m5]: [&Lane; 6]) -> [Lane; 4] {
    let mut r = [[0f32; NB]; 4];
    for t in 0..NB {
        let (p12, d12) = (m1[t] + m2[t], m1[t] - m2[t]);
        let (p34, d34) = (m3[t] + m4[t], m3[t] - m4[t]);
        r[0][t] = m0[t] + p12 + p34;
        r[1][t] = d12 + 2.0 * d34;
        r[2][t] = p12 + 4.0 * p34;
        r[3][t] = d12 + 8.0 * d34 + m5[t];
    }
    r
}

/// Where a chunk is and the convolution's sizes.
struct Chunk {
    ty: usize,
    t0: usize,
    ci: usize,
    co: usize,
    h: usize,
    w: usize,
    relu: bool,
}

/// Per-convolution working buffers, reused by every chunk: `V` as `[a²][ci]` and `M` as
/// `[a²][co rounded up to OB]` rows of one value per tile.
struct Scratch {
    v: Vec<Lane>,
    m: Vec<Lane>,
}

/// The input inside a border of zeros (one pixel on the top and left, enough on the bottom and
/// right for whole chunks), its columns split by phase: padded column `m·k + f` is
/// `phases[f][k]`.
struct Split {
    phases: Vec<Vec<f32>>,
    rows: usize,
    width: usize,
}

impl Split {
    fn new<const M: usize>(x: &[f32], [ci, h, w]: [usize; 3], th: usize, width: usize) -> Split {
        let rows = M * th + 2;
        let mut phases = vec![vec![0f32; ci * rows * width]; M];
        for ic in 0..ci {
            for y in 0..h {
                let src = &x[(ic * h + y) * w..][..w];
                let at = (ic * rows + y + 1) * width;
                // Input column i is padded column i + 1: phase f holds the input columns
                // f - 1, f - 1 + M, … from index 0 (phase 0 from index 1: column M - 1, …).
                for (f, phase) in phases.iter_mut().enumerate() {
                    let (first, skip) = if f == 0 { (1, M - 1) } else { (0, f - 1) };
                    let dst = &mut phase[at + first..][..width - first];
                    for (d, v) in dst.iter_mut().zip(src.iter().skip(skip).step_by(M)) {
                        *d = *v;
                    }
                }
            }
        }
        Split {
            phases,
            rows,
            width,
        }
    }

    /// The `A` padded columns of row `r` of plane `ic` that the tiles `t0..t0 + NB` read, each
    /// as one value per tile.
    #[inline(always)]
    fn row<const M: usize, const A: usize>(&self, ic: usize, r: usize, t0: usize) -> [&Lane; A] {
        let at = (ic * self.rows + r) * self.width + t0;
        std::array::from_fn(|k| {
            self.phases[k % M][at + k / M..][..NB]
                .try_into()
                .expect("lane")
        })
    }
}

/// `m[o][t] = Σ_ic u[ic][o] · v[ic][t]` for 4 output channels and the chunk's tiles.
#[cfg(not(target_arch = "wasm32"))]
#[inline(always)]
fn gemm<const XB: usize, const FMA: bool>(u: &[f32], v: &[Lane], m: &mut [Lane; OB]) {
    for t0 in (0..NB).step_by(XB) {
        let mut acc = [[0f32; XB]; OB];
        for (w, vv) in u.chunks_exact(OB).zip(v) {
            let vv: &[f32; XB] = vv[t0..][..XB].try_into().expect("tile");
            let w: &[f32; OB] = w.try_into().expect("tile");
            tile::<XB, FMA>(&mut acc, w, vv);
        }
        for (m, a) in m.iter_mut().zip(&acc) {
            m[t0..][..XB].copy_from_slice(a);
        }
    }
}

/// The same product in SIMD128: 4 output channels × 8 tiles in eight registers.
#[cfg(target_arch = "wasm32")]
#[inline(always)]
fn gemm_wasm(u: &[f32], v: &[Lane], m: &mut [Lane; OB]) {
    use core::arch::wasm32::*;
    let load = |s: &[f32]| f32x4(s[0], s[1], s[2], s[3]);
    for t0 in (0..NB).step_by(8) {
        let mut acc = [f32x4_splat(0.0); 8];
        for (w, vv) in u.chunks_exact(OB).zip(v) {
            let vv = &vv[t0..][..8];
            let (v0, v1) = (load(&vv[..4]), load(&vv[4..]));
            for o in 0..OB {
                let ws = f32x4_splat(w[o]);
                acc[2 * o] = f32x4_add(acc[2 * o], f32x4_mul(ws, v0));
                acc[2 * o + 1] = f32x4_add(acc[2 * o + 1], f32x4_mul(ws, v1));
            }
        }
        for (m, pair) in m.iter_mut().zip(acc.chunks_exact(2)) {
            for (half, a) in m[t0..][..8].chunks_exact_mut(4).zip(pair) {
                half.copy_from_slice(&[
                    f32x4_extract_lane::<0>(*a),
                    f32x4_extract_lane::<1>(*a),
                    f32x4_extract_lane::<2>(*a),
                    f32x4_extract_lane::<3>(*a),
                ]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ops::tests::{conv_ref, noise};
    use super::*;

    #[test]
    fn each_map_size_gets_the_variant_with_less_arithmetic() {
        assert_eq!(Variant::for_size(320, 320), Variant::F4);
        assert_eq!(Variant::for_size(40, 40), Variant::F4);
        // 3 tiles of F(4) in a chunk of 16 against 5 of F(2).
        assert_eq!(Variant::for_size(10, 10), Variant::F2);
    }

    #[test]
    fn winograd_computes_the_convolution() {
        // Odd and even sizes, fewer and more tiles than a chunk, channel counts not a multiple
        // of four.
        for &(ci, co, h, w) in &[
            (3, 5, 7, 11),
            (4, 8, 10, 10),
            (2, 1, 1, 1),
            (5, 6, 9, 70),
            (16, 16, 33, 66),
            (1, 4, 2, 3),
            (8, 4, 21, 131),
        ] {
            let x = noise(ci * h * w, 1);
            let wt = noise(co * ci * 9, 2);
            let b = noise(co, 3);
            let want = conv_ref(&x, [ci, h, w], &wt, &b, co, 3, 1);
            for variant in [Variant::F2, Variant::F4] {
                let wg = Winograd::new(&wt, co, ci, variant);
                let plain = wg.run::<8, false>(&x, [ci, h, w], co, &b, false);
                let relu = wg.run::<16, false>(&x, [ci, h, w], co, &b, true);
                assert_eq!(plain.len(), want.len());
                for ((p, r), want) in plain.iter().zip(&relu).zip(&want) {
                    let at = format!("{variant:?} {ci} {co} {h} {w}");
                    assert!((p - want).abs() < 2e-5, "{at}: {p} vs {want}");
                    assert!((r - want.max(0.0)).abs() < 2e-5, "relu {at}");
                }
            }
        }
    }
}
