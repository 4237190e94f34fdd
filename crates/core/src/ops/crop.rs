//! `crop_to_subject`: frames the product so it fills a set share of the image.

use crate::error::{Error, Result};
use crate::ops::subject::{bounding_box, dist2, Backdrop, Proxy, PROXY_LONG_SIDE};
use crate::ops::{check_range, parse_hex_color, Problem};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the subject sits vertically when the frame is taller than the subject needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Center,
    /// On the floor: the gap below is the margin a frame-filling subject would have.
    Bottom,
    Top,
}

/// Parameters of `crop_to_subject`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CropToSubject {
    /// How much of the frame the subject fills, 0.2–1: the larger of subject width / frame
    /// width and subject height / frame height (so the subject's limiting side). Default 0.85:
    /// Amazon wants the product to fill at least 85 % of the image.
    pub fill: f32,
    /// Frame width / height, 0.2–5. Default 1 (square); `null` keeps the subject's proportions.
    pub aspect: Option<f32>,
    pub align: Align,
    /// Colour of the padding where the frame extends beyond the photo (`#RRGGBB`). `null`:
    /// transparent if the image has transparency, else the backdrop colour measured on the border.
    pub pad_color: Option<String>,
    /// Photos without transparency: how far (0–100) a colour may be from the backdrop and still
    /// count as backdrop; 100 is an RGB distance of 128.
    pub tolerance: f32,
}

impl Default for CropToSubject {
    fn default() -> Self {
        CropToSubject {
            fill: 0.85,
            aspect: Some(1.0),
            align: Align::Center,
            pad_color: None,
            tolerance: 12.0,
        }
    }
}

impl CropToSubject {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        check_range(&mut p, "fill", self.fill, 0.2, 1.0);
        if let Some(a) = self.aspect {
            check_range(&mut p, "aspect", a, 0.2, 5.0);
        }
        if let Some(c) = &self.pad_color {
            if parse_hex_color(c).is_none() {
                p.push(Problem::new(
                    "pad_color",
                    format!("must be a colour like \"#FFFFFF\" (got \"{c}\")"),
                ));
            }
        }
        check_range(&mut p, "tolerance", self.tolerance, 0.0, 100.0);
        p
    }
}

/// Largest frame this action will make, in pixels (the decoder's default limit).
const MAX_PIXELS: u64 = 100_000_000;

/// Runs `crop_to_subject` in place.
///
/// 1. The subject: pixels with alpha ≥ 128 if the image has transparency; otherwise pixels
///    further than the tolerance from the backdrop (the quadratic border model shared with
///    `remove_background`, so sweeps work), found on the proxy and refined at full size inside
///    it. Rows and columns with fewer than max(2, shorter side / 500) subject pixels are
///    ignored, so dust and specks do not widen the box.
/// 2. The frame: the limiting side of the subject becomes `fill` of the frame's side (rounded
///    to whole pixels, so within ±0.5 px), the other side follows from `aspect`; the subject is
///    centred horizontally and placed vertically by `align`.
/// 3. The frame takes the photo's own pixels where it overlaps the photo and `pad_color` (or
///    transparency / the measured backdrop) beyond it.
///
/// No subject: the image is left unchanged. Never produces an empty image.
pub fn apply(img: &mut Raster, p: &CropToSubject) -> Result<()> {
    if let Some(out) = cropped(img, p)? {
        *img = out;
    }
    Ok(())
}

/// [`apply`] without touching the input: the framed image, or `None` when there is nothing to
/// crop (no subject found, or an empty image). Lets a channel preset start from a shared photo
/// without copying it first.
pub fn cropped(img: &Raster, p: &CropToSubject) -> Result<Option<Raster>> {
    if img.is_empty() {
        return Ok(None);
    }
    let has_alpha = img.has_transparency();
    let Some((x0, y0, sw, sh)) = subject_box(img, has_alpha, p.tolerance) else {
        return Ok(None);
    };
    let (fw, fh) = frame_size(sw, sh, p.fill.clamp(0.2, 1.0), p.aspect);
    if fw as u64 * fh as u64 > MAX_PIXELS {
        return Err(Error::op(format!(
            "crop_to_subject: the framed image would be {fw}×{fh} px; raise `fill` or change `aspect`"
        )));
    }
    let left = (fw - sw) / 2;
    let slack = fh - sh;
    let margin = ((1.0 - p.fill) / 2.0 * fh as f32).round() as u32;
    let top = match p.align {
        Align::Center => slack / 2,
        Align::Top => margin.min(slack),
        Align::Bottom => slack - margin.min(slack),
    };
    let pad = match p.pad_color.as_deref().and_then(parse_hex_color) {
        Some(c) => c,
        None if has_alpha => [255, 255, 255, 0],
        None => border_colour(img),
    };
    let mut out = Raster::new(fw, fh, pad);
    out.paste(img, left as i64 - x0 as i64, top as i64 - y0 as i64);
    Ok(Some(out))
}

/// The frame for a `sw`×`sh` subject (see [`apply`], step 2). Both sides ≥ the subject's.
fn frame_size(sw: u32, sh: u32, fill: f32, aspect: Option<f32>) -> (u32, u32) {
    let a = aspect.unwrap_or(sw as f32 / sh as f32);
    let (w, h) = (sw as f32, sh as f32);
    // The exact frame first, rounded once, so both sides stay within half a pixel.
    let exact_w = (w / fill).max(a * h / fill);
    let (fw, fh) = (exact_w.round(), (exact_w / a).round());
    let cap = u32::MAX as f32;
    (
        (fw.min(cap) as u32).max(sw).max(1),
        (fh.min(cap) as u32).max(sh).max(1),
    )
}

/// The subject's bounding box (x, y, w, h), or `None`.
fn subject_box(img: &Raster, has_alpha: bool, tolerance: f32) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let min_count = ((w.min(h) / 500) as u32).max(2);
    let raw = img.as_raw();
    if has_alpha {
        return bounding_box(w, h, min_count, |x, y| raw[(y * w + x) * 4 + 3] >= 128);
    }
    let proxy = Proxy::new(img, PROXY_LONG_SIDE);
    let model = Backdrop::fit(&proxy, img.width(), img.height());
    let bcell = model.cells(&proxy);
    let t = (tolerance / 100.0 * 128.0).max(1.0);
    let t2 = t.max((3.0 * model.noise).min(2.0 * t)).powi(2);
    let (pw, k) = (proxy.w, proxy.k as usize);
    let (cx, cy, cw, ch) = bounding_box(pw, proxy.h, 1, |x, y| {
        dist2(proxy.rgb[y * pw + x], bcell[y * pw + x]) > t2
    })?;
    // Refine at full size inside the proxy's box grown by a cell.
    let rx0 = (cx as usize).saturating_sub(1) * k;
    let ry0 = (cy as usize).saturating_sub(1) * k;
    let rx1 = ((cx + cw + 1) as usize * k).min(w);
    let ry1 = ((cy + ch + 1) as usize * k).min(h);
    let (bx, by, bw, bh) = bounding_box(rx1 - rx0, ry1 - ry0, min_count, |x, y| {
        let (x, y) = (x + rx0, y + ry0);
        let i = (y * w + x) * 4;
        let px = [raw[i] as f32, raw[i + 1] as f32, raw[i + 2] as f32];
        dist2(px, bcell[(y / k) * pw + x / k]) > t2
    })?;
    Some((bx + rx0 as u32, by + ry0 as u32, bw, bh))
}

/// Per-channel median of the outermost pixels.
fn border_colour(img: &Raster) -> [u8; 4] {
    let (w, h) = img.dimensions();
    let mut ch: [Vec<u8>; 3] = Default::default();
    let mut push = |p: [u8; 4]| {
        for c in 0..3 {
            ch[c].push(p[c]);
        }
    };
    for x in 0..w {
        push(img.get(x, 0));
        push(img.get(x, h - 1));
    }
    for y in 0..h {
        push(img.get(0, y));
        push(img.get(w - 1, y));
    }
    let mut out = [0, 0, 0, 255];
    for c in 0..3 {
        let v = &mut ch[c];
        let mid = v.len() / 2;
        out[c] = *v.select_nth_unstable(mid).1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::subject::testutil::{self, Spec};
    use proptest::prelude::*;

    fn boxed(w: u32, h: u32, b: (u32, u32, u32, u32)) -> Raster {
        let mut img = Raster::new(w, h, [0, 0, 0, 0]);
        for y in b.1..b.1 + b.3 {
            for x in b.0..b.0 + b.2 {
                img.put(x, y, [200, 10, 10, 255]);
            }
        }
        img
    }

    fn opaque_box(img: &Raster) -> (u32, u32, u32, u32) {
        let w = img.width() as usize;
        let raw = img.as_raw();
        bounding_box(w, img.height() as usize, 1, |x, y| {
            raw[(y * w + x) * 4 + 3] >= 128
        })
        .unwrap()
    }

    proptest! {
        /// For random boxes, fills, aspects and alignments: the subject is intact, its limiting
        /// side is `fill` of the frame within ±1 px, the aspect is honoured, the image is not empty.
        #[test]
        fn fill_and_aspect_hold(
            w in 20u32..300, h in 20u32..300,
            bx in 0.0f32..1.0, by in 0.0f32..1.0, bw in 0.02f32..1.0, bh in 0.02f32..1.0,
            fill in 0.3f32..=1.0, aspect in prop::option::of(0.3f32..3.0), align in 0u8..3,
        ) {
            let sw = ((bw * w as f32) as u32).max(3);
            let sh = ((bh * h as f32) as u32).max(3);
            let x0 = ((w - sw) as f32 * bx) as u32;
            let y0 = ((h - sh) as f32 * by) as u32;
            let mut img = boxed(w, h, (x0, y0, sw, sh));
            let p = CropToSubject {
                fill,
                aspect,
                align: [Align::Center, Align::Top, Align::Bottom][align as usize],
                ..Default::default()
            };
            apply(&mut img, &p).unwrap();
            let (fw, fh) = img.dimensions();
            prop_assert!(fw > 0 && fh > 0);
            let (ox, oy, ow, oh) = opaque_box(&img);
            prop_assert_eq!((ow, oh), (sw, sh));
            let (ew, eh) = (fill * fw as f32, fill * fh as f32);
            prop_assert!(sw as f32 <= ew + 1.0 && sh as f32 <= eh + 1.0, "{}×{} in {}×{}", sw, sh, fw, fh);
            prop_assert!((sw as f32 - ew).abs() <= 1.0 || (sh as f32 - eh).abs() <= 1.0,
                "{}×{} in {}×{} fill {}", sw, sh, fw, fh, fill);
            let a = aspect.unwrap_or(sw as f32 / sh as f32);
            prop_assert!((fw as f32 - a * fh as f32).abs() <= 1.0 + a, "aspect {} vs {}×{}", a, fw, fh);
            prop_assert!((ox as i64 - (fw - ox - ow) as i64).abs() <= 1, "centred horizontally");
            if p.align == Align::Center {
                prop_assert!((oy as i64 - (fh - oy - oh) as i64).abs() <= 1);
            }
        }
    }

    /// `bottom` puts the subject on the floor of a frame that is taller than it needs.
    #[test]
    fn align_bottom() {
        let mut img = boxed(200, 100, (20, 40, 160, 20));
        apply(
            &mut img,
            &CropToSubject {
                align: Align::Bottom,
                ..Default::default()
            },
        )
        .unwrap();
        let (fw, fh) = img.dimensions();
        assert_eq!((fw, fh), (188, 188));
        let (_, oy, _, oh) = opaque_box(&img);
        let below = fh - oy - oh;
        assert_eq!(below, 14, "gap below = (1 − 0.85) / 2 × 188");
    }

    /// Without transparency, the box comes from the backdrop (even a sweep) and the padding
    /// is the backdrop's colour.
    #[test]
    fn opaque_photo_on_a_sweep() {
        let scene = testutil::render(&Spec {
            backdrop: testutil::Backdrop::Vertical([240, 240, 244], [180, 182, 190]),
            shadow: 0.0,
            ..Default::default()
        });
        let w = 480usize;
        let truth = bounding_box(w, 360, 1, |x, y| scene.mask[y * w + x] >= 128).unwrap();
        let mut img = scene.img.clone();
        let got = subject_box(&img, false, 12.0).unwrap();
        for (a, b) in [
            (got.0, truth.0),
            (got.1, truth.1),
            (got.2, truth.2),
            (got.3, truth.3),
        ] {
            assert!((a as i64 - b as i64).abs() <= 2, "{got:?} vs {truth:?}");
        }
        apply(&mut img, &CropToSubject::default()).unwrap();
        let (fw, fh) = img.dimensions();
        assert_eq!(fw, fh);
        assert!((truth.3 as f32 / fh as f32 - 0.85).abs() < 0.02);
    }

    /// Nothing to frame: the image is unchanged.
    #[test]
    fn no_subject_leaves_the_image() {
        let mut img = Raster::new(40, 30, [0, 0, 0, 0]);
        img.put(3, 3, [255, 0, 0, 255]);
        let before = img.clone();
        apply(&mut img, &CropToSubject::default()).unwrap();
        assert_eq!(img, before);
        let mut plain = Raster::new(40, 30, [250, 250, 250, 255]);
        let before = plain.clone();
        apply(&mut plain, &CropToSubject::default()).unwrap();
        assert_eq!(plain, before);
    }

    /// Padding beyond the photo uses `pad_color` when given.
    #[test]
    fn pad_colour() {
        let mut img = boxed(100, 100, (10, 10, 80, 80));
        apply(
            &mut img,
            &CropToSubject {
                fill: 0.5,
                pad_color: Some("#00FF00".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(img.dimensions(), (160, 160));
        assert_eq!(img.get(0, 0), [0, 255, 0, 255]);
        assert_eq!(img.get(35, 35), [0, 0, 0, 0], "the photo's own pixels");
        assert_eq!(img.get(80, 80), [200, 10, 10, 255]);
    }

    #[test]
    fn validation() {
        assert!(CropToSubject::default().validate().is_empty());
        let p = CropToSubject {
            fill: 1.5,
            aspect: Some(0.0),
            pad_color: Some("nope".into()),
            ..Default::default()
        };
        assert_eq!(p.validate().len(), 3);
    }
}
