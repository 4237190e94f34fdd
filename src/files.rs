//! Files in and out of the page: folders dropped whole, and downloads built here (the ZIP).

use crate::browser::{describe, ObjectUrl};
use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    DataTransfer, File, FileSystemDirectoryEntry, FileSystemDirectoryReader, FileSystemEntry,
    FileSystemFileEntry,
};

/// The entries of a drop. Must be called during the `drop` event: the browser empties the
/// `DataTransfer` once the event returns.
pub fn dropped_entries(dt: &DataTransfer) -> Vec<FileSystemEntry> {
    let items = dt.items();
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|item| item.kind() == "file")
        .filter_map(|item| item.webkit_get_as_entry().ok().flatten())
        .collect()
}

/// Every file under `entries`, folders walked depth first, each folder's files sorted by name.
/// Hidden files (`.DS_Store`) are skipped; a file the browser cannot open is skipped too.
pub async fn files_under(entries: Vec<FileSystemEntry>) -> Vec<File> {
    let mut out = Vec::new();
    let mut stack: Vec<FileSystemEntry> = entries.into_iter().rev().collect();
    while let Some(entry) = stack.pop() {
        if entry.name().starts_with('.') {
            continue;
        }
        if entry.is_directory() {
            let dir: FileSystemDirectoryEntry = entry.unchecked_into();
            let mut children = read_all(&dir.create_reader()).await;
            children.sort_by_key(|e| e.name());
            stack.extend(children.into_iter().rev());
        } else if entry.is_file() {
            let entry: FileSystemFileEntry = entry.unchecked_into();
            let promise = Promise::new(&mut |resolve, reject| {
                entry.file_with_callback_and_callback(&resolve, &reject);
            });
            if let Ok(file) = JsFuture::from(promise).await {
                out.push(file.unchecked_into());
            }
        }
    }
    out
}

/// A directory reader hands out entries in batches (100 in Chromium) until an empty one.
async fn read_all(reader: &FileSystemDirectoryReader) -> Vec<FileSystemEntry> {
    let mut all = Vec::new();
    loop {
        let promise = Promise::new(&mut |resolve, reject| {
            if let Err(e) = reader.read_entries_with_callback_and_callback(&resolve, &reject) {
                let _ = reject.call1(&JsValue::NULL, &e);
            }
        });
        let Ok(batch) = JsFuture::from(promise).await else {
            return all;
        };
        let batch: Array = batch.unchecked_into();
        if batch.length() == 0 {
            return all;
        }
        all.extend(batch.iter().map(JsCast::unchecked_into::<FileSystemEntry>));
    }
}

/// Offers `chunks` (one file, in order) as a download named `name`. The returned URL must stay
/// alive until the browser has started the download; drop it later (on the next download).
pub fn save(chunks: &[&[u8]], name: &str, mime: &str) -> Result<ObjectUrl, String> {
    let parts = Array::new();
    for c in chunks {
        parts.push(&Uint8Array::from(*c));
    }
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts).map_err(describe)?;
    let url = ObjectUrl::from_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(describe)?
        .unchecked_into();
    a.set_href(url.as_str());
    a.set_download(name);
    a.click();
    Ok(url)
}
