//! Shotline's web app: Leptos (client-side rendered), built by Trunk, running the engine in WASM.
//!
//! ```text
//! app         the root component (one page for now; routes come with the editor)
//! pages/      home: pick a workflow, drop photos, see results
//! components/ workflow picker, drop zone, one photo's results
//! workflows   the workflows offered: the bundled ones, or a built-in fallback
//! process     reads dropped files and runs the engine on them, one photo at a time
//! browser     small wrappers over web APIs (object URLs, yielding to the browser)
//! ```
//!
//! The engine runs on the main thread for now; between photos the page yields so it can repaint.

pub mod app;
pub mod browser;
pub mod components;
pub mod pages;
pub mod process;
pub mod workflows;

pub use app::App;
