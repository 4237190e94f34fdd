//! The list of workflows to choose from, each with what it does.

use crate::workflows::Choice;
use leptos::prelude::*;

/// A radio list of workflows (Polaris' "choice list"): name, and a line saying what it does.
#[component]
pub fn WorkflowPicker(
    choices: StoredValue<Vec<Choice>>,
    selected: RwSignal<usize>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let items = choices.with_value(|all| {
        all.iter()
            .enumerate()
            .map(|(i, choice)| {
                let wf = &choice.workflow;
                let help = if wf.description.trim().is_empty() {
                    step_summary(choice)
                } else {
                    wf.description.clone()
                };
                view! {
                    <label class="choice" class:selected=move || selected.get() == i data-testid="workflow-option">
                        <input
                            type="radio"
                            name="workflow"
                            value=choice.id.clone()
                            prop:checked=move || selected.get() == i
                            prop:disabled=move || disabled.get()
                            on:change=move |_| selected.set(i)
                        />
                        <span class="choice-text">
                            <span class="choice-name">{wf.name.clone()}</span>
                            <span class="choice-help">{help}</span>
                        </span>
                    </label>
                }
            })
            .collect_view()
    });
    let empty = choices.with_value(|c| c.is_empty());
    view! {
        <fieldset class="picker" data-testid="workflow-picker">
            <legend class="label">"Workflow"</legend>
            <Show when=move || empty>
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
