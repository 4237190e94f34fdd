//! IF rules as data: `all` / `any` / `not` groups over comparisons `field op value`.
//!
//! ```json
//! { "all": [ { "field": "product.category", "op": "eq", "value": "Jewelry" },
//!            { "not": { "field": "image.width", "op": "gte", "value": 1000 } } ] }
//! ```

use crate::facts::{FieldKind, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A condition tree.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Condition {
    /// True when every child is true (an empty list is true).
    All { all: Vec<Condition> },
    /// True when any child is true (an empty list is false).
    Any { any: Vec<Condition> },
    /// Negation.
    Not { not: Box<Condition> },
    /// A single comparison.
    Compare(Comparison),
}

/// `field op value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// `product.<column>`, `image.<fact>` or `file.<fact>`.
    pub field: String,
    pub op: Op,
    /// A string, number, boolean or (for `in`) a list. Not needed for `is_empty`.
    #[serde(default)]
    pub value: serde_json::Value,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    /// Text contains the value (case-insensitive); for `product.tags`, one tag equals it.
    Contains,
    StartsWith,
    /// Equal to one of a list.
    In,
    Gt,
    Gte,
    Lt,
    Lte,
    /// Glob match: `*` any run, `?` one character, `[abc]` a set (case-insensitive).
    Matches,
    /// The field is empty (`value: false` inverts it).
    IsEmpty,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Contains => "contains",
            Op::StartsWith => "starts_with",
            Op::In => "in",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Matches => "matches",
            Op::IsEmpty => "is_empty",
        }
    }
    fn is_ordering(self) -> bool {
        matches!(self, Op::Gt | Op::Gte | Op::Lt | Op::Lte)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Condition::from_value(&v).map_err(serde::de::Error::custom)
    }
}

impl Condition {
    /// Parses a condition, with messages that say which key was expected.
    pub fn from_value(v: &serde_json::Value) -> Result<Condition, String> {
        let obj = v.as_object().ok_or_else(|| {
            "a condition must be an object: {\"field\", \"op\", \"value\"} or {\"all\"|\"any\"|\"not\": ...}".to_string()
        })?;
        let group = |key: &str| -> Result<Vec<Condition>, String> {
            let list = obj[key]
                .as_array()
                .ok_or_else(|| format!("`{key}` must be a list of conditions"))?;
            list.iter().map(Condition::from_value).collect()
        };
        if obj.contains_key("all") {
            Ok(Condition::All { all: group("all")? })
        } else if obj.contains_key("any") {
            Ok(Condition::Any { any: group("any")? })
        } else if let Some(n) = obj.get("not") {
            Ok(Condition::Not {
                not: Box::new(Condition::from_value(n)?),
            })
        } else if obj.contains_key("field") {
            serde_json::from_value::<Comparison>(v.clone())
                .map(Condition::Compare)
                .map_err(|e| e.to_string())
        } else {
            Err("a condition needs `field` and `op` (or an `all`, `any` or `not` group)".into())
        }
    }

    /// A comparison, for building conditions in code.
    pub fn compare(field: &str, op: Op, value: impl Into<serde_json::Value>) -> Condition {
        Condition::Compare(Comparison {
            field: field.into(),
            op,
            value: value.into(),
        })
    }

    /// Evaluates against the facts of one photo. Missing fields read as empty.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Value) -> bool {
        match self {
            Condition::All { all } => all.iter().all(|c| c.eval(lookup)),
            Condition::Any { any } => any.iter().any(|c| c.eval(lookup)),
            Condition::Not { not } => !not.eval(lookup),
            Condition::Compare(c) => c.eval(&lookup(&c.field)),
        }
    }

    /// Type-checks the tree. Each problem is `(path inside the condition, message)`.
    pub fn check(&self, path: &str, out: &mut Vec<(String, String)>) {
        match self {
            Condition::All { all } => {
                for (i, c) in all.iter().enumerate() {
                    c.check(&format!("{path}.all[{i}]"), out)
                }
            }
            Condition::Any { any } => {
                for (i, c) in any.iter().enumerate() {
                    c.check(&format!("{path}.any[{i}]"), out)
                }
            }
            Condition::Not { not } => not.check(&format!("{path}.not"), out),
            Condition::Compare(c) => {
                if let Err(m) = c.check() {
                    out.push((path.to_string(), m));
                }
            }
        }
    }
}

impl Comparison {
    /// Checks that the field exists and that the operator and value fit its type.
    pub fn check(&self) -> Result<(), String> {
        let f = &self.field;
        let kind = crate::facts::field_kind(f).ok_or_else(|| {
            format!(
                "unknown field `{f}`: use product.<column> (sku, title, category, tags, price, brand, color, ...), \
                 image.width|height|megapixels|aspect|has_transparency|brightness|background or file.name|stem|format|bytes"
            )
        })?;
        let op = self.op.name();
        let v = &self.value;
        let value_is = |pred: fn(&serde_json::Value) -> bool| pred(v);
        match (kind, self.op) {
            (_, Op::IsEmpty) => {
                if !(v.is_null() || v.is_boolean()) {
                    return Err(format!(
                        "`is_empty` takes no value or true/false (field `{f}`)"
                    ));
                }
            }
            (_, Op::In) => {
                let list = v.as_array().ok_or_else(|| {
                    format!("`in` needs a list of values for `{f}`, e.g. [\"a\", \"b\"]")
                })?;
                if kind == FieldKind::Number && !list.iter().all(|x| x.is_number()) {
                    return Err(format!(
                        "`{f}` is a number: every value in the `in` list must be a number"
                    ));
                }
            }
            (FieldKind::Number, o) if o.is_ordering() || matches!(o, Op::Eq | Op::Ne) => {
                if !value_is(serde_json::Value::is_number) {
                    return Err(format!(
                        "`{f}` is a number: compare it with a number, not {}",
                        describe(v)
                    ));
                }
            }
            (FieldKind::Number, _) => {
                return Err(format!("`{op}` does not apply to the number field `{f}`; use eq, ne, gt, gte, lt, lte or in"));
            }
            (FieldKind::Bool, Op::Eq | Op::Ne) => {
                if !value_is(serde_json::Value::is_boolean) {
                    return Err(format!(
                        "`{f}` is true or false: compare it with true or false, not {}",
                        describe(v)
                    ));
                }
            }
            (FieldKind::Bool, _) => {
                return Err(format!(
                    "`{op}` does not apply to the true/false field `{f}`; use eq or ne"
                ));
            }
            (FieldKind::Text | FieldKind::List, o) if o.is_ordering() => {
                return Err(format!("`{op}` compares numbers, but `{f}` is text; use eq, contains, starts_with, in or matches"));
            }
            (FieldKind::Text | FieldKind::List, _) => {
                if !(v.is_string() || v.is_number()) {
                    return Err(format!(
                        "`{f}` is text: compare it with text, not {}",
                        describe(v)
                    ));
                }
            }
        }
        Ok(())
    }

    fn eval(&self, actual: &Value) -> bool {
        let want = &self.value;
        match self.op {
            Op::IsEmpty => actual.is_empty() == want.as_bool().unwrap_or(true),
            Op::Eq => actual.equals(want),
            Op::Ne => !actual.equals(want),
            Op::In => want
                .as_array()
                .is_some_and(|l| l.iter().any(|w| actual.equals(w))),
            Op::Contains => {
                let needle = json_text(want).to_lowercase();
                match actual {
                    Value::List(items) => items.iter().any(|t| t.to_lowercase() == needle),
                    other => other.as_text().to_lowercase().contains(&needle),
                }
            }
            Op::StartsWith => actual
                .as_text()
                .to_lowercase()
                .starts_with(&json_text(want).to_lowercase()),
            Op::Matches => glob_match(
                &json_text(want).to_lowercase(),
                &actual.as_text().to_lowercase(),
            ),
            Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
                let (Some(a), Some(b)) = (actual.as_number(), want.as_f64()) else {
                    return false;
                };
                match self.op {
                    Op::Gt => a > b,
                    Op::Gte => a >= b,
                    Op::Lt => a < b,
                    _ => a <= b,
                }
            }
        }
    }
}

fn describe(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "nothing".into(),
        serde_json::Value::String(s) => format!("the text \"{s}\""),
        other => format!("`{other}`"),
    }
}

/// A JSON scalar as text (numbers without quotes).
pub fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Glob matching over characters: `*`, `?`, `[set]` / `[!set]` / ranges `[a-z]`.
/// Iterative with one backtrack point, so hostile patterns stay linear-ish.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = class_match(&p, pi, t[ti]) {
                        if matched {
                            pi = next;
                            ti += 1;
                            continue;
                        }
                    } else if t[ti] == '[' {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                }
                c if c == t[ti] => {
                    pi += 1;
                    ti += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the class starting at `p[start] == '['`; returns (matched, index after `]`),
/// or None when the class is not closed (then `[` is literal).
fn class_match(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = i < p.len() && (p[i] == '!' || p[i] == '^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() && (p[i] != ']' || first) {
        first = false;
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            if p[i] <= c && c <= p[i + 2] {
                matched = true;
            }
            i += 3;
        } else {
            if p[i] == c {
                matched = true;
            }
            i += 1;
        }
    }
    if i >= p.len() {
        return None;
    }
    Some((matched != negate, i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(field: &str) -> Value {
        match field {
            "product.category" => Value::Text("Jewelry".into()),
            "product.title" => Value::Text("Silver Ring 925".into()),
            "product.tags" => Value::List(vec!["sale".into(), "Rings".into()]),
            "product.price" => Value::Number(49.5),
            "product.brand" => Value::Text(String::new()),
            "image.width" => Value::Number(800.0),
            "image.has_transparency" => Value::Bool(false),
            "image.background" => Value::Text("plain_white".into()),
            "file.name" => Value::Text("IMG_0042.JPG".into()),
            _ => Value::Text(String::new()),
        }
    }

    fn cond(v: serde_json::Value) -> Condition {
        serde_json::from_value(v).expect("condition parses")
    }

    /// Every operator against the table of facts above: (condition, expected).
    #[test]
    fn condition_table() {
        let table = [
            (
                json!({"field":"product.category","op":"eq","value":"Jewelry"}),
                true,
            ),
            (
                json!({"field":"product.category","op":"eq","value":"Shoes"}),
                false,
            ),
            (
                json!({"field":"product.category","op":"ne","value":"Shoes"}),
                true,
            ),
            (
                json!({"field":"product.title","op":"contains","value":"ring"}),
                true,
            ),
            (
                json!({"field":"product.title","op":"starts_with","value":"silver"}),
                true,
            ),
            (
                json!({"field":"product.title","op":"starts_with","value":"ring"}),
                false,
            ),
            (
                json!({"field":"product.tags","op":"contains","value":"rings"}),
                true,
            ),
            (
                json!({"field":"product.tags","op":"contains","value":"ring"}),
                false,
            ),
            (
                json!({"field":"product.category","op":"in","value":["Shoes","Jewelry"]}),
                true,
            ),
            (json!({"field":"product.price","op":"gt","value":49}), true),
            (
                json!({"field":"product.price","op":"lte","value":49}),
                false,
            ),
            (
                json!({"field":"product.price","op":"in","value":[10, 49.5]}),
                true,
            ),
            (json!({"field":"image.width","op":"lt","value":1000}), true),
            (
                json!({"field":"image.width","op":"gte","value":1000}),
                false,
            ),
            (
                json!({"field":"image.has_transparency","op":"eq","value":false}),
                true,
            ),
            (
                json!({"field":"file.name","op":"matches","value":"img_*.jpg"}),
                true,
            ),
            (
                json!({"field":"file.name","op":"matches","value":"img_00[0-4]?.jpg"}),
                true,
            ),
            (
                json!({"field":"file.name","op":"matches","value":"*.png"}),
                false,
            ),
            (json!({"field":"product.brand","op":"is_empty"}), true),
            (
                json!({"field":"product.brand","op":"is_empty","value":false}),
                false,
            ),
            (
                json!({"field":"product.unknown_column","op":"is_empty"}),
                true,
            ),
            (
                json!({"all":[{"field":"product.category","op":"eq","value":"Jewelry"},{"field":"image.width","op":"lt","value":1000}]}),
                true,
            ),
            (json!({"all":[]}), true),
            (json!({"any":[]}), false),
            (
                json!({"any":[{"field":"product.category","op":"eq","value":"Shoes"},{"not":{"field":"image.width","op":"gte","value":1000}}]}),
                true,
            ),
            (
                json!({"not":{"field":"image.background","op":"eq","value":"plain_white"}}),
                false,
            ),
        ];
        for (c, expected) in table {
            assert_eq!(cond(c.clone()).eval(&facts), expected, "{c}");
        }
    }

    /// Type errors name the field and say what to change.
    #[test]
    fn comparing_a_number_with_text_is_refused() {
        let c = cond(json!({"field":"product.price","op":"gt","value":"cheap"}));
        let mut out = Vec::new();
        c.check("when", &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].1.contains("product.price") && out[0].1.contains("number"),
            "{out:?}"
        );

        let c = cond(json!({"all":[{"field":"image.colour","op":"eq","value":"red"}]}));
        let mut out = Vec::new();
        c.check("when", &mut out);
        assert_eq!(out[0].0, "when.all[0]");
        assert!(out[0].1.contains("unknown field `image.colour`"));

        let c = cond(json!({"field":"product.title","op":"gt","value":3}));
        let mut out = Vec::new();
        c.check("when", &mut out);
        assert!(out[0].1.contains("text"));
    }

    #[test]
    fn malformed_conditions_say_what_is_expected() {
        let e = serde_json::from_value::<Condition>(json!({"fld":"x"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs `field` and `op`"), "{e}");
        let e = serde_json::from_value::<Condition>(json!({"all": 3}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`all` must be a list"), "{e}");
        let e = serde_json::from_value::<Condition>(json!({"field":"a","op":"approx"}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("approx"), "{e}");
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("[!a]x", "bx"));
        assert!(!glob_match("[!a]x", "ax"));
        assert!(glob_match("[abc", "[abc"));
        assert!(!glob_match("?", ""));
        // Pathological pattern terminates quickly.
        assert!(!glob_match(&"*a".repeat(50), &"a".repeat(40)));
    }
}
