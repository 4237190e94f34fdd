//! Screens.

pub mod home;
pub mod shared;
