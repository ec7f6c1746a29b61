//! Binary weights: `sign(w) * alpha`, alpha = mean |w| of the output filter.
//!
//! Follows XNOR-Net (Rastegari et al. 2016, "XNOR-Net: ImageNet Classification Using Binary
//! Convolutional Neural Networks"), whose per-filter alpha = ||w||_1 / n is the least-squares
//! optimum for sign codes. Codes are ±1 with sign(0) = +1.

use super::Code;

/// Quantize one filter; returns alpha (the filter's scale).
pub fn quantize_filter(w: &[f32], codes: &mut [Code]) -> f32 {
    for (c, &x) in codes.iter_mut().zip(w) {
        *c = if x >= 0.0 { 1 } else { -1 };
    }
    mean_abs(w)
}

/// Mean |w| (f64 accumulation, serial order), 0 for an empty slice.
pub(crate) fn mean_abs(w: &[f32]) -> f32 {
    if w.is_empty() {
        return 0.0;
    }
    (w.iter().map(|&x| x.abs() as f64).sum::<f64>() / w.len() as f64) as f32
}

/// Mean |w| over the weights `keep` selects (f64 accumulation, serial order), 0 when it
/// selects none. Branch-free: adding +0.0 for a weight left out leaves the sum as it was (it
/// starts at +0.0 and only grows), so it is the serial sum over the selected weights.
pub(crate) fn mean_abs_where(w: &[f32], keep: impl Fn(f32) -> bool) -> f32 {
    let (mut sum, mut n) = (0.0f64, 0u64);
    for &x in w {
        let k = keep(x);
        sum += if k { x.abs() as f64 } else { 0.0 };
        n += k as u64;
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}
