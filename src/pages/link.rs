//! `/link#w1.…`: a workflow shared inside its link. Nothing is sent to a server: the workflow is
//! read from the fragment, shown read-only, and "Use this workflow" saves a copy in this browser.

use crate::browser::hash;
use crate::components::shared_workflow::SharedWorkflow;
use crate::link::{decode, LinkError};
use leptos::prelude::*;

#[component]
pub fn LinkPage() -> impl IntoView {
    // A link pasted into the address bar of this same page only changes the fragment: follow it.
    let fragment = RwSignal::new(hash());
    let _ = window_event_listener(leptos::ev::hashchange, move |_| fragment.set(hash()));
    let page = move || {
        match decode(&fragment.get()) {
        Ok(wf) => view! { <SharedWorkflow wf=wf note="Someone shared this workflow with you. It came inside the link itself: nothing was sent to a server."/> }.into_any(),
        Err(e) => failed(&e).into_any(),
    }
    };
    view! {
        <main class="layout">
            <section class="card" aria-labelledby="shared-title" data-testid="shared-workflow">
                {page}
            </section>
        </main>
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
