//! The run queue's workers. Runs are rows in the database (`store.rs`): a worker claims one with a
//! lease, keeps the lease alive while it works, and finishes it. A process that dies (even by
//! `kill -9`) leaves a run whose lease expires; any process then claims it again. Transient
//! failures (fetching a photo, the object store) are retried with exponential backoff up to
//! `max_attempts`; then the run fails with the last error recorded.

use crate::api::AppState;
use crate::fetch::FetchError;
use crate::notify::Notification;
use crate::store::{now_ms, RunRow};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shotline_core::engine::{run_one, Input, PhotoReport, RunOptions, RunReport};
use shotline_core::model::Action;
use shotline_core::products::Product;
use shotline_core::Workflow;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;

/// One photo of a run: stored in the object store (`key`) or to fetch (`url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhotoRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What a run was asked to do, as stored in `runs.input`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInput {
    pub photos: Vec<PhotoRef>,
    /// Product fields by file name.
    #[serde(default)]
    pub products: BTreeMap<String, Value>,
    /// Product fields for every photo (a webhook's product).
    #[serde(default)]
    pub product: Option<Value>,
}

/// What `runs.report` holds: the engine's report and what the notify steps did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReport {
    pub report: Value,
    #[serde(default)]
    pub notifications: Vec<Value>,
}

pub fn artifact_key(run_id: &str, name: &str) -> String {
    format!(
        "runs/{run_id}/artifacts/{}",
        crate::objects::safe_name(name)
    )
}

/// A failure of a whole run attempt.
enum Failure {
    /// Worth another attempt later.
    Transient(String),
    Permanent(String),
}

/// Starts `config.workers` workers. They stop taking runs when `shutdown` turns true; a run in
/// progress gets `shutdown_grace` to finish, then goes back to the queue.
pub fn spawn_workers(
    state: AppState,
    worker_id: String,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..state.config.workers.max(1))
        .map(|i| {
            let state = state.clone();
            let id = format!("{worker_id}/{i}");
            let shutdown = shutdown.clone();
            tokio::spawn(async move { worker(state, id, shutdown).await })
        })
        .collect()
}

async fn worker(state: AppState, id: String, mut shutdown: watch::Receiver<bool>) {
    let lease_ms = state.config.lease.as_millis() as i64;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let claimed = match state.store.claim_run(&id, lease_ms).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "queue: claiming a run failed");
                None
            }
        };
        let Some(claimed) = claimed else {
            // Other processes' runs are found by polling; this process's by the wake-up.
            tokio::select! {
                _ = state.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        };
        let run = claimed.run;
        tracing::info!(run = %run.id, attempt = run.attempts, worker = %id, "run started");
        let work = process(&state, &run);
        tokio::pin!(work);
        let mut beat = tokio::time::interval(state.config.lease / 3);
        beat.tick().await;
        let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
        let outcome = loop {
            tokio::select! {
                out = &mut work => break Some(out),
                _ = beat.tick() => {
                    if let Ok(false) = state.store.heartbeat(&run.id, &id, lease_ms).await {
                        tracing::warn!(run = %run.id, "run was taken over by another worker");
                    }
                }
                _ = shutdown.changed(), if grace.is_none() => {
                    grace = Some(Box::pin(tokio::time::sleep(state.config.shutdown_grace)));
                }
                _ = async { if let Some(g) = grace.as_mut() { g.await } }, if grace.is_some() => {
                    break None;
                }
            }
        };
        match outcome {
            None => {
                tracing::warn!(run = %run.id, "shutting down: run goes back to the queue");
                let _ = state.store.requeue_run(&run.id, &id, now_ms(), None).await;
                return;
            }
            Some(Ok(stored)) => {
                let text = serde_json::to_string(&stored).unwrap_or_default();
                match state
                    .store
                    .finish_run(&run.id, &id, "done", Some(&text), None)
                    .await
                {
                    Ok(true) => tracing::info!(run = %run.id, "run done"),
                    Ok(false) => {
                        tracing::warn!(run = %run.id, "run finished after losing its lease")
                    }
                    Err(e) => tracing::error!(run = %run.id, error = %e, "saving the run failed"),
                }
            }
            Some(Err(Failure::Transient(msg))) if run.attempts < state.config.max_attempts => {
                let delay =
                    state.config.retry_base * 2u32.saturating_pow(run.attempts as u32 - 1).min(64);
                tracing::warn!(run = %run.id, attempt = run.attempts, error = %msg, ?delay, "run will be retried");
                let _ = state
                    .store
                    .requeue_run(
                        &run.id,
                        &id,
                        now_ms() + delay.as_millis() as i64,
                        Some(&msg),
                    )
                    .await;
            }
            Some(Err(Failure::Transient(msg) | Failure::Permanent(msg))) => {
                tracing::warn!(run = %run.id, error = %msg, "run failed");
                let _ = state
                    .store
                    .finish_run(&run.id, &id, "failed", None, Some(&msg))
                    .await;
            }
        }
    }
}

/// One attempt at a run: gather the photos, run the engine off the async threads, store the
/// artifacts, then send the notify steps' summaries.
async fn process(state: &AppState, run: &RunRow) -> Result<StoredReport, Failure> {
    let input: RunInput = serde_json::from_str(&run.input)
        .map_err(|e| Failure::Permanent(format!("the run's input is unreadable: {e}")))?;
    let doc = state
        .store
        .workflow_doc_at(&run.workflow_id, run.revision)
        .await
        .map_err(|e| Failure::Transient(format!("loading the workflow: {e}")))?;
    let wf = Workflow::from_json(&doc)
        .map_err(|e| Failure::Permanent(format!("the workflow cannot be read: {e}")))?;

    let shared_product = input.product.as_ref().map(Product::from_json);
    let mut inputs = Vec::new();
    let mut early_failures = Vec::new();
    for (i, photo) in input.photos.iter().enumerate() {
        let bytes = match (&photo.key, &photo.url) {
            (Some(key), _) => state
                .objects
                .get(key)
                .await
                .map(|b| b.to_vec())
                .map_err(|e| {
                    Failure::Transient(format!("{}: reading the stored photo: {e}", photo.name))
                })?,
            (None, Some(url)) => match crate::fetch::fetch(&state.http, url, &state.config.fetch)
                .await
            {
                Ok(f) => f.bytes,
                Err(e) if e.is_transient() => return Err(Failure::Transient(e.to_string())),
                Err(e) => {
                    early_failures.push((i, PhotoReport::failed(&photo.name, fetch_message(&e))));
                    continue;
                }
            },
            (None, None) => {
                early_failures.push((i, PhotoReport::failed(&photo.name, "no photo data".into())));
                continue;
            }
        };
        let product = input
            .products
            .get(&photo.name)
            .map(Product::from_json)
            .or_else(|| shared_product.clone())
            .unwrap_or_default();
        inputs.push((
            i,
            Input {
                name: photo.name.clone(),
                bytes,
                product,
            },
        ));
    }

    let max_pixels = state.config.max_photo_pixels;
    let wf_for_engine = wf.clone();
    let segmenter = state.segmenter.clone();
    let mut photos: Vec<(usize, PhotoReport)> = tokio::task::spawn_blocking(move || {
        let limits = shotline_core::codec::Limits {
            max_pixels,
            ..Default::default()
        };
        let opts = RunOptions {
            limits,
            segmenter: segmenter
                .as_deref()
                .map(|s| s as &dyn shotline_core::engine::Segmenter),
        };
        inputs
            .iter()
            .map(|(i, input)| (*i, run_one(&wf_for_engine, input, i + 1, &opts)))
            .collect()
    })
    .await
    .map_err(|e| Failure::Permanent(format!("the engine stopped unexpectedly: {e}")))?;
    photos.extend(early_failures);
    photos.sort_by_key(|(i, _)| *i);
    let report = RunReport::from_photos(&wf.name, photos.into_iter().map(|(_, p)| p).collect());

    for p in &report.photos {
        for a in &p.artifacts {
            state
                .objects
                .put(&artifact_key(&run.id, &a.name), a.bytes.clone())
                .await
                .map_err(|e| Failure::Transient(format!("storing {}: {e}", a.name)))?;
        }
    }
    let report_json: Value = serde_json::from_str(&report.to_json()).unwrap_or(Value::Null);
    let notifications = notify_all(state, run, &wf, &report_json).await;
    Ok(StoredReport {
        report: report_json,
        notifications,
    })
}

fn fetch_message(e: &FetchError) -> String {
    format!("the photo could not be fetched: {e}")
}

/// Every `notify` step of the workflow, wherever it is nested, in order.
fn notify_steps(steps: &[shotline_core::model::Step], out: &mut Vec<shotline_core::model::Notify>) {
    for s in steps {
        match &s.action {
            Action::Notify(n) if s.enabled => out.push(n.clone()),
            Action::If(i) => {
                notify_steps(&i.then, out);
                notify_steps(&i.otherwise, out);
            }
            _ => {}
        }
    }
}

async fn notify_all(state: &AppState, run: &RunRow, wf: &Workflow, report: &Value) -> Vec<Value> {
    let mut steps = Vec::new();
    notify_steps(&wf.steps, &mut steps);
    if steps.is_empty() {
        return Vec::new();
    }
    let photos: Vec<Value> = report["photos"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let artifacts: Vec<Value> = p["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    let name = a["name"].as_str().unwrap_or("");
                    json!({
                        "name": name,
                        "url": format!("/api/v1/runs/{}/artifacts/{}", run.id, name),
                        "compliance": a.get("compliance"),
                    })
                })
                .collect();
            json!({
                "file": p["file"], "status": p["status"], "error": p.get("error"),
                "artifacts": artifacts, "copy": p.get("copy"),
            })
        })
        .collect();
    let body = json!({
        "event": "run.finished",
        "run_id": run.id,
        "workflow_id": run.workflow_id,
        "workflow": wf.name,
        "revision": run.revision,
        "ok": report["ok"],
        "failed": report["failed"],
        "photos": photos,
    });
    let mut results = Vec::new();
    for step in steps {
        let n = Notification {
            url: step.url.clone(),
            secret: step.secret.clone().filter(|s| !s.is_empty()),
            body: body.clone(),
        };
        let outcome = crate::notify::deliver(
            &state.http,
            &n,
            &state.config.fetch,
            4,
            state.config.retry_base,
        )
        .await;
        results.push(match outcome {
            Ok(attempts) => json!({"url": step.url, "ok": true, "attempts": attempts}),
            Err(e) => {
                tracing::warn!(run = %run.id, url = %step.url, error = %e, "notify failed");
                json!({"url": step.url, "ok": false, "error": e.to_string()})
            }
        });
    }
    results
}
