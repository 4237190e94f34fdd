//! U²-Net-p (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure for salient object
//! detection"; weights Apache-2.0 by the authors) on tract: loading from bytes and one inference
//! at 320×320.

use shotline_core::raster::Raster;
use tract_onnx::prelude::*;

/// The side of the square the model sees.
pub const SIDE: usize = 320;

/// rembg's normalisation of U²-Net inputs (ImageNet mean and standard deviation).
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Why the model could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not the U²-Net-p ONNX model (or tract cannot plan it).
    #[error("the background-removal model could not be loaded: {0}")]
    Load(String),
    /// Inference failed (a bug, or a model with another input or output shape).
    #[error("the background-removal model failed on this photo: {0}")]
    Run(String),
}

/// A loaded, optimised U²-Net-p, ready to run on any number of threads at once.
pub struct U2Net {
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for U2Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("U2Net")
    }
}

impl U2Net {
    /// Loads the ONNX model from its bytes, keeps only its first (fused) output and optimises the
    /// plan for a 1×3×320×320 input.
    pub fn from_bytes(bytes: &[u8]) -> Result<U2Net, Error> {
        let load = |e: TractError| Error::Load(format!("{e:#}"));
        let mut model = tract_onnx::onnx()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(load)?;
        model
            .set_input_fact(0, f32::fact([1, 3, SIDE, SIDE]).into())
            .map_err(load)?;
        // The six side outputs only feed the training loss.
        let first = *model
            .output_outlets()
            .map_err(load)?
            .first()
            .ok_or_else(|| Error::Load("the model has no output".into()))?;
        model.select_output_outlets(&[first]).map_err(load)?;
        let plan = model
            .into_optimized()
            .map_err(load)?
            .into_runnable()
            .map_err(load)?;
        Ok(U2Net { plan })
    }

    /// The saliency map of `img` at 320×320, min-max normalised to 0–1 (rembg's post-processing).
    pub fn predict(&self, img: &Raster) -> Result<Vec<f32>, Error> {
        let input = preprocess(img);
        let tensor = Tensor::from_shape(&[1, 3, SIDE, SIDE], &input)
            .map_err(|e| Error::Run(format!("{e:#}")))?;
        let out = self
            .plan
            .run(tvec!(tensor.into()))
            .map_err(|e| Error::Run(format!("{e:#}")))?;
        let first = out
            .first()
            .ok_or_else(|| Error::Run("the model returned no output".into()))?;
        let view = first
            .to_plain_array_view::<f32>()
            .map_err(|e| Error::Run(format!("{e:#}")))?;
        let map: Vec<f32> = view.iter().copied().collect();
        if map.len() != SIDE * SIDE {
            return Err(Error::Run(format!(
                "expected a {SIDE}×{SIDE} map, got {} values",
                map.len()
            )));
        }
        Ok(min_max(map))
    }
}

/// rembg's pre-processing: resize to 320², divide by the image's largest value, normalise per
/// channel. Planar RGB, f32.
pub fn preprocess(img: &Raster) -> Vec<f32> {
    let small = crate::resample::rgb_to(img, SIDE, SIDE);
    let max = small.iter().fold(1e-6f32, |m, v| m.max(*v));
    let plane = SIDE * SIDE;
    let mut out = vec![0f32; 3 * plane];
    for (i, px) in small.chunks_exact(3).enumerate() {
        for c in 0..3 {
            out[c * plane + i] = (px[c] / max - MEAN[c]) / STD[c];
        }
    }
    out
}

fn min_max(mut v: Vec<f32>) -> Vec<f32> {
    let (lo, hi) = v
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    let span = (hi - lo).max(1e-12);
    for x in &mut v {
        *x = (*x - lo) / span;
    }
    v
}
