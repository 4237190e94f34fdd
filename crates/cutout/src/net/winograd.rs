//! Undilated 3×3 convolutions by Winograd's minimal filtering, F(2×2, 3×3) (Lavin & Gray 2015):
//! each 2×2 block of output pixels ("tile") costs 16 multiplications per input channel instead
//! of 36, 2.25× fewer.
//!
//! For a 4×4 patch `d` of the input and a 3×3 kernel `g`, the 2×2 output is
//! `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. The kernel transform `U = G g Gᵀ` is done once, at load. Per
//! convolution, a row of tiles is handled in chunks of `NB` tiles:
//! 1. the input transform `V = Bᵀ d B` of every input channel (additions only), laid out as
//!    `[16][ci][NB]`;
//! 2. sixteen small matrix products, `M[p] = U[p] · V[p]` (`co × ci` by `ci × NB`), by the same
//!    register tile as the direct convolution (4 output channels × 8 or 16 tiles);
//! 3. the output transform `Aᵀ M A` (additions only), the bias and the ReLU.
//!
//! The input is first split into its even and odd padded columns, so both transforms run on
//! contiguous rows of consecutive tiles and are vectorised by the compiler.

#[cfg(not(target_arch = "wasm32"))]
use super::ops::tile;
use super::ops::OB;

/// The kernels of one convolution, transformed: `[16][co / OB][ci][OB]`.
#[derive(Debug)]
pub struct Winograd {
    u: Vec<f32>,
}

/// Tiles per chunk (a multiple of every register tile's width). Fixed, so that the transforms
/// run on arrays the compiler vectorises without bounds checks.
const NB: usize = 16;

/// One value per tile of a chunk.
type Lane = [f32; NB];

/// `max(v, 0)` as a comparison, which wasm32 vectorises (`f32::max` is a libm call there).
#[inline(always)]
pub(super) fn relu(v: f32) -> f32 {
    if v > 0.0 {
        v
    } else {
        0.0
    }
}

impl Winograd {
    /// `weights` as ONNX lays them out, `[co][ci][3][3]`.
    pub fn new(weights: &[f32], co: usize, ci: usize) -> Winograd {
        let blocks = co.div_ceil(OB);
        let mut u = vec![0f32; 16 * blocks * ci * OB];
        // G = [[1, 0, 0], [½, ½, ½], [½, -½, ½], [0, 0, 1]], in f64 and rounded once.
        let g1 = |a: f64, b: f64, c: f64| [a, (a + b + c) / 2.0, (a - b + c) / 2.0, c];
        for oc in 0..co {
            for ic in 0..ci {
                let g = &weights[(oc * ci + ic) * 9..][..9];
                let cols: [[f64; 4]; 3] =
                    std::array::from_fn(|c| g1(g[c] as f64, g[3 + c] as f64, g[6 + c] as f64));
                for r in 0..4 {
                    let row = g1(cols[0][r], cols[1][r], cols[2][r]);
                    for (c, v) in row.iter().enumerate() {
                        u[(((r * 4 + c) * blocks + oc / OB) * ci + ic) * OB + oc % OB] = *v as f32;
                    }
                }
            }
        }
        Winograd { u }
    }

    /// The convolution of `x` (`chw`) with "same" padding: `co` planes of `h × w`, plus the bias,
    /// through the ReLU if `relu`. `XB` and `FMA` choose the native register tile; wasm32 uses
    /// its SIMD128 tile.
    #[inline(always)]
    pub fn run<const XB: usize, const FMA: bool>(
        &self,
        x: &[f32],
        [ci, h, w]: [usize; 3],
        co: usize,
        bias: &[f32],
        relu: bool,
    ) -> Vec<f32> {
        let (th, tw) = (h.div_ceil(2), w.div_ceil(2));
        let chunks = tw.div_ceil(NB);
        let split = Split::new(x, [ci, h, w], th, chunks * NB + 1);
        let cop = co.div_ceil(OB) * OB;
        let mut s = Scratch {
            v: vec![[0f32; NB]; 16 * ci],
            m: vec![[0f32; NB]; 16 * cop],
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
                self.chunk::<XB, FMA>(&split, &job, bias, &mut s, &mut out);
            }
        }
        out
    }

    /// One chunk of tiles: both transforms and the sixteen products. On wasm32 a function of its
    /// own, called thousands of times per convolution, so that V8 optimises it early.
    #[cfg_attr(target_arch = "wasm32", inline(never))]
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn chunk<const XB: usize, const FMA: bool>(
        &self,
        split: &Split,
        j: &Chunk,
        bias: &[f32],
        s: &mut Scratch,
        out: &mut [f32],
    ) {
        let ci = j.ci;
        // 1. V = Bᵀ d B, Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]:
        // first along each of the four rows (on the even and odd columns), then down them.
        for ic in 0..ci {
            let mut rows = [[[0f32; NB]; 4]; 4];
            for (r, rt) in rows.iter_mut().enumerate() {
                let (e0, e1, o0, o1) = split.row(ic, 2 * j.ty + r, j.t0);
                for t in 0..NB {
                    rt[0][t] = e0[t] - e1[t];
                    rt[1][t] = o0[t] + e1[t];
                    rt[2][t] = e1[t] - o0[t];
                    rt[3][t] = o0[t] - o1[t];
                }
            }
            for q in 0..4 {
                let (a, b, c, d) = (&rows[0][q], &rows[1][q], &rows[2][q], &rows[3][q]);
                let mut v: [Lane; 4] = [[0.0; NB]; 4];
                for t in 0..NB {
                    v[0][t] = a[t] - c[t];
                    v[1][t] = b[t] + c[t];
                    v[2][t] = c[t] - b[t];
                    v[3][t] = b[t] - d[t];
                }
                for (i, v) in v.into_iter().enumerate() {
                    s.v[(4 * i + q) * ci + ic] = v;
                }
            }
        }
        // 2. M[p] = U[p] · V[p].
        let blocks = j.co.div_ceil(OB);
        for p in 0..16 {
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
        // 3. Y = Aᵀ M A, Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]], then the bias and the ReLU.
        let cop = blocks * OB;
        let n = (j.w.div_ceil(2) - j.t0).min(NB);
        for oc in 0..j.co {
            let m: [&Lane; 16] = std::array::from_fn(|p| &s.m[p * cop + oc]);
            let b = bias[oc];
            let mut y = [[0f32; NB]; 4];
            for t in 0..NB {
                let r: [[f32; 2]; 4] = std::array::from_fn(|i| {
                    let (m0, m1, m2, m3) = (
                        m[4 * i][t],
                        m[4 * i + 1][t],
                        m[4 * i + 2][t],
                        m[4 * i + 3][t],
                    );
                    [m0 + m1 + m2, m1 - m2 - m3]
                });
                y[0][t] = r[0][0] + r[1][0] + r[2][0] + b;
                y[1][t] = r[0][1] + r[1][1] + r[2][1] + b;
                y[2][t] = r[1][0] - r[2][0] - r[3][0] + b;
                y[3][t] = r[1][1] - r[2][1] - r[3][1] + b;
            }
            if j.relu {
                y = y.map(|y| y.map(relu));
            }
            for dy in 0..2 {
                let oy = 2 * j.ty + dy;
                if oy >= j.h {
                    break;
                }
                let (left, right) = (&y[2 * dy], &y[2 * dy + 1]);
                let dst = &mut out[(oc * j.h + oy) * j.w + 2 * j.t0..][..(j.w - 2 * j.t0)];
                if let Some(dst) = dst.first_chunk_mut::<{ 2 * NB }>() {
                    for t in 0..NB {
                        dst[2 * t] = left[t];
                        dst[2 * t + 1] = right[t];
                    }
                } else {
                    for ((d, l), r) in dst.chunks_mut(2).take(n).zip(left).zip(right) {
                        d[0] = *l;
                        if let Some(d1) = d.get_mut(1) {
                            *d1 = *r;
                        }
                    }
                }
            }
        }
    }
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

/// Per-convolution working buffers, reused by every chunk: `V` as `[16][ci]` and `M` as
/// `[16][co rounded up to OB]` rows of one value per tile.
struct Scratch {
    v: Vec<Lane>,
    m: Vec<Lane>,
}

/// The input inside a border of zeros (one pixel on the top and left, enough on the bottom and
/// right for whole chunks), each row split into its even and odd columns: padded column `2k` is
/// `even[k]`, `2k + 1` is `odd[k]`.
struct Split {
    even: Vec<f32>,
    odd: Vec<f32>,
    rows: usize,
    width: usize,
}

impl Split {
    fn new(x: &[f32], [ci, h, w]: [usize; 3], th: usize, width: usize) -> Split {
        let rows = 2 * th + 2;
        let mut even = vec![0f32; ci * rows * width];
        let mut odd = vec![0f32; ci * rows * width];
        for ic in 0..ci {
            for y in 0..h {
                let src = &x[(ic * h + y) * w..][..w];
                let at = (ic * rows + y + 1) * width;
                let (e, o) = (&mut even[at..][..width], &mut odd[at..][..width]);
                // Input column i is padded column i + 1.
                for (k, pair) in src.chunks(2).enumerate() {
                    o[k] = pair[0];
                    if let Some(&v) = pair.get(1) {
                        e[k + 1] = v;
                    }
                }
            }
        }
        Split {
            even,
            odd,
            rows,
            width,
        }
    }

    /// Padded row `r` of plane `ic` from tile `t0`: its even and odd columns `t0..t0 + NB`, and
    /// the same one column on.
    #[inline(always)]
    fn row(&self, ic: usize, r: usize, t0: usize) -> (&Lane, &Lane, &Lane, &Lane) {
        let at = (ic * self.rows + r) * self.width + t0;
        fn lane(v: &[f32], at: usize) -> &Lane {
            v[at..][..NB].try_into().expect("lane")
        }
        (
            lane(&self.even, at),
            lane(&self.even, at + 1),
            lane(&self.odd, at),
            lane(&self.odd, at + 1),
        )
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
        ] {
            let x = noise(ci * h * w, 1);
            let wt = noise(co * ci * 9, 2);
            let b = noise(co, 3);
            let want = conv_ref(&x, [ci, h, w], &wt, &b, co, 3, 1);
            let wg = Winograd::new(&wt, co, ci);
            let plain = wg.run::<8, false>(&x, [ci, h, w], co, &b, false);
            let relu = wg.run::<16, false>(&x, [ci, h, w], co, &b, true);
            assert_eq!(plain.len(), want.len());
            for ((p, r), want) in plain.iter().zip(&relu).zip(&want) {
                assert!((p - want).abs() < 2e-5, "{ci} {co} {h} {w}: {p} vs {want}");
                assert!((r - want.max(0.0)).abs() < 2e-5, "relu {ci} {co} {h} {w}");
            }
        }
    }
}
