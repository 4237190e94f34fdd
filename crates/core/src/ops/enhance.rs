//! `auto_enhance` and `adjust`: tone and colour corrections.
//!
//! Both build per-channel 256-entry lookup tables and touch each pixel once (plus one blur of a
//! luma plane when `auto_enhance` sharpens). Two promises hold throughout:
//! - pixels with alpha 0 are left exactly as they are;
//! - pure white (255, 255, 255) stays pure white, unless the merchant explicitly darkens
//!   (negative `brightness` or `contrast` in `adjust`). Every automatic curve maps 255 to 255.

use crate::error::Result;
use crate::ops::subject::box_radii;
use crate::ops::{check_range, Problem};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `auto_enhance`. Every part has its own strength, 0 = off, 1 = full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AutoEnhance {
    /// Overall strength 0–1; multiplies every part below.
    pub strength: f32,
    /// Neutralises a colour cast, 0–1.
    pub white_balance: f32,
    /// Stretches the tonal range to black and white, 0–1.
    pub levels: f32,
    /// Share of the darkest and of the brightest subject pixels allowed to clip in `levels`,
    /// in percent (0–10).
    pub clip_percent: f32,
    /// Brings the subject's mid-tones toward a standard brightness, 0–1.
    pub exposure: f32,
    /// Gentle S-curve, 0–1.
    pub contrast: f32,
    /// Saturation boost that favours dull colours over already vivid ones, 0–1.
    pub vibrance: f32,
    /// Unsharp-mask amount, 0–1 (1 = 100 %: an edge's local contrast is doubled).
    pub sharpen: f32,
    /// Unsharp-mask radius (Gaussian sigma), in pixels, 0.3–20.
    pub sharpen_radius: f32,
    /// Unsharp-mask threshold in levels (0–64): smaller local differences are left alone,
    /// so flat areas and noise are not sharpened.
    pub sharpen_threshold: f32,
}

impl Default for AutoEnhance {
    fn default() -> Self {
        AutoEnhance {
            strength: 1.0,
            white_balance: 0.7,
            levels: 1.0,
            clip_percent: 0.5,
            exposure: 0.5,
            contrast: 0.3,
            vibrance: 0.3,
            sharpen: 0.4,
            sharpen_radius: 1.0,
            sharpen_threshold: 3.0,
        }
    }
}

impl AutoEnhance {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        for (field, v) in [
            ("strength", self.strength),
            ("white_balance", self.white_balance),
            ("levels", self.levels),
            ("exposure", self.exposure),
            ("contrast", self.contrast),
            ("vibrance", self.vibrance),
            ("sharpen", self.sharpen),
        ] {
            check_range(&mut p, field, v, 0.0, 1.0);
        }
        check_range(&mut p, "clip_percent", self.clip_percent, 0.0, 10.0);
        check_range(&mut p, "sharpen_radius", self.sharpen_radius, 0.3, 20.0);
        check_range(
            &mut p,
            "sharpen_threshold",
            self.sharpen_threshold,
            0.0,
            64.0,
        );
        p
    }
}

/// How many pixels the statistics look at, at most (a regular grid subsample).
const STAT_SAMPLES: usize = 200_000;

/// Runs `auto_enhance` in place.
///
/// Statistics come from a grid subsample of at most 200 000 subject pixels (alpha ≥ 128, pure
/// white excluded so a white backdrop does not count). Then, composed into one LUT per channel:
/// 1. White balance (von Kries gains): the illuminant is the mean of the brightest 1 % of
///    non-clipped samples (white patch) when that is near-neutral (max/min channel ≤ 1.4) and
///    light (luma ≥ 150), else the mean of all samples (gray world), skipped when that mean is
///    strongly coloured (max/min > 1.6: the product's own colour, not a cast). Gains bring each
///    channel up to the brightest one, so they are ≥ 1 and white stays 255; capped at 1.5 (white
///    patch) or 1.2 (gray world).
/// 2. Levels: black and white points at the `clip_percent` and 100 − `clip_percent` percentiles
///    of luma, stretched linearly (at most from 96..160 to 0..255).
/// 3. Exposure: a gamma curve moving the median subject luma toward 46 % (γ within 0.7–1.4).
/// 4. Contrast: a blend toward smoothstep, which keeps 0, 0.5 and 1 fixed (slope up to 1.3).
///
/// In the same pass, vibrance scales each pixel's chroma around its luma by
/// 1 + 0.5 · vibrance · (1 − HSV saturation). Last, an unsharp mask adds
/// `sharpen` × (luma − blurred luma) to all three channels where the difference exceeds the
/// threshold (luma only, so edges get no colour fringes); the blur is three box passes
/// approximating a Gaussian (Kovesi, "Fast almost-Gaussian filtering", 2010). Every stage maps
/// 255 to 255 and pixels with alpha 0 are skipped.
pub fn auto_enhance(img: &mut Raster, p: &AutoEnhance) -> Result<()> {
    if img.is_empty() || p.strength <= 0.0 {
        return Ok(());
    }
    let s = p.strength.clamp(0.0, 1.0);
    let samples = subject_samples(img);
    let stats_ok = samples.len() >= 64;

    // Each stage is a function on 0..=1 per channel; they are composed on the samples too, so
    // later stages measure what earlier stages produced.
    let gains = if stats_ok && p.white_balance > 0.0 {
        let g = white_balance_gains(&samples);
        let k = p.white_balance * s;
        [0, 1, 2].map(|c| 1.0 + (g[c] - 1.0) * k)
    } else {
        [1.0; 3]
    };
    let wb = |c: usize, x: f32| (x * gains[c]).min(1.0);

    let (lo, hi) = if stats_ok && p.levels > 0.0 {
        let lum: Vec<f32> = samples
            .iter()
            .map(|q| luma3([wb(0, q[0]), wb(1, q[1]), wb(2, q[2])]))
            .collect();
        let (lo, hi) = levels_points(lum, p.clip_percent / 100.0);
        let k = p.levels * s;
        (lo * k, 1.0 + (hi - 1.0) * k)
    } else {
        (0.0, 1.0)
    };
    let levels = |x: f32| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);

    let gamma = if stats_ok && p.exposure > 0.0 {
        let mut lum: Vec<f32> = samples
            .iter()
            .map(|q| luma3([0, 1, 2].map(|c| levels(wb(c, q[c])))))
            .collect();
        let mid = lum.len() / 2;
        let (_, median, _) = lum.select_nth_unstable_by(mid, f32::total_cmp);
        let median = median.clamp(0.02, 0.98);
        let g = (0.46f32.ln() / median.ln()).clamp(0.7, 1.4);
        g.powf(p.exposure * s)
    } else {
        1.0
    };
    let contrast = 0.6 * p.contrast * s;

    let mut luts = [[0u8; 256]; 3];
    for (c, lut) in luts.iter_mut().enumerate() {
        for (v, out) in lut.iter_mut().enumerate() {
            let x = levels(wb(c, v as f32 / 255.0)).powf(gamma);
            let x = x + contrast * (x * x * (3.0 - 2.0 * x) - x);
            *out = to_u8(x * 255.0);
        }
        // Every stage maps 1 to 1; this only guards against float rounding.
        lut[255] = 255;
    }

    let vib = 0.5 * p.vibrance * s;
    // 1 − HSV saturation is min / max: a reciprocal table saves a division per pixel.
    let recip: [f32; 256] = std::array::from_fn(|v| if v == 0 { 0.0 } else { 1.0 / v as f32 });
    for px in img.pixels_mut() {
        if px[3] == 0 {
            continue;
        }
        let rgb = [0, 1, 2].map(|c| luts[c][px[c] as usize]);
        let max = rgb[0].max(rgb[1]).max(rgb[2]);
        let min = rgb[0].min(rgb[1]).min(rgb[2]);
        if vib <= 0.0 || max == min {
            px[..3].copy_from_slice(&rgb);
            continue;
        }
        let k = 1.0 + vib * min as f32 * recip[max as usize];
        let f = rgb.map(|v| v as f32);
        let y = luma3(f);
        for c in 0..3 {
            px[c] = to_u8(y + (f[c] - y) * k);
        }
    }

    let amount = p.sharpen * s;
    if amount > 0.0 {
        unsharp_mask(img, amount, p.sharpen_radius, p.sharpen_threshold);
    }
    Ok(())
}

/// A regular-grid subsample of subject pixels as 0..=1 RGB: alpha ≥ 128, pure white excluded.
fn subject_samples(img: &Raster) -> Vec<[f32; 3]> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let step = ((w * h) as f64 / STAT_SAMPLES as f64)
        .sqrt()
        .ceil()
        .max(1.0) as usize;
    let data = img.as_raw();
    let mut out = Vec::with_capacity((w / step + 1) * (h / step + 1));
    for y in (0..h).step_by(step) {
        let row = &data[y * w * 4..(y + 1) * w * 4];
        for px in row.chunks_exact(4).step_by(step) {
            if px[3] >= 128 && !(px[0] == 255 && px[1] == 255 && px[2] == 255) {
                out.push([0, 1, 2].map(|c| px[c] as f32 / 255.0));
            }
        }
    }
    out
}

/// Per-channel gains (all ≥ 1) that neutralise the estimated illuminant; see `auto_enhance`.
fn white_balance_gains(samples: &[[f32; 3]]) -> [f32; 3] {
    let mean = |it: &mut dyn Iterator<Item = &[f32; 3]>| {
        let (mut sum, mut n) = ([0f64; 3], 0usize);
        for q in it {
            for c in 0..3 {
                sum[c] += q[c] as f64;
            }
            n += 1;
        }
        (sum.map(|v| (v / n.max(1) as f64) as f32), n)
    };
    let ratio = |e: [f32; 3]| {
        let max = e[0].max(e[1]).max(e[2]);
        let min = e[0].min(e[1]).min(e[2]);
        max / min.max(1e-3)
    };

    // White patch: the brightest 1 % of the samples whose channels are all below 250/255.
    let unclipped: Vec<&[f32; 3]> = samples
        .iter()
        .filter(|q| q[0].max(q[1]).max(q[2]) < 250.0 / 255.0)
        .collect();
    let mut white = None;
    if unclipped.len() >= 100 {
        let mut lum: Vec<f32> = unclipped.iter().map(|q| luma3(**q)).collect();
        let k = lum.len() - lum.len() / 100 - 1;
        let (_, cut, _) = lum.select_nth_unstable_by(k, f32::total_cmp);
        let cut = *cut;
        let (e, n) = mean(&mut unclipped.iter().copied().filter(|q| luma3(**q) >= cut));
        if n > 0 && luma3(e) >= 150.0 / 255.0 && ratio(e) <= 1.4 {
            white = Some(e);
        }
    }
    let (e, cap) = match white {
        Some(e) => (e, 1.5),
        None => {
            let (e, _) = mean(&mut samples.iter());
            if ratio(e) > 1.6 {
                return [1.0; 3];
            }
            (e, 1.2)
        }
    };
    let top = e[0].max(e[1]).max(e[2]);
    e.map(|v| (top / v.max(1e-3)).clamp(1.0, cap))
}

/// Black and white points (0..=1) at the `clip` and 1 − `clip` quantiles, limited so the
/// stretch never exceeds 96..160 → 0..255.
fn levels_points(mut lum: Vec<f32>, clip: f32) -> (f32, f32) {
    if lum.is_empty() {
        return (0.0, 1.0);
    }
    let n = lum.len();
    let k_lo = ((n as f32 * clip) as usize).min(n - 1);
    let k_hi = n - 1 - k_lo;
    let lo = *lum.select_nth_unstable_by(k_lo, f32::total_cmp).1;
    let hi = *lum.select_nth_unstable_by(k_hi, f32::total_cmp).1;
    let lo = lo.clamp(0.0, 96.0 / 255.0);
    let hi = hi.clamp(160.0 / 255.0, 1.0);
    (lo, hi)
}

/// Rec. 709 luma of 0..=1 (or 0..=255) RGB.
#[inline]
fn luma3(p: [f32; 3]) -> f32 {
    0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]
}

#[inline]
fn to_u8(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// Unsharp mask on luma, added equally to R, G and B; see `auto_enhance`.
fn unsharp_mask(img: &mut Raster, amount: f32, sigma: f32, threshold: f32) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let radii: Vec<usize> = box_radii(sigma).into_iter().filter(|&r| r > 0).collect();
    let Some((&last, first)) = radii.split_last() else {
        return; // the blur would be the identity: nothing to sharpen
    };
    // Luma in 1/16 levels (0..=4080): Rec. 709 weights in 1/256 (54 + 183 + 19 = 256).
    let luma16 = |p: &[u8]| (54 * p[0] as u32 + 183 * p[1] as u32 + 19 * p[2] as u32) >> 4;
    let mut plane: Vec<u16> = img.pixels().map(|p| luma16(p) as u16).collect();
    let mut scratch = Vec::new();
    if !first.is_empty() {
        let mut tmp = vec![0u16; plane.len()];
        for &r in first {
            box_h(&mut plane, w, r, &mut scratch);
            box_v(&plane, w, h, r, |y, row| {
                tmp[y * w..(y + 1) * w].copy_from_slice(row)
            });
            std::mem::swap(&mut plane, &mut tmp);
        }
    }
    // The last vertical pass streams its rows straight into the pixels: no second plane.
    box_h(&mut plane, w, last, &mut scratch);
    let thr = threshold * 16.0;
    let k = amount / 16.0;
    let data = img.as_raw_mut();
    box_v(&plane, w, h, last, |y, blurred| {
        let row = &mut data[y * w * 4..(y + 1) * w * 4];
        for (px, &b) in row.chunks_exact_mut(4).zip(blurred) {
            let d = luma16(px) as f32 - b as f32;
            if px[3] == 0 || d.abs() <= thr {
                continue;
            }
            let add = d * k;
            for c in px.iter_mut().take(3) {
                *c = to_u8(*c as f32 + add);
            }
        }
    });
}

/// An almost-Gaussian blur of a one-channel plane (edges clamped), as `unsharp_mask` runs it.
#[cfg(test)]
fn gaussian_blur_u16(mut a: Vec<u16>, w: usize, h: usize, sigma: f32) -> Vec<u16> {
    if w == 0 || h == 0 || a.len() != w * h {
        return a;
    }
    let mut b = vec![0u16; a.len()];
    let mut scratch = Vec::new();
    for r in box_radii(sigma) {
        if r == 0 {
            continue;
        }
        box_h(&mut a, w, r, &mut scratch);
        box_v(&a, w, h, r, |y, row| {
            b[y * w..(y + 1) * w].copy_from_slice(row)
        });
        std::mem::swap(&mut a, &mut b);
    }
    a
}

/// Horizontal box mean of radius `r` in place, edges clamped (rows are padded into `scratch`).
fn box_h(plane: &mut [u16], w: usize, r: usize, scratch: &mut Vec<u32>) {
    let inv = 1.0 / (2 * r + 1) as f32;
    for row in plane.chunks_exact_mut(w) {
        scratch.clear();
        scratch.extend(std::iter::repeat_n(row[0] as u32, r + 1));
        scratch.extend(row.iter().map(|&v| v as u32));
        scratch.extend(std::iter::repeat_n(row[w - 1] as u32, r + 1));
        // scratch[i] is the source at x = i - r - 1.
        let mut sum: u32 = scratch[1..2 * r + 2].iter().sum();
        for (x, out) in row.iter_mut().enumerate() {
            *out = (sum as f32 * inv + 0.5) as u16;
            sum = sum + scratch[x + 2 * r + 2] - scratch[x + 1];
        }
    }
}

/// Vertical box mean of radius `r`, edges clamped: one running sum per column. Each finished
/// row goes to `emit(y, row)`.
fn box_v(src: &[u16], w: usize, h: usize, r: usize, mut emit: impl FnMut(usize, &[u16])) {
    let inv = 1.0 / (2 * r + 1) as f32;
    let row = |y: isize| {
        let y = y.clamp(0, h as isize - 1) as usize;
        &src[y * w..(y + 1) * w]
    };
    let mut acc = vec![0u32; w];
    for y in -(r as isize)..=r as isize {
        for (a, &v) in acc.iter_mut().zip(row(y)) {
            *a += v as u32;
        }
    }
    let mut out = vec![0u16; w];
    for y in 0..h {
        let add = row(y as isize + r as isize + 1);
        let sub = row(y as isize - r as isize);
        for (((o, a), &p), &m) in out.iter_mut().zip(acc.iter_mut()).zip(add).zip(sub) {
            *o = (*a as f32 * inv + 0.5) as u16;
            *a = *a + p as u32 - m as u32;
        }
        emit(y, &out);
    }
}

/// Parameters of `adjust`. Every default is the identity: a default `adjust` changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Adjust {
    /// −1..1. Positive lifts toward white (1 = halfway), negative scales toward black (−1 = half).
    pub brightness: f32,
    /// −1..1. Scales the distance from mid-grey by 2^(1.5 · contrast) (×2.8 at 1, ×0.35 at −1).
    pub contrast: f32,
    /// −1..1. 0 unchanged, −1 greyscale, 1 doubles the saturation.
    pub saturation: f32,
    /// Hue rotation in degrees, −180..180.
    pub hue: f32,
    /// −1..1. Positive warms (more red, less blue), negative cools.
    pub temperature: f32,
    /// 0.2–5; above 1 brightens the mid-tones, below 1 darkens them. 0 and 255 stay fixed.
    pub gamma: f32,
}

impl Default for Adjust {
    fn default() -> Self {
        Adjust {
            brightness: 0.0,
            contrast: 0.0,
            saturation: 0.0,
            hue: 0.0,
            temperature: 0.0,
            gamma: 1.0,
        }
    }
}

impl Adjust {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        check_range(&mut p, "brightness", self.brightness, -1.0, 1.0);
        check_range(&mut p, "contrast", self.contrast, -1.0, 1.0);
        check_range(&mut p, "saturation", self.saturation, -1.0, 1.0);
        check_range(&mut p, "hue", self.hue, -180.0, 180.0);
        check_range(&mut p, "temperature", self.temperature, -1.0, 1.0);
        check_range(&mut p, "gamma", self.gamma, 0.2, 5.0);
        p
    }

    /// One LUT per channel: temperature, gamma, brightness, contrast, in that order.
    fn luts(&self) -> [[u8; 256]; 3] {
        // Temperature as per-channel power curves (0 and 255 stay fixed, so white stays white):
        // red gets exponent 1/(1 + a), blue 1 + a, with a = 0.25 · temperature.
        let a = 0.25 * self.temperature;
        let channel_gamma = [1.0 / (1.0 + a), 1.0, 1.0 + a];
        let inv_gamma = 1.0 / self.gamma;
        let b = 0.5 * self.brightness;
        let k = (1.5 * self.contrast).exp2();
        let mut luts = [[0u8; 256]; 3];
        for (c, lut) in luts.iter_mut().enumerate() {
            for (v, out) in lut.iter_mut().enumerate() {
                let mut x = v as f32 / 255.0;
                if channel_gamma[c] != 1.0 {
                    x = x.powf(channel_gamma[c]);
                }
                if self.gamma != 1.0 {
                    x = x.powf(inv_gamma);
                }
                if b > 0.0 {
                    x += b * (1.0 - x);
                } else if b < 0.0 {
                    x *= 1.0 + b;
                }
                if k != 1.0 {
                    x = (x - 0.5) * k + 0.5;
                }
                *out = to_u8(x * 255.0);
            }
        }
        luts
    }

    /// Saturation then hue rotation as one RGB matrix (W3C Filter Effects `saturate` and
    /// `hueRotate`). Each row sums to 1, so greys, white included, stay put.
    fn matrix(&self) -> Option<[[f32; 3]; 3]> {
        if self.saturation == 0.0 && self.hue == 0.0 {
            return None;
        }
        let s = 1.0 + self.saturation;
        let sat = [
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
        ];
        let (sin, cos) = self.hue.to_radians().sin_cos();
        let hue = [
            [
                0.213 + cos * 0.787 - sin * 0.213,
                0.715 - cos * 0.715 - sin * 0.715,
                0.072 - cos * 0.072 + sin * 0.928,
            ],
            [
                0.213 - cos * 0.213 + sin * 0.143,
                0.715 + cos * 0.285 + sin * 0.140,
                0.072 - cos * 0.072 - sin * 0.283,
            ],
            [
                0.213 - cos * 0.213 - sin * 0.787,
                0.715 - cos * 0.715 + sin * 0.715,
                0.072 + cos * 0.928 + sin * 0.072,
            ],
        ];
        let mut m = [[0f32; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..3).map(|k| hue[i][k] * sat[k][j]).sum();
            }
        }
        Some(m)
    }
}

/// Runs `adjust` in place.
///
/// Per-channel LUTs (temperature as power curves on red and blue, gamma, brightness, contrast
/// around mid-grey), then saturation and hue as one 3×3 matrix whose rows sum to 1 (W3C Filter
/// Effects, `saturate` and `hueRotate`). Defaults are the identity and return at once; pixels
/// with alpha 0 are skipped.
pub fn adjust(img: &mut Raster, p: &Adjust) -> Result<()> {
    if *p == Adjust::default() {
        return Ok(());
    }
    let luts = p.luts();
    let matrix = p.matrix();
    for px in img.pixels_mut() {
        if px[3] == 0 {
            continue;
        }
        let rgb = [0, 1, 2].map(|c| luts[c][px[c] as usize]);
        match &matrix {
            None => px[..3].copy_from_slice(&rgb),
            Some(m) => {
                let f = rgb.map(|v| v as f32);
                for c in 0..3 {
                    px[c] = to_u8(m[c][0] * f[0] + m[c][1] * f[1] + m[c][2] * f[2]);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random image with some transparent pixels.
    fn noise_image(w: u32, h: u32) -> Raster {
        let mut s = 0x1234_5678u32;
        let mut data = Vec::with_capacity((w * h * 4) as usize);
        for i in 0..w * h {
            for _ in 0..3 {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                data.push((s >> 24) as u8);
            }
            data.push(if i % 7 == 0 { 0 } else { 255 });
        }
        Raster::from_rgba(w, h, data).unwrap()
    }

    fn channel_means(img: &Raster) -> [f64; 3] {
        let mut sum = [0f64; 3];
        let mut n = 0.0;
        for p in img.pixels() {
            if p[..3] != [255, 255, 255] {
                for c in 0..3 {
                    sum[c] += p[c] as f64;
                }
                n += 1.0;
            }
        }
        sum.map(|v| v / n)
    }

    /// A grey ramp under a warm cast (blue at 75 %, green at 90 %), framed by pure white.
    fn cast_image() -> Raster {
        let mut img = Raster::new(120, 80, [255, 255, 255, 255]);
        for y in 10..70 {
            for x in 10..110 {
                let v = 40.0 + 180.0 * (x - 10) as f32 / 100.0;
                img.put(x, y, [v as u8, (v * 0.9) as u8, (v * 0.75) as u8, 255]);
            }
        }
        img
    }

    /// A default `adjust` leaves every pixel, transparent or not, exactly as it was.
    #[test]
    fn default_adjust_is_identity() {
        let img = noise_image(64, 48);
        let mut out = img.clone();
        adjust(&mut out, &Adjust::default()).unwrap();
        assert_eq!(out, img);
        // The LUT path itself is exact at the defaults too, not only the early return.
        let luts = Adjust::default().luts();
        for lut in luts {
            assert!(lut.iter().enumerate().all(|(i, &v)| v as usize == i));
        }
        assert!(Adjust::default().validate().is_empty());
    }

    /// Hue, saturation and warming keep white at 255 and greys grey; transparent pixels are kept.
    #[test]
    fn adjust_keeps_white_and_transparent_pixels() {
        let mut img = Raster::new(4, 1, [255, 255, 255, 255]);
        img.put(1, 0, [128, 128, 128, 255]);
        img.put(2, 0, [10, 200, 30, 0]);
        img.put(3, 0, [200, 60, 40, 255]);
        let p = Adjust {
            hue: 90.0,
            saturation: 0.5,
            temperature: 0.6,
            gamma: 1.3,
            brightness: 0.2,
            ..Adjust::default()
        };
        adjust(&mut img, &p).unwrap();
        assert_eq!(img.get(0, 0), [255, 255, 255, 255]);
        assert_eq!(img.get(2, 0), [10, 200, 30, 0]);
        assert_ne!(img.get(3, 0), [200, 60, 40, 255]);

        let mut grey = Raster::new(1, 1, [128, 128, 128, 255]);
        let warm = Adjust {
            temperature: 0.6,
            ..Adjust::default()
        };
        adjust(&mut grey, &warm).unwrap();
        let g = grey.get(0, 0);
        assert!(
            g[0] > 128 && g[1] == 128 && g[2] < 128,
            "warming a grey: {g:?}"
        );
    }

    /// Saturation −1 makes every pixel grey; positive contrast spreads values.
    #[test]
    fn adjust_saturation_and_contrast() {
        let mut img = Raster::new(1, 1, [200, 60, 40, 255]);
        adjust(
            &mut img,
            &Adjust {
                saturation: -1.0,
                ..Adjust::default()
            },
        )
        .unwrap();
        let p = img.get(0, 0);
        assert!(
            p[0].abs_diff(p[1]) <= 1 && p[1].abs_diff(p[2]) <= 1,
            "{p:?}"
        );

        let mut img = Raster::new(2, 1, [100, 100, 100, 255]);
        img.put(1, 0, [160, 160, 160, 255]);
        adjust(
            &mut img,
            &Adjust {
                contrast: 0.5,
                ..Adjust::default()
            },
        )
        .unwrap();
        assert!(img.get(0, 0)[0] < 100 && img.get(1, 0)[0] > 160);
    }

    /// Out-of-range values are reported per field.
    #[test]
    fn adjust_validation() {
        let p = Adjust {
            gamma: 0.0,
            hue: 400.0,
            ..Adjust::default()
        };
        let fields: Vec<String> = p.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["hue", "gamma"]);
    }

    /// auto_enhance on a warm-cast photo brings the channel means together and keeps white 255.
    #[test]
    fn auto_enhance_reduces_a_cast_and_keeps_white() {
        let mut img = cast_image();
        let before = channel_means(&img);
        let p = AutoEnhance {
            white_balance: 1.0,
            ..AutoEnhance::default()
        };
        auto_enhance(&mut img, &p).unwrap();
        let after = channel_means(&img);
        let spread = |m: [f64; 3]| (m[0] - m[2]).abs() / m[0].max(m[2]);
        assert!(
            spread(after) < spread(before) * 0.7,
            "{before:?} -> {after:?}"
        );
        for (x, y) in [(0, 0), (119, 79), (5, 40), (60, 75)] {
            assert_eq!(img.get(x, y), [255, 255, 255, 255]);
        }
    }

    /// With the default settings, a pure white backdrop stays exactly white everywhere.
    #[test]
    fn auto_enhance_defaults_keep_every_white_pixel() {
        let mut img = cast_image();
        let whites: Vec<(u32, u32)> = (0..80)
            .flat_map(|y| (0..120).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get(x, y) == [255, 255, 255, 255])
            .collect();
        auto_enhance(&mut img, &AutoEnhance::default()).unwrap();
        assert!(whites
            .iter()
            .all(|&(x, y)| img.get(x, y) == [255, 255, 255, 255]));
    }

    /// Levels stretch a low-contrast photo (80..170) to use nearly the whole range.
    #[test]
    fn levels_stretch_low_contrast() {
        let mut img = Raster::new(100, 20, [0, 0, 0, 255]);
        for y in 0..20 {
            for x in 0..100 {
                let v = 80 + (90 * x / 99) as u8;
                img.put(x, y, [v, v, v, 255]);
            }
        }
        let p = AutoEnhance {
            white_balance: 0.0,
            levels: 1.0,
            clip_percent: 1.0,
            exposure: 0.0,
            contrast: 0.0,
            vibrance: 0.0,
            sharpen: 0.0,
            ..AutoEnhance::default()
        };
        auto_enhance(&mut img, &p).unwrap();
        let (mut lo, mut hi) = (255u8, 0u8);
        for q in img.pixels() {
            lo = lo.min(q[0]);
            hi = hi.max(q[0]);
        }
        assert!(lo <= 5 && hi >= 250, "range {lo}..{hi}");
    }

    /// The unsharp mask increases the step at an edge (darker dark side, lighter light side).
    #[test]
    fn unsharp_increases_edge_contrast() {
        let mut img = Raster::new(20, 10, [80, 80, 80, 255]);
        for y in 0..10 {
            for x in 10..20 {
                img.put(x, y, [160, 160, 160, 255]);
            }
        }
        let p = AutoEnhance {
            white_balance: 0.0,
            levels: 0.0,
            exposure: 0.0,
            contrast: 0.0,
            vibrance: 0.0,
            sharpen: 1.0,
            sharpen_radius: 1.5,
            sharpen_threshold: 0.0,
            ..AutoEnhance::default()
        };
        auto_enhance(&mut img, &p).unwrap();
        assert!(img.get(9, 5)[0] < 80, "dark side {:?}", img.get(9, 5));
        assert!(img.get(10, 5)[0] > 160, "light side {:?}", img.get(10, 5));
        // Far from the edge nothing changes.
        assert_eq!(img.get(0, 5), [80, 80, 80, 255]);
        assert_eq!(img.get(19, 5), [160, 160, 160, 255]);
    }

    /// Transparent pixels keep their colour; strength 0 changes nothing.
    #[test]
    fn auto_enhance_skips_transparent_pixels_and_strength_zero() {
        let img = noise_image(50, 40);
        let mut out = img.clone();
        auto_enhance(&mut out, &AutoEnhance::default()).unwrap();
        for (a, b) in img.pixels().zip(out.pixels()) {
            if a[3] == 0 {
                assert_eq!(a, b);
            }
        }
        let mut out = img.clone();
        let p = AutoEnhance {
            strength: 0.0,
            ..AutoEnhance::default()
        };
        auto_enhance(&mut out, &p).unwrap();
        assert_eq!(out, img);
    }

    /// The three-box approximation matches the Gaussian's variance within 30 %, and a blurred
    /// constant plane stays constant.
    #[test]
    fn box_blur_approximates_gaussian() {
        for sigma in [1.0f32, 2.0, 5.0, 12.0] {
            let var: f32 = box_radii(sigma)
                .iter()
                .map(|&r| ((2 * r + 1).pow(2) - 1) as f32 / 12.0)
                .sum();
            assert!((var.sqrt() - sigma).abs() / sigma < 0.3, "sigma {sigma}");
        }
        let flat = vec![1234u16; 30 * 20];
        assert_eq!(gaussian_blur_u16(flat.clone(), 30, 20, 4.0), flat);
    }

    /// Defaults validate; out-of-range fields are named.
    #[test]
    fn auto_enhance_validation() {
        assert!(AutoEnhance::default().validate().is_empty());
        let p = AutoEnhance {
            clip_percent: 20.0,
            vibrance: -0.1,
            ..AutoEnhance::default()
        };
        let fields: Vec<String> = p.validate().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["vibrance", "clip_percent"]);
    }
}
