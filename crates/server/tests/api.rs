//! The REST API against the real router and a real database. Every scenario of the store runs
//! twice: on a fresh SQLite file and on a fresh PostgreSQL database (127.0.0.1:5432).

mod common;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use common::{app, app_with, multipart, photo, App, Db, SIMPLE};
use serde_json::{json, Value};

/// Runs each listed scenario once per database.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::Postgres).await
                }
            )*
        }
    };
}

on_both_databases!(
    tokens_are_checked,
    workflow_revisions_and_if_match,
    bad_workflow_documents_are_refused_and_nothing_is_lost,
    share_links_are_read_only_and_revocable,
    workspaces_are_isolated,
    concurrent_edits_lose_nothing,
    runs_produce_artifacts,
    bad_run_uploads_are_refused,
    requests_per_token_are_limited,
    generic_webhook_signed_and_idempotent,
    shopify_webhook_fetches_images,
    notify_step_posts_a_signed_summary,
    private_addresses_are_not_fetched,
    bad_hook_and_share_requests_are_refused,
);

/// Missing, malformed and wrong tokens get 401 with a code; the right one works.
async fn tokens_are_checked(db: Db) {
    let app = app(db).await;
    let token = app.workspace().await;
    let ok = app.get("/api/v1/workspace", Some(&token)).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert!(token.starts_with(ok.json["workspace_id"].as_str().unwrap()));

    let none = app.get("/api/v1/workflows", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.code(), "unauthorized");
    let (ws, _) = token.split_once('.').unwrap();
    for bad in [
        format!("{ws}.wrong-secret"),
        "no-dot".to_string(),
        format!("ws_nope.{}", "x".repeat(43)),
        String::new(),
    ] {
        let r = app.get("/api/v1/workflows", Some(&bad)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(r.code(), "invalid_token", "{bad}");
        assert!(!r.message().contains(&bad) || bad.is_empty());
    }
}

/// Every write is a revision; PUT needs If-Match; a stale one gets 412 with the current record;
/// history lists every revision; restore makes a new revision with the old document.
async fn workflow_revisions_and_if_match(db: Db) {
    let app = app(db).await;
    let t = app.workspace().await;
    let r = app
        .call(Method::POST, "/api/v1/workflows", Some(&t), &[], SIMPLE)
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["revision"], 1);
    assert_eq!(r.headers["etag"], "\"1\"");
    assert_eq!(r.json["workflow"]["name"], "White 800");
    let id = r.json["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/workflows/{id}");

    let v2 = SIMPLE.replace("White 800", "White 800 v2");
    let missing = app.call(Method::PUT, &url, Some(&t), &[], v2.clone()).await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(missing.code(), "if_match_required");

    let ok = app
        .call(
            Method::PUT,
            &url,
            Some(&t),
            &[("if-match", "\"1\"")],
            v2.clone(),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.json);
    assert_eq!(ok.json["revision"], 2);
    assert_eq!(ok.json["name"], "White 800 v2");

    let v3 = SIMPLE.replace("White 800", "stale edit");
    let stale = app
        .call(Method::PUT, &url, Some(&t), &[("if-match", "1")], v3)
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.code(), "revision_conflict");
    assert_eq!(stale.json["current"]["revision"], 2);
    assert_eq!(stale.json["current"]["workflow"]["name"], "White 800 v2");

    let bad_if = app
        .call(
            Method::PUT,
            &url,
            Some(&t),
            &[("if-match", "\"two\"")],
            SIMPLE,
        )
        .await;
    assert_eq!(bad_if.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_if.code(), "bad_if_match");

    let hist = app.get(&format!("{url}/revisions"), Some(&t)).await;
    let revs: Vec<i64> = hist.json["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(revs, vec![2, 1]);
    let one = app.get(&format!("{url}/revisions/1"), Some(&t)).await;
    assert_eq!(one.json["workflow"]["name"], "White 800");
    let nine = app.get(&format!("{url}/revisions/9"), Some(&t)).await;
    assert_eq!(nine.status, StatusCode::NOT_FOUND);
    let word = app.get(&format!("{url}/revisions/latest"), Some(&t)).await;
    assert_eq!(word.code(), "bad_revision");

    let restored = app
        .call(
            Method::POST,
            &format!("{url}/revisions/1/restore"),
            Some(&t),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK);
    assert_eq!(restored.json["revision"], 3);
    assert_eq!(restored.json["name"], "White 800");
    let hist = app.get(&format!("{url}/revisions"), Some(&t)).await;
    assert_eq!(hist.json["revisions"][0]["note"], "restored revision 1");

    let list = app.get("/api/v1/workflows", Some(&t)).await;
    assert_eq!(list.json["workflows"].as_array().unwrap().len(), 1);
    let del = app
        .call(Method::DELETE, &url, Some(&t), &[], Body::empty())
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&url, Some(&t)).await.status, StatusCode::NOT_FOUND);
    let list = app.get("/api/v1/workflows", Some(&t)).await;
    assert!(list.json["workflows"].as_array().unwrap().is_empty());
}

/// Malformed JSON, unknown fields, wrong types, bad parameters, newer schemas, empty and oversized
/// bodies: each a 4xx naming the problem, and the saved workflow is unchanged.
async fn bad_workflow_documents_are_refused_and_nothing_is_lost(db: Db) {
    let app = app_with(db, |c| c.max_json_bytes = 64 * 1024).await;
    let t = app.workspace().await;
    let id = app.create_workflow(&t, SIMPLE).await;
    let url = format!("/api/v1/workflows/{id}");
    let cases: Vec<(String, StatusCode, &str)> = vec![
        ("{\"name\": ".into(), StatusCode::BAD_REQUEST, "line 1"),
        ("".into(), StatusCode::BAD_REQUEST, "empty"),
        ("[1,2]".into(), StatusCode::BAD_REQUEST, "JSON object"),
        (
            SIMPLE.replace("\"quality\": 85", "\"quality\": 85, \"colour\": 1"),
            StatusCode::BAD_REQUEST,
            "colour",
        ),
        (
            SIMPLE.replace("\"quality\": 85", "\"quality\": \"high\""),
            StatusCode::BAD_REQUEST,
            "quality",
        ),
        (
            SIMPLE.replace("\"quality\": 85", "\"quality\": 0"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "steps[4]",
        ),
        (
            SIMPLE.replace("\"schema\": 1", "\"schema\": 99"),
            StatusCode::BAD_REQUEST,
            "newer",
        ),
    ];
    for (doc, status, needle) in cases {
        for (method, uri) in [
            (Method::POST, "/api/v1/workflows"),
            (Method::PUT, url.as_str()),
        ] {
            let r = app
                .call(
                    method.clone(),
                    uri,
                    Some(&t),
                    &[("if-match", "1")],
                    doc.clone(),
                )
                .await;
            assert_eq!(r.status, status, "{method} {doc}: {:?}", r.json);
            assert!(
                r.message().contains(needle),
                "{method}: {:?} should mention {needle:?}",
                r.message()
            );
        }
    }
    let huge = format!(
        "{{\"schema\":1,\"name\":\"{}\",\"steps\":[]}}",
        "x".repeat(100 * 1024)
    );
    let r = app
        .call(Method::PUT, &url, Some(&t), &[("if-match", "1")], huge)
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "too_large");

    let still = app.get(&url, Some(&t)).await;
    assert_eq!(still.json["revision"], 1);
    assert_eq!(still.json["workflow"]["name"], "White 800");
    let list = app.get("/api/v1/workflows", Some(&t)).await;
    assert_eq!(list.json["workflows"].as_array().unwrap().len(), 1);
}

/// A share link reads without a token, never shows secrets, and 404s once revoked or once its
/// workflow is deleted; another workspace cannot revoke it.
async fn share_links_are_read_only_and_revocable(db: Db) {
    let app = app(db).await;
    let t = app.workspace().await;
    let other = app.workspace().await;
    let doc = SIMPLE.replace(
        "\"steps\": [",
        "\"steps\": [{\"type\": \"notify\", \"url\": \"https://example.com/hook\", \"secret\": \"s3cret-value\"},",
    );
    let id = app.create_workflow(&t, &doc).await;
    let s = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{id}/shares"),
            Some(&t),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(s.status, StatusCode::CREATED);
    let slug = s.json["slug"].as_str().unwrap().to_string();
    assert_eq!(s.json["path"], format!("/s/{slug}"));

    let shared = app.get(&format!("/api/v1/shared/{slug}"), None).await;
    assert_eq!(shared.status, StatusCode::OK);
    assert_eq!(
        shared.json["workflow"]["steps"][1]["type"],
        "remove_background"
    );
    assert_eq!(
        shared.json["workflow"]["steps"][0]["url"],
        "https://example.com/hook"
    );
    let text = String::from_utf8_lossy(&shared.bytes);
    assert!(!text.contains("s3cret-value"), "{text}");
    assert!(!text.contains(t.split_once('.').unwrap().1));

    // A put of a new revision shows through the same link.
    let r = app
        .call(
            Method::PUT,
            &format!("/api/v1/workflows/{id}"),
            Some(&t),
            &[("if-match", "1")],
            doc.replace("White 800", "Renamed"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let shared = app.get(&format!("/api/v1/shared/{slug}"), None).await;
    assert_eq!(shared.json["name"], "Renamed");

    // The app route serves the web app.
    let page = app.get(&format!("/s/{slug}"), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page.bytes).contains("<title>Shotline"));

    let foreign = app
        .call(
            Method::DELETE,
            &format!("/api/v1/shares/{slug}"),
            Some(&other),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let listed = app
        .get(&format!("/api/v1/workflows/{id}/shares"), Some(&t))
        .await;
    assert_eq!(listed.json["shares"][0]["slug"], slug.as_str());
    let revoke = app
        .call(
            Method::DELETE,
            &format!("/api/v1/shares/{slug}"),
            Some(&t),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let gone = app.get(&format!("/api/v1/shared/{slug}"), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.message().contains("revoked"));

    // A second link dies with its workflow.
    let s2 = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{id}/shares"),
            Some(&t),
            &[],
            Body::empty(),
        )
        .await;
    let slug2 = s2.json["slug"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&format!("/api/v1/shared/{slug2}"), None)
            .await
            .status,
        StatusCode::OK
    );
    app.call(
        Method::DELETE,
        &format!("/api/v1/workflows/{id}"),
        Some(&t),
        &[],
        Body::empty(),
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/shared/{slug2}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// One workspace's token cannot read, change, share or run another workspace's workflow.
async fn workspaces_are_isolated(db: Db) {
    let app = app(db).await;
    let a = app.workspace().await;
    let b = app.workspace().await;
    let id = app.create_workflow(&a, SIMPLE).await;
    let url = format!("/api/v1/workflows/{id}");
    assert_eq!(app.get(&url, Some(&b)).await.status, StatusCode::NOT_FOUND);
    let put = app
        .call(Method::PUT, &url, Some(&b), &[("if-match", "1")], SIMPLE)
        .await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);
    let share = app
        .call(
            Method::POST,
            &format!("{url}/shares"),
            Some(&b),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(share.status, StatusCode::NOT_FOUND);
    assert!(
        app.get("/api/v1/workflows", Some(&b)).await.json["workflows"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(app.get(&url, Some(&a)).await.json["revision"], 1);
}

/// Many writers edit one workflow at once: every accepted write is in the history with its own
/// revision, every rejected one got 412, and the revision count adds up.
async fn concurrent_edits_lose_nothing(db: Db) {
    let app = std::sync::Arc::new(app(db).await);
    let t = app.workspace().await;
    let id = app.create_workflow(&t, SIMPLE).await;
    let url = format!("/api/v1/workflows/{id}");

    // Round 1: twelve writers all start from revision 1: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, t, url) = (app.clone(), t.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let doc = SIMPLE.replace("White 800", &format!("writer {i}"));
            let r = app
                .call(Method::PUT, &url, Some(&t), &[("if-match", "1")], doc)
                .await;
            (i, r.status)
        }));
    }
    let mut won = Vec::new();
    for task in tasks {
        let (i, status) = task.await.unwrap();
        match status {
            StatusCode::OK => won.push(i),
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("writer {i}: unexpected {other}"),
        }
    }
    assert_eq!(won.len(), 1, "exactly one writer from revision 1 wins");

    // Round 2: eight writers loop read-modify-write a few times each.
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (app, t, url) = (app.clone(), t.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let (mut accepted, mut rejected) = (Vec::new(), 0);
            for k in 0..4 {
                let cur = app.get(&url, Some(&t)).await;
                let rev = cur.json["revision"].as_i64().unwrap();
                let name = format!("w{w}-e{k}");
                let r = app
                    .call(
                        Method::PUT,
                        &url,
                        Some(&t),
                        &[("if-match", &format!("\"{rev}\""))],
                        SIMPLE.replace("White 800", &name),
                    )
                    .await;
                match r.status {
                    StatusCode::OK => accepted.push((r.json["revision"].as_i64().unwrap(), name)),
                    StatusCode::PRECONDITION_FAILED => rejected += 1,
                    other => panic!("unexpected {other}: {:?}", r.json),
                }
            }
            (accepted, rejected)
        }));
    }
    let mut accepted = Vec::new();
    let mut rejected = 0;
    for task in tasks {
        let (a, r) = task.await.unwrap();
        accepted.extend(a);
        rejected += r;
    }
    assert_eq!(accepted.len() + rejected, 32);
    let hist = app.get(&format!("{url}/revisions"), Some(&t)).await;
    let revs = hist.json["revisions"].as_array().unwrap();
    assert_eq!(
        revs.len(),
        2 + accepted.len(),
        "created + round 1 + every accepted write"
    );
    for (rev, name) in &accepted {
        let r = revs
            .iter()
            .find(|r| r["revision"] == *rev)
            .expect("accepted revision is in history");
        assert_eq!(r["name"], name.as_str());
    }
    let mut numbers: Vec<i64> = revs
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    numbers.sort();
    assert_eq!(
        numbers,
        (1..=revs.len() as i64).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );
}

fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).expect("a readable image");
    (img.width(), img.height())
}

/// Photos uploaded with product data run on the server: 202, then done with one 800×800 JPEG per
/// photo named from the product's SKU, downloadable, with the report's per-step log.
async fn runs_produce_artifacts(db: Db) {
    let app = app(db).await;
    let t = app.workspace().await;
    let doc = SIMPLE.replace("{stem}-800.jpg", "{sku}-800.jpg");
    let id = app.create_workflow(&t, &doc).await;
    let mug = photo("scenes/mug.jpg");
    let coffee = photo("photos/coffee.jpg");
    let products = br#"{"mug.jpg": {"sku": "MUG-1", "category": "Kitchen"}}"#;
    let (ct, body) = multipart(&[
        ("photo", Some("mug.jpg"), &mug),
        ("photo", Some("coffee.jpg"), &coffee),
        ("products", None, products),
    ]);
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{id}/runs"),
            Some(&t),
            &[("content-type", &ct)],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.json);
    let run_id = r.json["run_id"].as_str().unwrap().to_string();
    let run = app.wait_run(&t, &run_id).await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["report"]["ok"], 2);
    let names: Vec<&str> = run["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["MUG-1-800.jpg", "coffee-800.jpg"]);
    assert!(
        run["report"]["photos"][0]["steps"]
            .as_array()
            .unwrap()
            .len()
            >= 5
    );
    for a in run["artifacts"].as_array().unwrap() {
        let got = app.get(a["url"].as_str().unwrap(), Some(&t)).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.headers["content-type"], "image/jpeg");
        assert_eq!(jpeg_size(&got.bytes), (800, 800));
        assert_eq!(got.bytes.len() as u64, a["bytes"].as_u64().unwrap());
    }
    let hist = app
        .get(&format!("/api/v1/workflows/{id}/runs"), Some(&t))
        .await;
    assert_eq!(hist.json["runs"][0]["id"], run_id.as_str());
    let missing = app
        .get(
            &format!("/api/v1/runs/{run_id}/artifacts/nope.jpg"),
            Some(&t),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let other = app.workspace().await;
    assert_eq!(
        app.get(&format!("/api/v1/runs/{run_id}"), Some(&other))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A PNG header claiming `w`×`h` pixels (enough for the header check; no pixel data).
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

/// Not an image, a 200 MP photo, too many photos, no photos, a bad products part, an unknown part,
/// an oversized upload: each a clear 4xx; a corrupt JPEG that looks like one fails on its own file.
async fn bad_run_uploads_are_refused(db: Db) {
    let app = app_with(db, |c| {
        c.max_photos_per_run = 3;
        c.max_upload_bytes = 2 * 1024 * 1024;
    })
    .await;
    let t = app.workspace().await;
    let id = app.create_workflow(&t, SIMPLE).await;
    let url = format!("/api/v1/workflows/{id}/runs");
    let coffee = photo("photos/coffee.jpg");
    let post = |parts: Vec<(&'static str, Option<&'static str>, Vec<u8>)>| {
        let app = &app;
        let url = url.clone();
        let t = t.clone();
        async move {
            let refs: Vec<(&str, Option<&str>, &[u8])> = parts
                .iter()
                .map(|(a, b, c)| (*a, *b, c.as_slice()))
                .collect();
            let (ct, body) = multipart(&refs);
            app.call(Method::POST, &url, Some(&t), &[("content-type", &ct)], body)
                .await
        }
    };
    let r = post(vec![(
        "photo",
        Some("notes.txt"),
        b"hello, not a photo".to_vec(),
    )])
    .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(r.message().contains("notes.txt"), "{}", r.message());

    let r = post(vec![(
        "photo",
        Some("huge.png"),
        png_header(20_000, 10_000),
    )])
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.message().contains("200 MP") && r.message().contains("limit"),
        "{}",
        r.message()
    );

    let four: Vec<_> = (0..4)
        .map(|_| ("photo", Some("c.jpg"), b"\xFF\xD8\xFF\xE0".to_vec()))
        .collect();
    let r = post(four).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.message().contains("at most 3"), "{}", r.message());

    let r = post(vec![("products", None, b"{}".to_vec())]).await;
    assert_eq!(r.code(), "no_photos");
    let r = post(vec![
        ("photo", Some("c.jpg"), coffee.clone()),
        ("products", None, b"[oops".to_vec()),
    ])
    .await;
    assert_eq!(r.code(), "invalid_products");
    let r = post(vec![("video", Some("c.mp4"), b"x".to_vec())]).await;
    assert_eq!(r.code(), "unknown_part");
    let r = post(vec![("photo", Some("empty.jpg"), Vec::new())]).await;
    assert_eq!(r.code(), "empty_photo");
    let big: Vec<_> = (0..3)
        .map(|_| ("photo", Some("big.jpg"), vec![0xFFu8; 1024 * 1024]))
        .collect();
    let r = post(big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", r.json);

    // A damaged JPEG is accepted as a file and fails on its own, beside a good photo.
    let mut damaged = coffee.clone();
    damaged.truncate(coffee.len() / 3);
    for b in damaged.iter_mut().skip(600).step_by(7) {
        *b = 0x5A;
    }
    let r = post(vec![
        ("photo", Some("damaged.jpg"), damaged),
        ("photo", Some("coffee.jpg"), coffee),
    ])
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let run = app.wait_run(&t, r.json["run_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done");
    assert_eq!(run["report"]["failed"], 1);
    assert_eq!(run["report"]["ok"], 1);
    let err = run["report"]["photos"][0]["error"].as_str().unwrap();
    assert!(err.contains("damaged.jpg"), "{err}");

    let plain = app
        .call(
            Method::POST,
            &url,
            Some(&t),
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert_eq!(plain.code(), "bad_multipart");

    let unknown = app
        .call(
            Method::POST,
            "/api/v1/workflows/wf_nope/runs",
            Some(&t),
            &[("content-type", "multipart/form-data; boundary=x")],
            "--x--\r\n",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// A token over its per-minute budget gets 429 with Retry-After.
async fn requests_per_token_are_limited(db: Db) {
    let app = app_with(db, |c| c.rate_per_minute = 5).await;
    let t = app.workspace().await;
    let other = app.workspace().await;
    for _ in 0..5 {
        assert_eq!(
            app.get("/api/v1/workflows", Some(&t)).await.status,
            StatusCode::OK
        );
    }
    let r = app.get("/api/v1/workflows", Some(&t)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "rate_limited");
    assert!(r.message().contains("5 a minute"));
    assert!(r.headers.contains_key("retry-after"));
    // Another token has its own budget.
    assert_eq!(
        app.get("/api/v1/workflows", Some(&other)).await.status,
        StatusCode::OK
    );
}

/// A loopback HTTP server for webhook tests: serves fixture photos under /img/<name> and records
/// POSTs to /notify (503 for the first `fail_first`).
struct Peer {
    base: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>,
}

async fn peer(fail_first: usize) -> Peer {
    use axum::routing::{get, post};
    let received: std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>> =
        Default::default();
    let fails = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(fail_first));
    let rec = received.clone();
    let router = axum::Router::new()
        .route(
            "/img/{name}",
            get(
                |axum::extract::Path(name): axum::extract::Path<String>| async move {
                    match name.as_str() {
                        "mug.jpg" => (StatusCode::OK, photo("scenes/mug.jpg")),
                        "ring.jpg" => (StatusCode::OK, photo("scenes/ring.jpg")),
                        _ => (StatusCode::NOT_FOUND, Vec::new()),
                    }
                },
            ),
        )
        .route(
            "/notify",
            post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let rec = rec.clone();
                    let fails = fails.clone();
                    async move {
                        if fails
                            .fetch_update(
                                std::sync::atomic::Ordering::SeqCst,
                                std::sync::atomic::Ordering::SeqCst,
                                |n| n.checked_sub(1),
                            )
                            .is_ok()
                        {
                            return StatusCode::SERVICE_UNAVAILABLE;
                        }
                        rec.lock().unwrap().push((headers, body.to_vec()));
                        StatusCode::OK
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Peer {
        base: format!("http://{addr}"),
        received,
    }
}

async fn new_hook(app: &App, t: &str, wf: &str, body: Value) -> Value {
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{wf}/hooks"),
            Some(t),
            &[],
            body.to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.json);
    r.json
}

/// Generic webhook: a signed body with an image URL (from a loopback server) and a base64 image
/// queues a run that processes both; a bad or missing signature is 401; a repeated
/// Idempotency-Key returns the first run instead of a new one.
async fn generic_webhook_signed_and_idempotent(db: Db) {
    use base64::Engine as _;
    let app = app(db).await;
    let peer = peer(0).await;
    let t = app.workspace().await;
    let wf = app.create_workflow(&t, SIMPLE).await;
    let hook = new_hook(&app, &t, &wf, json!({"kind": "generic"})).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let path = hook["path"].as_str().unwrap().to_string();
    let body = json!({
        "images": [
            {"url": format!("{}/img/mug.jpg", peer.base)},
            {"name": "ring.jpg", "base64": base64::engine::general_purpose::STANDARD.encode(photo("scenes/ring.jpg"))}
        ],
        "product": {"sku": "SET-1", "category": "Gifts"}
    })
    .to_string();
    let sig = shotline_server::signature::sign_shotline(secret.as_bytes(), body.as_bytes());

    let unsigned = app.call(Method::POST, &path, None, &[], body.clone()).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unsigned.code(), "bad_signature");
    let wrong = shotline_server::signature::sign_shotline(b"not the secret", body.as_bytes());
    let r = app
        .call(
            Method::POST,
            &path,
            None,
            &[("x-shotline-signature", &wrong)],
            body.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let tampered = body.replace("SET-1", "SET-2");
    let r = app
        .call(
            Method::POST,
            &path,
            None,
            &[("x-shotline-signature", &sig)],
            tampered,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let headers = [
        ("x-shotline-signature", sig.as_str()),
        ("idempotency-key", "delivery-1"),
    ];
    let first = app
        .call(Method::POST, &path, None, &headers, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.json);
    let run_id = first.json["run_id"].as_str().unwrap().to_string();
    let again = app
        .call(Method::POST, &path, None, &headers, body.clone())
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["run_id"], run_id.as_str());
    assert_eq!(again.json["duplicate"], true);

    let run = app.wait_run(&t, &run_id).await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["source"], "webhook:generic");
    assert_eq!(run["report"]["ok"], 2, "{}", run["report"]);
    assert_eq!(run["report"]["photos"][0]["product"]["sku"], "SET-1");
    let runs = app
        .get(&format!("/api/v1/workflows/{wf}/runs"), Some(&t))
        .await;
    assert_eq!(
        runs.json["runs"].as_array().unwrap().len(),
        1,
        "the repeat made no second run"
    );

    let bad_json = "{\"images\": [{\"url\": 5}]}";
    let sig = shotline_server::signature::sign_shotline(secret.as_bytes(), bad_json.as_bytes());
    let r = app
        .call(
            Method::POST,
            &path,
            None,
            &[("x-shotline-signature", &sig)],
            bad_json,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "invalid_json");
    let unknown = app
        .call(Method::POST, "/api/v1/hooks/hk_nope", None, &[], "{}")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

/// Shopify's product webhook, verified with X-Shopify-Hmac-Sha256: the product's images are
/// fetched and processed with its fields; a replayed X-Shopify-Webhook-Id is ignored.
async fn shopify_webhook_fetches_images(db: Db) {
    use base64::Engine as _;
    use hmac::Mac;
    let app = app(db).await;
    let peer = peer(0).await;
    let t = app.workspace().await;
    let wf = app
        .create_workflow(&t, &SIMPLE.replace("{stem}-800.jpg", "{sku}.jpg"))
        .await;
    let hook = new_hook(
        &app,
        &t,
        &wf,
        json!({"kind": "shopify", "secret": "shpss_test_secret_123"}),
    )
    .await;
    let path = hook["path"].as_str().unwrap().to_string();
    let body = json!({
        "id": 788032119674292922u64,
        "title": "Ceramic mug",
        "product_type": "Kitchen",
        "vendor": "Acme",
        "tags": "mug, ceramic",
        "variants": [{"sku": "MUG-RED", "price": "19.00"}],
        "images": [{"src": format!("{}/img/mug.jpg?v=1", peer.base)}]
    })
    .to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"shpss_test_secret_123").unwrap();
    mac.update(body.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());

    let bad = app
        .call(
            Method::POST,
            &path,
            None,
            &[
                ("x-shopify-hmac-sha256", "AAAA"),
                ("x-shopify-webhook-id", "w-1"),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let headers = [
        ("x-shopify-hmac-sha256", sig.as_str()),
        ("x-shopify-webhook-id", "w-1"),
    ];
    let first = app
        .call(Method::POST, &path, None, &headers, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{:?}", first.json);
    let replay = app
        .call(Method::POST, &path, None, &headers, body.clone())
        .await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.json["run_id"], first.json["run_id"]);
    let run = app
        .wait_run(&t, first.json["run_id"].as_str().unwrap())
        .await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["artifacts"][0]["name"], "MUG-RED.jpg");
    assert_eq!(run["report"]["photos"][0]["product"]["category"], "Kitchen");
}

/// A notify step POSTs a summary signed with its secret when the run ends, retrying a receiver
/// that fails at first; the run records the delivery.
async fn notify_step_posts_a_signed_summary(db: Db) {
    let app = app(db).await;
    let peer = peer(2).await;
    let t = app.workspace().await;
    let doc = SIMPLE.replace(
        "\"steps\": [",
        &format!("\"steps\": [{{\"type\": \"notify\", \"url\": \"{}/notify\", \"secret\": \"notify-secret\"}},", peer.base),
    );
    let wf = app.create_workflow(&t, &doc).await;
    let mug = photo("scenes/mug.jpg");
    let (ct, body) = multipart(&[("photo", Some("mug.jpg"), &mug)]);
    let r = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{wf}/runs"),
            Some(&t),
            &[("content-type", &ct)],
            body,
        )
        .await;
    let run = app.wait_run(&t, r.json["run_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done");
    assert_eq!(
        run["notifications"][0]["ok"], true,
        "{}",
        run["notifications"]
    );
    assert_eq!(run["notifications"][0]["attempts"], 3);
    let got = peer.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, bytes) = &got[0];
    let sig = headers["x-shotline-signature"].to_str().unwrap();
    assert!(shotline_server::signature::verify_shotline(
        b"notify-secret",
        bytes,
        sig
    ));
    let summary: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(summary["event"], "run.finished");
    assert_eq!(summary["ok"], 1);
    let link = summary["photos"][0]["artifacts"][0]["url"]
        .as_str()
        .unwrap();
    assert_eq!(app.get(link, Some(&t)).await.status, StatusCode::OK);
}

/// Without the explicit allowance, a webhook's loopback image URL is refused: that photo fails
/// with a message naming the private address, and the run still ends.
async fn private_addresses_are_not_fetched(db: Db) {
    let app = app_with(db, |c| c.fetch.allow_private = false).await;
    let peer = peer(0).await;
    let t = app.workspace().await;
    let wf = app.create_workflow(&t, SIMPLE).await;
    let hook = new_hook(
        &app,
        &t,
        &wf,
        json!({"kind": "generic", "secret": "a-long-secret"}),
    )
    .await;
    let body = json!({"images": [{"url": format!("{}/img/mug.jpg", peer.base)}]}).to_string();
    let sig = shotline_server::signature::sign_shotline(b"a-long-secret", body.as_bytes());
    let r = app
        .call(
            Method::POST,
            hook["path"].as_str().unwrap(),
            None,
            &[("x-shotline-signature", &sig)],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let run = app.wait_run(&t, r.json["run_id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done");
    assert_eq!(run["report"]["failed"], 1);
    let err = run["report"]["photos"][0]["error"].as_str().unwrap();
    assert!(
        err.contains("127.0.0.1") || err.contains("private"),
        "{err}"
    );
}

/// Unknown endpoints and wrong methods answer in the API's JSON error shape; health is up.
#[tokio::test]
async fn unknown_routes_answer_json() {
    let app = app(Db::Sqlite).await;
    let r = app.get("/api/v1/nothing-here", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
    let r = app
        .call(
            Method::PATCH,
            "/api/v1/workspaces",
            None,
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method_not_allowed");
    let h = app.get("/healthz", None).await;
    assert_eq!(h.status, StatusCode::OK);
    let hook = app
        .call(
            Method::POST,
            "/api/v1/workflows/wf_x/hooks",
            None,
            &[],
            "{}",
        )
        .await;
    assert_eq!(hook.status, StatusCode::UNAUTHORIZED);
}

/// Hooks with a wrong kind, a weak secret, unknown fields or malformed JSON; shares, hooks,
/// revisions and restores of unknown workflows: each a 4xx with a code, nothing created.
async fn bad_hook_and_share_requests_are_refused(db: Db) {
    let app = app(db).await;
    let t = app.workspace().await;
    let wf = app.create_workflow(&t, SIMPLE).await;
    let hooks = format!("/api/v1/workflows/{wf}/hooks");
    for (body, code) in [
        (json!({"kind": "zapier"}).to_string(), "bad_kind"),
        (
            json!({"kind": "shopify", "secret": "short"}).to_string(),
            "weak_secret",
        ),
        (
            json!({"kind": "generic", "colour": "red"}).to_string(),
            "invalid_json",
        ),
        ("{\"kind\": ".to_string(), "invalid_json"),
        (String::new(), "invalid_json"),
    ] {
        let r = app
            .call(Method::POST, &hooks, Some(&t), &[], body.clone())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {:?}", r.json);
        assert_eq!(r.code(), code, "{body}");
    }
    let none = app
        .call(
            Method::POST,
            "/api/v1/workflows/wf_missing/hooks",
            Some(&t),
            &[],
            json!({"kind": "generic"}).to_string(),
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    for (method, uri) in [
        (Method::POST, "/api/v1/workflows/wf_missing/shares"),
        (Method::GET, "/api/v1/workflows/wf_missing/revisions"),
        (Method::GET, "/api/v1/workflows/wf_missing/revisions/1"),
        (
            Method::POST,
            "/api/v1/workflows/wf_missing/revisions/1/restore",
        ),
        (Method::DELETE, "/api/v1/workflows/wf_missing"),
        (Method::DELETE, "/api/v1/shares/nope"),
        (Method::GET, "/api/v1/runs/run_missing"),
        (Method::GET, "/api/v1/workflows/wf_missing/runs"),
        (Method::GET, "/api/v1/runs/run_missing/artifacts/a.jpg"),
    ] {
        let r = app
            .call(method.clone(), uri, Some(&t), &[], Body::empty())
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(r.code(), "not_found");
    }
    let restore = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{wf}/revisions/7/restore"),
            Some(&t),
            &[],
            Body::empty(),
        )
        .await;
    assert_eq!(restore.status, StatusCode::NOT_FOUND);
    assert!(restore.message().contains("revision 7"));
    let stale = app
        .call(
            Method::POST,
            &format!("/api/v1/workflows/{wf}/revisions/1/restore"),
            Some(&t),
            &[("if-match", "0")],
            Body::empty(),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        app.get(&format!("/api/v1/workflows/{wf}"), Some(&t))
            .await
            .json["revision"],
        1
    );
    assert_eq!(
        app.get("/api/v1/shared/nope", None).await.status,
        StatusCode::NOT_FOUND
    );
}
