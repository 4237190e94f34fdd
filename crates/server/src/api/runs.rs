//! Server-side runs: photos uploaded as multipart go to the object store, the run goes into the
//! database queue (`queue.rs` works it), and the status, report and artifacts are read back here.

use super::error::{ApiError, ApiResult};
use super::{new_id, AppState, Auth};
use crate::objects::safe_name;
use crate::queue::{PhotoRef, RunInput, StoredReport};
use axum::extract::{Multipart, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(format!(
            "the upload is larger than the limit of {} MB for one run; send fewer or smaller photos",
            limit / (1024 * 1024)
        ))
    } else {
        ApiError::bad_request(
            "bad_multipart",
            format!("the upload could not be read: {}", e.body_text()),
        )
    }
}

/// `POST /workflows/{id}/runs`: `photo` file parts and an optional `products` JSON part.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    form: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let mut form = form.map_err(|e| {
        ApiError::bad_request(
            "bad_multipart",
            format!(
                "send the photos as multipart/form-data `photo` parts: {}",
                e.body_text()
            ),
        )
    })?;
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let limits = &state.config;
    let run_id = new_id("run_");
    let mut photos = Vec::new();
    let mut products: BTreeMap<String, Value> = BTreeMap::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limits.max_upload_bytes))?
    {
        let part = field.name().unwrap_or("").to_string();
        match part.as_str() {
            "photo" | "photos" | "photo[]" => {
                if photos.len() >= limits.max_photos_per_run {
                    return Err(ApiError::too_large(format!(
                        "a run takes at most {} photos; split the batch into several runs",
                        limits.max_photos_per_run
                    )));
                }
                let name = field
                    .file_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("photo-{}.jpg", photos.len() + 1));
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| multipart_error(e, limits.max_upload_bytes))?;
                if bytes.is_empty() {
                    return Err(ApiError::bad_request(
                        "empty_photo",
                        format!("{name}: the file is empty"),
                    ));
                }
                precheck_photo(&name, &bytes, limits.max_photo_pixels)?;
                let key = format!("runs/{run_id}/input/{}-{}", photos.len() + 1, safe_name(&name));
                state
                    .objects
                    .put(&key, bytes.to_vec())
                    .await
                    .map_err(ApiError::internal)?;
                photos.push(PhotoRef {
                    name,
                    key: Some(key),
                    url: None,
                });
            }
            "products" => {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| multipart_error(e, limits.max_upload_bytes))?;
                products = serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::bad_request(
                        "invalid_products",
                        format!(
                            "`products` must be a JSON object from file name to product fields, e.g. {{\"mug.jpg\": {{\"sku\": \"MUG-1\"}}}}: {e}"
                        ),
                    )
                })?;
            }
            other => {
                return Err(ApiError::bad_request(
                    "unknown_part",
                    format!("unknown form part {other:?}: send `photo` files and an optional `products` JSON part"),
                ))
            }
        }
    }
    if photos.is_empty() {
        return Err(ApiError::bad_request(
            "no_photos",
            "the run has no photos: send one or more `photo` file parts",
        ));
    }
    let input = RunInput {
        photos,
        products,
        product: None,
    };
    state
        .store
        .enqueue_run(
            &run_id,
            &auth.workspace_id,
            &wf.id,
            wf.revision,
            "api",
            &serde_json::to_string(&input).unwrap_or_default(),
        )
        .await?;
    state.wake.notify_one();
    tracing::info!(run = %run_id, workflow = %wf.id, photos = input.photos.len(), "run queued");
    let mut resp = (
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": run_id, "status": "queued", "url": format!("/api/v1/runs/{run_id}") })),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/runs/{run_id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// Refuses what is certainly not a photo, or too many pixels, before it is stored: the header is
/// enough, nothing is decoded here.
fn precheck_photo(name: &str, bytes: &[u8], max_pixels: u64) -> ApiResult<()> {
    let format = shotline_core::codec::sniff(bytes);
    if format.is_none() {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_an_image",
            format!("{name}: the file is not a JPEG, PNG or WebP image"),
        ));
    }
    if let Some((w, h)) = shotline_core::codec::dimensions(bytes) {
        let px = w as u64 * h as u64;
        if px > max_pixels {
            return Err(ApiError::too_large(format!(
                "{name}: the photo is {w}×{h} ({:.0} MP); the limit is {} MP",
                px as f64 / 1e6,
                max_pixels / 1_000_000
            )));
        }
    }
    Ok(())
}

fn run_json(run: &crate::store::RunRow) -> Value {
    let stored: Option<StoredReport> = run
        .report
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok());
    let (report, artifacts, notifications) = match stored {
        Some(s) => {
            let artifacts: Vec<Value> = s
                .report
                .get("photos")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|p| {
                    let photo = p.get("file").cloned().unwrap_or(Value::Null);
                    p.get("artifacts")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(move |a| {
                            let name = a.get("name").and_then(Value::as_str).unwrap_or("");
                            json!({
                                "photo": photo,
                                "name": name,
                                "mime": a.get("mime"),
                                "bytes": a.get("size"),
                                "url": format!("/api/v1/runs/{}/artifacts/{}", run.id, name),
                            })
                        })
                })
                .collect();
            (s.report, artifacts, s.notifications)
        }
        None => (Value::Null, Vec::new(), Vec::new()),
    };
    json!({
        "id": run.id,
        "workflow_id": run.workflow_id,
        "revision": run.revision,
        "source": run.source,
        "status": run.status,
        "attempts": run.attempts,
        "error": run.error,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "report": report,
        "artifacts": artifacts,
        "notifications": notifications,
    })
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let run = state
        .store
        .run(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the run"))?;
    Ok(Json(run_json(&run)))
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let runs = state.store.runs_of(&auth.workspace_id, &id).await?;
    let items: Vec<Value> = runs
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "status": r.status, "source": r.source, "revision": r.revision,
                "attempts": r.attempts, "error": r.error,
                "created_at": r.created_at, "updated_at": r.updated_at,
            })
        })
        .collect();
    Ok(Json(json!({ "runs": items })))
}

pub async fn artifact(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let run = state
        .store
        .run(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the run"))?;
    let v = run_json(&run);
    let found = v["artifacts"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["name"] == name.as_str()))
        .cloned()
        .ok_or_else(|| ApiError::not_found(&format!("the file {name:?} in this run")))?;
    let bytes = state
        .objects
        .get(&crate::queue::artifact_key(&run.id, &name))
        .await
        .map_err(ApiError::internal)?;
    let mime = found["mime"]
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_string();
    let mut resp = bytes.into_response();
    if let Ok(v) = HeaderValue::from_str(&mime) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}
