//! Ternary weights `{-alpha, 0, +alpha}`.
//!
//! Follows Ternary Weight Networks (Li, Zhang & Liu 2016, "Ternary Weight Networks"): per output
//! filter the threshold is `delta = factor * mean|w|` (factor 0.7 approximates the optimum for
//! Gaussian/uniform weights); a weight is kept iff `|w| > delta`, with code sign(w); alpha is
//! the mean |w| of the kept weights (0 when none is kept).

use super::Code;

/// BitNet b1.58's absmean scale of a whole tensor (Ma et al. 2024, "The Era of 1-bit LLMs",
/// and the `weight_quant` of its reference code): `s = 1 / max(mean|W|, 1e-5)`, computed as
/// that code does in f32 from an f64 mean. The sum runs over fixed chunks of 4096 weights in
/// parallel, the chunks' sums added in tensor order: the same whatever the thread count.
pub fn absmean_inverse_scale(w: &[f32]) -> f32 {
    use rayon::prelude::*;
    let mean = if w.is_empty() {
        0.0
    } else {
        let partial: Vec<f64> = w
            .par_chunks(4096)
            .map(|c| c.iter().map(|&x| x.abs() as f64).sum::<f64>())
            .collect();
        partial.iter().sum::<f64>() / w.len() as f64
    };
    1.0 / (mean as f32).max(1e-5)
}

/// Quantize one filter with a tensor's absmean inverse scale `s`: `round(w s)` clipped to
/// {-1, 0, 1}, PyTorch's rounding (half to even: `|w s| = 0.5` gives 0). Returns the scale
/// `1 / s`.
pub fn quantize_filter_absmean(w: &[f32], s: f32, codes: &mut [Code]) -> f32 {
    for (c, &x) in codes.iter_mut().zip(w) {
        let y = x * s;
        *c = Code::from(y > 0.5) - Code::from(y < -0.5);
    }
    1.0 / s
}

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

/// [`quantize_filter`] of four filters of `k` weights at once (`w` and `codes` hold them one
/// after another). Each filter's two sums run serially in its own order, exactly as
/// [`quantize_filter`]'s, but the four chains are independent, so the processor overlaps
/// their additions (one f64 chain waits on its adder's latency at every weight).
// Indexing by weight, then by filter, is the interleaving: an iterator over one filter would
// undo it.
#[allow(clippy::needless_range_loop)]
pub fn quantize_filters_x4(
    w: &[f32],
    k: usize,
    threshold_factor: f64,
    codes: &mut [Code],
) -> [f32; 4] {
    debug_assert!(k > 0 && w.len() == 4 * k && codes.len() == 4 * k);
    let f: [&[f32]; 4] = std::array::from_fn(|j| &w[j * k..(j + 1) * k]);
    let mut sum = [0.0f64; 4];
    for i in 0..k {
        for j in 0..4 {
            sum[j] += f[j][i].abs() as f64;
        }
    }
    let delta: [f32; 4] =
        std::array::from_fn(|j| (threshold_factor * (sum[j] / k as f64) as f32 as f64) as f32);
    for (j, (c, x)) in codes.chunks_mut(k).zip(f).enumerate() {
        for (c, &x) in c.iter_mut().zip(x) {
            let sign: Code = if x > 0.0 { 1 } else { -1 };
            *c = if x.abs() > delta[j] { sign } else { 0 };
        }
    }
    let (mut kept, mut n) = ([0.0f64; 4], [0u64; 4]);
    for i in 0..k {
        for j in 0..4 {
            let x = f[j][i];
            let keep = x.abs() > delta[j];
            kept[j] += if keep { x.abs() as f64 } else { 0.0 };
            n[j] += keep as u64;
        }
    }
    std::array::from_fn(|j| {
        if n[j] == 0 {
            0.0
        } else {
            (kept[j] / n[j] as f64) as f32
        }
    })
}
