//! Reading and checking workflow documents before anything runs.
//!
//! [`parse`] reads JSON of any supported schema version, migrates it, and reports unknown fields
//! with their path. [`validate`] then checks every step's parameters and every condition, and
//! returns all problems at once, each with a path such as `steps[2].then[0].tolerance`.

use crate::error::{Error, Result};
use crate::model::{Action, Step, Workflow, SCHEMA_VERSION};
use serde::Serialize;
use serde_json::Value;

/// Largest accepted workflow document (a workflow is a few KB; a logo inside one may be more).
pub const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of IF steps.
pub const MAX_DEPTH: usize = 16;

/// One problem in a workflow: where, and what to change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationError {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Parses a workflow document, migrating older schema versions, and refuses unknown fields.
pub fn parse(text: &str) -> Result<Workflow> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::Document(format!(
            "the document is {} bytes; the limit is {MAX_DOCUMENT_BYTES}",
            text.len()
        )));
    }
    let mut v: Value = serde_json::from_str(text).map_err(|e| Error::Document(e.to_string()))?;
    let Some(obj) = v.as_object_mut() else {
        return Err(Error::Document(
            "expected a JSON object with `schema`, `name` and `steps`".into(),
        ));
    };
    let version = match obj.get("schema") {
        None => SCHEMA_VERSION as u64,
        Some(s) => s
            .as_u64()
            .ok_or_else(|| Error::Document("`schema` must be a whole number".into()))?,
    };
    if version == 0 {
        return Err(Error::Document("`schema` must be 1 or more".into()));
    }
    if version > SCHEMA_VERSION as u64 {
        return Err(Error::Document(format!(
            "this workflow was made by a newer Shotline (schema {version}); this version reads schema {SCHEMA_VERSION} and older — update Shotline to open it"
        )));
    }
    migrate(&mut v, version as u32);
    let wf: Workflow = serde_json::from_value(v.clone()).map_err(|e| {
        // Re-read the original text for an error with its line and column, when it fails there too.
        let message = match serde_json::from_str::<Workflow>(text) {
            Err(positioned) => positioned.to_string(),
            Ok(_) => e.to_string(),
        };
        match v
            .get("steps")
            .and_then(Value::as_array)
            .and_then(|s| locate(s, "steps"))
        {
            Some(path) => Error::Document(format!("{path}: {message}")),
            None => Error::Document(message),
        }
    })?;
    let back = serde_json::to_value(&wf).map_err(|e| Error::Document(e.to_string()))?;
    let mut unknown = Vec::new();
    unknown_fields(&v, &back, "", &mut unknown);
    if let Some(first) = unknown.into_iter().next() {
        return Err(Error::Document(first));
    }
    Ok(wf)
}

/// Where a document that does not deserialise goes wrong: the innermost failing step
/// (`steps[2].then[0]`) and, when removing one field makes the error go away or turn into
/// "missing field", that field (`steps[2].then[0].quality`). Serde's own messages lose the path
/// inside tagged and flattened enums, and merchants need to know which step to fix.
fn locate(steps: &[Value], path: &str) -> Option<String> {
    for (i, s) in steps.iter().enumerate() {
        let here = format!("{path}[{i}]");
        if serde_json::from_value::<Step>(s.clone()).is_ok() {
            continue;
        }
        if s.get("type").and_then(Value::as_str) == Some("if") {
            for branch in ["then", "else"] {
                if let Some(inner) = s.get(branch).and_then(Value::as_array) {
                    if let Some(p) = locate(inner, &format!("{here}.{branch}")) {
                        return Some(p);
                    }
                }
            }
        }
        if let Some(obj) = s.as_object() {
            for k in obj.keys().filter(|k| k.as_str() != "type") {
                let mut without = obj.clone();
                without.remove(k);
                match serde_json::from_value::<Step>(Value::Object(without)) {
                    Ok(_) => return Some(format!("{here}.{k}")),
                    Err(e) if e.to_string().contains(&format!("missing field `{k}`")) => {
                        return Some(format!("{here}.{k}"))
                    }
                    Err(_) => {}
                }
            }
        }
        return Some(here);
    }
    None
}

/// Upgrades a document in place from `from` to [`SCHEMA_VERSION`], one version at a time.
/// Schema 1 is the first published format, so there is nothing to upgrade yet; each future
/// version adds one arm here and a fixture in `tests/fixtures/`.
fn migrate(v: &mut Value, from: u32) {
    let _ = from;
    if let Some(o) = v.as_object_mut() {
        o.insert("schema".into(), Value::from(SCHEMA_VERSION));
    }
}

/// Keys present in the input but lost by a parse/serialise round trip are unknown fields.
fn unknown_fields(input: &Value, parsed: &Value, path: &str, out: &mut Vec<String>) {
    match (input, parsed) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match b.get(k) {
                    Some(pv) => {
                        if k != "value" {
                            unknown_fields(v, pv, &here, out)
                        }
                    }
                    None if v.is_null() => {}
                    None => {
                        let mut known: Vec<&str> = b.keys().map(String::as_str).collect();
                        known.sort_unstable();
                        let at = if path.is_empty() {
                            "the workflow".to_string()
                        } else {
                            path.to_string()
                        };
                        out.push(format!(
                            "{at}: unknown field `{k}`; the fields here are {}",
                            known.join(", ")
                        ));
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                unknown_fields(x, y, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Checks a parsed workflow. An empty list means it can run.
pub fn validate(wf: &Workflow) -> Vec<ValidationError> {
    let mut out = Vec::new();
    if wf.name.trim().is_empty() {
        out.push(ValidationError {
            path: "name".into(),
            message: "give the workflow a name".into(),
        });
    }
    if wf.steps.is_empty() {
        out.push(ValidationError {
            path: "steps".into(),
            message: "add at least one step".into(),
        });
    }
    steps(&wf.steps, "steps", 0, &mut out);
    out
}

fn steps(list: &[Step], path: &str, depth: usize, out: &mut Vec<ValidationError>) {
    for (i, s) in list.iter().enumerate() {
        let here = format!("{path}[{i}]");
        step(s, &here, depth, out);
    }
}

fn push_problems(
    out: &mut Vec<ValidationError>,
    path: &str,
    kind: &str,
    problems: Vec<crate::ops::Problem>,
) {
    for p in problems {
        out.push(ValidationError {
            path: format!("{path}.{}", p.field),
            message: format!("{kind}: {}", p.message),
        });
    }
}

fn step(s: &Step, path: &str, depth: usize, out: &mut Vec<ValidationError>) {
    let kind = s.action.kind();
    let problems = match &s.action {
        Action::RemoveBackground(p) => p.validate(),
        Action::Background(p) => p.validate(),
        Action::Shadow(p) => p.validate(),
        Action::AutoEnhance(p) => p.validate(),
        Action::Adjust(p) => p.validate(),
        Action::ReduceGlare(p) => p.validate(),
        Action::CropToSubject(p) => p.validate(),
        Action::Resize(p) => p.validate(),
        Action::Watermark(p) => p.validate(),
        Action::Filter(p) => p.validate(),
        Action::Export(p) => crate::engine::validate_export(p),
        Action::GenerateCopy(p) => p.validate(),
        Action::Channel(c) => match &c.name {
            Some(n) => crate::engine::validate_name_template(n)
                .into_iter()
                .map(|m| crate::ops::Problem::new("name", m))
                .collect(),
            None => Vec::new(),
        },
        Action::Warn(w) => {
            let mut p = Vec::new();
            if w.message.trim().is_empty() {
                p.push(crate::ops::Problem::new(
                    "message",
                    "write the warning to show",
                ));
            }
            p
        }
        Action::Notify(n) => {
            let mut p = Vec::new();
            let url = n.url.trim();
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() < 10 {
                p.push(crate::ops::Problem::new(
                    "url",
                    "give the full address to notify, starting with https://",
                ));
            }
            p
        }
        Action::If(iff) => {
            if depth >= MAX_DEPTH {
                out.push(ValidationError {
                    path: path.into(),
                    message: format!(
                        "IF steps are nested more than {MAX_DEPTH} deep; flatten the rules"
                    ),
                });
                return;
            }
            let mut cond = Vec::new();
            iff.when.check(&format!("{path}.when"), &mut cond);
            for (p, m) in cond {
                out.push(ValidationError {
                    path: p,
                    message: m,
                });
            }
            steps(&iff.then, &format!("{path}.then"), depth + 1, out);
            steps(&iff.otherwise, &format!("{path}.else"), depth + 1, out);
            Vec::new()
        }
    };
    push_problems(out, path, kind, problems);
}

/// Parses and validates; returns the workflow or every problem found, as one error.
pub fn load(text: &str) -> Result<Workflow> {
    let wf = parse(text)?;
    let problems = validate(&wf);
    if problems.is_empty() {
        Ok(wf)
    } else {
        Err(Error::Invalid {
            path: problems[0].path.clone(),
            message: problems
                .iter()
                .map(|p| {
                    if p.path == problems[0].path {
                        p.message.clone()
                    } else {
                        p.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_reported_with_their_path() {
        let e =
            parse(r#"{"schema":1,"name":"x","steps":[{"type":"export","quality":80,"qualty":3}]}"#)
                .unwrap_err();
        let m = e.to_string();
        assert!(m.contains("steps[0]: unknown field `qualty`"), "{m}");
        assert!(m.contains("quality"), "lists the known fields: {m}");
    }

    /// A wrong type deep in an IF names the step and the field, not just a line and column.
    #[test]
    fn wrong_types_name_the_step_and_field() {
        let m = parse(
            r#"{"schema":1,"name":"x","steps":[{"type":"background"},
            {"type":"if","when":{"field":"product.category","op":"eq","value":"Rings"},
             "then":[{"type":"export","quality":"high"}]}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(m.contains("steps[1].then[0].quality:"), "{m}");
        assert!(m.contains("line 3"), "{m}");
    }

    #[test]
    fn newer_schemas_are_refused_with_a_clear_message() {
        let m = parse(r#"{"schema":99,"name":"x","steps":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(m.contains("newer Shotline") && m.contains("99"), "{m}");
    }

    #[test]
    fn malformed_json_names_the_position() {
        let m = parse(r#"{"schema":1,"name":"x","steps":[{"type":"export",}]}"#)
            .unwrap_err()
            .to_string();
        assert!(m.contains("line 1"), "{m}");
        let m = parse(r#"[1,2]"#).unwrap_err().to_string();
        assert!(m.contains("JSON object"), "{m}");
        let m = parse(r#"{"schema":1,"name":"x","steps":[{"type":"teleport"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(m.contains("teleport"), "{m}");
    }

    #[test]
    fn nested_problems_carry_their_path() {
        let wf = parse(
            r#"{"schema":1,"name":"x","steps":[
                {"type":"warn","message":"hi"},
                {"type":"if","when":{"field":"product.category","op":"eq","value":"Rings"},
                 "then":[{"type":"if","when":{"field":"product.price","op":"gt","value":"lots"},"then":[]}],
                 "else":[{"type":"export","quality":0}]}]}"#,
        )
        .unwrap();
        let errs = validate(&wf);
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"steps[1].then[0].when"), "{errs:?}");
        assert!(paths.contains(&"steps[1].else[0].quality"), "{errs:?}");
        assert!(errs.iter().any(|e| e.message.contains("product.price")));
    }
}
