//! The root component.

use crate::pages::home::HomePage;
use leptos::prelude::*;

/// The whole app. One page for now; the workflow editor (a later issue) adds routes here.
#[component]
pub fn App() -> impl IntoView {
    view! { <HomePage/> }
}
