//! The neural cut-out's parts, timed inside WebAssembly (`bench/wasm/cutout.mjs`): the model load,
//! then on one photo decode, the model's input, inference, the refinement and the engine's edge
//! work after it. The same parts as `crates/cutout/examples/stages.rs` times natively.

use shotline_core::codec::{self, Limits};
use shotline_core::ops::remove_background::{self, Method, RemoveBackground};
use shotline_core::time::Instant;
use shotline_cutout::{model, refine, Cutout, KnownMap, Refine};
use wasm_bindgen::prelude::*;

#[path = "../../cutout/tests/common/tract_ref.rs"]
mod tract_ref;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Loads the model `loads` times and times `runs` cut-outs of `jpeg`; returns the medians as
/// JSON: `load_ms`, `decode_ms`, `input_ms`, `inference_ms` (its input included), `refine_ms`,
/// `engine_ms` (the step's work after the mask), `total_ms` (decode → cut-out).
#[wasm_bindgen]
pub fn cutout_stages(model: &[u8], jpeg: &[u8], loads: u32, runs: u32) -> Result<String, JsError> {
    let err = |e: &dyn std::fmt::Display| JsError::new(&e.to_string());
    let mut load = Vec::new();
    let mut cutout = None;
    for _ in 0..loads.max(1) {
        let t = Instant::now();
        cutout = Some(Cutout::from_bytes(model).map_err(|e| err(&e))?);
        load.push(ms(t));
    }
    let cutout = cutout.ok_or_else(|| JsError::new("no model"))?;
    let mut rows: [Vec<f64>; 6] = Default::default();
    for _ in 0..runs.max(1) {
        let t0 = Instant::now();
        let img = codec::decode("photo.jpg", jpeg, &Limits::default())
            .map_err(|e| err(&e))?
            .image;
        rows[0].push(ms(t0));
        let t = Instant::now();
        std::hint::black_box(model::preprocess(&img));
        rows[1].push(ms(t));
        let t = Instant::now();
        let map = cutout.net().predict(&img).map_err(|e| err(&e))?;
        let inferred = ms(t);
        rows[2].push(inferred);
        let t = Instant::now();
        std::hint::black_box(refine::refine(&map, model::SIDE, &img, &Refine::default()));
        let refined = ms(t);
        rows[3].push(refined);
        let t = Instant::now();
        let mut cut = img.clone();
        let p = RemoveBackground {
            method: Method::Neural,
            ..Default::default()
        };
        remove_background::apply(&mut cut, &p, Some(&KnownMap(&map))).map_err(|e| err(&e))?;
        let step = ms(t);
        rows[4].push(step - refined);
        rows[5].push(rows[0][rows[0].len() - 1] + inferred + step);
        std::hint::black_box(cut);
    }
    let [decode, input, inference, refine, engine, total] = rows;
    Ok(format!(
        "{{\"load_ms\":{:.1},\"loads\":{:?},\"decode_ms\":{:.1},\"input_ms\":{:.1},\"inference_ms\":{:.1},\
         \"refine_ms\":{:.1},\"engine_ms\":{:.1},\"total_ms\":{:.1}}}",
        median(load.clone()),
        load.iter().map(|v| v.round()).collect::<Vec<_>>(),
        median(decode),
        median(input),
        median(inference),
        median(refine),
        median(engine),
        median(total)
    ))
}

/// Shotline's own network (`shotline_cutout::net`) with Winograd's convolutions (the default),
/// with F(2×2, 3×3) only, with the direct convolution, and tract, interleaved in one process:
/// best-of-`runs` load and inference times at 320², and the largest difference from tract's
/// output, as JSON (`net_*`, `f2_*`, `direct_*`, `tract_*`: `_load_ms`, `_ms`, `_max_diff`).
#[wasm_bindgen]
pub fn net_ab(model_bytes: &[u8], jpeg: &[u8], runs: u32) -> Result<String, JsError> {
    let err = |e: &dyn std::fmt::Display| JsError::new(&e.to_string());
    let img = codec::decode("photo.jpg", jpeg, &Limits::default())
        .map_err(|e| err(&e))?
        .image;
    let input = model::preprocess(&img);
    let (load, run, diff) =
        tract_ref::ab(model_bytes, &input, runs as usize).map_err(|e| err(&e))?;
    let mut json = String::from("{");
    for (i, name) in ["net", "f2", "direct", "tract"].iter().enumerate() {
        json += &format!(
            "\"{name}_load_ms\":{:.1},\"{name}_ms\":{:.1},",
            load[i], run[i]
        );
        if let Some(d) = diff.get(i) {
            json += &format!("\"{name}_max_diff\":{d:e},");
        }
    }
    json.pop();
    Ok(json + "}")
}
