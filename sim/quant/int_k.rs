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
    let (scale, qf) = (max / q as f32, q as f32);
    for (c, &x) in codes.iter_mut().zip(w) {
        *c = round_clamped(x / scale, qf);
    }
    scale
}

/// `y.round().clamp(-q, q) as Code` (half away from zero; NaN gives 0) without a call to
/// libm's `roundf`, so the loop vectorizes: clamping first does not change the result (q is
/// an integer), and for |y| <= q < 2^15 the sum |y| + 0.5 is exact in f64, so truncating it
/// is rounding |y| half up.
#[inline]
fn round_clamped(y: f32, q: f32) -> Code {
    let y = y.clamp(-q, q);
    let m = (y.abs() as f64 + 0.5) as i32;
    (if y < 0.0 { -m } else { m }) as Code
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition the quantizer used before `round_clamped`.
    fn by_definition(y: f32, q: f32) -> Code {
        y.round().clamp(-q, q) as Code
    }

    #[test]
    fn rounding_is_the_definitions_on_edges_and_a_sweep_of_values() {
        let half_below = f32::from_bits(0.5f32.to_bits() - 1);
        let mut ys = vec![
            0.0,
            -0.0,
            half_below,
            -half_below,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            126.5,
            127.49999,
            127.5,
            -127.5,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            -f32::from_bits(1),
        ];
        // Every f32 bit pattern with a stride: all signs, exponents and many mantissas.
        ys.extend((0..=u32::MAX).step_by(9973).map(f32::from_bits));
        for bits in [2u32, 4, 8, 16] {
            let q = qmax(bits) as f32;
            for &y in &ys {
                assert_eq!(
                    round_clamped(y, q),
                    by_definition(y, q),
                    "y = {y:e}, bits {bits}"
                );
            }
        }
    }
}
