//! `filter`: named creative looks from photon-rs 0.3.3, mixed with the original by `strength`.

use crate::error::{Error, Result};
use crate::ops::{check_range, Problem};
use crate::raster::Raster;
#[cfg(feature = "photon")]
use photon_rs::PhotonImage;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The filters merchants can pick, with what each does. All are deterministic and O(pixels);
/// photon's random or neighbourhood-heavy effects (noise, oil, frosted glass, halftone) and the
/// per-pixel colour-space ones (lofi and the HSL/LCh family: about 0.7 s at 12 MP) are left out.
pub const FILTERS: &[(&str, &str)] = &[
    ("oceanic", "aquamarine tint"),
    ("islands", "deep aquamarine tint"),
    ("marine", "green-blue tint"),
    ("seagreen", "dark green tint with blue"),
    ("flagblue", "royal blue tint"),
    ("liquid", "blue tint"),
    ("diamante", "light blue-turquoise tint"),
    ("radio", "green monochrome, like an old radio display"),
    ("twenties", "slightly blue monochrome"),
    ("rosetint", "rose-tinted monochrome"),
    ("mauve", "purple monochrome"),
    ("bluechrome", "blue monochrome"),
    ("vintage", "warm red-brown tint"),
    ("perfume", "violet tint"),
    ("serenity", "calm blue tint"),
    ("golden", "golden tint with more contrast"),
    ("pastel_pink", "pink pastel with more contrast"),
    ("cali", "warm red tint with more contrast"),
    ("firenze", "warm, brighter, more contrast"),
    ("dramatic", "high-contrast black and white"),
    ("obsidian", "black and white with some extra contrast"),
    ("grayscale", "black and white"),
    ("sepia", "brown old-photo monochrome"),
    ("duotone_lilac", "two-tone, dark red to lilac"),
];

/// The names of `FILTERS`, comma-separated, for messages.
fn names() -> String {
    FILTERS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parameters of `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Filter {
    /// One of the names in `FILTERS` (e.g. "vintage", "grayscale").
    pub name: String,
    /// 0–1: mix with the original (1 = the full filter).
    pub strength: f32,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            name: "vintage".into(),
            strength: 1.0,
        }
    }
}

impl Filter {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        if !is_known(&self.name) {
            p.push(Problem::new(
                "name",
                format!(
                    "unknown filter \"{}\"; choose one of: {}",
                    self.name,
                    names()
                ),
            ));
        }
        check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        p
    }
}

fn is_known(name: &str) -> bool {
    FILTERS.iter().any(|(n, _)| *n == name)
}

/// Runs photon's implementation of `name`. The names were checked against `FILTERS` first.
#[cfg(feature = "photon")]
fn run_photon(img: &mut PhotonImage, name: &str) {
    use photon_rs::{filters, monochrome};
    match name {
        "grayscale" => monochrome::grayscale(img),
        "sepia" => monochrome::sepia(img),
        "duotone_lilac" => filters::duotone_lilac(img),
        "dramatic" => filters::dramatic(img),
        "obsidian" => filters::obsidian(img),
        "golden" => filters::golden(img),
        "pastel_pink" => filters::pastel_pink(img),
        "cali" => filters::cali(img),
        "firenze" => filters::firenze(img),
        // The rest are the presets of photon's `filters::filter` (colour mixes and tinted
        // monochromes). Its unknown-name fallback (mauve) is never reached: names are validated.
        other => filters::filter(img, other),
    }
}

/// The whole picture with photon's look `name` at full strength (RGBA, same size).
#[cfg(feature = "photon")]
fn looks(img: &Raster, name: &str) -> Result<Vec<u8>> {
    let (w, h) = img.dimensions();
    let mut photon = PhotonImage::new(img.as_raw().to_vec(), w, h);
    run_photon(&mut photon, name);
    Ok(photon.get_raw_pixels())
}

/// Without photon-rs (the web page's own build, which never runs a workflow) a filter cannot run.
#[cfg(not(feature = "photon"))]
fn looks(_img: &Raster, name: &str) -> Result<Vec<u8>> {
    Err(Error::op(format!(
        "the \"{name}\" filter is not available in this build of Shotline (built without photon-rs)"
    )))
}

/// Runs `filter` in place.
///
/// The image goes to photon-rs 0.3.3 as raw RGBA (`PhotonImage::new`), the named effect runs, and
/// the result is mixed back: out = original + strength × (filtered − original) per colour
/// channel. Alpha is always the original's (some photon effects force it to 255), and pixels
/// with alpha 0 keep their colour too.
pub fn apply(img: &mut Raster, p: &Filter) -> Result<()> {
    if !is_known(&p.name) {
        return Err(Error::op(format!(
            "unknown filter \"{}\"; choose one of: {}",
            p.name,
            names()
        )));
    }
    if img.is_empty() || p.strength <= 0.0 {
        return Ok(());
    }
    let filtered = looks(img, &p.name)?;
    if filtered.len() != img.as_raw().len() {
        return Err(Error::op(format!(
            "the \"{}\" filter returned an image of the wrong size",
            p.name
        )));
    }
    let s = p.strength.clamp(0.0, 1.0);
    let full = s >= 1.0;
    for (px, f) in img.pixels_mut().zip(filtered.chunks_exact(4)) {
        if px[3] == 0 {
            continue;
        }
        for c in 0..3 {
            px[c] = if full {
                f[c]
            } else {
                let (a, b) = (px[c] as f32, f[c] as f32);
                (a + s * (b - a) + 0.5) as u8
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A colourful gradient with a transparent corner.
    fn test_image() -> Raster {
        let mut img = Raster::new(24, 16, [0; 4]);
        for y in 0..16 {
            for x in 0..24 {
                let a = if x < 3 && y < 3 { 0 } else { 255 };
                img.put(
                    x,
                    y,
                    [(x * 10) as u8, (y * 15) as u8, 200 - (x * 5) as u8, a],
                );
            }
        }
        img
    }

    /// Every listed filter runs without panicking, changes the picture and keeps alpha and
    /// transparent pixels.
    #[test]
    fn every_filter_runs_and_changes_the_image() {
        let before = test_image();
        for (name, _) in FILTERS {
            let mut img = before.clone();
            let p = Filter {
                name: (*name).into(),
                strength: 1.0,
            };
            assert!(p.validate().is_empty(), "{name}");
            apply(&mut img, &p).unwrap();
            assert_ne!(img, before, "{name} changed nothing");
            for (a, b) in before.pixels().zip(img.pixels()) {
                assert_eq!(a[3], b[3], "{name} changed alpha");
                if a[3] == 0 {
                    assert_eq!(a, b, "{name} changed a transparent pixel");
                }
            }
        }
        // Tiny images (photon has `len - 4` loops) do not panic either.
        for (name, _) in FILTERS {
            let mut img = Raster::new(1, 1, [10, 20, 30, 255]);
            let p = Filter {
                name: (*name).into(),
                strength: 1.0,
            };
            apply(&mut img, &p).unwrap();
        }
    }

    /// Strength mixes with the original: 0 is a no-op, 0.5 lands between.
    #[test]
    fn strength_mixes() {
        let before = Raster::new(4, 4, [200, 40, 40, 255]);
        let mut full = before.clone();
        let mut half = before.clone();
        let mut none = before.clone();
        let p = |s| Filter {
            name: "grayscale".into(),
            strength: s,
        };
        apply(&mut full, &p(1.0)).unwrap();
        apply(&mut half, &p(0.5)).unwrap();
        apply(&mut none, &p(0.0)).unwrap();
        assert_eq!(none, before);
        assert_eq!(full.get(0, 0), [93, 93, 93, 255]);
        let h = half.get(0, 0);
        assert!(h[0] > 93 && h[0] < 200 && h[1] > 40 && h[1] < 93, "{h:?}");
    }

    /// An unknown name is a validation problem and an error, both listing the valid names.
    #[test]
    fn unknown_name_lists_valid_ones() {
        let p = Filter {
            name: "instagram".into(),
            strength: 1.0,
        };
        let problems = p.validate();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].field, "name");
        assert!(problems[0].message.contains("sepia"));
        let err = apply(&mut test_image(), &p).unwrap_err().to_string();
        assert!(
            err.contains("instagram") && err.contains("vintage"),
            "{err}"
        );
    }
}
