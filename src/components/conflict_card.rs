//! A sync conflict: this device's version and the other device's, side by side, and the choice.

use crate::browser::time_of_day;
use crate::components::step_list::StepList;
use crate::library::MyWorkflows;
use crate::sync::{Conflict, SyncState};
use leptos::prelude::*;

#[component]
pub fn ConflictCard(conflict: Conflict) -> impl IntoView {
    let lib = MyWorkflows::expect();
    let sync = SyncState::expect();
    let local_id = StoredValue::new(conflict.local_id.clone());
    let mine = Memo::new(move |_| {
        lib.with(|l| {
            l.get(&local_id.read_value())
                .map(|w| (w.workflow.clone(), w.remote_revision))
        })
    });
    let busy = RwSignal::new(false);
    let theirs = conflict.theirs;
    let theirs_when = if theirs.updated_at > 0.0 {
        format!(
            "Revision {} · saved at {}",
            theirs.revision,
            time_of_day(theirs.updated_at)
        )
    } else {
        format!("Revision {}", theirs.revision)
    };
    let title = move || {
        mine.with(|m| {
            m.as_ref()
                .map(|(wf, _)| format!("“{}” was changed here and on another device", wf.name))
        })
    };
    let keep_mine = move |_| {
        busy.set(true);
        sync.keep_mine(local_id.get_value(), lib);
    };
    let use_theirs = move |_| sync.use_theirs(&local_id.read_value(), lib);
    view! {
        <article class="conflict" data-testid="conflict-card">
            <h3>{title}</h3>
            <p class="subdued">
                "Choose the version to keep. “Keep mine” saves this device’s version in the workspace; the other device’s stays in the workflow’s history there. “Use the other device’s” replaces the version on this device."
            </p>
            <div class="versions">
                <section class="version" data-testid="conflict-mine">
                    <h4>"On this device"</h4>
                    {move || mine.get().map(|(wf, base)| view! {
                        <p class="subdued" data-testid="version-revision">
                            {match base {
                                Some(r) => format!("Changed here since revision {r}"),
                                None => "Changed here".to_string(),
                            }}
                        </p>
                        <p class="version-name" data-testid="version-name">{wf.name.clone()}</p>
                        <StepList steps=wf.steps/>
                    })}
                </section>
                <section class="version" data-testid="conflict-theirs">
                    <h4>"From the other device"</h4>
                    <p class="subdued" data-testid="version-revision">{theirs_when}</p>
                    <p class="version-name" data-testid="version-name">{theirs.workflow.name.clone()}</p>
                    <StepList steps=theirs.workflow.steps.clone()/>
                </section>
            </div>
            {conflict.error.map(|e| view! { <p class="error" role="alert" data-testid="conflict-error">{e}</p> })}
            <div class="actions">
                <button type="button" class="button" data-testid="keep-mine" prop:disabled=move || busy.get() on:click=keep_mine>
                    "Keep mine"
                </button>
                <button type="button" class="button secondary" data-testid="use-theirs" prop:disabled=move || busy.get() on:click=use_theirs>
                    "Use the other device’s"
                </button>
            </div>
        </article>
    }
}
