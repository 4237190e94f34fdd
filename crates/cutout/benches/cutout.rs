//! The neural cut-out at 12 MP against the colour key in the same run (the speed a merchant gets
//! without the model), with the model's load and its bare 320² inference beside them.
//!
//! Photo: the mug scene (`fixtures/scenes/mug.jpg`) upscaled to 4000×3000 and encoded as JPEG q90
//! in memory. Needs `models/u2netp.onnx` (`scripts/fetch-model.sh`) or `SHOTLINE_MODEL`.
//! Run: `cargo bench -p shotline-cutout --bench cutout` (one core: `taskset -c 0 cargo bench ...`).
//! Target (issue 5): decode → cut-out ≤ 0.5 s natively on one core; model load ≤ 0.5 s.

use criterion::{criterion_group, criterion_main, Criterion};
use shotline_core::codec::{self, Limits};
use shotline_core::model::Format;
use shotline_core::ops::remove_background::{self, Method, RemoveBackground};
use shotline_core::Raster;
use shotline_cutout::Cutout;
use std::path::PathBuf;
use std::time::Duration;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_bytes() -> Vec<u8> {
    let path = std::env::var_os("SHOTLINE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/u2netp.onnx"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run scripts/fetch-model.sh or set SHOTLINE_MODEL",
            path.display()
        )
    })
}

fn photo_12mp() -> Vec<u8> {
    let bytes = std::fs::read(repo().join("fixtures/scenes/mug.jpg")).expect("mug scene");
    let img = codec::decode("mug.jpg", &bytes, &Limits::default())
        .expect("decodes")
        .image;
    let big = image::imageops::resize(&img.to_image(), 4000, 3000, image::imageops::Triangle);
    codec::encode(&Raster::from_image(big), Format::Jpeg, 90, [255; 4]).expect("encodes")
}

fn cut(jpeg: &[u8], method: Method, model: Option<&Cutout>) -> Raster {
    let mut img = codec::decode("big.jpg", jpeg, &Limits::default())
        .expect("decodes")
        .image;
    let p = RemoveBackground {
        method,
        ..Default::default()
    };
    let seg = model.map(|m| m as &dyn shotline_core::engine::Segmenter);
    remove_background::apply(&mut img, &p, seg).expect("cut-out");
    img
}

fn cutout(c: &mut Criterion) {
    let bytes = model_bytes();
    let model = Cutout::from_bytes(&bytes).expect("the model loads");
    let jpeg = photo_12mp();
    let small = codec::decode("big.jpg", &jpeg, &Limits::default())
        .expect("decodes")
        .image;

    let mut g = c.benchmark_group("cutout_12mp");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("baseline: colour key, decode → cut-out", |b| {
        b.iter(|| cut(&jpeg, Method::ColorKey, None))
    });
    g.bench_function("neural, decode → cut-out", |b| {
        b.iter(|| cut(&jpeg, Method::Neural, Some(&model)))
    });
    g.bench_function("neural inference alone (320²)", |b| {
        b.iter(|| model.net().predict(&small).expect("inference"))
    });
    g.bench_function("model load (parse + optimise)", |b| {
        b.iter(|| Cutout::from_bytes(&bytes).expect("loads"))
    });
    g.finish();
}

criterion_group!(benches, cutout);
criterion_main!(benches);
