//! `auto_enhance`. (Owned by a helper: parameters, validation, algorithm and tests go here.)

use crate::error::Result;
use crate::ops::Problem;
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Parameters of `auto_enhance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AutoEnhance {
    pub strength: f32,
}

impl Default for AutoEnhance {
    fn default() -> Self {
        AutoEnhance { strength: 1.0 }
    }
}

impl AutoEnhance {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        crate::ops::check_range(&mut p, "strength", self.strength, 0.0, 1.0);
        p
    }
}

/// Runs `auto_enhance` in place.
pub fn auto_enhance(img: &mut Raster, p: &AutoEnhance) -> Result<()> {
    let _ = (img, p);
    Ok(())
}

/// Parameters of `adjust`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(default)]
pub struct Adjust {
    pub brightness: f32,
}

impl Adjust {
    /// Problems with these parameters, per field.
    pub fn validate(&self) -> Vec<Problem> {
        Vec::new()
    }
}

/// Runs `adjust` in place.
pub fn adjust(img: &mut Raster, p: &Adjust) -> Result<()> {
    let _ = (img, p);
    Ok(())
}
