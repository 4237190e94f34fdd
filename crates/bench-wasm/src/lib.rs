//! The engine's benchmark jobs exported to JavaScript, so that `bench/wasm/run.mjs` can time the
//! engine as WebAssembly against sharp (libvips) in the same Node process.
//!
//! ```text
//! fit2048       decode → fit in 2048² → pad white → JPEG q85 (the same job as benches/pipeline.rs)
//! amazon        the bundled "amazon-main" template
//! steps_json    one run's per-step log (name, status, ms) as JSON, to see where the time goes
//! memory_bytes  the size of the WASM linear memory (it only grows, so this is the peak so far)
//! cutout_stages the neural cut-out's parts and the model load (cutout.rs, bench/wasm/cutout.mjs)
//! ```
//!
//! Built by `scripts/bench-wasm.sh`; not part of the default workspace members.

pub mod cutout;

use shotline_core::engine::{run_one, Input, RunOptions};
use shotline_core::{templates, validate, Workflow};
use std::sync::OnceLock;
use wasm_bindgen::prelude::*;

const FIT2048: &str = r##"{"schema":1,"name":"fit 2048","steps":[
    {"type":"resize","width":2048,"height":2048,"fit":"pad","background":"#FFFFFF"},
    {"type":"export","format":"jpeg","quality":85}]}"##;

/// Parsed once: the timed loop measures the image work, not JSON parsing.
fn fit2048_workflow() -> Result<&'static Workflow, JsError> {
    static WF: OnceLock<Result<Workflow, String>> = OnceLock::new();
    WF.get_or_init(|| validate::parse(FIT2048).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| JsError::new(e))
}

fn amazon_workflow() -> Result<&'static Workflow, JsError> {
    static WF: OnceLock<Option<Workflow>> = OnceLock::new();
    WF.get_or_init(|| templates::get("amazon-main"))
        .as_ref()
        .ok_or_else(|| JsError::new("the amazon-main template is missing"))
}

fn workflow(preset: &str) -> Result<&'static Workflow, JsError> {
    match preset {
        "fit2048" => fit2048_workflow(),
        "amazon" => amazon_workflow(),
        other => Err(JsError::new(&format!(
            "unknown preset {other:?}: use fit2048 or amazon"
        ))),
    }
}

/// Runs `wf` on one photo and returns the first artifact's bytes.
fn run(wf: &Workflow, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let input = Input::new("p.jpg", bytes.to_vec());
    let report = run_one(wf, &input, 1, &RunOptions::default());
    if let Some(err) = report.error {
        return Err(err);
    }
    report
        .artifacts
        .into_iter()
        .next()
        .map(|a| a.bytes)
        .ok_or_else(|| format!("{}: the workflow produced no file", wf.name))
}

/// Decode → fit in 2048×2048 → pad with white → JPEG quality 85, through the engine.
#[wasm_bindgen]
pub fn fit2048(bytes: &[u8]) -> Result<Vec<u8>, JsError> {
    run(fit2048_workflow()?, bytes).map_err(|e| JsError::new(&e))
}

/// The bundled "amazon-main" template (cut-out, crop, 2000² on white, JPEG).
#[wasm_bindgen]
pub fn amazon(bytes: &[u8]) -> Result<Vec<u8>, JsError> {
    run(amazon_workflow()?, bytes).map_err(|e| JsError::new(&e))
}

/// Runs `preset` ("fit2048" or "amazon") once and returns the per-step log as a JSON array of
/// `{path, step, status, ms, message}`: where the time goes inside WASM.
#[wasm_bindgen]
pub fn steps_json(preset: &str, bytes: &[u8]) -> Result<String, JsError> {
    let input = Input::new("p.jpg", bytes.to_vec());
    let report = run_one(workflow(preset)?, &input, 1, &RunOptions::default());
    serde_json::to_string(&report.steps).map_err(|e| JsError::new(&e.to_string()))
}

/// Decodes a photo at `1/scale` of its size (1: full size; 2, 4, 8: the engine's shrink-on-load)
/// and returns the milliseconds it took, so full and reduced decodes compare in one process.
#[wasm_bindgen]
pub fn decode_ms(bytes: &[u8], scale: u32) -> Result<f64, JsError> {
    use shotline_core::codec::{decode_at, Limits};
    let t = shotline_core::time::Instant::now();
    let d = decode_at("p.jpg", bytes, &Limits::default(), &|_, _| scale)
        .map_err(|e| JsError::new(&e.to_string()))?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    std::hint::black_box(d);
    Ok(ms)
}

/// The WASM linear memory in bytes. Memory never shrinks, so read after a run this is the peak.
#[wasm_bindgen]
pub fn memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fit-2048 workflow document parses and validates.
    #[test]
    fn fit2048_workflow_parses() {
        let wf = validate::parse(FIT2048).unwrap();
        assert_eq!(wf.steps.len(), 2);
    }

    /// The amazon-main template is bundled.
    #[test]
    fn amazon_template_exists() {
        assert!(templates::get("amazon-main").is_some());
    }
}
