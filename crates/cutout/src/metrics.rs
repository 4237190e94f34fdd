//! Mask quality measures, as used in salient-object-detection benchmarks. Predictions are alpha
//! masks (0–255); ground truth is binarised at 128.

/// β² of the F-measure: precision weighted over recall (Achanta et al. 2009, as in every SOD
/// benchmark since).
pub const BETA2: f64 = 0.3;

fn check(pred: &[u8], gt: &[u8]) {
    assert_eq!(pred.len(), gt.len(), "mask sizes differ");
}

/// Intersection over union of `pred ≥ 128` and `gt ≥ 128`; 1 when both are empty.
pub fn iou(pred: &[u8], gt: &[u8]) -> f64 {
    check(pred, gt);
    let (mut inter, mut union) = (0usize, 0usize);
    for (&p, &g) in pred.iter().zip(gt) {
        let (p, g) = (p >= 128, g >= 128);
        inter += (p && g) as usize;
        union += (p || g) as usize;
    }
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Mean absolute error between the soft prediction and the binary truth, both in 0–1.
pub fn mae(pred: &[u8], gt: &[u8]) -> f64 {
    check(pred, gt);
    if pred.is_empty() {
        return 0.0;
    }
    let sum: u64 = pred
        .iter()
        .zip(gt)
        .map(|(&p, &g)| (p as i32 - if g >= 128 { 255 } else { 0 }).unsigned_abs() as u64)
        .sum();
    sum as f64 / 255.0 / pred.len() as f64
}

/// The largest F-measure (β² = 0.3) over the thresholds `pred ≥ t`, t = 1…255 (t = 0 would take
/// every pixel, a trivial recall; an all-zero prediction scores 0).
pub fn max_f(pred: &[u8], gt: &[u8]) -> f64 {
    check(pred, gt);
    let mut pos = [0u64; 256];
    let mut neg = [0u64; 256];
    for (&p, &g) in pred.iter().zip(gt) {
        if g >= 128 {
            pos[p as usize] += 1;
        } else {
            neg[p as usize] += 1;
        }
    }
    let total_pos: u64 = pos.iter().sum();
    if total_pos == 0 {
        // No subject in the truth: perfect only if nothing is predicted.
        return if neg[1..].iter().all(|&n| n == 0) {
            1.0
        } else {
            0.0
        };
    }
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut best = 0f64;
    for t in (1..256).rev() {
        tp += pos[t];
        fp += neg[t];
        if tp == 0 {
            continue;
        }
        let precision = tp as f64 / (tp + fp) as f64;
        let recall = tp as f64 / total_pos as f64;
        let f = (1.0 + BETA2) * precision * recall / (BETA2 * precision + recall);
        best = best.max(f);
    }
    best
}

/// Boundary IoU (Cheng et al. 2021, "Boundary IoU: Improving object-centric image segmentation
/// evaluation"): the IoU of the two masks' inner boundary bands, each band being the mask's
/// pixels within `d` of its contour, with `d` = 2 % of the image diagonal (at least 1 px). As in
/// the authors' code, the area outside the image counts as background, and a band is the mask
/// minus its erosion by a (2d+1)² square. 1 when both bands are empty.
pub fn boundary_iou(pred: &[u8], gt: &[u8], w: usize, h: usize) -> f64 {
    check(pred, gt);
    assert_eq!(pred.len(), w * h, "mask size does not match {w}×{h}");
    let d = band_width(w, h);
    let pb = band(&pred.iter().map(|&v| v >= 128).collect::<Vec<_>>(), w, h, d);
    let gb = band(&gt.iter().map(|&v| v >= 128).collect::<Vec<_>>(), w, h, d);
    let (mut inter, mut union) = (0usize, 0usize);
    for (&p, &g) in pb.iter().zip(&gb) {
        inter += (p && g) as usize;
        union += (p || g) as usize;
    }
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Boundary IoU's band width: 2 % of the diagonal, rounded, at least 1.
pub fn band_width(w: usize, h: usize) -> usize {
    ((((w * w + h * h) as f64).sqrt() * 0.02).round() as usize).max(1)
}

/// `m` minus its erosion by a (2d+1)² square (outside the image is background).
fn band(m: &[bool], w: usize, h: usize, d: usize) -> Vec<bool> {
    // Erosion = every pixel in the window is set = the window's count of set pixels is full.
    let mut rows = vec![false; w * h];
    for y in 0..h {
        let mut run = 0usize;
        // runs[x]: consecutive set pixels ending at x.
        let mut runs = vec![0usize; w];
        for x in 0..w {
            run = if m[y * w + x] { run + 1 } else { 0 };
            runs[x] = run;
        }
        for x in 0..w {
            let right = x + d;
            rows[y * w + x] = right < w && runs[right] >= 2 * d + 1;
        }
    }
    let mut out = vec![false; w * h];
    for x in 0..w {
        let mut run = 0usize;
        let mut runs = vec![0usize; h];
        for y in 0..h {
            run = if rows[y * w + x] { run + 1 } else { 0 };
            runs[y] = run;
        }
        for y in 0..h {
            let below = y + d;
            let eroded = below < h && runs[below] >= 2 * d + 1;
            out[y * w + x] = m[y * w + x] && !eroded;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_and_mae_by_hand() {
        // Truth: 2 of 4 set. Prediction: 1 right, 1 wrong, soft values.
        let gt = [255, 255, 0, 0];
        let pred = [255, 0, 128, 0];
        // Intersection {0}; union {0, 1, 2}.
        assert!((iou(&pred, &gt) - 1.0 / 3.0).abs() < 1e-12);
        // |1−1| + |0−1| + |128/255 − 0| + 0, over 4.
        let want = (0.0 + 1.0 + 128.0 / 255.0 + 0.0) / 4.0;
        assert!((mae(&pred, &gt) - want).abs() < 1e-12);
        assert_eq!(iou(&[0; 4], &[0; 4]), 1.0);
    }

    #[test]
    fn max_f_by_hand() {
        let gt = [255, 255, 0, 0];
        // 201 ≤ t ≤ 250: pixel 0 only: P = 1, R = 0.5 → F = 1.3·0.5/(0.3 + 0.5) = 0.8125.
        // 101 ≤ t ≤ 200: pixels 0 and 2: P = 0.5, R = 0.5 → 0.5.
        // 1 ≤ t ≤ 100: pixels 0, 1, 2: P = 2/3, R = 1 → 1.3·(2/3)/(0.2 + 1) ≈ 0.722.
        let pred = [250, 100, 200, 0];
        assert!(
            (max_f(&pred, &gt) - 0.8125).abs() < 1e-12,
            "{}",
            max_f(&pred, &gt)
        );
        assert!((max_f(&gt, &gt) - 1.0).abs() < 1e-12);
        assert_eq!(max_f(&[0; 4], &gt), 0.0);
    }

    #[test]
    fn boundary_band_by_hand() {
        // 50×50 → diagonal 70.7 → d = round(1.41) = 1.
        assert_eq!(band_width(50, 50), 1);
        let (w, h) = (50, 50);
        // A 10×10 square: its band is the outer ring of 36 pixels (the 8×8 inside erodes to 64).
        let mut gt = vec![0u8; w * h];
        for y in 10..20 {
            for x in 10..20 {
                gt[y * w + x] = 255;
            }
        }
        let b = band(&gt.iter().map(|&v| v > 0).collect::<Vec<_>>(), w, h, 1);
        assert_eq!(b.iter().filter(|&&v| v).count(), 36);
        assert_eq!(boundary_iou(&gt, &gt, w, h), 1.0);
        // The same square shifted right by one: bands share 18 pixels of the 36 + 36 − 18.
        let mut pred = vec![0u8; w * h];
        for y in 10..20 {
            for x in 11..21 {
                pred[y * w + x] = 255;
            }
        }
        // Shared: the top and bottom rows at x = 11..=19 (2 × 9). Each band's side columns fall
        // in the other's interior or outside it.
        let want = 18.0 / (36.0 + 36.0 - 18.0);
        assert!((boundary_iou(&pred, &gt, w, h) - want).abs() < 1e-12);
    }

    /// Touching the image border counts as boundary (outside is background).
    #[test]
    fn full_mask_band_is_its_frame() {
        let full = vec![255u8; 10 * 10];
        let b = band(&full.iter().map(|&v| v > 0).collect::<Vec<_>>(), 10, 10, 1);
        assert_eq!(b.iter().filter(|&&v| v).count(), 36);
    }
}
