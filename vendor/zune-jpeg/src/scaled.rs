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
use crate::misc::UN_ZIGZAG;

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
    mv:                  Vec<f32>,
    /// `wh[u][x] = mh[x * 8 + u]` for `nh <= 8`: each frequency's weights across a row.
    wh:                  [[f32; 8]; 8],
    wv:                  [[f32; 8]; 8],
    /// Zigzag positions of the AC coefficients inside the `kh × kv` frequencies used.
    ac_region:           u64,
    /// `row_region[v]`: zigzag positions of frequencies `(v, 0..kh)`; `col_region[u]`: of
    /// `(0..kv, u)`.
    row_region:          [u64; 8],
    col_region:          [u64; 8]
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

/// Zigzag position of each coefficient in natural (row-major) order.
const ZIGZAG: [u8; 64] = {
    let mut z = [0_u8; 64];
    let mut i = 0;
    while i < 64 {
        z[UN_ZIGZAG[i]] = i as u8;
        i += 1;
    }
    z
};

/// The `NH × NV` samples of a block from its lowest `NH × NV` frequencies `f[v][u]` (dequantized;
/// NH, NV ≤ 8: luma and chroma at 1/2, 1/4, 1/8), with fixed sizes so the compiler keeps everything
/// in registers and vectorises the rows (one f32x4 for NH = 4 in WASM). Rows first, then columns.
#[inline(always)]
fn rect<const NH: usize, const NV: usize>(
    f: &[[f32; 8]; 8], rows: u8, cols: u8, wh: &[[f32; 8]; 8], wv: &[[f32; 8]; 8], out: &mut [u8],
    stride: usize
) {
    // t[v] = Σ_u F[v][u] · wh[u]. Rows (bit v of `rows`) and columns (bit u of `cols`) of F that
    // are all zero add nothing, so they are skipped (adding ±0 leaves every sum bit for bit the
    // same, and each t[v] still sums over u in increasing order).
    let mut t = [[0.0_f32; NH]; NV];
    for u in 0..NH {
        if cols & (1 << u) == 0 {
            continue;
        }
        for v in 0..NV {
            if rows & (1 << v) == 0 {
                continue;
            }
            let c = f[v][u];
            for x in 0..NH {
                t[v][x] += c * wh[u][x];
            }
        }
    }
    // out[y] = 128 + Σ_v wv[v][y] · t[v]
    for (y, row) in out.chunks_mut(stride).take(NV).enumerate() {
        let mut acc = [128.5_f32; NH];
        for v in 0..NV {
            if rows & (1 << v) == 0 {
                continue;
            }
            let w = wv[v][y];
            for x in 0..NH {
                acc[x] += w * t[v][x];
            }
        }
        for (d, a) in row[..NH].iter_mut().zip(acc) {
            *d = a.clamp(0.0, 255.0) as u8;
        }
    }
}

/// A block with no AC coefficient in the frequencies used: one value, computed exactly as `rect`
/// computes it (the DC weights are the same at every sample), so either path gives the same bytes.
#[inline(always)]
fn flat(dc: f32, wh: &[[f32; 8]; 8], wv: &[[f32; 8]; 8], nh: usize, nv: usize, out: &mut [u8], stride: usize) {
    let a = 128.5_f32 + wv[0][0] * (0.0_f32 + dc * wh[0][0]);
    let b = a.clamp(0.0, 255.0) as u8;
    for row in out.chunks_mut(stride).take(nv) {
        row[..nh].fill(b);
    }
}

/// Calls `$f::<NH, NV>(args…)` for the block sizes with a monomorphised kernel (both ≤ 8, not
/// 8 × 8, which is the plain IDCT) and evaluates to `true`; `false` for any other size (a 3× sampling
/// factor gives 6 or 12), which the generic path in `Scaled::put` handles.
macro_rules! with_block_size {
    (($nh:expr, $nv:expr), $f:ident $args:tt) => {
        with_block_size!(@ ($nh, $nv), $f $args; (4, 4), (8, 4), (4, 8), (2, 2), (4, 2), (2, 4),
            (1, 1), (2, 1), (1, 2), (8, 2), (2, 8), (4, 1), (1, 4), (8, 1), (1, 8))
    };
    (@ ($nh:expr, $nv:expr), $f:ident $args:tt; $(($h:literal, $v:literal)),*) => {
        match ($nh, $nv) {
            $(($h, $v) => {
                $f::<$h, $v> $args;
                true
            })*
            _ => false
        }
    };
}

/// `rect` for one block of plane `p`, writing from `p.data[at]`.
#[inline(always)]
fn rect_at<const NH: usize, const NV: usize>(
    p: &mut ScaledPlane, f: &[[f32; 8]; 8], rows: u8, cols: u8, at: usize
) {
    rect::<NH, NV>(f, rows, cols, &p.wh, &p.wv, &mut p.data[at..], p.stride);
}

/// Every block of plane `p` from a progressive decode's buffer (quantized coefficients in zigzag
/// order, 64 per block, `per_row` blocks per row), `NH × NV` samples per block: only the
/// frequencies used are read and dequantized, and all-zero rows and columns of them are skipped.
fn fill_zigzag<const NH: usize, const NV: usize>(
    p: &mut ScaledPlane, blocks: &[i16], per_row: usize, qt: &[i32; 64]
) {
    let (wh, wv, stride, ac_region) = (p.wh, p.wv, p.stride, p.ac_region);
    // The frequencies used: zigzag position and quantizer of (v, u).
    let mut zz = [[0_usize; NH]; NV];
    let mut q = [[0_i32; NH]; NV];
    for v in 0..NV {
        for u in 0..NH {
            zz[v][u] = usize::from(ZIGZAG[v * 8 + u]) & 63;
            q[v][u] = qt[v * 8 + u];
        }
    }
    let rows_region: [u64; NV] = core::array::from_fn(|v| p.row_region[v]);
    let cols_region: [u64; NH] = core::array::from_fn(|u| p.col_region[u]);
    let per_row = per_row.max(1);
    for (by, line) in blocks.chunks(64 * per_row).enumerate().take(p.blocks_y) {
        for (bx, coefs) in line.chunks_exact(64).enumerate().take(p.blocks_x) {
            let Ok(coefs) = <&[i16; 64]>::try_from(coefs) else {
                continue;
            };
            let out = &mut p.data[by * NV * stride + bx * NH..];
            let nz = crate::bitstream::nonzero_mask(coefs);
            if nz & ac_region == 0 {
                let dc = (i32::from(coefs[0]) * q[0][0]) as f32;
                flat(dc, &wh, &wv, NH, NV, out, stride);
                continue;
            }
            let mut f = [[0.0_f32; 8]; 8];
            let (mut rows, mut cols) = (0_u8, 0_u8);
            for v in 0..NV {
                if nz & rows_region[v] == 0 {
                    continue;
                }
                rows |= 1 << v;
                for u in 0..NH {
                    f[v][u] = (i32::from(coefs[zz[v][u]]) * q[v][u]) as f32;
                }
            }
            for u in 0..NH {
                cols |= u8::from(nz & cols_region[u] != 0) << u;
            }
            rect::<NH, NV>(&f, rows, cols, &wh, &wv, out, stride);
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
            let (mut wh, mut wv) = ([[0.0_f32; 8]; 8], [[0.0_f32; 8]; 8]);
            for u in 0..8 {
                for x in 0..nh.min(8) {
                    wh[u][x] = mh[x * 8 + u];
                }
                for y in 0..nv.min(8) {
                    wv[u][y] = mv[y * 8 + u];
                }
            }
            let (mut ac_region, mut row_region, mut col_region) = (0_u64, [0_u64; 8], [0_u64; 8]);
            for v in 0..kv.min(8) {
                for u in 0..kh.min(8) {
                    ac_region |= u64::from(v + u > 0) << ZIGZAG[v * 8 + u];
                    row_region[v] |= 1 << ZIGZAG[v * 8 + u];
                    col_region[u] |= 1 << ZIGZAG[v * 8 + u];
                }
            }
            planes.push(ScaledPlane {
                wh,
                wv,
                ac_region,
                row_region,
                col_region,
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

    /// Writes every block of component `c` from a progressive decode's buffer (quantized
    /// coefficients in zigzag order, 64 per block, `per_row` blocks per row). The block size is
    /// matched once, so the kernel for it runs over the whole plane; other sizes go block by block
    /// through `put`.
    pub(crate) fn put_plane_zigzag(
        &mut self, c: usize, blocks: &[i16], per_row: usize, qt: &[i32; 64], idct: IDCTPtr
    ) {
        let Some(p) = self.planes.get_mut(c) else {
            return;
        };
        if with_block_size!((p.nh, p.nv), fill_zigzag(p, blocks, per_row, qt)) {
            return;
        }
        let per_row = per_row.max(1);
        let mut tmp = [0_i32; 64];
        for (i, coefs) in blocks.chunks_exact(64).enumerate() {
            for (&x, &n) in coefs.iter().zip(UN_ZIGZAG.iter()) {
                tmp[n & 63] = i32::from(x) * qt[n & 63];
            }
            self.put(c, i % per_row, i / per_row, &mut tmp, idct);
        }
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
        if p.nh == 8 && p.nv == 8 {
            let out = &mut p.data[at..];
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
        if p.nh <= 8 && p.nv <= 8 {
            let mut f = [[0.0_f32; 8]; 8];
            let (mut ac, mut rows) = (false, 0_u8);
            for v in 0..p.kv {
                for u in 0..p.kh {
                    f[v][u] = coef[v * 8 + u] as f32;
                    ac |= (v + u > 0) && coef[v * 8 + u] != 0;
                    rows |= u8::from(coef[v * 8 + u] != 0) << v;
                }
            }
            if !ac {
                return flat(f[0][0], &p.wh, &p.wv, p.nh, p.nv, &mut p.data[at..], p.stride);
            }
            if with_block_size!((p.nh, p.nv), rect_at(p, &f, rows, 0xFF, at)) {
                return;
            }
        }
        let out = &mut p.data[at..];
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

    /// YCbCr planes to RGB (`N` = 3) or opaque RGBA (`N` = 4) rows, with the same fixed-point
    /// arithmetic as zune-jpeg's scalar converter; `N` is a constant so the loop vectorises.
    fn write_rgb<const N: usize>(&self, out: &mut [u8]) {
        let w = self.width;
        let (py, pb, pr) = (&self.planes[0], &self.planes[1], &self.planes[2]);
        for (y, row) in out.chunks_exact_mut(w * N).take(self.height).enumerate() {
            let ly = &py.data[y * py.stride..][..w];
            let lb = &pb.data[y * pb.stride..][..w];
            let lr = &pr.data[y * pr.stride..][..w];
            for (((px, &yy), &cb), &cr) in row.chunks_exact_mut(N).zip(ly).zip(lb).zip(lr) {
                let (cb, cr) = (i32::from(cb) - 128, i32::from(cr) - 128);
                let y0 = i32::from(yy) * 16384 + 8191;
                let r = (y0 + cr * 22970) >> 14;
                let g = (y0 - cr * 11700 - cb * 5638) >> 14;
                let b = (y0 + cb * 29032) >> 14;
                px[0] = r.clamp(0, 255) as u8;
                px[1] = g.clamp(0, 255) as u8;
                px[2] = b.clamp(0, 255) as u8;
                if N == 4 {
                    px[3] = 255;
                }
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
            (3, ColorSpace::RGB) => self.write_rgb::<3>(out),
            (3, ColorSpace::RGBA) => self.write_rgb::<4>(out),
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
