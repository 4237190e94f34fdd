//! The one EXIF fact the engine needs: the orientation tag (0x0112), read from a TIFF structure
//! (the payload of a JPEG APP1 `Exif` segment, a PNG `eXIf` chunk or a WebP `EXIF` chunk).
//! Everything else in EXIF is dropped: exported files carry no metadata.

/// Reads the orientation (1–8) from IFD0 of a TIFF structure. A leading `Exif\0\0` is skipped.
/// `None` when absent, out of range or the data is malformed (never panics: every read is checked).
///
/// Layout (TIFF 6.0, section 2): byte order `II`/`MM`, magic 42, offset of IFD0; an IFD is a u16
/// count of 12-byte entries `tag u16, type u16, count u32, value/offset u32`. Orientation is a
/// SHORT (type 3) stored in the first two bytes of the value field (EXIF 2.32, tag 0x0112).
pub fn orientation(data: &[u8]) -> Option<u8> {
    let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
    let big = match tiff.get(0..2)? {
        b"II" => false,
        b"MM" => true,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(i..i.checked_add(2)?)?.try_into().ok()?;
        Some(if big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(i..i.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for k in 0..count {
        let e = ifd.checked_add(2 + k * 12)?;
        if u16_at(e)? == 0x0112 {
            // SHORT is the only type the standard allows; some writers use LONG, read both.
            let v = match u16_at(e + 2)? {
                3 => u16_at(e + 8)? as u32,
                4 => u32_at(e + 8)?,
                _ => return None,
            };
            return (1..=8).contains(&v).then_some(v as u8);
        }
    }
    None
}

/// A minimal little-endian TIFF holding only an orientation tag (for tests and fixtures).
pub fn tiff_with_orientation(o: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"II");
    t.extend_from_slice(&42u16.to_le_bytes());
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&o.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both byte orders and the `Exif\0\0` prefix are read; junk gives `None`, not a panic.
    #[test]
    fn reads_orientation_and_survives_junk() {
        for o in 1..=8u16 {
            assert_eq!(orientation(&tiff_with_orientation(o)), Some(o as u8));
        }
        let mut prefixed = b"Exif\0\0".to_vec();
        prefixed.extend(tiff_with_orientation(6));
        assert_eq!(orientation(&prefixed), Some(6));
        let big = [
            b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0,
        ];
        assert_eq!(orientation(&big), Some(8));
        assert_eq!(orientation(&tiff_with_orientation(9)), None);
        let t = tiff_with_orientation(3);
        // Cut anywhere before the end of the orientation value (byte 20): nothing read.
        for n in 0..20 {
            assert_eq!(orientation(&t[..n]), None);
        }
        let mut huge_count = t.clone();
        huge_count[8] = 0xFF;
        huge_count[9] = 0xFF;
        let _ = orientation(&huge_count);
        assert_eq!(orientation(b"garbage"), None);
    }
}
