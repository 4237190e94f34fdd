//! Product data per photo: a CSV matched by file name, or a webhook / API payload. Absent data
//! leaves fields empty; nothing here fails on missing columns.

use crate::facts::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One product's fields (`sku`, `title`, `category`, `tags`, `price`, any other column), keyed by
/// lower-case column name. Values are kept as text; `price` and `tags` are typed on read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Product {
    pub fields: BTreeMap<String, String>,
}

impl Product {
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.fields.insert(
            name.trim().to_ascii_lowercase(),
            value.into().trim().to_string(),
        );
    }

    /// The field as a condition reads it: `tags` is a list (comma / semicolon / pipe separated),
    /// number columns are numbers when they parse (a currency sign or thousands comma is ignored).
    pub fn value(&self, name: &str) -> Value {
        let raw = self.get(name);
        match name {
            "tags" => Value::List(split_tags(raw)),
            "price" | "compare_at_price" | "weight" | "quantity" => match parse_number(raw) {
                Some(n) => Value::Number(n),
                None => Value::Text(String::new()),
            },
            _ => Value::Text(raw.to_string()),
        }
    }

    /// Builds a product from a JSON object of fields (API / generic webhook). Nested values are
    /// flattened to text; arrays of strings become comma-separated (so `tags: ["a","b"]` works).
    pub fn from_json(v: &serde_json::Value) -> Product {
        let mut p = Product::default();
        if let Some(obj) = v.as_object() {
            for (k, v) in obj {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(crate::condition::json_text)
                        .collect::<Vec<_>>()
                        .join(", "),
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::Object(_) => continue,
                    other => other.to_string(),
                };
                p.set(k, text);
            }
        }
        p
    }
}

pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split([',', ';', '|'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

fn parse_number(raw: &str) -> Option<f64> {
    let cleaned: String = raw
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    cleaned.parse().ok()
}

/// Products read from a CSV, looked up by photo file name.
#[derive(Debug, Clone, Default)]
pub struct ProductTable {
    rows: Vec<(String, Product)>,
}

/// A CSV that cannot be used, with the line and the reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("products CSV: {0}")]
pub struct CsvError(pub String);

impl ProductTable {
    /// Parses `file,sku,title,category,tags,price,...`. The `file` column (also accepted: `filename`,
    /// `image`, `photo`) is required; other columns are free. A UTF-8 BOM is ignored.
    pub fn from_csv(text: &str) -> Result<ProductTable, CsvError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers: Vec<String> = rdr
            .headers()
            .map_err(|e| CsvError(format!("cannot read the header row: {e}")))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        let file_col = headers
            .iter()
            .position(|h| {
                matches!(
                    h.as_str(),
                    "file" | "filename" | "file_name" | "image" | "photo"
                )
            })
            .ok_or_else(|| {
                CsvError(format!(
                    "no `file` column (found: {}); add a column `file` with each photo's file name",
                    headers.join(", ")
                ))
            })?;
        let mut rows = Vec::new();
        for (i, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| CsvError(format!("line {}: {e}", i + 2)))?;
            let file = rec.get(file_col).unwrap_or("").trim();
            if file.is_empty() {
                continue;
            }
            let mut p = Product::default();
            for (h, v) in headers.iter().zip(rec.iter()) {
                if !h.is_empty() {
                    p.set(h, v);
                }
            }
            rows.push((file.to_string(), p));
        }
        Ok(ProductTable { rows })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The product of a photo: exact file name first, then case-insensitive, then by stem
    /// (so `ring.jpg` in the CSV matches `ring.JPEG` on disk). None when no row matches.
    pub fn lookup(&self, file_name: &str) -> Option<&Product> {
        let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        let stem = |s: &str| {
            s.rsplit_once('.')
                .map(|(a, _)| a)
                .unwrap_or(s)
                .to_lowercase()
        };
        self.rows
            .iter()
            .find(|(f, _)| f == base)
            .or_else(|| self.rows.iter().find(|(f, _)| f.eq_ignore_ascii_case(base)))
            .or_else(|| self.rows.iter().find(|(f, _)| stem(f) == stem(base)))
            .map(|(_, p)| p)
    }
}

/// An image named in a webhook payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRef {
    pub url: String,
    pub name: String,
}

/// Reads Shopify's product webhook (`products/create`, `products/update`): the product's fields
/// (`sku` from the first variant, `title`, `category` from `product_type`, `brand` from `vendor`,
/// `tags`, `price`, `handle`, `description` from `body_html` without tags) and its image URLs.
pub fn from_shopify(v: &serde_json::Value) -> (Product, Vec<ImageRef>) {
    let mut p = Product::default();
    let s = |k: &str| {
        v.get(k)
            .map(crate::condition::json_text)
            .unwrap_or_default()
    };
    p.set("title", s("title"));
    p.set("category", s("product_type"));
    p.set("brand", s("vendor"));
    p.set("tags", s("tags"));
    p.set("handle", s("handle"));
    p.set("id", s("id"));
    p.set("description", strip_html(&s("body_html")));
    if let Some(v0) = v.get("variants").and_then(|a| a.get(0)) {
        p.set(
            "sku",
            v0.get("sku")
                .map(crate::condition::json_text)
                .unwrap_or_default(),
        );
        p.set(
            "price",
            v0.get("price")
                .map(crate::condition::json_text)
                .unwrap_or_default(),
        );
    }
    let images = v
        .get("images")
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|img| img.get("src").and_then(|s| s.as_str()))
                .enumerate()
                .map(|(i, url)| {
                    let last = url
                        .split('?')
                        .next()
                        .unwrap_or(url)
                        .rsplit('/')
                        .next()
                        .unwrap_or("");
                    let name = if last.is_empty() {
                        format!("image-{}.jpg", i + 1)
                    } else {
                        last.to_string()
                    };
                    ImageRef {
                        url: url.to_string(),
                        name,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    (p, images)
}

fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_match_by_file_name_and_stem() {
        let t = ProductTable::from_csv("\u{feff}File,SKU,Title,Category,Tags,Price,Material\nring.jpg,R-1,Silver ring,Jewelry,\"sale, rings\",$1,299.00,silver\nmug.png,M-2,Mug,Kitchen,,12\n").unwrap();
        assert_eq!(t.len(), 2);
        let r = t.lookup("photos/RING.JPG").unwrap();
        assert_eq!(r.get("sku"), "R-1");
        assert_eq!(
            r.value("tags"),
            Value::List(vec!["sale".into(), "rings".into()])
        );
        assert_eq!(
            r.get("material"),
            "299.00",
            "flexible rows keep columns positional"
        );
        assert_eq!(
            t.lookup("mug.jpeg").unwrap().value("price"),
            Value::Number(12.0)
        );
        assert!(t.lookup("other.jpg").is_none());
    }

    #[test]
    fn csv_without_a_file_column_says_so() {
        let e = ProductTable::from_csv("sku,title\nA,B\n").unwrap_err();
        assert!(e.to_string().contains("no `file` column"), "{e}");
    }

    #[test]
    fn missing_fields_are_empty_not_errors() {
        let p = Product::default();
        assert_eq!(p.value("price"), Value::Text(String::new()));
        assert!(p.value("tags").is_empty());
        assert_eq!(p.get("anything"), "");
    }

    #[test]
    fn shopify_payload() {
        let v = serde_json::json!({
            "id": 788032119674292922u64, "title": "Example T-Shirt", "body_html": "<p>Soft <b>cotton</b></p>",
            "vendor": "Acme", "product_type": "Shirts", "handle": "example-t-shirt", "tags": "example, mens",
            "variants": [{"sku": "example-shirt-s", "price": "19.99"}],
            "images": [{"src": "https://cdn.shopify.com/s/files/1/shirt.jpg?v=1"}]
        });
        let (p, imgs) = from_shopify(&v);
        assert_eq!(p.get("sku"), "example-shirt-s");
        assert_eq!(p.get("category"), "Shirts");
        assert_eq!(p.get("description"), "Soft cotton");
        assert_eq!(p.value("price"), Value::Number(19.99));
        assert_eq!(
            imgs,
            vec![ImageRef {
                url: "https://cdn.shopify.com/s/files/1/shirt.jpg?v=1".into(),
                name: "shirt.jpg".into()
            }]
        );
        let (empty, none) = from_shopify(&serde_json::json!({}));
        assert_eq!(empty.get("title"), "");
        assert!(none.is_empty());
    }
}
