//! Workspace sync: my workflows on every device connected to the same workspace.
//!
//! ```text
//! plan_sync   pure: my library + the workspace's list -> what to upload, push, pull, download, delete
//! run         carries a plan out against the API; a stale push comes back as a Conflict
//! SyncState   the app's handle (context): connection (token, kept in localStorage), status, conflicts
//! ```
//!
//! Nothing is overwritten silently: a workflow changed here is only ever replaced by the
//! workspace's version when the merchant picks "Use the other device's" on its conflict card.

use crate::api::{self, ApiError, PutError, Record, Summary, Token};
use crate::browser;
use crate::library::{new_id, Library, MyWorkflows};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where the connection lives in localStorage.
pub const STORAGE_KEY: &str = "shotline.workspace.v1";

/// One thing a sync does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Deletes in the workspace a workflow deleted on this device.
    DeleteRemote { remote_id: String },
    /// Drops the memory of a deletion: the workflow is gone there too, or another device changed
    /// it after it was deleted here (then it is downloaded again rather than lost).
    DropDeletion { remote_id: String },
    /// POSTs a workflow the workspace does not have.
    Upload { local_id: String },
    /// PUTs a workflow changed here, `If-Match` the revision the change started from.
    Push {
        local_id: String,
        remote_id: String,
        base: u64,
    },
    /// Takes the workspace's newer version of a workflow not changed here.
    Pull { local_id: String, remote_id: String },
    /// Adds a workflow this device does not have yet.
    Download { remote_id: String },
    /// Removes a workflow (not changed here) that another device deleted from the workspace.
    Forget { local_id: String },
}

/// Decides what a sync does, from this device's library and the workspace's list of workflows.
pub fn plan_sync(lib: &Library, remote: &[Summary]) -> Vec<Action> {
    let by_id: HashMap<&str, &Summary> = remote.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut plan = Vec::new();
    for d in &lib.deleted {
        let remote_id = d.remote_id.clone();
        match by_id.get(d.remote_id.as_str()) {
            Some(r) if r.revision <= d.revision => plan.push(Action::DeleteRemote { remote_id }),
            _ => plan.push(Action::DropDeletion { remote_id }),
        }
    }
    for w in &lib.workflows {
        let local_id = w.id.clone();
        let Some(remote_id) = &w.remote_id else {
            plan.push(Action::Upload { local_id });
            continue;
        };
        let base = w.remote_revision.unwrap_or(0);
        match by_id.get(remote_id.as_str()) {
            // Deleted on another device: edits made here survive as a new upload.
            None if w.dirty => plan.push(Action::Upload { local_id }),
            None => plan.push(Action::Forget { local_id }),
            Some(_) if w.dirty => plan.push(Action::Push {
                local_id,
                remote_id: remote_id.clone(),
                base,
            }),
            Some(r) if r.revision > base => plan.push(Action::Pull {
                local_id,
                remote_id: remote_id.clone(),
            }),
            Some(_) => {}
        }
    }
    for r in remote {
        let here = lib.by_remote(&r.id).is_some();
        let deleted_here = lib
            .deleted
            .iter()
            .any(|d| d.remote_id == r.id && r.revision <= d.revision);
        if !here && !deleted_here {
            plan.push(Action::Download {
                remote_id: r.id.clone(),
            });
        }
    }
    plan
}

/// A workflow changed both here and on another device since this device last synced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub local_id: String,
    /// The workspace's record when the push was refused.
    pub theirs: Record,
    /// Why the last attempt to settle it failed, shown on its card.
    pub error: Option<String>,
}

/// What a finished sync found besides the changes it made.
#[derive(Debug, Default)]
pub struct Report {
    pub conflicts: Vec<Conflict>,
    /// One line per workflow that could not be synced: "“Name”: what went wrong".
    pub problems: Vec<String>,
}

/// Carries out a sync. Fails as a whole only when the workspace cannot be listed or the token is
/// refused; a single workflow's failure is reported and the rest go on.
pub async fn run(token: &Token, lib: MyWorkflows) -> Result<Report, ApiError> {
    let remote = api::list_workflows(token).await?;
    let plan = lib.with_untracked(|l| plan_sync(l, &remote));
    let mut report = Report::default();
    for action in plan {
        let label = lib.with_untracked(|l| label(l, &action));
        match apply(token, lib, action).await {
            Ok(Some(conflict)) => report.conflicts.push(conflict),
            Ok(None) => {}
            Err(e) if matches!(e.status(), Some(401)) => return Err(e),
            Err(e) => report.problems.push(format!("{label}: {e}")),
        }
    }
    Ok(report)
}

fn label(lib: &Library, action: &Action) -> String {
    let local = match action {
        Action::Upload { local_id }
        | Action::Push { local_id, .. }
        | Action::Pull { local_id, .. }
        | Action::Forget { local_id } => lib.get(local_id).map(|w| w.name().to_string()),
        _ => None,
    };
    match local {
        Some(name) => format!("“{name}”"),
        None => "A workflow in the workspace".into(),
    }
}

async fn apply(
    token: &Token,
    lib: MyWorkflows,
    action: Action,
) -> Result<Option<Conflict>, ApiError> {
    match action {
        Action::DeleteRemote { remote_id } => {
            match api::delete_workflow(token, &remote_id).await {
                Ok(()) => {}
                Err(e) if e.status() == Some(404) => {}
                Err(e) => return Err(e),
            }
            lib.update(|l| l.deleted.retain(|d| d.remote_id != remote_id));
        }
        Action::DropDeletion { remote_id } => {
            lib.update(|l| l.deleted.retain(|d| d.remote_id != remote_id));
        }
        Action::Upload { local_id } => {
            let Some((wf, version)) =
                lib.with_untracked(|l| l.get(&local_id).map(|w| (w.workflow.clone(), w.version)))
            else {
                return Ok(None);
            };
            let rec = api::create_workflow(token, &wf).await?;
            lib.update(|l| l.uploaded(&local_id, version, rec.id, rec.revision));
        }
        Action::Push { local_id, .. } => return push(token, lib, &local_id, None).await,
        Action::Pull {
            local_id,
            remote_id,
        } => {
            let rec = api::get_workflow(token, &remote_id).await?;
            lib.update(|l| {
                // Edited while the download was on its way: the next sync pushes that edit.
                if l.get(&local_id).is_some_and(|w| !w.dirty) {
                    l.take_remote(&local_id, rec.workflow, rec.revision, browser::now());
                }
            });
        }
        Action::Download { remote_id } => {
            let rec = api::get_workflow(token, &remote_id).await?;
            lib.update(|l| {
                if l.by_remote(&rec.id).is_none() {
                    l.add_remote(new_id(), rec.workflow, rec.id, rec.revision, browser::now());
                }
            });
        }
        Action::Forget { local_id } => {
            lib.update(|l| {
                if l.get(&local_id).is_some_and(|w| !w.dirty) {
                    l.forget(&local_id);
                }
            });
        }
    }
    Ok(None)
}

/// PUTs this device's version. `base` overrides the revision it is based on ("Keep mine" bases
/// it on the workspace's current revision, which the merchant has now seen).
async fn push(
    token: &Token,
    lib: MyWorkflows,
    local_id: &str,
    base: Option<u64>,
) -> Result<Option<Conflict>, ApiError> {
    let Some((wf, version, remote_id, stored_base)) = lib.with_untracked(|l| {
        l.get(local_id).and_then(|w| {
            Some((
                w.workflow.clone(),
                w.version,
                w.remote_id.clone()?,
                w.remote_revision.unwrap_or(0),
            ))
        })
    }) else {
        return Ok(None);
    };
    match api::update_workflow(token, &remote_id, &wf, base.unwrap_or(stored_base)).await {
        Ok(rec) => {
            lib.update(|l| l.uploaded(local_id, version, rec.id, rec.revision));
            Ok(None)
        }
        Err(PutError::Conflict(theirs)) => Ok(Some(Conflict {
            local_id: local_id.to_string(),
            theirs: *theirs,
            error: None,
        })),
        Err(PutError::Failed(e)) => Err(e),
    }
}

/// This device's link to a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    pub token: Token,
    pub workspace_id: String,
    /// Unix ms of the last sync that finished.
    #[serde(default)]
    pub last_synced: Option<f64>,
}

/// Where sync is.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    Idle,
    Syncing,
    Failed(String),
}

/// The app's handle on workspace sync (a context value).
#[derive(Clone, Copy)]
pub struct SyncState {
    pub connection: RwSignal<Option<Connection>>,
    pub status: RwSignal<Status>,
    /// Workflows the last sync could not sync, each with the reason.
    pub problems: RwSignal<Vec<String>>,
    pub conflicts: RwSignal<Vec<Conflict>>,
}

impl SyncState {
    pub fn load() -> Self {
        let connection = browser::storage_get(STORAGE_KEY)
            .ok()
            .flatten()
            .and_then(|t| serde_json::from_str::<Connection>(&t).ok());
        SyncState {
            connection: RwSignal::new(connection),
            status: RwSignal::new(Status::Idle),
            problems: RwSignal::new(Vec::new()),
            conflicts: RwSignal::new(Vec::new()),
        }
    }

    pub fn provide(self) {
        provide_context(self);
    }

    pub fn expect() -> Self {
        expect_context::<SyncState>()
    }

    fn store(&self, conn: Option<Connection>) {
        let _ = match &conn {
            Some(c) => serde_json::to_string(c)
                .map_err(|e| e.to_string())
                .and_then(|t| browser::storage_set(STORAGE_KEY, &t)),
            None => browser::storage_remove(STORAGE_KEY),
        };
        self.connection.set(conn);
    }

    pub fn token(&self) -> Option<Token> {
        self.connection
            .with_untracked(|c| c.as_ref().map(|c| c.token.clone()))
    }

    /// Connects this device (a checked token) and syncs at once.
    pub fn connect(&self, token: Token, workspace_id: String, lib: MyWorkflows) {
        lib.update(|l| l.use_workspace(&workspace_id));
        self.problems.set(Vec::new());
        self.conflicts.set(Vec::new());
        self.store(Some(Connection {
            token,
            workspace_id,
            last_synced: None,
        }));
        self.sync_now(lib);
    }

    /// Forgets the token. My workflows stay on this device, linked to the workspace in case the
    /// same one is connected again.
    pub fn disconnect(&self) {
        self.store(None);
        self.status.set(Status::Idle);
        self.problems.set(Vec::new());
        self.conflicts.set(Vec::new());
    }

    /// Starts a sync unless one is running.
    pub fn sync_now(&self, lib: MyWorkflows) {
        let Some(token) = self.token() else {
            return;
        };
        if self.status.get_untracked() == Status::Syncing {
            return;
        }
        self.status.set(Status::Syncing);
        let this = *self;
        spawn_local(async move {
            let outcome = run(&token, lib).await;
            // Disconnected (or connected elsewhere) while this ran: its findings no longer apply.
            let Some(mut conn) = this.connection.get_untracked().filter(|c| c.token == token)
            else {
                this.status.set(Status::Idle);
                return;
            };
            match outcome {
                Ok(report) => {
                    this.conflicts.set(report.conflicts);
                    this.problems.set(report.problems);
                    this.status.set(Status::Idle);
                    conn.last_synced = Some(browser::now());
                    this.store(Some(conn));
                }
                Err(e) => this.status.set(Status::Failed(failure(&e))),
            }
        });
    }

    /// "Keep mine": saves this device's version over the other device's, which stays in the
    /// workflow's revision history.
    pub fn keep_mine(&self, local_id: String, lib: MyWorkflows) {
        let Some(token) = self.token() else {
            return;
        };
        let Some(base) = self.conflicts.with_untracked(|cs| {
            cs.iter()
                .find(|c| c.local_id == local_id)
                .map(|c| c.theirs.revision)
        }) else {
            return;
        };
        let this = *self;
        spawn_local(async move {
            let outcome = push(&token, lib, &local_id, Some(base)).await;
            this.conflicts.update(|cs| match outcome {
                Ok(None) => cs.retain(|c| c.local_id != local_id),
                // Changed again on another device meanwhile: show that version instead.
                Ok(Some(newer)) => {
                    for c in cs.iter_mut().filter(|c| c.local_id == local_id) {
                        *c = newer.clone();
                    }
                }
                Err(e) => {
                    for c in cs.iter_mut().filter(|c| c.local_id == local_id) {
                        c.error = Some(failure(&e));
                    }
                }
            });
        });
    }

    /// "Use the other device's": replaces this device's version with the workspace's.
    pub fn use_theirs(&self, local_id: &str, lib: MyWorkflows) {
        let Some(theirs) = self.conflicts.with_untracked(|cs| {
            cs.iter()
                .find(|c| c.local_id == local_id)
                .map(|c| c.theirs.clone())
        }) else {
            return;
        };
        lib.update(|l| l.take_remote(local_id, theirs.workflow, theirs.revision, browser::now()));
        self.conflicts
            .update(|cs| cs.retain(|c| c.local_id != local_id));
    }
}

/// A failed sync as a sentence; a refused token says what to do about it.
fn failure(e: &ApiError) -> String {
    if e.status() == Some(401) {
        format!("The workspace did not accept this device's token ({e}). Disconnect, then connect again with a token from a device that is connected.")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use shotline_core::Workflow;

    fn wf(name: &str) -> Workflow {
        let mut w = shotline_core::templates::get("amazon-main").unwrap();
        w.name = name.into();
        w
    }

    fn remote(id: &str, revision: u64) -> Summary {
        Summary {
            id: id.into(),
            name: id.into(),
            revision,
            updated_at: 0.0,
        }
    }

    /// A fresh device uploads what it made and downloads what the workspace has.
    #[test]
    fn new_work_goes_up_and_missing_work_comes_down() {
        let mut lib = Library::default();
        lib.add("a".into(), wf("A"), None, 0.0);
        let plan = plan_sync(&lib, &[remote("wf_1", 3)]);
        assert_eq!(
            plan,
            vec![
                Action::Upload {
                    local_id: "a".into()
                },
                Action::Download {
                    remote_id: "wf_1".into()
                },
            ]
        );
    }

    /// A clean copy takes a newer revision; a dirty one is pushed against the revision it was
    /// based on (the server answers 412 if that is stale); an up-to-date clean copy is left alone.
    #[test]
    fn clean_copies_pull_and_dirty_ones_push() {
        let mut lib = Library::default();
        lib.add_remote("clean".into(), wf("C"), "wf_c".into(), 2, 0.0);
        lib.add_remote("dirty".into(), wf("D"), "wf_d".into(), 2, 0.0);
        lib.save("dirty", wf("D edited"), 1.0);
        lib.add_remote("same".into(), wf("S"), "wf_s".into(), 5, 0.0);
        let plan = plan_sync(
            &lib,
            &[remote("wf_c", 3), remote("wf_d", 4), remote("wf_s", 5)],
        );
        assert_eq!(
            plan,
            vec![
                Action::Pull {
                    local_id: "clean".into(),
                    remote_id: "wf_c".into()
                },
                Action::Push {
                    local_id: "dirty".into(),
                    remote_id: "wf_d".into(),
                    base: 2
                },
            ]
        );
    }

    /// Deleted here: deleted there, unless another device changed it since (then it comes back).
    #[test]
    fn deletions_never_lose_another_devices_edit() {
        let mut lib = Library::default();
        lib.add_remote("x".into(), wf("X"), "wf_x".into(), 2, 0.0);
        lib.add_remote("y".into(), wf("Y"), "wf_y".into(), 2, 0.0);
        lib.add_remote("z".into(), wf("Z"), "wf_z".into(), 2, 0.0);
        lib.remove("x");
        lib.remove("y");
        lib.remove("z");
        let plan = plan_sync(&lib, &[remote("wf_x", 2), remote("wf_y", 3)]);
        assert_eq!(
            plan,
            vec![
                Action::DeleteRemote {
                    remote_id: "wf_x".into()
                },
                Action::DropDeletion {
                    remote_id: "wf_y".into()
                },
                Action::DropDeletion {
                    remote_id: "wf_z".into()
                },
                Action::Download {
                    remote_id: "wf_y".into()
                },
            ]
        );
    }

    /// Deleted on another device: a clean copy goes, an edited one is uploaded again as new.
    #[test]
    fn deleted_elsewhere_keeps_local_edits() {
        let mut lib = Library::default();
        lib.add_remote("clean".into(), wf("C"), "wf_c".into(), 2, 0.0);
        lib.add_remote("dirty".into(), wf("D"), "wf_d".into(), 2, 0.0);
        lib.save("dirty", wf("D edited"), 1.0);
        assert_eq!(
            plan_sync(&lib, &[]),
            vec![
                Action::Forget {
                    local_id: "clean".into()
                },
                Action::Upload {
                    local_id: "dirty".into()
                },
            ]
        );
    }

    /// Nothing to do when both sides agree.
    #[test]
    fn in_step_means_no_work() {
        let mut lib = Library::default();
        lib.add_remote("a".into(), wf("A"), "wf_a".into(), 7, 0.0);
        assert!(plan_sync(&lib, &[remote("wf_a", 7)]).is_empty());
    }
}
