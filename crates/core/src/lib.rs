//! Shotline's engine: the workflow model, the rule engine and the image operations.
//!
//! ```text
//! model      the workflow document (serde + JSON Schema), schema versions and migration
//! condition  IF rules as data: all / any / not over `field op value`
//! facts      what conditions and templates read: product fields, image facts, file facts
//! validate   checks a workflow before anything runs; errors carry a path like steps[2].then[0]
//! engine     run(workflow, inputs) -> RunReport: per photo, per step status, artifacts, copy
//! codec      decode (limits, EXIF orientation) and encode (JPEG / PNG / WebP, byte budgets)
//! exif       the orientation tag from EXIF (everything else in EXIF is dropped)
//! ops/       one module per action: parameters, validation, algorithm
//! channels   marketplace presets and the compliance check on exported bytes
//! copy       generate_copy: templates, colour names, listing.csv
//! products   product data from CSV or webhook / API payloads
//! templates  the bundled workflows
//! preview    the editor's live preview: steps up to a chosen one, both branches of an IF
//! ```
//!
//! No I/O, no threads, no clocks beyond a monotonic timer: the same code runs in a browser worker
//! (wasm32), on the server and in the command line. Pixels come in as bytes and leave as bytes.

pub mod channels;
pub mod codec;
pub mod condition;
pub mod copy;
pub mod engine;
pub mod error;
pub mod exif;
pub mod facts;
pub mod model;
pub mod ops;
pub mod preview;
pub mod products;
pub mod raster;
pub mod templates;
pub mod time;
pub mod validate;

pub use engine::{run, run_one, Input, RunReport};
pub use error::{Error, Result};
pub use model::Workflow;
pub use raster::Raster;
