//! `resize`: scale the photo to a width and/or height, fitting it one of four ways.

use crate::error::{Error, Result};
use crate::ops::Problem;
use crate::raster::Raster;
use fast_image_resize as fr;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Largest side `resize` accepts, in pixels (Amazon's own ceiling is 10,000 px).
pub const MAX_SIDE: u32 = 10_000;

/// How the photo fits a width × height box when both are given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fit {
    /// The whole photo fits inside the box, keeping its shape; one side may come out shorter.
    #[default]
    Contain,
    /// The photo fills the box, keeping its shape; what sticks out is cut off evenly.
    Cover,
    /// The photo is stretched to exactly the box (may distort).
    Fill,
    /// Like contain, then centred on a canvas of exactly the box in the `background` colour.
    Pad,
}

/// Parameters of `resize`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Resize {
    /// Width in pixels (1–10000). Empty: follows from `height`, keeping the photo's shape.
    pub width: Option<u32>,
    /// Height in pixels (1–10000). Empty: follows from `width`, keeping the photo's shape.
    pub height: Option<u32>,
    /// How the photo fits when both width and height are given.
    pub fit: Fit,
    /// Canvas colour for `pad`: `#RRGGBB` (default white) or `transparent`.
    pub background: String,
    /// Whether smaller photos are enlarged. When false they keep their size (`pad` still gives
    /// the exact canvas, with more border).
    pub upscale: bool,
}

impl Default for Resize {
    fn default() -> Self {
        Resize {
            width: Some(2000),
            height: Some(2000),
            fit: Fit::Contain,
            background: "#FFFFFF".into(),
            upscale: true,
        }
    }
}

impl Resize {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        if self.width.is_none() && self.height.is_none() {
            p.push(Problem::new(
                "width",
                "give a width, a height or both (in pixels)",
            ));
        }
        for (field, v) in [("width", self.width), ("height", self.height)] {
            if let Some(v) = v {
                if !(1..=MAX_SIDE).contains(&v) {
                    p.push(Problem::new(
                        field,
                        format!("must be between 1 and {MAX_SIDE} pixels (got {v})"),
                    ));
                }
            }
        }
        if background_rgba(&self.background).is_none() {
            p.push(Problem::new(
                "background",
                format!(
                    "`{}` is not a colour; use #RRGGBB or transparent",
                    self.background
                ),
            ));
        }
        p
    }
}

fn background_rgba(s: &str) -> Option<[u8; 4]> {
    if s.trim().eq_ignore_ascii_case("transparent") {
        Some([0, 0, 0, 0])
    } else {
        crate::ops::parse_hex_color(s)
    }
}

/// What a resize produces: the scaled picture's size, the canvas it sits on (equal unless
/// padding) and whether the source is centre-cropped to the picture's shape first (cover).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub content: (u32, u32),
    pub canvas: (u32, u32),
    pub crop: bool,
}

/// The sizes a resize of a `sw`×`sh` photo will produce (pure arithmetic, no pixels). A side
/// derived from the other may exceed [`MAX_SIDE`]; [`apply`] refuses that.
pub fn plan(sw: u32, sh: u32, p: &Resize) -> Plan {
    let (swf, shf) = (sw.max(1) as f64, sh.max(1) as f64);
    let side = |v: f64, max: u32| (v.round().min(u32::MAX as f64) as u32).clamp(1, max.max(1));
    let cap = |s: f64| if p.upscale { s } else { s.min(1.0) };
    let same = |c: (u32, u32)| Plan {
        content: c,
        canvas: c,
        crop: false,
    };
    match (p.width, p.height) {
        (None, None) => same((sw, sh)),
        (Some(w), None) => {
            let s = cap(w as f64 / swf);
            same((side(swf * s, u32::MAX), side(shf * s, u32::MAX)))
        }
        (None, Some(h)) => {
            let s = cap(h as f64 / shf);
            same((side(swf * s, u32::MAX), side(shf * s, u32::MAX)))
        }
        (Some(w), Some(h)) => {
            let (sx, sy) = (w as f64 / swf, h as f64 / shf);
            match p.fit {
                Fit::Contain | Fit::Pad => {
                    let s = cap(sx.min(sy));
                    // The limiting side is set exactly, so rounding never overshoots the box.
                    let content = if !p.upscale && s >= 1.0 {
                        (sw.min(w), sh.min(h))
                    } else if sx <= sy {
                        (w, side(shf * s, h))
                    } else {
                        (side(swf * s, w), h)
                    };
                    Plan {
                        content,
                        canvas: if p.fit == Fit::Pad { (w, h) } else { content },
                        crop: false,
                    }
                }
                Fit::Cover => {
                    let s = cap(sx.max(sy));
                    let c = (side(swf * s, w), side(shf * s, h));
                    Plan {
                        content: c,
                        canvas: c,
                        crop: true,
                    }
                }
                Fit::Fill => same(if p.upscale {
                    (w, h)
                } else {
                    (w.min(sw), h.min(sh))
                }),
            }
        }
    }
}

thread_local! {
    // fast_image_resize keeps its scratch buffers in the Resizer: one per thread, reused.
    static RESIZER: std::cell::RefCell<fr::Resizer> = std::cell::RefCell::new(fr::Resizer::new());
}

/// Resamples `img` to `w`×`h` with Lanczos3 (fast_image_resize's separable convolution, filter
/// support 3 source pixels scaled by the reduction factor). With `crop`, the source is first cut
/// to the target's shape around its centre. Transparent images are premultiplied by alpha before
/// filtering and divided after (fast_image_resize's MulDiv), so colour from invisible pixels
/// cannot bleed in as dark fringes.
pub fn resample(img: &Raster, w: u32, h: u32, crop: bool) -> Result<Raster> {
    if img.is_empty() {
        return Err(Error::op("resize: the image is empty"));
    }
    if (w, h) == img.dimensions() && !crop {
        return Ok(img.clone());
    }
    let src =
        fr::images::ImageRef::new(img.width(), img.height(), img.as_raw(), fr::PixelType::U8x4)
            .map_err(|e| Error::op(format!("resize: {e}")))?;
    let mut dst = fr::images::Image::new(w, h, fr::PixelType::U8x4);
    let mut options = fr::ResizeOptions::new()
        .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3))
        .use_alpha(img.has_transparency());
    if crop {
        options = options.fit_into_destination(Some((0.5, 0.5)));
    }
    let result = RESIZER.with(|r| match r.try_borrow_mut() {
        Ok(mut r) => r.resize(&src, &mut dst, &options),
        Err(_) => fr::Resizer::new().resize(&src, &mut dst, &options),
    });
    result.map_err(|e| Error::op(format!("resize failed: {e}")))?;
    Raster::from_rgba(w, h, dst.into_vec())
}

/// Runs `resize` in place: [`plan`] gives the sizes, [`resample`] scales (Lanczos3, alpha
/// premultiplied), and `pad` centres the result on a canvas of the background colour (the border
/// is the exact colour: it is filled, never filtered).
pub fn apply(img: &mut Raster, p: &Resize) -> Result<()> {
    if let Some(problem) = p.validate().first() {
        return Err(Error::op(format!(
            "resize: {}: {}",
            problem.field, problem.message
        )));
    }
    let plan = plan(img.width(), img.height(), p);
    let (cw, ch) = plan.canvas;
    if cw > MAX_SIDE || ch > MAX_SIDE {
        return Err(Error::op(format!(
            "resize: keeping the photo's shape gives {cw}×{ch}, over the {MAX_SIDE}-pixel limit; \
             give both width and height"
        )));
    }
    let scaled = if plan.content == img.dimensions() && !plan.crop {
        None
    } else {
        Some(resample(img, plan.content.0, plan.content.1, plan.crop)?)
    };
    if plan.canvas == plan.content {
        if let Some(s) = scaled {
            *img = s;
        }
        return Ok(());
    }
    let bg = background_rgba(&p.background).unwrap_or([255; 4]);
    let mut canvas = Raster::new(plan.canvas.0, plan.canvas.1, bg);
    let content = scaled.as_ref().unwrap_or(img);
    let x = (plan.canvas.0 - plan.content.0) / 2;
    let y = (plan.canvas.1 - plan.content.1) / 2;
    canvas.paste(content, x as i64, y as i64);
    *img = canvas;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(w: Option<u32>, h: Option<u32>, fit: Fit, upscale: bool) -> Resize {
        Resize {
            width: w,
            height: h,
            fit,
            upscale,
            ..Resize::default()
        }
    }

    fn fits() -> impl Strategy<Value = Fit> {
        prop_oneof![
            Just(Fit::Contain),
            Just(Fit::Cover),
            Just(Fit::Fill),
            Just(Fit::Pad)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Output sizes for every fit mode on random photo and box sizes: cover, fill and pad are
        /// exactly the box; contain fits inside, touches one side and keeps the shape.
        #[test]
        fn output_sizes(sw in 1u32..160, sh in 1u32..160, w in 1u32..160, h in 1u32..160, fit in fits()) {
            let mut img = Raster::new(sw, sh, [10, 200, 30, 255]);
            apply(&mut img, &params(Some(w), Some(h), fit, true)).unwrap();
            let (ow, oh) = img.dimensions();
            match fit {
                Fit::Cover | Fit::Fill | Fit::Pad => prop_assert_eq!((ow, oh), (w, h)),
                Fit::Contain => {
                    prop_assert!(ow <= w && oh <= h);
                    prop_assert!(ow == w || oh == h);
                    // Shape kept within rounding on the derived side (unless clamped to 1 px).
                    if ow == 1 || oh == 1 {
                        return Ok(());
                    }
                    let want = sw as f64 / sh as f64;
                    let lo = (ow as f64 - 0.5).max(0.5) / (oh as f64 + 0.5);
                    let hi = (ow as f64 + 0.5) / (oh as f64 - 0.5).max(0.5);
                    prop_assert!(want >= lo - 1e-9 && want <= hi + 1e-9, "{}x{} -> {}x{}", sw, sh, ow, oh);
                }
            }
        }

        /// One side given: that side is exact and the other follows the shape.
        #[test]
        fn one_side(sw in 1u32..400, sh in 1u32..400, t in 1u32..400) {
            let p = plan(sw, sh, &params(Some(t), None, Fit::Contain, true));
            prop_assert_eq!(p.canvas.0, t);
            let want = sh as f64 * t as f64 / sw as f64;
            prop_assert!((p.canvas.1 as f64 - want).abs() <= 0.5 + 1e-9 || p.canvas.1 == 1);
            let p = plan(sw, sh, &params(None, Some(t), Fit::Contain, true));
            prop_assert_eq!(p.canvas.1, t);
        }

        /// Without upscaling nothing grows, except pad's canvas, which stays exact.
        #[test]
        fn no_upscale(sw in 1u32..300, sh in 1u32..300, w in 1u32..300, h in 1u32..300, fit in fits()) {
            let p = plan(sw, sh, &params(Some(w), Some(h), fit, false));
            prop_assert!(p.content.0 <= sw.max(1) && p.content.1 <= sh.max(1));
            prop_assert!(p.content.0 <= w && p.content.1 <= h);
            if fit == Fit::Pad {
                prop_assert_eq!(p.canvas, (w, h));
            }
        }
    }

    /// Pad's border is exactly the pad colour, and the photo sits centred on it.
    #[test]
    fn pad_border_is_exactly_the_colour() {
        let mut img = Raster::new(100, 50, [200, 10, 10, 255]);
        let p = Resize {
            width: Some(80),
            height: Some(80),
            fit: Fit::Pad,
            background: "#00FF00".into(),
            upscale: true,
        };
        apply(&mut img, &p).unwrap();
        assert_eq!(img.dimensions(), (80, 80));
        // Content is 80×40, centred: rows 0..20 and 60..80 are border.
        for y in (0..20).chain(60..80) {
            for x in 0..80 {
                assert_eq!(img.get(x, y), [0, 255, 0, 255], "({x},{y})");
            }
        }
        let c = img.get(40, 40);
        assert!(c[0] > 190 && c[1] < 20, "{c:?}");

        let mut img = Raster::new(100, 50, [200, 10, 10, 255]);
        let t = Resize {
            background: "transparent".into(),
            ..p
        };
        apply(&mut img, &t).unwrap();
        assert_eq!(img.get(0, 0), [0, 0, 0, 0]);
    }

    /// A white subject on a transparent background whose hidden colour is black: after a 3×
    /// reduction every visible pixel is still white (premultiplied alpha: no dark fringe).
    #[test]
    fn transparent_edges_are_not_darkened() {
        let n = 300;
        let mut img = Raster::new(n, n, [0, 0, 0, 0]);
        for y in 0..n {
            for x in 0..n {
                let d = ((x as f32 - 150.0).powi(2) + (y as f32 - 150.0).powi(2)).sqrt();
                if d < 100.0 {
                    img.put(x, y, [255, 255, 255, 255]);
                }
            }
        }
        apply(&mut img, &params(Some(100), None, Fit::Contain, true)).unwrap();
        assert_eq!(img.dimensions(), (100, 100));
        let mut edge = 0;
        for p in img.pixels() {
            if p[3] > 0 && p[3] < 255 {
                edge += 1;
            }
            if p[3] >= 8 {
                assert!(p[0] >= 250 && p[1] >= 250 && p[2] >= 250, "{p:?}");
            }
        }
        assert!(edge > 0, "the edge should be soft");
    }

    /// Cover crops evenly: a photo with red left and blue right thirds and green middle, covered
    /// into a square, keeps the green centre and loses the sides.
    #[test]
    fn cover_crops_the_centre() {
        let mut img = Raster::new(300, 100, [0, 255, 0, 255]);
        for y in 0..100 {
            for x in 0..100 {
                img.put(x, y, [255, 0, 0, 255]);
                img.put(x + 200, y, [0, 0, 255, 255]);
            }
        }
        apply(&mut img, &params(Some(50), Some(50), Fit::Cover, true)).unwrap();
        assert_eq!(img.dimensions(), (50, 50));
        assert_eq!(img.get(25, 25), [0, 255, 0, 255]);
        let edge = img.get(2, 25);
        assert!(edge[1] > 200, "{edge:?}");
    }

    #[test]
    fn validation() {
        assert!(Resize::default().validate().is_empty());
        assert_eq!(params(None, None, Fit::Contain, true).validate().len(), 1);
        assert_eq!(
            params(Some(0), Some(10_001), Fit::Contain, true)
                .validate()
                .len(),
            2
        );
        let bad = Resize {
            background: "blue-ish".into(),
            ..Resize::default()
        };
        assert_eq!(bad.validate()[0].field, "background");
        let mut img = Raster::new(4, 4, [0; 4]);
        assert!(apply(&mut img, &params(None, None, Fit::Contain, true)).is_err());
        // 1×30 to 334 wide would be 10020 tall: refused, not distorted.
        let mut tall = Raster::new(1, 30, [0; 4]);
        let e = apply(&mut tall, &params(Some(334), None, Fit::Contain, true)).unwrap_err();
        assert!(e.to_string().contains("10020"), "{e}");
    }
}
