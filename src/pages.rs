//! Screens.

pub mod editor;
pub mod home;
pub mod link;
pub mod shared;
pub mod workflows;
