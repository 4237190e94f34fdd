//! Reusable pieces of the page.

pub mod drop_zone;
pub mod photo_result;
pub mod workflow_picker;
