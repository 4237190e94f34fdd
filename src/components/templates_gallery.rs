//! The templates gallery: every bundled workflow with a sample photo before and after it, and
//! "Use this template", which saves a copy as mine and opens it in the editor.

use crate::browser::{go_to, now};
use crate::library::{new_id, MyWorkflows};
use leptos::prelude::*;

/// Saves a copy of bundled workflow `template` as mine; returns the copy's id.
pub fn use_template(lib: MyWorkflows, template: &str) -> Option<String> {
    let mut wf = shotline_core::templates::get(template)?;
    let id = lib.update(|l| {
        wf.name = l.copy_name(&wf.name);
        l.add(new_id(), wf, Some(template.to_string()), now())
    })?;
    lib.storage_error.get_untracked().is_none().then_some(id)
}

#[component]
pub fn TemplatesGallery() -> impl IntoView {
    let lib = MyWorkflows::expect();
    let cards = shotline_core::templates::all()
        .into_iter()
        .map(|(id, wf)| {
            let before = format!("/templates/{id}-before.jpg");
            let after = format!("/templates/{id}-after.jpg");
            let use_it = move |_| {
                if let Some(copy) = use_template(lib, id) {
                    go_to(&format!("/workflows/{copy}"));
                }
            };
            let steps = wf.steps.len();
            view! {
                <li class="template-card" data-testid="template-card" data-template=id>
                    <div class="before-after">
                        <figure>
                            <img src=before alt=format!("A sample photo before “{}”", wf.name) width="160" height="160"/>
                            <figcaption>"Before"</figcaption>
                        </figure>
                        <figure>
                            <img src=after alt=format!("The same photo after “{}”", wf.name) width="160" height="160"/>
                            <figcaption>"After"</figcaption>
                        </figure>
                    </div>
                    <div class="template-text">
                        <h3 data-testid="template-name">{wf.name.clone()}</h3>
                        <p class="subdued">{wf.description.clone()}</p>
                    </div>
                    <div class="template-foot">
                        <span class="subdued">{format!("{steps} step{}", if steps == 1 { "" } else { "s" })}</span>
                        <button type="button" class="button" data-testid="use-template" on:click=use_it>
                            "Use this template"
                        </button>
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="templates-title" data-testid="templates">
            <div class="card-head">
                <h2 id="templates-title">"Start from a template"</h2>
            </div>
            <p class="subdued">
                "Ready-made workflows for the big marketplaces. Using one saves your own copy in this browser and opens it in the editor, where you can change any step."
            </p>
            <ul class="template-grid">{cards}</ul>
        </section>
    }
}
