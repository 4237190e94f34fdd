//! The one error type of the engine. Messages are written for merchants: they say what was wrong
//! and, where it helps, what to change.

/// Everything that can go wrong while validating or running a workflow.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not an image we can read (or are truncated / corrupt).
    #[error("{name}: {reason}")]
    Decode { name: String, reason: String },
    /// The photo is bigger than the engine's limits (guards against decompression bombs).
    #[error(
        "{name}: the photo is {width}×{height} ({megapixels:.0} MP); the limit is {limit_mp} MP"
    )]
    TooLarge {
        name: String,
        width: u32,
        height: u32,
        megapixels: f64,
        limit_mp: u32,
    },
    /// The file is bigger than the byte limit.
    #[error("{name}: the file is {bytes} bytes; the limit is {limit} bytes")]
    FileTooLarge {
        name: String,
        bytes: usize,
        limit: usize,
    },
    /// A step's parameters are not acceptable.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The workflow document could not be read.
    #[error("the workflow is not valid JSON for Shotline: {0}")]
    Document(String),
    /// An operation failed on this photo.
    #[error("{0}")]
    Op(String),
    /// Encoding the output failed.
    #[error("export failed: {0}")]
    Encode(String),
}

impl Error {
    /// Shorthand for an operation failure with a merchant-readable message.
    pub fn op(msg: impl Into<String>) -> Self {
        Error::Op(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
