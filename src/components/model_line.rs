//! The background-removal model's progress line.

use crate::cutout_model::ModelNews;
use leptos::prelude::*;

/// How a worker's background-removal model is doing: on the Run screen from the first batch that
/// needs it, in the editor's preview while a cut-out waits for it.
#[component]
pub fn ModelLine(news: ModelNews) -> impl IntoView {
    let (state, class) = match news {
        ModelNews::Loading { .. } => ("loading", "model-status"),
        ModelNews::Ready { .. } => ("ready", "model-status subdued"),
        ModelNews::Failed(_) => ("failed", "model-status error"),
    };
    let bar = match news {
        ModelNews::Loading { loaded, total } if total > 0 => Some(view! {
            <progress
                class="model-bar"
                aria-label="Background-removal model downloaded"
                max=total.to_string()
                value=loaded.to_string()
            ></progress>
        }),
        _ => None,
    };
    view! {
        <div class=class data-testid="model-status" data-state=state role="status" aria-live="polite">
            {bar}
            <p>{news.describe()}</p>
        </div>
    }
}
