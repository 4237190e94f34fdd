//! "My workflows": the merchant's own workflows on this device: make one from a template, edit,
//! delete, and see which are synced.

use crate::browser::{download_text, go_to, now, origin};
use crate::components::copy_button::CopyButton;
use crate::components::workflow_editor::WorkflowEditor;
use crate::library::{check, new_id, MyWorkflows};
use crate::sync::SyncState;
use leptos::prelude::*;

/// A file name from a workflow's name: letters, digits and dashes.
fn file_stem(name: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let stem = stem
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() {
        "workflow".into()
    } else {
        stem
    }
}

/// A new workflow's starting point: one step that saves the photo as a JPEG.
const BLANK: &str = r#"{"schema":1,"name":"Untitled workflow","description":"","trigger":{"type":"manual"},"steps":[{"type":"export","format":"jpeg","quality":85}]}"#;

/// The card: my workflows, new / import, and per workflow: open, copy link, JSON, duplicate,
/// export, delete. (Templates are in the gallery below it.)
#[component]
pub fn MyWorkflowsCard() -> impl IntoView {
    let lib = MyWorkflows::expect();
    // The local id of the workflow whose JSON is open in the card.
    let editing = RwSignal::new(None::<String>);
    let sync = SyncState::expect();
    let import_error = RwSignal::new(None::<String>);

    let new_workflow = move |_| {
        let Ok(mut wf) = shotline_core::validate::parse(BLANK) else {
            return;
        };
        let id = lib.update(|l| {
            wf.name = l.copy_name(&wf.name);
            l.add(new_id(), wf, None, now())
        });
        if let (Some(id), None) = (id, lib.storage_error.get_untracked()) {
            go_to(&format!("/workflows/{id}"));
        }
    };
    let on_import = move |ev: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        input.set_value("");
        import_error.set(None);
        leptos::task::spawn_local(async move {
            let name = file.name();
            match read_text(&file)
                .await
                .and_then(|t| check(&t).map_err(|p| p.join("; ")))
            {
                Ok(mut wf) => {
                    let id = lib.update(|l| {
                        wf.name = l.copy_name(&wf.name);
                        l.add(new_id(), wf, None, now())
                    });
                    editing.set(None);
                    if id.is_none() {
                        import_error.set(Some(format!("{name} could not be saved.")));
                    }
                }
                Err(e) => import_error.set(Some(format!(
                    "{name} is not a workflow Shotline can use: {e}"
                ))),
            }
        });
    };
    let ids = move || lib.with(|l| l.workflows.iter().map(|w| w.id.clone()).collect::<Vec<_>>());
    let conflicts = move || sync.conflicts.with(Vec::len);

    view! {
        <section class="card" aria-labelledby="mine-title" data-testid="my-workflows">
            <div class="card-head">
                <h2 id="mine-title">"My workflows"</h2>
                <div class="inline">
                    <label class="button plain file-button" data-testid="import-json-label">
                        "Import JSON"
                        <input
                            type="file"
                            accept=".json,application/json"
                            class="visually-hidden"
                            data-testid="import-json"
                            on:change=on_import
                        />
                    </label>
                    <button type="button" class="button" data-testid="new-workflow" on:click=new_workflow>
                        "New workflow"
                    </button>
                </div>
            </div>
            {move || lib.storage_error.get().map(|e| view! { <p class="error" role="alert" data-testid="storage-error">{e}</p> })}
            {move || import_error.get().map(|e| view! { <p class="error" role="alert" data-testid="import-error">{e}</p> })}
            <Show when=move || { conflicts() > 0 }>
                <p class="notice" role="status">
                    {move || match conflicts() {
                        1 => "One workflow was changed on this device and on another one: choose which version to keep under ".to_string(),
                        n => format!("{n} workflows were changed on this device and on another one: choose which versions to keep under "),
                    }}
                    <a href="#sync-title">"Workspace sync"</a>
                    "."
                </p>
            </Show>
            <Show
                when=move || lib.with(|l| !l.workflows.is_empty())
                fallback=|| view! {
                    <p class="subdued" data-testid="no-workflows">
                        "You have no workflows of your own yet. Start from a template below, or make a new one: it is saved in this browser, and you can rename it and change its steps."
                    </p>
                }
            >
                <ul class="mine-list">
                    <For each=ids key=|id| id.clone() let:id>
                        <Row id=id editing=editing/>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// A file's text.
async fn read_text(file: &web_sys::File) -> Result<String, String> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(crate::browser::describe)?;
    text.as_string().ok_or_else(|| "it is not text".to_string())
}

/// Where a workflow stands against the workspace, as its badge says it.
fn sync_badge(
    synced: bool,
    dirty: bool,
    conflict: bool,
    connected: bool,
) -> (&'static str, &'static str, &'static str) {
    match (conflict, synced, dirty) {
        _ if !connected => ("local", "badge", "On this device"),
        (true, _, _) => ("conflict", "badge critical", "Conflict"),
        (false, true, false) => ("synced", "badge success", "Synced"),
        (false, true, true) => ("changed", "badge attention", "Changes not synced"),
        (false, false, _) => ("new", "badge attention", "Not synced yet"),
    }
}

#[component]
fn Row(id: String, editing: RwSignal<Option<String>>) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let sync = SyncState::expect();
    let id = StoredValue::new(id);
    let record = Memo::new(move |_| lib.with(|l| l.get(&id.read_value()).cloned()));
    let confirming = RwSignal::new(false);
    let is_open = move || editing.with(|e| e.as_deref() == Some(id.read_value().as_str()));
    let badge = move || {
        let conflict = sync
            .conflicts
            .with(|cs| cs.iter().any(|c| c.local_id == *id.read_value()));
        let connected = sync.connection.with(Option::is_some);
        record.with(|r| {
            r.as_ref()
                .map(|r| sync_badge(r.synced(), r.dirty, conflict, connected))
        })
    };
    let delete = move |_| {
        let id = id.get_value();
        if editing.get_untracked().as_deref() == Some(id.as_str()) {
            editing.set(None);
        }
        lib.update(|l| l.remove(&id));
    };
    let link = move || {
        record.with(|r| {
            r.as_ref()
                .map(|r| crate::link::url(&origin(), &r.workflow))
                .unwrap_or_default()
        })
    };
    let duplicate = move |_| {
        let Some(r) = record.get_untracked() else {
            return;
        };
        lib.update(|l| {
            let mut wf = r.workflow.clone();
            wf.name = l.copy_name(&wf.name);
            l.add(new_id(), wf, r.template.clone(), now())
        });
    };
    let export = move |_| {
        if let Some(r) = record.get_untracked() {
            let file = format!("{}.json", file_stem(r.name()));
            if let Err(e) = download_text(&file, &r.workflow.to_json(), "application/json") {
                leptos::logging::warn!("export failed: {e}");
            }
        }
    };
    let summary = move || {
        record.with(|r| {
            r.as_ref().map(|r| {
                let n = r.workflow.steps.len();
                let steps = format!("{n} step{}", if n == 1 { "" } else { "s" });
                match r
                    .template
                    .as_deref()
                    .and_then(shotline_core::templates::get)
                {
                    Some(t) => format!("{steps} · from the “{}” template", t.name),
                    None => steps,
                }
            })
        })
    };
    view! {
        <li class="mine" class:open=is_open data-testid="my-workflow">
            <div class="mine-row">
                <div class="mine-main">
                    <span class="mine-name" data-testid="my-workflow-name">
                        {move || record.with(|r| r.as_ref().map(|r| r.name().to_string()))}
                    </span>
                    <span class="subdued">{summary}</span>
                </div>
                {move || badge().map(|(state, class, text)| view! {
                    <span class=class data-testid="sync-badge" data-state=state>{text}</span>
                })}
                <div class="mine-actions">
                    <a class="button secondary" href=move || format!("/workflows/{}", id.read_value()) data-testid="open-workflow">
                        "Open"
                    </a>
                    <CopyButton text=Signal::derive(link) label="Copy link" testid="copy-link"/>
                    <button
                        type="button"
                        class="button plain"
                        data-testid="edit-workflow"
                        on:click=move |_| {
                            editing.set(if is_open() { None } else { Some(id.get_value()) })
                        }
                    >
                        {move || if is_open() { "Close JSON" } else { "JSON" }}
                    </button>
                    <button type="button" class="button plain" data-testid="duplicate-workflow" on:click=duplicate>
                        "Duplicate"
                    </button>
                    <button type="button" class="button plain" data-testid="export-json" on:click=export>
                        "Export"
                    </button>
                    <button
                        type="button"
                        class="button plain critical"
                        data-testid="delete-workflow"
                        on:click=move |_| confirming.set(true)
                    >
                        "Delete"
                    </button>
                </div>
            </div>
            <Show when=move || confirming.get()>
                <div class="confirm" role="alertdialog" data-testid="confirm-delete">
                    <span>
                        {move || record.with(|r| r.as_ref().map(|r| format!("Delete “{}” from this device?", r.name())))}
                        {move || record.with(|r| r.as_ref().is_some_and(|r| r.synced()))
                            .then_some(" It is also deleted from your workspace at the next sync.")}
                    </span>
                    <button type="button" class="button danger" data-testid="confirm-delete-yes" on:click=delete>
                        "Delete"
                    </button>
                    <button type="button" class="button plain" on:click=move |_| confirming.set(false)>
                        "Cancel"
                    </button>
                </div>
            </Show>
            <Show when=is_open>
                <WorkflowEditor id=id.get_value()/>
            </Show>
        </li>
    }
}
