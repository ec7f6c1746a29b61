//! Per-layer and whole-network statistics of quantized weights.
//!
//! [`QuantStats`] holds counters (so layers add up exactly into a network total with
//! [`QuantStats::total`]) and derives the ratios from them.

use rayon::prelude::*;

use super::{Code, QuantizedTensor};

/// Statistics of one quantized tensor, or of a whole network (summed).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QuantStats {
    /// Weights (codes).
    pub weights: u64,
    /// Output filters.
    pub filters: u64,
    /// Non-zero codes.
    pub nonzeros: u64,
    /// Effectual bits summed over weights: popcount(|code|), or N_g per weight for SWIS and
    /// truncation (the shifts the hardware spends on every weight of the group).
    pub effectual_bits: u64,
    /// Distinct non-zero code values, summed over filters.
    pub distinct_sum: u64,
    /// Distinct non-zero code values of the filter that has most.
    pub distinct_max: u64,
    /// Squared quantization error `||w - q(w)||^2` (dequantized; with each filter's
    /// least-squares scale when the scale is absorbed by batch norm).
    pub sq_error: f64,
    /// Squared norm `||w||^2`.
    pub sq_norm: f64,
    /// Storage in bits: codes, 32-bit scales and shift metadata.
    pub storage_bits: u64,
}

impl QuantStats {
    /// Fraction of non-zero codes.
    pub fn density(&self) -> f64 {
        ratio(self.nonzeros as f64, self.weights as f64)
    }

    /// Mean effectual bits per weight.
    pub fn effectual_bits_per_weight(&self) -> f64 {
        ratio(self.effectual_bits as f64, self.weights as f64)
    }

    /// Mean distinct non-zero values per filter.
    pub fn distinct_per_filter_mean(&self) -> f64 {
        ratio(self.distinct_sum as f64, self.filters as f64)
    }

    /// Effectual operations per output value: non-zero weights per filter, on average.
    pub fn effectual_ops_per_output(&self) -> f64 {
        ratio(self.nonzeros as f64, self.filters as f64)
    }

    /// Relative quantization error `||w - q(w)|| / ||w||` (0 for all-zero weights).
    pub fn rel_error(&self) -> f64 {
        ratio(self.sq_error, self.sq_norm).sqrt()
    }

    /// The network total: counters summed in order, the per-filter maximum maxed.
    pub fn total(layers: &[QuantStats]) -> QuantStats {
        layers
            .iter()
            .fold(QuantStats::default(), |a, s| QuantStats {
                weights: a.weights + s.weights,
                filters: a.filters + s.filters,
                nonzeros: a.nonzeros + s.nonzeros,
                effectual_bits: a.effectual_bits + s.effectual_bits,
                distinct_sum: a.distinct_sum + s.distinct_sum,
                distinct_max: a.distinct_max.max(s.distinct_max),
                sq_error: a.sq_error + s.sq_error,
                sq_norm: a.sq_norm + s.sq_norm,
                storage_bits: a.storage_bits + s.storage_bits,
            })
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// Statistics of `q`, the quantization of `weights` (deterministic, whatever the thread
/// count: the f64 sums run serially in the definition's order, filters then weights, beside
/// the integer counts, which run in parallel over filters).
///
/// # Panics
/// If `weights` and `q.codes` differ in length.
pub fn stats(weights: &[f32], q: &QuantizedTensor) -> QuantStats {
    assert_eq!(
        weights.len(),
        q.codes.len(),
        "stats: weights and codes differ in length"
    );
    let k = q.filter_len();
    let filters = q.filters();
    let mut s = QuantStats {
        weights: q.codes.len() as u64,
        filters: filters as u64,
        storage_bits: q.storage_bits,
        ..QuantStats::default()
    };
    let scales: Vec<f64> = (0..filters)
        .into_par_iter()
        .map(|f| q.effective_scale(f, weights))
        .collect();
    let ((sq_error, sq_norm), counts) = rayon::join(
        || error_sums(weights, &q.codes, k, &scales),
        || filter_counts(q, filters),
    );
    s.sq_error = sq_error;
    s.sq_norm = sq_norm;
    s.nonzeros = counts.nonzeros;
    s.distinct_sum = counts.distinct_sum;
    s.distinct_max = counts.distinct_max;
    s.effectual_bits = match &q.groups {
        // Every weight of a group spends the group's N_g: N_g times the group's length.
        Some(g) => {
            let (size, per) = (g.group_size as usize, g.groups_per_filter as usize);
            g.shared
                .chunks(per.max(1))
                .take(filters)
                .map(|groups| {
                    groups
                        .iter()
                        .enumerate()
                        .map(|(j, &n)| n as u64 * k.saturating_sub(j * size).min(size) as u64)
                        .sum::<u64>()
                })
                .sum()
        }
        None => q
            .codes
            .iter()
            .map(|c| c.unsigned_abs().count_ones() as u64)
            .sum(),
    };
    s
}

/// The squared error `sum (w - code * scale_f)^2` and the squared norm `sum w^2` of a tensor
/// of filters of `k` weights, in f64, added serially (filters in order, weights in order).
fn error_sums(weights: &[f32], codes: &[Code], k: usize, scales: &[f64]) -> (f64, f64) {
    let (mut sq_error, mut sq_norm) = (0.0f64, 0.0f64);
    for (f, &scale) in scales.iter().enumerate() {
        let (w, c) = (&weights[f * k..(f + 1) * k], &codes[f * k..(f + 1) * k]);
        for (&x, &v) in w.iter().zip(c) {
            let d = x as f64 - v as f64 * scale;
            sq_error += d * d;
            sq_norm += x as f64 * x as f64;
        }
    }
    (sq_error, sq_norm)
}

/// Non-zero codes, and distinct non-zero code values per filter (summed and largest).
#[derive(Default)]
struct Counts {
    nonzeros: u64,
    distinct_sum: u64,
    distinct_max: u64,
}

/// [`Counts`] of the first `filters` filters of `q`, in parallel over filters. Distinct
/// values: each code value's slot (over the tensor's range of codes) remembers the last filter
/// that used it, so nothing is cleared between filters and no branch depends on the codes.
/// Zero counts as a value here and is taken back out once per filter that has one.
fn filter_counts(q: &QuantizedTensor, filters: usize) -> Counts {
    let (lo, hi) = q.codes.iter().fold((0i32, 0i32), |(lo, hi), &v| {
        (lo.min(v as i32), hi.max(v as i32))
    });
    let span = (hi - lo + 1) as usize;
    let zero = (-lo) as usize;
    (0..filters)
        .into_par_iter()
        .with_min_len(16)
        .fold(
            || (vec![0u32; span], Counts::default()),
            |(mut last, mut n), f| {
                let stamp = f as u32 + 1;
                let (mut distinct, mut zeros) = (0u64, 0u64);
                for &v in q.filter_codes(f) {
                    let slot = &mut last[(v as i32 - lo) as usize];
                    distinct += (*slot != stamp) as u64;
                    *slot = stamp;
                    zeros += (v == 0) as u64;
                }
                distinct -= (last[zero] == stamp) as u64;
                n.nonzeros += q.filter_len() as u64 - zeros;
                n.distinct_sum += distinct;
                n.distinct_max = n.distinct_max.max(distinct);
                (last, n)
            },
        )
        .map(|(_, n)| n)
        .reduce(Counts::default, |a, b| Counts {
            nonzeros: a.nonzeros + b.nonzeros,
            distinct_sum: a.distinct_sum + b.distinct_sum,
            distinct_max: a.distinct_max.max(b.distinct_max),
        })
}
