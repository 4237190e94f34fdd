//! `/s/{slug}`: a workflow someone shared by link, read-only, with "Use this workflow".

use crate::api::{self, ApiError};
use crate::components::shared_workflow::SharedWorkflow;
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
                    Some(Ok(s)) => view! { <SharedWorkflow wf=s.workflow note="Someone shared this workflow with you."/> }.into_any(),
                    Some(Err(e)) => failed(&e).into_any(),
                }}
            </section>
        </main>
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
