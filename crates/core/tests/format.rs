//! The workflow document: old versions keep loading, the schema covers every step, round trips hold.

use shotline_core::model::{Action, Trigger, Workflow};
use shotline_core::validate;

/// The schema-1 fixture (every step type) still parses, validates and round-trips.
#[test]
fn schema_1_fixture_keeps_loading() {
    let text = include_str!("fixtures/workflow-v1.json");
    let wf = validate::parse(text).expect("schema 1 loads");
    assert!(
        validate::validate(&wf).is_empty(),
        "{:?}",
        validate::validate(&wf)
    );
    assert!(matches!(wf.trigger, Trigger::Webhook(_)));
    assert!(!wf.steps[1].enabled);
    let kinds: Vec<&str> = wf.steps.iter().map(|s| s.action.kind()).collect();
    for k in [
        "auto_enhance",
        "adjust",
        "reduce_glare",
        "remove_background",
        "background",
        "filter",
        "if",
        "resize",
        "shadow",
        "watermark",
        "export",
        "channel",
        "generate_copy",
        "notify",
    ] {
        assert!(kinds.contains(&k), "fixture lacks {k}");
    }
    let Action::If(iff) = &wf.steps[6].action else {
        panic!("steps[6] is an IF")
    };
    assert_eq!(iff.then.len(), 1);
    assert_eq!(iff.otherwise.len(), 1);
    assert_eq!(validate::parse(&wf.to_json()).unwrap(), wf);
}

/// The JSON Schema names every step type and the condition operators.
#[test]
fn json_schema_covers_the_format() {
    let schema = serde_json::to_string(&Workflow::json_schema()).unwrap();
    for needle in [
        "remove_background",
        "crop_to_subject",
        "generate_copy",
        "channel",
        "amazon_main",
        "starts_with",
        "is_empty",
        "matches",
    ] {
        assert!(schema.contains(needle), "schema lacks {needle}");
    }
}

/// The committed JSON Schema file is the one this build generates (regenerate with
/// `cargo run -p shotline-server -- schema > docs/workflow.schema.json`).
#[test]
fn committed_schema_is_current() {
    let committed = include_str!("../../../docs/workflow.schema.json");
    let generated = serde_json::to_string_pretty(&Workflow::json_schema()).unwrap();
    assert_eq!(
        committed.trim(),
        generated.trim(),
        "docs/workflow.schema.json is stale"
    );
}
