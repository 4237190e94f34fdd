//! Store webhooks. A hook belongs to a workflow and has a secret; a delivery must be signed with it
//! (Shopify's `X-Shopify-Hmac-Sha256`, or Shotline's `X-Shotline-Signature`). A delivery is
//! answered at once with a queued run; image URLs are fetched by the worker, not here. A repeated
//! delivery id (`X-Shopify-Webhook-Id`, `Idempotency-Key`) answers with the first run's id.

use super::error::{ApiError, ApiResult, Body};
use super::{new_id, AppState, Auth};
use crate::objects::safe_name;
use crate::queue::{PhotoRef, RunInput};
use crate::store::HookRow;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHook {
    kind: String,
    #[serde(default)]
    secret: Option<String>,
}

/// `POST /workflows/{id}/hooks`.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(body): Body,
) -> ApiResult<Response> {
    let req: NewHook = super::error::parse_json(&body)?;
    if req.kind != "generic" && req.kind != "shopify" {
        return Err(ApiError::bad_request(
            "bad_kind",
            format!(
                "`kind` must be \"generic\" or \"shopify\", not {:?}",
                req.kind
            ),
        ));
    }
    let secret = match req.secret {
        Some(s) if s.trim().len() < 8 => {
            return Err(ApiError::bad_request(
                "weak_secret",
                "the secret must be at least 8 characters (Shopify shows it under Notifications → Webhooks)",
            ))
        }
        Some(s) => s.trim().to_string(),
        None => crate::signature::random_token(24),
    };
    let wf = state
        .store
        .workflow(&auth.workspace_id, &id)
        .await
        .map_err(ApiError::or_not_found("the workflow"))?;
    let hook = HookRow {
        id: new_id("hk_"),
        workspace_id: auth.workspace_id.clone(),
        workflow_id: wf.id.clone(),
        kind: req.kind.clone(),
        secret: secret.clone(),
    };
    state.store.create_hook(&hook).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "hook_id": hook.id,
            "path": format!("/api/v1/hooks/{}", hook.id),
            "kind": hook.kind,
            "secret": secret,
        })),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericBody {
    #[serde(default)]
    images: Vec<GenericImage>,
    #[serde(default)]
    product: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericImage {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    base64: Option<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bad_signature(msg: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "bad_signature", msg)
}

/// `POST /hooks/{id}`.
pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Body(body): Body,
) -> ApiResult<Response> {
    let hook = state
        .store
        .hook(&id)
        .await
        .map_err(ApiError::or_not_found("that webhook"))?;
    let secret = hook.secret.as_bytes();
    let (delivery, kind) = if hook.kind == "shopify" {
        let sig = header(&headers, "x-shopify-hmac-sha256")
            .ok_or_else(|| bad_signature("the X-Shopify-Hmac-Sha256 header is missing"))?;
        if !crate::signature::verify_shopify(secret, &body, sig) {
            return Err(bad_signature(
                "the X-Shopify-Hmac-Sha256 signature does not match this webhook's secret",
            ));
        }
        (header(&headers, "x-shopify-webhook-id"), "shopify")
    } else {
        let sig = header(&headers, "x-shotline-signature").ok_or_else(|| {
            bad_signature(
                "the X-Shotline-Signature header is missing (sha256=<hex HMAC of the body>)",
            )
        })?;
        if !crate::signature::verify_shotline(secret, &body, sig) {
            return Err(bad_signature(
                "the X-Shotline-Signature does not match this webhook's secret",
            ));
        }
        (header(&headers, "idempotency-key"), "generic")
    };

    let run_id = new_id("run_");
    let input = match kind {
        "shopify" => shopify_input(&body)?,
        _ => generic_input(&state, &run_id, &body).await?,
    };
    if input.photos.is_empty() {
        return Err(ApiError::bad_request(
            "no_photos",
            "the webhook carries no images: nothing to run",
        ));
    }
    if input.photos.len() > state.config.max_photos_per_run {
        return Err(ApiError::too_large(format!(
            "the webhook carries {} images; a run takes at most {}",
            input.photos.len(),
            state.config.max_photos_per_run
        )));
    }
    if let Some(key) = delivery.filter(|k| !k.trim().is_empty()) {
        if let Some(first) = state
            .store
            .claim_delivery(&hook.id, key.trim(), &run_id)
            .await?
        {
            return Ok((
                StatusCode::OK,
                Json(json!({ "run_id": first, "duplicate": true })),
            )
                .into_response());
        }
    }
    // The run uses the workflow as it is now.
    let wf = state
        .store
        .workflow(&hook.workspace_id, &hook.workflow_id)
        .await
        .map_err(ApiError::or_not_found("this webhook's workflow"))?;
    state
        .store
        .enqueue_run(
            &run_id,
            &hook.workspace_id,
            &wf.id,
            wf.revision,
            &format!("webhook:{kind}"),
            &serde_json::to_string(&input).unwrap_or_default(),
        )
        .await?;
    state.wake.notify_one();
    tracing::info!(run = %run_id, hook = %hook.id, photos = input.photos.len(), "webhook run queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": run_id, "status": "queued" })),
    )
        .into_response())
}

fn shopify_input(body: &[u8]) -> ApiResult<RunInput> {
    let v: Value = super::error::parse_json(body)?;
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "invalid_json",
            "a Shopify product webhook body is a JSON object",
        ));
    }
    let (product, images) = shotline_core::products::from_shopify(&v);
    Ok(RunInput {
        photos: images
            .into_iter()
            .map(|i| PhotoRef {
                name: i.name,
                key: None,
                url: Some(i.url),
            })
            .collect(),
        products: BTreeMap::new(),
        product: Some(serde_json::to_value(&product.fields).unwrap_or(Value::Null)),
    })
}

async fn generic_input(state: &AppState, run_id: &str, body: &[u8]) -> ApiResult<RunInput> {
    let g: GenericBody = super::error::parse_json(body)?;
    let mut photos = Vec::new();
    for (i, img) in g.images.into_iter().enumerate() {
        let at = format!("images[{i}]");
        match (img.url, img.base64) {
            (Some(url), None) => {
                let name = img.name.unwrap_or_else(|| {
                    url.split('?')
                        .next()
                        .and_then(|u| u.rsplit('/').next())
                        .filter(|s| !s.is_empty())
                        .unwrap_or("image.jpg")
                        .to_string()
                });
                photos.push(PhotoRef {
                    name,
                    key: None,
                    url: Some(url),
                });
            }
            (None, Some(b64)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|e| {
                        ApiError::bad_request(
                            "invalid_image",
                            format!("{at}.base64 is not valid base64: {e}"),
                        )
                    })?;
                let name = img.name.unwrap_or_else(|| format!("image-{}.jpg", i + 1));
                if shotline_core::codec::sniff(&bytes).is_none() {
                    return Err(ApiError::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "not_an_image",
                        format!("{at} ({name}): the data is not a JPEG, PNG or WebP image"),
                    ));
                }
                let key = format!("runs/{run_id}/input/{}-{}", i + 1, safe_name(&name));
                state
                    .objects
                    .put(&key, bytes)
                    .await
                    .map_err(ApiError::internal)?;
                photos.push(PhotoRef {
                    name,
                    key: Some(key),
                    url: None,
                });
            }
            _ => {
                return Err(ApiError::bad_request(
                    "invalid_image",
                    format!("{at}: give either `url` or `base64` (with an optional `name`)"),
                ))
            }
        }
    }
    Ok(RunInput {
        photos,
        products: BTreeMap::new(),
        product: g.product,
    })
}
