//! Per-layer and whole-network statistics of quantized weights.
//!
//! [`QuantStats`] holds counters (so layers add up exactly into a network total with
//! [`QuantStats::total`]) and derives the ratios from them.

use super::QuantizedTensor;

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

/// Statistics of `q`, the quantization of `weights` (serial, deterministic).
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
    // Distinct non-zero codes per filter: each code value's slot remembers the last filter
    // that used it (codes fit in i16: at most 16-bit schemes), so nothing is cleared between
    // filters and no branch depends on the codes. Zero counts as a value here and is taken
    // back out once per filter that has one.
    const OFFSET: i32 = 1 << 16;
    let mut last = vec![0u32; 2 << 16];
    for f in 0..filters {
        let (w, c) = (&weights[f * k..(f + 1) * k], q.filter_codes(f));
        let stamp = f as u32 + 1;
        let (mut distinct, mut zeros) = (0u64, 0u64);
        let scale = q.effective_scale(f, weights);
        // One pass: the integer counts run while the two serial f64 sums wait on their adds.
        for (&x, &v) in w.iter().zip(c) {
            let slot = &mut last[(v as i32 + OFFSET) as usize];
            distinct += (*slot != stamp) as u64;
            *slot = stamp;
            zeros += (v == 0) as u64;
            let d = x as f64 - v as f64 * scale;
            s.sq_error += d * d;
            s.sq_norm += x as f64 * x as f64;
        }
        distinct -= (last[OFFSET as usize] == stamp) as u64;
        s.nonzeros += c.len() as u64 - zeros;
        s.distinct_sum += distinct;
        s.distinct_max = s.distinct_max.max(distinct);
    }
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
