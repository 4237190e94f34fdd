//! Shotline's web app: Leptos (client-side rendered), built by Trunk, running the engine in WASM.
//!
//! ```text
//! app         the root component: shared state, header, the page for the path (/ or /s/{slug})
//! pages/      home: pick a workflow, drop photos, see results, my workflows, workspace sync
//!             shared: a workflow shared by link, read-only
//! components/ workflow picker, drop zone, one photo's results, my workflows and their editor,
//!             sync panel, conflict card, share links, step outline
//! workflows   the workflows offered: mine, then the bundled ones (or a built-in fallback)
//! link        workflows shared inside a link's #fragment (no server)
//! library     my workflows, kept in localStorage, with their sync state
//! sync        plans and runs a sync with the workspace; conflicts
//! api         the REST API client (docs/api.md)
//! describe    workflows in plain words (steps, conditions)
//! editing     the editor's plain logic: step tree edits by path, undo history, palette, form hints
//! process     a finished photo as the page shows it; the batch's ZIP (files, listing.csv, report.json)
//! pool        the web workers that run the engine, one per core, with a queue and cancel
//! previewer   the editor's preview worker: latest request only, replaced if it dies
//! previewing  the preview's messages, and (feature `engine`) the worker's side of them
//! worker      the worker binary's loop and the messages it exchanges with the pool
//! zip         a store-only ZIP writer
//! files       dropped folders walked; downloads built in the page
//! browser     small wrappers over web APIs (object URLs, storage, clipboard, location)
//! ```
//!
//! The engine runs in web workers (src/bin/shotline-worker.rs, built by Trunk from index.html with
//! the `engine` feature), so the page stays responsive and its own wasm stays small: the page is
//! built without that feature and never decodes a photo itself. The component tests build with
//! it, so there the page's fallbacks run the engine in place of the workers they cannot start.

pub mod api;
pub mod app;
pub mod browser;
pub mod components;
pub mod cutout_model;
pub mod describe;
pub mod editing;
pub mod files;
pub mod library;
pub mod link;
pub mod pages;
pub mod pool;
pub mod previewer;
pub mod previewing;
pub mod process;
pub mod sync;
pub mod worker;
pub mod workflows;
pub mod zip;

pub use app::{App, AppAt, Route};
