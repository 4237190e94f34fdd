//! `remove_background`. (Owned by a helper: parameters, validation, algorithm and tests go here.)

use crate::error::Result;
use crate::ops::Problem;
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `remove_background`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct RemoveBackground {
    pub strength: f32,
}

impl Default for RemoveBackground {
    fn default() -> Self {
        RemoveBackground { strength: 1.0 }
    }
}

impl RemoveBackground {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        crate::ops::check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        p
    }
}

/// Runs `remove_background` in place.
pub fn apply(
    img: &mut Raster,
    p: &RemoveBackground,
    segmenter: Option<&dyn crate::engine::Segmenter>,
) -> Result<()> {
    let _ = (img, p, segmenter);
    Ok(())
}
