//! U²-Net-p run by tract-onnx, the reference Shotline's own network (`shotline_cutout::net`) is
//! checked and timed against. Shared by `tests/net.rs` and the examples
//! (`#[path = "../tests/common/tract_ref.rs"]`).

use shotline_core::time::Instant;
use shotline_cutout::model::{self, Algo};
use tract_onnx::prelude::*;

/// tract's optimised plan for a 1×3×side×side input, the six side outputs pruned.
pub struct Tract(Arc<TypedRunnableModel>);

impl Tract {
    pub fn load(bytes: &[u8], side: usize) -> TractResult<Tract> {
        let mut model = tract_onnx::onnx().model_for_read(&mut std::io::Cursor::new(bytes))?;
        model.set_input_fact(0, f32::fact([1, 3, side, side]).into())?;
        let first = model.output_outlets()?[0];
        model.select_output_outlets(&[first])?;
        Ok(Tract(model.into_optimized()?.into_runnable()?))
    }

    /// The first output for a planar 3×side×side input.
    pub fn run(&self, input: &[f32], side: usize) -> TractResult<Vec<f32>> {
        let tensor = Tensor::from_shape(&[1, 3, side, side], input)?;
        let out = self.0.run(tvec!(tensor.into()))?;
        Ok(out[0]
            .to_plain_array_view::<f32>()?
            .iter()
            .copied()
            .collect())
    }
}

/// Load times, inference times (ms; the three algorithms, then tract) and the algorithms' largest
/// differences from tract.
#[allow(dead_code)]
pub type Figures = ([f64; 4], [f64; 4], [f32; 3]);

/// Shotline's network with Winograd's convolutions (the default), with F(2×2, 3×3) only and with
/// the direct convolution, then tract: best-of-`runs` load and inference times in ms, in that
/// order, and the three algorithms' largest difference from tract's output. Interleaved in one
/// process, for the `net_ab` benchmarks.
#[allow(dead_code)]
pub fn ab(bytes: &[u8], input: &[f32], runs: usize) -> Result<Figures, String> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let side = model::SIDE;
    let (mut load, mut run, mut diff) = ([f64::MAX; 4], [f64::MAX; 4], [0f32; 3]);
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let tract = Tract::load(bytes, side).map_err(|e| e.to_string())?;
        load[3] = load[3].min(ms(t));
        let t = Instant::now();
        let want = tract.run(input, side).map_err(|e| e.to_string())?;
        run[3] = run[3].min(ms(t));
        drop(tract);
        for (i, algo) in [Algo::Winograd, Algo::WinogradF2, Algo::Direct]
            .into_iter()
            .enumerate()
        {
            let t = Instant::now();
            let net = model::U2Net::from_bytes_with(bytes, algo).map_err(|e| e.to_string())?;
            load[i] = load[i].min(ms(t));
            let t = Instant::now();
            let got = net.raw(input).map_err(|e| e.to_string())?;
            run[i] = run[i].min(ms(t));
            diff[i] = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
        }
    }
    Ok((load, run, diff))
}
