//! Weight quantization: pure functions from float weights to integer codes.
//!
//! [`quantize`] is the single entry point: float weights in PyTorch layout in, a
//! [`QuantizedTensor`] out (an exact integer code per weight, a scale per output filter, the
//! SWIS group metadata and the storage cost). [`stats()`] summarizes one tensor and
//! [`QuantStats::total`] a whole network.
//!
//! Layout: `shape[0]` is the number of output filters; each filter's weights are contiguous and
//! their flattened `[in/groups][kh][kw]` order is the GEMM reduction (K) order, which is the
//! order SWIS groups follow. A weight's value is `codes[i] * scales[filter]`.
//!
//! One module per scheme: [`int_k`], [`binary`], [`ternary`], [`signed_binary`], [`swis`]
//! (with the truncation baseline). Everything here is deterministic: filters are quantized in
//! parallel (rayon) but results are collected in order and reduced serially.

use rayon::prelude::*;

pub mod binary;
pub mod int_k;
pub mod prefix;
pub mod signed_binary;
pub mod spec;
pub mod stats;
pub mod swis;
pub mod ternary;

pub use spec::{resolve_quant, QuantSpec, RawQuant, Scheme, SharedBits, SignRule};
pub use stats::{stats, QuantStats};

/// A weight's integer code: 16 bits hold every scheme's (int-k and SWIS up to 16 bits, whose
/// magnitudes stay below 2^15), at half the memory of an i32.
pub type Code = i16;

/// Bits of one stored scale (an f32 per output filter, or one per tensor).
pub const SCALE_BITS: u64 = 32;

/// Per-group metadata of SWIS (and of the truncation baseline, which is SWIS with one fixed
/// group per filter).
///
/// Groups run along each filter's reduction dimension: filter `f` owns groups
/// `f * groups_per_filter ..`, group `j` of a filter covers its weights
/// `j * group_size .. min((j + 1) * group_size, filter_len)` (the last one may be short).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwisGroups {
    /// Weights per group (the last group of each filter may hold fewer).
    pub group_size: u32,
    /// Groups per filter: `ceil(filter_len / group_size)`.
    pub groups_per_filter: u32,
    /// N_g per group: how many bit positions the group's weights use.
    pub shared: Vec<u8>,
    /// Bit positions per group: bit `p` set means magnitude bit `p` (weight 2^p) is kept.
    /// `shared[g] == masks[g].count_ones()`.
    pub masks: Vec<u16>,
    /// Bits of shift metadata stored per group: the position mask, `base_bits - 1` bits (SWIS),
    /// or 0 when the positions are fixed by the scheme (truncation).
    pub metadata_bits_per_group: u32,
}

impl SwisGroups {
    /// Group index of weight `index` (flat, row-major) of a tensor whose filters hold
    /// `filter_len` weights.
    pub fn group_of(&self, filter_len: usize, index: usize) -> usize {
        let f = index / filter_len;
        let k = index % filter_len;
        f * self.groups_per_filter as usize + k / self.group_size as usize
    }
}

/// A quantized weight tensor: exact integer codes, per-filter scales and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedTensor {
    /// The scheme that produced it.
    pub scheme: Scheme,
    /// PyTorch-layout shape; `shape[0]` output filters.
    pub shape: Vec<u64>,
    /// Signed integer code per weight, same order as the input; value = `code * scale[filter]`.
    pub codes: Vec<Code>,
    /// One scale per output filter (per-tensor schemes repeat the same value).
    pub scales: Vec<f32>,
    /// SWIS / truncation group metadata; `None` for the other schemes.
    pub groups: Option<SwisGroups>,
    /// Storage of the tensor in bits: codes, scales (32 bit each) and shift metadata.
    pub storage_bits: u64,
    /// True when the scale is folded into the following batch norm (signed binary without
    /// alpha: codes are {0, ±1} with scale 1). The error statistic then uses each filter's
    /// least-squares scale, the one batch norm can realize.
    pub scale_absorbed: bool,
    /// Summaries of the codes built on first use and shared by every design that runs this
    /// tensor (prefix sums, the engine's step-cost tables); ignored by `==`, `Clone` and
    /// `Debug` (`Default::default()` when building a tensor by hand).
    pub derived: prefix::Derived,
}

impl QuantizedTensor {
    /// Number of output filters.
    pub fn filters(&self) -> usize {
        self.shape.first().copied().unwrap_or(0) as usize
    }

    /// Weights per filter (the GEMM K of one filter).
    pub fn filter_len(&self) -> usize {
        self.shape.iter().skip(1).product::<u64>() as usize
    }

    /// The codes of filter `f`.
    pub fn filter_codes(&self, f: usize) -> &[Code] {
        let k = self.filter_len();
        &self.codes[f * k..(f + 1) * k]
    }

    /// N_g of filter `f`'s SWIS groups, when the tensor has group metadata.
    pub fn filter_group_bits(&self, f: usize) -> Option<&[u8]> {
        let g = self.groups.as_ref()?;
        let per = g.groups_per_filter as usize;
        Some(&g.shared[f * per..(f + 1) * per])
    }

    /// Prefix sums over each filter's SWIS groups (N_g and N_g x length), built on first use;
    /// `None` without group metadata.
    pub fn group_prefix(&self) -> Option<&prefix::GroupPrefix> {
        let g = self.groups.as_ref()?;
        self.derived.group_prefix(g, self.filter_len())
    }

    /// The scale of filter `f` as the datapath applies it: its stored scale, or, when the scale
    /// is absorbed by batch norm, the least-squares scale `<w, c> / <c, c>` against the float
    /// weights `w` it came from (the one a recalibrated batch norm realizes).
    pub fn effective_scale(&self, f: usize, weights: &[f32]) -> f64 {
        if !self.scale_absorbed {
            return self.scales[f] as f64;
        }
        let k = self.filter_len();
        let (w, c) = (&weights[f * k..(f + 1) * k], self.filter_codes(f));
        let wc: f64 = w.iter().zip(c).map(|(&x, &v)| x as f64 * v as f64).sum();
        let cc: f64 = c.iter().map(|&v| (v as f64) * (v as f64)).sum();
        if cc > 0.0 {
            wc / cc
        } else {
            0.0
        }
    }

    /// Number of non-zero codes.
    pub fn nonzeros(&self) -> u64 {
        self.codes.iter().filter(|&&c| c != 0).count() as u64
    }

    /// Float values `code * scale[filter]`.
    pub fn dequantize(&self) -> Vec<f32> {
        let k = self.filter_len().max(1);
        self.codes
            .iter()
            .enumerate()
            .map(|(i, &c)| c as f32 * self.scales[i / k])
            .collect()
    }
}

/// What one filter's quantizer returns besides its codes.
pub(crate) struct FilterOut {
    pub scale: f32,
    /// (N_g, mask) per group of the filter; empty for group-less schemes.
    pub groups: Vec<(u8, u16)>,
}

/// Quantize `weights` (PyTorch layout, `shape[0]` output filters) with `scheme`.
///
/// Pure and deterministic: filters are processed in parallel, results collected in order.
///
/// # Panics
/// If `weights.len()` differs from the product of `shape`, or the scheme's parameters are out
/// of the range [`Scheme::problems`] checks (validated configs never are).
pub fn quantize(weights: &[f32], shape: &[u64], scheme: &Scheme) -> QuantizedTensor {
    let n: u64 = shape.iter().product();
    assert_eq!(
        weights.len() as u64,
        n,
        "quantize: {} weights for shape {shape:?}",
        weights.len()
    );
    let problems = scheme.problems("scheme");
    assert!(
        problems.is_empty(),
        "quantize: invalid scheme: {problems:?}"
    );
    let filters = shape.first().copied().unwrap_or(1) as usize;
    let k = shape.iter().skip(1).product::<u64>() as usize;
    let mut codes: Vec<Code> = vec![0; weights.len()];
    let outs: Vec<FilterOut> = if weights.is_empty() || k == 0 {
        (0..filters)
            .map(|_| FilterOut {
                scale: 0.0,
                groups: Vec::new(),
            })
            .collect()
    } else {
        let per_tensor_max = match *scheme {
            Scheme::Int {
                per_channel: false, ..
            } => Some(weights.par_iter().map(|w| w.abs()).reduce(|| 0.0, f32::max)),
            _ => None,
        };
        let absmean = matches!(scheme, Scheme::TernaryAbsmean)
            .then(|| ternary::absmean_inverse_scale(weights));
        let prepared = swis::Prepared::new(scheme);
        let sign_binary_signs = match *scheme {
            Scheme::SignedBinary { sign_rule, .. } => {
                Some(signed_binary::filter_signs(weights, filters, k, sign_rule))
            }
            _ => None,
        };
        if let Scheme::Ternary { threshold_factor } = *scheme {
            ternary_filters(weights, k, threshold_factor, &mut codes)
        } else {
            codes
                .par_chunks_mut(k)
                .zip(weights.par_chunks(k))
                .enumerate()
                .map(|(f, (c, w))| match *scheme {
                    Scheme::Int { bits, .. } => {
                        let max = per_tensor_max.unwrap_or_else(|| int_k::max_abs(w));
                        FilterOut {
                            scale: int_k::quantize_filter(w, max, bits, c),
                            groups: Vec::new(),
                        }
                    }
                    Scheme::Binary => FilterOut {
                        scale: binary::quantize_filter(w, c),
                        groups: Vec::new(),
                    },
                    Scheme::Ternary { threshold_factor } => FilterOut {
                        scale: ternary::quantize_filter(w, threshold_factor, c),
                        groups: Vec::new(),
                    },
                    Scheme::TernaryAbsmean => FilterOut {
                        scale: ternary::quantize_filter_absmean(w, absmean.expect("absmean"), c),
                        groups: Vec::new(),
                    },
                    Scheme::SignedBinary {
                        threshold, alpha, ..
                    } => {
                        let sign = sign_binary_signs.as_ref().map_or(1, |s| s[f]);
                        FilterOut {
                            scale: signed_binary::quantize_filter(w, sign, threshold, alpha, c),
                            groups: Vec::new(),
                        }
                    }
                    Scheme::Swis { .. } | Scheme::Truncate { .. } => prepared
                        .as_ref()
                        .expect("swis tables")
                        .quantize_filter(w, c),
                })
                .collect()
        }
    };
    let scales: Vec<f32> = outs.iter().map(|o| o.scale).collect();
    let groups = match *scheme {
        Scheme::Swis {
            base_bits,
            group_size,
            ..
        } => Some(collect_groups(&outs, group_size, k, base_bits - 1)),
        Scheme::Truncate { .. } => Some(collect_groups(&outs, k.max(1) as u32, k, 0)),
        _ => None,
    };
    let storage_bits = storage_bits(
        scheme,
        weights.len() as u64,
        filters as u64,
        k,
        groups.as_ref(),
    );
    QuantizedTensor {
        scheme: *scheme,
        shape: shape.to_vec(),
        codes,
        scales,
        groups,
        storage_bits,
        scale_absorbed: matches!(scheme, Scheme::SignedBinary { alpha: false, .. }),
        derived: prefix::Derived::default(),
    }
}

/// TWN's ternary filters, four at a time ([`ternary::quantize_filters_x4`]), the last
/// `filters % 4` one by one: the same codes and scales as filter by filter.
fn ternary_filters(
    weights: &[f32],
    k: usize,
    threshold_factor: f64,
    codes: &mut [Code],
) -> Vec<FilterOut> {
    let out = |scale| FilterOut {
        scale,
        groups: Vec::new(),
    };
    let quad = weights.len() / (4 * k) * (4 * k);
    let (w4, w1) = weights.split_at(quad);
    let (c4, c1) = codes.split_at_mut(quad);
    let mut outs: Vec<FilterOut> = c4
        .par_chunks_mut(4 * k)
        .zip(w4.par_chunks(4 * k))
        .flat_map_iter(|(c, w)| ternary::quantize_filters_x4(w, k, threshold_factor, c).map(out))
        .collect();
    outs.extend(
        c1.chunks_mut(k)
            .zip(w1.chunks(k))
            .map(|(c, w)| out(ternary::quantize_filter(w, threshold_factor, c))),
    );
    outs
}

fn collect_groups(outs: &[FilterOut], group_size: u32, k: usize, metadata_bits: u32) -> SwisGroups {
    let groups_per_filter = k.div_ceil(group_size as usize) as u32;
    let per = groups_per_filter as usize;
    let (shared, masks) = if per > 0 && outs.iter().all(|o| o.groups.len() == per) {
        // Every filter has its `per` groups: filled in place, filters in parallel.
        let (mut shared, mut masks) = (vec![0u8; outs.len() * per], vec![0u16; outs.len() * per]);
        shared
            .par_chunks_mut(per)
            .zip(masks.par_chunks_mut(per))
            .zip(outs.par_iter())
            .with_min_len(16)
            .for_each(|((s, m), o)| {
                for ((s, m), &(n, mask)) in s.iter_mut().zip(m).zip(&o.groups) {
                    (*s, *m) = (n, mask);
                }
            });
        (shared, masks)
    } else {
        outs.iter().flat_map(|o| o.groups.iter().copied()).unzip()
    };
    SwisGroups {
        group_size,
        groups_per_filter,
        shared,
        masks,
        metadata_bits_per_group: metadata_bits,
    }
}

/// Storage in bits of a tensor of `shape` quantized with `scheme`, without its codes: exact
/// for every scheme but variable-N SWIS, which is bounded by N_max (every group at N_max).
/// The same accounting as [`QuantizedTensor::storage_bits`].
pub fn storage_bits_for(scheme: &Scheme, shape: &[u64]) -> u64 {
    let n: u64 = shape.iter().product();
    let filters = shape.first().copied().unwrap_or(0);
    let k = n.checked_div(filters).unwrap_or(0) as usize;
    let groups = match *scheme {
        Scheme::Swis {
            base_bits,
            group_size,
            shared,
        } => {
            let nb = match shared {
                SharedBits::Fixed(v) => v,
                SharedBits::Variable { max, .. } => max,
            } as u8;
            let per = k.div_ceil(group_size as usize) as u32;
            Some(SwisGroups {
                group_size,
                groups_per_filter: per,
                shared: vec![nb; (filters as usize) * per as usize],
                masks: Vec::new(),
                metadata_bits_per_group: base_bits - 1,
            })
        }
        Scheme::Truncate { kept_bits, .. } => Some(SwisGroups {
            group_size: k.max(1) as u32,
            groups_per_filter: 1,
            shared: vec![kept_bits as u8; filters as usize],
            masks: Vec::new(),
            metadata_bits_per_group: 0,
        }),
        _ => None,
    };
    storage_bits(scheme, n, filters, k, groups.as_ref())
}

/// Storage in bits: codes + 32-bit scales + shift metadata (see each scheme's module).
fn storage_bits(
    scheme: &Scheme,
    n: u64,
    filters: u64,
    k: usize,
    groups: Option<&SwisGroups>,
) -> u64 {
    match *scheme {
        Scheme::Int { bits, per_channel } => {
            n * bits as u64 + SCALE_BITS * if per_channel { filters } else { 1 }
        }
        Scheme::Binary => n + SCALE_BITS * filters,
        Scheme::Ternary { .. } => 2 * n + SCALE_BITS * filters,
        // One scale for the tensor.
        Scheme::TernaryAbsmean => 2 * n + SCALE_BITS,
        Scheme::SignedBinary {
            sign_rule, alpha, ..
        } => {
            // One bit per weight (zero / non-zero); the sign is per filter: implicit for
            // `Halves`, one bit per filter for `WeightSum`.
            n + if alpha { SCALE_BITS * filters } else { 0 }
                + if sign_rule == SignRule::WeightSum {
                    filters
                } else {
                    0
                }
        }
        Scheme::Swis { .. } | Scheme::Truncate { .. } => {
            let g = groups.expect("swis groups");
            let gs = g.group_size as usize;
            // Filters in parallel (a sum of integers: the order is immaterial).
            let per_filter = |filter: &[u8]| -> u64 {
                let mut bits = 0;
                for (j, &ng) in filter.iter().enumerate() {
                    let len = (k - j * gs).min(gs) as u64;
                    // Sign + N_g kept bits per weight; a group with N_g = 0 stores no weight
                    // bits.
                    if ng > 0 {
                        bits += len * (1 + ng as u64);
                    }
                    bits += g.metadata_bits_per_group as u64;
                }
                bits
            };
            SCALE_BITS * filters
                + g.shared
                    .par_chunks(g.groups_per_filter.max(1) as usize)
                    .with_min_len(64)
                    .map(per_filter)
                    .sum::<u64>()
        }
    }
}

/// Quantize several tensors `(weights, shape)` with one scheme, in parallel over tensors,
/// results in input order (used by the benchmark and sweeps over a scheme).
pub fn quantize_many(tensors: &[(&[f32], &[u64])], scheme: &Scheme) -> Vec<QuantizedTensor> {
    tensors
        .par_iter()
        .map(|(w, shape)| quantize(w, shape, scheme))
        .collect()
}
