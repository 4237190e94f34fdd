//! A workflow's steps in plain words, IF/ELSE blocks indented (see `describe`).

use crate::describe::outline;
use leptos::prelude::*;
use shotline_core::model::Step;

/// A read-only outline of steps: "If product category is …", indented steps, "Otherwise", …
#[component]
pub fn StepList(steps: Vec<Step>) -> impl IntoView {
    let lines = outline(&steps);
    if lines.is_empty() {
        return view! { <p class="subdued" data-testid="step-list">"No steps."</p> }.into_any();
    }
    let items = lines
        .into_iter()
        .map(|l| {
            view! {
                <li
                    class="outline-line"
                    class:off=l.off
                    data-kind=l.kind.as_str()
                    data-depth=l.depth.to_string()
                    style=format!("--depth: {}", l.depth)
                    data-testid="step-line"
                >
                    {l.text}
                    {l.off.then_some(" (switched off)")}
                </li>
            }
        })
        .collect_view();
    view! { <ol class="outline" data-testid="step-list">{items}</ol> }.into_any()
}
