//! `generate_copy`: listing text from product fields and image facts through editable templates.
//!
//! Templates use `{{field}}` placeholders: any product column (`{{title}}` or `{{product.title}}`),
//! `{{image.width}}`..., `{{file.stem}}`..., plus `{{colors}}` / `{{color}}` (dominant colour names
//! of the subject, measured) and `{{hashtags}}` (tags and category as `#hashtags`). The output is a
//! pure function of the inputs: the same photo and product always give the same text.

use crate::facts::Facts;
use crate::ops::Problem;
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `generate_copy`: one template per text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct GenerateCopy {
    pub title: String,
    pub description: String,
    pub alt_text: String,
    pub instagram: String,
    pub facebook: String,
    /// Titles longer than this are cut at a word boundary (Amazon allows 200 characters).
    pub max_title_chars: usize,
}

impl Default for GenerateCopy {
    fn default() -> Self {
        GenerateCopy {
            title: "{{brand}} {{title}} – {{color}}".into(),
            description: "{{description}} {{title}} in {{colors}}. Category: {{category}}.".into(),
            alt_text: "{{color}} {{title}} on a white background".into(),
            instagram: "New in: {{title}} ✨ {{price_text}} {{hashtags}}".into(),
            facebook: "{{title}} – {{colors}}. {{description}} {{price_text}}".into(),
            max_title_chars: 200,
        }
    }
}

/// The texts generated for one photo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Copy {
    pub title: String,
    pub description: String,
    pub alt_text: String,
    pub instagram: String,
    pub facebook: String,
    /// The dominant colour names measured on the subject, most covering first.
    pub colors: Vec<String>,
}

const SPECIAL: [&str; 4] = ["colors", "color", "hashtags", "price_text"];

impl GenerateCopy {
    /// Every placeholder must name a known field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (field, t) in [
            ("title", &self.title),
            ("description", &self.description),
            ("alt_text", &self.alt_text),
            ("instagram", &self.instagram),
            ("facebook", &self.facebook),
        ] {
            for ph in placeholders(t) {
                if let Err(m) = check_placeholder(&ph) {
                    out.push(Problem::new(field, m));
                }
            }
            if t.matches("{{").count() != t.matches("}}").count() {
                out.push(Problem::new(field, "a `{{` has no matching `}}`"));
            }
        }
        if self.max_title_chars == 0 {
            out.push(Problem::new("max_title_chars", "must be at least 1"));
        }
        out
    }

    /// Fills the templates for one photo.
    pub fn generate(&self, facts: &Facts<'_>, img: &Raster) -> Copy {
        let colors = dominant_colors(img, 2);
        let ctx = Ctx {
            facts,
            colors: &colors,
        };
        let mut title = fill(&self.title, &ctx);
        if title.chars().count() > self.max_title_chars {
            title = cut_at_word(&title, self.max_title_chars);
        }
        Copy {
            title,
            description: fill(&self.description, &ctx),
            alt_text: fill(&self.alt_text, &ctx),
            instagram: fill(&self.instagram, &ctx),
            facebook: fill(&self.facebook, &ctx),
            colors,
        }
    }
}

/// The placeholder names inside `{{ }}` in a template.
pub fn placeholders(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        out.push(after[..j].trim().to_string());
        rest = &after[j + 2..];
    }
    out
}

fn check_placeholder(ph: &str) -> Result<(), String> {
    if SPECIAL.contains(&ph) {
        return Ok(());
    }
    let full = if ph.contains('.') {
        ph.to_string()
    } else {
        format!("product.{ph}")
    };
    crate::facts::field_kind(&full)
        .map(|_| ())
        .ok_or_else(|| format!("unknown placeholder `{{{{{ph}}}}}`"))
}

struct Ctx<'a> {
    facts: &'a Facts<'a>,
    colors: &'a [String],
}

impl Ctx<'_> {
    fn lookup(&self, ph: &str) -> String {
        match ph {
            "colors" => join_and(self.colors),
            "color" => self
                .colors
                .first()
                .cloned()
                .map(|c| capitalise(&c))
                .unwrap_or_default(),
            "hashtags" => {
                let mut tags = crate::products::split_tags(self.facts.product.get("tags"));
                let cat = self.facts.product.get("category");
                if !cat.is_empty() {
                    tags.push(cat.to_string());
                }
                let mut seen = Vec::new();
                for t in tags {
                    let h: String = t
                        .chars()
                        .filter(|c| c.is_alphanumeric())
                        .collect::<String>()
                        .to_lowercase();
                    if !h.is_empty() && !seen.contains(&h) {
                        seen.push(h);
                    }
                }
                seen.iter()
                    .map(|h| format!("#{h}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            "price_text" => match self.facts.product.value("price").as_number() {
                Some(n) => {
                    let cur = self.facts.product.get("currency");
                    if cur.is_empty() {
                        format!("{n:.2}")
                    } else {
                        format!("{n:.2} {cur}")
                    }
                }
                None => String::new(),
            },
            p if p.contains('.') => self.facts.get(p).as_text(),
            p => self.facts.get(&format!("product.{p}")).as_text(),
        }
    }
}

/// Replaces placeholders, then tidies what empty fields leave behind: doubled spaces, a dangling
/// ` – ` or `,` at either end, and empty parentheses.
fn fill(t: &str, ctx: &Ctx<'_>) -> String {
    let mut out = String::with_capacity(t.len() + 32);
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        match after.find("}}") {
            Some(j) => {
                out.push_str(&ctx.lookup(after[..j].trim()));
                rest = &after[j + 2..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    tidy(&out)
}

fn tidy(s: &str) -> String {
    let mut t = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for junk in ["()", "[]"] {
        t = t.replace(junk, "");
    }
    loop {
        let before = t.clone();
        for sep in [" – ", " - ", " | ", ", ", ": "] {
            t = t.replace(&format!("{sep}{sep}"), sep);
            let trimmed = sep.trim_end();
            if let Some(x) = t.strip_suffix(trimmed) {
                t = x.trim_end().to_string();
            }
            let lead = sep.trim_start();
            if let Some(x) = t.strip_prefix(lead) {
                t = x.trim_start().to_string();
            }
        }
        t = t.replace(" .", ".").replace(" ,", ",").replace("..", ".");
        t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(x) = t.strip_prefix(". ") {
            t = x.to_string();
        }
        if t == "." {
            t.clear();
        }
        if t == before {
            return t;
        }
    }
}

fn cut_at_word(s: &str, max: usize) -> String {
    let cut: String = s.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) if i > max / 2 => cut[..i].trim_end_matches([',', '-', '–', ' ']).to_string(),
        _ => cut,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [a] => a.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Named colours (sRGB) the subject's pixels are matched to.
const PALETTE: [(&str, [u8; 3]); 19] = [
    ("black", [20, 20, 20]),
    ("white", [245, 245, 245]),
    ("grey", [128, 128, 128]),
    ("silver", [192, 192, 196]),
    ("red", [200, 30, 35]),
    ("burgundy", [110, 20, 35]),
    ("orange", [240, 130, 30]),
    ("yellow", [245, 215, 40]),
    ("gold", [200, 160, 60]),
    ("beige", [220, 200, 165]),
    ("brown", [120, 75, 40]),
    ("green", [40, 150, 60]),
    ("olive", [110, 120, 50]),
    ("teal", [20, 130, 130]),
    ("blue", [40, 90, 200]),
    ("navy", [25, 35, 85]),
    ("purple", [120, 50, 150]),
    ("pink", [240, 140, 180]),
    ("cream", [250, 240, 215]),
];

fn to_lab(c: [f32; 3]) -> [f32; 3] {
    let lin = |v: f32| {
        let v = v / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let (r, g, b) = (lin(c[0]), lin(c[1]), lin(c[2]));
    let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    let f = |t: f32| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// The names of the subject's dominant colours. Subject pixels are the opaque ones when the image
/// has transparency, else those far (> 40 on some channel) from the border's mean colour, else all.
/// Up to ~40k pixels are sampled on a regular grid, each named by the nearest palette colour in
/// CIELAB, and names covering ≥ 15 % of the subject are returned, most covering first (ties by name).
pub fn dominant_colors(img: &Raster, max: usize) -> Vec<String> {
    if img.is_empty() {
        return Vec::new();
    }
    let transparent = img.has_transparency();
    let (border, _, _) = crate::facts::border_stats(img);
    let step = (img.pixel_count() / 40_000).max(1);
    let pal: Vec<[f32; 3]> = PALETTE
        .iter()
        .map(|(_, c)| to_lab([c[0] as f32, c[1] as f32, c[2] as f32]))
        .collect();
    let mut counts = [0usize; PALETTE.len()];
    let mut counted = |p: &[u8]| {
        let lab = to_lab([p[0] as f32, p[1] as f32, p[2] as f32]);
        let best = pal
            .iter()
            .enumerate()
            .map(|(i, q)| {
                (
                    i,
                    (lab[0] - q[0]).powi(2) + (lab[1] - q[1]).powi(2) + (lab[2] - q[2]).powi(2),
                )
            })
            .fold((0, f32::MAX), |a, b| if b.1 < a.1 { b } else { a })
            .0;
        counts[best] += 1;
    };
    let mut total = 0usize;
    for p in img.as_raw().chunks_exact(4).step_by(step) {
        let subject = if transparent {
            p[3] >= 128
        } else {
            (0..3).any(|c| (p[c] as f64 - border[c]).abs() > 40.0)
        };
        if subject {
            counted(p);
            total += 1;
        }
    }
    if total == 0 {
        for p in img.as_raw().chunks_exact(4).step_by(step) {
            counted(p);
            total += 1;
        }
    }
    let mut ranked: Vec<(usize, &str)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &n)| n * 100 >= total * 15)
        .map(|(i, &n)| (n, PALETTE[i].0))
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    ranked
        .into_iter()
        .take(max)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Quotes a CSV field (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FileFacts, ImageFacts};
    use crate::products::Product;

    fn red_mug() -> Raster {
        let mut img = Raster::new(100, 100, [255, 255, 255, 255]);
        for y in 20..80 {
            for x in 25..75 {
                img.put(
                    x,
                    y,
                    if x < 60 {
                        [200, 28, 30, 255]
                    } else {
                        [30, 35, 90, 255]
                    },
                );
            }
        }
        img
    }

    #[test]
    fn colours_are_measured_on_the_subject_not_the_backdrop() {
        assert_eq!(
            dominant_colors(&red_mug(), 2),
            vec!["red".to_string(), "navy".to_string()]
        );
    }

    #[test]
    fn templates_fill_and_tidy_missing_fields() {
        let img = red_mug();
        let mut product = Product::default();
        product.set("title", "Enamel Mug");
        product.set("category", "Kitchen");
        product.set("tags", "camping, Enamel");
        product.set("price", "12.5");
        let file = FileFacts::new("mug.jpg", 10, None);
        let image = ImageFacts::measure(&img);
        let facts = Facts {
            product: &product,
            file: &file,
            image: &image,
        };
        let c = GenerateCopy::default().generate(&facts, &img);
        assert_eq!(
            c.title, "Enamel Mug – Red",
            "brand is empty and must leave no gap"
        );
        assert_eq!(c.alt_text, "Red Enamel Mug on a white background");
        assert_eq!(
            c.instagram,
            "New in: Enamel Mug ✨ 12.50 #camping #enamel #kitchen"
        );
        assert!(
            c.description.starts_with("Enamel Mug in red and navy."),
            "{}",
            c.description
        );
        // Deterministic.
        assert_eq!(c, GenerateCopy::default().generate(&facts, &img));
    }

    #[test]
    fn unknown_placeholders_are_validation_errors() {
        let g = GenerateCopy {
            title: "{{title}} {{image.colour}}".into(),
            ..Default::default()
        };
        let p = g.validate();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].field, "title");
        assert!(p[0].message.contains("image.colour"));
        assert!(GenerateCopy::default().validate().is_empty());
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        assert_eq!(cut_at_word("alpha beta gamma delta", 13), "alpha beta");
    }
}
