//! The vendored tract-core's Resize fast path against tract's generic path, in one process, on
//! the shapes U²-Net-p's optimised plan resizes (read from the plan itself). Each shape is run
//! both ways; the sum over the plan's Resize nodes is printed.
//!
//! ```sh
//! taskset -c 0 cargo run --release -p shotline-cutout --example resize_ab -- models/u2netp.onnx
//! ```
use std::time::Instant;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::resize::{resample_axis, Resize};

fn main() -> TractResult<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "models/u2netp.onnx".into());
    let mut model = tract_onnx::onnx().model_for_path(&path)?;
    model.set_input_fact(0, f32::fact([1, 3, 320, 320]).into())?;
    let first = model.output_outlets()?[0];
    model.select_output_outlets(&[first])?;
    let model = model.into_optimized()?;
    let mut cases = Vec::new();
    for node in &model.nodes {
        if let Some(op) = node.op_as::<Resize>() {
            let i = model
                .outlet_fact(node.inputs[0])?
                .shape
                .as_concrete()
                .map(|s| s.to_vec());
            let o = model
                .outlet_fact(OutletId::new(node.id, 0))?
                .shape
                .as_concrete()
                .map(|s| s.to_vec());
            if let (Some(i), Some(o)) = (i, o) {
                cases.push((op.clone(), i, o));
            }
        }
    }
    println!("{} Resize nodes in the plan", cases.len());
    let runs = 7;
    let (mut fast_total, mut generic_total) = (0.0, 0.0);
    for (op, shape, out_shape) in &cases {
        let scales: Vec<f32> = shape
            .iter()
            .zip(out_shape)
            .map(|(&i, &o)| o as f32 / i as f32)
            .collect();
        let n: usize = shape.iter().product();
        let input: Vec<f32> = (0..n).map(|i| (i % 97) as f32 / 97.0).collect();
        // Fast: the op as tract runs it, alone in a model.
        let mut m = TypedModel::default();
        let x = m.add_source("x", f32::fact(shape.as_slice()))?;
        let s = m.add_const("s", tensor1(&scales))?;
        let mut op = op.clone();
        op.optional_scales_input = Some(1);
        op.optional_sizes_input = None;
        let y = m.wire_node("r", op.clone(), &[x, s])?;
        m.select_output_outlets(&y)?;
        let plan = m.into_runnable()?;
        let t = Tensor::from_shape(shape, &input)?;
        let mut fast = f64::MAX;
        let mut generic = f64::MAX;
        for _ in 0..runs {
            let tv = t.clone().into_tvalue();
            let start = Instant::now();
            let out = plan.run(tvec!(tv))?;
            fast = fast.min(start.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(out);
            // Generic: what tract-core 0.23.9 does, one axis at a time from a copy.
            let start = Instant::now();
            let mut sh = shape.clone();
            let mut data = input.clone();
            for (axis, &scale) in scales.iter().enumerate() {
                let (len_in, len_out) = (sh[axis], out_shape[axis]);
                if len_in == len_out && scale == 1.0 {
                    continue;
                }
                let p = op.plan_axis(scale, len_in, len_out);
                let mut o = vec![0f32; data.len() / len_in * len_out];
                resample_axis(&data, &sh, axis, &p, 0.0, &mut o);
                data = o;
                sh[axis] = len_out;
            }
            generic = generic.min(start.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(data);
        }
        println!("{shape:?} → {out_shape:?}: fast {fast:.2} ms, generic {generic:.2} ms");
        fast_total += fast;
        generic_total += generic;
    }
    println!(
        "all Resize nodes (best of {runs}): fast {fast_total:.1} ms, generic {generic_total:.1} ms ({:.1}×)",
        generic_total / fast_total.max(1e-9)
    );
    Ok(())
}
