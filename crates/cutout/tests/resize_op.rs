//! The vendored tract-core's fast paths (`vendor/README.md`): Resize on the last two axes gives
//! bit for bit what tract's generic path (one axis at a time, `resample_axis`) gives, and
//! constant Pad on the last two axes puts every value where ONNX says.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::nn::resize::{
    resample_axis, CoordTransformer, Interpolator, Nearest, Resize,
};

fn op(coord: CoordTransformer, interpolator: Interpolator) -> Resize {
    Resize {
        coord_transformer: coord,
        interpolator,
        nearest: Nearest::Floor,
        optional_scales_input: Some(1),
        optional_sizes_input: None,
    }
}

/// What tract's generic path computes: each resized axis in turn, from the first.
fn generic(op: &Resize, input: &[f32], shape: &[usize], scales: &[f32]) -> (Vec<usize>, Vec<f32>) {
    let mut shape = shape.to_vec();
    let mut data = input.to_vec();
    for (axis, &scale) in scales.iter().enumerate() {
        let len_in = shape[axis];
        let len_out = (len_in as f32 * scale) as usize;
        if len_in == len_out && scale == 1.0 {
            continue;
        }
        let plan = op.plan_axis(scale, len_in, len_out);
        let mut out = vec![0f32; data.len() / len_in * len_out];
        resample_axis(&data, &shape, axis, &plan, 0.0, &mut out);
        data = out;
        shape[axis] = len_out;
    }
    (shape, data)
}

fn run(op: Resize, input: &[f32], shape: &[usize], scales: &[f32]) -> (Vec<usize>, Vec<f32>) {
    let mut model = TypedModel::default();
    let x = model.add_source("x", f32::fact(shape)).unwrap();
    let s = model.add_const("s", tensor1(scales)).unwrap();
    let y = model.wire_node("resize", op, &[x, s]).unwrap();
    model.select_output_outlets(&y).unwrap();
    let plan = model.into_runnable().unwrap();
    let t = tract_ndarray::ArrayD::from_shape_vec(shape, input.to_vec())
        .unwrap()
        .into_tensor();
    let out = plan.run(tvec!(t.into_tvalue())).unwrap().remove(0);
    let out = out.into_tensor();
    (
        out.shape().to_vec(),
        out.to_plain_array_view::<f32>()
            .unwrap()
            .iter()
            .copied()
            .collect(),
    )
}

#[test]
fn the_fast_resize_equals_the_generic_one_bit_for_bit() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0
    };
    let cases: &[(&[usize], &[f32])] = &[
        (&[1, 3, 5, 7], &[1.0, 1.0, 2.0, 2.0]), // U²-Net-p's 2× upsampling
        (&[1, 2, 10, 10], &[1.0, 1.0, 1.5, 3.0]), // non-integer, unequal
        (&[1, 1, 9, 8], &[1.0, 1.0, 0.5, 0.4]), // downscaling
        (&[2, 2, 4, 6], &[1.0, 1.0, 1.0, 2.0]), // width only
        (&[1, 2, 4, 6], &[1.0, 1.0, 2.0, 1.0]), // height only
        (&[3, 5], &[2.0, 2.0]),                 // rank 2
    ];
    for coord in [
        CoordTransformer::HalfPixel,
        CoordTransformer::AlignCorners,
        CoordTransformer::Asymmetric,
        CoordTransformer::PytorchHalfPixel,
    ] {
        for interp in [
            Interpolator::Linear,
            Interpolator::Cubic,
            Interpolator::Nearest,
        ] {
            for &(shape, scales) in cases {
                let n: usize = shape.iter().product();
                let input: Vec<f32> = (0..n).map(|_| next()).collect();
                let o = op(coord.clone(), interp.clone());
                let want = generic(&o, &input, shape, scales);
                let got = run(o, &input, shape, scales);
                assert_eq!(got.0, want.0, "{coord:?} {interp:?} {shape:?} {scales:?}");
                let same = got
                    .1
                    .iter()
                    .zip(&want.1)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(
                    same,
                    "{coord:?} {interp:?} {shape:?} {scales:?}: values differ"
                );
            }
        }
    }
}

/// The vendored fast path for constant padding of the last two axes: every input value moved
/// by the pads, the constant everywhere else (ONNX Pad, mode "constant").
#[test]
fn the_fast_constant_pad_puts_every_value_where_the_generic_one_does() {
    use tract_onnx::tract_core::ops::array::{Pad, PadMode};
    let (c, h, w) = (3usize, 4usize, 5usize);
    let input: Vec<f32> = (0..c * h * w).map(|i| i as f32 + 0.5).collect();
    let pads = vec![(0, 0), (0, 0), (2, 1), (1, 3)];
    let mut model = TypedModel::default();
    let x = model.add_source("x", f32::fact([1, c, h, w])).unwrap();
    let mode = PadMode::Constant(std::sync::Arc::new(tensor0(-7.0f32)));
    let y = model
        .wire_node("pad", Pad::new(pads.clone(), mode), &[x])
        .unwrap();
    model.select_output_outlets(&y).unwrap();
    let plan = model.into_runnable().unwrap();
    let t = tract_ndarray::ArrayD::from_shape_vec(vec![1, c, h, w], input.clone())
        .unwrap()
        .into_tensor();
    let out = plan
        .run(tvec!(t.into_tvalue()))
        .unwrap()
        .remove(0)
        .into_tensor();
    let (oh, ow) = (h + 3, w + 4);
    assert_eq!(out.shape(), &[1, c, oh, ow]);
    let got: Vec<f32> = out
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();
    for ch in 0..c {
        for y in 0..oh {
            for x in 0..ow {
                let want = if (2..2 + h).contains(&y) && (1..1 + w).contains(&x) {
                    input[(ch * h + y - 2) * w + x - 1]
                } else {
                    -7.0
                };
                assert_eq!(got[(ch * oh + y) * ow + x], want, "c{ch} y{y} x{x}");
            }
        }
    }
}
