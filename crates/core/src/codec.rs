//! Decoding and encoding: bytes in, [`Raster`] out, and back.
//!
//! Decoding checks the byte limit, sniffs the format, reads the header's dimensions and refuses
//! oversized photos *before* any pixel buffer is allocated, then decodes (JPEG with zune-jpeg, PNG
//! and WebP with `image`) and applies the EXIF orientation. Encoding writes files with no metadata
//! (no EXIF, no ICC: pixels are sRGB), so nothing private from the camera leaves with the image.

use crate::error::{Error, Result};
use crate::model::Format;
use crate::raster::Raster;
use std::io::Cursor;

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
    /// The photo's own size (upright). Larger than `image` when it was read at a reduced size
    /// ([`decode_at`]).
    pub full: (u32, u32),
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

/// Width and height from the file header alone (nothing is decoded): lets a server refuse a
/// decompression bomb before storing it. `None` when the header cannot be read.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    match sniff(bytes)? {
        Format::Png => png_dimensions(bytes),
        Format::Webp => webp_dimensions(bytes),
        Format::Jpeg => jpeg_dimensions(bytes),
    }
}

/// Reads the first start-of-frame marker (SOF0..SOF15 except DHT 0xC4, JPG 0xC8, DAC 0xCC).
fn jpeg_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return None;
        }
        let marker = b[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*b.get(i + 5)?, *b.get(i + 6)?]) as u32;
            let w = u16::from_be_bytes([*b.get(i + 7)?, *b.get(i + 8)?]) as u32;
            return Some((w, h));
        }
        if marker == 0xDA || len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

fn decode_error(name: &str, reason: impl Into<String>) -> Error {
    Error::Decode {
        name: name.to_string(),
        reason: reason.into(),
    }
}

const DAMAGED: &str = "the file is damaged or incomplete and cannot be read";

/// Decodes a photo, applying EXIF orientation and the limits.
///
/// Order matters for safety: file size, then format, then the header's width × height against
/// `limits.max_pixels` (no pixel buffer exists yet), then the pixels. Grayscale, CMYK, palette and
/// 16-bit images all come out as RGBA8. Corrupt or truncated data is an [`Error::Decode`] naming the
/// file, never a panic.
pub fn decode(name: &str, bytes: &[u8], limits: &Limits) -> Result<Decoded> {
    decode_at(name, bytes, limits, &|_, _| 1)
}

/// [`decode`], reading a JPEG at `1/scale` of its size when `scale(width, height)` (given the
/// upright size from the header) says 2, 4 or 8, as libjpeg's DCT scaling, and libvips' and
/// sharp's shrink-on-load, do: each 8×8 block of coefficients becomes 4×4, 2×2 or 1×1 pixels
/// directly, so only the entropy decoding is done at full size. Sizes round up. Other formats, and
/// the rare JPEG layouts the scaled decoder does not cover (CMYK, several baseline scans), are
/// read at full size; [`Decoded::full`] always holds the photo's own size.
pub fn decode_at(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    scale: &dyn Fn(u32, u32) -> u32,
) -> Result<Decoded> {
    if bytes.len() > limits.max_file_bytes {
        return Err(Error::FileTooLarge {
            name: name.to_string(),
            bytes: bytes.len(),
            limit: limits.max_file_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(decode_error(name, "the file is empty"));
    }
    let format = sniff(bytes)
        .ok_or_else(|| decode_error(name, "the file is not a JPEG, PNG or WebP image"))?;
    let (image, orientation) = match format {
        Format::Jpeg => decode_jpeg(name, bytes, limits, scale)?,
        Format::Png => {
            let (w, h) = png_dimensions(bytes).ok_or_else(|| decode_error(name, DAMAGED))?;
            check_pixels(name, w, h, limits)?;
            let img = catch(name, || {
                let dec = image::codecs::png::PngDecoder::new(Cursor::new(bytes))?;
                image::DynamicImage::from_decoder(dec)
            })?;
            (
                Read::Full(Raster::from_image(img.into_rgba8())),
                png_exif(bytes).and_then(crate::exif::orientation),
            )
        }
        Format::Webp => {
            let (w, h) = webp_dimensions(bytes).ok_or_else(|| decode_error(name, DAMAGED))?;
            check_pixels(name, w, h, limits)?;
            let img = catch(name, || {
                let dec = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))?;
                image::DynamicImage::from_decoder(dec)
            })?;
            (
                Read::Full(Raster::from_image(img.into_rgba8())),
                webp_exif(bytes).and_then(crate::exif::orientation),
            )
        }
    };
    if image.is_empty() {
        return Err(decode_error(name, "the image has no pixels"));
    }
    let (image, full) = match image {
        Read::Full(img) => {
            let d = img.dimensions();
            (img, d)
        }
        Read::Scaled(img, full) => (img, full),
    };
    let orientation = orientation.unwrap_or(1);
    let full = if orientation >= 5 {
        (full.1, full.0)
    } else {
        full
    };
    Ok(Decoded {
        image: orient(image, orientation),
        format,
        full,
    })
}

fn check_pixels(name: &str, w: u32, h: u32, limits: &Limits) -> Result<()> {
    if w == 0 || h == 0 {
        return Err(decode_error(name, "the image has no pixels"));
    }
    let pixels = w as u64 * h as u64;
    if pixels > limits.max_pixels {
        return Err(Error::TooLarge {
            name: name.to_string(),
            width: w,
            height: h,
            megapixels: pixels as f64 / 1e6,
            limit_mp: (limits.max_pixels / 1_000_000).min(u32::MAX as u64) as u32,
        });
    }
    Ok(())
}

/// Runs an `image` decoder, turning its errors, and on native targets its panics (image 0.24's
/// WebP decoder can overflow a shift on corrupt data), into a damaged-file error.
fn catch(
    name: &str,
    f: impl FnOnce() -> image::ImageResult<image::DynamicImage>,
) -> Result<image::DynamicImage> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r.map_err(|e| image_error(name, e)),
        Err(_) => Err(decode_error(name, DAMAGED)),
    }
}

fn image_error(name: &str, e: image::ImageError) -> Error {
    use image::ImageError as E;
    match e {
        E::Unsupported(u) => {
            decode_error(name, format!("this kind of image is not supported ({u})"))
        }
        E::Limits(_) => decode_error(name, "the image is too large to read"),
        _ => decode_error(name, DAMAGED),
    }
}

/// JPEG via zune-jpeg: headers first (dimensions, EXIF), then pixels straight into RGBA.
///
/// zune-jpeg 0.4 can panic on some corrupt files (a scan naming a Huffman table that was never
/// defined unwraps a `None`), so the marker structure is checked first ([`jpeg_tables_defined`]);
/// on native targets a panic that still slips through is caught and reported as a damaged file.
fn decode_jpeg(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    scale: &dyn Fn(u32, u32) -> u32,
) -> Result<(Read, Option<u8>)> {
    if !jpeg_tables_defined(bytes) {
        return Err(decode_error(name, DAMAGED));
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_jpeg_unchecked(name, bytes, limits, scale)
    }))
    .unwrap_or_else(|_| Err(decode_error(name, DAMAGED)))
}

/// Pixels as read: at the photo's size, or smaller with the photo's (stored, not upright) size.
enum Read {
    Full(Raster),
    Scaled(Raster, (u32, u32)),
}

impl Read {
    fn is_empty(&self) -> bool {
        match self {
            Read::Full(r) | Read::Scaled(r, _) => r.is_empty(),
        }
    }
}

/// Walks a JPEG's markers and checks that every Huffman table a scan uses was defined before it
/// (ITU-T T.81 B.2.4.2, B.2.3). Truncated data passes: the decoder reports it. Entropy-coded
/// data is skipped to the next marker (0xFF not followed by 0x00 or a restart marker).
pub fn jpeg_tables_defined(b: &[u8]) -> bool {
    let mut dc = [false; 4];
    let mut ac = [false; 4];
    let mut progressive = false;
    let mut i = 2usize;
    loop {
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(i), b.get(i + 1)) else {
            return true;
        };
        if marker == 0xD9 {
            return true;
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let Some(len) = b
            .get(i + 2..i + 4)
            .map(|l| u16::from_be_bytes([l[0], l[1]]) as usize)
        else {
            return true;
        };
        let seg = &b[(i + 4).min(b.len())..(i + 2 + len).min(b.len())];
        match marker {
            0xC2 => progressive = true,
            0xC4 => {
                let mut j = 0;
                while j + 17 <= seg.len() {
                    let (class, id) = (seg[j] >> 4, (seg[j] & 0x0F) as usize);
                    let n: usize = seg[j + 1..j + 17].iter().map(|&c| c as usize).sum();
                    if id < 4 {
                        if class == 0 {
                            dc[id] = true;
                        } else {
                            ac[id] = true;
                        }
                    }
                    j += 17 + n;
                }
            }
            0xDA => {
                let ns = *seg.first().unwrap_or(&0) as usize;
                let ss = seg.get(1 + ns * 2).copied().unwrap_or(0);
                let ah = seg.get(3 + ns * 2).map(|a| a >> 4).unwrap_or(0);
                for k in 0..ns {
                    let Some(&t) = seg.get(2 + k * 2) else {
                        return true;
                    };
                    let (td, ta) = ((t >> 4) as usize, (t & 0x0F) as usize);
                    let need_dc = !progressive || (ss == 0 && ah == 0);
                    let need_ac = !progressive || ss > 0;
                    if (need_dc && !dc.get(td).copied().unwrap_or(false))
                        || (need_ac && !ac.get(ta).copied().unwrap_or(false))
                    {
                        return false;
                    }
                }
                // Skip the entropy-coded data.
                let mut k = i + 2 + len;
                loop {
                    match (b.get(k), b.get(k + 1)) {
                        (Some(0xFF), Some(&m)) if m != 0 && !(0xD0..=0xD7).contains(&m) => break,
                        (Some(_), Some(_)) => k += 1,
                        _ => return true,
                    }
                }
                i = k;
                continue;
            }
            _ => {}
        }
        i += 2 + len;
    }
}

fn decode_jpeg_unchecked(
    name: &str,
    bytes: &[u8],
    limits: &Limits,
    scale: &dyn Fn(u32, u32) -> u32,
) -> Result<(Read, Option<u8>)> {
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    // zune-jpeg's own size caps (16384 by default) would hide our clearer TooLarge error.
    let options = DecoderOptions::new_fast()
        .jpeg_set_out_colorspace(ColorSpace::RGBA)
        .set_max_width(usize::from(u16::MAX))
        .set_max_height(usize::from(u16::MAX));
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(bytes, options);
    dec.decode_headers().map_err(|e| jpeg_error(name, e))?;
    let (w, h) = dec
        .dimensions()
        .ok_or_else(|| decode_error(name, DAMAGED))?;
    check_pixels(name, w as u32, h as u32, limits)?;
    let orientation = dec.exif().and_then(|e| crate::exif::orientation(e));
    let upright = if orientation.unwrap_or(1) >= 5 {
        (h as u32, w as u32)
    } else {
        (w as u32, h as u32)
    };
    let s = scale(upright.0, upright.1);
    if matches!(s, 2 | 4 | 8) {
        let mut scaled = zune_jpeg::JpegDecoder::new_with_options(bytes, options);
        if let Some((buf, sw, sh)) = scaled
            .decode_scaled(s as usize)
            .map_err(|e| jpeg_error(name, e))?
        {
            let (sw, sh) = (sw as u32, sh as u32);
            let img = match buf.len() / (sw as usize * sh as usize).max(1) {
                4 => Raster::from_rgba(sw, sh, buf)?,
                3 => Raster::from_rgb(sw, sh, &buf)?,
                _ => Raster::from_rgba(sw, sh, luma_to_rgba(&buf))?,
            };
            return Ok((Read::Scaled(img, (w as u32, h as u32)), orientation));
        }
    }
    let out_cs = dec
        .get_output_colorspace()
        .ok_or_else(|| decode_error(name, DAMAGED))?;
    let size = dec
        .output_buffer_size()
        .ok_or_else(|| decode_error(name, DAMAGED))?;
    let mut buf = vec![0u8; size];
    dec.decode_into(&mut buf).map_err(|e| jpeg_error(name, e))?;
    let (w, h) = (w as u32, h as u32);
    let img = match out_cs {
        ColorSpace::RGBA => Raster::from_rgba(w, h, buf)?,
        ColorSpace::RGB => Raster::from_rgb(w, h, &buf)?,
        // Single-component JPEGs are always decoded as luma, whatever output was asked for.
        ColorSpace::Luma => Raster::from_rgba(w, h, luma_to_rgba(&buf))?,
        other => {
            return Err(decode_error(
                name,
                format!("JPEG colour space {other:?} is not supported"),
            ))
        }
    };
    Ok((Read::Full(img), orientation))
}

fn luma_to_rgba(buf: &[u8]) -> Vec<u8> {
    let mut rgba = Vec::with_capacity(buf.len() * 4);
    for &v in buf {
        rgba.extend_from_slice(&[v, v, v, 255]);
    }
    rgba
}

fn jpeg_error(name: &str, e: zune_jpeg::errors::DecodeErrors) -> Error {
    use zune_jpeg::errors::DecodeErrors as D;
    match e {
        D::Unsupported(u) => decode_error(
            name,
            format!("this kind of JPEG is not supported ({u:?}); re-save it as a standard JPEG"),
        ),
        D::ExhaustedData => decode_error(
            name,
            "the file is cut short (incomplete upload or download?)",
        ),
        _ => decode_error(name, DAMAGED),
    }
}

/// Width and height from a PNG's IHDR (always the first chunk, bytes 16..24).
fn png_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(b.get(16..20)?.try_into().ok()?);
    let h = u32::from_be_bytes(b.get(20..24)?.try_into().ok()?);
    Some((w, h))
}

/// The payload of a PNG `eXIf` chunk, walking chunk headers only (PNG 1.2 extensions, eXIf).
fn png_exif(b: &[u8]) -> Option<&[u8]> {
    let mut i = 8usize;
    while let Some(head) = b.get(i..i + 8) {
        let len = u32::from_be_bytes(head[0..4].try_into().ok()?) as usize;
        let start = i + 8;
        let end = start.checked_add(len)?;
        match &head[4..8] {
            b"eXIf" => return b.get(start..end),
            b"IEND" => return None,
            _ => {}
        }
        i = end.checked_add(4)?;
    }
    None
}

/// Width and height from the first WebP chunk: `VP8 ` (lossy), `VP8L` (lossless) or `VP8X`
/// (extended). Layouts from Google's "WebP Container Specification" and "WebP Lossless Bitstream".
fn webp_dimensions(b: &[u8]) -> Option<(u32, u32)> {
    let d = b.get(20..)?;
    match b.get(12..16)? {
        b"VP8 " => {
            if d.get(3..6)? != [0x9d, 0x01, 0x2a] {
                return None;
            }
            let w = u16::from_le_bytes(d.get(6..8)?.try_into().ok()?) & 0x3fff;
            let h = u16::from_le_bytes(d.get(8..10)?.try_into().ok()?) & 0x3fff;
            Some((w as u32, h as u32))
        }
        b"VP8L" => {
            if *d.first()? != 0x2f {
                return None;
            }
            let bits = u32::from_le_bytes(d.get(1..5)?.try_into().ok()?);
            Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1))
        }
        b"VP8X" => {
            let u24 = |s: &[u8]| s[0] as u32 | (s[1] as u32) << 8 | (s[2] as u32) << 16;
            Some((u24(d.get(4..7)?) + 1, u24(d.get(7..10)?) + 1))
        }
        _ => None,
    }
}

/// The payload of a WebP `EXIF` chunk (RIFF chunks are padded to an even length).
fn webp_exif(b: &[u8]) -> Option<&[u8]> {
    let mut i = 12usize;
    while let Some(head) = b.get(i..i + 8) {
        let len = u32::from_le_bytes(head[4..8].try_into().ok()?) as usize;
        let start = i + 8;
        let end = start.checked_add(len)?;
        if &head[0..4] == b"EXIF" {
            return b.get(start..end);
        }
        i = end.checked_add(len & 1)?;
    }
    None
}

/// Turns the stored pixels upright for an EXIF orientation (TIFF 6.0 / EXIF 2.32 tag 0x0112):
/// 1 as stored, 2 mirrored, 3 rotated 180°, 4 flipped vertically, 5 transposed, 6 rotated 90°
/// clockwise, 7 transversed, 8 rotated 90° counter-clockwise. One pass in 64×64 tiles, one new
/// buffer; orientation 1 (or none) returns the image untouched.
pub fn orient(img: Raster, orientation: u8) -> Raster {
    if !(2..=8).contains(&orientation) {
        return img;
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let swap = orientation >= 5;
    let (ow, oh) = if swap { (h, w) } else { (w, h) };
    let src = img.as_raw();
    let mut out = vec![0u8; src.len()];
    // 64×64 tiles keep both the rows read and the columns written in cache for the rotations.
    const TILE: usize = 64;
    for ty in (0..h).step_by(TILE) {
        for tx in (0..w).step_by(TILE) {
            for y in ty..(ty + TILE).min(h) {
                let x_end = (tx + TILE).min(w);
                let row = &src[(y * w + tx) * 4..(y * w + x_end) * 4];
                for (x, p) in (tx..x_end).zip(row.chunks_exact(4)) {
                    let (dx, dy) = match orientation {
                        2 => (w - 1 - x, y),
                        3 => (w - 1 - x, h - 1 - y),
                        4 => (x, h - 1 - y),
                        5 => (y, x),
                        6 => (h - 1 - y, x),
                        7 => (h - 1 - y, w - 1 - x),
                        _ => (y, w - 1 - x),
                    };
                    let d = (dy * ow + dx) * 4;
                    out[d..d + 4].copy_from_slice(p);
                }
            }
        }
    }
    Raster::from_rgba(ow as u32, oh as u32, out).unwrap_or(img)
}

/// Encodes an image. JPEG flattens alpha onto `matte`.
///
/// - JPEG: jpeg-encoder, baseline, Annex K tables scaled by libjpeg's quality formula, 4:2:0 chroma
///   below quality 90 and 4:4:4 from 90 up (the encoder's own rule), standard Huffman tables.
///   Flat white stays exactly 255,255,255 at every quality (see [`white_safe_tables`] and the
///   `white_stays_white` test).
/// - PNG: `image`'s encoder, default deflate and adaptive filtering; RGB when fully opaque.
/// - WebP: lossless (VP8L), the only WebP the pure-Rust encoder writes.
///
/// No EXIF, no ICC profile: the pixels are sRGB and nothing from the camera is carried along.
pub fn encode(img: &Raster, format: Format, quality: u8, matte: [u8; 4]) -> Result<Vec<u8>> {
    if img.is_empty() {
        return Err(Error::Encode("the image is empty".into()));
    }
    let (w, h) = img.dimensions();
    let transparent = img.has_transparency();
    let mut out = Vec::new();
    match format {
        Format::Jpeg => {
            let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
                return Err(Error::Encode(format!(
                    "{w}×{h} is too large for JPEG (at most 65535 pixels a side)"
                )));
            };
            // Standard (not optimised) Huffman tables: zune-jpeg 0.4 misreads jpeg-encoder's
            // optimised ones (the lower half of a 4:4:4 image came out wrong).
            let quality = quality.clamp(1, 100);
            let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
            if let Some((luma, chroma)) = white_safe_tables(quality) {
                enc.set_quantization_tables(luma, chroma);
            }
            let result = if transparent {
                let rgb = flatten(img, matte);
                enc.encode(&rgb, w16, h16, jpeg_encoder::ColorType::Rgb)
            } else {
                enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgba)
            };
            result.map_err(|e| Error::Encode(format!("JPEG: {e}")))?;
        }
        Format::Png | Format::Webp => {
            use image::ImageEncoder;
            let rgb;
            let (data, color) = if transparent {
                (img.as_raw(), image::ColorType::Rgba8)
            } else {
                rgb = img.to_rgb();
                (rgb.as_slice(), image::ColorType::Rgb8)
            };
            let result = if format == Format::Png {
                image::codecs::png::PngEncoder::new_with_quality(
                    &mut out,
                    image::codecs::png::CompressionType::Default,
                    image::codecs::png::FilterType::Adaptive,
                )
                .write_image(data, w, h, color)
            } else {
                image::codecs::webp::WebPEncoder::new_lossless(&mut out).encode(data, w, h, color)
            };
            result.map_err(|e| Error::Encode(format!("{}: {e}", format.extension())))?;
        }
    }
    Ok(out)
}

/// Scales an Annex K table (natural order) by libjpeg's quality formula (IJG `jcparam.c`):
/// `scale = q < 50 ? 5000/q : 200 − 2q`, entries `(t·scale + 50)/100` clamped to 1..=255.
fn scaled_table(t: &[u16; 64], q: u8) -> [u16; 64] {
    let q = q.clamp(1, 100) as u32;
    let scale = if q < 50 { 5000 / q } else { 200 - 2 * q };
    t.map(|v| ((v as u32 * scale + 50) / 100).clamp(1, 255) as u16)
}

/// Whether a flat white 8×8 block survives a luma DC quantiser `d` exactly. Its level-shifted
/// DC is 127·8 = 1016 (jpeg-encoder's DCT scales it by 8 more, as it does the table); the encoder
/// quantises by multiplying with a 15-bit reciprocal plus a rounding correction (its
/// `compute_reciprocal`, reproduced here because with large divisors it rounds *down* where exact
/// division would round up); the decoder returns `128 + n·d/8`, which must reach 254.5.
fn white_survives(d: u16) -> bool {
    const SHIFT: u32 = 15;
    let div = d as u32 * 8;
    let n = if div <= 1 {
        8128
    } else {
        let mut recip = (1u32 << SHIFT) / div;
        let frac = (1u32 << SHIFT) % div;
        let mut corr = div / 2;
        if frac != 0 {
            if frac <= corr {
                corr += 1;
            } else {
                recip += 1;
            }
        }
        ((8128 + corr) * recip) >> SHIFT
    };
    n * d as u32 >= 1012
}

/// At low qualities (below 39) the standard luma DC quantiser rounds flat white down to 254. Then
/// the same libjpeg-scaled Annex K tables are used, with the DC quantiser lowered to the nearest
/// value that keeps white at 255 (a few percent more bits on flat areas; everything else as the
/// encoder's default). `None` when the defaults are already white-safe.
fn white_safe_tables(
    q: u8,
) -> Option<(
    jpeg_encoder::QuantizationTableType,
    jpeg_encoder::QuantizationTableType,
)> {
    let mut luma = scaled_table(&ANNEX_K_LUMA_NATURAL, q);
    if white_survives(luma[0]) {
        return None;
    }
    luma[0] = (1..luma[0]).rev().find(|&d| white_survives(d)).unwrap_or(1);
    let chroma = scaled_table(&ANNEX_K_CHROMA_NATURAL, q);
    Some((
        jpeg_encoder::QuantizationTableType::Custom(Box::new(luma)),
        jpeg_encoder::QuantizationTableType::Custom(Box::new(chroma)),
    ))
}

/// ITU-T T.81 Annex K tables K.1 (luminance) and K.2 (chrominance), natural (row-major) order.
const ANNEX_K_LUMA_NATURAL: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const ANNEX_K_CHROMA_NATURAL: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Composites straight alpha over an opaque `matte` into packed RGB: `c·a + m·(255 − a)`, rounded.
fn flatten(img: &Raster, matte: [u8; 4]) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(img.pixel_count() * 3);
    for p in img.pixels() {
        let a = p[3] as u32;
        if a == 255 {
            rgb.extend_from_slice(&p[..3]);
        } else {
            for c in 0..3 {
                rgb.push(((p[c] as u32 * a + matte[c] as u32 * (255 - a) + 127) / 255) as u8);
            }
        }
    }
    rgb
}

/// The lowest JPEG quality the byte-budget search goes down to: below it photos look broken.
const MIN_QUALITY: u8 = 10;
/// Encodes allowed per budgeted export (the first at the requested quality).
const MAX_ENCODES: u32 = 7;

/// Encodes, and when `max_bytes` is set, finds the highest JPEG quality ≤ `quality` whose file fits.
/// Returns the bytes and the quality used.
///
/// The requested quality is tried first (usually it fits); otherwise a binary search over
/// `10..quality` runs, at most 7 encodes in all. When the search is cut short it keeps the best
/// fitting file found (within a quality step or two of the optimum). PNG and WebP are lossless, so
/// an over-budget file is an error that suggests JPEG.
pub fn encode_within(
    img: &Raster,
    format: Format,
    quality: u8,
    max_bytes: Option<u64>,
    matte: [u8; 4],
) -> Result<(Vec<u8>, u8)> {
    let quality = quality.clamp(1, 100);
    let first = encode(img, format, quality, matte)?;
    let Some(max) = max_bytes else {
        return Ok((first, quality));
    };
    if first.len() as u64 <= max {
        return Ok((first, quality));
    }
    if format != Format::Jpeg {
        return Err(Error::Encode(format!(
            "the {} is {} bytes, over the {max}-byte limit; {} is lossless and cannot be made \
             smaller, so export as JPEG (or resize the image) to fit",
            format.extension().to_uppercase(),
            first.len(),
            format.extension().to_uppercase()
        )));
    }
    let (mut lo, mut hi) = (MIN_QUALITY.min(quality.saturating_sub(1)), quality - 1);
    let mut best: Option<(Vec<u8>, u8)> = None;
    let mut smallest = first.len();
    let mut encodes = 1;
    while lo <= hi && hi >= 1 && encodes < MAX_ENCODES {
        let mid = lo + (hi - lo) / 2;
        let bytes = encode(img, format, mid, matte)?;
        encodes += 1;
        smallest = smallest.min(bytes.len());
        if bytes.len() as u64 <= max {
            best = Some((bytes, mid));
            lo = mid + 1;
        } else {
            if mid == 0 {
                break;
            }
            hi = mid - 1;
        }
    }
    best.ok_or_else(|| {
        Error::Encode(format!(
            "the image does not fit in {max} bytes even at JPEG quality {MIN_QUALITY} (smallest \
             file: {smallest} bytes); raise the size limit or make the image smaller"
        ))
    })
}

/// Estimates a JPEG's quality (1–100) from its luminance quantisation table: the libjpeg quality
/// whose scaled Annex K table (`scale = q < 50 ? 5000/q : 200 − 2q`, entries `(t·scale + 50)/100`
/// clamped to 1..255, IJG `jcparam.c`) is closest to the file's DQT table 0. `None` when the bytes
/// have no readable DQT.
pub fn jpeg_quality(bytes: &[u8]) -> Option<u8> {
    let table = jpeg_luma_table(bytes)?;
    (1..=100u8).min_by_key(|&q| {
        let scale = if q < 50 {
            5000 / q as u32
        } else {
            200 - 2 * q as u32
        };
        // DQT entries are in zig-zag order, like ANNEX_K_LUMA below.
        ANNEX_K_LUMA
            .iter()
            .zip(table.iter())
            .map(|(&t, &v)| {
                ((t as u32 * scale + 50) / 100)
                    .clamp(1, 255)
                    .abs_diff(v as u32)
            })
            .sum::<u32>()
    })
}

/// DQT table 0 of a JPEG, in zig-zag order, found by walking the marker segments up to SOS.
fn jpeg_luma_table(b: &[u8]) -> Option<[u16; 64]> {
    let mut i = 2usize;
    if b.get(0..2)? != [0xFF, 0xD8] {
        return None;
    }
    loop {
        // Skip fill bytes.
        while *b.get(i)? == 0xFF && *b.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *b.get(i)? != 0xFF {
            return None;
        }
        let marker = *b.get(i + 1)?;
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = u16::from_be_bytes(b.get(i + 2..i + 4)?.try_into().ok()?) as usize;
        let seg = b.get(i + 4..(i + 2).checked_add(len)?)?;
        if marker == 0xDB {
            let mut j = 0;
            while j < seg.len() {
                let pq = seg[j] >> 4;
                let id = seg[j] & 0x0F;
                let n = if pq == 0 { 64 } else { 128 };
                let data = seg.get(j + 1..j + 1 + n)?;
                if id == 0 {
                    let mut t = [0u16; 64];
                    for (k, v) in t.iter_mut().enumerate() {
                        *v = if pq == 0 {
                            data[k] as u16
                        } else {
                            u16::from_be_bytes([data[2 * k], data[2 * k + 1]])
                        };
                    }
                    return Some(t);
                }
                j += 1 + n;
            }
        }
        i += 2 + len;
    }
}

/// ITU-T T.81 Annex K, table K.1 (luminance), in zig-zag order as DQT stores it.
const ANNEX_K_LUMA: [u16; 64] = [
    16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49, 35, 37,
    29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56, 80, 109, 81,
    87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A product-like photo: white canvas, a coloured object with soft (anti-aliased) edges.
    fn product(w: u32, h: u32) -> Raster {
        let mut img = Raster::new(w, h, [255, 255, 255, 255]);
        let (cx, cy, r) = (w as f32 / 2.0, h as f32 / 2.0, w.min(h) as f32 * 0.35);
        for y in 0..h {
            for x in 0..w {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
                let t = (r - d).clamp(0.0, 1.0);
                if t > 0.0 {
                    let c = [
                        (200.0 * (x as f32 / w as f32)) as u8,
                        40,
                        (180.0 * (y as f32 / h as f32)) as u8,
                    ];
                    let mix = |c: u8| (c as f32 * t + 255.0 * (1.0 - t)).round() as u8;
                    img.put(x, y, [mix(c[0]), mix(c[1]), mix(c[2]), 255]);
                }
            }
        }
        img
    }

    fn jpeg(img: &Raster, q: u8) -> Vec<u8> {
        encode(img, Format::Jpeg, q, [255; 4]).unwrap()
    }

    fn dec(bytes: &[u8]) -> Raster {
        decode("t", bytes, &Limits::default()).unwrap().image
    }

    fn jpeg_with_app1(img: &Raster, app1: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 95);
        enc.add_app_segment(1, app1).unwrap();
        enc.encode(
            img.as_raw(),
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Rgba,
        )
        .unwrap();
        out
    }

    /// The spec's hard rule: after JPEG encode and decode, every border pixel of a white
    /// background is exactly 255,255,255, at every quality from 1 to 100 (so at 85 and 60 too).
    #[test]
    fn white_stays_white() {
        let img = product(203, 157);
        for q in (1..=100).rev() {
            let back = dec(&jpeg(&img, q));
            assert_eq!(back.dimensions(), (203, 157));
            let (w, h) = back.dimensions();
            for x in 0..w {
                for y in [0, 1, h - 2, h - 1] {
                    assert_eq!(back.get(x, y), [255; 4], "q{q} at ({x},{y})");
                }
            }
            for y in 0..h {
                for x in [0, 1, w - 2, w - 1] {
                    assert_eq!(back.get(x, y), [255; 4], "q{q} at ({x},{y})");
                }
            }
        }
    }

    /// Files are decoded back to their size and near their colours, in all three formats, and the
    /// encoders write no metadata (no APP1/EXIF, no ICC).
    #[test]
    fn round_trips_without_metadata() {
        let mut img = product(64, 48);
        let j = jpeg(&img, 95);
        assert!(!j.windows(4).any(|w| w == b"Exif"));
        assert!(!j.windows(2).any(|w| w == [0xFF, 0xE1] || w == [0xFF, 0xE2]));
        let back = dec(&j);
        let p = back.get(32, 24);
        let o = img.get(32, 24);
        assert!((0..3).all(|c| p[c].abs_diff(o[c]) < 12), "{p:?} vs {o:?}");

        img.put(0, 0, [10, 20, 30, 40]);
        for f in [Format::Png, Format::Webp] {
            let bytes = encode(&img, f, 90, [255; 4]).unwrap();
            assert_eq!(sniff(&bytes), Some(f));
            assert!(!bytes
                .windows(4)
                .any(|w| w == b"eXIf" || w == b"EXIF" || w == b"iCCP"));
            let d = decode("t", &bytes, &Limits::default()).unwrap();
            assert_eq!(d.format, f);
            assert_eq!(d.image, img, "{f:?} is lossless");
        }
        // Opaque PNGs are written as RGB (colour type 2).
        let opaque = encode(&product(8, 8), Format::Png, 90, [255; 4]).unwrap();
        assert_eq!(opaque[25], 2);
    }

    /// Transparency becomes the matte colour in JPEG.
    #[test]
    fn jpeg_flattens_onto_the_matte() {
        let img = Raster::new(16, 16, [0, 0, 0, 0]);
        let back = dec(&encode(&img, Format::Jpeg, 90, [255, 0, 0, 255]).unwrap());
        let p = back.get(8, 8);
        assert!(p[0] > 245 && p[1] < 10 && p[2] < 10, "{p:?}");
        let half = Raster::new(16, 16, [0, 0, 0, 128]);
        let p = dec(&encode(&half, Format::Jpeg, 95, [255; 4]).unwrap()).get(8, 8);
        assert!((p[0] as i32 - 127).abs() <= 3, "{p:?}");
    }

    /// A 200-megapixel photo is refused from its header alone, quickly, with the clear error.
    #[test]
    fn huge_photos_are_refused_before_decoding() {
        let limits = Limits::default();
        // A real small JPEG whose SOF claims 20000×10000.
        let mut j = jpeg(&product(16, 16), 90);
        let sof = j.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        j[sof + 5..sof + 7].copy_from_slice(&10000u16.to_be_bytes());
        j[sof + 7..sof + 9].copy_from_slice(&20000u16.to_be_bytes());
        // A real small PNG whose IHDR claims the same.
        let mut p = encode(&product(16, 16), Format::Png, 90, [255; 4]).unwrap();
        p[16..20].copy_from_slice(&20000u32.to_be_bytes());
        p[20..24].copy_from_slice(&10000u32.to_be_bytes());
        let mut wp = encode(&product(16, 16), Format::Webp, 90, [255; 4]).unwrap();
        let bits: u32 = 15999 | (12499 << 14);
        wp[21..25].copy_from_slice(&bits.to_le_bytes());
        for (bytes, (w, h)) in [
            (j, (20000, 10000)),
            (p, (20000, 10000)),
            (wp, (16000, 12500)),
        ] {
            let t = std::time::Instant::now();
            let e = decode("big.jpg", &bytes, &limits).unwrap_err();
            assert!(t.elapsed().as_millis() < 50, "{:?}", t.elapsed());
            match &e {
                Error::TooLarge {
                    width,
                    height,
                    limit_mp,
                    ..
                } => assert_eq!((*width, *height, *limit_mp), (w, h, 100)),
                other => panic!("{other:?}"),
            }
            assert!(e.to_string().starts_with("big.jpg: the photo is"), "{e}");
        }
        let small = Limits {
            max_file_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            decode("a", &[0xFF; 11], &small),
            Err(Error::FileTooLarge { .. })
        ));
    }

    /// The header alone gives a photo's size (for refusing bombs before storing them).
    #[test]
    fn header_dimensions_match_the_pixels() {
        let img = product(37, 23);
        for f in [Format::Jpeg, Format::Png, Format::Webp] {
            let bytes = encode(&img, f, 90, [255, 255, 255, 255]).expect("encode");
            assert_eq!(dimensions(&bytes), Some((37, 23)), "{f:?}");
        }
        assert_eq!(dimensions(b"not an image"), None);
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 2]), None);
    }

    /// Not an image: a plain message naming the file.
    #[test]
    fn unknown_formats_are_named() {
        let e = decode("notes.txt", b"hello world, not a photo", &Limits::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "notes.txt: the file is not a JPEG, PNG or WebP image"
        );
        assert!(decode("gif.gif", b"GIF89a......", &Limits::default()).is_err());
        assert!(decode("empty.jpg", b"", &Limits::default()).is_err());
    }

    /// Truncations at many lengths and random byte flips of valid files give `Error::Decode` (or,
    /// for lenient decoders, a picture) and never a panic.
    #[test]
    fn corrupt_files_are_errors_not_panics() {
        let img = product(48, 40);
        let files = [
            jpeg(&img, 80),
            jpeg(&img, 95),
            encode(&img, Format::Png, 90, [255; 4]).unwrap(),
            encode(&img, Format::Webp, 90, [255; 4]).unwrap(),
            // libjpeg's progressive script (refinement scans), one with restart markers.
            include_bytes!("../../../fixtures/twins/prog420r.jpg").to_vec(),
            include_bytes!("../../../fixtures/twins/prog422.jpg").to_vec(),
        ];
        let mut seed = 0x2545F4914F6CDD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for f in &files {
            for n in (0..f.len()).step_by(7).chain([f.len() - 1, f.len() - 2]) {
                if sniff(&f[..n]) == Some(Format::Jpeg) && jpeg_tables_defined(&f[..n]) {
                    for scale in [1, 2, 8] {
                        let _ = decode_jpeg_unchecked(
                            "cut.jpg",
                            &f[..n],
                            &Limits::default(),
                            &|_, _| scale,
                        );
                    }
                }
                match decode("cut.jpg", &f[..n], &Limits::default()) {
                    Ok(d) => assert!(!d.image.is_empty()),
                    Err(Error::Decode { name, reason }) => {
                        assert_eq!(name, "cut.jpg");
                        assert!(!reason.is_empty());
                    }
                    Err(other) => panic!("{other:?}"),
                }
            }
            for _ in 0..1000 {
                let mut g = f.clone();
                for _ in 0..1 + next() % 4 {
                    let i = (next() as usize) % g.len();
                    g[i] = next() as u8;
                }
                // The JPEG path without its native-only panic catcher (what wasm32 runs).
                if sniff(&g) == Some(Format::Jpeg) && jpeg_tables_defined(&g) {
                    for scale in [1, 2] {
                        let _ =
                            decode_jpeg_unchecked("flip.jpg", &g, &Limits::default(), &|_, _| {
                                scale
                            });
                    }
                }
                match decode("flip.png", &g, &Limits::default()) {
                    Ok(_) | Err(Error::Decode { .. }) | Err(Error::TooLarge { .. }) => {}
                    Err(other) => panic!("{other:?}"),
                }
            }
        }
    }

    /// Where the stored image's first row and first column end up, per the EXIF definition of each
    /// orientation value (row 0 / column 0 positions), on exact pixels.
    #[test]
    fn orientation_moves_the_corners_as_exif_defines() {
        // Stored 3×2: A at (0,0), B at (1,0) (next along row 0), C at (0,1) (next along column 0).
        let (a, b, c) = ([1, 0, 0, 255], [2, 0, 0, 255], [3, 0, 0, 255]);
        let mut img = Raster::new(3, 2, [0, 0, 0, 255]);
        img.put(0, 0, a);
        img.put(1, 0, b);
        img.put(0, 1, c);
        // (orientation, output size, where A, B and C must land)
        let cases: [(u8, (u32, u32), [(u32, u32); 3]); 8] = [
            (1, (3, 2), [(0, 0), (1, 0), (0, 1)]),
            (2, (3, 2), [(2, 0), (1, 0), (2, 1)]),
            (3, (3, 2), [(2, 1), (1, 1), (2, 0)]),
            (4, (3, 2), [(0, 1), (1, 1), (0, 0)]),
            (5, (2, 3), [(0, 0), (0, 1), (1, 0)]),
            (6, (2, 3), [(1, 0), (1, 1), (0, 0)]),
            (7, (2, 3), [(1, 2), (1, 1), (0, 2)]),
            (8, (2, 3), [(0, 2), (0, 1), (1, 2)]),
        ];
        for (o, size, at) in cases {
            let out = orient(img.clone(), o);
            assert_eq!(out.dimensions(), size, "orientation {o}");
            for (p, (x, y)) in [a, b, c].into_iter().zip(at) {
                assert_eq!(out.get(x, y), p, "orientation {o}");
            }
        }
    }

    /// The orientation in a JPEG's APP1 Exif segment is applied on decode, for all 8 values.
    #[test]
    fn jpeg_exif_orientation_is_applied() {
        // 32×16 stored: red block at the top left, green block right of it.
        let mut img = Raster::new(32, 16, [0, 0, 255, 255]);
        for y in 0..8 {
            for x in 0..8 {
                img.put(x, y, [255, 0, 0, 255]);
                img.put(x + 8, y, [0, 255, 0, 255]);
            }
        }
        for o in 1..=8u16 {
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend(crate::exif::tiff_with_orientation(o));
            let out = dec(&jpeg_with_app1(&img, &app1));
            let want = orient(img.clone(), o as u8);
            assert_eq!(out.dimensions(), want.dimensions(), "orientation {o}");
            let (w, h) = out.dimensions();
            for (x, y) in [
                (3, 3),
                (w - 4, 3),
                (3, h - 4),
                (w - 4, h - 4),
                (w / 2, h / 2),
            ] {
                let (p, q) = (out.get(x, y), want.get(x, y));
                assert!(
                    (0..3).all(|c| p[c].abs_diff(q[c]) < 40),
                    "orientation {o} at ({x},{y}): {p:?} vs {q:?}"
                );
            }
        }
    }

    /// `w`×`h` of `img` averaged over `s`×`s` cells (the last row and column of cells may be
    /// partial): what reading a JPEG at `1/s` should come close to.
    fn box_average(img: &Raster, s: u32) -> Raster {
        let (w, h) = img.dimensions();
        let mut out = Raster::new(w.div_ceil(s), h.div_ceil(s), [0; 4]);
        for cy in 0..h.div_ceil(s) {
            for cx in 0..w.div_ceil(s) {
                let mut sum = [0u32; 4];
                let mut n = 0;
                for y in cy * s..((cy + 1) * s).min(h) {
                    for x in cx * s..((cx + 1) * s).min(w) {
                        let p = img.get(x, y);
                        for c in 0..4 {
                            sum[c] += p[c] as u32;
                        }
                        n += 1;
                    }
                }
                out.put(cx, cy, sum.map(|v| ((v + n / 2) / n) as u8));
            }
        }
        out
    }

    /// A real photo (scikit-image's coffee, cropped to sizes that are not whole blocks) encoded
    /// the ways phones and editors do: 4:2:0, 4:2:2 and 4:4:4 baseline, progressive, grayscale.
    fn coffee_variants() -> Vec<(&'static str, Vec<u8>)> {
        let photo = dec(include_bytes!("../../../fixtures/photos/coffee.jpg"));
        let photo = photo.crop(0, 0, 597, 397);
        let enc = |name: &'static str, sampling, progressive: bool, gray: bool| {
            let mut out = Vec::new();
            let mut e = jpeg_encoder::Encoder::new(&mut out, 90);
            e.set_sampling_factor(sampling);
            e.set_progressive(progressive);
            let (w, h) = (photo.width() as u16, photo.height() as u16);
            if gray {
                let luma: Vec<u8> = photo.as_raw().chunks_exact(4).map(|p| p[1]).collect();
                e.encode(&luma, w, h, jpeg_encoder::ColorType::Luma)
                    .unwrap();
            } else {
                e.encode(photo.as_raw(), w, h, jpeg_encoder::ColorType::Rgba)
                    .unwrap();
            }
            (name, out)
        };
        use jpeg_encoder::SamplingFactor as F;
        vec![
            (
                "the fixture as it is",
                include_bytes!("../../../fixtures/photos/coffee.jpg").to_vec(),
            ),
            enc("baseline 4:2:0", F::F_2_2, false, false),
            enc("baseline 4:2:2", F::F_2_1, false, false),
            enc("baseline 4:4:4", F::F_1_1, false, false),
            enc("progressive 4:2:0", F::F_2_2, true, false),
            enc("progressive 4:4:4", F::F_1_1, true, false),
            enc("grayscale", F::F_1_1, false, true),
            enc("progressive grayscale", F::F_1_1, true, true),
        ]
    }

    /// Reading at 1/2, 1/4 and 1/8 gives the rounded-up size and, pixel for pixel, the full
    /// decode averaged over the same cells (the reduced inverse DCT drops only the frequencies
    /// that the smaller grid cannot hold).
    #[test]
    fn a_jpeg_read_smaller_is_the_full_photo_averaged() {
        for (name, bytes) in coffee_variants() {
            let full = decode("c.jpg", &bytes, &Limits::default()).unwrap();
            assert_eq!(full.full, full.image.dimensions());
            for s in [2u32, 4, 8] {
                let small = decode_at("c.jpg", &bytes, &Limits::default(), &|_, _| s).unwrap();
                let (w, h) = full.image.dimensions();
                assert_eq!(small.full, (w, h), "{name} 1/{s}");
                assert_eq!(
                    small.image.dimensions(),
                    (w.div_ceil(s), h.div_ceil(s)),
                    "{name} 1/{s}"
                );
                let want = box_average(&full.image, s);
                let (mut sum, mut worst, mut n) = (0u64, 0u8, 0u64);
                for (a, b) in small
                    .image
                    .as_raw()
                    .chunks_exact(4)
                    .zip(want.as_raw().chunks_exact(4))
                {
                    for c in 0..3 {
                        let d = a[c].abs_diff(b[c]);
                        sum += d as u64;
                        worst = worst.max(d);
                        n += 1;
                    }
                    assert_eq!(a[3], 255);
                }
                let mean = sum as f64 / n as f64;
                println!("{name} 1/{s}: mean {mean:.2}, worst {worst}");
                assert!(mean < 2.0, "{name} 1/{s}: mean difference {mean:.2}");
                assert!(worst < 48, "{name} 1/{s}: worst difference {worst}");
            }
        }
    }

    /// The (Ah, Al) of every scan (SOS segment) in a JPEG, and whether it sets a restart interval.
    fn scans(bytes: &[u8]) -> (Vec<(u8, u8)>, bool) {
        let (mut out, mut dri, mut i) = (Vec::new(), false, 2);
        while i + 4 <= bytes.len() {
            if bytes[i] != 0xFF || matches!(bytes[i + 1], 0x00 | 0xFF | 0xD0..=0xD7) {
                i += 1;
                continue;
            }
            let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
            match bytes[i + 1] {
                0xD9 => break,
                0xDD => dri = true,
                0xDA => {
                    let n = usize::from(bytes[i + 4]);
                    let a = bytes[i + 7 + 2 * n];
                    out.push((a >> 4, a & 15));
                }
                _ => {}
            }
            i += 2 + len;
        }
        (out, dri)
    }

    /// A progressive JPEG holds the same quantized coefficients as the baseline JPEG libjpeg writes
    /// from the same pixels and settings, only in another order, so both must decode to the same
    /// bytes, at full size and read smaller. The twins (fixtures/twins, libjpeg-turbo through
    /// Pillow) use libjpeg's standard progressive script, with successive-approximation refinement
    /// scans, and one pair has restart markers: this is what checks the progressive decoder's
    /// refinement and restart handling, which the vendored zune-jpeg rewrites.
    #[test]
    fn progressive_twins_decode_to_the_baseline_pixels() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/twins");
        let mut restarts = false;
        for name in ["420r", "422", "444", "L"] {
            let read = |kind: &str| std::fs::read(format!("{dir}/{kind}{name}.jpg")).unwrap();
            let (base, prog) = (read("base"), read("prog"));
            let (sb, _) = scans(&base);
            let (sp, dri) = scans(&prog);
            assert_eq!(sb.len(), 1, "{name}: the baseline twin is one scan");
            assert!(sp.len() >= 6, "{name}: {} scans", sp.len());
            assert!(
                sp.iter().any(|&(ah, _)| ah > 0),
                "{name}: no refinement scan"
            );
            restarts |= dri;
            for s in [1u32, 2, 4, 8] {
                let b = decode_at("b.jpg", &base, &Limits::default(), &|_, _| s).unwrap();
                let p = decode_at("p.jpg", &prog, &Limits::default(), &|_, _| s).unwrap();
                assert_eq!(b.image.dimensions(), p.image.dimensions(), "{name} 1/{s}");
                assert_eq!(b.image.dimensions().0, 213u32.div_ceil(s), "{name} 1/{s}");
                let diff = b
                    .image
                    .as_raw()
                    .iter()
                    .zip(p.image.as_raw())
                    .filter(|(x, y)| x != y);
                assert_eq!(
                    diff.count(),
                    0,
                    "{name} 1/{s}: progressive and baseline differ"
                );
            }
        }
        assert!(restarts, "no twin with restart markers");
    }

    /// The scale is asked for with the upright size, and the reduced photo comes out upright.
    #[test]
    fn a_jpeg_read_smaller_keeps_its_orientation() {
        let mut img = Raster::new(64, 32, [0, 0, 255, 255]);
        for y in 0..16 {
            for x in 0..16 {
                img.put(x, y, [255, 0, 0, 255]);
            }
        }
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(crate::exif::tiff_with_orientation(6));
        let bytes = jpeg_with_app1(&img, &app1);
        let asked = std::cell::Cell::new((0, 0));
        let d = decode_at("o.jpg", &bytes, &Limits::default(), &|w, h| {
            asked.set((w, h));
            2
        })
        .unwrap();
        assert_eq!(asked.get(), (32, 64));
        assert_eq!(d.full, (32, 64));
        assert_eq!(d.image.dimensions(), (16, 32));
        let full = orient(img, 6);
        let want = box_average(&full, 2);
        for (x, y) in [(2, 2), (13, 2), (2, 29), (13, 29), (8, 16)] {
            let (p, q) = (d.image.get(x, y), want.get(x, y));
            assert!(
                (0..3).all(|c| p[c].abs_diff(q[c]) < 40),
                "({x},{y}): {p:?} vs {q:?}"
            );
        }
    }

    /// PNG `eXIf` orientation is honoured too (phones and editors write it).
    #[test]
    fn png_exif_orientation_is_applied() {
        let mut img = Raster::new(3, 2, [0, 0, 0, 255]);
        img.put(0, 0, [9, 9, 9, 255]);
        let png = encode(&img, Format::Png, 90, [255; 4]).unwrap();
        // Insert an eXIf chunk (with its CRC-32, PNG spec section 5.3) after IHDR (8 + 25 bytes).
        let crc = |data: &[u8]| {
            let mut c = 0xFFFF_FFFFu32;
            for &b in data {
                c ^= b as u32;
                for _ in 0..8 {
                    c = if c & 1 == 1 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        };
        let tiff = crate::exif::tiff_with_orientation(6);
        let mut body = b"eXIf".to_vec();
        body.extend_from_slice(&tiff);
        let mut with = png[..33].to_vec();
        with.extend_from_slice(&(tiff.len() as u32).to_be_bytes());
        with.extend_from_slice(&body);
        with.extend_from_slice(&crc(&body).to_be_bytes());
        with.extend_from_slice(&png[33..]);
        let d = decode("t.png", &with, &Limits::default()).unwrap();
        assert_eq!(d.image.dimensions(), (2, 3));
        assert_eq!(d.image.get(1, 0), [9, 9, 9, 255]);
    }

    /// Grayscale JPEGs come out as opaque RGBA.
    #[test]
    fn grayscale_jpeg_is_rgba() {
        let mut out = Vec::new();
        let gray: Vec<u8> = (0..64 * 64).map(|i| (i % 256) as u8).collect();
        jpeg_encoder::Encoder::new(&mut out, 90)
            .encode(&gray, 64, 64, jpeg_encoder::ColorType::Luma)
            .unwrap();
        let img = dec(&out);
        assert_eq!(img.dimensions(), (64, 64));
        let p = img.get(10, 0);
        assert!(p[0] == p[1] && p[1] == p[2] && p[3] == 255);
    }

    /// The byte budget picks the highest quality that fits, and says clearly when nothing fits.
    #[test]
    fn byte_budget_search() {
        let img = product(300, 300);
        let full = jpeg(&img, 90).len() as u64;
        let (bytes, q) = encode_within(&img, Format::Jpeg, 90, Some(full), [255; 4]).unwrap();
        assert_eq!((bytes.len() as u64, q), (full, 90));
        let budget = jpeg(&img, 50).len() as u64 + 1;
        let (bytes, q) = encode_within(&img, Format::Jpeg, 90, Some(budget), [255; 4]).unwrap();
        assert!(bytes.len() as u64 <= budget);
        assert!((49..=51).contains(&q), "{q}");
        if q < 90 {
            assert!(jpeg(&img, q + 2).len() as u64 > budget);
        }
        let e = encode_within(&img, Format::Jpeg, 90, Some(200), [255; 4]).unwrap_err();
        assert!(e.to_string().contains("200 bytes"), "{e}");
        assert!(e.to_string().contains("quality 10"), "{e}");
        let e = encode_within(&img, Format::Png, 90, Some(200), [255; 4]).unwrap_err();
        assert!(e.to_string().contains("JPEG"), "{e}");
    }

    /// The quality estimate from DQT recovers the encoder's quality.
    #[test]
    fn jpeg_quality_is_estimated() {
        let img = product(32, 32);
        for q in [10, 30, 50, 60, 70, 85, 90, 95, 100] {
            let est = jpeg_quality(&jpeg(&img, q)).unwrap();
            assert!(est.abs_diff(q) <= 1, "q{q} estimated {est}");
        }
        assert_eq!(jpeg_quality(b"not a jpeg"), None);
        let j = jpeg(&img, 80);
        for n in 0..j.len().min(400) {
            let _ = jpeg_quality(&j[..n]);
        }
    }
}
