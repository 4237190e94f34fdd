//! Batch runs from the file system: collect photos, match product rows, run on all cores, write
//! each photo's files as soon as it finishes (so memory stays bounded), then the reports.

use anyhow::{Context, Result};
use rayon::prelude::*;
use shotline_core::engine::{run_one, Input, PhotoReport, RunOptions, RunReport};
use shotline_core::products::ProductTable;
use shotline_core::Workflow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// File extensions picked up when a directory is given.
pub const PHOTO_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// Expands files and directories (recursively, photos only, sorted) into a list of files. Files
/// named explicitly are kept whatever their extension, so a wrong file gets a clear error.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)
                .with_context(|| format!("cannot read the folder {}", p.display()))?;
            found.sort();
            out.extend(found);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| PHOTO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs `wf` over `files` in parallel, writing artifacts into `out`. `on_done` is called after each
/// photo (for a progress bar). Returns the run report (artifact bytes already written and dropped).
pub fn run(
    wf: &Workflow,
    files: &[PathBuf],
    products: Option<&ProductTable>,
    out: &Path,
    opts: &RunOptions<'_>,
    on_done: &(dyn Fn(&PhotoReport) + Sync),
) -> Result<RunReport> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let names = Mutex::new(HashSet::new());
    let photos: Vec<PhotoReport> = files
        .par_iter()
        .enumerate()
        .map(|(i, path)| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut report = match read_limited(path, opts.limits.max_file_bytes) {
                Ok(bytes) => {
                    let product = products
                        .and_then(|t| t.lookup(&name))
                        .cloned()
                        .unwrap_or_default();
                    run_one(
                        wf,
                        &Input {
                            name: name.clone(),
                            bytes,
                            product,
                        },
                        i + 1,
                        opts,
                    )
                }
                Err(e) => PhotoReport::failed(&name, e),
            };
            write_artifacts(&mut report, out, &names);
            on_done(&report);
            report
        })
        .collect();
    let report = RunReport::from_photos(&wf.name, photos);
    std::fs::write(out.join("report.json"), report.to_json())
        .context("cannot write report.json")?;
    std::fs::write(out.join("listing.csv"), report.listing_csv())
        .context("cannot write listing.csv")?;
    Ok(report)
}

fn read_limited(path: &Path, limit: usize) -> std::result::Result<Vec<u8>, String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{name}: cannot read the file ({e})"))?
        .len();
    if len > limit as u64 {
        return Err(format!(
            "{name}: the file is {len} bytes; the limit is {limit} bytes"
        ));
    }
    std::fs::read(path).map_err(|e| format!("{name}: cannot read the file ({e})"))
}

fn write_artifacts(report: &mut PhotoReport, out: &Path, names: &Mutex<HashSet<String>>) {
    for a in &mut report.artifacts {
        {
            let mut seen = names.lock().unwrap_or_else(|e| e.into_inner());
            if !seen.insert(a.name.to_lowercase()) {
                let (stem, ext) = a
                    .name
                    .rsplit_once('.')
                    .map(|(s, e)| (s.to_string(), format!(".{e}")))
                    .unwrap_or((a.name.clone(), String::new()));
                a.name = (2..)
                    .map(|n| format!("{stem}-{n}{ext}"))
                    .find(|c| seen.insert(c.to_lowercase()))
                    .unwrap_or_default();
            }
        }
        if let Err(e) = std::fs::write(out.join(&a.name), &a.bytes) {
            report.status = shotline_core::engine::Status::Failed;
            report.error = Some(format!("{}: cannot write {} ({e})", report.file, a.name));
        }
        a.bytes = Vec::new();
    }
}
