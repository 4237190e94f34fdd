//! The list of workflows to choose from, each with what it does.

use crate::workflows::{pick, Choice};
use leptos::prelude::*;

/// A radio list of workflows (Polaris' "choice list"): name, and a line saying what it does. My
/// workflows come first, marked "Mine". `selected` holds the picked id; `None` (or an id that no
/// longer exists) means the first one.
#[component]
pub fn WorkflowPicker(
    #[prop(into)] choices: Signal<Vec<Choice>>,
    selected: RwSignal<Option<String>>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let current = Memo::new(move |_| {
        choices.with(|all| pick(all, selected.get().as_deref()).map(|c| c.id.clone()))
    });
    let items = move || {
        choices
            .get()
            .into_iter()
            .map(|choice| {
                let wf = &choice.workflow;
                let help = if wf.description.trim().is_empty() {
                    step_summary(&choice)
                } else {
                    wf.description.clone()
                };
                let id = choice.id.clone();
                let is_current = {
                    let id = id.clone();
                    Signal::derive(move || current.get().as_deref() == Some(id.as_str()))
                };
                let on_change = {
                    let id = id.clone();
                    move |_| selected.set(Some(id.clone()))
                };
                view! {
                    <label
                        class="choice"
                        class:selected=is_current
                        data-testid="workflow-option"
                        data-mine=choice.mine.to_string()
                    >
                        <input
                            type="radio"
                            name="workflow"
                            value=id
                            prop:checked=is_current
                            prop:disabled=move || disabled.get()
                            on:change=on_change
                        />
                        <span class="choice-text">
                            <span class="choice-name">
                                {wf.name.clone()}
                                {choice.mine.then(|| view! { <span class="badge tag">"Mine"</span> })}
                            </span>
                            <span class="choice-help">{help}</span>
                        </span>
                    </label>
                }
            })
            .collect_view()
    };
    view! {
        <fieldset class="picker" data-testid="workflow-picker">
            <legend class="label">"Workflow"</legend>
            <Show when=move || choices.with(Vec::is_empty)>
                <p class="error">"No workflows are available in this build."</p>
            </Show>
            <div class="choices">{items}</div>
        </fieldset>
    }
}

/// "remove background → crop to subject → export", for workflows without a description.
fn step_summary(choice: &Choice) -> String {
    choice
        .workflow
        .steps
        .iter()
        .map(|s| s.action.kind().replace('_', " "))
        .collect::<Vec<_>>()
        .join(" → ")
}
