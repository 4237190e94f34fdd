//! The native `shotline` binary, on top of `shotline-core`.
//!
//! ```text
//! cli    `shotline run | check | templates | validate | schema | serve`: argument parsing and output
//! batch  runs a workflow over files on all cores, writes artifacts, report.json and listing.csv
//! web    `shotline serve`: serves the built web app (the REST API arrives with the backend issue)
//! ```

pub mod batch;
pub mod cli;
pub mod web;
