//! The database: workspaces, workflows and their revisions, share links, hooks, runs (which are also
//! the job queue) and per-token rate windows.
//!
//! One set of queries serves SQLite and PostgreSQL through sqlx's `Any` driver: parameters are
//! written `$1, $2, ...` in order of first use (SQLite reads them as named parameters numbered in
//! that order), times are unix milliseconds in BIGINT columns and JSON is TEXT. The few places that
//! differ (claiming a job) branch on [`Backend`].

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::path::Path;
use std::time::Duration;

/// Which database the URL named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A failure of the store. `Conflict` and `NotFound` are answers, the rest are internal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The revision the write started from is not the current one.
    #[error("revision conflict")]
    Conflict(Box<WorkflowRecord>),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Current time in unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkspaceRow {
    pub id: String,
    #[serde(skip)]
    pub token_hash: String,
    pub created_at: i64,
}

/// A workflow as stored: its document is the JSON text the merchant saved (already validated).
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkflowRecord {
    pub id: String,
    #[serde(skip)]
    pub workspace_id: String,
    pub name: String,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub doc: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RevisionRow {
    pub revision: i64,
    pub name: String,
    pub note: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ShareRow {
    pub slug: String,
    #[serde(skip)]
    pub workflow_id: String,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct HookRow {
    pub id: String,
    pub workspace_id: String,
    pub workflow_id: String,
    pub kind: String,
    pub secret: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RunRow {
    pub id: String,
    #[serde(skip)]
    pub workspace_id: String,
    pub workflow_id: String,
    pub revision: i64,
    pub source: String,
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub input: String,
    #[serde(skip)]
    pub report: Option<String>,
}

/// A run claimed by a worker.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub run: RunRow,
}

const WORKFLOW_COLS: &str = "id, workspace_id, name, revision, created_at, updated_at, doc";
const RUN_COLS: &str = "id, workspace_id, workflow_id, revision, source, status, attempts, error, created_at, updated_at, input, report";

fn workflow_from(row: &AnyRow) -> Result<WorkflowRecord> {
    Ok(WorkflowRecord {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        name: row.try_get("name")?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        doc: row.try_get("doc")?,
    })
}

fn run_from(row: &AnyRow) -> Result<RunRow> {
    Ok(RunRow {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        workflow_id: row.try_get("workflow_id")?,
        revision: row.try_get("revision")?,
        source: row.try_get("source")?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        error: row.try_get("error")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        input: row.try_get("input")?,
        report: row.try_get("report")?,
    })
}

impl Store {
    /// Opens (creating and migrating) the database: `database_url` when given (`postgres://...` or
    /// `sqlite://...`), else `data_dir/shotline.db` in WAL mode.
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let url = match database_url {
            Some(u) => u.to_string(),
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Db(e.into()))?;
                format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("shotline.db").display()
                )
            }
        };
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let mut opts = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        opts = match backend {
            // One writer at a time in SQLite: a few connections for readers, and writers wait for the
            // lock (busy_timeout) instead of failing.
            Backend::Sqlite => opts.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => opts.max_connections(16),
        };
        let pool = opts.connect(&url).await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- workspaces ----

    pub async fn create_workspace(&self, id: &str, token_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO workspaces (id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(token_hash)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn workspace(&self, id: &str) -> Result<WorkspaceRow> {
        let row = sqlx::query("SELECT id, token_hash, created_at FROM workspaces WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(WorkspaceRow {
            id: row.try_get("id")?,
            token_hash: row.try_get("token_hash")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// Counts one request in the workspace's current minute and returns the count so far.
    pub async fn hit_rate_window(&self, workspace_id: &str, window_start: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO rate_windows (workspace_id, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (workspace_id, window_start) DO UPDATE SET hits = rate_windows.hits + 1 \
             RETURNING hits",
        )
        .bind(workspace_id)
        .bind(window_start)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("hits")?)
    }

    /// Drops rate windows older than `before` (called now and then by the queue's housekeeping).
    pub async fn prune_rate_windows(&self, before: i64) -> Result<()> {
        sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- workflows ----

    pub async fn list_workflows(&self, workspace_id: &str) -> Result<Vec<WorkflowRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLS} FROM workflows WHERE workspace_id = $1 AND deleted = 0 ORDER BY updated_at DESC, id"
        ))
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(workflow_from).collect()
    }

    /// A live workflow of this workspace.
    pub async fn workflow(&self, workspace_id: &str, id: &str) -> Result<WorkflowRecord> {
        let row = sqlx::query(&format!(
            "SELECT {WORKFLOW_COLS} FROM workflows WHERE id = $1 AND workspace_id = $2 AND deleted = 0"
        ))
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        workflow_from(&row)
    }

    pub async fn create_workflow(
        &self,
        workspace_id: &str,
        id: &str,
        name: &str,
        doc: &str,
    ) -> Result<WorkflowRecord> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO workflows (id, workspace_id, name, revision, doc, deleted, created_at, updated_at) \
             VALUES ($1, $2, $3, 1, $4, 0, $5, $5)",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(name)
        .bind(doc)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_revision(&mut tx, id, 1, name, doc, "created", now).await?;
        tx.commit().await?;
        Ok(WorkflowRecord {
            id: id.to_string(),
            workspace_id: workspace_id.to_string(),
            name: name.to_string(),
            revision: 1,
            created_at: now,
            updated_at: now,
            doc: doc.to_string(),
        })
    }

    /// Writes a new revision if `expected` is still the current one; otherwise
    /// [`StoreError::Conflict`] with the current record. The compare-and-set is one UPDATE, so
    /// concurrent writers from any number of processes cannot both win.
    pub async fn update_workflow(
        &self,
        workspace_id: &str,
        id: &str,
        expected: i64,
        name: &str,
        doc: &str,
        note: &str,
    ) -> Result<WorkflowRecord> {
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        // RETURNING gives this write's own record: reading it back after the commit could show
        // a later writer's revision.
        let row = sqlx::query(&format!(
            "UPDATE workflows SET revision = revision + 1, name = $1, doc = $2, updated_at = $3 \
             WHERE id = $4 AND workspace_id = $5 AND deleted = 0 AND revision = $6 RETURNING {WORKFLOW_COLS}"
        ))
        .bind(name)
        .bind(doc)
        .bind(now)
        .bind(id)
        .bind(workspace_id)
        .bind(expected)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            let current = self.workflow(workspace_id, id).await?;
            return Err(StoreError::Conflict(Box::new(current)));
        };
        let rec = workflow_from(&row)?;
        insert_revision(&mut tx, id, rec.revision, name, doc, note, now).await?;
        tx.commit().await?;
        Ok(rec)
    }

    pub async fn delete_workflow(&self, workspace_id: &str, id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE workflows SET deleted = 1, updated_at = $1 WHERE id = $2 AND workspace_id = $3 AND deleted = 0",
        )
        .bind(now_ms())
        .bind(id)
        .bind(workspace_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // A deleted workflow's share links stop working with it.
        sqlx::query("UPDATE shares SET revoked = 1 WHERE workflow_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn revisions(&self, workflow_id: &str) -> Result<Vec<RevisionRow>> {
        let rows = sqlx::query(
            "SELECT revision, name, note, created_at FROM revisions WHERE workflow_id = $1 ORDER BY revision DESC",
        )
        .bind(workflow_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RevisionRow {
                    revision: r.try_get("revision")?,
                    name: r.try_get("name")?,
                    note: r.try_get("note")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// One revision as a record (its `revision`, name and document; times of that revision).
    pub async fn revision(&self, wf: &WorkflowRecord, revision: i64) -> Result<WorkflowRecord> {
        let row = sqlx::query(
            "SELECT name, doc, created_at FROM revisions WHERE workflow_id = $1 AND revision = $2",
        )
        .bind(&wf.id)
        .bind(revision)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let at: i64 = row.try_get("created_at")?;
        Ok(WorkflowRecord {
            id: wf.id.clone(),
            workspace_id: wf.workspace_id.clone(),
            name: row.try_get("name")?,
            revision,
            created_at: wf.created_at,
            updated_at: at,
            doc: row.try_get("doc")?,
        })
    }

    // ---- shares ----

    pub async fn create_share(&self, slug: &str, wf: &WorkflowRecord) -> Result<ShareRow> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO shares (slug, workflow_id, workspace_id, revoked, created_at) VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(slug)
        .bind(&wf.id)
        .bind(&wf.workspace_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(ShareRow {
            slug: slug.to_string(),
            workflow_id: wf.id.clone(),
            created_at: now,
        })
    }

    pub async fn shares(&self, workflow_id: &str) -> Result<Vec<ShareRow>> {
        let rows = sqlx::query(
            "SELECT slug, workflow_id, created_at FROM shares WHERE workflow_id = $1 AND revoked = 0 ORDER BY created_at",
        )
        .bind(workflow_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ShareRow {
                    slug: r.try_get("slug")?,
                    workflow_id: r.try_get("workflow_id")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn revoke_share(&self, workspace_id: &str, slug: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE shares SET revoked = 1 WHERE slug = $1 AND workspace_id = $2 AND revoked = 0",
        )
        .bind(slug)
        .bind(workspace_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The workflow behind a live share link: one indexed join, the hot read path.
    pub async fn shared(&self, slug: &str) -> Result<WorkflowRecord> {
        let row = sqlx::query(
            "SELECT w.id, w.workspace_id, w.name, w.revision, w.created_at, w.updated_at, w.doc \
             FROM shares s JOIN workflows w ON w.id = s.workflow_id \
             WHERE s.slug = $1 AND s.revoked = 0 AND w.deleted = 0",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        workflow_from(&row)
    }

    // ---- hooks ----

    pub async fn create_hook(&self, hook: &HookRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO hooks (id, workspace_id, workflow_id, kind, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&hook.id)
        .bind(&hook.workspace_id)
        .bind(&hook.workflow_id)
        .bind(&hook.kind)
        .bind(&hook.secret)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn hook(&self, id: &str) -> Result<HookRow> {
        let r = sqlx::query(
            "SELECT id, workspace_id, workflow_id, kind, secret FROM hooks WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(HookRow {
            id: r.try_get("id")?,
            workspace_id: r.try_get("workspace_id")?,
            workflow_id: r.try_get("workflow_id")?,
            kind: r.try_get("kind")?,
            secret: r.try_get("secret")?,
        })
    }

    /// Records a delivery key; returns the run id of an earlier delivery with the same key instead,
    /// if there was one. The primary key makes the check safe across processes.
    pub async fn claim_delivery(
        &self,
        hook_id: &str,
        key: &str,
        run_id: &str,
    ) -> Result<Option<String>> {
        let inserted = sqlx::query(
            "INSERT INTO hook_deliveries (hook_id, delivery_key, run_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (hook_id, delivery_key) DO NOTHING",
        )
        .bind(hook_id)
        .bind(key)
        .bind(run_id)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        if inserted.rows_affected() == 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT run_id FROM hook_deliveries WHERE hook_id = $1 AND delivery_key = $2",
        )
        .bind(hook_id)
        .bind(key)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some(row.try_get("run_id")?))
    }

    // ---- runs and the job queue ----

    #[allow(clippy::too_many_arguments)]
    pub async fn enqueue_run(
        &self,
        id: &str,
        workspace_id: &str,
        workflow_id: &str,
        revision: i64,
        source: &str,
        input: &str,
    ) -> Result<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO runs (id, workspace_id, workflow_id, revision, source, status, attempts, run_after, input, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $6, $6)",
        )
        .bind(id)
        .bind(workspace_id)
        .bind(workflow_id)
        .bind(revision)
        .bind(source)
        .bind(now)
        .bind(input)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn run(&self, workspace_id: &str, id: &str) -> Result<RunRow> {
        let row = sqlx::query(&format!(
            "SELECT {RUN_COLS} FROM runs WHERE id = $1 AND workspace_id = $2"
        ))
        .bind(id)
        .bind(workspace_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        run_from(&row)
    }

    pub async fn runs_of(&self, workspace_id: &str, workflow_id: &str) -> Result<Vec<RunRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {RUN_COLS} FROM runs WHERE workflow_id = $1 AND workspace_id = $2 ORDER BY created_at DESC LIMIT 100"
        ))
        .bind(workflow_id)
        .bind(workspace_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from).collect()
    }

    /// Takes the oldest runnable job: queued and due, or running with an expired lease (its worker
    /// died). PostgreSQL skips rows other processes hold; SQLite has one writer, so the UPDATE's
    /// subquery is already atomic.
    pub async fn claim_run(&self, worker: &str, lease_ms: i64) -> Result<Option<Claimed>> {
        let now = now_ms();
        let pick = match self.backend {
            Backend::Postgres => {
                "SELECT id FROM runs WHERE (status = 'queued' AND run_after <= $1) \
                 OR (status = 'running' AND lease_until < $1) ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM runs WHERE (status = 'queued' AND run_after <= $1) \
                 OR (status = 'running' AND lease_until < $1) ORDER BY run_after, id LIMIT 1"
            }
        };
        let sql = format!(
            "UPDATE runs SET status = 'running', attempts = attempts + 1, lease_until = $2, worker = $3, updated_at = $1 \
             WHERE id = ({pick}) RETURNING {RUN_COLS}"
        );
        let row = sqlx::query(&sql)
            .bind(now)
            .bind(now + lease_ms)
            .bind(worker)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => Ok(Some(Claimed { run: run_from(&r)? })),
        }
    }

    /// Extends a running job's lease; false when the job is no longer this worker's.
    pub async fn heartbeat(&self, run_id: &str, worker: &str, lease_ms: i64) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "UPDATE runs SET lease_until = $1 WHERE id = $2 AND worker = $3 AND status = 'running'",
        )
        .bind(now + lease_ms)
        .bind(run_id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends a run: `done` with its report, or `failed` with an error.
    pub async fn finish_run(
        &self,
        run_id: &str,
        worker: &str,
        status: &str,
        report: Option<&str>,
        error: Option<&str>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE runs SET status = $1, report = $2, error = $3, lease_until = NULL, updated_at = $4 \
             WHERE id = $5 AND worker = $6 AND status = 'running'",
        )
        .bind(status)
        .bind(report)
        .bind(error)
        .bind(now_ms())
        .bind(run_id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a running job back in the queue, due at `run_after` (a retry, or a graceful shutdown).
    pub async fn requeue_run(
        &self,
        run_id: &str,
        worker: &str,
        run_after: i64,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE runs SET status = 'queued', run_after = $1, error = $2, lease_until = NULL, worker = NULL, updated_at = $3 \
             WHERE id = $4 AND worker = $5 AND status = 'running'",
        )
        .bind(run_after)
        .bind(error)
        .bind(now_ms())
        .bind(run_id)
        .bind(worker)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The document of a workflow at a revision, for a worker (no workspace check: the run row
    /// already names the workspace's workflow).
    pub async fn workflow_doc_at(&self, workflow_id: &str, revision: i64) -> Result<String> {
        let row = sqlx::query("SELECT doc FROM revisions WHERE workflow_id = $1 AND revision = $2")
            .bind(workflow_id)
            .bind(revision)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("doc")?)
    }
}

async fn insert_revision(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    revision: i64,
    name: &str,
    doc: &str,
    note: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO revisions (workflow_id, revision, name, doc, note, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(revision)
    .bind(name)
    .bind(doc)
    .bind(note)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
