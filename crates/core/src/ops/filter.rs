//! `filter`. (Owned by a helper: parameters, validation, algorithm and tests go here.)

use crate::error::Result;
use crate::ops::Problem;
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `filter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Filter {
    pub strength: f32,
}

impl Default for Filter {
    fn default() -> Self {
        Filter { strength: 1.0 }
    }
}

impl Filter {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        crate::ops::check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        p
    }
}

/// Runs `filter` in place.
pub fn apply(img: &mut Raster, p: &Filter) -> Result<()> {
    let _ = (img, p);
    Ok(())
}
