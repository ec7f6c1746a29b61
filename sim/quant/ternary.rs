//! Ternary weights `{-alpha, 0, +alpha}`.
//!
//! Follows Ternary Weight Networks (Li, Zhang & Liu 2016, "Ternary Weight Networks"): per output
//! filter the threshold is `delta = factor * mean|w|` (factor 0.7 approximates the optimum for
//! Gaussian/uniform weights); a weight is kept iff `|w| > delta`, with code sign(w); alpha is
//! the mean |w| of the kept weights (0 when none is kept).

use super::Code;

/// Quantize one filter; returns alpha (the filter's scale).
pub fn quantize_filter(w: &[f32], threshold_factor: f64, codes: &mut [Code]) -> f32 {
    let delta = (threshold_factor * super::binary::mean_abs(w) as f64) as f32;
    // Branch-free: whether a weight is kept is a coin flip the predictor cannot learn.
    let keep = |x: f32| x.abs() > delta;
    for (c, &x) in codes.iter_mut().zip(w) {
        let sign: Code = if x > 0.0 { 1 } else { -1 };
        *c = if keep(x) { sign } else { 0 };
    }
    super::binary::mean_abs_where(w, keep)
}
