use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    view! { <main>"Shotline"</main> }
}
