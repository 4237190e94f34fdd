//! A monotonic clock that works natively and in a browser (where `std::time::Instant` panics).

#[cfg(not(target_arch = "wasm32"))]
pub use std::time::Instant;
#[cfg(target_arch = "wasm32")]
pub use web_time::Instant;
