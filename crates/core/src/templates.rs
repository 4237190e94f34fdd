//! The bundled workflows, shipped inside the app and the binary (JSON files in `templates/`).

use crate::model::Workflow;

/// (id, JSON) of every bundled workflow.
pub const BUNDLED: [(&str, &str); 5] = [
    ("amazon-main", include_str!("../templates/amazon-main.json")),
    (
        "shopify-instagram",
        include_str!("../templates/shopify-instagram.json"),
    ),
    (
        "jewellery-glare-amazon",
        include_str!("../templates/jewellery-glare-amazon.json"),
    ),
    (
        "social-watermark",
        include_str!("../templates/social-watermark.json"),
    ),
    ("by-category", include_str!("../templates/by-category.json")),
];

/// Every bundled workflow, parsed. (Each is parsed and validated in the tests, so none is dropped.)
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

#[cfg(test)]
mod tests {
    /// Every bundled workflow parses, validates, and survives a JSON round trip unchanged.
    #[test]
    fn bundled_workflows_are_valid() {
        for (id, json) in super::BUNDLED {
            let wf = crate::validate::parse(json).unwrap_or_else(|e| panic!("{id}: {e}"));
            let problems = crate::validate::validate(&wf);
            assert!(problems.is_empty(), "{id}: {problems:?}");
            let again = crate::validate::parse(&wf.to_json()).unwrap();
            assert_eq!(wf, again, "{id}");
        }
        assert_eq!(super::all().len(), super::BUNDLED.len());
    }
}
