//! Shared pieces of the subject actions (`remove_background`, `shadow`, `crop_to_subject`):
//! a decision proxy, the backdrop model fitted to the border, and an O(pixels) Gaussian blur.
//!
//! Decisions (what is backdrop, where the subject is) are made on [`Proxy`], an area-averaged
//! copy whose long side is at most [`PROXY_LONG_SIDE`]; only the output is computed at full size.

use crate::raster::Raster;

/// Long side of the decision proxy, in px. 1024 keeps a 12 MP photo's proxy under 0.8 MP.
pub const PROXY_LONG_SIDE: u32 = 1024;

/// An area-averaged downscale by an integer factor `k`: one cell per k×k block of pixels
/// (edge cells average the pixels they have).
pub struct Proxy {
    pub k: u32,
    pub w: usize,
    pub h: usize,
    /// Mean RGB of each cell, row-major.
    pub rgb: Vec<[f32; 3]>,
}

impl Proxy {
    /// Builds the proxy of `img` with long side ≤ `long_side` (alpha is ignored).
    pub fn new(img: &Raster, long_side: u32) -> Proxy {
        let (w, h) = img.dimensions();
        let k = w.max(h).div_ceil(long_side.max(1)).max(1);
        let pw = w.div_ceil(k) as usize;
        let ph = h.div_ceil(k) as usize;
        let mut sums = vec![[0u32; 4]; pw * ph];
        let raw = img.as_raw();
        let wu = w as usize;
        for y in 0..h as usize {
            let row = &raw[y * wu * 4..(y + 1) * wu * 4];
            let cells = &mut sums[(y / k as usize) * pw..(y / k as usize + 1) * pw];
            for (cell, chunk) in cells.iter_mut().zip(row.chunks(4 * k as usize)) {
                for p in chunk.chunks_exact(4) {
                    cell[0] += p[0] as u32;
                    cell[1] += p[1] as u32;
                    cell[2] += p[2] as u32;
                    cell[3] += 1;
                }
            }
        }
        let rgb = sums
            .iter()
            .map(|s| {
                let n = s[3].max(1) as f32;
                [s[0] as f32 / n, s[1] as f32 / n, s[2] as f32 / n]
            })
            .collect();
        Proxy {
            k,
            w: pw,
            h: ph,
            rgb,
        }
    }

    /// Mean of a one-byte-per-pixel mask over each cell (same grid as `self`).
    pub fn mask_means(&self, mask: &[u8], w: usize) -> Vec<f32> {
        let k = self.k as usize;
        let mut sums = vec![(0u32, 0u32); self.w * self.h];
        for (y, row) in mask.chunks_exact(w.max(1)).enumerate() {
            let cells = &mut sums[(y / k) * self.w..(y / k + 1) * self.w];
            for (cell, chunk) in cells.iter_mut().zip(row.chunks(k)) {
                cell.0 += chunk.iter().map(|&m| m as u32).sum::<u32>();
                cell.1 += chunk.len() as u32;
            }
        }
        sums.iter()
            .map(|&(s, n)| s as f32 / n.max(1) as f32)
            .collect()
    }
}

/// Rounds a value to the nearest byte, saturating (a plain `round()` is a libm call on x86-64).
#[inline]
pub fn to_u8(v: f32) -> u8 {
    (v + 0.5) as u8
}

/// Squared Euclidean RGB distance.
#[inline]
pub fn dist2(a: [f32; 3], b: [f32; 3]) -> f32 {
    let (d0, d1, d2) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    d0 * d0 + d1 * d1 + d2 * d2
}

/// The backdrop colour as a smooth function of position: a quadratic surface per channel
/// (1, u, v, u², uv, v² over coordinates normalised to −1..1), fitted to the proxy's border by
/// iteratively re-weighted least squares, so a sweep or a vignette is followed while a subject
/// that touches the border is rejected as outliers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backdrop {
    coef: [[f32; 6]; 3],
    width: f32,
    height: f32,
    /// Robust spread of the border around the fit (RGB distance): ~3 on a clean backdrop.
    pub noise: f32,
    /// Share of border samples that agree with the fit; low means the border is busy.
    pub inliers: f32,
}

impl Backdrop {
    /// Fits the model to a band of cells along the proxy's border. `width`×`height` is the
    /// full-size image, whose pixel coordinates [`Backdrop::at`] takes.
    pub fn fit(proxy: &Proxy, width: u32, height: u32) -> Backdrop {
        let (pw, ph) = (proxy.w, proxy.h);
        let band = (pw.min(ph) / 64).clamp(1, 4);
        let k = proxy.k as f32;
        let mut samples: Vec<([f32; 6], [f32; 3])> = Vec::new();
        for cy in 0..ph {
            for cx in 0..pw {
                let on_border = cx < band || cy < band || cx + band >= pw || cy + band >= ph;
                if !on_border {
                    continue;
                }
                let x = ((cx as f32 + 0.5) * k).min(width as f32);
                let y = ((cy as f32 + 0.5) * k).min(height as f32);
                samples.push((
                    basis(x, y, width as f32, height as f32),
                    proxy.rgb[cy * pw + cx],
                ));
            }
        }
        let mut model = Backdrop {
            coef: [[0.0; 6]; 3],
            width: width as f32,
            height: height as f32,
            noise: 0.0,
            inliers: 1.0,
        };
        if samples.is_empty() {
            return model;
        }
        // Start from the per-channel median: robust even when the subject covers much of the border.
        for c in 0..3 {
            let mut v: Vec<f32> = samples.iter().map(|s| s.1[c]).collect();
            model.coef[c][0] = median(&mut v);
        }
        let mut res: Vec<f32> = Vec::with_capacity(samples.len());
        let mut weights = vec![1.0f32; samples.len()];
        for round in 0..5 {
            res.clear();
            res.extend(
                samples
                    .iter()
                    .map(|(b, rgb)| dist2(model.eval(b), *rgb).sqrt()),
            );
            let mut sorted = res.clone();
            // 1.4826 × median: the MAD-to-σ factor for normal noise.
            let spread = 1.4826 * median(&mut sorted);
            let cutoff = (3.0 * spread).max(6.0);
            let mut n_in = 0usize;
            for (w, r) in weights.iter_mut().zip(&res) {
                *w = if *r <= cutoff { 1.0 } else { 0.0 };
                n_in += (*r <= cutoff) as usize;
            }
            model.inliers = n_in as f32 / samples.len() as f32;
            let mut inl: Vec<f32> = res
                .iter()
                .zip(&weights)
                .filter(|(_, w)| **w > 0.0)
                .map(|(r, _)| *r)
                .collect();
            model.noise = 1.4826 * median(&mut inl);
            if round == 4 || n_in < 12 {
                break;
            }
            if let Some(coef) = solve_quadratic(&samples, &weights) {
                model.coef = coef;
            }
        }
        model
    }

    /// The modelled backdrop colour at full-size pixel (x, y).
    pub fn at(&self, x: f32, y: f32) -> [f32; 3] {
        self.eval(&basis(x, y, self.width, self.height))
    }

    fn eval(&self, b: &[f32; 6]) -> [f32; 3] {
        let mut out = [0.0; 3];
        for (o, c) in out.iter_mut().zip(&self.coef) {
            *o = c.iter().zip(b).map(|(a, b)| a * b).sum();
        }
        out
    }

    /// The model at each proxy cell's centre.
    pub fn cells(&self, proxy: &Proxy) -> Vec<[f32; 3]> {
        let k = proxy.k as f32;
        let mut out = Vec::with_capacity(proxy.w * proxy.h);
        for cy in 0..proxy.h {
            for cx in 0..proxy.w {
                let x = ((cx as f32 + 0.5) * k).min(self.width);
                let y = ((cy as f32 + 0.5) * k).min(self.height);
                out.push(self.at(x, y));
            }
        }
        out
    }
}

fn basis(x: f32, y: f32, w: f32, h: f32) -> [f32; 6] {
    let u = 2.0 * x / w.max(1.0) - 1.0;
    let v = 2.0 * y / h.max(1.0) - 1.0;
    [1.0, u, v, u * u, u * v, v * v]
}

fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mid = v.len() / 2;
    v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    v[mid]
}

/// Weighted least squares for the six quadratic coefficients of each channel (normal equations,
/// Gaussian elimination with partial pivoting and a tiny ridge). `None` if singular.
fn solve_quadratic(samples: &[([f32; 6], [f32; 3])], weights: &[f32]) -> Option<[[f32; 6]; 3]> {
    let mut ata = [[0f64; 6]; 6];
    let mut atb = [[0f64; 3]; 6];
    for ((b, rgb), &w) in samples.iter().zip(weights) {
        if w == 0.0 {
            continue;
        }
        for i in 0..6 {
            for j in 0..6 {
                ata[i][j] += (b[i] * b[j]) as f64;
            }
            for c in 0..3 {
                atb[i][c] += (b[i] * rgb[c]) as f64;
            }
        }
    }
    let ridge = 1e-6 * (0..6).map(|i| ata[i][i]).sum::<f64>().max(1e-9);
    for (i, row) in ata.iter_mut().enumerate() {
        row[i] += ridge;
    }
    for col in 0..6 {
        let piv = (col..6).max_by(|&a, &b| ata[a][col].abs().total_cmp(&ata[b][col].abs()))?;
        if ata[piv][col].abs() < 1e-12 {
            return None;
        }
        ata.swap(col, piv);
        atb.swap(col, piv);
        for r in 0..6 {
            if r == col {
                continue;
            }
            let f = ata[r][col] / ata[col][col];
            if f == 0.0 {
                continue;
            }
            let (prow, pb) = (ata[col], atb[col]);
            for (a, p) in ata[r].iter_mut().zip(prow).skip(col) {
                *a -= f * p;
            }
            for (a, p) in atb[r].iter_mut().zip(pb) {
                *a -= f * p;
            }
        }
    }
    let mut out = [[0f32; 6]; 3];
    for (i, row) in atb.iter().enumerate() {
        for c in 0..3 {
            out[c][i] = (row[c] / ata[i][i]) as f32;
        }
    }
    Some(out)
}

/// Radii of three box filters whose succession approximates a Gaussian of `sigma`
/// (Kovesi, "Fast almost-Gaussian filtering", 2010: box widths wl / wl+2 chosen to match σ²).
pub fn box_radii(sigma: f32) -> [usize; 3] {
    if sigma.is_nan() || sigma <= 0.0 {
        return [0; 3];
    }
    let n = 3.0f32;
    let ideal = (12.0 * sigma * sigma / n + 1.0).sqrt();
    let mut wl = ideal.floor() as i64;
    if wl % 2 == 0 {
        wl -= 1;
    }
    let wl = wl.max(1);
    let wu = wl + 2;
    let wlf = wl as f32;
    let m = ((12.0 * sigma * sigma - n * wlf * wlf - 4.0 * n * wlf - 3.0 * n) / (-4.0 * wlf - 4.0))
        .round()
        .clamp(0.0, 3.0) as usize;
    let mut r = [0usize; 3];
    for (i, ri) in r.iter_mut().enumerate() {
        let w = if i < m { wl } else { wu };
        *ri = ((w - 1) / 2) as usize;
    }
    r
}

/// Gaussian-like blur of a `w`×`h` plane in place: three box passes per axis with running sums,
/// so the cost is O(w·h) whatever `sigma` is. Edges repeat the border value. `tmp` is scratch.
pub fn gaussian_blur(buf: &mut [f32], w: usize, h: usize, sigma: f32, tmp: &mut Vec<f32>) {
    if w == 0 || h == 0 || buf.len() < w * h {
        return;
    }
    for r in box_radii(sigma) {
        if r == 0 {
            continue;
        }
        box_rows(buf, w, h, r, tmp);
        box_cols(buf, w, h, r, tmp);
    }
}

fn box_rows(buf: &mut [f32], w: usize, h: usize, r: usize, line: &mut Vec<f32>) {
    let inv = 1.0 / (2 * r + 1) as f32;
    line.clear();
    line.resize(w, 0.0);
    for row in buf.chunks_exact_mut(w).take(h) {
        line.copy_from_slice(row);
        let at = |i: isize| line[i.clamp(0, w as isize - 1) as usize];
        let mut acc: f32 = (-(r as isize)..=r as isize).map(at).sum();
        for (x, out) in row.iter_mut().enumerate() {
            *out = acc * inv;
            let x = x as isize;
            acc += at(x + r as isize + 1) - at(x - r as isize);
        }
    }
}

fn box_cols(buf: &mut [f32], w: usize, h: usize, r: usize, tmp: &mut Vec<f32>) {
    let inv = 1.0 / (2 * r + 1) as f32;
    tmp.clear();
    tmp.extend_from_slice(&buf[..w * h]);
    let row = |y: isize| {
        let y = y.clamp(0, h as isize - 1) as usize;
        &tmp[y * w..(y + 1) * w]
    };
    let mut acc = vec![0f32; w];
    for dy in -(r as isize)..=r as isize {
        for (a, v) in acc.iter_mut().zip(row(dy)) {
            *a += v;
        }
    }
    for y in 0..h {
        let out = &mut buf[y * w..(y + 1) * w];
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = a * inv;
        }
        let (add, sub) = (
            row(y as isize + r as isize + 1),
            row(y as isize - r as isize),
        );
        for ((a, p), m) in acc.iter_mut().zip(add).zip(sub) {
            *a += p - m;
        }
    }
}

/// The bounding box (x, y, w, h) of the pixels for which `is_subject` holds, ignoring specks:
/// a row or column counts only when at least `min_count` of its pixels are subject.
pub fn bounding_box(
    w: usize,
    h: usize,
    min_count: u32,
    mut is_subject: impl FnMut(usize, usize) -> bool,
) -> Option<(u32, u32, u32, u32)> {
    let mut rows = vec![0u32; h];
    let mut cols = vec![0u32; w];
    for (y, rc) in rows.iter_mut().enumerate() {
        for (x, cc) in cols.iter_mut().enumerate() {
            if is_subject(x, y) {
                *rc += 1;
                *cc += 1;
            }
        }
    }
    let first = |v: &[u32]| v.iter().position(|&c| c >= min_count.max(1));
    let last = |v: &[u32]| v.iter().rposition(|&c| c >= min_count.max(1));
    let (x0, x1) = (first(&cols)?, last(&cols)?);
    let (y0, y1) = (first(&rows)?, last(&rows)?);
    Some((
        x0 as u32,
        y0 as u32,
        (x1 - x0 + 1) as u32,
        (y1 - y0 + 1) as u32,
    ))
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Synthetic product shots with an exact ground-truth mask, for the subject actions' tests.

    use crate::raster::Raster;

    /// The backdrop behind the object.
    #[derive(Debug, Clone, Copy)]
    pub enum Backdrop {
        Plain([u8; 3]),
        /// Top colour to bottom colour (a studio sweep).
        Vertical([u8; 3], [u8; 3]),
    }

    /// The object's outline.
    #[derive(Debug, Clone, Copy)]
    pub enum Shape {
        /// Centre and radii as fractions of the image size.
        Ellipse { cx: f32, cy: f32, rx: f32, ry: f32 },
        /// A rounded box (fractions of the size) with a ring handle on its right side, whose
        /// hole shows the backdrop.
        Mug { x0: f32, y0: f32, x1: f32, y1: f32 },
    }

    #[derive(Debug, Clone, Copy)]
    pub struct Spec {
        pub width: u32,
        pub height: u32,
        pub backdrop: Backdrop,
        pub shape: Shape,
        pub color: [u8; 3],
        /// How much the soft shadow under the object darkens the backdrop (0 = none).
        pub shadow: f32,
        /// Amplitude of uniform noise, in levels.
        pub noise: f32,
    }

    impl Default for Spec {
        fn default() -> Self {
            Spec {
                width: 480,
                height: 360,
                backdrop: Backdrop::Plain([244, 244, 246]),
                shape: Shape::Ellipse {
                    cx: 0.5,
                    cy: 0.45,
                    rx: 0.22,
                    ry: 0.3,
                },
                color: [200, 30, 40],
                shadow: 0.45,
                noise: 3.0,
            }
        }
    }

    /// A rendered scene and its truth.
    pub struct Scene {
        pub img: Raster,
        /// Object coverage per pixel, 0–255 (anti-aliased).
        pub mask: Vec<u8>,
        /// Shadow strength per pixel, 0–1 (before it is hidden by the object).
        pub shadow: Vec<f32>,
        /// The hole of the mug's handle, if any: one point inside it.
        pub hole: Option<(u32, u32)>,
    }

    impl Scene {
        /// Intersection over union of `alpha ≥ 128` against `mask ≥ 128`.
        pub fn iou(&self, alpha: &[u8]) -> f32 {
            let (mut i, mut u) = (0usize, 0usize);
            for (&a, &m) in alpha.iter().zip(&self.mask) {
                let (a, m) = (a >= 128, m >= 128);
                i += (a && m) as usize;
                u += (a || m) as usize;
            }
            i as f32 / u.max(1) as f32
        }
    }

    /// Signed distance (px, negative inside) of the object at pixel centre (x, y).
    fn sdf(shape: Shape, w: f32, h: f32, x: f32, y: f32) -> f32 {
        match shape {
            Shape::Ellipse { cx, cy, rx, ry } => {
                let (rx, ry) = (rx * w, ry * h);
                let (dx, dy) = ((x - cx * w) / rx, (y - cy * h) / ry);
                ((dx * dx + dy * dy).sqrt() - 1.0) * rx.min(ry)
            }
            Shape::Mug { x0, y0, x1, y1 } => {
                let (x0, y0, x1, y1) = (x0 * w, y0 * h, x1 * w, y1 * h);
                let r = 0.08 * (x1 - x0);
                let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
                let (hx, hy) = ((x1 - x0) / 2.0 - r, (y1 - y0) / 2.0 - r);
                let (qx, qy) = ((x - cx).abs() - hx, (y - cy).abs() - hy);
                let outside = (qx.max(0.0).powi(2) + qy.max(0.0).powi(2)).sqrt();
                let body = outside + qx.max(qy).min(0.0) - r;
                // The handle: a ring centred on the right wall.
                let ring_r = 0.3 * (y1 - y0);
                let thick = 0.08 * (y1 - y0);
                let d = ((x - x1).powi(2) + (y - cy).powi(2)).sqrt();
                let ring = (d - ring_r).abs() - thick / 2.0;
                body.min(ring)
            }
        }
    }

    /// Renders the scene. Deterministic (the noise is a fixed LCG).
    pub fn render(spec: &Spec) -> Scene {
        let (w, h) = (spec.width as usize, spec.height as usize);
        let (wf, hf) = (w as f32, h as f32);
        let mut mask = vec![0u8; w * h];
        let mut bottom = 0usize;
        let (mut left, mut right) = (w, 0usize);
        for y in 0..h {
            for x in 0..w {
                let d = sdf(spec.shape, wf, hf, x as f32 + 0.5, y as f32 + 0.5);
                let c = (0.5 - d).clamp(0.0, 1.0);
                mask[y * w + x] = (c * 255.0).round() as u8;
                if c > 0.0 {
                    bottom = bottom.max(y);
                    left = left.min(x);
                    right = right.max(x);
                }
            }
        }
        // A soft elliptical shadow centred on the object's base.
        let mut shadow = vec![0f32; w * h];
        if spec.shadow > 0.0 && right > left {
            let (scx, srx) = ((left + right) as f32 / 2.0, (right - left) as f32 * 0.55);
            let sry = (right - left) as f32 * 0.07 + 2.0;
            for y in 0..h {
                for x in 0..w {
                    let dx = (x as f32 + 0.5 - scx) / srx;
                    let dy = (y as f32 + 0.5 - bottom as f32) / sry;
                    if dx * dx + dy * dy <= 1.0 {
                        shadow[y * w + x] = 1.0;
                    }
                }
            }
            let mut tmp = Vec::new();
            super::gaussian_blur(&mut shadow, w, h, hf * 0.02 + 1.0, &mut tmp);
        }
        let hole = match spec.shape {
            Shape::Mug { x1, y0, y1, .. } => Some((
                (x1 * wf + 0.3 * (y1 - y0) * hf * 0.5) as u32,
                ((y0 + y1) / 2.0 * hf) as u32,
            )),
            _ => None,
        };
        let mut seed = 0x2545_f491_u32;
        let mut noise = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0 * spec.noise
        };
        let mut data = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            let bg = match spec.backdrop {
                Backdrop::Plain(c) => c.map(|v| v as f32),
                Backdrop::Vertical(t, b) => {
                    let f = y as f32 / (h - 1).max(1) as f32;
                    [0, 1, 2].map(|i| t[i] as f32 * (1.0 - f) + b[i] as f32 * f)
                }
            };
            for x in 0..w {
                let i = y * w + x;
                let c = mask[i] as f32 / 255.0;
                let dark = 1.0 - spec.shadow * shadow[i];
                for ch in 0..3 {
                    let v = c * spec.color[ch] as f32 + (1.0 - c) * bg[ch] * dark + noise();
                    data.push(v.round().clamp(0.0, 255.0) as u8);
                }
                data.push(255);
            }
        }
        Scene {
            img: Raster::from_rgba(spec.width, spec.height, data).expect("size matches"),
            mask,
            shadow,
            hole,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three boxes reproduce the requested σ (variance of the combined kernel).
    #[test]
    fn box_radii_match_sigma() {
        for sigma in [1.0f32, 2.5, 6.0, 20.0] {
            let var: f32 = box_radii(sigma)
                .iter()
                .map(|&r| {
                    let w = (2 * r + 1) as f32;
                    (w * w - 1.0) / 12.0
                })
                .sum();
            assert!(
                (var.sqrt() - sigma).abs() < 0.6,
                "σ {sigma} → {}",
                var.sqrt()
            );
        }
    }

    /// The blur keeps the mass of an impulse and spreads it symmetrically.
    #[test]
    fn blur_preserves_mass() {
        let (w, h) = (41, 41);
        let mut buf = vec![0f32; w * h];
        buf[20 * w + 20] = 1000.0;
        let mut tmp = Vec::new();
        gaussian_blur(&mut buf, w, h, 3.0, &mut tmp);
        let sum: f32 = buf.iter().sum();
        assert!((sum - 1000.0).abs() < 0.5);
        assert!((buf[20 * w + 17] - buf[20 * w + 23]).abs() < 1e-3);
        assert!((buf[17 * w + 20] - buf[23 * w + 20]).abs() < 1e-3);
    }

    /// The quadratic model follows a vertical sweep even with a subject touching the bottom edge.
    #[test]
    fn backdrop_fits_a_sweep() {
        let scene = testutil::render(&testutil::Spec {
            backdrop: testutil::Backdrop::Vertical([235, 235, 240], [150, 155, 170]),
            shape: testutil::Shape::Ellipse {
                cx: 0.5,
                cy: 0.8,
                rx: 0.2,
                ry: 0.3,
            },
            ..Default::default()
        });
        let proxy = Proxy::new(&scene.img, PROXY_LONG_SIDE);
        let m = Backdrop::fit(&proxy, 480, 360);
        let mid = m.at(100.0, 180.0);
        assert!((mid[0] - 192.5).abs() < 4.0, "{mid:?}");
        assert!(m.noise < 6.0, "noise {}", m.noise);
    }

    #[test]
    fn proxy_averages_blocks() {
        let mut img = Raster::new(2048, 10, [0, 0, 0, 255]);
        img.put(0, 0, [255, 255, 255, 255]);
        let p = Proxy::new(&img, PROXY_LONG_SIDE);
        assert_eq!((p.k, p.w, p.h), (2, 1024, 5));
        assert!((p.rgb[0][0] - 63.75).abs() < 1e-3);
    }
}
