//! The workflows offered on the page: my workflows first, then the bundled templates.

use crate::library::Library;
use shotline_core::Workflow;

/// One workflow the merchant can pick.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The bundled workflow's id (`builtin` for the fallback), or my workflow's local id.
    pub id: String,
    pub workflow: Workflow,
    /// One of my workflows (rather than a bundled template).
    pub mine: bool,
}

/// Everything the picker offers: my workflows, then the templates.
pub fn choices(lib: &Library) -> Vec<Choice> {
    lib.workflows
        .iter()
        .map(|w| Choice {
            id: w.id.clone(),
            workflow: w.workflow.clone(),
            mine: true,
        })
        .chain(available())
        .collect()
}

/// The picked choice: the one with `selected`'s id, or the first when there is no pick (or the
/// picked workflow was deleted).
pub fn pick<'a>(choices: &'a [Choice], selected: Option<&str>) -> Option<&'a Choice> {
    selected
        .and_then(|id| choices.iter().find(|c| c.id == id))
        .or_else(|| choices.first())
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
            mine: false,
        })
        .collect();
    if !bundled.is_empty() {
        return bundled;
    }
    Workflow::from_json(FALLBACK)
        .map(|workflow| Choice {
            id: "builtin".into(),
            workflow,
            mine: false,
        })
        .into_iter()
        .collect()
}
