//! The root component: the shared state, the header, and the page for the URL's path.

use crate::browser::pathname;
use crate::library::MyWorkflows;
use crate::pages::home::HomePage;
use crate::pages::shared::SharedPage;
use crate::sync::SyncState;
use leptos::prelude::*;

/// The app's pages, by path. The server answers every unknown path with the app, so anything
/// that is not a share link shows the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Home,
    /// `/s/{slug}`: a shared workflow.
    Shared(String),
}

impl Route {
    pub fn from_path(path: &str) -> Route {
        match path.strip_prefix("/s/") {
            Some(rest) => Route::Shared(rest.trim_end_matches('/').to_string()),
            None => Route::Home,
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    MyWorkflows::load().provide();
    SyncState::load().provide();
    let page = match Route::from_path(&pathname()) {
        Route::Home => view! { <HomePage/> }.into_any(),
        Route::Shared(slug) => view! { <SharedPage slug=slug/> }.into_any(),
    };
    view! {
        <div class="page">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="logo" aria-hidden="true"></span>
                    <h1>"Shotline"</h1>
                </a>
            </header>
            {page}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    /// Share links route to the shared page (with or without a trailing slash); anything else is home.
    #[test]
    fn paths_route_to_pages() {
        assert_eq!(Route::from_path("/"), Route::Home);
        assert_eq!(Route::from_path("/index.html"), Route::Home);
        assert_eq!(
            Route::from_path("/s/abc123"),
            Route::Shared("abc123".into())
        );
        assert_eq!(
            Route::from_path("/s/abc123/"),
            Route::Shared("abc123".into())
        );
        assert_eq!(Route::from_path("/s/"), Route::Shared(String::new()));
    }
}
