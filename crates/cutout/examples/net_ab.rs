//! Shotline's own network (`net`) with Winograd's convolutions (the default), with F(2×2, 3×3)
//! only, with the direct convolution, and tract, on U²-Net-p in one process: load time, one inference at 320², and the largest
//! difference from tract's output. Interleaved, best of N.
//!
//! ```sh
//! taskset -c 0 cargo run --release -p shotline-cutout --example net_ab -- models/u2netp.onnx fixtures/scenes/mug.jpg [runs]
//! ```
use shotline_core::codec::{self, Limits};
use shotline_cutout::model;

#[path = "../tests/common/tract_ref.rs"]
mod tract_ref;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bytes = std::fs::read(&args[1]).expect("model");
    let photo = std::fs::read(&args[2]).expect("photo");
    let runs: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let img = codec::decode("photo", &photo, &Limits::default())
        .expect("decode")
        .image;
    let input = model::preprocess(&img);
    let names = ["net, Winograd", "net, F(2×2)", "net, direct", "tract"];
    let (load, run, diff) = tract_ref::ab(&bytes, &input, runs).expect("A/B");
    for i in 0..4 {
        let diff = diff
            .get(i)
            .map_or("the reference".into(), |d| format!("{d:.1e} from tract"));
        println!(
            "{:<14} load {:>6.1} ms, inference {:>7.1} ms ({:.2}× tract), largest difference: {diff}",
            names[i],
            load[i],
            run[i],
            run[3] / run[i],
        );
    }
}
