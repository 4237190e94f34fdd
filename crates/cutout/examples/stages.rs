//! Where the time of one neural cut-out of a 12 MP photo goes, stage by stage: decode, the
//! model's input (area resize to 320²), inference, the refinement (its guide image, then the
//! guided filter and full-size alpha) and the engine's edge work after it. Medians of 5 runs.
//!
//! ```sh
//! taskset -c 0 cargo run --release -p shotline-cutout --example stages -- models/u2netp.onnx fixtures/scenes/mug.jpg
//! ```
use shotline_core::codec::{self, Limits};
use shotline_core::ops::remove_background::{self, Method, RemoveBackground};
use shotline_core::raster::Raster;
use shotline_cutout::{model, refine, resample, Cutout, KnownMap, Refine};
use std::time::Instant;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(model_path), Some(photo)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: stages MODEL.onnx PHOTO");
        std::process::exit(2);
    };
    let bytes = std::fs::read(model_path).expect("model");
    let t = Instant::now();
    let cutout = Cutout::from_bytes(&bytes).expect("loads");
    println!("model load {:.0} ms", ms(t));
    let small = codec::decode(
        photo,
        &std::fs::read(photo).expect("photo"),
        &Limits::default(),
    )
    .expect("decode")
    .image;
    let big = image::imageops::resize(&small.to_image(), 4000, 3000, image::imageops::Triangle);
    let jpeg = codec::encode(
        &Raster::from_image(big),
        shotline_core::model::Format::Jpeg,
        90,
        [255; 4],
    )
    .expect("encode");
    let names = [
        "decode",
        "model input (320²)",
        "inference (with its input)",
        "guide (640 px)",
        "refine (all)",
        "engine after the mask",
        "decode → cut-out",
    ];
    let mut rows: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..5 {
        let t0 = Instant::now();
        let img = codec::decode("big.jpg", &jpeg, &Limits::default())
            .expect("decode")
            .image;
        rows[0].push(ms(t0));
        let t = Instant::now();
        std::hint::black_box(model::preprocess(&img));
        rows[1].push(ms(t));
        let t = Instant::now();
        let map = cutout.net().predict(&img).expect("inference");
        rows[2].push(ms(t));
        let t = Instant::now();
        std::hint::black_box(resample::rgb_to(&img, 640, 480));
        rows[3].push(ms(t));
        let t = Instant::now();
        let alpha = refine::refine(&map, model::SIDE, &img, &Refine::default());
        rows[4].push(ms(t));
        std::hint::black_box(alpha);
        let t = Instant::now();
        let mut cut = img.clone();
        let p = RemoveBackground {
            method: Method::Neural,
            ..Default::default()
        };
        remove_background::apply(&mut cut, &p, Some(&KnownMap(&map))).expect("cut-out");
        let all = ms(t);
        let (decoded, inferred, refined) = (
            rows[0][rows[0].len() - 1],
            rows[2][rows[2].len() - 1],
            rows[4][rows[4].len() - 1],
        );
        rows[5].push(all - refined);
        rows[6].push(decoded + inferred + all);
    }
    for (name, mut v) in names.iter().zip(rows) {
        v.sort_by(f64::total_cmp);
        println!("{name:>28}: {:7.1} ms", v[v.len() / 2]);
    }
}
