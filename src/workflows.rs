//! The workflows offered on the page.

use shotline_core::Workflow;

/// One workflow the merchant can pick.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The bundled workflow's id (`builtin` for the fallback).
    pub id: String,
    pub workflow: Workflow,
}

/// Used only when the engine bundles no workflows, so the page always has something to run.
const FALLBACK: &str = r#"{
  "schema": 1,
  "name": "Quick white background",
  "description": "Cuts the product out, crops to it and puts it on white; exports a JPEG.",
  "steps": [
    {"type": "remove_background"},
    {"type": "crop_to_subject"},
    {"type": "background"},
    {"type": "export", "format": "jpeg", "quality": 90}
  ]
}"#;

/// The bundled workflows, or the built-in fallback when there are none.
pub fn available() -> Vec<Choice> {
    let bundled: Vec<Choice> = shotline_core::templates::all()
        .into_iter()
        .map(|(id, workflow)| Choice {
            id: id.to_string(),
            workflow,
        })
        .collect();
    if !bundled.is_empty() {
        return bundled;
    }
    Workflow::from_json(FALLBACK)
        .map(|workflow| Choice {
            id: "builtin".into(),
            workflow,
        })
        .into_iter()
        .collect()
}
