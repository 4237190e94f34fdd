//! A careful HTTP fetcher for image URLs that arrive in webhook payloads.
//!
//! ```text
//! fetch(url)
//!   check_target   http/https only, host in allowed_hosts, every resolved address public
//!   pinned_client  a client that can only connect to the addresses just checked, no redirects, no proxy
//!   read           Content-Length and the streamed body both held to max_bytes, all within timeout
//! ```
//!
//! The URLs come from whoever can sign a webhook, so the server must not become a way to reach
//! its own network (cloud metadata at 169.254.169.254, databases on 10.x, admin ports on loopback).
//! Checking the address is not enough on its own: a second DNS lookup by the HTTP client could
//! return another address (DNS rebinding), so the client is pinned to the checked addresses, and
//! redirects are refused because they would lead to a host nobody checked.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

/// Limits for one fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// The most bytes of body accepted.
    pub max_bytes: u64,
    /// The time allowed for the whole fetch: lookup, connection, headers and body.
    pub timeout: Duration,
    /// Allows loopback, private and other non-public addresses (for tests and closed networks).
    pub allow_private: bool,
    /// When not empty, the only host names accepted (exact, case-insensitive); empty = any public host.
    pub allowed_hosts: Vec<String>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            // Marketplace photo uploads top out around 20 MB; a little headroom over that.
            max_bytes: 25 * 1024 * 1024,
            timeout: Duration::from_secs(20),
            allow_private: false,
            allowed_hosts: Vec::new(),
        }
    }
}

/// A fetched image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    /// The URL's last path segment (percent-decoded when that gives a plain name), or `image`.
    pub name: String,
    /// The response's `Content-Type`, as sent.
    pub content_type: Option<String>,
}

/// Why an image could not be fetched; each message names the URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("{url}: not a valid web address ({detail})")]
    BadUrl { url: String, detail: String },
    #[error("{url}: only http:// and https:// addresses can be fetched")]
    Scheme { url: String },
    #[error("{url}: the host {host} is not one of the allowed image hosts")]
    HostNotAllowed { url: String, host: String },
    #[error(
        "{url}: the host points to the private address {ip}; only public hosts can be fetched"
    )]
    PrivateAddress { url: String, ip: IpAddr },
    #[error("{url}: the host name could not be found ({detail})")]
    Resolve { url: String, detail: String },
    #[error("{url}: no complete answer within {}", Millis(*timeout))]
    Timeout { url: String, timeout: Duration },
    #[error("{url}: the file is larger than the limit of {}", Size(*limit))]
    TooLarge { url: String, limit: u64 },
    #[error("{url}: the server answered {status}{}", status_hint(*status))]
    Status { url: String, status: u16 },
    #[error("{url}: the connection failed ({detail})")]
    Network { url: String, detail: String },
}

impl FetchError {
    /// Whether trying again later may succeed: timeouts, network failures, 5xx and 429 answers.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Timeout { .. } | FetchError::Network { .. } => true,
            FetchError::Status { status, .. } => *status == 429 || (500..600).contains(status),
            _ => false,
        }
    }
}

fn status_hint(status: u16) -> &'static str {
    match status {
        300..=399 => " (a redirect; redirects are not followed, give the final address)",
        404 | 410 => " (not found)",
        401 | 403 => " (access denied; the file must be publicly readable)",
        429 => " (too many requests)",
        _ => "",
    }
}

struct Millis(Duration);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_millis() == 0 {
            write!(f, "{} s", self.0.as_secs())
        } else {
            write!(f, "{} ms", self.0.as_millis())
        }
    }
}

struct Size(u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const KB: u64 = 1024;
        const MB: u64 = 1024 * 1024;
        match self.0 {
            n if n >= MB && n % MB == 0 => write!(f, "{} MB", n / MB),
            n if n >= KB && n % KB == 0 => write!(f, "{} KB", n / KB),
            n => write!(f, "{n} bytes"),
        }
    }
}

/// Whether `ip` is a public unicast address, one an outside image host could have.
///
/// Refused: unspecified, loopback, private (RFC 1918), shared/CGNAT (RFC 6598), link-local (which
/// holds cloud metadata services), multicast, broadcast, reserved, benchmarking and documentation
/// ranges; for IPv6 also unique-local, link-local, site-local and discard-only, and any IPv6 form
/// that embeds an IPv4 address (mapped, NAT64, 6to4) is judged by that IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", including 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space, RFC 6598
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments, RFC 6890
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1, RFC 5737
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, RFC 2544
        || a >= 224; // multicast 224/4, reserved 240/4 and broadcast 255.255.255.255
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    let refused = ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // deprecated site-local fec0::/10
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation, RFC 3849
        || (s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0); // discard-only, RFC 6666
    !refused
}

/// The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or
/// 6to4 (2002:AABB:CCDD::) address: a connection to those reaches the IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low =
        |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if let Some(v4) = ip.to_ipv4_mapped() {
        Some(v4)
    } else if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        Some(low(s[6], s[7]))
    } else if s[0] == 0x2002 {
        Some(low(s[1], s[2]))
    } else {
        None
    }
}

/// A URL that passed the checks, with the addresses its host resolved to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub url: Url,
    /// The host name to pin, or `None` when the URL names an IP address (nothing to resolve).
    domain: Option<String>,
    addrs: Vec<SocketAddr>,
}

/// Parses `raw` and checks its scheme, its host against `allowed_hosts` (when not empty) and,
/// unless `allow_private`, every address the host resolves to.
///
/// Every address must be public, not just one: a host that also points into a private network
/// is treated as hostile.
pub(crate) async fn check_target(
    raw: &str,
    allow_private: bool,
    allowed_hosts: &[String],
) -> Result<Target, FetchError> {
    let url = Url::parse(raw.trim()).map_err(|e| FetchError::BadUrl {
        url: raw.to_owned(),
        detail: e.to_string(),
    })?;
    let shown = url.as_str().to_owned();
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Scheme { url: shown });
    }
    let (host, port) = match (url.host(), url.port_or_known_default()) {
        (Some(host), Some(port)) => (host.to_owned(), port),
        _ => {
            return Err(FetchError::BadUrl {
                url: shown,
                detail: "no host".into(),
            });
        }
    };
    if !allowed_hosts.is_empty() {
        // `Host`'s Display gives the form people write: brackets around IPv6.
        let name = host.to_string();
        let bare = name.trim_end_matches('.');
        if !allowed_hosts.iter().any(|allowed| {
            allowed
                .trim()
                .trim_end_matches('.')
                .eq_ignore_ascii_case(bare)
        }) {
            return Err(FetchError::HostNotAllowed {
                url: shown,
                host: name,
            });
        }
    }
    let (domain, addrs) = match host {
        Host::Ipv4(ip) => (None, vec![SocketAddr::new(ip.into(), port)]),
        Host::Ipv6(ip) => (None, vec![SocketAddr::new(ip.into(), port)]),
        Host::Domain(name) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), port))
                .await
                .map_err(|e| FetchError::Resolve {
                    url: shown.clone(),
                    detail: e.to_string(),
                })?
                .collect();
            if addrs.is_empty() {
                return Err(FetchError::Resolve {
                    url: shown,
                    detail: "no addresses".into(),
                });
            }
            (Some(name), addrs)
        }
    };
    if !allow_private {
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(FetchError::PrivateAddress {
                url: shown,
                ip: bad.ip(),
            });
        }
    }
    Ok(Target { url, domain, addrs })
}

/// A client that connects only to `target`'s checked addresses, follows no redirects and
/// ignores proxy settings (a proxy would resolve the host again, out of our sight).
pub(crate) fn pinned_client(
    target: &Target,
    timeout: Duration,
) -> Result<reqwest::Client, FetchError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("Shotline/", env!("CARGO_PKG_VERSION")));
    if let Some(domain) = &target.domain {
        builder = builder.resolve_to_addrs(domain, &target.addrs);
    }
    builder.build().map_err(|e| FetchError::Network {
        url: target.url.to_string(),
        detail: root_cause(&e),
    })
}

/// The innermost cause of a reqwest error ("Connection refused (os error 111)"), which is what
/// tells a merchant what happened; the outer layers only repeat the URL.
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// A reqwest failure as a [`FetchError`].
pub(crate) fn from_reqwest(url: &Url, timeout: Duration, err: &reqwest::Error) -> FetchError {
    if err.is_timeout() {
        FetchError::Timeout {
            url: url.to_string(),
            timeout,
        }
    } else {
        FetchError::Network {
            url: url.to_string(),
            detail: root_cause(err),
        }
    }
}

/// Fetches `url` under `policy`.
///
/// `client` is not used to send the request: pinning the checked addresses needs a client of its
/// own per request (reqwest resolves per client, not per request). It stays in the signature so
/// callers need not change when pooling is added.
pub async fn fetch(
    _client: &reqwest::Client,
    url: &str,
    policy: &FetchPolicy,
) -> Result<Fetched, FetchError> {
    let limit = policy.timeout;
    match tokio::time::timeout(limit, fetch_unbounded(url, policy)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout {
            url: url.trim().to_owned(),
            timeout: limit,
        }),
    }
}

async fn fetch_unbounded(raw: &str, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let target = check_target(raw, policy.allow_private, &policy.allowed_hosts).await?;
    let client = pinned_client(&target, policy.timeout)?;
    let url = &target.url;
    let too_large = || FetchError::TooLarge {
        url: url.to_string(),
        limit: policy.max_bytes,
    };

    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| from_reqwest(url, policy.timeout, &e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
        });
    }
    let declared = response.content_length();
    if declared.is_some_and(|n| n > policy.max_bytes) {
        return Err(too_large());
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    // Content-Length is only a claim: the streamed body is counted as well.
    let capacity = declared.unwrap_or(0).min(policy.max_bytes);
    let mut bytes = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| from_reqwest(url, policy.timeout, &e))?
    {
        if bytes.len() as u64 + chunk.len() as u64 > policy.max_bytes {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        bytes,
        name: file_name(url),
        content_type,
    })
}

/// The URL's last path segment, decoded when that gives a plain file name, else `image`.
fn file_name(url: &Url) -> String {
    let segment = url
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or("");
    if segment.is_empty() {
        return "image".into();
    }
    match percent_decode(segment) {
        Some(name) if is_plain_name(&name) => name,
        // An encoded slash, dot-dot or control character: keep the encoded form, which has none.
        _ => segment.to_owned(),
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
}

fn percent_decode(s: &str) -> Option<String> {
    let raw = s.as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::response::{IntoResponse, Redirect};
    use axum::routing::get;
    use axum::Router;

    /// The 8-byte PNG signature and an IHDR chunk header: enough to stand for "a small image".
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01";
    const BIG: usize = 3 * 1024 * 1024;
    const MB: u64 = 1024 * 1024;

    async fn serve() -> SocketAddr {
        let app = Router::new()
            .route(
                "/img/photo%20one.png",
                get(|| async { ([("content-type", "image/png")], PNG) }),
            )
            .route("/big", get(|| async { vec![0u8; BIG] }))
            .route(
                "/stream",
                get(|| async {
                    // A body of unknown length: no Content-Length to refuse early on.
                    let chunks = (0..48)
                        .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![7u8; 64 * 1024])));
                    Body::from_stream(futures::stream::iter(chunks))
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    PNG
                }),
            )
            .route(
                "/redirect",
                get(|| async { Redirect::temporary("/img/photo%20one.png") }),
            )
            .route(
                "/fail",
                get(|| async { axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response() }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    fn local() -> FetchPolicy {
        FetchPolicy {
            allow_private: true,
            ..FetchPolicy::default()
        }
    }

    /// A loopback URL is refused under the default policy, and the message says why.
    #[tokio::test]
    async fn loopback_is_refused_by_default() {
        let addr = serve().await;
        let url = format!("http://{addr}/img/photo%20one.png");
        let err = fetch(&reqwest::Client::new(), &url, &FetchPolicy::default())
            .await
            .expect_err("loopback must be refused");
        assert!(matches!(err, FetchError::PrivateAddress { .. }), "{err:?}");
        assert!(
            err.to_string().contains("private address 127.0.0.1"),
            "{err}"
        );
        assert!(!err.is_transient());
    }

    /// With private addresses allowed the image arrives intact, with its decoded name and content type.
    #[tokio::test]
    async fn allowed_private_fetch_returns_bytes() {
        let addr = serve().await;
        let url = format!("http://{addr}/img/photo%20one.png");
        let got = fetch(&reqwest::Client::new(), &url, &local())
            .await
            .expect("fetch");
        assert_eq!(got.bytes, PNG);
        assert_eq!(got.name, "photo one.png");
        assert_eq!(got.content_type.as_deref(), Some("image/png"));
    }

    /// A host name (not an IP literal) goes through the lookup and the pinned client, and
    /// `allowed_hosts` matches it without regard to case.
    #[tokio::test]
    async fn allowed_host_by_name_is_fetched() {
        let addr = serve().await;
        let url = format!("http://localhost:{}/img/photo%20one.png", addr.port());
        let policy = FetchPolicy {
            allowed_hosts: vec!["LocalHost".into()],
            ..local()
        };
        let got = fetch(&reqwest::Client::new(), &url, &policy)
            .await
            .expect("fetch");
        assert_eq!(got.bytes, PNG);
    }

    /// A host outside a non-empty `allowed_hosts` list is refused before any lookup.
    #[tokio::test]
    async fn host_outside_allow_list_is_refused() {
        let addr = serve().await;
        let url = format!("http://localhost:{}/img/photo%20one.png", addr.port());
        let policy = FetchPolicy {
            allowed_hosts: vec!["cdn.shopify.com".into()],
            ..local()
        };
        let err = fetch(&reqwest::Client::new(), &url, &policy)
            .await
            .expect_err("must refuse");
        assert!(matches!(err, FetchError::HostNotAllowed { .. }), "{err:?}");
    }

    /// A body whose Content-Length is over the limit is refused.
    #[tokio::test]
    async fn too_large_by_content_length_is_refused() {
        let addr = serve().await;
        let policy = FetchPolicy {
            max_bytes: MB,
            ..local()
        };
        let err = fetch(
            &reqwest::Client::new(),
            &format!("http://{addr}/big"),
            &policy,
        )
        .await
        .expect_err("must refuse");
        assert!(
            matches!(err, FetchError::TooLarge { limit, .. } if limit == MB),
            "{err:?}"
        );
        assert!(err.to_string().contains("1 MB"), "{err}");
    }

    /// A streamed body with no Content-Length is cut off once it passes the limit.
    #[tokio::test]
    async fn too_large_streamed_body_is_refused() {
        let addr = serve().await;
        let policy = FetchPolicy {
            max_bytes: MB,
            ..local()
        };
        let err = fetch(
            &reqwest::Client::new(),
            &format!("http://{addr}/stream"),
            &policy,
        )
        .await
        .expect_err("must refuse");
        assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
        // Under the limit, the same stream is read whole.
        let roomy = FetchPolicy {
            max_bytes: 4 * MB,
            ..local()
        };
        let got = fetch(
            &reqwest::Client::new(),
            &format!("http://{addr}/stream"),
            &roomy,
        )
        .await
        .expect("fetch");
        assert_eq!(got.bytes.len(), 48 * 64 * 1024);
    }

    /// A server that does not answer within the policy's time is a transient timeout.
    #[tokio::test]
    async fn slow_server_times_out() {
        let addr = serve().await;
        let policy = FetchPolicy {
            timeout: Duration::from_millis(300),
            ..local()
        };
        let started = std::time::Instant::now();
        let err = fetch(
            &reqwest::Client::new(),
            &format!("http://{addr}/slow"),
            &policy,
        )
        .await
        .expect_err("must time out");
        assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(err.is_transient());
        assert!(err.to_string().contains("300 ms"), "{err}");
    }

    /// A redirect is not followed: it is a permanent error naming the status.
    #[tokio::test]
    async fn redirect_is_an_error() {
        let addr = serve().await;
        let err = fetch(
            &reqwest::Client::new(),
            &format!("http://{addr}/redirect"),
            &local(),
        )
        .await
        .expect_err("must not follow");
        assert!(
            matches!(err, FetchError::Status { status: 307, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("307"), "{err}");
        assert!(!err.is_transient());
    }

    /// A 500 answer is an error worth retrying.
    #[tokio::test]
    async fn server_error_is_transient() {
        let addr = serve().await;
        let err = fetch(
            &reqwest::Client::new(),
            &format!("http://{addr}/fail"),
            &local(),
        )
        .await
        .expect_err("500");
        assert!(
            matches!(err, FetchError::Status { status: 500, .. }),
            "{err:?}"
        );
        assert!(err.is_transient());
    }

    /// Schemes other than http and https, and unparsable URLs, are refused.
    #[tokio::test]
    async fn other_schemes_and_bad_urls_are_refused() {
        let client = reqwest::Client::new();
        let err = fetch(&client, "ftp://example.com/a.png", &local())
            .await
            .expect_err("ftp");
        assert!(matches!(err, FetchError::Scheme { .. }), "{err:?}");
        let err = fetch(&client, "file:///etc/passwd", &local())
            .await
            .expect_err("file");
        assert!(matches!(err, FetchError::Scheme { .. }), "{err:?}");
        let err = fetch(&client, "not a url", &local())
            .await
            .expect_err("garbage");
        assert!(matches!(err, FetchError::BadUrl { .. }), "{err:?}");
    }

    /// The cloud metadata address is refused without any connection attempt.
    #[tokio::test]
    async fn cloud_metadata_is_refused() {
        let client = reqwest::Client::new();
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://[::ffff:169.254.169.254]/",
            "http://[fd00:ec2::254]/",
        ] {
            let err = fetch(&client, url, &FetchPolicy::default())
                .await
                .expect_err(url);
            assert!(
                matches!(err, FetchError::PrivateAddress { .. }),
                "{url}: {err:?}"
            );
        }
    }

    /// IPv4 classification: the reserved ranges are refused and ordinary public addresses pass.
    #[test]
    fn classifies_ipv4() {
        for refused in [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "192.0.0.8",
        ] {
            let ip: IpAddr = refused.parse().expect("ip");
            assert!(!is_public(ip), "{refused} should be refused");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "100.128.0.1",
            "23.45.67.89",
        ] {
            let ip: IpAddr = public.parse().expect("ip");
            assert!(is_public(ip), "{public} should be public");
        }
    }

    /// IPv6 classification, including IPv6 forms that carry a private IPv4 address.
    #[test]
    fn classifies_ipv6() {
        for refused in [
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "2002:c0a8:0101::1",
        ] {
            let ip: IpAddr = refused.parse().expect("ip");
            assert!(!is_public(ip), "{refused} should be refused");
        }
        for public in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:0808:0808::1",
        ] {
            let ip: IpAddr = public.parse().expect("ip");
            assert!(is_public(ip), "{public} should be public");
        }
    }

    /// File names come from the last path segment, decoded only when that is safe.
    #[test]
    fn names_from_urls() {
        let name = |u: &str| file_name(&Url::parse(u).expect("url"));
        assert_eq!(name("https://cdn.example.com/a/b/mug.jpg?v=2"), "mug.jpg");
        assert_eq!(name("https://cdn.example.com/"), "image");
        assert_eq!(name("https://cdn.example.com"), "image");
        assert_eq!(name("https://cdn.example.com/a/my%20mug.jpg"), "my mug.jpg");
        assert_eq!(
            name("https://cdn.example.com/a/..%2Fetc%2Fpasswd"),
            "..%2Fetc%2Fpasswd"
        );
    }
}
