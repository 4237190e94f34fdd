//! Golden images: a fixed line of steps on the rendered product scenes must keep producing the same
//! picture, within a tolerance (mean absolute difference ≤ 1.5 levels, and ≤ 0.5 % of pixels off by
//! more than 24). Regenerate deliberately with `SHOTLINE_UPDATE_GOLDEN=1 cargo test --test golden`
//! and look at the new PNGs before committing them.

use shotline_core::codec::{self, Limits};
use shotline_core::engine::{run_one, Input, RunOptions};
use shotline_core::model::Format;
use std::path::PathBuf;

const LINE: &str = r##"{"schema":1,"name":"golden","steps":[
    {"type":"auto_enhance"},
    {"type":"remove_background","method":"color_key"},
    {"type":"shadow"},
    {"type":"crop_to_subject","fill":0.85},
    {"type":"resize","width":320,"height":320,"fit":"pad","background":"transparent"},
    {"type":"background","color":"#FFFFFF"},
    {"type":"export","format":"png"}]}"##;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(scene: &str) {
    let wf = shotline_core::validate::load(LINE).unwrap();
    let bytes = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../fixtures/scenes/{scene}.jpg")),
    )
    .unwrap();
    let report = run_one(
        &wf,
        &Input::new(format!("{scene}.jpg"), bytes),
        1,
        &RunOptions::default(),
    );
    assert!(report.error.is_none(), "{:?}", report.error);
    let out = &report.artifacts[0].bytes;
    let path = golden_dir().join(format!("{scene}.png"));
    if std::env::var("SHOTLINE_UPDATE_GOLDEN").is_ok() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, out).unwrap();
        return;
    }
    let want = codec::decode(
        "golden",
        &std::fs::read(&path).expect("golden image exists"),
        &Limits::default(),
    )
    .unwrap()
    .image;
    let got = codec::decode("output", out, &Limits::default())
        .unwrap()
        .image;
    assert_eq!(got.dimensions(), want.dimensions());
    let (mut sum, mut far) = (0u64, 0usize);
    for (a, b) in got.as_raw().iter().zip(want.as_raw()) {
        let d = (*a as i32 - *b as i32).unsigned_abs();
        sum += d as u64;
        if d > 24 {
            far += 1;
        }
    }
    let n = got.as_raw().len();
    let mean = sum as f64 / n as f64;
    if mean > 1.5 || far * 200 > n {
        let diff = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{scene}-actual.png"));
        std::fs::write(
            &diff,
            codec::encode(&got, Format::Png, 90, [255; 4]).unwrap(),
        )
        .unwrap();
        panic!("{scene}: differs from its golden image (mean {mean:.2}, {far} values off by > 24); actual written to {}", diff.display());
    }
}

#[test]
fn golden_mug() {
    check("mug");
}

#[test]
fn golden_ring() {
    check("ring");
}

#[test]
fn golden_shoe() {
    check("shoe");
}
