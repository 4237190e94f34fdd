//! A button that copies text and says whether it worked.

use crate::browser::copy_text;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// "Copy …" → "Copied". Where the browser refuses the clipboard, it says how to copy by hand.
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    label: &'static str,
    testid: &'static str,
) -> impl IntoView {
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let on_click = move |_| {
        let text = text.get_untracked();
        spawn_local(async move {
            outcome.set(Some(copy_text(&text).await));
        });
    };
    view! {
        <button type="button" class="button secondary" data-testid=testid on:click=on_click>
            {move || match outcome.get() {
                Some(Ok(())) => "Copied ✓",
                _ => label,
            }}
        </button>
        {move || {
            outcome
                .get()
                .and_then(Result::err)
                .map(|_| {
                    view! {
                        <span class="error" role="alert">
                            "This browser did not allow copying: select the text and press Ctrl+C (⌘C on a Mac)."
                        </span>
                    }
                })
        }}
    }
}
