/*
 * Shotline: decoding at 1/2, 1/4 or 1/8 of the size ("DCT scaling", libjpeg's `scale_denom`).
 *
 * Not part of zune-jpeg 0.4.21; see vendor/README.md in the Shotline repository.
 *
 * Each 8×8 block of a component is turned straight into the n_h × n_v samples it covers at the
 * reduced size, from its lowest frequencies (n ≤ 8), so the entropy decoding is the only work done
 * at full size. Where a subsampled component needs more samples than 8 per block at the reduced
 * size (4:2:0 chroma at 1/2 needs exactly 8, so this is rare) the cosines are evaluated between the
 * samples, which is upsampling in the DCT domain. Every component's plane then lies on the output
 * grid, and colour conversion is one pass with no separate upsampler.
 */

use alloc::vec;
use alloc::vec::Vec;
use core::f32::consts::PI;

use zune_core::colorspace::ColorSpace;

use crate::decoder::IDCTPtr;
use crate::errors::DecodeErrors;

/// One component's samples at the output size, with the basis that makes them.
pub(crate) struct ScaledPlane {
    pub(crate) data:     Vec<u8>,
    pub(crate) stride:   usize,
    pub(crate) blocks_x: usize,
    pub(crate) blocks_y: usize,
    nh:                  usize,
    nv:                  usize,
    kh:                  usize,
    kv:                  usize,
    /// `mh[x * 8 + u]`: the weight of horizontal frequency `u` at output column `x` of a block.
    mh:                  Vec<f32>,
    mv:                  Vec<f32>
}

pub(crate) struct Scaled {
    pub(crate) planes: Vec<ScaledPlane>,
    pub(crate) width:  usize,
    pub(crate) height: usize,
    pub(crate) scale:  usize
}

/// The weights of an 8-point inverse DCT sampled at `n` points across the block. For n ≤ 8
/// each output is the mean over the 8/n pixels it stands for, from the lowest `n` frequencies;
/// for n > 8 the cosines are evaluated at the sample centres.
fn basis(n: usize) -> (Vec<f32>, usize) {
    let k = n.min(8);
    let mut m = vec![0.0_f32; n * 8];
    for x in 0..n {
        for u in 0..k {
            let c = if u == 0 { 0.5 / 2.0_f32.sqrt() } else { 0.5 };
            let v = if n <= 8 {
                let g = 8 / n;
                (0..g)
                    .map(|t| ((2 * (g * x + t) + 1) as f32 * u as f32 * PI / 16.0).cos())
                    .sum::<f32>()
                    / g as f32
            } else {
                let p = (x as f32 + 0.5) * 8.0 / n as f32 - 0.5;
                ((2.0 * p + 1.0) * u as f32 * PI / 16.0).cos()
            };
            m[x * 8 + u] = c * v;
        }
    }
    (m, k)
}

/// The n×n block from its lowest n×n frequencies (n = 1, 2 or 4: luma and 4:4:4 chroma at 1/2,
/// 1/4, 1/8), with fixed sizes so the compiler keeps everything in registers and vectorises the
/// n-wide rows (one f32x4 for n = 4 in WASM).
#[inline(always)]
fn square<const N: usize>(
    coef: &[i32; 64], mh: &[f32], mv: &[f32], out: &mut [u8], stride: usize
) {
    // mht[u][x] = mh[x][u]: each frequency's weights across the output row.
    let mut mht = [[0.0_f32; N]; N];
    let mut mvt = [[0.0_f32; N]; N];
    for u in 0..N {
        for x in 0..N {
            mht[u][x] = mh[x * 8 + u];
            mvt[u][x] = mv[x * 8 + u];
        }
    }
    // t[v] = Σ_u F[v][u] · mht[u]
    let mut t = [[0.0_f32; N]; N];
    for v in 0..N {
        for u in 0..N {
            let f = coef[v * 8 + u] as f32;
            for x in 0..N {
                t[v][x] += f * mht[u][x];
            }
        }
    }
    // out[y] = 128 + Σ_v mv[y][v] · t[v]
    for (y, row) in out.chunks_mut(stride).take(N).enumerate() {
        let mut acc = [128.5_f32; N];
        for v in 0..N {
            let w = mvt[v][y];
            for x in 0..N {
                acc[x] += w * t[v][x];
            }
        }
        for x in 0..N {
            row[x] = acc[x].clamp(0.0, 255.0) as u8;
        }
    }
}

impl Scaled {
    /// No planes yet: `decode_scaled` asked for `1/scale`; the decode sets them up.
    pub(crate) fn pending(scale: usize) -> Scaled {
        Scaled {
            planes: Vec::new(),
            width: 0,
            height: 0,
            scale
        }
    }

    /// Planes for components with sampling factors `(h, v)`, in an image whose largest factors
    /// are `(h_max, v_max)`, coded as `blocks` (per component, block columns × rows), decoded at
    /// `1/scale`. `None` when a component's samples do not land on whole output pixels.
    pub(crate) fn new(
        width: usize, height: usize, scale: usize, h_max: usize, v_max: usize,
        factors: &[(usize, usize)], blocks: &[(usize, usize)]
    ) -> Option<Scaled> {
        let mut planes = Vec::with_capacity(factors.len());
        for (&(h, v), &(bx, by)) in factors.iter().zip(blocks) {
            if h == 0 || v == 0 || h_max % h != 0 || v_max % v != 0 {
                return None;
            }
            let (nh, nv) = (8 * (h_max / h), 8 * (v_max / v));
            if nh % scale != 0 || nv % scale != 0 {
                return None;
            }
            let (nh, nv) = (nh / scale, nv / scale);
            if nh > 16 || nv > 16 {
                return None;
            }
            let (mh, kh) = basis(nh);
            let (mv, kv) = basis(nv);
            let stride = bx * nh;
            if stride < width.div_ceil(scale) || by * nv < height.div_ceil(scale) {
                return None;
            }
            planes.push(ScaledPlane {
                data: vec![0; stride.checked_mul(by * nv)?],
                stride,
                blocks_x: bx,
                blocks_y: by,
                nh,
                nv,
                kh,
                kv,
                mh,
                mv
            });
        }
        Some(Scaled {
            planes,
            width: width.div_ceil(scale),
            height: height.div_ceil(scale),
            scale
        })
    }

    /// Writes the block at (`bx`, `by`) of component `c` from its dequantized coefficients
    /// (natural order). Blocks outside the plane are ignored.
    pub(crate) fn put(&mut self, c: usize, bx: usize, by: usize, coef: &mut [i32; 64], idct: IDCTPtr) {
        let Some(p) = self.planes.get_mut(c) else {
            return;
        };
        if bx >= p.blocks_x || by >= p.blocks_y {
            return;
        }
        let at = by * p.nv * p.stride + bx * p.nh;
        let stride = p.stride;
        let out = &mut p.data[at..];
        if p.nh == 8 && p.nv == 8 {
            // The plain 8×8 inverse DCT, the same one a full-size decode uses.
            let mut tmp = [0_i16; 64];
            idct(coef, &mut tmp, 8);
            for (row, src) in out.chunks_mut(stride).zip(tmp.chunks_exact(8)) {
                for (d, &s) in row[..8].iter_mut().zip(src) {
                    *d = s as u8;
                }
            }
            return;
        }
        match (p.nh, p.nv) {
            (4, 4) => return square::<4>(coef, &p.mh, &p.mv, out, stride),
            (2, 2) => return square::<2>(coef, &p.mh, &p.mv, out, stride),
            (1, 1) => return square::<1>(coef, &p.mh, &p.mv, out, stride),
            _ => {}
        }
        let (nh, nv, kh, kv) = (p.nh, p.nv, p.kh, p.kv);
        let ac = (0..kv).any(|v| coef[v * 8..v * 8 + kh].iter().skip(usize::from(v == 0)).any(|&c| c != 0));
        if !ac {
            let dc = (coef[0] as f32 / 8.0 + 128.5).clamp(0.0, 255.0) as u8;
            for row in out.chunks_mut(stride).take(nv) {
                row[..nh].fill(dc);
            }
            return;
        }
        // Rows: t[v][x] = Σ_u F[v][u] · mh[x][u]; then columns.
        let mut t = [[0.0_f32; 16]; 8];
        for v in 0..kv {
            let f = &coef[v * 8..v * 8 + 8];
            let mut fr = [0.0_f32; 8];
            for u in 0..kh {
                fr[u] = f[u] as f32;
            }
            for x in 0..nh {
                let m = &p.mh[x * 8..x * 8 + 8];
                let mut s = 0.0;
                for u in 0..8 {
                    s += fr[u] * m[u];
                }
                t[v][x] = s;
            }
        }
        for (y, row) in out.chunks_mut(stride).take(nv).enumerate() {
            let m = &p.mv[y * 8..y * 8 + 8];
            let mut acc = [128.5_f32; 16];
            for v in 0..kv {
                let w = m[v];
                for x in 0..16 {
                    acc[x] += w * t[v][x];
                }
            }
            for (d, &a) in row[..nh].iter_mut().zip(&acc) {
                *d = a.clamp(0.0, 255.0) as u8;
            }
        }
    }

    /// Colour-converts the planes into `out` (`width × height` pixels of `colorspace`).
    pub(crate) fn write(&self, colorspace: ColorSpace, out: &mut [u8]) -> Result<(), DecodeErrors> {
        let (w, h) = (self.width, self.height);
        let n = colorspace.num_components();
        if out.len() < w * h * n {
            return Err(DecodeErrors::TooSmallOutput(w * h * n, out.len()));
        }
        match (self.planes.len(), colorspace) {
            (1, ColorSpace::Luma) => {
                let p = &self.planes[0];
                for (y, row) in out.chunks_exact_mut(w).take(h).enumerate() {
                    row.copy_from_slice(&p.data[y * p.stride..y * p.stride + w]);
                }
            }
            (3, ColorSpace::RGB | ColorSpace::RGBA) => {
                // The same fixed-point YCbCr → RGB as zune-jpeg's scalar converter.
                let (py, pb, pr) = (&self.planes[0], &self.planes[1], &self.planes[2]);
                for (y, row) in out.chunks_exact_mut(w * n).take(h).enumerate() {
                    let ly = &py.data[y * py.stride..][..w];
                    let lb = &pb.data[y * pb.stride..][..w];
                    let lr = &pr.data[y * pr.stride..][..w];
                    for (((px, &yy), &cb), &cr) in row.chunks_exact_mut(n).zip(ly).zip(lb).zip(lr) {
                        let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
                        let y0 = i32::from(yy) * 16384 + 8191;
                        let r = (y0 + cr * 22970) >> 14;
                        let g = (y0 - cr * 11700 - cb * 5638) >> 14;
                        let b = (y0 + cb * 29032) >> 14;
                        px[0] = r.clamp(0, 255) as u8;
                        px[1] = g.clamp(0, 255) as u8;
                        px[2] = b.clamp(0, 255) as u8;
                        if n == 4 {
                            px[3] = 255;
                        }
                    }
                }
            }
            _ => {
                return Err(DecodeErrors::FormatStatic(
                    "scaled decoding supports YCbCr and grayscale JPEGs only"
                ))
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::basis;

    #[test]
    fn the_dc_weight_is_an_eighth_at_every_size() {
        for n in [1, 2, 4, 8, 16] {
            let (m, _) = basis(n);
            for x in 0..n {
                let w = m[x * 8] * m[x * 8];
                assert!((w - 1.0 / 8.0).abs() < 1e-6, "n={n} x={x} w={w}");
            }
        }
    }
}
