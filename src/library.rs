//! My workflows: the merchant's own workflows, kept in this browser's localStorage under
//! [`STORAGE_KEY`], each with what sync needs to know about its copy in a workspace.
//!
//! [`Library`] is plain data with plain methods (tested natively); [`MyWorkflows`] is the reactive
//! handle the pages share, and writes every change through to localStorage.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shotline_core::Workflow;

/// Where the library lives in localStorage. Bump the version if the shape changes incompatibly.
pub const STORAGE_KEY: &str = "shotline.workflows.v1";

/// One of my workflows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalWorkflow {
    /// This device's id for it (`local-…`); never sent to the server.
    pub id: String,
    /// The last valid version. Invalid edits stay in the editor and are never stored here.
    #[serde(with = "document")]
    pub workflow: Workflow,
    /// Goes up with every change on this device, so work that awaited the network can tell
    /// whether the merchant edited the workflow in the meantime.
    pub version: u64,
    /// Unix ms of the last change on this device.
    pub updated_at: f64,
    /// The bundled template it was made from, if any.
    #[serde(default)]
    pub template: Option<String>,
    /// Its id in the connected workspace, once uploaded.
    #[serde(default)]
    pub remote_id: Option<String>,
    /// The workspace revision this device's copy is based on.
    #[serde(default)]
    pub remote_revision: Option<u64>,
    /// Changed here since it was last uploaded or downloaded.
    #[serde(default)]
    pub dirty: bool,
}

impl LocalWorkflow {
    pub fn name(&self) -> &str {
        &self.workflow.name
    }
    pub fn synced(&self) -> bool {
        self.remote_id.is_some()
    }
}

/// A synced workflow deleted on this device: the next sync deletes it in the workspace too,
/// unless another device changed it after `revision` (then it comes back instead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deleted {
    pub remote_id: String,
    pub revision: u64,
}

/// Everything stored under [`STORAGE_KEY`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Library {
    pub workflows: Vec<LocalWorkflow>,
    #[serde(default)]
    pub deleted: Vec<Deleted>,
    /// The workspace the `remote_id`s belong to.
    #[serde(default)]
    pub workspace_id: Option<String>,
}

impl Library {
    pub fn get(&self, id: &str) -> Option<&LocalWorkflow> {
        self.workflows.iter().find(|w| w.id == id)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut LocalWorkflow> {
        self.workflows.iter_mut().find(|w| w.id == id)
    }

    pub fn by_remote(&self, remote_id: &str) -> Option<&LocalWorkflow> {
        self.workflows
            .iter()
            .find(|w| w.remote_id.as_deref() == Some(remote_id))
    }

    /// Adds a workflow made on this device (from a template, a share link or by hand). Returns its id.
    pub fn add(
        &mut self,
        id: String,
        workflow: Workflow,
        template: Option<String>,
        now: f64,
    ) -> String {
        self.workflows.push(LocalWorkflow {
            id: id.clone(),
            workflow,
            version: 1,
            updated_at: now,
            template,
            remote_id: None,
            remote_revision: None,
            dirty: true,
        });
        id
    }

    /// Adds a workflow downloaded from the workspace, as it is there (so: not dirty).
    pub fn add_remote(
        &mut self,
        id: String,
        workflow: Workflow,
        remote_id: String,
        revision: u64,
        now: f64,
    ) -> String {
        self.workflows.push(LocalWorkflow {
            id: id.clone(),
            workflow,
            version: 1,
            updated_at: now,
            template: None,
            remote_id: Some(remote_id),
            remote_revision: Some(revision),
            dirty: false,
        });
        id
    }

    /// Stores an edited version (already checked by the caller). False if the workflow is gone.
    pub fn save(&mut self, id: &str, workflow: Workflow, now: f64) -> bool {
        let Some(w) = self.get_mut(id) else {
            return false;
        };
        if w.workflow == workflow {
            return true;
        }
        w.workflow = workflow;
        w.version += 1;
        w.updated_at = now;
        w.dirty = true;
        true
    }

    /// Replaces this device's copy with the workspace's (a pull, or "Use the other device's").
    pub fn take_remote(&mut self, id: &str, workflow: Workflow, revision: u64, now: f64) {
        if let Some(w) = self.get_mut(id) {
            if w.workflow != workflow {
                w.workflow = workflow;
                w.version += 1;
                w.updated_at = now;
            }
            w.remote_revision = Some(revision);
            w.dirty = false;
        }
    }

    /// Records a successful upload of `version`: the workspace now has it as `revision`. Edits
    /// made while the upload was on its way keep the workflow dirty.
    pub fn uploaded(&mut self, id: &str, version: u64, remote_id: String, revision: u64) {
        if let Some(w) = self.get_mut(id) {
            w.remote_id = Some(remote_id);
            w.remote_revision = Some(revision);
            w.dirty = w.version != version;
        }
    }

    /// Deletes a workflow here; a synced one is remembered so sync deletes it in the workspace.
    pub fn remove(&mut self, id: &str) {
        let Some(pos) = self.workflows.iter().position(|w| w.id == id) else {
            return;
        };
        let w = self.workflows.remove(pos);
        if let Some(remote_id) = w.remote_id {
            self.deleted.push(Deleted {
                remote_id,
                revision: w.remote_revision.unwrap_or(0),
            });
        }
    }

    /// Removes a workflow that was deleted in the workspace, without remembering a deletion.
    pub fn forget(&mut self, id: &str) {
        self.workflows.retain(|w| w.id != id);
    }

    /// Called when a workspace is connected: links to another workspace's records mean nothing
    /// there, so every workflow becomes "not uploaded yet".
    pub fn use_workspace(&mut self, workspace_id: &str) {
        if self.workspace_id.as_deref() == Some(workspace_id) {
            return;
        }
        self.workspace_id = Some(workspace_id.to_string());
        self.deleted.clear();
        for w in &mut self.workflows {
            w.remote_id = None;
            w.remote_revision = None;
            w.dirty = true;
        }
    }

    /// A name not used by another of my workflows: "Amazon main image (copy)", "(copy 2)", …
    pub fn copy_name(&self, base: &str) -> String {
        let taken = |n: &str| self.workflows.iter().any(|w| w.name() == n);
        let first = format!("{base} (copy)");
        if !taken(&first) {
            return first;
        }
        (2..)
            .map(|i| format!("{base} (copy {i})"))
            .find(|n| !taken(n))
            .unwrap_or(first)
    }
}

/// What the editor makes of its text: the workflow to save, or every problem to show.
pub fn check(text: &str) -> Result<Workflow, Vec<String>> {
    let wf = shotline_core::validate::parse(text).map_err(|e| vec![e.to_string()])?;
    let problems = shotline_core::validate::validate(&wf);
    if problems.is_empty() {
        Ok(wf)
    } else {
        Err(problems.iter().map(ToString::to_string).collect())
    }
}

/// Stored documents go through the engine's parser on the way in, so documents saved by an
/// older Shotline are migrated like any other.
mod document {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use shotline_core::Workflow;

    pub fn serialize<S: Serializer>(wf: &Workflow, s: S) -> Result<S::Ok, S::Error> {
        wf.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Workflow, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        shotline_core::validate::parse(&v.to_string()).map_err(serde::de::Error::custom)
    }
}

/// A fresh id for a workflow made on this device.
pub fn new_id() -> String {
    let rand = (js_sys::Math::random() * 1e12) as u64;
    format!("local-{:x}-{rand:x}", js_sys::Date::now() as u64)
}

/// The app's handle on my workflows (a context value). Every change is written to localStorage.
#[derive(Clone, Copy)]
pub struct MyWorkflows {
    library: RwSignal<Library>,
    /// Why the library could not be read or written, shown on the "My workflows" card.
    pub storage_error: RwSignal<Option<String>>,
}

impl MyWorkflows {
    /// Reads the library from localStorage. A library that cannot be read is kept aside under
    /// another key rather than overwritten, and the reason is shown.
    pub fn load() -> Self {
        let (library, error) = match crate::browser::storage_get(STORAGE_KEY) {
            Ok(None) => (Library::default(), None),
            Ok(Some(text)) => match serde_json::from_str::<Library>(&text) {
                Ok(lib) => (lib, None),
                Err(e) => {
                    let aside = format!("{STORAGE_KEY}.unreadable");
                    let _ = crate::browser::storage_set(&aside, &text);
                    (
                        Library::default(),
                        Some(format!(
                            "Your saved workflows could not be read ({e}). They were kept in this browser under “{aside}”."
                        )),
                    )
                }
            },
            Err(e) => (
                Library::default(),
                Some(format!(
                    "This browser does not let Shotline save workflows ({e}). Changes last until the page is closed."
                )),
            ),
        };
        MyWorkflows {
            library: RwSignal::new(library),
            storage_error: RwSignal::new(error),
        }
    }

    pub fn provide(self) {
        provide_context(self);
    }

    pub fn expect() -> Self {
        expect_context::<MyWorkflows>()
    }

    /// Reads the library (tracked).
    pub fn with<T>(&self, f: impl FnOnce(&Library) -> T) -> T {
        self.library.with(f)
    }

    /// Reads the library without subscribing (for event handlers and async work).
    pub fn with_untracked<T>(&self, f: impl FnOnce(&Library) -> T) -> T {
        self.library.with_untracked(f)
    }

    /// Changes the library and stores it. `None` only once the page has been torn down.
    pub fn update<T>(&self, f: impl FnOnce(&mut Library) -> T) -> Option<T> {
        let out = self.library.try_update(f);
        self.persist();
        out
    }

    fn persist(&self) {
        let text = self.library.with_untracked(serde_json::to_string);
        let result = text
            .map_err(|e| e.to_string())
            .and_then(|t| crate::browser::storage_set(STORAGE_KEY, &t));
        match result {
            Ok(()) => {
                if self.storage_error.get_untracked().is_some() {
                    self.storage_error.set(None);
                }
            }
            Err(e) => self.storage_error.set(Some(format!(
                "Your latest change could not be saved in this browser ({e})."
            ))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wf(name: &str) -> Workflow {
        let mut w = shotline_core::templates::get("amazon-main").expect("bundled");
        w.name = name.into();
        w
    }

    /// A workflow made here starts dirty and unlinked; saving bumps its version, saving the same
    /// document again changes nothing.
    #[test]
    fn saving_marks_dirty_and_bumps_version() {
        let mut lib = Library::default();
        let id = lib.add("a".into(), wf("Mine"), Some("amazon-main".into()), 1.0);
        lib.uploaded(&id, 1, "wf_1".into(), 1);
        let w = lib.get(&id).unwrap();
        assert!(!w.dirty && w.remote_revision == Some(1));
        assert!(lib.save(&id, wf("Renamed"), 2.0));
        let w = lib.get(&id).unwrap();
        assert_eq!((w.version, w.dirty, w.name()), (2, true, "Renamed"));
        lib.uploaded(&id, 2, "wf_1".into(), 2);
        assert!(lib.save(&id, wf("Renamed"), 3.0));
        assert_eq!(lib.get(&id).unwrap().version, 2);
        assert!(!lib.get(&id).unwrap().dirty);
    }

    /// An edit made while an upload was in flight keeps the workflow dirty.
    #[test]
    fn edits_during_an_upload_stay_dirty() {
        let mut lib = Library::default();
        let id = lib.add("a".into(), wf("Mine"), None, 1.0);
        lib.save(&id, wf("Mine 2"), 2.0);
        lib.uploaded(&id, 1, "wf_1".into(), 1);
        assert!(lib.get(&id).unwrap().dirty);
    }

    /// Deleting a synced workflow remembers it for the next sync; an unsynced one just goes.
    #[test]
    fn deleting_remembers_synced_workflows() {
        let mut lib = Library::default();
        let a = lib.add("a".into(), wf("A"), None, 1.0);
        let b = lib.add_remote("b".into(), wf("B"), "wf_b".into(), 4, 1.0);
        lib.remove(&a);
        lib.remove(&b);
        assert!(lib.workflows.is_empty());
        assert_eq!(
            lib.deleted,
            vec![Deleted {
                remote_id: "wf_b".into(),
                revision: 4
            }]
        );
    }

    /// Connecting another workspace unlinks every workflow so it is uploaded there as new.
    #[test]
    fn another_workspace_unlinks_everything() {
        let mut lib = Library::default();
        lib.use_workspace("ws_1");
        let b = lib.add_remote("b".into(), wf("B"), "wf_b".into(), 4, 1.0);
        lib.use_workspace("ws_1");
        assert!(lib.get(&b).unwrap().synced());
        lib.use_workspace("ws_2");
        let w = lib.get(&b).unwrap();
        assert!(!w.synced() && w.dirty && w.remote_revision.is_none());
    }

    /// Copies get names that do not collide with my other workflows.
    #[test]
    fn copy_names_do_not_collide() {
        let mut lib = Library::default();
        assert_eq!(lib.copy_name("Amazon"), "Amazon (copy)");
        lib.add("a".into(), wf("Amazon (copy)"), None, 1.0);
        assert_eq!(lib.copy_name("Amazon"), "Amazon (copy 2)");
    }

    /// The editor's check: bad JSON and invalid workflows give messages, a good one a workflow.
    #[test]
    fn check_reports_parse_and_validation_problems() {
        let bad = check("{ \"schema\": 1, ").unwrap_err();
        assert!(bad[0].contains("not valid JSON"), "{bad:?}");
        let invalid =
            check(r#"{"schema":1,"name":"","steps":[{"type":"export","quality":0}]}"#).unwrap_err();
        assert!(
            invalid.iter().any(|p| p.starts_with("name:")),
            "{invalid:?}"
        );
        assert!(
            invalid.iter().any(|p| p.starts_with("steps[0].quality")),
            "{invalid:?}"
        );
        assert!(check(&wf("Fine").to_json()).is_ok());
    }

    /// The stored form reads back to the same library.
    #[test]
    fn library_round_trips_through_json() {
        let mut lib = Library::default();
        lib.add("a".into(), wf("A"), Some("amazon-main".into()), 1.0);
        lib.add_remote("b".into(), wf("B"), "wf_b".into(), 2, 1.0);
        let text = serde_json::to_string(&lib).unwrap();
        assert_eq!(serde_json::from_str::<Library>(&text).unwrap(), lib);
    }
}
