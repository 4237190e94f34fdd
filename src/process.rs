//! Turns the engine's report on one photo into what the page shows, and a batch of them into the
//! ZIP a merchant downloads (every file, `listing.csv`, `report.json`).

use crate::browser::ObjectUrl;
use crate::zip;
use shotline_core::engine::{Artifact, PhotoReport, Status};
use shotline_core::RunReport;
use std::sync::Arc;

/// One photo's outcome, ready to render. Results are shared behind `Arc`, so cloning the results
/// list never copies images.
#[derive(Debug)]
pub struct PhotoResult {
    /// Unique within the page session (the key of the results list).
    pub id: u64,
    pub file: String,
    /// The dropped file itself, shown as "before" when it decoded.
    pub before: Option<Arc<ObjectUrl>>,
    /// The engine's report, with every artifact moved into [`PhotoResult::artifacts`].
    pub report: PhotoReport,
    pub artifacts: Vec<ArtifactView>,
}

/// An exported file: its facts, its bytes (for the ZIP) and where the browser can show or
/// download it.
#[derive(Debug)]
pub struct ArtifactView {
    /// The artifact's facts; its `bytes` are in [`ArtifactView::bytes`].
    pub artifact: Artifact,
    pub bytes: Vec<u8>,
    pub crc: u32,
    pub url: Result<ObjectUrl, String>,
}

impl PhotoResult {
    pub fn ok(&self) -> bool {
        self.report.status == Status::Ok
    }
}

/// Wraps a finished report: each artifact gets a blob URL. `crcs` are the artifacts' CRC-32s when
/// the worker computed them (computed here otherwise).
pub fn into_result(
    id: u64,
    mut report: PhotoReport,
    crcs: &[u32],
    before: Option<Arc<ObjectUrl>>,
) -> PhotoResult {
    let artifacts = std::mem::take(&mut report.artifacts)
        .into_iter()
        .enumerate()
        .map(|(i, mut artifact)| {
            let bytes = std::mem::take(&mut artifact.bytes);
            let url = ObjectUrl::from_bytes(&bytes, &artifact.mime);
            let crc = crcs.get(i).copied().unwrap_or_else(|| zip::crc32(&bytes));
            ArtifactView {
                artifact,
                bytes,
                crc,
                url,
            }
        })
        .collect();
    let before = if report.facts.is_some() { before } else { None };
    PhotoResult {
        id,
        file: report.file.clone(),
        before,
        report,
        artifacts,
    }
}

/// The run report of finished results, in the order given: artifact names made unique across
/// the batch the same way the command line does it.
pub fn run_report(workflow: &str, results: &[Arc<PhotoResult>]) -> RunReport {
    let photos = results
        .iter()
        .map(|r| {
            let mut p = r.report.clone();
            p.artifacts = r.artifacts.iter().map(|a| a.artifact.clone()).collect();
            p
        })
        .collect();
    RunReport::from_photos(workflow, photos)
}

/// What "Download all" puts in the ZIP besides the images: `listing.csv`, `report.json`, and the
/// artifacts' unique names.
pub struct Bundle {
    names: Vec<String>,
    pub listing_csv: String,
    pub report_json: String,
}

impl Bundle {
    pub fn new(workflow: &str, results: &[Arc<PhotoResult>]) -> Bundle {
        let report = run_report(workflow, results);
        Bundle {
            names: report
                .photos
                .iter()
                .flat_map(|p| p.artifacts.iter().map(|a| a.name.clone()))
                .collect(),
            listing_csv: report.listing_csv(),
            report_json: report.to_json(),
        }
    }

    /// The ZIP of `results` (the same list `new` was given), as chunks for a `Blob`.
    pub fn zip<'a>(
        &'a self,
        results: &'a [Arc<PhotoResult>],
    ) -> Result<Vec<zip::Chunk<'a>>, String> {
        let views = results.iter().flat_map(|r| r.artifacts.iter());
        let mut entries: Vec<zip::Entry<'a>> = self
            .names
            .iter()
            .zip(views)
            .map(|(name, view)| zip::Entry {
                name,
                data: &view.bytes,
                crc: Some(view.crc),
            })
            .collect();
        entries.push(zip::Entry {
            name: "listing.csv",
            data: self.listing_csv.as_bytes(),
            crc: None,
        });
        entries.push(zip::Entry {
            name: "report.json",
            data: self.report_json.as_bytes(),
            crc: None,
        });
        zip::store(&entries)
    }
}

pub fn format_size(bytes: usize) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).ceil())
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes read the way merchants expect and round up small files rather than showing 0 KB.
    #[test]
    fn sizes_are_readable() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1000), "1000 B");
        assert_eq!(format_size(1025), "2 KB");
        assert_eq!(format_size(812 * 1024), "812 KB");
        assert_eq!(format_size(2_516_582), "2.4 MB");
    }
}
