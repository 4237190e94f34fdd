//! Workspaces, workflows (every write a revision; `PUT` guarded by `If-Match`), share links.

use super::error::{ApiError, ApiResult, Body};
use super::{new_id, AppState, Auth};
use crate::store::{StoreError, WorkflowRecord};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use shotline_core::Workflow;

/// A record as the API shows it: metadata plus the document.
pub fn record_json(r: &WorkflowRecord) -> Value {
    let doc: Value = serde_json::from_str(&r.doc).unwrap_or(Value::Null);
    json!({
        "id": r.id,
        "name": r.name,
        "revision": r.revision,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "workflow": doc,
    })
}

fn record_response(status: StatusCode, r: &WorkflowRecord) -> Response {
    let mut resp = (status, Json(record_json(r))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", r.revision)) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// Reads and validates a workflow document: refuses unknown fields, wrong types and invalid
/// parameters with the path of what to change. Returns it in the current schema.
pub fn read_workflow(bytes: &[u8]) -> ApiResult<Workflow> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("invalid_json", "the request body is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; send the workflow document as JSON",
        ));
    }
    let wf = Workflow::from_json(text)
        .map_err(|e| ApiError::bad_request("invalid_workflow", e.to_string()))?;
    shotline_core::engine::check(&wf).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_workflow",
            format!("the workflow has problems: {e}"),
        )
    })?;
    Ok(wf)
}

/// The document as stored: compact JSON in the current schema (older schemas are migrated on read).
fn stored_doc(wf: &Workflow) -> String {
    serde_json::to_string(wf).unwrap_or_default()
}

pub async fn create_workspace(State(state): State<AppState>) -> ApiResult<Response> {
    let id = new_id("ws_");
    let secret = crate::signature::random_token(32);
    state
        .store
        .create_workspace(&id, &crate::signature::token_hash(&secret))
        .await?;
    tracing::info!(workspace = %id, "workspace created");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "workspace_id": id,
            "token": format!("{id}.{secret}"),
            "note": "keep this token: it is shown once, and it is what connects another device",
        })),
    )
        .into_response())
}

pub async fn get_workspace(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let ws = state.store.workspace(&auth.workspace_id).await?;
    Ok(Json(
        json!({ "workspace_id": ws.id, "created_at": ws.created_at }),
    ))
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> ApiResult<Json<Value>> {
    let rows = state.store.list_workflows(&auth.workspace_id).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.id, "name": r.name, "revision": r.revision, "updated_at": r.updated_at})
        })
        .collect();
    Ok(Json(json!({ "workflows": items })))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Body(body): Body,
) -> ApiResult<Response> {
    let wf = read_workflow(&body)?;
    let rec = state
        .store
        .create_workflow(
            &auth.workspace_id,
            &new_id("wf_"),
            &wf.name,
            &stored_doc(&wf),
        )
        .await?;
    Ok(record_response(StatusCode::CREATED, &rec))
}

pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rec = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    Ok(record_response(StatusCode::OK, &rec))
}

/// `If-Match: "3"`, `If-Match: 3` or `W/"3"`.
fn if_match(headers: &HeaderMap) -> ApiResult<i64> {
    let raw = headers
        .get(header::IF_MATCH)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "send `If-Match` with the revision your edit started from (the ETag of the workflow you loaded)",
            )
        })?
        .to_str()
        .unwrap_or("");
    raw.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .parse::<i64>()
        .map_err(|_| {
            ApiError::bad_request(
                "bad_if_match",
                format!("`If-Match` must be a revision number such as \"3\", not {raw:?}"),
            )
        })
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let wf = read_workflow(&body)?;
    let rec = state
        .store
        .update_workflow(
            &auth.workspace_id,
            &id,
            expected,
            &wf.name,
            &stored_doc(&wf),
            "edited",
        )
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    Ok(record_response(StatusCode::OK, &rec))
}

pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .delete_workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn revisions(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let revs = state.store.revisions(&wf.id).await?;
    Ok(Json(json!({ "revisions": revs })))
}

fn parse_rev(rev: &str) -> ApiResult<i64> {
    rev.parse::<i64>().ok().filter(|r| *r > 0).ok_or_else(|| {
        ApiError::bad_request(
            "bad_revision",
            format!("a revision is a whole number from 1, not {rev:?}"),
        )
    })
}

pub async fn revision(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, rev)): Path<(String, String)>,
) -> ApiResult<Response> {
    let rev = parse_rev(&rev)?;
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let old = state
        .store
        .revision(&wf, rev)
        .await
        .map_err(ApiError::or_not_found(&format!(
            "revision {rev} of this workflow"
        )))?;
    Ok(record_response(StatusCode::OK, &old))
}

/// Restores an old revision as a new one, guarded like a `PUT` when `If-Match` is sent.
pub async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, rev)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let rev = parse_rev(&rev)?;
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let expected = match headers.get(header::IF_MATCH) {
        Some(_) => if_match(&headers)?,
        None => wf.revision,
    };
    let old = state
        .store
        .revision(&wf, rev)
        .await
        .map_err(ApiError::or_not_found(&format!(
            "revision {rev} of this workflow"
        )))?;
    let rec = state
        .store
        .update_workflow(
            &auth.workspace_id,
            &id,
            expected,
            &old.name,
            &old.doc,
            &format!("restored revision {rev}"),
        )
        .await?;
    Ok(record_response(StatusCode::OK, &rec))
}

pub async fn create_share(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let slug = crate::signature::random_token(9);
    let share = state.store.create_share(&slug, &wf).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "slug": share.slug,
            "path": format!("/s/{}", share.slug),
            "created_at": share.created_at,
        })),
    )
        .into_response())
}

pub async fn shares(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let rows = state.store.shares(&wf.id).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|s| json!({"slug": s.slug, "path": format!("/s/{}", s.slug), "created_at": s.created_at}))
        .collect();
    Ok(Json(json!({ "shares": items })))
}

pub async fn revoke_share(
    State(state): State<AppState>,
    auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store
        .revoke_share(&auth.workspace_id, &slug)
        .await
        .map_err(ApiError::or_not_found("that share link"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A shared workflow, read-only and without a token. Secrets in steps (a notify step's signing
/// secret) are removed; tokens and hook secrets are never in a document at all.
pub async fn shared(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let rec = state.store.shared(&slug).await.map_err(|e| match e {
        StoreError::NotFound => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this share link was revoked or does not exist",
        ),
        other => other.into(),
    })?;
    let mut doc: Value = serde_json::from_str(&rec.doc).unwrap_or(Value::Null);
    strip_secrets(&mut doc);
    let mut resp = Json(json!({
        "slug": slug,
        "name": rec.name,
        "revision": rec.revision,
        "workflow": doc,
    }))
    .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

/// Removes every `secret` field, wherever it is nested.
pub fn strip_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("secret");
            map.values_mut().for_each(strip_secrets);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_secrets),
        _ => {}
    }
}
