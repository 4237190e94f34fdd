//! What conditions and templates read about one photo: its product fields, facts measured from the
//! image, and facts about the file.

use crate::model::Format;
use crate::products::Product;
use crate::raster::{luma, Raster};
use serde::{Deserialize, Serialize};

/// A field's value as conditions see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<String>),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(s) => s.trim().is_empty(),
            Value::List(l) => l.is_empty(),
            Value::Number(n) => n.is_nan(),
            Value::Bool(_) => false,
        }
    }
    pub fn as_text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Number(n) => format_number(*n),
            Value::Bool(b) => b.to_string(),
            Value::List(l) => l.join(", "),
        }
    }
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) if !n.is_nan() => Some(*n),
            Value::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
    /// Equality with a JSON value: numbers numerically, text case-insensitively.
    pub fn equals(&self, want: &serde_json::Value) -> bool {
        match (self, want) {
            (Value::Bool(a), serde_json::Value::Bool(b)) => a == b,
            (_, serde_json::Value::Number(b)) => self
                .as_number()
                .zip(b.as_f64())
                .is_some_and(|(a, b)| a == b),
            (Value::List(items), w) => {
                let w = crate::condition::json_text(w).to_lowercase();
                items.iter().any(|t| t.to_lowercase() == w)
            }
            (v, w) => v.as_text().to_lowercase() == crate::condition::json_text(w).to_lowercase(),
        }
    }
}

/// Formats a number without a trailing `.0`.
pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{:.2}", n)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// The type of a field, for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Bool,
    List,
}

/// Image facts that conditions can read.
pub const IMAGE_FIELDS: [&str; 7] = [
    "width",
    "height",
    "megapixels",
    "aspect",
    "has_transparency",
    "brightness",
    "background",
];
/// File facts that conditions can read.
pub const FILE_FIELDS: [&str; 4] = ["name", "stem", "format", "bytes"];

/// The kind of `field`, or None if there is no such field. Any `product.<column>` exists.
pub fn field_kind(field: &str) -> Option<FieldKind> {
    let (scope, name) = field.split_once('.')?;
    match scope {
        "product" if is_column_name(name) => Some(match name {
            "price" | "compare_at_price" | "weight" | "quantity" => FieldKind::Number,
            "tags" => FieldKind::List,
            _ => FieldKind::Text,
        }),
        "image" => match name {
            "width" | "height" | "megapixels" | "aspect" | "brightness" => Some(FieldKind::Number),
            "has_transparency" => Some(FieldKind::Bool),
            "background" => Some(FieldKind::Text),
            _ => None,
        },
        "file" => match name {
            "name" | "stem" | "format" => Some(FieldKind::Text),
            "bytes" => Some(FieldKind::Number),
            _ => None,
        },
        _ => None,
    }
}

fn is_column_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// What the border of a photo looks like (`image.background`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backdrop {
    PlainWhite,
    PlainLight,
    PlainDark,
    Busy,
}

impl Backdrop {
    pub fn id(self) -> &'static str {
        match self {
            Backdrop::PlainWhite => "plain_white",
            Backdrop::PlainLight => "plain_light",
            Backdrop::PlainDark => "plain_dark",
            Backdrop::Busy => "busy",
        }
    }
}

/// Facts measured from the pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFacts {
    pub width: u32,
    pub height: u32,
    pub megapixels: f64,
    /// width / height.
    pub aspect: f64,
    pub has_transparency: bool,
    /// Mean luma of the opaque pixels, 0–255.
    pub brightness: f64,
    pub background: Backdrop,
}

impl ImageFacts {
    /// Measures an image. Brightness samples at most ~65k pixels; the backdrop is classified from a
    /// border band 2 % of the short side wide: plain when the band's luma standard deviation is low
    /// (< 12) and few of its pixels (< 8 %) stray far from its mean colour; white when that mean is
    /// ≥ 245 on every channel, light when its luma is ≥ 160, dark when ≤ 90; otherwise busy.
    pub fn measure(img: &Raster) -> ImageFacts {
        let (w, h) = img.dimensions();
        let n = img.pixel_count().max(1);
        let step = (n / 65_536).max(1);
        let (mut sum, mut count) = (0f64, 0usize);
        for p in img.as_raw().chunks_exact(4).step_by(step) {
            if p[3] >= 128 {
                sum += luma(p) as f64;
                count += 1;
            }
        }
        ImageFacts {
            width: w,
            height: h,
            megapixels: (w as f64 * h as f64) / 1e6,
            aspect: if h == 0 { 0.0 } else { w as f64 / h as f64 },
            has_transparency: img.has_transparency(),
            brightness: if count == 0 { 0.0 } else { sum / count as f64 },
            background: classify_backdrop(img),
        }
    }
}

/// The mean colour of a border band, and how plain it is: (mean RGB, luma std-dev, stray fraction).
pub fn border_stats(img: &Raster) -> ([f64; 3], f64, f64) {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return ([0.0; 3], 0.0, 0.0);
    }
    let band = ((w.min(h) as f64 * 0.02).ceil() as u32).max(1);
    let mut samples: Vec<[u8; 4]> = Vec::new();
    let stride = (((w as u64 + h as u64) * band as u64 / 20_000) as u32).max(1);
    for y in (0..h).step_by(stride as usize) {
        for x in (0..w).step_by(stride as usize) {
            if x < band || y < band || x >= w - band || y >= h - band {
                samples.push(img.get(x, y));
            }
        }
    }
    if samples.is_empty() {
        return ([0.0; 3], 0.0, 0.0);
    }
    let k = samples.len() as f64;
    let mut mean = [0f64; 3];
    let mut lsum = 0f64;
    let mut lsq = 0f64;
    for p in &samples {
        for c in 0..3 {
            mean[c] += p[c] as f64 / k;
        }
        let l = luma(p) as f64;
        lsum += l;
        lsq += l * l;
    }
    let lmean = lsum / k;
    let std = (lsq / k - lmean * lmean).max(0.0).sqrt();
    let strays = samples
        .iter()
        .filter(|p| {
            (0..3)
                .map(|c| (p[c] as f64 - mean[c]).abs())
                .fold(0.0, f64::max)
                > 40.0
        })
        .count() as f64
        / k;
    (mean, std, strays)
}

/// Whether the photo's border is one plain colour (a studio backdrop, of any brightness): its
/// luma varies by less than 12 levels and under 8 % of it strays more than 40 levels from the mean.
pub fn plain_border(img: &Raster) -> bool {
    let (_, std, strays) = border_stats(img);
    std < 12.0 && strays < 0.08
}

fn classify_backdrop(img: &Raster) -> Backdrop {
    let (mean, std, strays) = border_stats(img);
    if std >= 12.0 || strays >= 0.08 {
        return Backdrop::Busy;
    }
    let l = 0.2126 * mean[0] + 0.7152 * mean[1] + 0.0722 * mean[2];
    if mean.iter().all(|&c| c >= 245.0) {
        Backdrop::PlainWhite
    } else if l >= 160.0 {
        Backdrop::PlainLight
    } else if l <= 90.0 {
        Backdrop::PlainDark
    } else {
        Backdrop::Busy
    }
}

/// Facts about the input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileFacts {
    pub name: String,
    pub stem: String,
    pub format: String,
    pub bytes: u64,
}

impl FileFacts {
    pub fn new(name: &str, bytes: usize, format: Option<Format>) -> FileFacts {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let stem = match base.rfind('.') {
            Some(i) if i > 0 => &base[..i],
            _ => base,
        };
        FileFacts {
            name: base.to_string(),
            stem: stem.to_string(),
            format: format
                .map(|f| f.extension().replace("jpg", "jpeg"))
                .unwrap_or_default(),
            bytes: bytes as u64,
        }
    }
}

/// Everything a condition or template can read for one photo at one point in the line.
pub struct Facts<'a> {
    pub product: &'a Product,
    pub file: &'a FileFacts,
    pub image: &'a ImageFacts,
}

impl Facts<'_> {
    /// Looks up `scope.name`; unknown fields read as empty text.
    pub fn get(&self, field: &str) -> Value {
        let Some((scope, name)) = field.split_once('.') else {
            return Value::Text(String::new());
        };
        match scope {
            "product" => self.product.value(name),
            "image" => {
                let i = self.image;
                match name {
                    "width" => Value::Number(i.width as f64),
                    "height" => Value::Number(i.height as f64),
                    "megapixels" => Value::Number((i.megapixels * 100.0).round() / 100.0),
                    "aspect" => Value::Number((i.aspect * 1000.0).round() / 1000.0),
                    "has_transparency" => Value::Bool(i.has_transparency),
                    "brightness" => Value::Number(i.brightness.round()),
                    "background" => Value::Text(i.background.id().into()),
                    _ => Value::Text(String::new()),
                }
            }
            "file" => match name {
                "name" => Value::Text(self.file.name.clone()),
                "stem" => Value::Text(self.file.stem.clone()),
                "format" => Value::Text(self.file.format.clone()),
                "bytes" => Value::Number(self.file.bytes as f64),
                _ => Value::Text(String::new()),
            },
            _ => Value::Text(String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backdrops_are_classified_from_the_border() {
        let mut white = Raster::new(200, 100, [255, 255, 255, 255]);
        for y in 30..70 {
            for x in 60..140 {
                white.put(x, y, [200, 30, 30, 255]);
            }
        }
        assert_eq!(ImageFacts::measure(&white).background, Backdrop::PlainWhite);
        let light = Raster::new(50, 50, [220, 222, 225, 255]);
        assert_eq!(ImageFacts::measure(&light).background, Backdrop::PlainLight);
        let dark = Raster::new(50, 50, [20, 20, 25, 255]);
        assert_eq!(ImageFacts::measure(&dark).background, Backdrop::PlainDark);
        let mut busy = Raster::new(64, 64, [0; 4]);
        for y in 0..64 {
            for x in 0..64 {
                let v = if (x / 4 + y / 4) % 2 == 0 { 20 } else { 230 };
                busy.put(x, y, [v, v, v, 255]);
            }
        }
        assert_eq!(ImageFacts::measure(&busy).background, Backdrop::Busy);
    }

    #[test]
    fn file_facts() {
        let f = FileFacts::new("shots/IMG_1.final.JPG", 1234, Some(Format::Jpeg));
        assert_eq!(
            (f.name.as_str(), f.stem.as_str(), f.format.as_str(), f.bytes),
            ("IMG_1.final.JPG", "IMG_1.final", "jpeg", 1234)
        );
        assert_eq!(FileFacts::new(".hidden", 0, None).stem, ".hidden");
    }

    #[test]
    fn field_kinds() {
        assert_eq!(field_kind("product.price"), Some(FieldKind::Number));
        assert_eq!(field_kind("product.material"), Some(FieldKind::Text));
        assert_eq!(field_kind("product.tags"), Some(FieldKind::List));
        assert_eq!(field_kind("image.colour"), None);
        assert_eq!(field_kind("price"), None);
        assert_eq!(field_kind("product."), None);
    }
}
