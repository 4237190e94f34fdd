//! The Workflows screen: my workflows, the templates gallery, and workspace sync.

use crate::components::my_workflows::MyWorkflowsCard;
use crate::components::sync_panel::SyncPanel;
use crate::components::templates_gallery::TemplatesGallery;
use crate::library::MyWorkflows;
use crate::sync::SyncState;
use leptos::prelude::*;

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    let lib = MyWorkflows::expect();
    // A connected device catches up with the workspace when it opens.
    SyncState::expect().sync_now(lib);
    view! {
        <main class="layout">
            <MyWorkflowsCard/>
            <TemplatesGallery/>
            <SyncPanel/>
        </main>
    }
}
