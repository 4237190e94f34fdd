//! Makes the templates gallery's thumbnails: `public/templates/{id}-before.jpg` (the sample photo)
//! and `{id}-after.jpg` (the template's first image on it), 320 px squares. The sample photos are
//! the rendered product scenes in `fixtures/scenes/` (made by `render.py`, no third-party rights).
//!
//!     cargo run -p shotline-core --release --example template_previews
#![allow(clippy::unwrap_used)]

use shotline_core::engine::{run_one, Input, RunOptions};
use shotline_core::{templates, Workflow};
use std::path::Path;

/// The sample photo each template is shown on, and the product data it gets.
fn sample(id: &str) -> (&'static str, Option<&'static str>) {
    match id {
        "jewellery-glare-amazon" => ("ring.jpg", None),
        "by-category" => ("ring.jpg", Some("Jewelry")),
        "amazon-main" => ("shoe.jpg", None),
        _ => ("mug.jpg", None),
    }
}

fn thumbnail(name: &str, bytes: Vec<u8>, fit: &str) -> Vec<u8> {
    let wf = Workflow::from_json(&format!(
        r#"{{"schema":1,"name":"thumbnail","steps":[
            {{"type":"resize","width":320,"height":320,"fit":"{fit}","upscale":true}},
            {{"type":"export","format":"jpeg","quality":80}}]}}"#
    ))
    .unwrap();
    let report = run_one(&wf, &Input::new(name, bytes), 0, &RunOptions::default());
    assert!(report.error.is_none(), "{name}: {:?}", report.error);
    report.artifacts.into_iter().next().unwrap().bytes
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = root.join("public/templates");
    std::fs::create_dir_all(&out).unwrap();
    for (id, wf) in templates::all() {
        let (file, category) = sample(id);
        let photo = std::fs::read(root.join("fixtures/scenes").join(file)).unwrap();
        let mut input = Input::new(file, photo.clone());
        if let Some(c) = category {
            input.product.set("category", c);
        }
        let report = run_one(&wf, &input, 0, &RunOptions::default());
        assert!(report.error.is_none(), "{id}: {:?}", report.error);
        let after = report
            .artifacts
            .into_iter()
            .find(|a| a.mime.starts_with("image/"))
            .unwrap();
        let before = thumbnail(file, photo, "pad");
        let after = thumbnail(&after.name, after.bytes, "pad");
        std::fs::write(out.join(format!("{id}-before.jpg")), &before).unwrap();
        std::fs::write(out.join(format!("{id}-after.jpg")), &after).unwrap();
        println!(
            "{id}: before {} bytes, after {} bytes",
            before.len(),
            after.len()
        );
    }
}
