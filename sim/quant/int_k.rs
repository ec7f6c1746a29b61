//! Uniform symmetric int-k quantization (k = 2..=16), per tensor or per output channel.
//!
//! The usual symmetric linear quantizer (e.g. Jacob et al. 2018, "Quantization and Training of
//! Neural Networks for Efficient Integer-Arithmetic-Only Inference", with zero point 0):
//! `scale = max|w| / (2^(k-1) - 1)`, `code = round(w / scale)` (half away from zero), clamped to
//! `[-(2^(k-1)-1), 2^(k-1)-1]`. The max is taken over the filter (per channel) or the whole
//! tensor. An all-zero filter gets scale 0 and zero codes.
//!
//! Error versus k: the grid of k bits, `{i * M/q_k}` with `q_k = 2^(k-1)-1`, is contained in the
//! grid of k' bits exactly when `q_k` divides `q_k'`, i.e. when `(k-1)` divides `(k'-1)`
//! (`2^a - 1 | 2^b - 1  <=>  a | b`). Only then is the error of k' never above the error of k;
//! for other pairs it can grow (k = 3 represents M/3 exactly, k = 4 does not).

use super::Code;

/// Largest code magnitude of `bits`-bit symmetric quantization: `2^(bits-1) - 1`.
pub fn qmax(bits: u32) -> i32 {
    (1i32 << (bits - 1)) - 1
}

/// Largest |w| of a slice (0 for an empty slice).
pub fn max_abs(w: &[f32]) -> f32 {
    w.iter().fold(0.0f32, |m, x| m.max(x.abs()))
}

/// Quantize one filter with the range `max` (its own max |w|, or the tensor's); returns the scale.
pub fn quantize_filter(w: &[f32], max: f32, bits: u32, codes: &mut [Code]) -> f32 {
    let q = qmax(bits);
    if max <= 0.0 {
        codes.fill(0);
        return 0.0;
    }
    let scale = max / q as f32;
    for (c, &x) in codes.iter_mut().zip(w) {
        *c = (x / scale).round().clamp(-q as f32, q as f32) as Code;
    }
    scale
}
