//! The native `shotline` binary, on top of `shotline-core`.
//!
//! ```text
//! cli    `shotline run | check | templates | validate | schema | serve | eval`: arguments and output
//! eval   `shotline eval`: background removal measured against human masks
//! batch  runs a workflow over files on all cores, writes artifacts, report.json and listing.csv
//! web    `shotline serve`: the web app, the REST API and the run workers in one process
//! api    the REST API under /api/v1 (workspaces, workflows, shares, runs, hooks)
//! store  the database (SQLite or PostgreSQL through sqlx's Any driver, one schema)
//! queue  run workers: lease, heartbeat, retry with backoff, re-queue on shutdown
//! objects run inputs and artifacts: data directory or S3-compatible storage
//! fetch  webhook image fetching with size/time limits and no private addresses
//! notify the notify step's signed POST, with retries
//! signature  HMAC signatures (Shopify, Shotline), token hashes, random secrets
//! ```

pub mod api;
pub mod batch;
pub mod cli;
pub mod eval;
pub mod fetch;
pub mod notify;
pub mod objects;
pub mod queue;
pub mod signature;
pub mod store;
pub mod web;
