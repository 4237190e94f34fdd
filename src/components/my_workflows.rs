//! "My workflows": the merchant's own workflows on this device: make one from a template, edit,
//! delete, and see which are synced.

use crate::browser::now;
use crate::components::workflow_editor::WorkflowEditor;
use crate::library::{new_id, MyWorkflows};
use crate::sync::SyncState;
use crate::workflows;
use leptos::prelude::*;

/// The card: my workflows, one of them open in the editor at a time, and "Save as mine".
#[component]
pub fn MyWorkflowsCard() -> impl IntoView {
    let lib = MyWorkflows::expect();
    // The local id of the workflow open in the editor.
    let editing = RwSignal::new(None::<String>);
    let sync = SyncState::expect();
    let templates = StoredValue::new(workflows::available());
    let template = RwSignal::new(templates.with_value(|t| t.first().map(|c| c.id.clone())));

    let save_as_mine = move |_| {
        let Some(choice) = templates
            .with_value(|all| workflows::pick(all, template.get_untracked().as_deref()).cloned())
        else {
            return;
        };
        let id = lib.update(|l| {
            let mut wf = choice.workflow.clone();
            wf.name = l.copy_name(&wf.name);
            l.add(new_id(), wf, Some(choice.id.clone()), now())
        });
        editing.set(id);
    };
    let options = templates.with_value(|all| {
        all.iter()
            .map(|c| view! { <option value=c.id.clone()>{c.workflow.name.clone()}</option> })
            .collect_view()
    });
    let ids = move || lib.with(|l| l.workflows.iter().map(|w| w.id.clone()).collect::<Vec<_>>());
    let conflicts = move || sync.conflicts.with(Vec::len);

    view! {
        <section class="card" aria-labelledby="mine-title" data-testid="my-workflows">
            <div class="card-head">
                <h2 id="mine-title">"My workflows"</h2>
            </div>
            {move || lib.storage_error.get().map(|e| view! { <p class="error" role="alert" data-testid="storage-error">{e}</p> })}
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
                        "You have no workflows of your own yet. Start from a template: your copy is saved in this browser, and you can rename it and change its steps."
                    </p>
                }
            >
                <ul class="mine-list">
                    <For each=ids key=|id| id.clone() let:id>
                        <Row id=id editing=editing/>
                    </For>
                </ul>
            </Show>
            <div class="from-template">
                <label class="label" for="template-select">"Start from a template"</label>
                <div class="inline">
                    <select
                        id="template-select"
                        class="input"
                        data-testid="template-select"
                        on:change=move |ev| template.set(Some(event_target_value(&ev)))
                    >
                        {options}
                    </select>
                    <button type="button" class="button" data-testid="save-as-mine" on:click=save_as_mine>
                        "Save as mine"
                    </button>
                </div>
            </div>
        </section>
    }
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
                    <button
                        type="button"
                        class="button plain"
                        data-testid="edit-workflow"
                        on:click=move |_| {
                            editing.set(if is_open() { None } else { Some(id.get_value()) })
                        }
                    >
                        {move || if is_open() { "Close" } else { "Edit" }}
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
