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
