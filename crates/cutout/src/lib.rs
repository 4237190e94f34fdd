//! Shotline's neural cut-out: U²-Net-p run by its own small engine (pure Rust), refined to full-resolution
//! edges, and the measures it is judged by. No file or network I/O: the host hands in the model's
//! bytes, so the same code runs in the browser worker (wasm32), the CLI and the server.
//!
//! ```text
//! net       the engine: ONNX file → list of steps (direct SIMD convolutions, pooling, upsampling)
//! model     U2Net: ONNX bytes → network; photo → 320×320 saliency map
//! refine    map → full-size alpha: islands, guided-filter upsampling, edge band, sharpening
//! resample  area / bilinear resizes and box means over f32 planes
//! metrics   IoU, MAE, max F-measure, Boundary IoU
//! ```
//! [`Cutout`] puts them together as a [`shotline_core::engine::Segmenter`].

pub mod metrics;
pub mod model;
pub mod net;
pub mod refine;
pub mod resample;

pub use model::{Error, U2Net};
pub use refine::Refine;

use shotline_core::engine::Segmenter;
use shotline_core::raster::Raster;

/// The model as the engine's [`Segmenter`]: with refinement (the default), or the raw map
/// upsampled the way rembg does (for comparison).
#[derive(Debug)]
pub struct Cutout {
    net: U2Net,
    refine: Option<Refine>,
}

impl Cutout {
    /// Loads U²-Net-p from its ONNX bytes, with the default refinement.
    pub fn from_bytes(bytes: &[u8]) -> Result<Cutout, Error> {
        Ok(Cutout {
            net: U2Net::from_bytes(bytes)?,
            refine: Some(Refine::default()),
        })
    }

    /// The same model with other refinement settings (`None`: the raw model).
    pub fn with_refine(&self, refine: Option<Refine>) -> CutoutRef<'_> {
        CutoutRef {
            net: &self.net,
            refine,
        }
    }

    /// The loaded network, for callers that reuse one inference (e.g. `shotline eval`).
    pub fn net(&self) -> &U2Net {
        &self.net
    }

    /// The full-size alpha mask of `img`.
    pub fn mask(&self, img: &Raster) -> Result<Vec<u8>, Error> {
        mask(&self.net, self.refine.as_ref(), img)
    }
}

/// A borrowed [`Cutout`] with its own refinement settings, sharing the loaded model.
#[derive(Debug)]
pub struct CutoutRef<'a> {
    net: &'a U2Net,
    refine: Option<Refine>,
}

impl CutoutRef<'_> {
    pub fn mask(&self, img: &Raster) -> Result<Vec<u8>, Error> {
        mask(self.net, self.refine.as_ref(), img)
    }
}

fn mask(net: &U2Net, refine: Option<&Refine>, img: &Raster) -> Result<Vec<u8>, Error> {
    if img.is_empty() {
        return Err(Error::Run("the image is empty".into()));
    }
    let map = net.predict(img)?;
    Ok(match refine {
        Some(r) => refine::refine(&map, model::SIDE, img, r),
        None => refine::plain(&map, model::SIDE, img),
    })
}

/// A map the model already made, refined as [`Cutout`] refines it: the cut-out step without
/// running the model again (benchmarks time the step's parts after inference with it).
#[derive(Debug)]
pub struct KnownMap<'a>(pub &'a [f32]);

impl Segmenter for KnownMap<'_> {
    fn name(&self) -> &str {
        "u2netp (known map)"
    }
    fn segment(&self, img: &Raster) -> shotline_core::Result<Vec<u8>> {
        Ok(refine::refine(self.0, model::SIDE, img, &Refine::default()))
    }
}

fn engine_error(e: Error) -> shotline_core::Error {
    shotline_core::Error::op(format!("remove_background: {e}"))
}

impl Segmenter for Cutout {
    fn name(&self) -> &str {
        "u2netp"
    }
    fn segment(&self, img: &Raster) -> shotline_core::Result<Vec<u8>> {
        self.mask(img).map_err(engine_error)
    }
}

impl Segmenter for CutoutRef<'_> {
    fn name(&self) -> &str {
        if self.refine.is_some() {
            "u2netp"
        } else {
            "u2netp (raw)"
        }
    }
    fn segment(&self, img: &Raster) -> shotline_core::Result<Vec<u8>> {
        self.mask(img).map_err(engine_error)
    }
}
