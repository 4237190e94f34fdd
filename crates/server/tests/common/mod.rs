//! Shared harness for the API tests: the real router on a real database (a fresh SQLite file, or
//! a fresh PostgreSQL database on 127.0.0.1:5432), with this process's run workers started.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use shotline_server::api::{AppState, Config};
use shotline_server::objects::Objects;
use shotline_server::store::Store;
use sqlx::Connection;
use std::path::{Path, PathBuf};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct App {
    pub router: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
    pub database_url: Option<String>,
    _stop: tokio::sync::watch::Sender<bool>,
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn photo(name: &str) -> Vec<u8> {
    std::fs::read(root().join("fixtures").join(name)).expect("fixture photo")
}

/// The server the PostgreSQL tests use (trust auth on this machine and CI's).
pub fn postgres_admin_url() -> String {
    std::env::var("SHOTLINE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A new, empty PostgreSQL database for one test; its URL.
pub async fn fresh_postgres() -> String {
    let admin = postgres_admin_url();
    let mut conn = sqlx::postgres::PgConnection::connect(&admin)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (set SHOTLINE_TEST_POSTGRES to another server)");
    let name = format!(
        "shotline_test_{}",
        shotline_server::signature::random_token(8)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

pub async fn app(db: Db) -> App {
    app_with(db, |_| {}).await
}

pub async fn app_with(db: Db, tweak: impl FnOnce(&mut Config)) -> App {
    let dir = tempfile::tempdir().expect("tempdir");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).expect("dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Shotline</title>",
    )
    .expect("index");
    let database_url = match db {
        Db::Sqlite => None,
        Db::Postgres => Some(fresh_postgres().await),
    };
    let store = Store::open(database_url.as_deref(), &dir.path().join("data"))
        .await
        .expect("store opens");
    let objects = Objects::local(&dir.path().join("data/objects")).expect("objects");
    let mut config = Config {
        workers: 2,
        retry_base: std::time::Duration::from_millis(50),
        ..Default::default()
    };
    config.fetch.allow_private = true;
    tweak(&mut config);
    let state = AppState::new(store, objects, config);
    let (stop, rx) = tokio::sync::watch::channel(false);
    shotline_server::queue::spawn_workers(state.clone(), "test".into(), rx);
    let router = shotline_server::web::router(state.clone(), dist);
    App {
        router,
        state,
        dir,
        database_url,
        _stop: stop,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Resp {
    /// The error code of a JSON error body.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }
}

impl App {
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            json,
            bytes,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(body.into()).expect("request")).await
    }

    pub async fn get(&self, uri: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, uri, token, &[], Body::empty()).await
    }

    /// A new workspace's token.
    pub async fn workspace(&self) -> String {
        let r = self
            .call(Method::POST, "/api/v1/workspaces", None, &[], Body::empty())
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        r.json["token"].as_str().expect("token").to_string()
    }

    /// Saves a workflow document; its id.
    pub async fn create_workflow(&self, token: &str, doc: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/api/v1/workflows",
                Some(token),
                &[],
                doc.to_string(),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
        r.json["id"].as_str().expect("id").to_string()
    }

    /// Polls a run until it is done or failed (engine work takes real time; no wall-clock asserts).
    pub async fn wait_run(&self, token: &str, run_id: &str) -> Value {
        for _ in 0..1200 {
            let r = self
                .get(&format!("/api/v1/runs/{run_id}"), Some(token))
                .await;
            let status = r.json["status"].as_str().unwrap_or("");
            if status == "done" || status == "failed" {
                return r.json;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("run {run_id} did not finish");
    }
}

/// A multipart body with the given parts: (part name, file name or None, bytes).
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "shotline-test-boundary-7d1f";
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A small workflow: cut out, white, one 800 px JPEG.
pub const SIMPLE: &str = r#"{
  "schema": 1,
  "name": "White 800",
  "steps": [
    {"type": "remove_background"},
    {"type": "crop_to_subject"},
    {"type": "background"},
    {"type": "resize", "width": 800, "height": 800, "fit": "pad"},
    {"type": "export", "format": "jpeg", "quality": 85, "name": "{stem}-800.jpg"}
  ]
}"#;
