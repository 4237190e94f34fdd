//! A store-only ZIP writer (no compression): the exported images are already compressed, and the
//! CSV and JSON beside them are small, so deflate would buy little and cost code size.
//!
//! The archive is returned as chunks (headers we build, file data we borrow) so the page can hand
//! them to a `Blob` without first copying every image into one buffer.
//! Format: PKWARE APPNOTE.TXT 6.3.x, sections 4.3.7 (local header), 4.3.12 (central directory),
//! 4.3.16 (end of central directory); no ZIP64, so an archive must stay under 4 GB.

/// One file to put in the archive. `crc` may be given when it was computed elsewhere (the worker
/// computes it next to the bytes it produced, off the main thread).
pub struct Entry<'a> {
    pub name: &'a str,
    pub data: &'a [u8],
    pub crc: Option<u32>,
}

/// A piece of the archive, in order.
pub enum Chunk<'a> {
    Owned(Vec<u8>),
    Borrowed(&'a [u8]),
}

impl Chunk<'_> {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Owned(v) => v,
            Chunk::Borrowed(b) => b,
        }
    }
}

/// Bit 11 of the general purpose flag: names are UTF-8.
const UTF8: u16 = 1 << 11;
/// 1980-01-01 00:00 in MS-DOS date format; the files' real times are not known here.
const DOS_DATE: u16 = (1 << 5) | 1;

/// The archive of `entries`, as chunks. Fails when it would need ZIP64 (over 4 GB or 65 535 files).
pub fn store<'a>(entries: &[Entry<'a>]) -> Result<Vec<Chunk<'a>>, String> {
    if entries.len() > u16::MAX as usize {
        return Err("too many files for one ZIP".into());
    }
    let mut chunks = Vec::with_capacity(entries.len() * 2 + 1);
    let mut central = Vec::new();
    let mut offset: u64 = 0;
    for e in entries {
        let crc = e.crc.unwrap_or_else(|| crc32(e.data));
        let size = u32::try_from(e.data.len()).map_err(|_| too_big())?;
        let at = u32::try_from(offset).map_err(|_| too_big())?;
        let name = e.name.as_bytes();
        let name_len = u16::try_from(name.len()).map_err(|_| "a file name is too long")?;

        let mut local = Vec::with_capacity(30 + name.len());
        put32(&mut local, 0x0403_4b50);
        put16(&mut local, 10); // version needed: 1.0 (stored)
        put16(&mut local, UTF8);
        put16(&mut local, 0); // method: stored
        put16(&mut local, 0); // time
        put16(&mut local, DOS_DATE);
        put32(&mut local, crc);
        put32(&mut local, size);
        put32(&mut local, size);
        put16(&mut local, name_len);
        put16(&mut local, 0); // extra field length
        local.extend_from_slice(name);
        offset += local.len() as u64 + size as u64;
        chunks.push(Chunk::Owned(local));
        chunks.push(Chunk::Borrowed(e.data));

        put32(&mut central, 0x0201_4b50);
        put16(&mut central, 20); // made by: 2.0
        put16(&mut central, 10);
        put16(&mut central, UTF8);
        put16(&mut central, 0);
        put16(&mut central, 0);
        put16(&mut central, DOS_DATE);
        put32(&mut central, crc);
        put32(&mut central, size);
        put32(&mut central, size);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk number
        put16(&mut central, 0); // internal attributes
        put32(&mut central, 0); // external attributes
        put32(&mut central, at);
        central.extend_from_slice(name);
    }
    let central_at = u32::try_from(offset).map_err(|_| too_big())?;
    let central_len = central.len() as u32;
    let count = entries.len() as u16;
    put32(&mut central, 0x0605_4b50);
    put16(&mut central, 0);
    put16(&mut central, 0);
    put16(&mut central, count);
    put16(&mut central, count);
    put32(&mut central, central_len);
    put32(&mut central, central_at);
    put16(&mut central, 0); // comment length
    chunks.push(Chunk::Owned(central));
    Ok(chunks)
}

fn too_big() -> String {
    "the ZIP would be larger than 4 GB; download fewer files at once".into()
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as ZIP requires; table-driven.
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    let mut c = !0u32;
    for &b in data {
        c = TABLE[((c ^ b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
        store(entries)
            .expect("small archive")
            .iter()
            .flat_map(|c| c.bytes().to_vec())
            .collect()
    }

    /// The check value of the CRC-32 catalogue ("123456789" → 0xCBF43926).
    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// Each file can be found again through the central directory, with its name, CRC and bytes.
    #[test]
    fn files_are_found_through_the_central_directory() {
        let files: [(&str, &[u8]); 3] = [
            ("a.jpg", b"\xff\xd8jpeg bytes"),
            ("listing.csv", b"file,sku\nmug.jpg,MUG\n"),
            ("caf\u{e9}.json", b"{}"),
        ];
        let entries: Vec<Entry> = files
            .iter()
            .map(|(n, d)| Entry {
                name: n,
                data: d,
                crc: None,
            })
            .collect();
        let zip = archive(&entries);
        let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
        let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]);
        let end = zip.len() - 22;
        assert_eq!(u32_at(end), 0x0605_4b50);
        assert_eq!(u16_at(end + 10), 3);
        let mut at = u32_at(end + 16) as usize;
        for (name, data) in files {
            assert_eq!(u32_at(at), 0x0201_4b50);
            let crc = u32_at(at + 16);
            let size = u32_at(at + 20) as usize;
            let name_len = u16_at(at + 28);
            let local = u32_at(at + 42) as usize;
            assert_eq!(&zip[at + 46..at + 46 + name_len], name.as_bytes());
            assert_eq!(crc, crc32(data));
            assert_eq!(u32_at(local), 0x0403_4b50);
            let start = local + 30 + u16_at(local + 26);
            assert_eq!(&zip[start..start + size], data);
            at += 46 + name_len;
        }
    }
}
