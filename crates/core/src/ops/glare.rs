//! `reduce_glare`: tames specular highlights on reflective products (jewellery, glass, chrome)
//! without touching the rest of the photo or a white backdrop.

use crate::error::Result;
use crate::ops::{check_range, Problem};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `reduce_glare`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReduceGlare {
    /// 0–1: how far highlights move toward their compressed value (0 = off).
    pub strength: f32,
    /// 0.5–1: luma (as a fraction of white) from which a pixel counts as a highlight. Darker
    /// pixels are never changed.
    pub threshold: f32,
}

impl Default for ReduceGlare {
    fn default() -> Self {
        ReduceGlare {
            strength: 0.7,
            threshold: 0.86,
        }
    }
}

impl ReduceGlare {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        check_range(&mut p, "threshold", self.threshold, 0.5, 1.0);
        p
    }
}

/// Largest side of the proxy grid that holds the surroundings and the backdrop map.
const PROXY_SIDE: usize = 256;
/// Share of the surrounding chroma a treated highlight takes on.
const CHROMA_RESTORE: f32 = 0.5;

/// Runs `reduce_glare` in place.
///
/// Highlight mask per pixel, 0..1: smoothstep of luma from the threshold T to T + 0.6·(255 − T),
/// times 1 − smoothstep(0.12, 0.35) of HSV saturation (specular glare is bright and colourless).
/// Pixels at or below T, or saturated, get 0 and are not touched.
///
/// A proxy grid (cells of ⌈max side / 256⌉ pixels, sampled on a 4×4 grid per cell) collects the
/// non-highlight colour of each cell; a normalised box blur over it (radius 2 cells, twice), with the inside of large
/// highlights filled from a coarser pyramid level, gives each highlight the colour of its
/// surroundings. A highlight's luma L is compressed by a soft knee,
/// L' = T + K·(1 − e^(−(L − T)/K)) with K = 0.35·(255 − T) (continuous, slope 1 at T), and it
/// takes on half of the surrounding chroma; the pixel then moves toward that colour by
/// mask × strength (× alpha).
///
/// The backdrop is left alone: pixels with alpha 0 always; in opaque photos, cells that are
/// mostly highlight and connected to the border, and regions of pure-white cells covering more
/// than 1 % of the grid (a white backdrop seen through a ring), each grown by one cell.
pub fn apply(img: &mut Raster, p: &ReduceGlare) -> Result<()> {
    if img.is_empty() || p.strength <= 0.0 {
        return Ok(());
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let t = p.threshold.clamp(0.0, 1.0) * 255.0;
    if t >= 255.0 {
        return Ok(());
    }
    let cell = w.max(h).div_ceil(PROXY_SIDE).max(1);
    let (gw, gh) = (w.div_ceil(cell), h.div_ceil(cell));
    let cols: Vec<usize> = (0..w).map(|x| x / cell).collect();

    // Pass 1: per cell, the colour of its non-highlight pixels and how much of it is highlight.
    let mut rgb = vec![[0f32; 3]; gw * gh];
    let mut weight = vec![0f32; gw * gh];
    let mut bright = vec![0u32; gw * gh];
    let mut white = vec![0u32; gw * gh];
    let mut count = vec![0u32; gw * gh];
    let mut any_highlight = false;
    let mut opaque = true;
    // The statistics are a decision, not the output: a 4×4 sample grid per cell is enough.
    let step = (cell / 4).max(1);
    for (y, row) in img.as_raw().chunks_exact(w * 4).enumerate().step_by(step) {
        let base = (y / cell) * gw;
        for (px, &cx) in row.chunks_exact(4).zip(&cols).step_by(step) {
            let i = base + cx;
            if px[3] != 255 {
                opaque = false;
                if px[3] == 0 {
                    continue;
                }
            }
            let m = highlight_mask(px, t);
            count[i] += 1;
            if m > 0.0 {
                any_highlight = true;
                if m >= 0.5 {
                    bright[i] += 1;
                }
                if px[0] == 255 && px[1] == 255 && px[2] == 255 {
                    white[i] += 1;
                }
            }
            let k = 1.0 - m;
            for c in 0..3 {
                rgb[i][c] += k * px[c] as f32;
            }
            weight[i] += k;
        }
    }
    if !any_highlight {
        return Ok(());
    }

    let backdrop = if opaque {
        backdrop_cells(&bright, &white, &count, gw, gh)
    } else {
        vec![false; gw * gh]
    };
    let chroma = surround_chroma(rgb, weight, gw, gh);

    // Pass 2: treat highlight pixels outside the backdrop.
    let knee = 0.35 * (255.0 - t);
    let strength = p.strength.clamp(0.0, 1.0);
    let inv = 1.0 / cell as f32;
    // Conservative: the integer weights differ from Rec. 709 by < 1 level.
    let t_floor = ((t - 2.0).max(0.0) * 256.0) as u32;
    for (y, row) in img.as_raw_mut().chunks_exact_mut(w * 4).enumerate() {
        let base = (y / cell) * gw;
        let fy = ((y as f32 + 0.5) * inv - 0.5).clamp(0.0, (gh - 1) as f32);
        for (x, (px, &cx)) in row.chunks_exact_mut(4).zip(&cols).enumerate() {
            // Integer luma (weights in 1/256) rejects most pixels before any float work.
            let l256 = 54 * px[0] as u32 + 183 * px[1] as u32 + 19 * px[2] as u32;
            if px[3] == 0 || l256 < t_floor || backdrop[base + cx] {
                continue;
            }
            let m = highlight_mask(px, t);
            if m <= 0.0 {
                continue;
            }
            let fx = ((x as f32 + 0.5) * inv - 0.5).clamp(0.0, (gw - 1) as f32);
            let d = bilinear(&chroma, gw, gh, fx, fy);
            let l = luma(px);
            let lk = t + knee * (1.0 - (-(l - t) / knee).exp());
            let a = m * strength * px[3] as f32 / 255.0;
            for c in 0..3 {
                let target = lk + CHROMA_RESTORE * d[c];
                let v = px[c] as f32;
                px[c] = (v + a * (target - v) + 0.5).clamp(0.0, 255.0) as u8;
            }
        }
    }
    Ok(())
}

#[inline]
fn luma(p: &[u8]) -> f32 {
    crate::raster::luma(p)
}

#[inline]
fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// How much a pixel is specular glare, 0..1; exactly 0 at or below luma `t`.
#[inline]
fn highlight_mask(px: &[u8], t: f32) -> f32 {
    let l = luma(px);
    if l <= t {
        return 0.0;
    }
    let max = px[0].max(px[1]).max(px[2]) as f32;
    let min = px[0].min(px[1]).min(px[2]) as f32;
    let sat = if max > 0.0 { (max - min) / max } else { 0.0 };
    smoothstep(t, t + 0.6 * (255.0 - t), l) * (1.0 - smoothstep(0.12, 0.35, sat))
}

/// Cells that belong to a white backdrop (see `apply`).
fn backdrop_cells(bright: &[u32], white: &[u32], count: &[u32], gw: usize, gh: usize) -> Vec<bool> {
    let n = gw * gh;
    let is_bright: Vec<bool> = (0..n).map(|i| bright[i] * 2 >= count[i].max(1)).collect();
    let is_white: Vec<bool> = (0..n)
        .map(|i| count[i] > 0 && white[i] == count[i])
        .collect();
    let mut backdrop = vec![false; n];
    let mut stack = Vec::new();

    // Mostly-highlight cells connected to the border.
    for i in 0..n {
        let (x, y) = (i % gw, i / gw);
        if (x == 0 || y == 0 || x == gw - 1 || y == gh - 1) && is_bright[i] {
            backdrop[i] = true;
            stack.push(i);
        }
    }
    flood(&mut backdrop, &mut stack, &is_bright, gw, gh, &mut |_| {});

    // Large pure-white regions anywhere.
    let mut seen = backdrop.clone();
    let min_cells = n.div_ceil(100);
    let mut region = Vec::new();
    for i in 0..n {
        if seen[i] || !is_white[i] {
            continue;
        }
        seen[i] = true;
        stack.push(i);
        region.clear();
        region.push(i);
        flood(&mut seen, &mut stack, &is_white, gw, gh, &mut |j| {
            region.push(j)
        });
        if region.len() >= min_cells {
            for &j in &region {
                backdrop[j] = true;
            }
        }
    }

    // Grow by one cell so partly covered cells at the backdrop's edge are left alone too.
    let mut grown = backdrop.clone();
    for i in (0..n).filter(|&i| backdrop[i]) {
        for j in neighbours(i, gw, gh) {
            grown[j] = true;
        }
    }
    grown
}

fn neighbours(i: usize, gw: usize, gh: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % gw, i / gw);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < gw).then(|| i + 1),
        (y > 0).then(|| i - gw),
        (y + 1 < gh).then(|| i + gw),
    ]
    .into_iter()
    .flatten()
}

/// 4-connected flood fill over `allowed` from the cells on `stack` (already marked).
fn flood(
    mark: &mut [bool],
    stack: &mut Vec<usize>,
    allowed: &[bool],
    gw: usize,
    gh: usize,
    on_add: &mut dyn FnMut(usize),
) {
    while let Some(i) = stack.pop() {
        for j in neighbours(i, gw, gh) {
            if allowed[j] && !mark[j] {
                mark[j] = true;
                on_add(j);
                stack.push(j);
            }
        }
    }
}

/// Per cell, the chroma (colour minus its luma) of the non-highlight surroundings: a normalised
/// box blur (radius 2, twice) of the weighted colour sums; cells still without surroundings (the
/// inside of a large highlight) are filled from coarser levels of a pyramid, then smoothed.
fn surround_chroma(rgb: Vec<[f32; 3]>, weight: Vec<f32>, gw: usize, gh: usize) -> Vec<[f32; 3]> {
    let mut planes: Vec<Vec<f32>> = (0..3)
        .map(|c| rgb.iter().map(|v| v[c]).collect())
        .chain(std::iter::once(weight))
        .collect();
    for plane in &mut planes {
        for _ in 0..2 {
            box_blur_f32(plane, gw, gh, 2);
        }
    }
    let mut known = vec![false; gw * gh];
    let mut chroma: Vec<[f32; 3]> = (0..gw * gh)
        .map(|i| {
            let wsum = planes[3][i];
            if wsum <= 1e-3 {
                return [0.0; 3];
            }
            known[i] = true;
            let c = [0, 1, 2].map(|k| planes[k][i] / wsum);
            let l = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
            c.map(|v| v - l)
        })
        .collect();
    if known.iter().all(|&k| k) {
        return chroma;
    }
    fill_holes(&mut chroma, &known, gw, gh);
    let mut planes: Vec<Vec<f32>> = (0..3)
        .map(|c| chroma.iter().map(|v| v[c]).collect())
        .collect();
    for plane in &mut planes {
        box_blur_f32(plane, gw, gh, 1);
    }
    (0..gw * gh)
        .map(|i| [0, 1, 2].map(|k| planes[k][i] / 9.0))
        .collect()
}

/// Fills unknown cells with the mean of the known cells of the nearest coarser pyramid level
/// that has any ("pull-push", Gortler et al., "The Lumigraph", 1996). Cells stay zero when
/// nothing is known at all.
fn fill_holes(v: &mut [[f32; 3]], known: &[bool], gw: usize, gh: usize) {
    if known.iter().all(|&k| k) || !known.iter().any(|&k| k) {
        return;
    }
    let (cw, ch) = (gw.div_ceil(2), gh.div_ceil(2));
    let mut coarse = vec![[0f32; 3]; cw * ch];
    let mut n = vec![0u32; cw * ch];
    for y in 0..gh {
        for x in 0..gw {
            let i = y * gw + x;
            if known[i] {
                let j = (y / 2) * cw + x / 2;
                for k in 0..3 {
                    coarse[j][k] += v[i][k];
                }
                n[j] += 1;
            }
        }
    }
    let coarse_known: Vec<bool> = n.iter().map(|&c| c > 0).collect();
    for (c, &k) in coarse.iter_mut().zip(&n) {
        if k > 0 {
            *c = c.map(|x| x / k as f32);
        }
    }
    fill_holes(&mut coarse, &coarse_known, cw, ch);
    for y in 0..gh {
        for x in 0..gw {
            let i = y * gw + x;
            if !known[i] {
                v[i] = coarse[(y / 2) * cw + x / 2];
            }
        }
    }
}

/// Separable box blur of a small plane, edges clamped (sums, not means, are what matter here).
fn box_blur_f32(plane: &mut [f32], w: usize, h: usize, r: usize) {
    let mut tmp = vec![0f32; plane.len()];
    let ri = r as isize;
    for y in 0..h {
        let row = &plane[y * w..(y + 1) * w];
        for x in 0..w {
            tmp[y * w + x] = (-ri..=ri)
                .map(|d| row[(x as isize + d).clamp(0, w as isize - 1) as usize])
                .sum();
        }
    }
    for y in 0..h {
        for x in 0..w {
            plane[y * w + x] = (-ri..=ri)
                .map(|d| tmp[(y as isize + d).clamp(0, h as isize - 1) as usize * w + x])
                .sum();
        }
    }
}

fn bilinear(grid: &[[f32; 3]], gw: usize, gh: usize, fx: f32, fy: f32) -> [f32; 3] {
    let (x0, y0) = (fx as usize, fy as usize);
    let (x1, y1) = ((x0 + 1).min(gw - 1), (y0 + 1).min(gh - 1));
    let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
    let g = |x: usize, y: usize| grid[y * gw + x];
    let (a, b, c, d) = (g(x0, y0), g(x1, y0), g(x0, y1), g(x1, y1));
    [0, 1, 2].map(|k| {
        let top = a[k] + (b[k] - a[k]) * ax;
        let bottom = c[k] + (d[k] - c[k]) * ax;
        top + (bottom - top) * ay
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey-blue product (mid-tones) with a white specular spot, on a pure white backdrop.
    fn product_with_spot() -> Raster {
        let mut img = Raster::new(200, 160, [255, 255, 255, 255]);
        for y in 30..130 {
            for x in 40..160 {
                img.put(x, y, [90, 110, 150, 255]);
            }
        }
        for y in 60..100 {
            for x in 80..120 {
                let d = (((x as f32 - 100.0).powi(2) + (y as f32 - 80.0).powi(2)).sqrt()) / 20.0;
                if d < 1.0 {
                    let k = 1.0 - d * d;
                    let mix = |a: u8| (a as f32 + (255.0 - a as f32) * k.sqrt()) as u8;
                    img.put(x, y, [mix(90), mix(110), mix(150), 255]);
                }
            }
        }
        img
    }

    fn max_luma(img: &Raster, x0: u32, y0: u32, x1: u32, y1: u32) -> f32 {
        let mut m = 0f32;
        for y in y0..y1 {
            for x in x0..x1 {
                m = m.max(luma(&img.get(x, y)));
            }
        }
        m
    }

    /// The spot's peak luma drops, mid-tones are untouched and the white backdrop stays 255.
    #[test]
    fn reduces_a_specular_spot_only() {
        let before = product_with_spot();
        let mut img = before.clone();
        apply(&mut img, &ReduceGlare::default()).unwrap();
        let (b, a) = (
            max_luma(&before, 80, 60, 120, 100),
            max_luma(&img, 80, 60, 120, 100),
        );
        assert!(b >= 254.0 && a < 240.0, "peak {b} -> {a}");
        for y in 0..160 {
            for x in 0..200 {
                let (p, q) = (before.get(x, y), img.get(x, y));
                if luma(&p) <= 0.86 * 255.0 {
                    assert_eq!(p, q, "mid-tone at {x},{y} changed");
                }
                if !(40..160).contains(&x) || !(30..130).contains(&y) {
                    assert_eq!(q, [255, 255, 255, 255], "backdrop at {x},{y}");
                }
            }
        }
        // The treated spot takes on some of the product's blue.
        let c = img.get(100, 80);
        assert!(c[2] > c[0], "{c:?}");
    }

    /// On a cut-out (transparent background), alpha-0 pixels are never changed, even when white.
    #[test]
    fn leaves_transparent_background_alone() {
        let mut before = product_with_spot();
        for p in before.pixels_mut() {
            if p[..3] == [255, 255, 255] {
                p[3] = 0;
            }
        }
        // The spot's centre is pure white too: give it back full alpha.
        before.put(100, 80, [255, 255, 255, 255]);
        let mut img = before.clone();
        apply(&mut img, &ReduceGlare::default()).unwrap();
        for (p, q) in before.pixels().zip(img.pixels()) {
            if p[3] == 0 {
                assert_eq!(p, q);
            }
        }
        assert!(luma(&img.get(100, 80)) < 245.0);
    }

    /// A white backdrop seen through a hole in the product (not touching the border) is kept.
    #[test]
    fn keeps_large_interior_white() {
        let mut img = Raster::new(200, 200, [255, 255, 255, 255]);
        for y in 20..180 {
            for x in 20..180 {
                let inside = (60..140).contains(&x) && (60..140).contains(&y);
                if !inside {
                    img.put(x, y, [120, 100, 60, 255]);
                }
            }
        }
        let before = img.clone();
        apply(&mut img, &ReduceGlare::default()).unwrap();
        assert_eq!(img, before);
    }

    /// Strength 0 is a no-op; validation names bad fields.
    #[test]
    fn strength_zero_and_validation() {
        let before = product_with_spot();
        let mut img = before.clone();
        let p = ReduceGlare {
            strength: 0.0,
            ..ReduceGlare::default()
        };
        apply(&mut img, &p).unwrap();
        assert_eq!(img, before);
        assert!(ReduceGlare::default().validate().is_empty());
        let bad = ReduceGlare {
            strength: 2.0,
            threshold: 0.1,
        };
        assert_eq!(bad.validate().len(), 2);
    }
}
