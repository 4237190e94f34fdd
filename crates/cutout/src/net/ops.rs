//! The network's operators on planar C×H×W f32 buffers (batch 1).
//!
//! Undilated 3×3 convolutions go through Winograd's algorithm (`winograd`) by default. The others,
//! and all of them with [`Algo::Direct`], are direct (no im2col): an output tile of 4 channels ×
//! 8 or 16 pixels of one row is kept in registers while the input channels and the kernel's taps
//! stream past it. On wasm32 the tile is written in SIMD128 (eight registers); natively it is
//! written on fixed-size arrays, which the compiler turns into AVX2 with fused multiply-adds
//! (chosen at run time) or SSE. Winograd's products use the same tile (`tile`).

use super::winograd::{Variant, Winograd};

/// Output channels per tile.
pub(super) const OB: usize = 4;

/// How undilated 3×3 convolutions are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// Directly, by the definition.
    Direct,
    /// Winograd's F(2×2, 3×3) everywhere.
    WinogradF2,
    /// Winograd's F(4×4, 3×3) or F(2×2, 3×3), whichever computes less for the map's size (the
    /// default).
    Winograd,
}

/// A convolution with "same" padding and stride 1 (kernel 1×1 or 3×3, any dilation), its bias
/// and an optional ReLU.
#[derive(Debug)]
pub struct Conv {
    pub x: usize,
    pub out: usize,
    chw: [usize; 3],
    co: usize,
    k: usize,
    dil: usize,
    relu: bool,
    /// Weights as `[co / OB][ci][k·k][OB]` (the last block padded with zeros), for the direct
    /// kernel.
    packed: Vec<f32>,
    /// Undilated 3×3 kernels, transformed for Winograd's algorithm instead.
    winograd: Option<Winograd>,
    bias: Vec<f32>,
}

impl Conv {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        x: usize,
        out: usize,
        chw: [usize; 3],
        co: usize,
        k: usize,
        dil: usize,
        weights: &[f32],
        bias: Vec<f32>,
        relu: bool,
        algo: Algo,
    ) -> Conv {
        let ci = chw[0];
        let variant = match algo {
            Algo::Direct => None,
            Algo::WinogradF2 => Some(Variant::F2),
            Algo::Winograd => Some(Variant::for_size(chw[1], chw[2])),
        };
        let winograd = match (variant, k, dil) {
            (Some(variant), 3, 1) => Some(Winograd::new(weights, co, ci, variant)),
            _ => None,
        };
        let taps = k * k;
        let blocks = co.div_ceil(OB);
        let mut packed = Vec::new();
        if winograd.is_none() {
            packed = vec![0f32; blocks * ci * taps * OB];
            for oc in 0..co {
                for ic in 0..ci {
                    for t in 0..taps {
                        packed[((oc / OB * ci + ic) * taps + t) * OB + oc % OB] =
                            weights[(oc * ci + ic) * taps + t];
                    }
                }
            }
        }
        Conv {
            x,
            out,
            chw,
            co,
            k,
            dil,
            relu,
            packed,
            winograd,
            bias,
        }
    }

    // Never inlined into the network's loop, here and in the other operators: V8 runs a wasm
    // function in its baseline tier until a later call, so a kernel inlined into one long call
    // would run a whole first inference unoptimised.
    #[allow(unsafe_code)]
    #[inline(never)]
    pub fn run(&self, x: &[f32]) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { self.run_avx2(x) };
        }
        if let Some(wg) = &self.winograd {
            return wg.run::<8, false>(x, self.chw, self.co, &self.bias, self.relu);
        }
        #[cfg(target_arch = "wasm32")]
        return match self.k {
            1 => self.run_wasm::<1>(x),
            _ => self.run_wasm::<3>(x),
        };
        #[allow(unreachable_code)]
        match self.k {
            1 => self.run_k::<1, 8, false>(x),
            _ => self.run_k::<3, 8, false>(x),
        }
    }

    /// The kernel in SIMD128: 4 output channels × 8 pixels in eight registers.
    #[cfg(target_arch = "wasm32")]
    fn run_wasm<const K: usize>(&self, x: &[f32]) -> Vec<f32> {
        use core::arch::wasm32::*;
        const XB: usize = 8;
        let [ci, h, w] = self.chw;
        let (co, dil) = (self.co, self.dil);
        let (padded, ph, pw) = pad_planes(x, self.chw, dil * (K - 1) / 2, XB);
        let load = |s: &[f32]| f32x4(s[0], s[1], s[2], s[3]);
        let taps = K * K;
        let mut out = vec![0f32; co * h * w];
        for y in 0..h {
            for (ob, wb) in self.packed.chunks_exact(ci * taps * OB).enumerate() {
                let bias: [v128; OB] = std::array::from_fn(|o| {
                    f32x4_splat(self.bias.get(ob * OB + o).copied().unwrap_or(0.0))
                });
                for x0 in (0..w).step_by(XB) {
                    let mut acc = [
                        bias[0], bias[0], bias[1], bias[1], bias[2], bias[2], bias[3], bias[3],
                    ];
                    for (ic, wt) in wb.chunks_exact(taps * OB).enumerate() {
                        let plane = &padded[ic * ph * pw..][..ph * pw];
                        for ky in 0..K {
                            let row = &plane[(y + ky * dil) * pw + x0..];
                            for kx in 0..K {
                                let v = &row[kx * dil..kx * dil + XB];
                                let (v0, v1) = (load(&v[..4]), load(&v[4..]));
                                let wv = &wt[(ky * K + kx) * OB..][..OB];
                                for o in 0..OB {
                                    let ws = f32x4_splat(wv[o]);
                                    acc[2 * o] = f32x4_add(acc[2 * o], f32x4_mul(ws, v0));
                                    acc[2 * o + 1] = f32x4_add(acc[2 * o + 1], f32x4_mul(ws, v1));
                                }
                            }
                        }
                    }
                    let n = XB.min(w - x0);
                    for o in 0..OB {
                        let oc = ob * OB + o;
                        if oc >= co {
                            break;
                        }
                        let (mut a0, mut a1) = (acc[2 * o], acc[2 * o + 1]);
                        if self.relu {
                            a0 = f32x4_max(a0, f32x4_splat(0.0));
                            a1 = f32x4_max(a1, f32x4_splat(0.0));
                        }
                        let lanes = [
                            f32x4_extract_lane::<0>(a0),
                            f32x4_extract_lane::<1>(a0),
                            f32x4_extract_lane::<2>(a0),
                            f32x4_extract_lane::<3>(a0),
                            f32x4_extract_lane::<0>(a1),
                            f32x4_extract_lane::<1>(a1),
                            f32x4_extract_lane::<2>(a1),
                            f32x4_extract_lane::<3>(a1),
                        ];
                        out[(oc * h + y) * w + x0..][..n].copy_from_slice(&lanes[..n]);
                    }
                }
            }
        }
        out
    }

    /// The same kernel compiled for AVX2 with fused multiply-adds: tiles of 16 pixels (two
    /// 8-lane registers per output channel).
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_avx2(&self, x: &[f32]) -> Vec<f32> {
        if let Some(wg) = &self.winograd {
            return wg.run::<16, true>(x, self.chw, self.co, &self.bias, self.relu);
        }
        match self.k {
            1 => self.run_k::<1, 16, true>(x),
            _ => self.run_k::<3, 16, true>(x),
        }
    }

    #[inline(always)]
    fn run_k<const K: usize, const XB: usize, const FMA: bool>(&self, x: &[f32]) -> Vec<f32> {
        let [ci, h, w] = self.chw;
        let (co, dil) = (self.co, self.dil);
        let (padded, ph, pw) = pad_planes(x, self.chw, dil * (K - 1) / 2, XB);
        let taps = K * K;
        let mut out = vec![0f32; co * h * w];
        // For one tile of pixels, every block of output channels in turn: the input it reads
        // (ci × K rows × a few columns) stays in the L1 cache while the weights stream by.
        for y in 0..h {
            for x0 in (0..w).step_by(XB) {
                for (ob, wb) in self.packed.chunks_exact(ci * taps * OB).enumerate() {
                    let mut acc = [[0f32; XB]; OB];
                    for (o, a) in acc.iter_mut().enumerate() {
                        *a = [self.bias.get(ob * OB + o).copied().unwrap_or(0.0); XB];
                    }
                    for (ic, wt) in wb.chunks_exact(taps * OB).enumerate() {
                        let plane = &padded[ic * ph * pw..][..ph * pw];
                        for ky in 0..K {
                            let row = &plane[(y + ky * dil) * pw + x0..];
                            for kx in 0..K {
                                let v: &[f32; XB] =
                                    row[kx * dil..kx * dil + XB].try_into().expect("tile");
                                let wv: &[f32; OB] =
                                    wt[(ky * K + kx) * OB..][..OB].try_into().expect("tile");
                                tile::<XB, FMA>(&mut acc, wv, v);
                            }
                        }
                    }
                    let n = XB.min(w - x0);
                    for (o, a) in acc.iter().enumerate() {
                        let oc = ob * OB + o;
                        if oc >= co {
                            break;
                        }
                        let dst = &mut out[(oc * h + y) * w + x0..][..n];
                        if self.relu {
                            for (d, v) in dst.iter_mut().zip(a) {
                                *d = relu(*v);
                            }
                        } else {
                            dst.copy_from_slice(&a[..n]);
                        }
                    }
                }
            }
        }
        out
    }
}

/// Every plane of `x` inside a border of `pad` zeros, with enough columns on the right that a
/// tile of `xb` pixels never reads past its row. Returns the planes and their height and width.
fn pad_planes(
    x: &[f32],
    [ci, h, w]: [usize; 3],
    pad: usize,
    xb: usize,
) -> (Vec<f32>, usize, usize) {
    let (ph, pw) = (h + 2 * pad, w.div_ceil(xb) * xb + 2 * pad);
    let mut padded = vec![0f32; ci * ph * pw];
    for ic in 0..ci {
        for y in 0..h {
            let src = &x[(ic * h + y) * w..][..w];
            padded[(ic * ph + y + pad) * pw + pad..][..w].copy_from_slice(src);
        }
    }
    (padded, ph, pw)
}

/// acc[o][j] += w[o] · v[j]: the whole inner loop of the convolution (fused where the CPU has
/// it: `mul_add` without hardware FMA would be a slow library call).
#[inline(always)]
pub(super) fn tile<const XB: usize, const FMA: bool>(
    acc: &mut [[f32; XB]; OB],
    w: &[f32; OB],
    v: &[f32; XB],
) {
    for o in 0..OB {
        for j in 0..XB {
            acc[o][j] = if FMA {
                w[o].mul_add(v[j], acc[o][j])
            } else {
                acc[o][j] + w[o] * v[j]
            };
        }
    }
}

/// The larger of two values, as a comparison (`f32::max` is a libm call on wasm32, as its NaN
/// rule differs from `f32x4.max`; a comparison vectorises).
#[inline(always)]
fn max(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
}

/// `max(v, 0)`.
#[inline(always)]
pub(super) fn relu(v: f32) -> f32 {
    max(v, 0.0)
}

/// 2×2 max-pooling with stride 2, rounding the output size up (a last odd row or column pools
/// what it has).
#[inline(never)]
pub fn max_pool(x: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
    let (oh, ow) = (h.div_ceil(2), w.div_ceil(2));
    let mut out = vec![0f32; c * oh * ow];
    for ch in 0..c {
        let plane = &x[ch * h * w..][..h * w];
        for oy in 0..oh {
            let r0 = &plane[2 * oy * w..][..w];
            let r1 = if 2 * oy + 1 < h {
                &plane[(2 * oy + 1) * w..][..w]
            } else {
                r0
            };
            let dst = &mut out[(ch * oh + oy) * ow..][..ow];
            for (ox, d) in dst.iter_mut().enumerate() {
                let (a, b) = (2 * ox, (2 * ox + 1).min(w - 1));
                *d = max(max(r0[a], r0[b]), max(r1[a], r1[b]));
            }
        }
    }
    out
}

/// Source taps of a linear resize along one axis (PyTorch's `align_corners=False`, ONNX's
/// `pytorch_half_pixel`): for each output index, (first index, second index, weight of second).
fn taps(from: usize, to: usize) -> Vec<(usize, usize, f32)> {
    let scale = to as f32 / from as f32;
    (0..to)
        .map(|i| {
            let s = if to > 1 {
                ((i as f32 + 0.5) / scale - 0.5).clamp(0.0, (from - 1) as f32)
            } else {
                0.0
            };
            let i0 = (s.floor() as usize).min(from - 1);
            (i0, (i0 + 1).min(from - 1), s - i0 as f32)
        })
        .collect()
}

/// Bilinear resize of every plane.
#[inline(never)]
pub fn resize(x: &[f32], c: usize, from: (usize, usize), to: (usize, usize)) -> Vec<f32> {
    let ((h, w), (th, tw)) = (from, to);
    let (ty, tx) = (taps(h, th), taps(w, tw));
    let mut out = vec![0f32; c * th * tw];
    let mut row = vec![0f32; w];
    for ch in 0..c {
        let plane = &x[ch * h * w..][..h * w];
        for (oy, &(y0, y1, fy)) in ty.iter().enumerate() {
            let (r0, r1) = (&plane[y0 * w..][..w], &plane[y1 * w..][..w]);
            for ((r, a), b) in row.iter_mut().zip(r0).zip(r1) {
                *r = a + (b - a) * fy;
            }
            let dst = &mut out[(ch * th + oy) * tw..][..tw];
            for (d, &(x0, x1, fx)) in dst.iter_mut().zip(&tx) {
                *d = row[x0] + (row[x1] - row[x0]) * fx;
            }
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The convolution by its definition, for the tiled kernel to be checked against.
    pub(in crate::net) fn conv_ref(
        x: &[f32],
        chw: [usize; 3],
        w: &[f32],
        b: &[f32],
        co: usize,
        k: usize,
        dil: usize,
    ) -> Vec<f32> {
        let [ci, h, wd] = chw;
        let pad = (dil * (k - 1) / 2) as isize;
        let mut out = vec![0f32; co * h * wd];
        for oc in 0..co {
            for y in 0..h {
                for xx in 0..wd {
                    let mut s = b[oc];
                    for ic in 0..ci {
                        for ky in 0..k {
                            for kx in 0..k {
                                let sy = y as isize + (ky * dil) as isize - pad;
                                let sx = xx as isize + (kx * dil) as isize - pad;
                                if sy >= 0 && sx >= 0 && (sy as usize) < h && (sx as usize) < wd {
                                    s += w[((oc * ci + ic) * k + ky) * k + kx]
                                        * x[(ic * h + sy as usize) * wd + sx as usize];
                                }
                            }
                        }
                    }
                    out[(oc * h + y) * wd + xx] = s;
                }
            }
        }
        out
    }

    pub(in crate::net) fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn the_tiled_convolution_computes_the_definition() {
        for &(ci, co, h, w, k, dil) in &[
            (3, 5, 7, 11, 3, 1),
            (4, 8, 10, 10, 3, 2),
            (2, 1, 5, 13, 3, 4),
            (6, 3, 9, 8, 1, 1),
            (1, 4, 1, 1, 3, 8),
        ] {
            let x = noise(ci * h * w, 1);
            let wt = noise(co * ci * k * k, 2);
            let b = noise(co, 3);
            let want = conv_ref(&x, [ci, h, w], &wt, &b, co, k, dil);
            for algo in [Algo::Direct, Algo::WinogradF2, Algo::Winograd] {
                let conv =
                    |relu| Conv::new(0, 1, [ci, h, w], co, k, dil, &wt, b.clone(), relu, algo);
                let (plain, relu) = (conv(false).run(&x), conv(true).run(&x));
                assert_eq!(plain.len(), want.len());
                for ((p, r), want) in plain.iter().zip(&relu).zip(&want) {
                    assert!(
                        (p - want).abs() < 2e-5,
                        "{ci} {co} {h} {w} {k} {dil} {algo:?}: {p} vs {want}"
                    );
                    assert_eq!(*r, p.max(0.0));
                }
            }
        }
    }

    #[test]
    fn max_pool_rounds_up_and_pools_what_the_edge_has() {
        // 3×3 → 2×2.
        let x = [1., 2., 3., 4., 9., 6., 7., 8., 5.];
        assert_eq!(max_pool(&x, 1, 3, 3), vec![9., 6., 8., 5.]);
    }

    #[test]
    fn resize_matches_pytorch_bilinear() {
        // torch.nn.functional.interpolate([[0, 1], [2, 3]], size=(3, 4), mode="bilinear",
        // align_corners=False)
        let got = resize(&[0., 1., 2., 3.], 1, (2, 2), (3, 4));
        let want = [
            0.0, 0.25, 0.75, 1.0, //
            1.0, 1.25, 1.75, 2.0, //
            2.0, 2.25, 2.75, 3.0,
        ];
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "{got:?}");
        }
    }
}
