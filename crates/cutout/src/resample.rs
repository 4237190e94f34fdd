//! Small resamplers over f32 planes: area averaging (down) and bilinear (up), both with pixel
//! centres at half-integers, as OpenCV's `INTER_AREA` and `INTER_LINEAR`.

use shotline_core::raster::Raster;

/// For each output index, the source indices it averages and their weights (sum 1).
fn area_weights(src: usize, dst: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|o| {
            let (a, b) = (o as f64 * scale, (o + 1) as f64 * scale);
            let mut w = Vec::new();
            let mut i = a.floor() as usize;
            while (i as f64) < b && i < src {
                let lo = a.max(i as f64);
                let hi = b.min(i as f64 + 1.0);
                if hi > lo {
                    w.push((i, ((hi - lo) / scale) as f32));
                }
                i += 1;
            }
            if w.is_empty() {
                w.push(((((a + b) / 2.0) as usize).min(src - 1), 1.0));
            }
            w
        })
        .collect()
}

/// Area-averaged resize of an interleaved f32 image with `ch` channels.
pub fn area(src: &[f32], sw: usize, sh: usize, ch: usize, dw: usize, dh: usize) -> Vec<f32> {
    let wx = area_weights(sw, dw);
    let wy = area_weights(sh, dh);
    // Rows first: sh × dw.
    let mut rows = vec![0f32; sh * dw * ch];
    for y in 0..sh {
        let s = &src[y * sw * ch..(y + 1) * sw * ch];
        let d = &mut rows[y * dw * ch..(y + 1) * dw * ch];
        for (x, ws) in wx.iter().enumerate() {
            for &(i, w) in ws {
                for c in 0..ch {
                    d[x * ch + c] += s[i * ch + c] * w;
                }
            }
        }
    }
    let mut out = vec![0f32; dh * dw * ch];
    for (y, ws) in wy.iter().enumerate() {
        let d = &mut out[y * dw * ch..(y + 1) * dw * ch];
        for &(i, w) in ws {
            let s = &rows[i * dw * ch..(i + 1) * dw * ch];
            for (o, v) in d.iter_mut().zip(s) {
                *o += v * w;
            }
        }
    }
    out
}

/// The photo's RGB (0–255) area-averaged to `dw`×`dh`, interleaved f32. Rows are averaged as they
/// are read, so no full-size f32 copy of the photo is made.
pub fn rgb_to(img: &Raster, dw: usize, dh: usize) -> Vec<f32> {
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let wx = area_weights(sw, dw);
    let wy = area_weights(sh, dh);
    let raw = img.as_raw();
    let mut row = vec![0f32; dw * 3];
    let mut out = vec![0f32; dw * dh * 3];
    for (y, ws) in wy.iter().enumerate() {
        let d = &mut out[y * dw * 3..(y + 1) * dw * 3];
        for &(sy, wyv) in ws {
            row.fill(0.0);
            let s = &raw[sy * sw * 4..(sy + 1) * sw * 4];
            for (x, wsx) in wx.iter().enumerate() {
                for &(i, w) in wsx {
                    for c in 0..3 {
                        row[x * 3 + c] += s[i * 4 + c] as f32 * w;
                    }
                }
            }
            for (o, v) in d.iter_mut().zip(&row) {
                *o += v * wyv;
            }
        }
    }
    out
}

/// Source coordinate and weight of the upper neighbour for each output index (half-pixel centres,
/// clamped at the borders).
pub fn linear_taps(src: usize, dst: usize) -> Vec<(usize, usize, f32)> {
    let scale = src as f32 / dst as f32;
    (0..dst)
        .map(|o| {
            let f = ((o as f32 + 0.5) * scale - 0.5).clamp(0.0, (src - 1) as f32);
            let i = f.floor() as usize;
            let j = (i + 1).min(src - 1);
            (i, j, f - i as f32)
        })
        .collect()
}

/// Bilinear resize of a single f32 plane.
pub fn bilinear(src: &[f32], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<f32> {
    let tx = linear_taps(sw, dw);
    let ty = linear_taps(sh, dh);
    let mut out = vec![0f32; dw * dh];
    let mut r0 = vec![0f32; dw];
    let mut r1 = vec![0f32; dw];
    let horiz = |y: usize, r: &mut [f32]| {
        let s = &src[y * sw..(y + 1) * sw];
        for (o, &(i, j, t)) in r.iter_mut().zip(&tx) {
            *o = s[i] + (s[j] - s[i]) * t;
        }
    };
    for (y, &(i, j, t)) in ty.iter().enumerate() {
        horiz(i, &mut r0);
        horiz(j, &mut r1);
        for ((o, a), b) in out[y * dw..(y + 1) * dw].iter_mut().zip(&r0).zip(&r1) {
            *o = a + (b - a) * t;
        }
    }
    out
}

/// Mean over a (2r+1)² window of a plane, the window clipped at the borders (running sums, so
/// the cost does not depend on `r`).
pub fn box_mean(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let mut tmp = vec![0f32; w * h];
    for y in 0..h {
        let s = &src[y * w..(y + 1) * w];
        let d = &mut tmp[y * w..(y + 1) * w];
        let mut acc = 0f64;
        let (mut lo, mut hi) = (0usize, 0usize);
        for x in 0..w {
            let want_hi = (x + r + 1).min(w);
            let want_lo = x.saturating_sub(r);
            while hi < want_hi {
                acc += s[hi] as f64;
                hi += 1;
            }
            while lo < want_lo {
                acc -= s[lo] as f64;
                lo += 1;
            }
            d[x] = (acc / (hi - lo) as f64) as f32;
        }
    }
    let mut out = vec![0f32; w * h];
    let mut acc = vec![0f64; w];
    let (mut lo, mut hi) = (0usize, 0usize);
    for y in 0..h {
        let want_hi = (y + r + 1).min(h);
        let want_lo = y.saturating_sub(r);
        while hi < want_hi {
            for (a, v) in acc.iter_mut().zip(&tmp[hi * w..(hi + 1) * w]) {
                *a += *v as f64;
            }
            hi += 1;
        }
        while lo < want_lo {
            for (a, v) in acc.iter_mut().zip(&tmp[lo * w..(lo + 1) * w]) {
                *a -= *v as f64;
            }
            lo += 1;
        }
        let n = (hi - lo) as f64;
        for (o, a) in out[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = (*a / n) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_halves_average_pairs() {
        let src = [0.0, 2.0, 4.0, 6.0];
        assert_eq!(area(&src, 4, 1, 1, 2, 1), vec![1.0, 5.0]);
    }

    #[test]
    fn bilinear_keeps_constants_and_interpolates() {
        let up = bilinear(&[0.0, 1.0], 2, 1, 4, 1);
        assert_eq!(up, vec![0.0, 0.25, 0.75, 1.0]);
    }

    #[test]
    fn box_mean_clips_at_borders() {
        let m = box_mean(&[1.0, 2.0, 3.0, 4.0], 4, 1, 1);
        assert_eq!(m, vec![1.5, 2.0, 3.0, 3.5]);
    }
}
