//! The home page: pick a workflow, drop photos, get files back; manage my workflows and sync.

use crate::browser::yield_to_browser;
use crate::components::drop_zone::DropZone;
use crate::components::my_workflows::MyWorkflowsCard;
use crate::components::photo_result::PhotoCard;
use crate::components::sync_panel::SyncPanel;
use crate::components::workflow_picker::WorkflowPicker;
use crate::library::MyWorkflows;
use crate::process::{process_file, PhotoResult};
use crate::sync::SyncState;
use crate::workflows;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

/// Where a batch is: photo `current` of `total` is being processed.
#[derive(Debug, Clone, PartialEq)]
struct Progress {
    current: usize,
    total: usize,
    file: String,
}

#[component]
pub fn HomePage() -> impl IntoView {
    let lib = MyWorkflows::expect();
    let sync = SyncState::expect();
    let choices = Memo::new(move |_| lib.with(workflows::choices));
    let selected = RwSignal::new(None::<String>);
    let results = RwSignal::new(Vec::<Arc<PhotoResult>>::new());
    let progress = RwSignal::new(None::<Progress>);
    let batch_error = RwSignal::new(None::<String>);
    let next_id = StoredValue::new(0u64);
    let busy = Signal::derive(move || progress.get().is_some());

    // A photo dropped outside the zone would otherwise make the browser open it and lose the page.
    let guard = |ev: web_sys::DragEvent| ev.prevent_default();
    let _ = window_event_listener(leptos::ev::dragover, guard);
    let _ = window_event_listener(leptos::ev::drop, guard);

    let on_files = Callback::new(move |files: Vec<web_sys::File>| {
        if files.is_empty() || busy.get_untracked() {
            return;
        }
        let Some(choice) = choices
            .with_untracked(|c| workflows::pick(c, selected.get_untracked().as_deref()).cloned())
        else {
            return;
        };
        batch_error.set(None);
        if let Err(e) = shotline_core::engine::check(&choice.workflow) {
            batch_error.set(Some(format!("{}: {e}", choice.workflow.name)));
            return;
        }
        let total = files.len();
        spawn_local(async move {
            for (i, file) in files.iter().enumerate() {
                progress.set(Some(Progress {
                    current: i + 1,
                    total,
                    file: file.name(),
                }));
                // Main-thread processing for now: give the browser a chance to paint the progress.
                yield_to_browser().await;
                let id = next_id.with_value(|n| *n);
                next_id.set_value(id + 1);
                let result = process_file(&choice.workflow, file, i + 1, id).await;
                // The newest batch goes on top, in the order its files were given.
                results.update(|all| all.insert(i.min(all.len()), Arc::new(result)));
            }
            progress.set(None);
        });
    });

    // A connected device catches up with the workspace when it opens.
    sync.sync_now(lib);

    view! {
            <main class="layout">
                <section class="card" aria-labelledby="process-title">
                    <h2 id="process-title">"Process photos"</h2>
                    <p class="subdued">
                        "Choose a workflow, then add photos. Each photo goes through the workflow's steps and comes back as files ready for your store."
                    </p>
                    <WorkflowPicker choices=choices selected=selected disabled=busy/>
                    <DropZone on_files=on_files disabled=busy/>
                    <p class="progress" role="status" aria-live="polite" data-testid="progress">
                        {move || {
                            progress
                                .get()
                                .map(|p| format!("Processing {} of {}... ({})", p.current, p.total, p.file))
                        }}
                    </p>
                    {move || {
                        batch_error
                            .get()
                            .map(|e| view! { <p class="error" role="alert" data-testid="batch-error">{e}</p> })
                    }}
                </section>
                <section class="card" aria-labelledby="results-title" data-testid="results">
                    <div class="card-head">
                        <h2 id="results-title">"Results"</h2>
                        <Show when=move || !results.with(Vec::is_empty) && !busy.get()>
                            <button class="button plain" data-testid="clear" on:click=move |_| results.set(Vec::new())>
                                "Clear"
                            </button>
                        </Show>
                    </div>
                    <Show
                        when=move || !results.with(Vec::is_empty)
                        fallback=move || {
                            view! {
                                <p class="empty" data-testid="empty-state">
                                    {move || if busy.get() {
                                        "Your first result will appear here in a moment."
                                    } else {
                                        "No photos yet. Drop product photos above: each one comes back here with a before and after, its files to download, and whether they meet the marketplace's rules."
                                    }}
                                </p>
                            }
                        }
                    >
                        <div class="photos">
                            <For each=move || results.get() key=|r| r.id let:result>
                                <PhotoCard result=result/>
                            </For>
                        </div>
                    </Show>
                </section>
                <MyWorkflowsCard/>
                <SyncPanel/>
            </main>
    }
}
