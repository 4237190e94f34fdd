//! The bundled workflows, shipped inside the app and the binary.

use crate::model::Workflow;

/// (id, JSON) of every bundled workflow.
pub const BUNDLED: [(&str, &str); 0] = [];

/// Every bundled workflow, parsed.
pub fn all() -> Vec<(&'static str, Workflow)> {
    BUNDLED
        .iter()
        .filter_map(|(id, json)| crate::validate::parse(json).ok().map(|w| (*id, w)))
        .collect()
}

/// One bundled workflow by id.
pub fn get(id: &str) -> Option<Workflow> {
    BUNDLED
        .iter()
        .find(|(i, _)| *i == id)
        .and_then(|(_, j)| crate::validate::parse(j).ok())
}
