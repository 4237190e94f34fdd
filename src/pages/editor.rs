//! The editor for one of my workflows (`/workflows/{id}`): the step tree on the left, the live
//! preview on the right; "Edit as JSON" keeps the text editor one tab away.

use crate::components::flow_editor::{Editing, FlowEditor, SaveBar};
use crate::components::preview_panel::PreviewPanel;
use crate::components::workflow_editor::WorkflowEditor;
use crate::library::MyWorkflows;
use leptos::prelude::*;

#[component]
pub fn EditorPage(id: String) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let stored = lib.with_untracked(|l| l.get(&id).map(|r| r.workflow.clone()));
    let Some(wf) = stored else {
        return view! {
            <main class="layout">
                <section class="card" data-testid="editor-missing">
                    <h2>"This workflow is not on this device"</h2>
                    <p class="empty">"It may have been deleted. " <a href="/workflows">"See your workflows"</a>"."</p>
                </section>
            </main>
        }
        .into_any();
    };
    let ed = Editing::new(id.clone(), wf);
    provide_context(ed);
    // Undo / redo also when nothing in the page has focus (the keydown then comes from <body>).
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        let on_body = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlBodyElement>(t).ok())
            .is_some();
        if on_body {
            ed.on_key(&ev);
        }
    });
    on_cleanup(move || handle.remove());
    let json_tab = RwSignal::new(false);
    let name_problem = move || ed.problems.with(|p| p.iter().any(|e| e.path == "name"));
    let show_steps = move |_| {
        if json_tab.get_untracked() {
            ed.reload();
        }
        json_tab.set(false);
    };
    view! {
        <main class="layout editor-page" data-testid="editor-page" on:keydown=move |ev| ed.on_key(&ev)>
            <div class="editor-top">
                <a class="back" href="/workflows"><span aria-hidden="true">"← "</span>"Workflows"</a>
                <div class="name-field">
                    <label class="sr-only" for="wf-name">"Workflow name"</label>
                    <input id="wf-name" class="input name-input" data-testid="editor-name"
                        aria-invalid=move || if name_problem() { "true" } else { "false" }
                        prop:value=move || ed.wf.with(|w| w.name.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); ed.change(Some("name"), |w| w.name = v) }/>
                    <Show when=name_problem>
                        <p class="error" role="alert">"Give the workflow a name."</p>
                    </Show>
                </div>
                <SaveBar/>
            </div>
            <div class="tabs" role="tablist" aria-label="How to edit">
                <button type="button" role="tab" class="tab" data-testid="tab-steps"
                    aria-selected=move || if json_tab.get() { "false" } else { "true" }
                    on:click=show_steps>"Steps"</button>
                <button type="button" role="tab" class="tab" data-testid="tab-json"
                    aria-selected=move || if json_tab.get() { "true" } else { "false" }
                    on:click=move |_| json_tab.set(true)>"Edit as JSON"</button>
            </div>
            <Show
                when=move || !json_tab.get()
                fallback=move || view! { <section class="card"><WorkflowEditor id=id.clone()/></section> }
            >
                <div class="editor-columns">
                    <section class="card flow-card" aria-label="Steps">
                        <FlowEditor/>
                    </section>
                    <aside class="card preview-card" aria-label="Live preview">
                        <PreviewPanel/>
                    </aside>
                </div>
            </Show>
        </main>
    }
    .into_any()
}
