//! `watermark`: a text or logo mark, placed at a corner, edge, centre or tiled, blended with
//! straight alpha.

use crate::error::{Error, Result};
use crate::ops::{check_range, parse_hex_color, Problem};
use crate::raster::Raster;
use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use base64::Engine as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// DejaVu Sans Bold 2.37 subset to Latin-1 and common punctuation (see assets/DejaVu-LICENSE.txt).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-Bold-subset.ttf");

/// Longest accepted logo data, in base64 characters (about 7.5 MB of image).
const MAX_LOGO_BASE64: usize = 10_000_000;
/// Largest accepted logo side, in pixels.
const MAX_LOGO_SIDE: u32 = 4096;
/// Longest accepted text, in characters.
const MAX_TEXT_CHARS: usize = 200;

/// Where the mark goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    TopLeft,
    Top,
    TopRight,
    Left,
    Center,
    Right,
    BottomLeft,
    Bottom,
    #[default]
    BottomRight,
    /// Repeated over the whole image, rows offset by half a step.
    Tile,
}

/// Parameters of `watermark`. Exactly one of `text` and `image` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Watermark {
    /// Text of the mark (one line; characters the bundled font lacks are skipped).
    pub text: Option<String>,
    /// A PNG or JPEG logo: a data URL (`data:image/png;base64,...`) or plain base64.
    pub image: Option<String>,
    pub position: Position,
    /// 0–1; 0 leaves the photo unchanged.
    pub opacity: f32,
    /// Width of the mark as a fraction of the image width, 0.01–1.
    pub scale: f32,
    /// Distance from the edges as a fraction of the image's shorter side, 0–0.45.
    pub margin: f32,
    /// Text colour, `#RRGGBB` or `#RRGGBBAA`.
    pub color: String,
}

impl Default for Watermark {
    fn default() -> Self {
        Watermark {
            text: None,
            image: None,
            position: Position::BottomRight,
            opacity: 0.5,
            scale: 0.25,
            margin: 0.03,
            color: "#000000".into(),
        }
    }
}

impl Watermark {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        match (&self.text, &self.image) {
            (None, None) => p.push(Problem::new("text", "set either text or image")),
            (Some(_), Some(_)) => {
                p.push(Problem::new("image", "set either text or image, not both"))
            }
            (Some(t), None) => {
                if t.trim().is_empty() {
                    p.push(Problem::new("text", "is empty"));
                } else if t.chars().count() > MAX_TEXT_CHARS {
                    p.push(Problem::new(
                        "text",
                        format!("is longer than {MAX_TEXT_CHARS} characters"),
                    ));
                }
            }
            (None, Some(img)) => {
                if let Err(e) = logo_bytes(img) {
                    p.push(Problem::new("image", e.to_string()));
                }
            }
        }
        check_range(&mut p, "opacity", self.opacity, 0.0, 1.0);
        check_range(&mut p, "scale", self.scale, 0.01, 1.0);
        check_range(&mut p, "margin", self.margin, 0.0, 0.45);
        if parse_hex_color(&self.color).is_none() {
            p.push(Problem::new(
                "color",
                format!("\"{}\" is not a colour like #RRGGBB", self.color),
            ));
        }
        p
    }
}

/// Runs `watermark` in place.
///
/// The mark is built once as a straight-alpha RGBA tile `scale` × image width wide (shrunk if
/// taller than the image allows):
/// - text: DejaVu Sans Bold (bundled subset) rendered with ab_glyph's anti-aliased coverage,
///   in `color`, at the pixel size that gives the requested width;
/// - logo: base64 PNG/JPEG decoded with limits (≤ 4096 px a side), resized with a triangle
///   filter on premultiplied alpha (no dark fringes).
///
/// It is placed `margin` × the shorter side from the edges (or tiled with gaps of the same size,
/// at least half the mark's height) and composited with the "over" operator in straight alpha,
/// its alpha multiplied by `opacity`: a = a_m·o, a_out = a + a_d(1 − a),
/// c_out = (c_m·a + c_d·a_d(1 − a)) / a_out.
pub fn apply(img: &mut Raster, p: &Watermark) -> Result<()> {
    let color = parse_hex_color(&p.color)
        .ok_or_else(|| Error::op(format!("watermark colour \"{}\" is not valid", p.color)))?;
    let (w, h) = img.dimensions();
    if img.is_empty() || p.opacity <= 0.0 {
        return Ok(());
    }
    let margin = (p.margin.clamp(0.0, 0.45) * w.min(h) as f32).round() as i64;
    let max_w = (w as f32 * p.scale.clamp(0.01, 1.0)).max(1.0);
    let max_h = (h as i64 - 2 * margin).max(1) as f32;
    let mark = match (&p.text, &p.image) {
        (Some(text), None) => text_mark(text, color, max_w, max_h)?,
        (None, Some(data)) => logo_mark(data, max_w, max_h)?,
        _ => return Err(Error::op("watermark: set either text or image")),
    };
    let Some(mark) = mark else {
        return Ok(());
    };
    let opacity = p.opacity.clamp(0.0, 1.0);
    let (mw, mh) = (mark.width() as i64, mark.height() as i64);
    let (w, h) = (w as i64, h as i64);
    let (left, right) = (margin, w - margin - mw);
    let (top, bottom) = (margin, h - margin - mh);
    let (cx, cy) = ((w - mw) / 2, (h - mh) / 2);
    let at = |x, y| vec![(x, y)];
    let spots = match p.position {
        Position::TopLeft => at(left, top),
        Position::Top => at(cx, top),
        Position::TopRight => at(right, top),
        Position::Left => at(left, cy),
        Position::Center => at(cx, cy),
        Position::Right => at(right, cy),
        Position::BottomLeft => at(left, bottom),
        Position::Bottom => at(cx, bottom),
        Position::BottomRight => at(right, bottom),
        Position::Tile => {
            let gap = margin.max(mh / 2).max(1);
            let (sx, sy) = (mw + gap, mh + gap);
            let mut v = Vec::new();
            let mut y = (h % sy - sy) / 2;
            let mut row = 0;
            while y < h {
                let mut x = (w % sx - sx) / 2 - if row % 2 == 1 { sx / 2 } else { 0 };
                while x < w {
                    v.push((x, y));
                    x += sx;
                }
                y += sy;
                row += 1;
            }
            v
        }
    };
    for (x, y) in spots {
        composite(img, &mark, x, y, opacity);
    }
    Ok(())
}

/// "Over" in straight alpha, `src`'s alpha scaled by `opacity`, clipped to `dst`.
fn composite(dst: &mut Raster, src: &Raster, x0: i64, y0: i64, opacity: f32) {
    let (dw, dh) = (dst.width() as i64, dst.height() as i64);
    let (sw, sh) = (src.width() as i64, src.height() as i64);
    let (xa, xb) = (x0.max(0), (x0 + sw).min(dw));
    let (ya, yb) = (y0.max(0), (y0 + sh).min(dh));
    if xa >= xb || ya >= yb {
        return;
    }
    let s = src.as_raw();
    let d = dst.as_raw_mut();
    for y in ya..yb {
        let srow = ((y - y0) * sw + (xa - x0)) as usize * 4;
        let drow = (y * dw + xa) as usize * 4;
        let n = (xb - xa) as usize * 4;
        for (m, q) in s[srow..srow + n]
            .chunks_exact(4)
            .zip(d[drow..drow + n].chunks_exact_mut(4))
        {
            let a = m[3] as f32 / 255.0 * opacity;
            if a <= 0.0 {
                continue;
            }
            let da = q[3] as f32 / 255.0;
            let out_a = a + da * (1.0 - a);
            let kd = da * (1.0 - a) / out_a;
            let ks = a / out_a;
            for c in 0..3 {
                q[c] = (m[c] as f32 * ks + q[c] as f32 * kd + 0.5).min(255.0) as u8;
            }
            q[3] = (out_a * 255.0 + 0.5).min(255.0) as u8;
        }
    }
}

/// The text rendered as a `color` tile whose alpha is the glyph coverage, fitted within
/// `max_w` × `max_h`. `None` when no character of the text can be drawn.
fn text_mark(text: &str, color: [u8; 4], max_w: f32, max_h: f32) -> Result<Option<Raster>> {
    let font = FontRef::try_from_slice(FONT)
        .map_err(|_| Error::op("the bundled watermark font could not be read"))?;
    let glyphs: Vec<GlyphId> = text
        .chars()
        .take(MAX_TEXT_CHARS)
        .filter(|c| !c.is_control())
        .map(|c| font.glyph_id(c))
        .filter(|id| id.0 != 0)
        .collect();
    if glyphs.is_empty() {
        return Ok(None);
    }
    // Advances and heights are linear in the pixel size: measure at 100 px, then scale.
    let reference = font.as_scaled(PxScale::from(100.0));
    let width_at_100: f32 = glyphs.iter().map(|&g| reference.h_advance(g)).sum();
    let height_at_100 = reference.ascent() - reference.descent();
    if width_at_100 <= 0.0 || height_at_100 <= 0.0 {
        return Ok(None);
    }
    let px = (100.0 * max_w / width_at_100)
        .min(100.0 * max_h / height_at_100)
        .clamp(1.0, 2000.0);
    let scaled = font.as_scaled(PxScale::from(px));
    let pad = 1.0;
    let tw = (glyphs.iter().map(|&g| scaled.h_advance(g)).sum::<f32>() + 2.0 * pad).ceil();
    let th = (scaled.ascent() - scaled.descent() + 2.0 * pad).ceil();
    let (tw, th) = (tw.max(1.0) as usize, th.max(1.0) as usize);
    let mut coverage = vec![0f32; tw * th];
    let mut caret = pad;
    for &id in &glyphs {
        let glyph = id.with_scale_and_position(px, point(caret, pad + scaled.ascent()));
        caret += scaled.h_advance(id);
        let Some(outline) = font.outline_glyph(glyph) else {
            continue; // a space
        };
        let b = outline.px_bounds();
        outline.draw(|x, y, c| {
            let gx = b.min.x as i64 + x as i64;
            let gy = b.min.y as i64 + y as i64;
            if gx >= 0 && gy >= 0 && (gx as usize) < tw && (gy as usize) < th {
                let v = &mut coverage[gy as usize * tw + gx as usize];
                *v = (*v + c).min(1.0);
            }
        });
    }
    let mut data = Vec::with_capacity(tw * th * 4);
    for c in coverage {
        let a = (c * color[3] as f32 + 0.5) as u8;
        data.extend_from_slice(&[color[0], color[1], color[2], a]);
    }
    Raster::from_rgba(tw as u32, th as u32, data).map(Some)
}

/// The decoded bytes of a logo given as a data URL or plain base64.
fn logo_bytes(data: &str) -> Result<Vec<u8>> {
    let data = data.trim();
    let b64 = match data.strip_prefix("data:") {
        Some(rest) => {
            let (meta, payload) = rest.split_once(',').ok_or_else(|| {
                Error::op("the watermark image data URL has no ',' before its data")
            })?;
            if !meta.ends_with(";base64") {
                return Err(Error::op(
                    "the watermark image data URL must be base64 (data:image/png;base64,...)",
                ));
            }
            payload
        }
        None => data,
    };
    if b64.len() > MAX_LOGO_BASE64 {
        return Err(Error::op(format!(
            "the watermark image is too large ({} characters of base64; the limit is {MAX_LOGO_BASE64})",
            b64.len()
        )));
    }
    let clean: Vec<u8> = b64.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(&clean).map_err(|e| {
        Error::op(format!(
            "the watermark image is not valid base64 ({e}); paste a data URL like data:image/png;base64,..."
        ))
    })?;
    match image::guess_format(&bytes) {
        Ok(image::ImageFormat::Png | image::ImageFormat::Jpeg) => Ok(bytes),
        _ => Err(Error::op("the watermark image is not a PNG or JPEG file")),
    }
}

/// The logo decoded and resized to fit within `max_w` × `max_h`.
fn logo_mark(data: &str, max_w: f32, max_h: f32) -> Result<Option<Raster>> {
    let bytes = logo_bytes(data)?;
    let mut reader = image::io::Reader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|_| Error::op("the watermark image could not be read"))?;
    let mut limits = image::io::Limits::default();
    limits.max_image_width = Some(MAX_LOGO_SIDE);
    limits.max_image_height = Some(MAX_LOGO_SIDE);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let logo = reader
        .decode()
        .map_err(|e| {
            Error::op(format!(
                "the watermark image could not be decoded ({e}); use a PNG or JPEG of at most {MAX_LOGO_SIDE}×{MAX_LOGO_SIDE} pixels"
            ))
        })?
        .to_rgba8();
    let (lw, lh) = logo.dimensions();
    if lw == 0 || lh == 0 {
        return Ok(None);
    }
    let k = (max_w / lw as f32).min(max_h / lh as f32);
    let nw = ((lw as f32 * k).round() as u32).max(1);
    let nh = ((lh as f32 * k).round() as u32).max(1);
    if (nw, nh) == (lw, lh) {
        return Ok(Some(Raster::from_image(logo)));
    }
    // Resize premultiplied so transparent pixels' colours do not bleed into the edges.
    let mut pre = logo;
    for p in pre.pixels_mut() {
        let a = p[3] as u32;
        for c in 0..3 {
            p[c] = ((p[c] as u32 * a + 127) / 255) as u8;
        }
    }
    let mut out = image::imageops::resize(&pre, nw, nh, image::imageops::FilterType::Triangle);
    for p in out.pixels_mut() {
        let a = p[3] as u32;
        for c in 0..3 {
            if let Some(v) = (p[c] as u32 * 255 + a / 2).checked_div(a) {
                p[c] = v.min(255) as u8;
            }
        }
    }
    Ok(Some(Raster::from_image(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_mark_params(position: Position) -> Watermark {
        Watermark {
            text: Some("Shotline ©".into()),
            position,
            opacity: 0.8,
            scale: 0.3,
            ..Watermark::default()
        }
    }

    /// Bounding box (x0, y0, x1, y1) of the pixels that differ.
    fn changed_box(a: &Raster, b: &Raster) -> Option<(u32, u32, u32, u32)> {
        let mut bx: Option<(u32, u32, u32, u32)> = None;
        for y in 0..a.height() {
            for x in 0..a.width() {
                if a.get(x, y) != b.get(x, y) {
                    bx = Some(match bx {
                        None => (x, y, x, y),
                        Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
                    });
                }
            }
        }
        bx
    }

    fn png_base64(img: &image::RgbaImage) -> String {
        let mut bytes = Vec::new();
        img.write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageOutputFormat::Png,
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Bottom-right text changes pixels only in the bottom-right corner, within the margin.
    #[test]
    fn text_lands_in_the_bottom_right_corner() {
        let before = Raster::new(400, 300, [255, 255, 255, 255]);
        let mut img = before.clone();
        let p = text_mark_params(Position::BottomRight);
        assert!(p.validate().is_empty());
        apply(&mut img, &p).unwrap();
        let (x0, y0, x1, y1) = changed_box(&before, &img).expect("something drawn");
        let margin = (0.03 * 300.0) as u32;
        assert!(x0 >= 400 - 140 && y0 >= 300 / 2, "box starts at {x0},{y0}");
        assert!(
            x1 < 400 - margin + 1 && y1 < 300 - margin + 1,
            "box ends {x1},{y1}"
        );
        assert!(x1 - x0 > 80, "the text spans about 30 % of the width");
        // Anti-aliased: some pixels are partly covered.
        let greys = img.pixels().filter(|p| p[0] > 60 && p[0] < 240).count();
        assert!(greys > 0);
    }

    /// Each position puts the mark in its own part of the image.
    #[test]
    fn positions_place_the_mark() {
        let before = Raster::new(300, 300, [200, 200, 200, 255]);
        let centre = |pos| {
            let mut img = before.clone();
            apply(&mut img, &text_mark_params(pos)).unwrap();
            let (x0, y0, x1, y1) = changed_box(&before, &img).unwrap();
            ((x0 + x1) / 2, (y0 + y1) / 2)
        };
        let (x, y) = centre(Position::TopLeft);
        assert!(x < 100 && y < 100);
        let (x, y) = centre(Position::Center);
        assert!((130..170).contains(&x) && (130..170).contains(&y));
        let (x, y) = centre(Position::Bottom);
        assert!((130..170).contains(&x) && y > 200);
        let mut img = before.clone();
        apply(&mut img, &text_mark_params(Position::Tile)).unwrap();
        let (x0, y0, x1, y1) = changed_box(&before, &img).unwrap();
        assert!(
            x0 < 30 && y0 < 30 && x1 > 270 && y1 > 270,
            "tiles cover the image"
        );
    }

    /// Opacity 0 changes nothing.
    #[test]
    fn opacity_zero_is_a_no_op() {
        let before = Raster::new(100, 80, [30, 60, 90, 255]);
        let mut img = before.clone();
        let p = Watermark {
            opacity: 0.0,
            ..text_mark_params(Position::Center)
        };
        apply(&mut img, &p).unwrap();
        assert_eq!(img, before);
    }

    /// A base64 PNG logo (plain and as a data URL) is drawn at the requested width; its
    /// transparent parts leave the photo alone.
    #[test]
    fn logo_from_base64_png() {
        let mut logo = image::RgbaImage::from_pixel(40, 20, image::Rgba([0, 0, 0, 0]));
        for y in 5..15 {
            for x in 10..30 {
                logo.put_pixel(x, y, image::Rgba([255, 0, 0, 255]));
            }
        }
        let b64 = png_base64(&logo);
        for data in [b64.clone(), format!("data:image/png;base64,{b64}")] {
            let before = Raster::new(200, 100, [255, 255, 255, 255]);
            let mut img = before.clone();
            let p = Watermark {
                image: Some(data),
                position: Position::TopLeft,
                opacity: 1.0,
                scale: 0.4,
                margin: 0.0,
                ..Watermark::default()
            };
            assert!(p.validate().is_empty(), "{:?}", p.validate());
            apply(&mut img, &p).unwrap();
            // 40 px logo scaled to 80 px: the red box covers x 20..60, y 10..30.
            assert_eq!(img.get(40, 20), [255, 0, 0, 255]);
            assert_eq!(img.get(5, 5), [255, 255, 255, 255]);
            let (x0, y0, x1, y1) = changed_box(&before, &img).unwrap();
            assert!(
                x0 >= 18 && y0 >= 8 && x1 <= 61 && y1 <= 31,
                "{x0},{y0},{x1},{y1}"
            );
        }
    }

    /// Invalid base64 or a non-image gives a clear error, in validation and when run.
    #[test]
    fn invalid_logo_errors_clearly() {
        let p = Watermark {
            image: Some("data:image/png;base64,@@not base64@@".into()),
            ..Watermark::default()
        };
        let problems = p.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "image");
        assert!(
            problems[0].message.contains("not valid base64"),
            "{problems:?}"
        );
        let err = apply(&mut Raster::new(10, 10, [0; 4]), &p).unwrap_err();
        assert!(err.to_string().contains("not valid base64"));

        let p = Watermark {
            image: Some(base64::engine::general_purpose::STANDARD.encode(b"hello world")),
            ..Watermark::default()
        };
        let err = apply(&mut Raster::new(10, 10, [0; 4]), &p).unwrap_err();
        assert!(err.to_string().contains("not a PNG or JPEG"), "{err}");
    }

    /// Exactly one of text and image; characters outside the font are skipped without panic.
    #[test]
    fn validation_and_missing_glyphs() {
        let fields =
            |p: Watermark| -> Vec<String> { p.validate().into_iter().map(|q| q.field).collect() };
        assert_eq!(fields(Watermark::default()), ["text"]);
        let both = Watermark {
            text: Some("a".into()),
            image: Some("x".into()),
            ..Watermark::default()
        };
        assert_eq!(fields(both), ["image"]);
        let bad = Watermark {
            text: Some("ok".into()),
            color: "#zz".into(),
            opacity: 2.0,
            ..Watermark::default()
        };
        assert_eq!(fields(bad), ["opacity", "color"]);

        let before = Raster::new(100, 50, [255, 255, 255, 255]);
        let mut img = before.clone();
        apply(&mut img, &text_mark_params(Position::Center)).unwrap();
        let mut only_missing = before.clone();
        let p = Watermark {
            text: Some("漢字🙂\u{7}".into()),
            ..text_mark_params(Position::Center)
        };
        apply(&mut only_missing, &p).unwrap();
        assert_eq!(only_missing, before);
        let mut mixed = before.clone();
        let p = Watermark {
            text: Some("A漢B".into()),
            ..text_mark_params(Position::Center)
        };
        apply(&mut mixed, &p).unwrap();
        assert_ne!(mixed, before);
    }

    /// On a transparent canvas the mark is composited "over": alpha rises where it is drawn.
    #[test]
    fn over_transparent_pixels() {
        let mut img = Raster::new(400, 200, [0, 0, 0, 0]);
        let p = Watermark {
            color: "#FF0000".into(),
            opacity: 1.0,
            scale: 0.8,
            ..text_mark_params(Position::Center)
        };
        apply(&mut img, &p).unwrap();
        let solid = img.pixels().filter(|q| q[3] == 255).count();
        assert!(solid > 0);
        assert!(img
            .pixels()
            .filter(|q| q[3] > 0)
            .all(|q| q[0] == 255 && q[1] == 0));
    }
}
