/*
 * Shotline: YCbCr → RGBA for wasm32 with SIMD128. Not part of zune-jpeg 0.4.21; see
 * vendor/README.md in the Shotline repository.
 *
 * The same fixed-point arithmetic as `scalar::ycbcr_to_rgba_inner_16_scalar`, four pixels per
 * i32x4 lane group; the saturating narrows (i32 → i16 → u8) are the scalar code's clamp to
 * 0..=255, so every byte is the same.
 */
use core::arch::wasm32::*;

use crate::color_convert::scalar::{
    CB_CF, CR_CF, C_G_CB_COEF_2, C_G_CR_COEF_1, YUV_PREC, YUV_RND, Y_CF
};

/// Eight pixels' R, G, B as i16x8 (not yet clamped), from eight Y, Cb, Cr.
#[inline(always)]
fn eight(y: v128, cb: v128, cr: v128) -> (v128, v128, v128) {
    let c128 = i16x8_splat(128);
    let (cb, cr) = (i16x8_sub(cb, c128), i16x8_sub(cr, c128));
    let half = |lo: bool| {
        let w = |v: v128| if lo { i32x4_extend_low_i16x8(v) } else { i32x4_extend_high_i16x8(v) };
        let (y, cb, cr) = (w(y), w(cb), w(cr));
        let y0 = i32x4_add(i32x4_mul(y, i32x4_splat(i32::from(Y_CF))), i32x4_splat(i32::from(YUV_RND)));
        let s = u32::from(YUV_PREC as u16);
        let r = i32x4_shr(i32x4_add(y0, i32x4_mul(cr, i32x4_splat(i32::from(CR_CF)))), s);
        let g = i32x4_shr(
            i32x4_add(
                i32x4_add(y0, i32x4_mul(cr, i32x4_splat(i32::from(C_G_CR_COEF_1)))),
                i32x4_mul(cb, i32x4_splat(i32::from(C_G_CB_COEF_2)))
            ),
            s
        );
        let b = i32x4_shr(i32x4_add(y0, i32x4_mul(cb, i32x4_splat(i32::from(CB_CF)))), s);
        (r, g, b)
    };
    let (rl, gl, bl) = half(true);
    let (rh, gh, bh) = half(false);
    (i16x8_narrow_i32x4(rl, rh), i16x8_narrow_i32x4(gl, gh), i16x8_narrow_i32x4(bl, bh))
}

pub fn ycbcr_to_rgba_simd128(
    y: &[i16; 16], cb: &[i16; 16], cr: &[i16; 16], output: &mut [u8], pos: &mut usize
) {
    let (_, output_position) = output.split_at_mut(*pos);
    let opt: &mut [u8; 64] = output_position
        .get_mut(0..64)
        .expect("Slice to small cannot write")
        .try_into()
        .unwrap();
    // SAFETY: each load reads 8 i16 (16 bytes) inside a 16-element array; v128_load and
    // v128_store have no alignment requirement, and the stores write inside `opt` (64 bytes).
    unsafe {
        let ld = |a: &[i16; 16], i: usize| v128_load(a.as_ptr().add(i).cast::<v128>());
        let (r0, g0, b0) = eight(ld(y, 0), ld(cb, 0), ld(cr, 0));
        let (r1, g1, b1) = eight(ld(y, 8), ld(cb, 8), ld(cr, 8));
        let r = u8x16_narrow_i16x8(r0, r1);
        let g = u8x16_narrow_i16x8(g0, g1);
        let b = u8x16_narrow_i16x8(b0, b1);
        let a = u8x16_splat(255);
        let rg_lo = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(r, g);
        let rg_hi = i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(r, g);
        let ba_lo = i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(b, a);
        let ba_hi = i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(b, a);
        let out = opt.as_mut_ptr().cast::<v128>();
        v128_store(out, i8x16_shuffle::<0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23>(rg_lo, ba_lo));
        v128_store(out.add(1), i8x16_shuffle::<8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31>(rg_lo, ba_lo));
        v128_store(out.add(2), i8x16_shuffle::<0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23>(rg_hi, ba_hi));
        v128_store(out.add(3), i8x16_shuffle::<8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31>(rg_hi, ba_hi));
    }
    *pos += 64;
}
