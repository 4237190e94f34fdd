//! A workflow someone shared, read-only: its name, description and steps in plain words, and "Use
//! this workflow", which saves a copy in this browser and opens it in the editor. Used by both kinds
//! of share link (`/s/{slug}` through the server, `/link#…` inside the link).

use crate::browser::{go_to, now};
use crate::components::step_list::StepList;
use crate::library::{new_id, MyWorkflows};
use leptos::prelude::*;
use shotline_core::Workflow;

#[component]
pub fn SharedWorkflow(wf: Workflow, note: &'static str) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let error = RwSignal::new(None::<String>);
    let name = wf.name.clone();
    let description = (!wf.description.trim().is_empty())
        .then(|| view! { <p data-testid="shared-description">{wf.description.clone()}</p> });
    let steps = wf.steps.clone();
    let wf = StoredValue::new(wf);
    let use_it = move |_| {
        let saved = lib.update(|l| l.add(new_id(), wf.get_value(), None, now()));
        match (saved, lib.storage_error.get_untracked()) {
            (Some(id), None) => go_to(&format!("/workflows/{id}")),
            (_, e) => error.set(Some(
                e.unwrap_or_else(|| "The workflow could not be saved.".into()),
            )),
        }
    };
    view! {
        <div class="card-head">
            <h2 id="shared-title" data-testid="shared-name">{name}</h2>
            <span class="badge">"Read-only"</span>
        </div>
        {description}
        <p class="subdued">
            {note}
            " These are its steps, run on each photo from top to bottom. Use it to save your own copy in this browser, then run it on your photos or change it."
        </p>
        <div class="field">
            <span class="label">"Steps"</span>
            <StepList steps=steps/>
        </div>
        <div class="actions">
            <button type="button" class="button" data-testid="use-workflow" on:click=use_it>
                "Use this workflow"
            </button>
            <a class="button plain" href="/">"Go to Shotline"</a>
        </div>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}
