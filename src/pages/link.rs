//! `/link#w1.…`: a workflow shared inside its link. Nothing is sent to a server: the workflow is
//! read from the fragment, shown read-only, and "Use this workflow" saves a copy in this browser.

use crate::browser::{go_to, hash, now};
use crate::components::step_list::StepList;
use crate::library::{new_id, MyWorkflows};
use crate::link::{decode, LinkError};
use leptos::prelude::*;
use shotline_core::Workflow;

#[component]
pub fn LinkPage() -> impl IntoView {
    // A link pasted into the address bar of this same page only changes the fragment: follow it.
    let fragment = RwSignal::new(hash());
    let _ = window_event_listener(leptos::ev::hashchange, move |_| fragment.set(hash()));
    let page = move || match decode(&fragment.get()) {
        Ok(wf) => view! { <Loaded wf=wf/> }.into_any(),
        Err(e) => failed(&e).into_any(),
    };
    view! {
        <main class="layout">
            <section class="card" aria-labelledby="shared-title" data-testid="shared-workflow">
                {page}
            </section>
        </main>
    }
}

#[component]
fn Loaded(wf: Workflow) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let error = RwSignal::new(None::<String>);
    let name = wf.name.clone();
    let description = (!wf.description.trim().is_empty())
        .then(|| view! { <p data-testid="shared-description">{wf.description.clone()}</p> });
    let steps = wf.steps.clone();
    let wf = StoredValue::new(wf);
    let use_it = move |_| {
        let saved = lib.update(|l| {
            let mut copy = wf.get_value();
            copy.name = l.copy_name(&copy.name);
            l.add(new_id(), copy, None, now())
        });
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
            "Someone shared this workflow with you. It came inside the link itself: nothing was sent to a server. These are its steps, run on each photo from top to bottom. Use it to save your own copy in this browser, then run it on your photos or change it."
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

fn failed(e: &LinkError) -> impl IntoView {
    view! {
        <h2 id="shared-title">"Shared workflow"</h2>
        <p class="error" role="alert" data-testid="shared-error">{e.to_string()}</p>
        <div>
            <a class="button" href="/">"Go to Shotline"</a>
        </div>
    }
}
