//! The native `shotline` binary.
pub mod cli;
