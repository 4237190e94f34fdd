//! The notify POST that tells a merchant's system a server-side run has finished.
//!
//! ```text
//! deliver
//!   check_target   same address rules as image fetches (fetch.rs): public hosts unless allowed
//!   sign           X-Shotline-Signature: sha256=<hex HMAC-SHA256(secret, exact body bytes)>
//!   POST           retried on network errors, timeouts, 5xx and 429 with exponential backoff;
//!                  any other 4xx is final (the receiver will not change its mind)
//! ```
//!
//! The notify URL is chosen by the workspace, not by the webhook sender, so the image host allow list
//! (`FetchPolicy::allowed_hosts`) does not apply to it; the private-address rule does, since a
//! workspace must not be able to make the server POST into its own network either.

use std::time::Duration;

use crate::fetch::{self, FetchError, FetchPolicy};
use crate::signature;

/// One notification to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub url: String,
    /// Signs the body when present; the receiver checks it with the same secret.
    pub secret: Option<String>,
    pub body: serde_json::Value,
}

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The URL was refused before anything was sent (bad address, private host, unknown host).
    #[error("notify address refused: {0}")]
    Refused(FetchError),
    /// The receiver answered with a 4xx other than 429: retrying would not help.
    #[error("{url}: the receiver rejected the notification with status {status}; check the notify URL and secret")]
    Rejected {
        url: String,
        status: u16,
        attempts: u32,
    },
    /// Every attempt failed with a transient error; `last` is the final one.
    #[error("notification not delivered after {attempts} attempts: {last}")]
    GaveUp { attempts: u32, last: FetchError },
}

/// Header carrying the body's signature, as documented for generic webhooks (docs/api.md).
pub const SIGNATURE_HEADER: &str = "X-Shotline-Signature";

/// POSTs `n.body` as JSON to `n.url`, trying up to `attempts` times (at least once), and returns
/// how many attempts it took.
///
/// The wait before retry k (k = 1, 2, …) is `base_delay * 2^(k-1)`; each attempt may take up to
/// `policy.timeout`. `client` is not used to send: the request needs a client pinned to the
/// checked address (see [`fetch::fetch`]).
pub async fn deliver(
    _client: &reqwest::Client,
    n: &Notification,
    policy: &FetchPolicy,
    attempts: u32,
    base_delay: Duration,
) -> Result<u32, NotifyError> {
    let attempts = attempts.max(1);
    let target = fetch::check_target(&n.url, policy.allow_private, &[])
        .await
        .map_err(NotifyError::Refused)?;
    let client = fetch::pinned_client(&target, policy.timeout).map_err(NotifyError::Refused)?;
    let url = target.url;

    // Signed and sent as these exact bytes, so the receiver verifies what it received.
    let body = n.body.to_string().into_bytes();
    let signature = n
        .secret
        .as_ref()
        .map(|secret| signature::sign_shotline(secret.as_bytes(), &body));

    let mut attempt = 1;
    loop {
        let mut request = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        let outcome = match tokio::time::timeout(policy.timeout, request.send()).await {
            Err(_) => Err(FetchError::Timeout {
                url: url.to_string(),
                timeout: policy.timeout,
            }),
            Ok(Err(e)) => Err(fetch::from_reqwest(&url, policy.timeout, &e)),
            Ok(Ok(response)) if response.status().is_success() => Ok(()),
            Ok(Ok(response)) => Err(FetchError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            }),
        };
        match outcome {
            Ok(()) => return Ok(attempt),
            Err(FetchError::Status { url, status }) if !is_retryable_status(status) => {
                return Err(NotifyError::Rejected {
                    url,
                    status,
                    attempts: attempt,
                });
            }
            Err(last) if attempt >= attempts => {
                return Err(NotifyError::GaveUp {
                    attempts: attempt,
                    last,
                })
            }
            Err(_) => {
                tokio::time::sleep(backoff(base_delay, attempt - 1)).await;
                attempt += 1;
            }
        }
    }
}

/// 5xx and 429 may pass later; everything else that is not a success is final, including 3xx
/// (redirects are not followed, for the same reason as in fetch.rs).
fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// `base * 2^n`, capped so a large `attempts` cannot overflow into a panic.
fn backoff(base: Duration, n: u32) -> Duration {
    base.saturating_mul(1u32 << n.min(20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::Router;

    #[derive(Default)]
    struct Received {
        calls: u32,
        body: Vec<u8>,
        signature: Option<String>,
        content_type: Option<String>,
    }

    type Shared = Arc<Mutex<Received>>;

    /// Fails the first two calls with 503, then accepts and records what arrived.
    async fn flaky(
        State(seen): State<Shared>,
        headers: HeaderMap,
        body: bytes::Bytes,
    ) -> StatusCode {
        let mut seen = seen.lock().expect("lock");
        seen.calls += 1;
        if seen.calls <= 2 {
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        seen.body = body.to_vec();
        seen.signature = header(SIGNATURE_HEADER);
        seen.content_type = header("content-type");
        StatusCode::NO_CONTENT
    }

    async fn reject(State(seen): State<Shared>) -> StatusCode {
        seen.lock().expect("lock").calls += 1;
        StatusCode::BAD_REQUEST
    }

    async fn serve() -> (std::net::SocketAddr, Shared) {
        let seen = Shared::default();
        let app = Router::new()
            .route("/flaky", post(flaky))
            .route("/reject", post(reject))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr, seen)
    }

    fn local() -> FetchPolicy {
        FetchPolicy {
            allow_private: true,
            timeout: Duration::from_secs(5),
            ..FetchPolicy::default()
        }
    }

    /// A receiver that answers 503 twice gets the notification on the third attempt, signed so it verifies.
    #[tokio::test]
    async fn retries_until_delivered_and_signs() {
        let (addr, seen) = serve().await;
        let n = Notification {
            url: format!("http://{addr}/flaky"),
            secret: Some("s3cret".into()),
            body: serde_json::json!({"run_id": "run_1", "status": "done"}),
        };
        let used = deliver(
            &reqwest::Client::new(),
            &n,
            &local(),
            5,
            Duration::from_millis(10),
        )
        .await
        .expect("delivered");
        assert_eq!(used, 3);
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.calls, 3);
        let body: serde_json::Value = serde_json::from_slice(&seen.body).expect("json body");
        assert_eq!(body, n.body);
        let signature = seen.signature.as_deref().expect("signature header");
        assert!(signature::verify_shotline(b"s3cret", &seen.body, signature));
        assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    }

    /// Without a secret the notification is sent unsigned.
    #[tokio::test]
    async fn no_secret_sends_no_signature() {
        let (addr, seen) = serve().await;
        let n = Notification {
            url: format!("http://{addr}/flaky"),
            secret: None,
            body: serde_json::json!({"ok": true}),
        };
        deliver(
            &reqwest::Client::new(),
            &n,
            &local(),
            3,
            Duration::from_millis(1),
        )
        .await
        .expect("delivered");
        assert_eq!(seen.lock().expect("lock").signature, None);
    }

    /// Running out of attempts against a failing receiver reports the last failure.
    #[tokio::test]
    async fn gives_up_after_the_allowed_attempts() {
        let (addr, seen) = serve().await;
        let n = Notification {
            url: format!("http://{addr}/flaky"),
            secret: None,
            body: serde_json::json!({}),
        };
        let err = deliver(
            &reqwest::Client::new(),
            &n,
            &local(),
            2,
            Duration::from_millis(1),
        )
        .await
        .expect_err("two 503s");
        assert!(
            matches!(
                err,
                NotifyError::GaveUp {
                    attempts: 2,
                    last: FetchError::Status { status: 503, .. }
                }
            ),
            "{err:?}"
        );
        assert_eq!(seen.lock().expect("lock").calls, 2);
    }

    /// A 400 answer is final: one attempt, no retries.
    #[tokio::test]
    async fn client_error_is_not_retried() {
        let (addr, seen) = serve().await;
        let n = Notification {
            url: format!("http://{addr}/reject"),
            secret: Some("s".into()),
            body: serde_json::json!({}),
        };
        let err = deliver(
            &reqwest::Client::new(),
            &n,
            &local(),
            5,
            Duration::from_millis(1),
        )
        .await
        .expect_err("400");
        assert!(
            matches!(
                err,
                NotifyError::Rejected {
                    status: 400,
                    attempts: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(seen.lock().expect("lock").calls, 1);
    }

    /// A loopback notify URL is refused under the default policy, before anything is sent.
    #[tokio::test]
    async fn private_address_is_refused_by_default() {
        let (addr, seen) = serve().await;
        let n = Notification {
            url: format!("http://{addr}/flaky"),
            secret: None,
            body: serde_json::json!({}),
        };
        let err = deliver(
            &reqwest::Client::new(),
            &n,
            &FetchPolicy::default(),
            3,
            Duration::from_millis(1),
        )
        .await
        .expect_err("private");
        assert!(
            matches!(err, NotifyError::Refused(FetchError::PrivateAddress { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("private address"), "{err}");
        assert_eq!(seen.lock().expect("lock").calls, 0);
    }

    /// The backoff doubles from the base delay and saturates instead of overflowing.
    #[test]
    fn backoff_doubles() {
        let base = Duration::from_millis(100);
        assert_eq!(backoff(base, 0), Duration::from_millis(100));
        assert_eq!(backoff(base, 1), Duration::from_millis(200));
        assert_eq!(backoff(base, 3), Duration::from_millis(800));
        assert!(backoff(Duration::MAX, 40) == Duration::MAX);
    }
}
