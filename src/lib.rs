//! Shotline's web app: Leptos (client-side rendered), built by Trunk, running the engine in WASM.
//!
//! ```text
//! app         the root component: shared state, header, the page for the path (/ or /s/{slug})
//! pages/      home: pick a workflow, drop photos, see results, my workflows, workspace sync
//!             shared: a workflow shared by link, read-only
//! components/ workflow picker, drop zone, one photo's results, my workflows and their editor,
//!             sync panel, conflict card, share links, step outline
//! workflows   the workflows offered: mine, then the bundled ones (or a built-in fallback)
//! library     my workflows, kept in localStorage, with their sync state
//! sync        plans and runs a sync with the workspace; conflicts
//! api         the REST API client (docs/api.md)
//! describe    workflows in plain words (steps, conditions)
//! process     reads dropped files and runs the engine on them, one photo at a time
//! browser     small wrappers over web APIs (object URLs, storage, clipboard, location)
//! ```
//!
//! The engine runs on the main thread for now; between photos the page yields so it can repaint.

pub mod api;
pub mod app;
pub mod browser;
pub mod components;
pub mod describe;
pub mod library;
pub mod pages;
pub mod process;
pub mod sync;
pub mod workflows;

pub use app::App;
