//! The `shotline` command line, end to end: the real binary on real files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shotline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shotline"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A bundled workflow over three product photos and a CSV writes one Amazon image per photo named
/// by SKU, a report.json, a listing.csv row per photo, and a summary table; the images pass the check.
#[test]
fn run_amazon_template_over_a_folder_with_products() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let r = shotline(&[
        "run",
        "--workflow",
        "amazon-main",
        "--products",
        "fixtures/products.csv",
        "--out",
        o,
        "fixtures/scenes",
    ]);
    let stdout = text(&r.stdout);
    assert_eq!(
        r.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        text(&r.stderr)
    );
    assert!(stdout.contains("3 ok, 0 failed"), "{stdout}");
    for sku in ["MUG-RED-01", "RING-925-07", "SHOE-BL-42"] {
        let f = out.path().join(format!("{sku}-amazon_main.jpg"));
        assert!(f.exists(), "missing {}: {stdout}", f.display());
        let c = shotline(&["check", "--channel", "amazon", f.to_str().unwrap()]);
        assert_eq!(c.status.code(), Some(0), "{}", text(&c.stdout));
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["ok"], 3);
    assert_eq!(report["photos"].as_array().unwrap().len(), 3);
    let listing = std::fs::read_to_string(out.path().join("listing.csv")).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 4, "{listing}");
    assert!(listing.contains("Sterling Silver Ring"), "{listing}");
}

/// One corrupt photo fails alone, with its name and reason; the others still run; exit code 1.
#[test]
fn a_corrupt_photo_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("fixtures/photos/coffee.jpg"),
        dir.path().join("coffee.jpg"),
    )
    .unwrap();
    let mut broken = std::fs::read(root().join("fixtures/photos/rocket.jpg")).unwrap();
    broken.truncate(600);
    std::fs::write(dir.path().join("broken.jpg"), &broken).unwrap();
    std::fs::write(dir.path().join("notes.jpg"), b"not a photo at all").unwrap();
    let out = tempfile::tempdir().unwrap();
    let r = shotline(&[
        "run",
        "-w",
        "social-watermark",
        "-o",
        out.path().to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ]);
    let stdout = text(&r.stdout);
    assert_eq!(r.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("1 ok, 2 failed"), "{stdout}");
    assert!(
        stdout.contains("notes.jpg: the file is not a JPEG, PNG or WebP image"),
        "{stdout}"
    );
    assert!(out.path().join("coffee-social.jpg").exists(), "{stdout}");
}

/// A workflow with mistakes is refused before anything runs, naming each step path.
#[test]
fn invalid_workflows_name_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("wf.json");
    std::fs::write(&wf, r#"{"schema":1,"name":"x","steps":[{"type":"if","when":{"field":"product.price","op":"gt","value":"cheap"},"then":[{"type":"export","quality":0}]}]}"#).unwrap();
    let r = shotline(&["validate", wf.to_str().unwrap()]);
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(
        err.contains("steps[0].when") && err.contains("product.price"),
        "{err}"
    );
    assert!(err.contains("steps[0].then[0].quality"), "{err}");

    std::fs::write(
        &wf,
        r#"{"schema":1,"name":"x","steps":[{"type":"export","quality":400}]}"#,
    )
    .unwrap();
    let r = shotline(&["validate", wf.to_str().unwrap()]);
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert!(
        err.contains("400") && err.contains("line 1 column"),
        "{err}"
    );

    std::fs::write(&wf, "{ not json").unwrap();
    let r = shotline(&["run", "-w", wf.to_str().unwrap(), "fixtures/photos"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("not valid JSON"),
        "{}",
        text(&r.stderr)
    );
}

/// `templates` lists every bundled workflow and prints one as valid JSON.
#[test]
fn templates_are_listed() {
    let r = shotline(&["templates"]);
    let s = text(&r.stdout);
    for name in [
        "Amazon main image",
        "Shopify + Instagram pack",
        "Jewellery: glare fix then Amazon",
        "Social with watermark",
        "Rules by category",
    ] {
        assert!(s.contains(name), "{s}");
    }
    let r = shotline(&["templates", "by-category"]);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["steps"][0]["type"], "if");
}

/// `check` fails an unprocessed photo for Amazon and says why.
#[test]
fn check_reports_reasons() {
    let r = shotline(&["check", "--channel", "amazon", "fixtures/photos/coffee.jpg"]);
    let s = text(&r.stdout);
    assert_eq!(r.status.code(), Some(1), "{s}");
    assert!(s.contains("FAIL") && s.contains("✗"), "{s}");
    let r = shotline(&[
        "check",
        "--channel",
        "myspace",
        "fixtures/photos/coffee.jpg",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r.stderr).contains("unknown channel `myspace`"));
}
