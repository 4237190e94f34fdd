//! Editing one of my workflows: its name, its JSON (checked by the engine as you type), what it
//! does in plain words, and its share links. Every valid change is saved at once.

use crate::browser::now;
use crate::components::share_links::ShareLinks;
use crate::components::step_list::StepList;
use crate::library::{check, MyWorkflows};
use leptos::prelude::*;

/// Text being typed into a field, tied to the version of the workflow it was typed against.
/// When the workflow changes another way (the other field, a sync), the version moves on and the
/// field shows the stored value again; while it has not, the field keeps exactly what was typed,
/// including text that is not valid yet and so was not saved.
#[derive(Clone, Copy)]
struct Draft(RwSignal<Option<(u64, String)>>);

impl Draft {
    fn new() -> Self {
        Draft(RwSignal::new(None))
    }
    fn text(self, version: u64, stored: impl FnOnce() -> String) -> String {
        match self.0.get() {
            Some((v, text)) if v == version => text,
            _ => stored(),
        }
    }
    fn set(self, version: u64, text: String) {
        self.0.set(Some((version, text)));
    }
}

#[component]
pub fn WorkflowEditor(id: String) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let id = StoredValue::new(id);
    let record = Memo::new(move |_| lib.with(|l| l.get(&id.read_value()).cloned()));
    let version = Memo::new(move |_| record.with(|r| r.as_ref().map_or(0, |r| r.version)));
    let name_draft = Draft::new();
    let json_draft = Draft::new();

    let name_text = Memo::new(move |_| {
        name_draft.text(version.get(), || {
            record.with(|r| {
                r.as_ref()
                    .map(|r| r.workflow.name.clone())
                    .unwrap_or_default()
            })
        })
    });
    let json_text = Memo::new(move |_| {
        json_draft.text(version.get(), || {
            record.with(|r| r.as_ref().map(|r| r.workflow.to_json()).unwrap_or_default())
        })
    });
    let checked = Memo::new(move |_| json_text.with(|t| check(t)));
    let name_missing = Memo::new(move |_| name_text.with(|n| n.trim().is_empty()));
    let saved = move || checked.with(Result::is_ok) && !name_missing.get();

    // Saves `wf` and returns the version it got (the current one if nothing was saved).
    let save = move |wf: shotline_core::Workflow| -> u64 {
        let id = id.get_value();
        lib.update(|l| {
            l.save(&id, wf, now());
            l.get(&id).map(|w| w.version)
        })
        .flatten()
        .unwrap_or_else(|| version.get_untracked())
    };
    let on_name = move |ev| {
        let text = event_target_value(&ev);
        let at = if text.trim().is_empty() {
            version.get_untracked()
        } else {
            match record.get_untracked() {
                Some(r) => {
                    let mut wf = r.workflow;
                    wf.name = text.clone();
                    save(wf)
                }
                None => version.get_untracked(),
            }
        };
        name_draft.set(at, text);
    };
    let on_json = move |ev| {
        let text = event_target_value(&ev);
        let at = match check(&text) {
            Ok(wf) => save(wf),
            Err(_) => version.get_untracked(),
        };
        json_draft.set(at, text);
    };

    let textarea_id = move || format!("json-{}", id.read_value());
    let name_id = move || format!("name-{}", id.read_value());
    view! {
        <Show
            when=move || record.with(Option::is_some)
            fallback=|| view! { <p class="subdued">"This workflow is no longer on this device."</p> }
        >
            <section class="editor" data-testid="workflow-editor">
                <div class="editor-head">
                    <h3>"Edit workflow"</h3>
                    {move || {
                        if saved() {
                            view! {
                                <span class="badge success" data-testid="save-state" data-saved="true">
                                    "Saved"
                                </span>
                            }
                            .into_any()
                        } else {
                            view! {
                                <span class="badge critical" data-testid="save-state" data-saved="false">
                                    "Not saved"
                                </span>
                            }
                            .into_any()
                        }
                    }}
                    <span class="subdued save-note">
                        {move || {
                            if saved() {
                                "Changes are saved in this browser as you type."
                            } else {
                                "Fix the problem below; until then the last good version is kept."
                            }
                        }}
                    </span>
                </div>
                <div class="field">
                    <label class="label" for=name_id>"Name"</label>
                    <input
                        id=name_id
                        class="input"
                        data-testid="workflow-name"
                        prop:value=move || name_text.get()
                        on:input=on_name
                    />
                    <Show when=move || name_missing.get()>
                        <p class="error" role="alert" data-testid="name-problem">
                            "Give the workflow a name."
                        </p>
                    </Show>
                </div>
                <div class="editor-grid">
                    <div class="field">
                        <label class="label" for=textarea_id>"Steps and settings (JSON)"</label>
                        <textarea
                            id=textarea_id
                            class="input mono json"
                            rows="18"
                            spellcheck="false"
                            autocomplete="off"
                            data-testid="workflow-json"
                            prop:value=move || json_text.get()
                            on:input=on_json
                        ></textarea>
                        {move || {
                            checked
                                .get()
                                .err()
                                .map(|problems| {
                                    let items = problems
                                        .into_iter()
                                        .map(|p| view! { <li>{p}</li> })
                                        .collect_view();
                                    view! {
                                        <ul class="problems" role="alert" data-testid="workflow-problems">
                                            {items}
                                        </ul>
                                    }
                                })
                        }}
                    </div>
                    <div class="field">
                        <span class="label">"What it does"</span>
                        {move || record.get().map(|r| view! { <StepList steps=r.workflow.steps/> })}
                    </div>
                </div>
                <ShareLinks local_id=id.get_value()/>
            </section>
        </Show>
    }
}
