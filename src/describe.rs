//! Workflows in plain words, for merchants reading one they did not write (a share link, the
//! other device's version in a sync conflict): each step as a short sentence, IF/ELSE as indented
//! lines.

use shotline_core::channels::Channel;
use shotline_core::condition::{Comparison, Condition, Op};
use shotline_core::model::{Action, Format, Step};

/// One line of a workflow's outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// How deep inside IF / OTHERWISE blocks the line sits (0 = top level).
    pub depth: usize,
    pub kind: LineKind,
    pub text: String,
    /// The step is switched off in the document (`enabled: false`).
    pub off: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Step,
    If,
    Otherwise,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Step => "step",
            LineKind::If => "if",
            LineKind::Otherwise => "else",
        }
    }
}

/// The steps as an outline, top to bottom, nested blocks one level deeper than their IF.
pub fn outline(steps: &[Step]) -> Vec<Line> {
    let mut out = Vec::new();
    walk(steps, 0, &mut out);
    out
}

fn walk(steps: &[Step], depth: usize, out: &mut Vec<Line>) {
    for s in steps {
        let off = !s.enabled;
        let labelled = |text: String| match s.label.as_deref().map(str::trim) {
            Some(label) if !label.is_empty() => format!("{label} — {text}"),
            _ => text,
        };
        if let Action::If(iff) = &s.action {
            out.push(Line {
                depth,
                kind: LineKind::If,
                text: labelled(format!("If {}", condition(&iff.when))),
                off,
            });
            walk(&iff.then, depth + 1, out);
            if !iff.otherwise.is_empty() {
                out.push(Line {
                    depth,
                    kind: LineKind::Otherwise,
                    text: "Otherwise".into(),
                    off,
                });
                walk(&iff.otherwise, depth + 1, out);
            }
        } else {
            out.push(Line {
                depth,
                kind: LineKind::Step,
                text: labelled(action(&s.action)),
                off,
            });
        }
    }
}

/// What one (non-IF) step does, in a few words.
pub fn action(a: &Action) -> String {
    match a {
        Action::RemoveBackground(_) => "Remove the background".into(),
        Action::Background(b) => format!("Put the product on {}", colour(&b.color)),
        Action::Shadow(_) => "Add a shadow under the product".into(),
        Action::AutoEnhance(_) => "Fix colour and light automatically".into(),
        Action::Adjust(_) => "Adjust brightness, contrast and colour".into(),
        Action::ReduceGlare(_) => "Reduce glare and hot spots".into(),
        Action::CropToSubject(_) => "Crop around the product".into(),
        Action::Resize(r) => match (r.width, r.height) {
            (Some(w), Some(h)) => format!("Resize to {w} × {h} px"),
            (Some(w), None) => format!("Resize to {w} px wide"),
            (None, Some(h)) => format!("Resize to {h} px high"),
            (None, None) => "Resize".into(),
        },
        Action::Watermark(w) => match w.text.as_deref().map(str::trim) {
            Some(t) if !t.is_empty() => format!("Add the watermark “{t}”"),
            _ => "Add a logo watermark".into(),
        },
        Action::Filter(f) => format!("Apply the “{}” filter", f.name.replace('_', " ")),
        Action::Export(e) => {
            let mut s = match e.format {
                Format::Jpeg => format!("Save as JPEG (quality {})", e.quality),
                Format::Png => "Save as PNG".into(),
                Format::Webp => "Save as WebP".into(),
            };
            if let Some(max) = e.max_bytes {
                s.push_str(&format!(", at most {}", size(max)));
            }
            if let Some(c) = e.check {
                s.push_str(&format!(", checked against {}'s rules", channel(c)));
            }
            s
        }
        Action::GenerateCopy(_) => "Write the title, alt text and captions".into(),
        Action::Channel(c) => format!("Make the {} image", channel(c.channel)),
        Action::Warn(w) => format!("Warn: {}", w.message),
        Action::Notify(n) => format!("Notify {} when a server run ends", n.url),
        Action::If(iff) => format!("If {}", condition(&iff.when)),
    }
}

/// The marketplace or network as merchants know it.
pub fn channel(c: Channel) -> &'static str {
    match c {
        Channel::AmazonMain => "Amazon main",
        Channel::ShopifySquare => "Shopify square",
        Channel::Etsy => "Etsy",
        Channel::Ebay => "eBay",
        Channel::InstagramSquare => "Instagram square",
        Channel::InstagramPortrait => "Instagram portrait",
        Channel::InstagramStory => "Instagram story",
        Channel::FacebookCatalog => "Facebook catalog",
        Channel::GoogleMerchant => "Google Merchant",
        Channel::Pinterest => "Pinterest",
        Channel::Woocommerce => "WooCommerce",
    }
}

/// A condition as a sentence: "product category is one of “Jewelry” or “Jewellery”".
pub fn condition(c: &Condition) -> String {
    match c {
        Condition::All { all } if all.is_empty() => "always".into(),
        Condition::Any { any } if any.is_empty() => "never".into(),
        Condition::All { all } => join(all, " and "),
        Condition::Any { any } => join(any, " or "),
        Condition::Not { not } => format!("not ({})", condition(not)),
        Condition::Compare(cmp) => comparison(cmp),
    }
}

fn join(list: &[Condition], sep: &str) -> String {
    let parts: Vec<String> = list
        .iter()
        .map(|c| match c {
            // Groups inside groups keep their brackets so "a and (b or c)" reads right.
            Condition::All { all } if all.len() > 1 => format!("({})", condition(c)),
            Condition::Any { any } if any.len() > 1 => format!("({})", condition(c)),
            _ => condition(c),
        })
        .collect();
    parts.join(sep)
}

fn comparison(c: &Comparison) -> String {
    let field = c.field.replace(['.', '_'], " ");
    let value = value(&c.value);
    match c.op {
        Op::Eq => format!("{field} is {value}"),
        Op::Ne => format!("{field} is not {value}"),
        Op::Contains => format!("{field} contains {value}"),
        Op::StartsWith => format!("{field} starts with {value}"),
        Op::In => format!("{field} is one of {value}"),
        Op::Gt => format!("{field} is more than {value}"),
        Op::Gte => format!("{field} is at least {value}"),
        Op::Lt => format!("{field} is less than {value}"),
        Op::Lte => format!("{field} is at most {value}"),
        Op::Matches => format!("{field} matches {value}"),
        Op::IsEmpty if c.value == serde_json::Value::Bool(false) => format!("{field} is not empty"),
        Op::IsEmpty => format!("{field} is empty"),
    }
}

fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("“{s}”"),
        serde_json::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(value).collect();
            match items.as_slice() {
                [] => "nothing".into(),
                [one] => one.clone(),
                [init @ .., last] => format!("{} or {last}", init.join(", ")),
            }
        }
        serde_json::Value::Null => "empty".into(),
        other => other.to_string(),
    }
}

fn colour(hex: &str) -> String {
    match hex.trim().to_ascii_uppercase().as_str() {
        "#FFF" | "#FFFFFF" | "#FFFFFFFF" | "WHITE" => "pure white".into(),
        "" => "a plain background".into(),
        other => other.to_string(),
    }
}

fn size(bytes: u64) -> String {
    crate::process::format_size(usize::try_from(bytes).unwrap_or(usize::MAX))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn steps(json: &str) -> Vec<Step> {
        shotline_core::validate::parse(json)
            .map(|w| w.steps)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// IF/ELSE blocks become indented lines under "If …" and "Otherwise", in document order.
    #[test]
    fn if_else_is_indented_and_in_plain_words() {
        let lines = outline(&steps(
            r#"{"schema":1,"name":"x","steps":[
              {"type":"if","when":{"field":"product.category","op":"in","value":["Jewelry","Jewellery"]},
               "then":[{"type":"reduce_glare"}],"else":[{"type":"auto_enhance"}]},
              {"type":"remove_background"},
              {"type":"channel","channel":"amazon_main"}]}"#,
        ));
        let shown: Vec<(usize, &str)> = lines.iter().map(|l| (l.depth, l.text.as_str())).collect();
        assert_eq!(
            shown,
            vec![
                (0, "If product category is one of “Jewelry” or “Jewellery”"),
                (1, "Reduce glare and hot spots"),
                (0, "Otherwise"),
                (1, "Fix colour and light automatically"),
                (0, "Remove the background"),
                (0, "Make the Amazon main image"),
            ]
        );
        assert_eq!(lines[0].kind, LineKind::If);
        assert_eq!(lines[2].kind, LineKind::Otherwise);
    }

    /// Groups read as "and"/"or" sentences with brackets where they nest.
    #[test]
    fn conditions_read_as_sentences() {
        let lines = outline(&steps(
            r#"{"schema":1,"name":"x","steps":[
              {"type":"if","when":{"all":[{"field":"image.width","op":"lt","value":1000},
                 {"any":[{"field":"file.name","op":"matches","value":"*-raw*"},{"not":{"field":"product.sku","op":"is_empty"}}]}]},
               "then":[{"type":"export","format":"jpeg","quality":80,"max_bytes":1048576}]}]}"#,
        ));
        assert_eq!(
            lines[0].text,
            "If image width is less than 1000 and (file name matches “*-raw*” or not (product sku is empty))"
        );
        assert_eq!(lines[1].text, "Save as JPEG (quality 80), at most 1.0 MB");
        assert_eq!(lines.len(), 2, "no Otherwise line without an else block");
    }

    /// Every bundled template has a readable outline with no raw snake_case step names.
    #[test]
    fn templates_have_no_raw_type_names() {
        for (id, wf) in shotline_core::templates::all() {
            for line in outline(&wf.steps) {
                assert!(
                    !line.text.contains('_') || line.text.contains('“'),
                    "{id}: {}",
                    line.text
                );
            }
        }
    }
}
