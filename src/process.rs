//! Runs the engine on dropped files and turns each report into what the page shows.

use crate::browser::{read_bytes, ObjectUrl};
use shotline_core::engine::{run_one, Artifact, PhotoReport, RunOptions, Status};
use shotline_core::{Input, Workflow};

/// One photo's outcome, ready to render. Artifact bytes live only in their blob URLs, so cloning
/// the results list never copies images.
#[derive(Debug)]
pub struct PhotoResult {
    /// Unique within the page session (the key of the results list).
    pub id: u64,
    pub file: String,
    /// The dropped file itself, shown as "before" when it decoded.
    pub before: Option<ObjectUrl>,
    /// The engine's report, with every artifact's `bytes` moved into [`ArtifactView::url`].
    pub report: PhotoReport,
    pub artifacts: Vec<ArtifactView>,
}

/// An exported file: its facts and where the browser can show or download it.
#[derive(Debug)]
pub struct ArtifactView {
    pub artifact: Artifact,
    pub url: Result<ObjectUrl, String>,
}

impl PhotoResult {
    pub fn ok(&self) -> bool {
        self.report.status == Status::Ok
    }
}

/// Reads one file and runs `wf` on it. `index` is the photo's 1-based position in its batch.
/// Never fails: a file that cannot be read or processed becomes a failed result with the reason.
pub async fn process_file(
    wf: &Workflow,
    file: &web_sys::File,
    index: usize,
    id: u64,
) -> PhotoResult {
    let name = file.name();
    let report = match read_bytes(file).await {
        Ok(bytes) => run_one(
            wf,
            &Input::new(name.clone(), bytes),
            index,
            &RunOptions::default(),
        ),
        Err(e) => unreadable(&name, &e),
    };
    let before = report
        .facts
        .is_some()
        .then(|| ObjectUrl::from_blob(file).ok())
        .flatten();
    into_result(id, report, before)
}

/// Wraps a finished report: moves each artifact's bytes into a blob URL.
pub fn into_result(id: u64, mut report: PhotoReport, before: Option<ObjectUrl>) -> PhotoResult {
    let artifacts = std::mem::take(&mut report.artifacts)
        .into_iter()
        .map(|mut artifact| {
            let bytes = std::mem::take(&mut artifact.bytes);
            let url = ObjectUrl::from_bytes(&bytes, &artifact.mime);
            ArtifactView { artifact, url }
        })
        .collect();
    PhotoResult {
        id,
        file: report.file.clone(),
        before,
        report,
        artifacts,
    }
}

fn unreadable(name: &str, reason: &str) -> PhotoReport {
    PhotoReport::failed(
        name,
        format!("{name}: the browser could not read the file ({reason})"),
    )
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
