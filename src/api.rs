//! The client of Shotline's REST API (`docs/api.md`), same origin as the app.
//!
//! Every failure becomes an [`ApiError`] whose `Display` is a sentence for merchants: the
//! server's own `{"error": {"code", "message"}}` message where there is one.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shotline_core::Workflow;

const BASE: &str = "/api/v1";

/// A workspace access token (`ws_….<secret>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token(pub String);

/// Why a request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The server could not be reached at all.
    Network(String),
    /// The server answered with an error status.
    Status {
        status: u16,
        code: String,
        message: String,
        /// The whole body: a 412 carries the server's current record beside the error.
        body: serde_json::Value,
    },
    /// The server answered, but not with what this version of the app understands.
    Unexpected(String),
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Status { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Network(e) => write!(
                f,
                "Could not reach the Shotline server ({e}). Check your connection and try again."
            ),
            ApiError::Status {
                status, message, ..
            } if message.is_empty() => write!(f, "The server answered with an error ({status})."),
            ApiError::Status { message, .. } => f.write_str(message),
            ApiError::Unexpected(e) => write!(f, "The server's answer was not understood: {e}"),
        }
    }
}

/// `POST /workspaces`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewWorkspace {
    pub workspace_id: String,
    pub token: String,
}

/// `GET /workspace`.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkspaceInfo {
    pub workspace_id: String,
}

/// One entry of `GET /workflows`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Summary {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub revision: u64,
    #[serde(default)]
    pub updated_at: f64,
}

/// A workflow record as the server keeps it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub revision: u64,
    #[serde(default)]
    pub updated_at: f64,
    #[serde(deserialize_with = "document")]
    pub workflow: Workflow,
}

/// `GET /shared/{slug}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Shared {
    pub slug: String,
    #[serde(default)]
    pub name: String,
    pub revision: u64,
    #[serde(deserialize_with = "document")]
    pub workflow: Workflow,
}

/// A share link of a workflow.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Share {
    pub slug: String,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub created_at: f64,
}

/// What a `PUT` of a workflow can come back with besides success.
#[derive(Debug, Clone, PartialEq)]
pub enum PutError {
    /// Someone saved a newer revision first; this is the server's record now.
    Conflict(Box<Record>),
    Failed(ApiError),
}

/// Documents from the server go through the engine's parser (migration, unknown fields).
fn document<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Workflow, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    shotline_core::validate::parse(&v.to_string()).map_err(serde::de::Error::custom)
}

fn url(path: &str) -> String {
    format!("{BASE}{path}")
}

fn authed(req: RequestBuilder, token: &Token) -> RequestBuilder {
    req.header("Authorization", &format!("Bearer {}", token.0))
}

async fn send(req: Result<Request, gloo_net::Error>) -> Result<Response, ApiError> {
    let req = req.map_err(|e| ApiError::Unexpected(e.to_string()))?;
    let resp = req
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if resp.ok() {
        return Ok(resp);
    }
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
    let field = |k: &str| {
        body.pointer(&format!("/error/{k}"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    Err(ApiError::Status {
        status,
        code: field("code"),
        message: field("message"),
        body,
    })
}

async fn json<T: DeserializeOwned>(resp: Response) -> Result<T, ApiError> {
    resp.json::<T>()
        .await
        .map_err(|e| ApiError::Unexpected(e.to_string()))
}

pub async fn create_workspace() -> Result<NewWorkspace, ApiError> {
    let resp = send(
        Request::post(&url("/workspaces"))
            .header("Content-Type", "application/json")
            .body("{}"),
    )
    .await?;
    json(resp).await
}

pub async fn workspace(token: &Token) -> Result<WorkspaceInfo, ApiError> {
    json(send(authed(Request::get(&url("/workspace")), token).build()).await?).await
}

pub async fn list_workflows(token: &Token) -> Result<Vec<Summary>, ApiError> {
    #[derive(Deserialize)]
    struct List {
        workflows: Vec<Summary>,
    }
    let list: List =
        json(send(authed(Request::get(&url("/workflows")), token).build()).await?).await?;
    Ok(list.workflows)
}

pub async fn get_workflow(token: &Token, id: &str) -> Result<Record, ApiError> {
    json(send(authed(Request::get(&url(&format!("/workflows/{id}"))), token).build()).await?).await
}

pub async fn create_workflow(token: &Token, wf: &Workflow) -> Result<Record, ApiError> {
    json(send(authed(Request::post(&url("/workflows")), token).json(wf)).await?).await
}

/// `PUT` with `If-Match` = the revision this edit started from.
pub async fn update_workflow(
    token: &Token,
    id: &str,
    wf: &Workflow,
    base_revision: u64,
) -> Result<Record, PutError> {
    let req = authed(Request::put(&url(&format!("/workflows/{id}"))), token)
        .header("If-Match", &format!("\"{base_revision}\""))
        .json(wf);
    match send(req).await {
        Ok(resp) => json(resp).await.map_err(PutError::Failed),
        Err(ApiError::Status {
            status: 412, body, ..
        }) if body.get("current").is_some() => {
            let current = body.get("current").cloned().unwrap_or_default();
            Err(serde_json::from_value::<Record>(current)
                .map(|r| PutError::Conflict(Box::new(r)))
                .unwrap_or_else(|e| PutError::Failed(ApiError::Unexpected(e.to_string()))))
        }
        Err(e) => Err(PutError::Failed(e)),
    }
}

pub async fn delete_workflow(token: &Token, id: &str) -> Result<(), ApiError> {
    send(authed(Request::delete(&url(&format!("/workflows/{id}"))), token).build())
        .await
        .map(|_| ())
}

pub async fn create_share(token: &Token, workflow_id: &str) -> Result<Share, ApiError> {
    let req = authed(
        Request::post(&url(&format!("/workflows/{workflow_id}/shares"))),
        token,
    )
    .header("Content-Type", "application/json")
    .body("{}");
    json::<Share>(send(req).await?).await
}

pub async fn list_shares(token: &Token, workflow_id: &str) -> Result<Vec<Share>, ApiError> {
    #[derive(Deserialize)]
    struct List {
        shares: Vec<Share>,
    }
    let req = authed(
        Request::get(&url(&format!("/workflows/{workflow_id}/shares"))),
        token,
    );
    let list: List = json(send(req.build()).await?).await?;
    Ok(list.shares)
}

pub async fn delete_share(token: &Token, slug: &str) -> Result<(), ApiError> {
    send(authed(Request::delete(&url(&format!("/shares/{slug}"))), token).build())
        .await
        .map(|_| ())
}

/// A shared workflow, read without a token.
pub async fn shared(slug: &str) -> Result<Shared, ApiError> {
    let slug = String::from(js_sys::encode_uri_component(slug));
    json(send(Request::get(&url(&format!("/shared/{slug}"))).build()).await?).await
}
