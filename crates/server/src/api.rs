//! The REST API under `/api/v1` (docs/api.md; `openapi.json` beside this file).
//!
//! ```text
//! error      ApiError (one JSON shape for every failure) and the body extractor
//! workflows  workspaces, workflows with revisions and If-Match, share links
//! runs       server-side runs: upload, status, artifacts, history
//! hooks      store webhooks (Shopify and generic), signed and idempotent
//! ```

pub mod error;
pub mod hooks;
pub mod runs;
pub mod workflows;

use crate::fetch::FetchPolicy;
use crate::objects::Objects;
use crate::store::{now_ms, Store};
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use error::ApiError;
use std::sync::Arc;
use std::time::Duration;

/// Limits and tunables; every one has a flag or an environment variable (cli.rs).
#[derive(Debug, Clone)]
pub struct Config {
    /// Largest JSON body (workflow documents, webhook payloads), bytes.
    pub max_json_bytes: usize,
    /// Largest multipart upload of a run, bytes.
    pub max_upload_bytes: usize,
    pub max_photos_per_run: usize,
    /// Largest photo, pixels (checked from the header before decoding).
    pub max_photo_pixels: u64,
    /// Requests per token per minute.
    pub rate_per_minute: i64,
    pub fetch: FetchPolicy,
    /// Runs worked at once by this process.
    pub workers: usize,
    /// How long a claimed run stays this process's without a heartbeat.
    pub lease: Duration,
    pub max_attempts: i64,
    /// First retry delay; doubles with each attempt.
    pub retry_base: Duration,
    /// On shutdown, how long running jobs may take to finish before they are re-queued.
    pub shutdown_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_json_bytes: 1024 * 1024,
            max_upload_bytes: 200 * 1024 * 1024,
            max_photos_per_run: 50,
            max_photo_pixels: 100_000_000,
            rate_per_minute: 1200,
            fetch: FetchPolicy::default(),
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            lease: Duration::from_secs(30),
            max_attempts: 5,
            retry_base: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// What every handler and worker shares. Nothing here is state another process would need: the
/// database and the object store hold it all.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub objects: Objects,
    pub config: Arc<Config>,
    pub http: reqwest::Client,
    /// Wakes this process's workers when a run is queued here (others poll).
    pub wake: Arc<tokio::sync::Notify>,
    /// The neural cut-out model, loaded once at start; `None` when it is not installed
    /// (`remove_background` then uses the colour key, and `method: neural` fails clearly).
    pub segmenter: Option<Arc<shotline_cutout::Cutout>>,
}

impl AppState {
    pub fn new(store: Store, objects: Objects, config: Config) -> AppState {
        AppState {
            store,
            objects,
            config: Arc::new(config),
            http: reqwest::Client::new(),
            wake: Arc::new(tokio::sync::Notify::new()),
            segmenter: None,
        }
    }

    /// The same state with the neural cut-out model.
    pub fn with_segmenter(mut self, segmenter: Option<Arc<shotline_cutout::Cutout>>) -> AppState {
        self.segmenter = segmenter;
        self
    }
}

/// The API router, mounted at `/api/v1` by [`crate::web::router`].
pub fn router(state: AppState) -> Router {
    let json_limit = state.config.max_json_bytes;
    let upload_limit = state.config.max_upload_bytes;
    Router::new()
        .route("/workspaces", post(workflows::create_workspace))
        .route("/workspace", get(workflows::get_workspace))
        .route("/workflows", get(workflows::list).post(workflows::create))
        .route(
            "/workflows/{id}",
            get(workflows::get_one)
                .put(workflows::update)
                .delete(workflows::remove),
        )
        .route("/workflows/{id}/revisions", get(workflows::revisions))
        .route("/workflows/{id}/revisions/{rev}", get(workflows::revision))
        .route(
            "/workflows/{id}/revisions/{rev}/restore",
            post(workflows::restore),
        )
        .route(
            "/workflows/{id}/shares",
            get(workflows::shares).post(workflows::create_share),
        )
        .route("/shares/{slug}", delete(workflows::revoke_share))
        .route("/shared/{slug}", get(workflows::shared))
        .route(
            "/workflows/{id}/runs",
            get(runs::list)
                .post(runs::create)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/runs/{id}", get(runs::get_one))
        .route("/runs/{id}/artifacts/{name}", get(runs::artifact))
        .route("/workflows/{id}/hooks", post(hooks::create))
        // Generic webhooks may carry base64 photos.
        .route(
            "/hooks/{id}",
            post(hooks::receive).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/openapi.json", get(openapi))
        .route("/docs", get(docs))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such API endpoint; see /api/v1/docs",
            )
        })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method; see /api/v1/docs",
            )
        })
        .layer(DefaultBodyLimit::max(json_limit))
        .with_state(state)
}

const OPENAPI: &str = include_str!("api/openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn docs() -> Html<&'static str> {
    Html(include_str!("api/api-docs.html"))
}

/// The workspace a request acts for, from `Authorization: Bearer <workspace id>.<secret>`.
/// The secret's hash is compared in constant time; each request counts against the token's
/// per-minute budget.
pub struct Auth {
    pub workspace_id: String,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |code, msg: &str| ApiError::new(StatusCode::UNAUTHORIZED, code, msg);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| {
                unauthorized(
                    "unauthorized",
                    "this needs your workspace token: send `Authorization: Bearer <token>`",
                )
            })?
            .to_str()
            .unwrap_or("");
        let invalid = || {
            unauthorized(
                "invalid_token",
                "the workspace token is not valid; copy it again from a device that is connected",
            )
        };
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(invalid)?
            .trim();
        let (id, secret) = token.split_once('.').ok_or_else(invalid)?;
        let ws = match state.store.workspace(id).await {
            Ok(ws) => ws,
            Err(crate::store::StoreError::NotFound) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        };
        let hash = crate::signature::token_hash(secret);
        if !crate::signature::constant_time_eq(hash.as_bytes(), ws.token_hash.as_bytes()) {
            return Err(invalid());
        }
        let now = now_ms();
        let window = now - now % 60_000;
        let hits = state.store.hit_rate_window(&ws.id, window).await?;
        if hits > state.config.rate_per_minute {
            let mut err = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many requests: the limit is {} a minute for a workspace token; wait a moment",
                    state.config.rate_per_minute
                ),
            );
            err.retry_after = Some(((window + 60_000 - now) / 1000 + 1) as u64);
            return Err(err);
        }
        Ok(Auth {
            workspace_id: ws.id,
        })
    }
}

/// `GET /healthz`: the process is up and its database answers.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// A fresh id with a readable prefix (`wf_`, `run_`, ...): 16 random URL-safe characters.
pub fn new_id(prefix: &str) -> String {
    let r = crate::signature::random_token(12);
    format!("{prefix}{r}")
}
