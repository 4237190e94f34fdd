//! `shadow`: casts a soft shadow from the subject's alpha mask into the transparent area around it.

use crate::error::{Error, Result};
use crate::ops::subject::{gaussian_blur, to_u8};
use crate::ops::{check_range, parse_hex_color, Problem};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kind of shadow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShadowKind {
    /// A flat, soft shadow where the product stands: its silhouette squashed to a thin band
    /// under its base.
    #[default]
    Contact,
    /// The whole silhouette, offset and blurred, as if lit from the front-left.
    Drop,
}

/// Parameters of `shadow`. Lengths are percentages of the image's shorter side, so one workflow
/// gives the same look on photos of any resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Shadow {
    pub kind: ShadowKind,
    /// Darkness of the shadow's core, 0–1.
    pub opacity: f32,
    /// Softness: the blur's σ in percent of the shorter side (0–20). 0 = hard edge.
    pub blur: f32,
    /// Horizontal offset in percent of the shorter side (−50–50), positive to the right.
    /// Default: 0 for `contact`, 1.5 for `drop`.
    pub offset_x: Option<f32>,
    /// Vertical offset in percent of the shorter side (−50–50), positive downwards.
    /// Default: 0.3 for `contact`, 2 for `drop`.
    pub offset_y: Option<f32>,
    /// The shadow's colour, `#RRGGBB`.
    pub color: String,
}

impl Default for Shadow {
    fn default() -> Self {
        Shadow {
            kind: ShadowKind::Contact,
            opacity: 0.5,
            blur: 1.5,
            offset_x: None,
            offset_y: None,
            color: "#000000".to_string(),
        }
    }
}

impl Shadow {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        check_range(&mut p, "opacity", self.opacity, 0.0, 1.0);
        check_range(&mut p, "blur", self.blur, 0.0, 20.0);
        if let Some(x) = self.offset_x {
            check_range(&mut p, "offset_x", x, -50.0, 50.0);
        }
        if let Some(y) = self.offset_y {
            check_range(&mut p, "offset_y", y, -50.0, 50.0);
        }
        if !matches!(parse_hex_color(&self.color), Some([_, _, _, 255])) {
            p.push(Problem::new(
                "color",
                format!("must be a colour like \"#000000\" (got \"{}\")", self.color),
            ));
        }
        p
    }

    fn offsets(&self) -> (f32, f32) {
        let (dx, dy) = match self.kind {
            ShadowKind::Contact => (0.0, 0.3),
            ShadowKind::Drop => (1.5, 2.0),
        };
        (self.offset_x.unwrap_or(dx), self.offset_y.unwrap_or(dy))
    }
}

/// Runs `shadow` in place.
///
/// 1. Works on a grid `f` times coarser than the photo, f = max(1, σ/2) (a blurred shadow has
///    no detail finer than σ), holding the mean alpha of each block.
/// 2. Shadow mask: `drop` shifts the silhouette by the offset; `contact` squashes the
///    silhouette's rows into a band 12 % of the subject's height centred on its base (each band
///    row takes the maximum of the rows it covers), shifted by the offset.
/// 3. Blur: three box passes per axis (≈ Gaussian, O(pixels) whatever the radius).
/// 4. Kept inside the frame: the offset is reduced so that the shadow plus 2.5σ fits where it
///    can, and the shadow fades to zero over 2.5σ towards the frame's edges, so it is never cut
///    hard and the outermost pixels stay untouched.
/// 5. Composited under the subject with straight alpha: a' = a + s·(1 − a),
///    colour = (a·F + s·(1 − a)·C) / a'. Opaque pixels are unchanged.
///
/// Fails on a fully opaque photo: there is nowhere for a shadow to go.
pub fn apply(img: &mut Raster, p: &Shadow) -> Result<()> {
    if !img.has_transparency() {
        return Err(Error::op(
            "shadow needs a transparent background around the product: \
             add remove_background before shadow",
        ));
    }
    let color = match parse_hex_color(&p.color) {
        Some([r, g, b, 255]) => [r, g, b],
        _ => {
            return Err(Error::op(format!(
                "shadow: \"{}\" is not a colour",
                p.color
            )))
        }
    };
    let (w, h) = (img.width() as usize, img.height() as usize);
    let unit = w.min(h) as f32 / 100.0;
    let sigma = p.blur * unit;
    let f = ((sigma / 2.0).floor() as usize).clamp(1, w.min(h).max(1));
    let (lw, lh) = (w.div_ceil(f), h.div_ceil(f));
    let alpha = block_alpha(img, f, lw, lh);
    let Some((x0, y0, x1, y1)) = bbox(&alpha, lw, lh) else {
        return Err(Error::op(
            "shadow: the image is fully transparent, there is no product to cast a shadow",
        ));
    };
    let sig_l = sigma / f as f32;
    let margin = (2.5 * sig_l).ceil() as isize;
    let (ox, oy) = p.offsets();
    let (mut dx, mut dy) = (
        (ox * unit / f as f32).round() as isize,
        (oy * unit / f as f32).round() as isize,
    );
    let (x0, y0, x1, y1) = (x0 as isize, y0 as isize, x1 as isize, y1 as isize);
    let (lwi, lhi) = (lw as isize, lh as isize);

    let mut plane = vec![0f32; lw * lh];
    match p.kind {
        ShadowKind::Drop => {
            dx = clamp_shift(dx, x0, x1, lwi, margin);
            dy = clamp_shift(dy, y0, y1, lhi, margin);
            for y in y0..=y1 {
                let ty = y + dy;
                if ty < 0 || ty >= lhi {
                    continue;
                }
                for x in x0..=x1 {
                    let tx = x + dx;
                    if tx >= 0 && tx < lwi {
                        plane[ty as usize * lw + tx as usize] = alpha[y as usize * lw + x as usize];
                    }
                }
            }
        }
        ShadowKind::Contact => {
            let sh = y1 - y0 + 1;
            let band = ((sh as f32 * 0.12).round() as isize).max(1);
            let top = y1 - band / 2;
            dx = clamp_shift(dx, x0, x1, lwi, margin);
            dy = clamp_shift(dy, top, top + band - 1, lhi, margin);
            for v in 0..band {
                let ty = top + v + dy;
                if ty < 0 || ty >= lhi {
                    continue;
                }
                let s0 = y0 + v * sh / band;
                let s1 = (y0 + (v + 1) * sh / band).max(s0 + 1).min(y1 + 1);
                let dst = ty as usize * lw;
                for sy in s0..s1 {
                    let src = sy as usize * lw;
                    for x in x0..=x1 {
                        let tx = x + dx;
                        if tx >= 0 && tx < lwi {
                            let d = &mut plane[dst + tx as usize];
                            *d = d.max(alpha[src + x as usize]);
                        }
                    }
                }
            }
        }
    }
    let mut tmp = Vec::new();
    gaussian_blur(&mut plane, lw, lh, sig_l, &mut tmp);
    let fade = margin.max(1) as f32;
    for (i, s) in plane.iter_mut().enumerate() {
        let (x, y) = ((i % lw) as f32, (i / lw) as f32);
        let edge = x.min(y).min(lw as f32 - 1.0 - x).min(lh as f32 - 1.0 - y);
        *s *= p.opacity * (edge / fade).clamp(0.0, 1.0);
    }
    composite(img, &plane, f, lw, lh, color);
    Ok(())
}

/// Shift so that [lo, hi] + shift keeps `margin` cells from both ends of 0..n where possible
/// (never moving the shadow further than asked, nor the other way).
fn clamp_shift(shift: isize, lo: isize, hi: isize, n: isize, margin: isize) -> isize {
    let max_pos = (n - 1 - margin - hi).max(0);
    let max_neg = (lo - margin).max(0);
    shift.clamp(-max_neg, max_pos)
}

/// Mean alpha (0–1) of each f×f block.
fn block_alpha(img: &Raster, f: usize, lw: usize, lh: usize) -> Vec<f32> {
    let w = img.width() as usize;
    let mut sums = vec![(0u32, 0u32); lw * lh];
    for (y, row) in img.as_raw().chunks_exact(w * 4).enumerate() {
        let cells = &mut sums[(y / f) * lw..(y / f + 1) * lw];
        for (cell, chunk) in cells.iter_mut().zip(row.chunks(4 * f)) {
            for px in chunk.chunks_exact(4) {
                cell.0 += px[3] as u32;
            }
            cell.1 += (chunk.len() / 4) as u32;
        }
    }
    sums.iter()
        .map(|&(s, n)| s as f32 / (255.0 * n.max(1) as f32))
        .collect()
}

/// Bounding box (inclusive) of blocks that are at least a quarter opaque.
fn bbox(alpha: &[f32], lw: usize, lh: usize) -> Option<(usize, usize, usize, usize)> {
    let mut b: Option<(usize, usize, usize, usize)> = None;
    for y in 0..lh {
        for x in 0..lw {
            if alpha[y * lw + x] >= 0.25 {
                b = Some(match b {
                    None => (x, y, x, y),
                    Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
                });
            }
        }
    }
    b
}

/// Puts the shadow plane (bilinearly upsampled) under the image's non-opaque pixels.
fn composite(img: &mut Raster, plane: &[f32], f: usize, lw: usize, lh: usize, color: [u8; 3]) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    // Only the rows and columns that the shadow reaches.
    let Some((bx0, by0, bx1, by1)) = plane
        .iter()
        .enumerate()
        .filter(|(_, &s)| s > 1.0 / 1024.0)
        .fold(None, |b: Option<(usize, usize, usize, usize)>, (i, _)| {
            let (x, y) = (i % lw, i / lw);
            Some(match b {
                None => (x, y, x, y),
                Some((a, c, d, e)) => (a.min(x), c.min(y), d.max(x), e.max(y)),
            })
        })
    else {
        return;
    };
    let px0 = bx0.saturating_sub(1) * f;
    let py0 = by0.saturating_sub(1) * f;
    let px1 = ((bx1 + 2) * f).min(w);
    let py1 = ((by1 + 2) * f).min(h);
    let inv = 1.0 / f as f32;
    let sample = |x: usize, y: usize| -> f32 {
        let u = ((x as f32 + 0.5) * inv - 0.5).clamp(0.0, (lw - 1) as f32);
        let v = ((y as f32 + 0.5) * inv - 0.5).clamp(0.0, (lh - 1) as f32);
        let (iu, iv) = (u as usize, v as usize);
        let (fu, fv) = (u - iu as f32, v - iv as f32);
        let (iu1, iv1) = ((iu + 1).min(lw - 1), (iv + 1).min(lh - 1));
        let top = plane[iv * lw + iu] * (1.0 - fu) + plane[iv * lw + iu1] * fu;
        let bot = plane[iv1 * lw + iu] * (1.0 - fu) + plane[iv1 * lw + iu1] * fu;
        top * (1.0 - fv) + bot * fv
    };
    let col = color.map(|c| c as f32);
    let raw = img.as_raw_mut();
    for y in py0..py1 {
        for x in px0..px1 {
            let i = (y * w + x) * 4;
            let a = raw[i + 3];
            if a == 255 {
                continue;
            }
            let s = sample(x, y);
            if s <= 0.5 / 255.0 {
                continue;
            }
            let a = a as f32 / 255.0;
            let sa = s * (1.0 - a);
            let out = a + sa;
            for c in 0..3 {
                let v = (a * raw[i + c] as f32 + sa * col[c]) / out;
                raw[i + c] = to_u8(v);
            }
            raw[i + 3] = to_u8(out * 255.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 300×200 transparent image with an opaque blue disk of radius 40 at (cx, cy).
    fn disk(cx: f32, cy: f32) -> Raster {
        let mut img = Raster::new(300, 200, [255, 255, 255, 0]);
        for y in 0..200 {
            for x in 0..300 {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                if d <= 40.0 {
                    img.put(x, y, [20, 40, 200, 255]);
                }
            }
        }
        img
    }

    /// A fully opaque photo is refused with a hint to cut the background out first.
    #[test]
    fn opaque_image_is_refused() {
        let mut img = Raster::new(10, 10, [1, 2, 3, 255]);
        let e = apply(&mut img, &Shadow::default()).unwrap_err();
        assert!(e.to_string().contains("remove_background"), "{e}");
    }

    /// A contact shadow lies under the base, not above the product, and leaves the product alone.
    #[test]
    fn contact_shadow_is_under_the_base() {
        let before = disk(150.0, 90.0);
        let mut img = before.clone();
        apply(&mut img, &Shadow::default()).unwrap();
        let below = img.get(150, 133);
        assert!(below[3] > 40, "{below:?}");
        assert_eq!(&below[..3], &[0, 0, 0]);
        assert_eq!(img.get(150, 40)[3], 0, "nothing above the product");
        assert_eq!(img.get(60, 90)[3], 0, "nothing far to the side");
        for (a, b) in before.pixels().zip(img.pixels()) {
            if a[3] == 255 {
                assert_eq!(a, b);
            }
        }
    }

    /// A drop shadow goes where the offset points, in the chosen colour.
    #[test]
    fn drop_shadow_follows_the_offset() {
        let mut img = disk(120.0, 90.0);
        let p = Shadow {
            kind: ShadowKind::Drop,
            offset_x: Some(10.0),
            offset_y: Some(5.0),
            opacity: 0.6,
            color: "#402000".into(),
            ..Default::default()
        };
        apply(&mut img, &p).unwrap();
        let right = img.get(172, 100);
        assert!(right[3] > 80, "{right:?}");
        assert_eq!(&right[..3], &[0x40, 0x20, 0]);
        assert!(img.get(75, 80)[3] < 10);
    }

    /// A shadow pushed towards the frame fades before the edge: the outermost pixels are
    /// untouched and there is no hard cut.
    #[test]
    fn shadow_stays_inside_the_frame() {
        let mut img = disk(150.0, 150.0);
        let p = Shadow {
            kind: ShadowKind::Drop,
            offset_y: Some(30.0),
            ..Default::default()
        };
        apply(&mut img, &p).unwrap();
        for x in 0..300 {
            assert_eq!(img.get(x, 199)[3], 0);
            assert!(img.get(x, 197)[3] < 40);
        }
        assert!(img.get(150, 192)[3] > 30, "the shadow is still there");
    }

    /// Large photos stay cheap: the shadow is computed on a coarse grid.
    #[test]
    fn coarse_grid_for_wide_blur() {
        let mut img = Raster::new(2000, 1500, [0, 0, 0, 0]);
        for y in 400..1000 {
            for x in 700..1300 {
                img.put(x, y, [200, 0, 0, 255]);
            }
        }
        let t = crate::time::Instant::now();
        apply(
            &mut img,
            &Shadow {
                blur: 3.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(img.get(1000, 1030)[3] > 20);
        assert!(t.elapsed().as_secs_f32() < 2.0);
    }

    #[test]
    fn validation() {
        assert!(Shadow::default().validate().is_empty());
        let p = Shadow {
            opacity: 2.0,
            offset_x: Some(99.0),
            color: "black".into(),
            ..Default::default()
        };
        assert_eq!(p.validate().len(), 3);
    }
}
