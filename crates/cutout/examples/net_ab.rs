//! Shotline's own network (`net`) against tract on U²-Net-p, in one process: load time, one
//! inference at 320², and the largest difference between their outputs. Interleaved, best of N.
//!
//! ```sh
//! taskset -c 0 cargo run --release -p shotline-cutout --example net_ab -- models/u2netp.onnx fixtures/scenes/mug.jpg [runs]
//! ```
use shotline_core::codec::{self, Limits};
use shotline_cutout::model;
use std::time::Instant;

#[path = "../tests/common/tract_ref.rs"]
mod tract_ref;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("model");
    let photo = std::fs::read(&args[2]).expect("photo");
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let img = codec::decode("photo", &photo, &Limits::default())
        .expect("decode")
        .image;
    let input = model::preprocess(&img);
    let side = model::SIDE;

    let (mut load_net, mut load_tract, mut run_net, mut run_tract) =
        (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
    let mut diff = 0f32;
    for _ in 0..runs {
        let t = Instant::now();
        let net = model::U2Net::from_bytes(&bytes).expect("net");
        load_net = load_net.min(ms(t));
        let t = Instant::now();
        let tract = tract_ref::Tract::load(&bytes, side).expect("tract");
        load_tract = load_tract.min(ms(t));

        let t = Instant::now();
        let a = net.raw(&input).expect("net run");
        run_net = run_net.min(ms(t));
        let t = Instant::now();
        let b = tract.run(&input, side).expect("tract run");
        run_tract = run_tract.min(ms(t));
        diff = a
            .iter()
            .zip(&b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
    }
    println!("load:      net {load_net:.1} ms, tract {load_tract:.1} ms");
    println!(
        "inference: net {run_net:.1} ms, tract {run_tract:.1} ms ({:.2}×)",
        run_tract / run_net
    );
    println!("largest difference of the sigmoid outputs: {diff:.2e}");
}
