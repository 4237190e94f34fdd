//! The API's description (`src/api/openapi.json`, served at `/api/v1/openapi.json`) and its readable
//! page: a valid OpenAPI 3.1 document, in step with the router in `src/api.rs` and with the
//! workflow schema of shotline-core, whose every operation answers as documented.
//!
//! When the workflow format changes, refresh the copy of its schema in the document with
//! `SHOTLINE_UPDATE_OPENAPI=1 cargo test -p shotline-server --test openapi`.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{Map, Value};
use shotline_server::api::{AppState, Config};
use shotline_server::objects::Objects;
use shotline_server::store::Store;
use std::collections::{BTreeMap, BTreeSet};
use tower::ServiceExt;

const DOC: &str = include_str!("../src/api/openapi.json");
const ROUTER_SOURCE: &str = include_str!("../src/api.rs");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const UPDATE_ENV: &str = "SHOTLINE_UPDATE_OPENAPI";

fn doc() -> Value {
    serde_json::from_str(DOC).expect("openapi.json is JSON")
}

/// Every (path, method) the document describes, e.g. ("/workflows/{id}", "put").
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                ops.insert((path.clone(), m.to_string()));
            }
        }
    }
    ops
}

/// Follows a local `$ref` (`#/components/...`) to what it names.
fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{r} points at nothing"));
            resolve(doc, target)
        }
        None => v,
    }
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// The routes `src/api.rs` declares: each `.route("path", get(..).post(..)...)` call, on one line or
/// several, as (path, method) pairs.
fn routed_in_source() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = ROUTER_SOURCE;
    while let Some(at) = rest.find(".route(") {
        let call = &rest[at + ".route(".len()..];
        // The call's arguments run to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = call
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .expect("a .route( call is closed");
        let args = &call[..end];
        let path = args
            .split('"')
            .nth(1)
            .expect("a .route( call starts with its path");
        for m in METHODS {
            let needle = format!("{m}(");
            let mut from = 0;
            while let Some(i) = args[from..].find(&needle) {
                let start = from + i;
                // `get(`, `.post(`, but not `workflows::get_one` or `runs::get(`-like paths.
                let before = args[..start].chars().last().unwrap_or(' ');
                if !(before.is_alphanumeric() || before == '_' || before == ':') {
                    routes.insert((path.to_string(), m.to_string()));
                }
                from = start + needle.len();
            }
        }
        rest = &call[end..];
    }
    routes
}

/// The whole app as `shotline serve` builds it, on a fresh SQLite file.
async fn app() -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Shotline</title>",
    )
    .expect("index");
    let store = Store::open(None, &dir.path().join("data"))
        .await
        .expect("store opens");
    let objects = Objects::local(&dir.path().join("objects")).expect("objects");
    let state = AppState::new(store, objects, Config::default());
    (shotline_server::web::router(state, dist), dir)
}

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.expect("the router answers");
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        content_type,
        body,
    }
}

/// A request for one documented operation, as a client reading the document would make it: path
/// parameters filled with their examples (or dummies), required headers with their examples, and
/// the body's first example in the first documented content type.
fn request_for(doc: &Value, path: &str, method: &str, token: Option<&str>) -> Request<Body> {
    let op = &doc["paths"][path][method];
    let params: Vec<&Value> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| resolve(doc, p))
        .collect();
    let mut uri = format!("/api/v1{path}");
    for p in params.iter().filter(|p| p["in"] == "path") {
        let name = p["name"].as_str().expect("parameter name");
        let value = match &p["example"] {
            Value::String(s) => s.clone(),
            Value::Null => "dummy".to_string(),
            other => other.to_string(),
        };
        uri = uri.replace(&format!("{{{name}}}"), &value);
    }
    assert!(
        !uri.contains('{'),
        "{method} {path}: a path parameter is not declared"
    );
    let mut req = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"))
        .uri(uri);
    for p in params
        .iter()
        .filter(|p| p["in"] == "header" && p["required"] == true)
    {
        let value = p["example"].as_str().unwrap_or("1");
        req = req.header(p["name"].as_str().expect("header name"), value);
    }
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match resolve(doc, &op["requestBody"])["content"].as_object() {
        Some(content) => {
            let (ct, media) = content
                .iter()
                .next()
                .expect("a request body has a content type");
            if ct.starts_with("multipart/") {
                req = req.header(
                    header::CONTENT_TYPE,
                    format!("{ct}; boundary=shotline-test"),
                );
                Body::from("--shotline-test--\r\n")
            } else {
                req = req.header(header::CONTENT_TYPE, ct.as_str());
                let example = media.get("example").cloned().or_else(|| {
                    media["examples"]
                        .as_object()
                        .and_then(|e| e.values().next())
                        .map(|e| resolve(doc, e)["value"].clone())
                });
                Body::from(example.map(|e| e.to_string()).unwrap_or_default())
            }
        }
        None => Body::empty(),
    };
    req.body(body).expect("request")
}

/// The document is OpenAPI 3.1 with the API's base URL and a bearer scheme for workspace tokens,
/// each operation has a unique id and its responses, every path parameter is declared, and every
/// `$ref` points at something.
#[test]
fn document_is_openapi_3_1_with_bearer_auth() {
    let doc = doc();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "openapi is {}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let scheme = &doc["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert!(scheme["bearerFormat"]
        .as_str()
        .is_some_and(|f| f.contains("<workspace id>.<secret>")));
    assert_eq!(doc["security"][0]["bearerAuth"], Value::Array(vec![]));
    assert!(
        doc["info"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("/healthz")),
        "/healthz is outside /api/v1, so the description tells of it"
    );

    let mut ids = BTreeSet::new();
    for (path, method) in documented(&doc) {
        let op = &doc["paths"][&path][&method];
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
        assert!(op["tags"][0].is_string(), "{method} {path}: no tag");
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|c| c.starts_with('2')),
            "{method} {path}: no success response"
        );
        for (code, r) in responses {
            let r = resolve(&doc, r);
            assert!(
                r["description"].is_string(),
                "{method} {path} {code}: no description"
            );
            if code.starts_with('4') || code.starts_with('5') {
                let schema = &r["content"]["application/json"]["schema"];
                let name = schema["$ref"].as_str().unwrap_or_default();
                assert!(
                    name.ends_with("/Error") || name.ends_with("/RevisionConflict"),
                    "{method} {path} {code}: an error answers with the Error schema, not {schema}"
                );
            }
        }
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| resolve(&doc, p))
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap_or_default().to_string())
            .collect();
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        assert_eq!(declared, in_template, "{method} {path}: path parameters");
    }

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50);
    for r in refs {
        assert!(r.starts_with("#/"), "{r}: only local references");
        assert!(doc.pointer(&r[1..]).is_some(), "{r} points at nothing");
    }
}

/// Every documented operation reaches a handler: with and without a token, the answer is never the
/// API's "no such endpoint" 404 or a 405, its status is one the document lists for it, an operation
/// documented as needing a token refuses a request without one (and one documented as open does
/// not), and every error has the `{"error": {"code", "message"}}` shape.
#[tokio::test]
async fn every_documented_operation_is_routed_and_answers_as_documented() {
    let doc = doc();
    let (app, _dir) = app().await;
    let created = send(
        &app,
        Request::post("/api/v1/workspaces")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let token = created.json()["token"].as_str().expect("token").to_string();

    let ops = documented(&doc);
    assert!(ops.len() >= 20, "only {} operations documented", ops.len());
    for (path, method) in &ops {
        let op = &doc["paths"][path][method];
        let security = op.get("security").unwrap_or(&doc["security"]);
        let needs_token = security.as_array().is_some_and(|reqs| {
            reqs.iter()
                .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
        });
        for token in [None, Some(token.as_str())] {
            let a = send(&app, request_for(&doc, path, method, token)).await;
            let who = format!(
                "{} {path} ({})",
                method.to_uppercase(),
                if token.is_some() {
                    "with a token"
                } else {
                    "without a token"
                }
            );
            let body = a.json();
            assert_ne!(
                a.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{who}: 405 {body}"
            );
            assert!(
                !(a.status == StatusCode::NOT_FOUND
                    && body["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("no such API endpoint"))),
                "{who}: not routed"
            );
            assert!(
                op["responses"].get(a.status.as_str()).is_some(),
                "{who}: answered {} which the document does not list: {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            );
            if a.status.is_client_error() || a.status.is_server_error() {
                assert!(
                    a.content_type.starts_with("application/json")
                        && body["error"]["code"].is_string()
                        && body["error"]["message"].is_string(),
                    "{who}: {} is not the JSON error shape: {}",
                    a.status,
                    String::from_utf8_lossy(&a.body)
                );
            }
            if token.is_none() {
                assert_eq!(
                    a.status == StatusCode::UNAUTHORIZED && body["error"]["code"] == "unauthorized",
                    needs_token,
                    "{who}: the document says it {} a token; it answered {} {body}",
                    if needs_token {
                        "needs"
                    } else {
                        "does not need"
                    },
                    a.status
                );
            }
        }
    }
}

/// Every route and method declared in `src/api.rs` is in the document, and the document describes
/// no route that `src/api.rs` does not declare.
#[test]
fn every_route_in_the_router_is_documented() {
    let routed = routed_in_source();
    assert!(
        routed.len() >= 20,
        "the scan of src/api.rs found only {routed:?}: has the way routes are written changed?"
    );
    assert!(routed.contains(&("/workflows/{id}".to_string(), "put".to_string())));
    let documented = documented(&doc());
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in openapi.json: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "in openapi.json but not routed in src/api.rs: {unrouted:?}"
    );
}

/// `/api/v1/docs` is a self-contained HTML page that loads the document beside it, and
/// `/api/v1/openapi.json` serves the document as JSON.
#[tokio::test]
async fn docs_page_and_document_are_served() {
    let (app, _dir) = app().await;
    let page = send(
        &app,
        Request::get("/api/v1/docs")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("openapi.json"));
    for external in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "@import",
        "url(http",
    ] {
        assert!(
            !html.contains(external),
            "the page loads something from elsewhere: {external}"
        );
    }

    let json = send(
        &app,
        Request::get("/api/v1/openapi.json")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(json.status, StatusCode::OK);
    assert!(json.content_type.starts_with("application/json"));
    assert_eq!(
        serde_json::from_slice::<Value>(&json.body).expect("JSON"),
        doc()
    );
}

/// The workflow schema as the document carries it: shotline-core's JSON Schema with its `$defs`
/// lifted into `components/schemas`.
fn workflow_schemas() -> BTreeMap<String, Value> {
    fn lift(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, x)| match (k.as_str(), x) {
                        ("$ref", Value::String(r)) if r.starts_with("#/$defs/") => (
                            k.clone(),
                            Value::String(r.replacen("#/$defs/", "#/components/schemas/", 1)),
                        ),
                        _ => (k.clone(), lift(x)),
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.iter().map(lift).collect()),
            other => other.clone(),
        }
    }
    let mut root = shotline_core::Workflow::json_schema();
    let root = root.as_object_mut().expect("the schema is an object");
    let defs = root.remove("$defs").unwrap_or_default();
    root.remove("$schema");
    let mut out: BTreeMap<String, Value> = defs
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), lift(v)))
        .collect();
    out.insert("Workflow".into(), lift(&Value::Object(root.clone())));
    // Through text, as the document is read: serde_json's parser may land one ulp away from the
    // f64 of an f32 default (0.03f32 is 0.029999999329447746), so compare parsed with parsed.
    let text = serde_json::to_string(&out).expect("serialise");
    serde_json::from_str(&text).expect("parse")
}

/// Schemas no operation reaches, directly or through other schemas.
fn unreachable_schemas(doc: &Value) -> BTreeSet<String> {
    let schemas = doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut outside = doc.clone();
    if let Some(c) = outside["components"].as_object_mut() {
        c.remove("schemas");
    }
    let mut todo = Vec::new();
    collect_refs(&outside, &mut todo);
    let mut seen = BTreeSet::new();
    while let Some(r) = todo.pop() {
        if let Some(name) = r.strip_prefix("#/components/schemas/") {
            if seen.insert(name.to_string()) {
                if let Some(s) = schemas.get(name) {
                    collect_refs(s, &mut todo);
                }
            }
        }
    }
    schemas
        .keys()
        .filter(|k| !seen.contains(*k))
        .cloned()
        .collect()
}

/// The document's copy of the workflow schema is shotline-core's, and it has no schema left over
/// that nothing uses (a type the workflow format dropped).
#[test]
fn workflow_schema_matches_the_core() {
    let mut doc = doc();
    let expected = workflow_schemas();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let stale: Vec<&String> = expected
        .iter()
        .filter(|(k, v)| schemas.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    let orphans = unreachable_schemas(&doc);
    if stale.is_empty() && orphans.is_empty() {
        return;
    }
    if std::env::var_os(UPDATE_ENV).is_some() {
        let schemas: &mut Map<String, Value> = doc["components"]["schemas"]
            .as_object_mut()
            .expect("schemas");
        schemas.extend(expected);
        let orphans = unreachable_schemas(&doc);
        let schemas = doc["components"]["schemas"]
            .as_object_mut()
            .expect("schemas");
        schemas.retain(|k, _| !orphans.contains(k));
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/openapi.json");
        let text = serde_json::to_string_pretty(&doc).expect("serialise");
        std::fs::write(&path, text).expect("write openapi.json");
        eprintln!("updated {}: rebuild to serve it", path.display());
        return;
    }
    panic!(
        "openapi.json is out of step: workflow schemas that differ from shotline-core's {stale:?}, \
         schemas no operation uses {orphans:?}. Run `{UPDATE_ENV}=1 cargo test -p shotline-server \
         --test openapi` to refresh the workflow schemas and drop unused ones."
    );
}

/// The workflow documents the document shows as request examples are valid workflows.
#[test]
fn workflow_examples_are_valid_workflows() {
    let doc = doc();
    let mut checked = 0;
    for (path, method) in documented(&doc) {
        let media = &resolve(&doc, &doc["paths"][&path][&method]["requestBody"])["content"]
            ["application/json"];
        if media["schema"]["$ref"] != "#/components/schemas/Workflow" {
            continue;
        }
        let example = media["example"].to_string();
        let wf = shotline_core::Workflow::from_json(&example)
            .unwrap_or_else(|e| panic!("{method} {path}: the example does not load: {e}"));
        shotline_core::engine::check(&wf)
            .unwrap_or_else(|e| panic!("{method} {path}: the example is not valid: {e}"));
        checked += 1;
    }
    assert!(
        checked >= 2,
        "POST and PUT /workflows show a workflow example"
    );
}
