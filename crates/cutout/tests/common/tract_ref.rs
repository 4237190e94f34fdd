//! U²-Net-p run by tract-onnx, the reference Shotline's own network (`shotline_cutout::net`) is
//! checked and timed against. Shared by `tests/net.rs` and the examples
//! (`#[path = "../tests/common/tract_ref.rs"]`).

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
