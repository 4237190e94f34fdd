//! S3 mode end to end: the real `shotline serve` process with `SHOTLINE_S3_BUCKET` set, against a
//! real S3-compatible server (moto's `moto_server`, which `scripts/s3-test-server.sh` installs from
//! PyPI into `.tools/s3venv` on first use). A run's input and artifact must land in the bucket,
//! come back through the API byte for byte, and leave nothing in the local data directory.

mod common;

use common::{multipart, photo, root, SIMPLE};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BUCKET: &str = "shotline-test";

/// A moto server started through the script; stopped through it on drop.
struct S3Server {
    port: u16,
    endpoint: String,
}

impl S3Server {
    /// Installs moto if needed and starts it on a free port (a few tries: another process may
    /// take the port between our probe and moto's bind).
    fn start() -> S3Server {
        let script = root().join("scripts/s3-test-server.sh");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let out = Command::new("bash")
                .arg(&script)
                .args(["start", &port.to_string()])
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .expect("bash runs scripts/s3-test-server.sh");
            let stdout = String::from_utf8_lossy(&out.stdout);
            if out.status.success() {
                let endpoint = stdout.lines().last().unwrap_or("").trim().to_string();
                assert_eq!(
                    endpoint,
                    format!("http://127.0.0.1:{port}"),
                    "script output {stdout:?}"
                );
                return S3Server { port, endpoint };
            }
            last = format!("{:?}: {stdout}", out.status);
        }
        panic!("scripts/s3-test-server.sh could not start moto_server: {last}");
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(root().join("scripts/s3-test-server.sh"))
            .args(["stop", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

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

/// The real binary in S3 mode on a free port; waits for the URL it prints.
fn start_shotline(dir: &Path, s3_endpoint: &str) -> Server {
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Shotline</title>",
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shotline"));
    cmd.args(["serve", "--addr", "127.0.0.1:0", "--workers", "1", "--dist"])
        .arg(&dist)
        .arg("--data")
        .arg(dir.join("data"))
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // Only the settings below may reach the S3 client: no profile, token or region from outside.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("RUST_LOG", "warn")
        .env("SHOTLINE_S3_BUCKET", BUCKET)
        .env("AWS_ENDPOINT", s3_endpoint)
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false");
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

/// The keys under `prefix` in the bucket, from a ListObjectsV2 call to the S3 server itself.
async fn bucket_keys(http: &reqwest::Client, endpoint: &str, prefix: &str) -> Vec<String> {
    let resp = http
        .get(format!("{endpoint}/{BUCKET}"))
        .query(&[("list-type", "2"), ("prefix", prefix)])
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "list bucket: {}", resp.status());
    let xml = resp.text().await.unwrap();
    assert!(xml.contains("<ListBucketResult"), "{xml}");
    assert!(xml.contains("<IsTruncated>false</IsTruncated>"), "{xml}");
    xml.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_string()))
        .collect()
}

/// An object's bytes, read with signed requests (moto keeps objects the server wrote private).
async fn bucket_object(endpoint: &str, key: &str) -> Vec<u8> {
    use object_store::ObjectStore;
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_region("us-east-1")
        .with_bucket_name(BUCKET)
        .build()
        .unwrap();
    let path = object_store::path::Path::from(key);
    let got = s3
        .get(&path)
        .await
        .unwrap_or_else(|e| panic!("get s3 object {key}: {e}"));
    got.bytes().await.unwrap().to_vec()
}

/// Every file under `dir`.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_store_inputs_and_artifacts_in_s3() {
    let s3 = S3Server::start();
    let http = reqwest::Client::new();

    // moto accepts unsigned requests: create the bucket with a plain PUT.
    let resp = http
        .put(format!("{}/{BUCKET}", s3.endpoint))
        .send()
        .await
        .unwrap();
    assert!(
        resp.status().is_success(),
        "create bucket: {}",
        resp.status()
    );
    assert!(bucket_keys(&http, &s3.endpoint, "").await.is_empty());

    let dir = tempfile::tempdir().unwrap();
    let server = start_shotline(dir.path(), &s3.endpoint);
    let base = &server.base;

    let ws: Value = http
        .post(format!("{base}/api/v1/workspaces"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = ws["token"].as_str().expect("token").to_string();

    let resp = http
        .post(format!("{base}/api/v1/workflows"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(SIMPLE)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let wf: Value = resp.json().await.unwrap();
    let wf = wf["id"].as_str().unwrap().to_string();

    let input = photo("scenes/mug.jpg");
    let (content_type, body) = multipart(&[("photo", Some("mug.jpg"), &input)]);
    let resp = http
        .post(format!("{base}/api/v1/workflows/{wf}/runs"))
        .bearer_auth(&token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    let queued: Value = resp.json().await.unwrap();
    let run_id = queued["run_id"].as_str().unwrap().to_string();

    let mut run = Value::Null;
    for _ in 0..1800 {
        run = http
            .get(format!("{base}/api/v1/runs/{run_id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if run["status"] == "done" || run["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["report"]["ok"], 1, "{run}");
    let artifacts = run["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 1, "{run}");
    let artifact = &artifacts[0];
    let name = artifact["name"].as_str().unwrap();
    assert_eq!(name, "mug-800.jpg", "{run}");

    // The artifact through the API: a JPEG of the size the run reports.
    let resp = http
        .get(format!("{base}{}", artifact["url"].as_str().unwrap()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let downloaded = resp.bytes().await.unwrap().to_vec();
    assert!(downloaded.starts_with(&[0xFF, 0xD8, 0xFF]), "not a JPEG");
    assert_eq!(
        Some(downloaded.len() as u64),
        artifact["bytes"].as_u64(),
        "{artifact}"
    );

    // The objects really are in the bucket, and hold those very bytes.
    let artifact_keys =
        bucket_keys(&http, &s3.endpoint, &format!("runs/{run_id}/artifacts/")).await;
    assert_eq!(
        artifact_keys,
        vec![format!("runs/{run_id}/artifacts/{name}")]
    );
    assert_eq!(
        bucket_object(&s3.endpoint, &artifact_keys[0]).await,
        downloaded
    );
    let input_keys = bucket_keys(&http, &s3.endpoint, &format!("runs/{run_id}/input/")).await;
    assert_eq!(input_keys.len(), 1, "{input_keys:?}");
    assert!(input_keys[0].ends_with("mug.jpg"), "{input_keys:?}");
    assert_eq!(bucket_object(&s3.endpoint, &input_keys[0]).await, input);

    // ... and not on local disk.
    let data = dir.path().join("data");
    let local_objects = files_under(&data.join("objects"));
    assert!(
        local_objects.is_empty(),
        "objects on local disk: {local_objects:?}"
    );
    for f in files_under(&data) {
        let file = f.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !file.ends_with(".jpg"),
            "photo on local disk: {}",
            f.display()
        );
    }

    drop(server);
    drop(s3);
}
