//! Shotline's own network (`net`) with Winograd's convolutions (the default), with F(2×2, 3×3)
//! only, with the direct convolution, and tract, on U²-Net-p in one process: load time, one inference at 320², and the largest
//! difference from tract's output. Interleaved, best of N.
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

    const ALGOS: [model::Algo; 3] = [
        model::Algo::Winograd,
        model::Algo::WinogradF2,
        model::Algo::Direct,
    ];
    let names = ["net, Winograd", "net, F(2×2)", "net, direct", "tract"];
    let (mut load, mut run, mut diff) = ([f64::MAX; 4], [f64::MAX; 4], [0f32; 4]);
    for _ in 0..runs {
        let t = Instant::now();
        let tract = tract_ref::Tract::load(&bytes, side).expect("tract");
        load[3] = load[3].min(ms(t));
        let t = Instant::now();
        let want = tract.run(&input, side).expect("tract run");
        run[3] = run[3].min(ms(t));
        drop(tract);
        for (i, algo) in ALGOS.into_iter().enumerate() {
            let t = Instant::now();
            let net = model::U2Net::from_bytes_with(&bytes, algo).expect("net");
            load[i] = load[i].min(ms(t));
            let t = Instant::now();
            let got = net.raw(&input).expect("net run");
            run[i] = run[i].min(ms(t));
            diff[i] = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
        }
    }
    for i in 0..4 {
        println!(
            "{:<14} load {:>6.1} ms, inference {:>7.1} ms ({:.2}× tract), largest difference from tract {:.1e}",
            names[i],
            load[i],
            run[i],
            run[3] / run[i],
            diff[i]
        );
    }
}
