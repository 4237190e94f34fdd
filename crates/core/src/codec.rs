//! Decoding and encoding. (Owned by a helper.)

use crate::error::Result;
use crate::model::Format;
use crate::raster::Raster;

/// Guards against decompression bombs and runaway memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest accepted photo, in pixels.
    pub max_pixels: u64,
    /// Largest accepted file, in bytes.
    pub max_file_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 100_000_000,
            max_file_bytes: 64 * 1024 * 1024,
        }
    }
}

/// A decoded photo.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub image: Raster,
    pub format: Format,
}

/// Sniffs the format from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else {
        None
    }
}

/// Decodes a photo, applying EXIF orientation and the limits.
pub fn decode(name: &str, bytes: &[u8], limits: &Limits) -> Result<Decoded> {
    let _ = (name, bytes, limits);
    Err(crate::Error::op("decode: not built yet"))
}

/// Encodes an image. JPEG flattens alpha onto `matte`.
pub fn encode(img: &Raster, format: Format, quality: u8, matte: [u8; 4]) -> Result<Vec<u8>> {
    let _ = (img, format, quality, matte);
    Err(crate::Error::op("encode: not built yet"))
}

/// Encodes, and when `max_bytes` is set, finds the highest JPEG quality ≤ `quality` whose file fits.
/// Returns the bytes and the quality used.
pub fn encode_within(
    img: &Raster,
    format: Format,
    quality: u8,
    max_bytes: Option<u64>,
    matte: [u8; 4],
) -> Result<(Vec<u8>, u8)> {
    let _ = max_bytes;
    Ok((encode(img, format, quality, matte)?, quality))
}
