//! `reduce_glare`. (Owned by a helper: parameters, validation, algorithm and tests go here.)

use crate::error::Result;
use crate::ops::Problem;
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `reduce_glare`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ReduceGlare {
    pub strength: f32,
}

impl Default for ReduceGlare {
    fn default() -> Self {
        ReduceGlare { strength: 1.0 }
    }
}

impl ReduceGlare {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        crate::ops::check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        p
    }
}

/// Runs `reduce_glare` in place.
pub fn apply(img: &mut Raster, p: &ReduceGlare) -> Result<()> {
    let _ = (img, p);
    Ok(())
}
