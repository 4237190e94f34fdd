//! The root component: the shared state, the header with the app's sections, and the page for the
//! URL's path.

use crate::browser::pathname;
use crate::library::MyWorkflows;
use crate::pages::editor::EditorPage;
use crate::pages::home::HomePage;
use crate::pages::link::LinkPage;
use crate::pages::shared::SharedPage;
use crate::pages::workflows::WorkflowsPage;
use crate::sync::SyncState;
use leptos::prelude::*;

/// The app's pages, by path. The server answers every unknown path with the app, so anything
/// unknown shows the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: run a workflow on photos.
    Home,
    /// `/workflows`: my workflows, the templates gallery, workspace sync.
    Workflows,
    /// `/workflows/{id}`: the editor, with its live preview, for one of my workflows.
    Editor(String),
    /// `/s/{slug}`: a workflow shared through the server.
    Shared(String),
    /// `/link#{data}`: a workflow shared inside the link itself (no server involved).
    Link,
}

impl Route {
    pub fn from_path(path: &str) -> Route {
        let path = path.trim_end_matches('/');
        if let Some(rest) = path.strip_prefix("/s/") {
            return Route::Shared(rest.to_string());
        }
        if path == "/s" {
            return Route::Shared(String::new());
        }
        if let Some(id) = path.strip_prefix("/workflows/") {
            return Route::Editor(id.to_string());
        }
        match path {
            "/workflows" => Route::Workflows,
            "/link" => Route::Link,
            _ => Route::Home,
        }
    }

    /// Which section of the header the page belongs to.
    fn section(&self) -> Section {
        match self {
            Route::Home => Section::Run,
            _ => Section::Workflows,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Run,
    Workflows,
}

/// The app at the page's own path.
#[component]
pub fn App() -> impl IntoView {
    view! { <AppAt route=Route::from_path(&pathname())/> }
}

/// The app showing `route`'s page, whatever the path (the component tests open pages this way).
#[component]
pub fn AppAt(route: Route) -> impl IntoView {
    MyWorkflows::load().provide();
    SyncState::load().provide();
    let section = route.section();
    let page = match route {
        Route::Home => view! { <HomePage/> }.into_any(),
        Route::Workflows => view! { <WorkflowsPage/> }.into_any(),
        Route::Editor(id) => view! { <EditorPage id=id/> }.into_any(),
        Route::Shared(slug) => view! { <SharedPage slug=slug/> }.into_any(),
        Route::Link => view! { <LinkPage/> }.into_any(),
    };
    let current = move |s: Section| if s == section { Some("page") } else { None };
    view! {
        <div class="page">
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="logo" aria-hidden="true"></span>
                    <h1>"Shotline"</h1>
                </a>
                <nav class="sections" aria-label="Sections">
                    <a href="/" aria-current=current(Section::Run) data-testid="nav-run">"Process photos"</a>
                    <a href="/workflows" aria-current=current(Section::Workflows) data-testid="nav-workflows">"Workflows"</a>
                </nav>
            </header>
            {page}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::Route;

    /// Each path routes to its page (with or without a trailing slash); anything else is home.
    #[test]
    fn paths_route_to_pages() {
        assert_eq!(Route::from_path("/"), Route::Home);
        assert_eq!(Route::from_path("/index.html"), Route::Home);
        assert_eq!(Route::from_path("/nowhere"), Route::Home);
        assert_eq!(
            Route::from_path("/s/abc123"),
            Route::Shared("abc123".into())
        );
        assert_eq!(
            Route::from_path("/s/abc123/"),
            Route::Shared("abc123".into())
        );
        assert_eq!(Route::from_path("/s/"), Route::Shared(String::new()));
        assert_eq!(Route::from_path("/workflows"), Route::Workflows);
        assert_eq!(Route::from_path("/workflows/"), Route::Workflows);
        assert_eq!(
            Route::from_path("/workflows/w1"),
            Route::Editor("w1".into())
        );
        assert_eq!(Route::from_path("/link"), Route::Link);
    }
}
