//! Where U²-Net-p's inference time goes in tract: runs the optimised plan on a photo a few times
//! and prints the time per kind of operation (summed over the plan's nodes), slowest first.
//!
//! ```sh
//! taskset -c 0 cargo run --release -p shotline-cutout --example profile -- models/u2netp.onnx fixtures/scenes/mug.jpg
//! ```
use shotline_core::codec::{self, Limits};
use std::collections::HashMap;
use std::time::Instant;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::{eval, SimpleState};

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let (model_path, photo) = match (args.get(1), args.get(2)) {
        (Some(m), Some(p)) => (m.clone(), p.clone()),
        _ => {
            eprintln!("usage: profile MODEL.onnx PHOTO");
            std::process::exit(2);
        }
    };
    let side = 320;
    let mut model = tract_onnx::onnx().model_for_path(&model_path)?;
    model.set_input_fact(0, f32::fact([1, 3, side, side]).into())?;
    let first = model.output_outlets()?[0];
    model.select_output_outlets(&[first])?;
    let plan = model.into_optimized()?.into_runnable()?;
    let bytes = std::fs::read(&photo)?;
    let img = codec::decode(&photo, &bytes, &Limits::default())
        .map_err(|e| TractError::msg(e.to_string()))?
        .image;
    let input = shotline_cutout::model::preprocess(&img);
    let tensor: TValue = Tensor::from_shape(&[1, 3, side, side], &input)?.into();
    let runs = 5;
    let mut per_op: HashMap<String, (f64, usize)> = HashMap::new();
    let mut total = 0.0;
    for run in 0..=runs {
        let mut state = SimpleState::new(&plan)?;
        let t = Instant::now();
        let mut times: Vec<(String, f64)> = Vec::new();
        state.run_plan_with_eval(tvec!(tensor.clone()), |ctx, op_state, node, inputs| {
            let t = Instant::now();
            let r = eval(ctx, op_state, node, inputs);
            times.push((
                node.op().name().to_string(),
                t.elapsed().as_secs_f64() * 1000.0,
            ));
            r
        })?;
        // The first run warms up; the others are summed.
        if run > 0 {
            total += t.elapsed().as_secs_f64() * 1000.0;
            for (name, ms) in times {
                let e = per_op.entry(name).or_default();
                e.0 += ms;
                e.1 += 1;
            }
        }
    }
    let mut rows: Vec<_> = per_op.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    println!(
        "inference: {:.0} ms a run (mean of {runs})",
        total / runs as f64
    );
    for (name, (ms, n)) in rows {
        println!(
            "{:>8.1} ms {:>5.1} %  {:>4} nodes  {name}",
            ms / runs as f64,
            100.0 * ms / total,
            n / runs
        );
    }
    Ok(())
}
