//! SWIS shared-bit decomposition, and the truncation baseline it is compared with.
//!
//! Follows SWIS (Li, Romaszkan, Graening & Gupta 2021, "SWIS: Shared Weight bIt Sparsity for
//! Neural Network Acceleration", arXiv:2103.01308): weights are first quantized to B-bit sign-magnitude
//! (magnitude up to `2^(B-1) - 1`, per-output-channel scale `max|w_f| / (2^(B-1)-1)`, B = 8 by
//! default). Groups of G consecutive weights along a filter's reduction dimension (its flattened
//! `[in][kh][kw]` order, the GEMM K order; the last group of a filter may be short) share N bit
//! positions, not necessarily consecutive, out of the B-1 magnitude bits. Each weight keeps its
//! sign and the best magnitude representable with those positions.
//!
//! Search (exact, exhaustive): for every one of the C(B-1, N) position subsets, each weight's
//! real magnitude `x = |w| / scale` is rounded to the nearest subset sum (not masked), and the
//! subset with the least squared group error wins. Ties: between two subset sums equally near,
//! the larger (so that N = B-1 reproduces `round(x)` exactly); between subsets of equal error, the
//! smallest mask. Each subset has a table, indexed by `floor(x)`, of the nearest representable
//! values below and above, so a weight costs one lookup per subset (B <= 12; larger B uses a
//! binary search over the subset's sorted sums).
//!
//! Variable N ([`SharedBits::Variable`]): a group whose B-bit codes are all zero gets N_g = 0;
//! otherwise N_g is the smallest N in `1..=N_max` whose best subset has a relative squared error
//! `sum (x - q)^2 / sum x^2 <= error_bound`, or N_max if none does.
//!
//! Shift metadata: each group stores its positions as a (B-1)-bit mask. For B = 8 that is 7 bits,
//! less than N * ceil(log2(B-1)) = 9 bits for N = 3, and it also encodes N_g for variable N.
//! Weights of a group cost 1 + N_g bits (sign and kept bits), nothing when N_g = 0.
//!
//! Truncation ([`Scheme::Truncate`]) keeps, for every weight, the N most significant magnitude
//! bit positions of the filter's B-bit range (bits B-2 .. B-1-N), rounding toward zero
//! (`round(x) & mask`). Because the per-channel scale maps each filter's largest |w| to
//! `2^(B-1)-1`, this is "N consecutive bits from the filter's leading one". It is per filter,
//! not per weight, on purpose: its positions are one of the subsets SWIS searches in every group,
//! so SWIS error <= truncation error holds by construction for any G. Per-weight truncation (N
//! bits from each weight's own leading one) can beat SWIS (G = 2, N = 1, magnitudes 64 and 3:
//! per-weight keeps 64 and 2, SWIS must drop one of them), so it is not the baseline. The
//! truncation result carries one group per filter (N_g = N, fixed mask, no stored metadata).

use super::spec::{Scheme, SharedBits};
use super::FilterOut;

/// Largest table (subsets x levels) built for the lookup path; beyond it, binary search.
const MAX_TABLE_ENTRIES: usize = 1 << 22;

/// All subsets of N positions out of B-1 magnitude bits, with their representable magnitudes.
#[derive(Debug, Clone)]
pub struct SubsetTable {
    /// N, positions per subset.
    pub n: u32,
    /// Subsets as bit masks, in increasing numeric order (the tie-break order).
    pub masks: Vec<u16>,
    /// `2^(B-1)`: number of integer magnitudes 0..=2^(B-1)-1.
    levels: usize,
    /// Per subset, per `floor(x)`: the nearest representable value <= floor(x) and the
    /// nearest >= floor(x)+1 (infinity when none). Empty when the table would be too large.
    entries: Vec<[f32; 2]>,
    /// Per subset, its sorted representable values (used when `entries` is empty).
    values: Vec<Vec<f32>>,
}

impl SubsetTable {
    /// Tables for N of the B-1 magnitude bits of B-bit sign-magnitude.
    pub fn new(base_bits: u32, n: u32) -> Self {
        let mag_bits = base_bits - 1;
        let levels = 1usize << mag_bits;
        let masks: Vec<u16> = (0u32..1 << mag_bits)
            .filter(|m| m.count_ones() == n)
            .map(|m| m as u16)
            .collect();
        let values: Vec<Vec<f32>> = masks.iter().map(|&m| subset_sums(m)).collect();
        let mut entries = Vec::new();
        if masks.len() * levels <= MAX_TABLE_ENTRIES {
            entries.reserve(masks.len() * levels);
            for vals in &values {
                let mut j = 0; // vals[j] is the largest value <= i
                for i in 0..levels {
                    while j + 1 < vals.len() && vals[j + 1] <= i as f32 {
                        j += 1;
                    }
                    let hi = vals.get(j + 1).copied().unwrap_or(f32::INFINITY);
                    entries.push([vals[j], hi]);
                }
            }
        }
        let values = if entries.is_empty() {
            values
        } else {
            Vec::new()
        };
        SubsetTable {
            n,
            masks,
            levels,
            entries,
            values,
        }
    }

    /// Nearest representable values below and above `x` (with `i = floor(x)`) for subset `s`.
    #[inline]
    fn bounds(&self, s: usize, x: f32, i: u32) -> [f32; 2] {
        if self.entries.is_empty() {
            let vals = &self.values[s];
            let above = vals.partition_point(|&v| v <= i as f32);
            [
                vals[above - 1],
                vals.get(above).copied().unwrap_or(f32::INFINITY),
            ]
        } else {
            let _ = x;
            self.entries[s * self.levels + i as usize]
        }
    }

    /// Squared error of subset `s` over the group, stopping early once it exceeds `bound`.
    #[inline]
    fn error(&self, s: usize, xs: &[f32], idx: &[u32], bound: f32) -> f32 {
        if self.entries.is_empty() {
            return xs
                .iter()
                .zip(idx)
                .map(|(&x, &i)| {
                    let [lo, hi] = self.bounds(s, x, i);
                    let d = (x - lo).min(hi - x);
                    d * d
                })
                .sum::<f32>();
        }
        let e = &self.entries[s * self.levels..(s + 1) * self.levels];
        let mut err = 0.0f32;
        // Partial sums only grow: stop once this subset cannot win. Checked every 4 weights
        // to keep the inner loop tight.
        for (xc, ic) in xs.chunks(4).zip(idx.chunks(4)) {
            for (&x, &i) in xc.iter().zip(ic) {
                let [lo, hi] = e[i as usize];
                let d = (x - lo).min(hi - x);
                err += d * d;
            }
            if err > bound {
                break;
            }
        }
        err
    }

    /// The subset with the least squared error over the group's magnitudes `xs`
    /// (`idx[i] = floor(xs[i])`), and that error; among equal errors the smallest mask.
    ///
    /// The search starts from the N consecutive positions below the group's leading one (a
    /// good bound that makes most other subsets stop early), then tries every subset.
    pub fn best(&self, xs: &[f32], idx: &[u32]) -> (usize, f32) {
        let top = xs.iter().fold(0.0f32, |m, &x| m.max(x)).round() as u32;
        let lead = 32 - top.leading_zeros(); // bits in use
        let low = lead.saturating_sub(self.n);
        let seed_mask = (((1u32 << self.n) - 1) << low) as u16;
        let s0 = self.masks.binary_search(&seed_mask).unwrap_or(0);
        let mut best = (s0, self.error(s0, xs, idx, f32::INFINITY));
        // The error of the group's largest weight alone bounds a subset's group error from
        // below: subsets whose bound already exceeds the best so far need no full evaluation.
        let (imax, &xmax) =
            xs.iter().enumerate().fold(
                (0, &0.0f32),
                |(bi, bx), (i, x)| if *x > *bx { (i, x) } else { (bi, bx) },
            );
        let imax_idx = idx.get(imax).copied().unwrap_or(0);
        for s in 0..self.masks.len() {
            if best.1 == 0.0 && s >= best.0 {
                break;
            }
            if s == s0 {
                continue;
            }
            if !xs.is_empty() {
                let [lo, hi] = self.bounds(s, xmax, imax_idx);
                let d = (xmax - lo).min(hi - xmax);
                if d * d > best.1 {
                    continue;
                }
            }
            let err = self.error(s, xs, idx, best.1);
            if err < best.1 || (err == best.1 && s < best.0) {
                best = (s, err);
            }
        }
        best
    }

    /// Magnitude subset `s` gives `x`: the nearer of the two bounds, the larger on a tie.
    #[inline]
    pub fn pick(&self, s: usize, x: f32, i: u32) -> f32 {
        let [lo, hi] = self.bounds(s, x, i);
        if hi - x <= x - lo {
            hi
        } else {
            lo
        }
    }
}

/// All sums of subsets of the positions in `mask`, sorted ascending.
fn subset_sums(mask: u16) -> Vec<f32> {
    let positions: Vec<u32> = (0..16).filter(|p| mask & (1 << p) != 0).collect();
    let mut sums: Vec<u32> = (0u32..1 << positions.len())
        .map(|t| {
            positions
                .iter()
                .enumerate()
                .filter(|(j, _)| t & (1 << j) != 0)
                .map(|(_, &p)| 1u32 << p)
                .sum()
        })
        .collect();
    sums.sort_unstable();
    sums.into_iter().map(|v| v as f32).collect()
}

/// Per-tensor precomputation for [`Scheme::Swis`] and [`Scheme::Truncate`].
pub(crate) struct Prepared {
    base_bits: u32,
    kind: Kind,
}

enum Kind {
    /// `tables[n - 1]` for every N the search may use.
    Swis {
        group_size: usize,
        shared: SharedBits,
        tables: Vec<SubsetTable>,
    },
    Truncate {
        kept_bits: u32,
    },
}

impl Prepared {
    /// Tables for a SWIS or truncation scheme; `None` for other schemes.
    pub(crate) fn new(scheme: &Scheme) -> Option<Self> {
        match *scheme {
            Scheme::Swis {
                base_bits,
                group_size,
                shared,
            } => {
                let ns: Vec<u32> = match shared {
                    SharedBits::Fixed(n) => vec![n],
                    SharedBits::Variable { max, .. } => (1..=max).collect(),
                };
                let mut tables = Vec::new();
                for n in 1..=*ns.last().unwrap_or(&1) {
                    // Fixed N only needs its own table; keep indices n-1 with cheap placeholders.
                    tables.push(if ns.contains(&n) {
                        SubsetTable::new(base_bits, n)
                    } else {
                        SubsetTable {
                            n,
                            masks: Vec::new(),
                            levels: 0,
                            entries: Vec::new(),
                            values: Vec::new(),
                        }
                    });
                }
                Some(Prepared {
                    base_bits,
                    kind: Kind::Swis {
                        group_size: group_size as usize,
                        shared,
                        tables,
                    },
                })
            }
            Scheme::Truncate {
                base_bits,
                kept_bits,
            } => Some(Prepared {
                base_bits,
                kind: Kind::Truncate { kept_bits },
            }),
            _ => None,
        }
    }

    /// Quantize one filter: codes, the filter's scale and its groups' (N_g, mask).
    pub(crate) fn quantize_filter(&self, w: &[f32], codes: &mut [i32]) -> FilterOut {
        let qmax = ((1u32 << (self.base_bits - 1)) - 1) as f32;
        let max = super::int_k::max_abs(w);
        let scale = if max > 0.0 { max / qmax } else { 0.0 };
        let magnitude = |x: f32| {
            if scale > 0.0 {
                (x.abs() / scale).min(qmax)
            } else {
                0.0
            }
        };
        let sign = |x: f32| if x < 0.0 { -1 } else { 1 };
        match &self.kind {
            Kind::Truncate { kept_bits } => {
                let mask = ((1u32 << kept_bits) - 1) << (self.base_bits - 1 - kept_bits);
                for (c, &x) in codes.iter_mut().zip(w) {
                    *c = sign(x) * ((magnitude(x).round() as u32 & mask) as i32);
                }
                FilterOut {
                    scale,
                    groups: vec![(*kept_bits as u8, mask as u16)],
                }
            }
            Kind::Swis {
                group_size,
                shared,
                tables,
            } => {
                let mut groups = Vec::with_capacity(w.len().div_ceil(*group_size));
                let mut xs = Vec::with_capacity(*group_size);
                let mut idx = Vec::with_capacity(*group_size);
                for (wg, cg) in w.chunks(*group_size).zip(codes.chunks_mut(*group_size)) {
                    xs.clear();
                    idx.clear();
                    xs.extend(wg.iter().map(|&x| magnitude(x)));
                    idx.extend(xs.iter().map(|&x| x as u32));
                    let chosen = match *shared {
                        SharedBits::Fixed(n) => {
                            let t = &tables[n as usize - 1];
                            Some((t, t.best(&xs, &idx).0))
                        }
                        SharedBits::Variable { max, error_bound } => {
                            if xs.iter().all(|&x| x.round() == 0.0) {
                                None
                            } else {
                                let norm: f32 = xs.iter().map(|x| x * x).sum();
                                let bound = (error_bound * norm as f64) as f32;
                                let mut pick = None;
                                for n in 1..=max {
                                    let t = &tables[n as usize - 1];
                                    let (s, err) = t.best(&xs, &idx);
                                    if err <= bound || n == max {
                                        pick = Some((t, s));
                                        break;
                                    }
                                }
                                pick
                            }
                        }
                    };
                    match chosen {
                        None => {
                            cg.fill(0);
                            groups.push((0, 0));
                        }
                        Some((t, s)) => {
                            for ((c, &x), (&m, &i)) in
                                cg.iter_mut().zip(wg).zip(xs.iter().zip(&idx))
                            {
                                *c = sign(x) * t.pick(s, m, i) as i32;
                            }
                            groups.push((t.n as u8, t.masks[s]));
                        }
                    }
                }
                FilterOut { scale, groups }
            }
        }
    }
}
