//! The neural cut-out on real files: the model fetched by `scripts/fetch-model.sh`, the product
//! scenes in `fixtures/scenes` with their exact masks in `fixtures/masks`.
//!
//! These tests need `models/u2netp.onnx` (or `SHOTLINE_MODEL`). When it is missing they fail and
//! say how to fetch it: a silent skip would let CI pass without ever running the model.

use shotline_core::codec::{self, Limits};
use shotline_core::engine::{run_one, Input, RunOptions};
use shotline_core::ops::remove_background::{self, Method, RemoveBackground};
use shotline_core::{Raster, Workflow};
use shotline_cutout::{metrics, Cutout};
use std::path::PathBuf;
use std::sync::OnceLock;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cutout() -> &'static Cutout {
    static MODEL: OnceLock<Cutout> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = std::env::var_os("SHOTLINE_MODEL")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("models/u2netp.onnx"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: cannot read the cut-out model ({e}); run scripts/fetch-model.sh \
                 (scripts/setup.sh does) or set SHOTLINE_MODEL",
                path.display()
            )
        });
        Cutout::from_bytes(&bytes).expect("the fetched model loads")
    })
}

fn scene(name: &str) -> (Raster, Vec<u8>) {
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let photo = read(repo().join(format!("fixtures/scenes/{name}.jpg")));
    let mask = read(repo().join(format!("fixtures/masks/{name}-mask.png")));
    let img = codec::decode(name, &photo, &Limits::default())
        .expect("photo decodes")
        .image;
    let mask = codec::decode(name, &mask, &Limits::default())
        .expect("mask decodes")
        .image;
    let gt: Vec<u8> = mask.pixels().map(|p| p[0]).collect();
    (img, gt)
}

/// The engine's `remove_background` with the neural method on the mug and shoe scenes meets an
/// IoU floor against the exact mask, and refinement does not do worse than the raw model. (The
/// ring scene is left out: the model alone gets IoU 0.45 on the thin ring, a known gap that
/// combining it with the colour key on plain backdrops is meant to close.)
#[test]
fn scenes_meet_the_iou_floor() {
    for name in ["mug", "shoe"] {
        let (img, gt) = scene(name);
        let mut out = img.clone();
        let p = RemoveBackground {
            method: Method::Neural,
            ..Default::default()
        };
        remove_background::apply(&mut out, &p, Some(cutout())).expect("cut-out runs");
        let alpha = out.alpha();
        let iou = metrics::iou(&alpha, &gt);
        let raw = cutout()
            .with_refine(None)
            .mask(&img)
            .expect("raw model runs");
        let raw_iou = metrics::iou(&raw, &gt);
        eprintln!("{name}: IoU refined {iou:.4}, raw {raw_iou:.4}");
        assert!(iou >= 0.93, "{name}: IoU {iou:.4}");
        assert!(
            iou >= raw_iou - 0.01,
            "{name}: refined {iou:.4} < raw {raw_iou:.4}"
        );
    }
}

fn export(name: &str, steps: &str) -> Raster {
    let wf = Workflow::from_json(&format!(r#"{{"schema":1,"name":"t","steps":{steps}}}"#))
        .expect("workflow");
    let bytes = std::fs::read(repo().join(format!("fixtures/scenes/{name}.jpg"))).expect("photo");
    let opts = RunOptions {
        segmenter: Some(cutout()),
        ..Default::default()
    };
    let r = run_one(&wf, &Input::new(format!("{name}.jpg"), bytes), 1, &opts);
    assert!(r.error.is_none(), "{:?}", r.error);
    let a = r.artifacts.first().expect("one artifact");
    codec::decode(&a.name, &a.bytes, &Limits::default())
        .expect("artifact decodes")
        .image
}

/// Cut out with the model, put on white, export JPEG: every border pixel of the file is exactly
/// 255, 255, 255 (what Amazon's main-image rule checks).
#[test]
fn white_background_is_pure_white_after_jpeg_export() {
    for name in ["mug", "shoe"] {
        let img = export(
            name,
            r##"[{"type":"remove_background","method":"neural"},
                {"type":"background","color":"#FFFFFF"},
                {"type":"export","format":"jpeg","quality":90,"name":"{stem}.jpg"}]"##,
        );
        let (w, h) = img.dimensions();
        for x in 0..w {
            for y in [0, 1, h - 2, h - 1] {
                assert_eq!(img.get(x, y), [255, 255, 255, 255], "{name} at {x},{y}");
            }
        }
        for y in 0..h {
            for x in [0, 1, w - 2, w - 1] {
                assert_eq!(img.get(x, y), [255, 255, 255, 255], "{name} at {x},{y}");
            }
        }
    }
}

/// A transparent PNG keeps straight (not premultiplied) colour on its soft edge: a soft pixel is
/// never much darker than the darkest opaque subject pixel near it (a dark fringe shows on any
/// light page), and never much lighter than the lightest one (no backdrop spill).
#[test]
fn transparent_png_has_no_dark_fringe_or_spill() {
    for name in ["mug", "shoe", "ring"] {
        let img = export(
            name,
            r#"[{"type":"remove_background","method":"neural"},
                {"type":"export","format":"png","name":"{stem}.png"}]"#,
        );
        let (w, h) = img.dimensions();
        let luma = |p: [u8; 4]| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32;
        let (mut soft, mut dark, mut light) = (0usize, 0usize, 0usize);
        for y in 4..h - 4 {
            for x in 4..w - 4 {
                let p = img.get(x, y);
                if p[3] == 0 || p[3] == 255 {
                    continue;
                }
                let (mut lo, mut hi) = (f32::MAX, f32::MIN);
                for ny in y - 4..=y + 4 {
                    for nx in x - 4..=x + 4 {
                        let q = img.get(nx, ny);
                        if q[3] == 255 {
                            lo = lo.min(luma(q));
                            hi = hi.max(luma(q));
                        }
                    }
                }
                if lo > hi {
                    continue;
                }
                soft += 1;
                dark += (luma(p) < lo - 12.0) as usize;
                light += (luma(p) > hi + 12.0) as usize;
            }
        }
        eprintln!("{name}: {soft} soft edge pixels, {dark} dark, {light} light");
        assert!(soft > 200, "{name}: only {soft} soft edge pixels");
        assert!(
            dark * 100 <= soft,
            "{name}: {dark} of {soft} soft pixels form a dark fringe"
        );
        assert!(
            light * 100 <= soft,
            "{name}: {light} of {soft} soft pixels carry backdrop"
        );
    }
}

/// Bytes that are not the model fail with a message that says so; nothing panics.
#[test]
fn a_broken_model_is_a_clear_error() {
    for bytes in [&b""[..], b"not an onnx file", &[0u8; 4096][..]] {
        let e = Cutout::from_bytes(bytes).expect_err("garbage is not a model");
        assert!(e.to_string().contains("model could not be loaded"), "{e}");
    }
}

/// Timing of a 12 MP photo, decode to cut-out, and of loading the model (run with
/// `taskset -c 0 cargo test --release -p shotline-cutout --test cutout -- --ignored --nocapture`).
#[test]
#[ignore]
fn timing_12mp() {
    let path = std::env::var_os("SHOTLINE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/u2netp.onnx"));
    let bytes = std::fs::read(&path).expect("model");
    let t = std::time::Instant::now();
    let model = Cutout::from_bytes(&bytes).expect("model loads");
    eprintln!("model load: {:?}", t.elapsed());
    let (img, _) = scene("mug");
    let big = image::imageops::resize(&img.to_image(), 4000, 3000, image::imageops::Triangle);
    let jpeg = codec::encode(
        &Raster::from_image(big),
        shotline_core::model::Format::Jpeg,
        90,
        [255; 4],
    )
    .expect("encode");
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let mut img = codec::decode("big.jpg", &jpeg, &Limits::default())
            .expect("decode")
            .image;
        let decoded = t.elapsed();
        let t1 = std::time::Instant::now();
        let map = model.net().predict(&img).expect("inference");
        let inferred = t1.elapsed();
        let t2 = std::time::Instant::now();
        let p = RemoveBackground {
            method: Method::Neural,
            ..Default::default()
        };
        remove_background::apply(&mut img, &p, Some(&shotline_cutout::KnownMap(&map)))
            .expect("cut-out");
        eprintln!(
            "12 MP: decode {decoded:?}, inference {inferred:?}, refine + edges {:?}, total {:?}",
            t2.elapsed(),
            t.elapsed()
        );
    }
}
