//! Signed-binary weights (PLUM): each filter is either `{0, +1}` or `{0, -1}`.
//!
//! Follows PLUM (Kuhar et al. 2023, "PLUM: Improving Inference Efficiency by Leveraging
//! Repetition-Sparsity Trade-Off" / "Signed Binary Weight Networks"). Per filter `f` with sign
//! `s_f`, the threshold is `delta_f = t * max|w_f|` (t = 0.05 by default), and a weight's code
//! is `s_f` iff it has the filter's sign and `|w| > delta_f`, else 0. The sign rule is
//! [`SignRule::Halves`] (filters `f < out/2`, floor, are positive, the rest negative) or
//! [`SignRule::WeightSum`] (the sign of the filter's weight sum; a zero sum is positive).
//!
//! The scale is 1 (batch norm absorbs the magnitude; statistics then use each filter's
//! least-squares scale), or with `alpha` the mean |w| of the kept weights (0 when none is kept).

use super::spec::SignRule;
use super::Code;

/// Sign (+1 / -1) of every filter of a tensor with `filters` filters of `k` weights each.
pub fn filter_signs(w: &[f32], filters: usize, k: usize, rule: SignRule) -> Vec<i32> {
    (0..filters)
        .map(|f| match rule {
            SignRule::Halves => {
                if f < filters / 2 {
                    1
                } else {
                    -1
                }
            }
            SignRule::WeightSum => {
                let sum: f64 = w[f * k..(f + 1) * k].iter().map(|&x| x as f64).sum();
                if sum >= 0.0 {
                    1
                } else {
                    -1
                }
            }
        })
        .collect()
}

/// Quantize one filter of sign `sign` (+1 / -1); returns its scale (1, or alpha).
pub fn quantize_filter(
    w: &[f32],
    sign: i32,
    threshold: f64,
    alpha: bool,
    codes: &mut [Code],
) -> f32 {
    let max = super::int_k::max_abs(w);
    let delta = (threshold * max as f64) as f32;
    // Branch-free, as the ternary quantizer; the sum only when alpha needs it.
    let kept = |x: f32| (if sign > 0 { x > 0.0 } else { x < 0.0 }) && x.abs() > delta;
    for (c, &x) in codes.iter_mut().zip(w) {
        *c = if kept(x) { sign as Code } else { 0 };
    }
    if alpha {
        super::binary::mean_abs_where(w, kept)
    } else {
        1.0
    }
}
