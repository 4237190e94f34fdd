//! Engine benchmarks on real 12–20 MP photographs, each against a baseline measured in the same run.
//!
//! Photos: Debian's `lomiri-wallpapers-16.04` / `-20.04` (fetched by `scripts/bench.sh` into
//! `bench-data/`, never committed). Set `SHOTLINE_BENCH_DIR` to another folder of JPEGs to use others.
//! Run: `bash scripts/bench.sh` (or `cargo bench -p shotline-core --bench pipeline`).
//!
//! - `fit2048`: decode → fit in 2048² → pad white → JPEG q85, through the engine (zune-jpeg,
//!   fast_image_resize, jpeg-encoder) vs. the same job with the `image` crate alone (its JPEG decoder,
//!   `imageops::resize` Lanczos3, its JPEG encoder) — the baseline a naive implementation would get.
//! - `amazon_preset`: the "Amazon main image" template (colour-key cut-out, crop to 85 %, 2000², white,
//!   JPEG) on a 12 MP product photo, vs. the decode + encode alone (the floor any pipeline pays).

use criterion::{criterion_group, criterion_main, Criterion};
use shotline_core::engine::{run_one, Input, RunOptions};
use shotline_core::templates;
use std::path::PathBuf;
use std::time::Duration;

fn bench_photos() -> Vec<(String, Vec<u8>)> {
    let dir = std::env::var("SHOTLINE_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench-data/photos")
        });
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} — run scripts/bench.sh, which fetches the photos",
                dir.display()
            )
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn fit2048_workflow() -> shotline_core::Workflow {
    shotline_core::validate::parse(
        r##"{"schema":1,"name":"fit 2048","steps":[
            {"type":"resize","width":2048,"height":2048,"fit":"pad","background":"#FFFFFF"},
            {"type":"export","format":"jpeg","quality":85}]}"##,
    )
    .unwrap()
}

/// The same job with the `image` crate only.
fn fit2048_image_crate(bytes: &[u8]) -> Vec<u8> {
    use image::{imageops, GenericImage, ImageBuffer, Rgb};
    let img = image::load_from_memory(bytes).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let s = 2048.0 / w.max(h) as f64;
    let (nw, nh) = (
        ((w as f64 * s).round() as u32).max(1),
        ((h as f64 * s).round() as u32).max(1),
    );
    let small = imageops::resize(&img, nw, nh, imageops::FilterType::Lanczos3);
    let mut canvas: ImageBuffer<Rgb<u8>, Vec<u8>> =
        ImageBuffer::from_pixel(2048, 2048, Rgb([255, 255, 255]));
    canvas
        .copy_from(&small, (2048 - nw) / 2, (2048 - nh) / 2)
        .unwrap();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&canvas)
        .unwrap();
    out
}

fn fit2048(c: &mut Criterion) {
    let photos = bench_photos();
    let wf = fit2048_workflow();
    let opts = RunOptions::default();
    let mut g = c.benchmark_group("fit2048");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("engine", |b| {
        b.iter(|| {
            for (name, bytes) in &photos {
                let r = run_one(&wf, &Input::new(name.clone(), bytes.clone()), 1, &opts);
                assert!(r.error.is_none(), "{:?}", r.error);
            }
        })
    });
    g.bench_function("baseline_image_crate", |b| {
        b.iter(|| {
            for (_, bytes) in &photos {
                std::hint::black_box(fit2048_image_crate(bytes));
            }
        })
    });
    g.finish();
}

/// A 12 MP (4000×3000) product photo: the rendered mug scene upscaled, encoded once outside the loop.
fn product_12mp() -> Vec<u8> {
    let small = shotline_core::codec::decode(
        "mug.jpg",
        include_bytes!("../../../fixtures/scenes/mug.jpg"),
        &Default::default(),
    )
    .unwrap()
    .image;
    let mut big = small;
    shotline_core::ops::resize::apply(
        &mut big,
        &serde_json::from_value(serde_json::json!({"width":4000,"height":3000,"fit":"fill"}))
            .unwrap(),
    )
    .unwrap();
    shotline_core::codec::encode(&big, shotline_core::model::Format::Jpeg, 92, [255; 4]).unwrap()
}

fn amazon_preset(c: &mut Criterion) {
    let bytes = product_12mp();
    let wf = templates::get("amazon-main").unwrap();
    let opts = RunOptions::default();
    let mut g = c.benchmark_group("amazon_preset_12mp");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.bench_function("engine", |b| {
        b.iter(|| {
            let r = run_one(&wf, &Input::new("mug.jpg", bytes.clone()), 1, &opts);
            assert!(r.error.is_none(), "{:?}", r.error);
        })
    });
    g.bench_function("floor_decode_encode", |b| {
        b.iter(|| {
            let img = shotline_core::codec::decode("mug.jpg", &bytes, &Default::default())
                .unwrap()
                .image;
            std::hint::black_box(
                shotline_core::codec::encode(
                    &img,
                    shotline_core::model::Format::Jpeg,
                    90,
                    [255; 4],
                )
                .unwrap(),
            );
        })
    });
    g.finish();
}

criterion_group!(benches, fit2048, amazon_preset);
criterion_main!(benches);
