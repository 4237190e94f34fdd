//! `shadow`. (Owned by a helper: parameters, validation, algorithm and tests go here.)

use crate::error::Result;
use crate::ops::Problem;
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `shadow`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Shadow {
    pub strength: f32,
}

impl Default for Shadow {
    fn default() -> Self {
        Shadow { strength: 1.0 }
    }
}

impl Shadow {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        crate::ops::check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        p
    }
}

/// Runs `shadow` in place.
pub fn apply(img: &mut Raster, p: &Shadow) -> Result<()> {
    let _ = (img, p);
    Ok(())
}
