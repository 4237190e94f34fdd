//! Reusable pieces of the page.

pub mod conflict_card;
pub mod copy_button;
pub mod drop_zone;
pub mod flow_editor;
pub mod model_line;
pub mod my_workflows;
pub mod photo_result;
pub mod preview_panel;
pub mod share_links;
pub mod shared_workflow;
pub mod step_list;
pub mod sync_panel;
pub mod templates_gallery;
pub mod workflow_editor;
pub mod workflow_picker;
