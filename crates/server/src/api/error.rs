//! One error type for every API failure, one JSON shape: `{"error": {"code", "message"}}`, plus
//! extractors whose rejections use that same shape. Internal details go to the log only.

use crate::store::StoreError;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra top-level fields (the current record of a 412).
    pub extra: Option<(&'static str, Value)>,
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: None,
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} was not found"),
        )
    }

    /// Maps a store lookup's `NotFound` to a 404 naming `what` ("the workflow"), and any other
    /// store error as usual: `.map_err(ApiError::or_not_found("the run"))`.
    pub fn or_not_found(what: &str) -> impl FnOnce(StoreError) -> ApiError + '_ {
        move |e| match e {
            StoreError::NotFound => ApiError::not_found(what),
            other => other.into(),
        }
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
    }

    /// An internal failure: logged with its detail, answered without it.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; it has been logged — try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": { "code": self.code, "message": self.message } });
        if let (Some((k, v)), Some(obj)) = (self.extra, body.as_object_mut()) {
            obj.insert(k.to_string(), v);
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::not_found("that item"),
            StoreError::Conflict(current) => {
                let mut err = ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "revision_conflict",
                    format!(
                        "the workflow changed since you loaded it: it is now at revision {}; \
                         reload it (its current version is in `current`) and apply your edit again",
                        current.revision
                    ),
                );
                err.extra = Some(("current", super::workflows::record_json(&current)));
                err
            }
            other => ApiError::internal(other),
        }
    }
}

/// The raw request body, with a JSON error when it is over the route's size limit.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(Body(b)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::too_large(
                format!("the request body is too large: {}", e.body_text()),
            )),
            Err(e) => Err(ApiError::bad_request("bad_body", e.body_text())),
        }
    }
}

/// Parses a JSON body into `T`, naming the path of a field of the wrong type.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body is empty; send a JSON document",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid: {e}"),
        )
    })
}
