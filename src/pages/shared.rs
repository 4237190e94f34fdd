//! `/s/{slug}`: a workflow someone shared by link, read-only, with "Use this workflow".

use crate::api::{self, ApiError, Shared};
use crate::browser::{go_to, now};
use crate::components::step_list::StepList;
use crate::library::{new_id, MyWorkflows};
use leptos::prelude::*;

#[component]
pub fn SharedPage(slug: String) -> impl IntoView {
    let shared = LocalResource::new(move || {
        let slug = slug.clone();
        async move {
            if slug.is_empty() {
                return Err(ApiError::Status {
                    status: 404,
                    code: "not_found".into(),
                    message: String::new(),
                    body: serde_json::Value::Null,
                });
            }
            api::shared(&slug).await
        }
    });
    view! {
        <main class="layout">
            <section class="card" aria-labelledby="shared-title" data-testid="shared-workflow">
                {move || match shared.get() {
                    None => view! {
                        <h2 id="shared-title">"Shared workflow"</h2>
                        <p class="subdued" data-testid="shared-loading">"Loading the shared workflow…"</p>
                    }
                    .into_any(),
                    Some(Ok(s)) => view! { <Loaded shared=s/> }.into_any(),
                    Some(Err(e)) => failed(&e).into_any(),
                }}
            </section>
        </main>
    }
}

#[component]
fn Loaded(shared: Shared) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let wf = StoredValue::new(shared.workflow.clone());
    let error = RwSignal::new(None::<String>);
    let use_it = move |_| {
        let saved = lib.update(|l| l.add(new_id(), wf.get_value(), None, now()));
        match (saved, lib.storage_error.get_untracked()) {
            (Some(_), None) => go_to("/workflows"),
            (_, e) => error.set(Some(
                e.unwrap_or_else(|| "The workflow could not be saved.".into()),
            )),
        }
    };
    let description = (!shared.workflow.description.trim().is_empty()).then(
        || view! { <p data-testid="shared-description">{shared.workflow.description.clone()}</p> },
    );
    view! {
        <div class="card-head">
            <h2 id="shared-title" data-testid="shared-name">{shared.workflow.name.clone()}</h2>
            <span class="badge">"Read-only"</span>
        </div>
        {description}
        <p class="subdued">
            "Someone shared this workflow with you. These are its steps, run on each photo from top to bottom. Use it to save your own copy in this browser: you can then run it on your photos and change it."
        </p>
        <div class="field">
            <span class="label">"Steps"</span>
            <StepList steps=shared.workflow.steps.clone()/>
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

fn failed(e: &ApiError) -> impl IntoView {
    let message = match e.status() {
        Some(404) => "This share link was revoked or does not exist. Ask the person who shared it for a new link.".to_string(),
        _ => format!("The shared workflow could not be loaded. {e}"),
    };
    view! {
        <h2 id="shared-title">"Shared workflow"</h2>
        <p class="error" role="alert" data-testid="shared-error">{message}</p>
        <div>
            <a class="button" href="/">"Go to Shotline"</a>
        </div>
    }
}
