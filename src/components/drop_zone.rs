//! Where photos come in: drag and drop (files or whole folders), or the file and folder pickers
//! (keyboard reachable). A products CSV may come in the same way.

use crate::files::{dropped_entries, files_under};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};

/// The formats the engine reads, and a products CSV; the picker offers these, drops are checked
/// by the engine.
const ACCEPT: &str = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp,.csv,text/csv";

/// A large target that takes dropped files, with a labelled file input inside for the keyboard
/// and for people who prefer a dialog.
#[component]
pub fn DropZone(
    on_files: Callback<Vec<web_sys::File>>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    // dragenter/dragleave fire for every child crossed, so count them instead of toggling.
    let depth = RwSignal::new(0i32);
    let on_change = move |ev: web_sys::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        let mut files = input.files().map(files_of).unwrap_or_default();
        // A folder's files come in no useful order; results read best by name.
        files.sort_by_key(|f| f.name());
        // Lets the same file be chosen again after it was processed.
        input.set_value("");
        if !files.is_empty() {
            on_files.run(files);
        }
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        depth.set(0);
        if disabled.get_untracked() {
            return;
        }
        let Some(dt) = ev.data_transfer() else {
            return;
        };
        // Entries let a dropped folder be walked; browsers without them give plain files.
        let entries = dropped_entries(&dt);
        if entries.is_empty() {
            let files = dt.files().map(files_of).unwrap_or_default();
            if !files.is_empty() {
                on_files.run(files);
            }
            return;
        }
        spawn_local(async move {
            let files = files_under(entries).await;
            if !files.is_empty() {
                on_files.run(files);
            }
        });
    };
    let on_enter = move |ev: DragEvent| {
        ev.prevent_default();
        depth.update(|d| *d += 1);
    };
    let over = move || depth.get() > 0;
    view! {
        <div
            class="dropzone"
            class:dragover=over
            class:disabled=move || disabled.get()
            data-testid="drop-zone"
            on:dragenter=on_enter
            on:dragover=|ev: DragEvent| ev.prevent_default()
            on:dragleave=move |_| depth.update(|d| *d = (*d - 1).max(0))
            on:drop=on_drop
        >
            <input
                type="file"
                id="photo-input"
                class="visually-hidden"
                multiple
                accept=ACCEPT
                data-testid="file-input"
                prop:disabled=move || disabled.get()
                on:change=on_change
            />
            <input
                type="file"
                id="folder-input"
                class="visually-hidden"
                prop:webkitdirectory=true
                data-testid="folder-input"
                prop:disabled=move || disabled.get()
                on:change=on_change
            />
            <label for="photo-input" class="dropzone-label">
                <span class="dropzone-icon" aria-hidden="true">"⇪"</span>
                <span class="dropzone-title">
                    "Drop product photos or a folder here, or "
                    <span class="link">"choose files"</span>
                </span>
                <span class="subdued">
                    "JPEG, PNG or WebP, and a products CSV if you have one · you can also paste photos · processed on this device, nothing is uploaded"
                </span>
            </label>
            <label for="folder-input" class="dropzone-folder link">"Choose a folder"</label>
        </div>
    }
}

fn files_of(list: web_sys::FileList) -> Vec<web_sys::File> {
    // Hidden files (`.DS_Store` in a chosen folder) are not the merchant's photos.
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter(|f| !f.name().starts_with('.'))
        .collect()
}
