//! Shotline's own network engine against tract-onnx on the real U²-Net-p and real photos: the
//! same outputs, and a clear error for a broken model file. Needs `models/u2netp.onnx`
//! (`scripts/fetch-model.sh`).

mod common;

use common::tract_ref::Tract;
use shotline_core::codec::{self, Limits};
use shotline_cutout::model::{self, Algo, U2Net, SIDE};

fn model_bytes() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/u2netp.onnx");
    std::fs::read(path).expect("models/u2netp.onnx (run scripts/fetch-model.sh)")
}

fn photo(name: &str) -> Vec<f32> {
    let path = format!(
        "{}/../../fixtures/scenes/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).expect("fixture");
    let img = codec::decode(name, &bytes, &Limits::default())
        .expect("decode")
        .image;
    model::preprocess(&img)
}

#[test]
fn the_network_computes_what_tract_computes_on_real_photos() {
    let bytes = model_bytes();
    let tract = Tract::load(&bytes, SIDE).expect("tract");
    // Winograd's convolutions (the default), F(2×2, 3×3) alone, and the direct one.
    for (ours, name) in [Algo::Winograd, Algo::WinogradF2, Algo::Direct]
        .into_iter()
        .flat_map(|algo| {
            let ours = std::sync::Arc::new(U2Net::from_bytes_with(&bytes, algo).expect("ours"));
            ["mug.jpg", "shoe.jpg"].map(move |name| (ours.clone(), name))
        })
    {
        let input = photo(name);
        let a = ours.raw(&input).expect("ours");
        let b = tract.run(&input, SIDE).expect("tract");
        assert_eq!(a.len(), SIDE * SIDE);
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(&b)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-4, "{name}: outputs differ by up to {worst}");
        // Not a trivial map: the subject and the background are both there.
        let fg = a.iter().filter(|&&v| v > 0.5).count();
        assert!(
            fg > SIDE * SIDE / 20 && fg < SIDE * SIDE * 19 / 20,
            "{name}: {fg} pixels over 0.5"
        );
    }
}

#[test]
fn a_broken_model_file_is_a_clear_error() {
    let bytes = model_bytes();
    for cut in [0, 1, 100, bytes.len() / 2, bytes.len() - 1] {
        let err = U2Net::from_bytes(&bytes[..cut]).expect_err("a truncated model must fail");
        assert!(err.to_string().contains("could not be loaded"), "{err}");
    }
    let err = U2Net::from_bytes(b"<html>404</html>").expect_err("not a model");
    assert!(err.to_string().contains("not valid ONNX"), "{err}");
    // A wrong-sized input is an error, not a panic.
    let net = U2Net::from_bytes(&bytes).expect("model");
    assert!(net.raw(&[0.0; 12]).is_err());
}
