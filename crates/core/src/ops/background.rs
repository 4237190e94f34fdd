//! `background`: puts the cut-out subject on a solid colour (or keeps it transparent).

use crate::error::{Error, Result};
use crate::ops::{parse_hex_color, Problem};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `background`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Background {
    /// An opaque colour, `#RRGGBB` or `#RGB` (default pure white, as Amazon requires), or
    /// `"transparent"` to keep the transparency for a PNG / WebP export.
    pub color: String,
}

impl Default for Background {
    fn default() -> Self {
        Background {
            color: "#FFFFFF".to_string(),
        }
    }
}

impl Background {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        if self.fill().is_err() {
            p.push(Problem::new(
                "color",
                format!(
                    "must be an opaque colour like \"#FFFFFF\" or \"transparent\" (got \"{}\")",
                    self.color
                ),
            ));
        }
        p
    }

    /// The colour to composite onto, or `None` for transparent.
    fn fill(&self) -> Result<Option<[u8; 3]>> {
        if self.color.trim().eq_ignore_ascii_case("transparent") {
            return Ok(None);
        }
        match parse_hex_color(&self.color) {
            Some([r, g, b, 255]) => Ok(Some([r, g, b])),
            _ => Err(Error::op(format!(
                "background: \"{}\" is not an opaque colour",
                self.color
            ))),
        }
    }
}

/// Runs `background` in place.
///
/// Straight-alpha "over": out = (a·F + (255 − a)·B) / 255, rounded to nearest in integers, then
/// alpha = 255. So alpha 0 gives exactly B (a white background is exactly 255, 255, 255 — the
/// JPEG check on the border relies on it) and alpha 255 exactly F. No dark halo can appear:
/// the colours are straight (not premultiplied) and `remove_background` has already replaced
/// the backdrop's colour in edge pixels. `transparent` leaves the image unchanged.
pub fn apply(img: &mut Raster, p: &Background) -> Result<()> {
    let Some(bg) = p.fill()? else {
        return Ok(());
    };
    let bg = bg.map(u32::from);
    for px in img.pixels_mut() {
        let a = px[3] as u32;
        match a {
            255 => {}
            0 => {
                px[0] = bg[0] as u8;
                px[1] = bg[1] as u8;
                px[2] = bg[2] as u8;
            }
            _ => {
                for c in 0..3 {
                    px[c] = div255(a * px[c] as u32 + (255 - a) * bg[c]);
                }
            }
        }
        px[3] = 255;
    }
    Ok(())
}

/// round(v / 255) for v ≤ 255·255, exactly (the usual shift form of the division).
#[inline]
fn div255(v: u32) -> u8 {
    let v = v + 128;
    ((v + (v >> 8)) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::remove_background::{self, Method, RemoveBackground};
    use crate::ops::subject::testutil::{self, Spec};

    #[test]
    fn div255_rounds_exactly() {
        for v in 0..=255 * 255u32 {
            assert_eq!(div255(v) as u32, (v as f64 / 255.0).round() as u32, "{v}");
        }
    }

    /// Alpha 0 becomes exactly the colour, alpha 255 keeps its colour, all alpha becomes 255.
    #[test]
    fn exact_values() {
        let mut img =
            Raster::from_rgba(3, 1, vec![10, 20, 30, 0, 10, 20, 30, 255, 0, 0, 0, 128]).unwrap();
        apply(&mut img, &Background::default()).unwrap();
        assert_eq!(img.get(0, 0), [255, 255, 255, 255]);
        assert_eq!(img.get(1, 0), [10, 20, 30, 255]);
        assert_eq!(img.get(2, 0), [127, 127, 127, 255]);
        let mut t = img.clone();
        apply(
            &mut t,
            &Background {
                color: "transparent".into(),
            },
        )
        .unwrap();
        assert_eq!(t, img);
    }

    /// After cutting out a product shot on grey, the white border is exactly 255 and no edge pixel
    /// is darker than the product's own colour blended with white (no dark halo).
    #[test]
    fn white_background_after_cutout_has_no_halo() {
        let spec = Spec {
            backdrop: testutil::Backdrop::Vertical([200, 200, 205], [120, 122, 130]),
            ..Default::default()
        };
        let scene = testutil::render(&spec);
        let mut img = scene.img.clone();
        let cut = RemoveBackground {
            method: Method::ColorKey,
            ..Default::default()
        };
        remove_background::apply(&mut img, &cut, None).unwrap();
        let alpha = img.alpha();
        apply(&mut img, &Background::default()).unwrap();
        let (w, h) = img.dimensions();
        for x in 0..w {
            for y in [0, h - 1] {
                assert_eq!(img.get(x, y), [255, 255, 255, 255]);
            }
        }
        for y in 0..h {
            for x in [0, w - 1] {
                assert_eq!(img.get(x, y), [255, 255, 255, 255]);
            }
        }
        let mut edge = 0;
        for (i, px) in img.pixels().enumerate() {
            let a = alpha[i] as f32 / 255.0;
            if a == 0.0 || a == 1.0 {
                continue;
            }
            edge += 1;
            // The product's own colour over white, with a little room for noise.
            for c in 0..3 {
                let ideal = a * spec.color[c] as f32 + (1.0 - a) * 255.0;
                assert!(px[c] as f32 >= ideal - 12.0, "halo at {i}: {px:?} a={a}");
            }
        }
        assert!(edge > 100);
    }

    #[test]
    fn validation() {
        assert!(Background::default().validate().is_empty());
        for ok in ["#fff", "#F0F0F0", "transparent", "Transparent"] {
            assert!(
                Background { color: ok.into() }.validate().is_empty(),
                "{ok}"
            );
        }
        for bad in ["white", "#12345", "#FFFFFF80", ""] {
            assert_eq!(
                Background { color: bad.into() }.validate().len(),
                1,
                "{bad}"
            );
        }
    }
}
