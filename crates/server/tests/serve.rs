//! `shotline serve` as a process: runs survive `kill -9`, SIGTERM re-queues or finishes work, and
//! two processes share one PostgreSQL database with no state of their own.

mod common;

use common::{fresh_postgres, multipart, photo, SIMPLE};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary on a free port and waits for the URL it prints.
fn start(data: &Path, database_url: Option<&str>, extra: &[&str]) -> Server {
    let dist = data.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Shotline</title>",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shotline"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--dist"])
        .arg(&dist)
        .arg("--data")
        .arg(data.join("data"))
        .args(extra)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    let mut child = cmd.spawn().expect("shotline starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("Shotline is running at ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .trim_end_matches('/')
        .to_string();
    Server { child, base }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(base: &str) -> Api {
        let http = reqwest::Client::new();
        let r: Value = http
            .post(format!("{base}/api/v1/workspaces"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Api {
            http,
            base: base.to_string(),
            token: r["token"].as_str().unwrap().to_string(),
        }
    }

    fn on(&self, base: &str) -> Api {
        Api {
            http: self.http.clone(),
            base: base.to_string(),
            token: self.token.clone(),
        }
    }

    async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(String, Vec<u8>)>,
        if_match: Option<i64>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some((ct, bytes)) = body {
            req = req.header("content-type", ct).body(bytes);
        }
        if let Some(rev) = if_match {
            req = req.header("if-match", format!("\"{rev}\""));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn workflow(&self, doc: &str) -> String {
        let (s, v) = self
            .json(
                reqwest::Method::POST,
                "/api/v1/workflows",
                Some(("application/json".into(), doc.as_bytes().to_vec())),
                None,
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_str().unwrap().to_string()
    }

    async fn queue_run(&self, wf: &str, photos: &[(&str, Vec<u8>)]) -> String {
        let parts: Vec<(&str, Option<&str>, &[u8])> = photos
            .iter()
            .map(|(n, b)| ("photo", Some(*n), b.as_slice()))
            .collect();
        let (s, v) = self
            .json(
                reqwest::Method::POST,
                &format!("/api/v1/workflows/{wf}/runs"),
                Some(multipart(&parts)),
                None,
            )
            .await;
        assert_eq!(s, 202, "{v}");
        v["run_id"].as_str().unwrap().to_string()
    }

    async fn run(&self, id: &str) -> Value {
        self.json(
            reqwest::Method::GET,
            &format!("/api/v1/runs/{id}"),
            None,
            None,
        )
        .await
        .1
    }

    async fn wait_all(&self, ids: &[String]) -> Vec<Value> {
        let mut out = Vec::new();
        for id in ids {
            let mut done = None;
            for _ in 0..1800 {
                let r = self.run(id).await;
                if r["status"] == "done" || r["status"] == "failed" {
                    done = Some(r);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            out.push(done.unwrap_or_else(|| panic!("run {id} never finished")));
        }
        out
    }
}

/// The Amazon template is heavy enough that a queue of runs is still being worked when the kill comes.
fn heavy_workflow() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shotline"))
        .args(["templates", "amazon-main"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Queue runs, `kill -9` the server while they are being worked, start it again on the same data:
/// every run finishes, and a run that was running when the process died was picked up again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let opts = [
        "--workers",
        "1",
        "--lease-secs",
        "2",
        "--retry-base-ms",
        "100",
    ];
    let mut server = start(dir.path(), None, &opts);
    let api = Api::new(&server.base).await;
    let wf = api.workflow(&heavy_workflow()).await;
    let photos = vec![
        ("coffee.jpg", photo("photos/coffee.jpg")),
        ("mug.jpg", photo("scenes/mug.jpg")),
    ];
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(api.queue_run(&wf, &photos).await);
    }
    // Wait until the worker has started one, then kill the process without warning.
    let mut running = None;
    for _ in 0..600 {
        for id in &ids {
            if api.run(id).await["status"] == "running" {
                running = Some(id.clone());
            }
        }
        if running.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let running = running.expect("a run was in progress at the kill");
    let mut before = Vec::new();
    for id in &ids {
        before.push(id.clone());
    }

    let server = start(dir.path(), None, &opts);
    let api = api.on(&server.base);
    let done = api.wait_all(&before).await;
    for run in &done {
        assert_eq!(run["status"], "done", "{run}");
        assert_eq!(run["report"]["ok"], 2, "{run}");
        assert_eq!(run["artifacts"].as_array().unwrap().len(), 2);
    }
    let interrupted = api.run(&running).await;
    assert!(
        interrupted["attempts"].as_i64().unwrap() >= 2,
        "{interrupted}"
    );
}

/// SIGTERM: the process stops taking work, lets the running job finish or puts it back, and exits
/// cleanly; nothing is left marked as running, and a new process finishes the queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_leaves_no_run_stuck() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ["--workers", "1", "--lease-secs", "60"];
    let mut server = start(dir.path(), None, &opts);
    let api = Api::new(&server.base).await;
    let wf = api.workflow(SIMPLE).await;
    let photos = vec![("coffee.jpg", photo("photos/coffee.jpg"))];
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(api.queue_run(&wf, &photos).await);
    }
    let pid = server.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");

    // With a 60 s lease a run left as `running` would wait a minute: none may be. Read the
    // database itself, before a new process starts working the queue.
    let db = dir.path().join("data/shotline.db");
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        db.display()
    ))
    .await
    .unwrap();
    let statuses: Vec<(String,)> = sqlx::query_as("SELECT status FROM runs")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(statuses.len(), 4);
    assert!(
        statuses.iter().all(|(s,)| s == "queued" || s == "done"),
        "{statuses:?}"
    );
    drop(conn);
    let server = start(dir.path(), None, &opts);
    let api = api.on(&server.base);
    for run in api.wait_all(&ids).await {
        assert_eq!(run["status"], "done", "{run}");
    }
}

/// Two server processes on one PostgreSQL database: a workflow saved through one is read and
/// edited through the other, a stale edit through either gets 412, share links work on both, and
/// runs queued on both all finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_postgres() {
    let url = fresh_postgres().await;
    // One data directory for both: its objects folder stands in for shared S3 storage.
    let dir = tempfile::tempdir().unwrap();
    let a = start(dir.path(), Some(&url), &["--workers", "1"]);
    let b = start(dir.path(), Some(&url), &["--workers", "1"]);
    let api_a = Api::new(&a.base).await;
    let api_b = api_a.on(&b.base);
    let wf = api_a.workflow(SIMPLE).await;
    let (s, v) = api_b
        .json(
            reqwest::Method::GET,
            &format!("/api/v1/workflows/{wf}"),
            None,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["revision"], 1);
    let edit = |name: &str| {
        Some((
            "application/json".to_string(),
            SIMPLE.replace("White 800", name).into_bytes(),
        ))
    };
    let (s, _) = api_b
        .json(
            reqwest::Method::PUT,
            &format!("/api/v1/workflows/{wf}"),
            edit("from b"),
            Some(1),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = api_a
        .json(
            reqwest::Method::PUT,
            &format!("/api/v1/workflows/{wf}"),
            edit("from a"),
            Some(1),
        )
        .await;
    assert_eq!(s, 412);
    assert_eq!(v["current"]["name"], "from b");
    let (_, share) = api_a
        .json(
            reqwest::Method::POST,
            &format!("/api/v1/workflows/{wf}/shares"),
            None,
            None,
        )
        .await;
    let slug = share["slug"].as_str().unwrap();
    for base in [&a.base, &b.base] {
        let got: Value = reqwest::get(format!("{base}/api/v1/shared/{slug}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["name"], "from b");
    }

    let photos = vec![("mug.jpg", photo("scenes/mug.jpg"))];
    let mut ids = Vec::new();
    for i in 0..6 {
        let api = if i % 2 == 0 { &api_a } else { &api_b };
        ids.push(api.queue_run(&wf, &photos).await);
    }
    for run in api_a.wait_all(&ids).await {
        assert_eq!(run["status"], "done", "{run}");
        assert_eq!(run["report"]["ok"], 1);
    }
}

/// The browser's engine worker fetches the cut-out model from the server: the file given with
/// `--model`, byte for byte; a 404 (not the app's index.html) when it is not installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_file_is_served_to_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.onnx");
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&model, &bytes).unwrap();
    let server = start(dir.path(), None, &["--model", model.to_str().unwrap()]);
    let r = reqwest::get(format!("{}/models/u2netp.onnx", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), bytes.as_slice());
    drop(server);

    let missing = dir.path().join("nowhere.onnx");
    let server = start(dir.path(), None, &["--model", missing.to_str().unwrap()]);
    let r = reqwest::get(format!("{}/models/u2netp.onnx", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "a missing model is a 404, not index.html");
}
