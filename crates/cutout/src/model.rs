//! U²-Net-p (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure for salient object
//! detection"; weights Apache-2.0 by the authors) on Shotline's own network engine ([`crate::net`]):
//! loading from bytes and one inference at 320×320.

pub use crate::net::Algo;
use crate::net::Net;
use shotline_core::raster::Raster;

/// The side of the square the model sees.
pub const SIDE: usize = 320;

/// rembg's normalisation of U²-Net inputs (ImageNet mean and standard deviation).
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Why the model could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not the U²-Net-p ONNX model (or use an operator the engine does not run).
    #[error("the background-removal model could not be loaded: {0}")]
    Load(String),
    /// Inference was given an input of the wrong size.
    #[error("the background-removal model failed on this photo: {0}")]
    Run(String),
}

/// A loaded U²-Net-p, ready to run on any number of threads at once.
#[derive(Debug)]
pub struct U2Net {
    net: Net,
}

impl U2Net {
    /// Builds the network from the ONNX model's bytes for a 1×3×320×320 input, keeping only its
    /// first (fused) output: the six side outputs only feed the training loss.
    pub fn from_bytes(bytes: &[u8]) -> Result<U2Net, Error> {
        U2Net::from_bytes_with(bytes, Algo::Winograd)
    }

    /// The same, choosing how its 3×3 convolutions are computed: for benchmarks and tests that
    /// compare the ways.
    pub fn from_bytes_with(bytes: &[u8], algo: Algo) -> Result<U2Net, Error> {
        let net =
            Net::from_onnx_with(bytes, [3, SIDE, SIDE], algo).map_err(|e| Error::Load(e.0))?;
        if net.output_shape() != [1, SIDE, SIDE] {
            return Err(Error::Load(format!(
                "expected a 1×{SIDE}×{SIDE} output, the model gives {:?}",
                net.output_shape()
            )));
        }
        Ok(U2Net { net })
    }

    /// The saliency map of `img` at 320×320, min-max normalised to 0–1 (rembg's post-processing).
    pub fn predict(&self, img: &Raster) -> Result<Vec<f32>, Error> {
        Ok(min_max(self.raw(&preprocess(img))?))
    }

    /// The network's first output (a sigmoid) for a preprocessed planar input.
    pub fn raw(&self, input: &[f32]) -> Result<Vec<f32>, Error> {
        if input.len() != 3 * SIDE * SIDE {
            return Err(Error::Run(format!(
                "expected a 3×{SIDE}×{SIDE} input, got {} values",
                input.len()
            )));
        }
        Ok(self.net.run(input.to_vec()))
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
