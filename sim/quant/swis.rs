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
use super::Code;
use super::FilterOut;

/// Largest table (subsets x levels) built for the lookup path; beyond it, binary search.
const MAX_TABLE_ENTRIES: usize = 1 << 22;

/// Subsets evaluated side by side: one [`Block`] holds this many subsets' bounds.
const LANES: usize = 8;

/// The bounds of [`LANES`] consecutive subsets at one level `floor(x)`: the nearest
/// representable value <= floor(x) (`lo`) and >= floor(x) + 1 (`hi`, infinity when none).
/// Lanes past the last subset hold infinity in both, which makes their error infinite.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(32))]
struct Block {
    lo: [f32; LANES],
    hi: [f32; LANES],
}

/// All subsets of N positions out of B-1 magnitude bits, with their representable magnitudes.
///
/// The search is exhaustive and branch-free: for each weight of a group, the bounds of every
/// subset at that weight's level are read from one row of blocks, and every subset's error
/// grows by `min(x - lo, hi - x)^2`, `LANES` subsets at a time (the loop the compiler
/// vectorizes; no fused multiply-add, so every sum is the same f32 arithmetic in the same
/// order as one subset at a time). The winner is the least error, the smallest mask on a tie.
/// With AVX and up to 64 subsets (every N of B = 8), one group's errors stay in registers,
/// block by block, and the least is found there (`best_avx`).
#[derive(Debug, Clone)]
pub struct SubsetTable {
    /// N, positions per subset.
    pub n: u32,
    /// Subsets as bit masks, in increasing numeric order (the tie-break order).
    pub masks: Vec<u16>,
    /// `ceil(masks.len() / LANES)`: blocks per level.
    blocks: usize,
    /// Per level `floor(x)` (`2^(B-1)` levels), `blocks` blocks of bounds. Empty when the
    /// table would be too large.
    rows: Vec<Block>,
    /// Per subset, then per level, the same bounds as `rows` (`[lo, hi]`): what
    /// [`pick_codes`](Self::pick_codes) reads once the subset is chosen. Empty with `rows`.
    by_subset: Vec<[f32; 2]>,
    /// `2^(B-1)`: levels `floor(x)` of a magnitude.
    levels: usize,
    /// Per subset, its sorted representable values (used when `rows` is empty).
    values: Vec<Vec<f32>>,
}

/// Scratch space of a search: every subset's error (a whole number of blocks), reused group
/// after group.
#[derive(Debug, Default)]
pub struct Scratch(Vec<f32>);

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
        let blocks = masks.len().div_ceil(LANES);
        let mut rows = Vec::new();
        if masks.len() * levels <= MAX_TABLE_ENTRIES {
            let empty = Block {
                lo: [f32::INFINITY; LANES],
                hi: [f32::INFINITY; LANES],
            };
            rows = vec![empty; levels * blocks];
            for (s, vals) in values.iter().enumerate() {
                let mut j = 0; // vals[j] is the largest value <= i
                for i in 0..levels {
                    while j + 1 < vals.len() && vals[j + 1] <= i as f32 {
                        j += 1;
                    }
                    let b = &mut rows[i * blocks + s / LANES];
                    b.lo[s % LANES] = vals[j];
                    b.hi[s % LANES] = vals.get(j + 1).copied().unwrap_or(f32::INFINITY);
                }
            }
        }
        let by_subset = (0..if rows.is_empty() { 0 } else { masks.len() })
            .flat_map(|s| {
                let rows = &rows;
                (0..levels).map(move |i| {
                    let b = &rows[i * blocks + s / LANES];
                    [b.lo[s % LANES], b.hi[s % LANES]]
                })
            })
            .collect();
        let values = if rows.is_empty() { values } else { Vec::new() };
        SubsetTable {
            n,
            masks,
            blocks,
            rows,
            by_subset,
            levels,
            values,
        }
    }

    /// A table with no subsets (a placeholder for an N the scheme never uses).
    fn unused(n: u32) -> Self {
        SubsetTable {
            n,
            masks: Vec::new(),
            blocks: 0,
            rows: Vec::new(),
            by_subset: Vec::new(),
            levels: 0,
            values: Vec::new(),
        }
    }

    /// Nearest representable values below and above `x` (with `i = floor(x)`) for subset `s`.
    #[inline]
    fn bounds(&self, s: usize, i: u32) -> [f32; 2] {
        if self.rows.is_empty() {
            let vals = &self.values[s];
            let above = vals.partition_point(|&v| v <= i as f32);
            [
                vals[above - 1],
                vals.get(above).copied().unwrap_or(f32::INFINITY),
            ]
        } else {
            let b = &self.rows[i as usize * self.blocks + s / LANES];
            [b.lo[s % LANES], b.hi[s % LANES]]
        }
    }

    /// The subset with the least squared error over the group's magnitudes `xs`
    /// (`idx[i] = floor(xs[i])`), and that error; among equal errors the smallest mask.
    pub fn best(&self, xs: &[f32], idx: &[u32], scratch: &mut Scratch) -> (usize, f32) {
        if self.rows.is_empty() {
            return self.best_by_search(xs, idx);
        }
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx") {
            let (rows, n) = (&self.rows[..], self.masks.len());
            // SAFETY: the processor has AVX (checked just above); `rows` has `blocks` blocks
            // per level and every `idx` is a level (`floor(x)` of a magnitude <= 2^(B-1) - 1).
            let found = unsafe {
                match self.blocks {
                    1 => Some(best_avx::<1>(rows, xs, idx, n)),
                    2 => Some(best_avx::<2>(rows, xs, idx, n)),
                    3 => Some(best_avx::<3>(rows, xs, idx, n)),
                    4 => Some(best_avx::<4>(rows, xs, idx, n)),
                    5 => Some(best_avx::<5>(rows, xs, idx, n)),
                    6 => Some(best_avx::<6>(rows, xs, idx, n)),
                    7 => Some(best_avx::<7>(rows, xs, idx, n)),
                    8 => Some(best_avx::<8>(rows, xs, idx, n)),
                    _ => None,
                }
            };
            if let Some(found) = found {
                return found;
            }
        }
        let errs = &mut scratch.0;
        errs.resize(self.blocks * LANES, 0.0);
        group_errors(&self.rows, self.blocks, xs, idx, errs);
        // The least error, lane by lane over the blocks (a loop the compiler vectorizes; the
        // padding lanes are infinite), then the first subset that has it.
        let mut lanes = [f32::INFINITY; LANES];
        for block in errs.chunks_exact(LANES) {
            for (m, &e) in lanes.iter_mut().zip(block) {
                *m = if e < *m { e } else { *m };
            }
        }
        let least = lanes
            .iter()
            .fold(f32::INFINITY, |a, &e| if e < a { e } else { a });
        let s = errs[..self.masks.len()]
            .iter()
            .position(|&e| e == least)
            .unwrap_or(0);
        (s, errs[s])
    }

    /// [`best`](Self::best) for tables too large to build: each subset's error from binary
    /// searches over its sorted sums.
    fn best_by_search(&self, xs: &[f32], idx: &[u32]) -> (usize, f32) {
        let mut best = (0, f32::INFINITY);
        for s in 0..self.masks.len() {
            let mut err = 0.0f32;
            for (&x, &i) in xs.iter().zip(idx) {
                let [lo, hi] = self.bounds(s, i);
                let d = (x - lo).min(hi - x);
                err += d * d;
            }
            if s == 0 || err < best.1 {
                best = (s, err);
            }
        }
        best
    }

    /// The codes of weights `w` (magnitudes `xs`, levels `idx`) with subset `s`: the sign of
    /// each weight times [`pick`](Self::pick) of its magnitude.
    #[inline]
    pub fn pick_codes(&self, s: usize, w: &[f32], xs: &[f32], idx: &[u32], codes: &mut [Code]) {
        let sign = |x: f32| if x < 0.0 { -1 } else { 1 };
        if self.by_subset.is_empty() {
            for (((c, &x), &m), &i) in codes.iter_mut().zip(w).zip(xs).zip(idx) {
                *c = (sign(x) * self.pick(s, m, i) as i32) as Code;
            }
            return;
        }
        // The subset's bounds by level, side by side: one load per weight, no branch.
        let levels = self.levels;
        let bounds = &self.by_subset[s * levels..(s + 1) * levels];
        #[cfg(target_arch = "x86_64")]
        if w.len() == 8
            && xs.len() == 8
            && idx.len() == 8
            && codes.len() == 8
            && std::is_x86_feature_detected!("avx2")
        {
            // SAFETY: the processor has AVX2 (checked just above), the four slices hold 8
            // entries, and every `idx` is a level, below `bounds.len()` (`floor(x)` of a
            // magnitude <= 2^(B-1) - 1).
            unsafe { pick8_avx2(bounds, w, xs, idx, codes) };
            return;
        }
        for (((c, &x), &m), &i) in codes.iter_mut().zip(w).zip(xs).zip(idx) {
            let [lo, hi] = bounds[i as usize];
            let v = if hi - m <= m - lo { hi } else { lo };
            // SAFETY: `v` is a subset sum, a whole number in [0, 2^(B-1) - 1] (`hi` is
            // infinite only when no sum lies above, and then `hi - m > m - lo`).
            let v: i32 = unsafe { v.to_int_unchecked() };
            *c = (if x < 0.0 { -v } else { v }) as Code;
        }
    }

    /// Magnitude subset `s` gives `x`: the nearer of the two bounds, the larger on a tie.
    #[inline]
    pub fn pick(&self, s: usize, x: f32, i: u32) -> f32 {
        let [lo, hi] = self.bounds(s, i);
        if hi - x <= x - lo {
            hi
        } else {
            lo
        }
    }
}

/// [`SubsetTable::pick_codes`] of a group of 8 with AVX2: the bounds gathered, the same f32
/// comparison, the sign applied by a conditional negation (equal to the scalar loop's codes).
///
/// # Safety
/// The processor must have AVX2; `w`, `xs`, `idx` and `codes` hold 8 entries; every `idx` is
/// below `bounds.len()`, and the picked bounds are whole numbers in `[0, 2^15)`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pick8_avx2(bounds: &[[f32; 2]], w: &[f32], xs: &[f32], idx: &[u32], codes: &mut [Code]) {
    use std::arch::x86_64::*;
    const _: () = assert!(std::mem::size_of::<Code>() == 2);
    debug_assert!(idx.iter().all(|&i| (i as usize) < bounds.len()));
    // `bounds` as f32s: level i's [lo, hi] at 2i, 2i + 1.
    let base = bounds.as_ptr() as *const f32;
    let at = _mm256_slli_epi32::<1>(_mm256_loadu_si256(idx.as_ptr() as *const __m256i));
    let lo = _mm256_i32gather_ps::<4>(base, at);
    let hi = _mm256_i32gather_ps::<4>(base.add(1), at);
    let m = _mm256_loadu_ps(xs.as_ptr());
    // `hi - m <= m - lo`: the larger on a tie (an infinite `hi` is never taken).
    let take_hi = _mm256_cmp_ps::<_CMP_LE_OQ>(_mm256_sub_ps(hi, m), _mm256_sub_ps(m, lo));
    let v = _mm256_cvttps_epi32(_mm256_blendv_ps(lo, hi, take_hi));
    // `x < 0 ? -v : v`: all ones where negative, then (v ^ neg) - neg.
    let neg = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(
        _mm256_loadu_ps(w.as_ptr()),
        _mm256_setzero_ps(),
    ));
    let v = _mm256_sub_epi32(_mm256_xor_si256(v, neg), neg);
    // i32 -> i16 (the values fit): pack within 128-bit halves, then gather the halves.
    let packed = _mm256_permute4x64_epi64::<0b1000>(_mm256_packs_epi32(v, v));
    _mm_storeu_si128(
        codes.as_mut_ptr() as *mut __m128i,
        _mm256_castsi256_si128(packed),
    );
}

/// Every subset's squared error over a group, into `errs` (`blocks * LANES` entries): for
/// each block, the weights in order, each adding `min(x - lo, hi - x)^2` per lane. One
/// subset at a time this is the loop of [`group_errors_scalar`]; the vector versions run four
/// (SSE2, part of every x86_64) or eight (AVX, when the processor has it) lanes per
/// instruction with the same operations in the same order, so the sums are equal bit for bit
/// whichever runs (`minps` is `a < b ? a : b`, and nothing is fused into a multiply-add).
#[cfg(target_arch = "x86_64")]
fn group_errors(rows: &[Block], blocks: usize, xs: &[f32], idx: &[u32], errs: &mut [f32]) {
    if std::is_x86_feature_detected!("avx") {
        // SAFETY: the processor has AVX (checked just above).
        unsafe { group_errors_avx(rows, blocks, xs, idx, errs) }
    } else {
        group_errors_sse2(rows, blocks, xs, idx, errs)
    }
}

/// [`group_errors`] with AVX: one block per instruction.
///
/// # Safety
/// The processor must have AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn group_errors_avx(
    rows: &[Block],
    blocks: usize,
    xs: &[f32],
    idx: &[u32],
    errs: &mut [f32],
) {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_loadu_ps, _mm256_min_ps, _mm256_mul_ps, _mm256_set1_ps,
        _mm256_setzero_ps, _mm256_storeu_ps, _mm256_sub_ps,
    };
    for (b, out) in errs.chunks_exact_mut(LANES).enumerate().take(blocks) {
        // SAFETY: every load reads a `Block`'s whole `[f32; 8]`, the store writes all of
        // `out` (8 long); AVX is present (the caller's contract).
        unsafe {
            let mut e = _mm256_setzero_ps();
            for (&x, &i) in xs.iter().zip(idx) {
                let blk = &rows[i as usize * blocks + b];
                let xv = _mm256_set1_ps(x);
                let d = _mm256_min_ps(
                    _mm256_sub_ps(xv, _mm256_loadu_ps(blk.lo.as_ptr())),
                    _mm256_sub_ps(_mm256_loadu_ps(blk.hi.as_ptr()), xv),
                );
                e = _mm256_add_ps(e, _mm256_mul_ps(d, d));
            }
            _mm256_storeu_ps(out.as_mut_ptr(), e);
        }
    }
}

/// [`SubsetTable::best`] for tables of `NB` blocks (up to 64 subsets), with AVX: every
/// block's errors held in a register while the group's weights go by (the same per-lane sums,
/// in the same order, as [`group_errors`]), then the least error across them and the first
/// subset that has it (padding lanes are infinite, never the least).
///
/// # Safety
/// The processor must have AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn best_avx<const NB: usize>(
    rows: &[Block],
    xs: &[f32],
    idx: &[u32],
    subsets: usize,
) -> (usize, f32) {
    use std::arch::x86_64::{
        _mm256_add_ps, _mm256_cmp_ps, _mm256_loadu_ps, _mm256_min_ps, _mm256_movemask_ps,
        _mm256_mul_ps, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm256_sub_ps,
        _CMP_EQ_OQ,
    };
    // SAFETY: every load reads a `Block`'s whole `[f32; 8]` (the row slice is bounds
    // checked), the store writes all of `lanes`; AVX is present (the caller's contract).
    unsafe {
        let mut e = [_mm256_setzero_ps(); NB];
        for (&x, &i) in xs.iter().zip(idx) {
            let row = &rows[i as usize * NB..(i as usize + 1) * NB];
            let xv = _mm256_set1_ps(x);
            for (acc, blk) in e.iter_mut().zip(row) {
                let d = _mm256_min_ps(
                    _mm256_sub_ps(xv, _mm256_loadu_ps(blk.lo.as_ptr())),
                    _mm256_sub_ps(_mm256_loadu_ps(blk.hi.as_ptr()), xv),
                );
                *acc = _mm256_add_ps(*acc, _mm256_mul_ps(d, d));
            }
        }
        let mut m = e[0];
        for &v in &e[1..] {
            m = _mm256_min_ps(m, v);
        }
        let mut lanes = [0.0f32; LANES];
        _mm256_storeu_ps(lanes.as_mut_ptr(), m);
        let least = lanes
            .iter()
            .fold(f32::INFINITY, |a, &v| if v < a { v } else { a });
        let lv = _mm256_set1_ps(least);
        for (b, &v) in e.iter().enumerate() {
            let hits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_EQ_OQ>(v, lv)) as u32;
            if hits != 0 {
                let s = b * LANES + hits.trailing_zeros() as usize;
                if s < subsets {
                    return (s, least);
                }
            }
        }
        (0, lanes[0])
    }
}

/// [`group_errors`] with SSE2: half a block per instruction.
#[cfg(target_arch = "x86_64")]
fn group_errors_sse2(rows: &[Block], blocks: usize, xs: &[f32], idx: &[u32], errs: &mut [f32]) {
    use std::arch::x86_64::{
        _mm_add_ps, _mm_loadu_ps, _mm_min_ps, _mm_mul_ps, _mm_set1_ps, _mm_setzero_ps,
        _mm_storeu_ps, _mm_sub_ps,
    };
    for (b, out) in errs.chunks_exact_mut(LANES).enumerate().take(blocks) {
        // SAFETY: SSE2 is always present on x86_64; every load reads 4 f32 of a `Block`'s
        // `[f32; 8]` at offset 0 or 4, every store writes 4 f32 of `out` (8 long) at 0 or 4.
        unsafe {
            let (mut e0, mut e1) = (_mm_setzero_ps(), _mm_setzero_ps());
            for (&x, &i) in xs.iter().zip(idx) {
                let blk = &rows[i as usize * blocks + b];
                let xv = _mm_set1_ps(x);
                let d0 = _mm_min_ps(
                    _mm_sub_ps(xv, _mm_loadu_ps(blk.lo.as_ptr())),
                    _mm_sub_ps(_mm_loadu_ps(blk.hi.as_ptr()), xv),
                );
                let d1 = _mm_min_ps(
                    _mm_sub_ps(xv, _mm_loadu_ps(blk.lo.as_ptr().add(4))),
                    _mm_sub_ps(_mm_loadu_ps(blk.hi.as_ptr().add(4)), xv),
                );
                e0 = _mm_add_ps(e0, _mm_mul_ps(d0, d0));
                e1 = _mm_add_ps(e1, _mm_mul_ps(d1, d1));
            }
            _mm_storeu_ps(out.as_mut_ptr(), e0);
            _mm_storeu_ps(out.as_mut_ptr().add(4), e1);
        }
    }
}

/// [`group_errors`] where SSE2 is not available.
#[cfg(not(target_arch = "x86_64"))]
fn group_errors(rows: &[Block], blocks: usize, xs: &[f32], idx: &[u32], errs: &mut [f32]) {
    group_errors_scalar(rows, blocks, xs, idx, errs)
}

/// Every subset's squared error over a group, one lane at a time (the definition).
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn group_errors_scalar(rows: &[Block], blocks: usize, xs: &[f32], idx: &[u32], errs: &mut [f32]) {
    for (b, out) in errs.chunks_exact_mut(LANES).enumerate().take(blocks) {
        for (l, e) in out.iter_mut().enumerate() {
            *e = 0.0;
            for (&x, &i) in xs.iter().zip(idx) {
                let blk = &rows[i as usize * blocks + b];
                let (below, above) = (x - blk.lo[l], blk.hi[l] - x);
                let d = if below < above { below } else { above };
                *e += d * d;
            }
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
                        SubsetTable::unused(n)
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
    pub(crate) fn quantize_filter(&self, w: &[f32], codes: &mut [Code]) -> FilterOut {
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
                    *c = (sign(x) * ((magnitude(x).round() as u32 & mask) as i32)) as Code;
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
                let gs = *group_size;
                // Magnitudes and their levels for the whole filter first (loops the
                // compiler vectorizes), then the search group by group.
                let mut xs = vec![0.0f32; w.len()];
                if scale > 0.0 {
                    for (m, &x) in xs.iter_mut().zip(w) {
                        *m = (x.abs() / scale).min(qmax);
                    }
                }
                // SAFETY: magnitudes are in [0, qmax] (`f32::min` returns `qmax` for a NaN
                // quotient), so they convert exactly to i32.
                let idx: Vec<u32> = xs
                    .iter()
                    .map(|&x| unsafe { x.to_int_unchecked::<i32>() } as u32)
                    .collect();
                let mut groups = Vec::with_capacity(w.len().div_ceil(gs));
                let mut scratch = Scratch::default();
                for (((wg, cg), xg), ig) in w
                    .chunks(gs)
                    .zip(codes.chunks_mut(gs))
                    .zip(xs.chunks(gs))
                    .zip(idx.chunks(gs))
                {
                    let chosen = match *shared {
                        SharedBits::Fixed(n) => {
                            let t = &tables[n as usize - 1];
                            Some((t, t.best(xg, ig, &mut scratch).0))
                        }
                        SharedBits::Variable { max, error_bound } => {
                            // Every B-bit code zero: `round(x) == 0`, i.e. `x < 0.5`
                            // (magnitudes are never negative).
                            if xg.iter().all(|&x| x < 0.5) {
                                None
                            } else {
                                let norm: f32 = xg.iter().map(|x| x * x).sum();
                                let bound = (error_bound * norm as f64) as f32;
                                let mut pick = None;
                                for n in 1..=max {
                                    let t = &tables[n as usize - 1];
                                    let (s, err) = t.best(xg, ig, &mut scratch);
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
                            t.pick_codes(s, wg, xg, ig, cg);
                            groups.push((t.n as u8, t.masks[s]));
                        }
                    }
                }
                FilterOut { scale, groups }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Xoshiro256StarStar;

    /// The subset sums nearest `x` at or below `floor(x)` and above it (infinity when none).
    fn bounds_by_definition(sums: &[f32], x: f32) -> (f32, f32) {
        let i = x.floor();
        let lo = sums.iter().copied().filter(|&v| v <= i).fold(0.0, f32::max);
        let hi = sums
            .iter()
            .copied()
            .find(|&v| v > i)
            .unwrap_or(f32::INFINITY);
        (lo, hi)
    }

    /// The subset search by its definition: every subset's sums from scratch, the error of
    /// each weight against the nearest sums at or below `floor(x)` and above it, summed in
    /// order; the least error, the first subset on a tie.
    fn best_by_definition(base_bits: u32, n: u32, xs: &[f32]) -> (u16, f32) {
        let mut best: Option<(u16, f32)> = None;
        for mask in (0u32..1 << (base_bits - 1)).filter(|m| m.count_ones() == n) {
            let sums = subset_sums(mask as u16);
            let mut err = 0.0f32;
            for &x in xs {
                let (lo, hi) = bounds_by_definition(&sums, x);
                let d = (x - lo).min(hi - x);
                err += d * d;
            }
            if best.is_none_or(|(_, e)| err < e) {
                best = Some((mask as u16, err));
            }
        }
        best.expect("some subset")
    }

    /// Random magnitudes in `[0, 2^(B-1) - 1]`, often whole numbers, zero, the maximum or
    /// repeated, so that ties between subsets occur.
    fn group(rng: &mut Xoshiro256StarStar, base_bits: u32, len: usize) -> Vec<f32> {
        let qmax = ((1u32 << (base_bits - 1)) - 1) as f32;
        (0..len)
            .map(|_| match rng.next_u64() % 6 {
                0 => 0.0,
                1 => qmax,
                2 => (rng.next_u64() % (qmax as u64 + 1)) as f32,
                3 => (rng.next_u64() % (qmax as u64 + 1)) as f32 + 0.5,
                _ => (rng.next_open01() as f32 * qmax).min(qmax),
            })
            .collect()
    }

    #[test]
    fn search_equals_the_definition_on_random_groups() {
        let mut rng = Xoshiro256StarStar::from_seed(14);
        let mut scratch = Scratch::default();
        // Table sizes from one block to many, and the binary-search path (B = 14, N = 6).
        for (base_bits, ns) in [(2, 1..=1), (4, 1..=3), (8, 1..=7), (10, 2..=5), (14, 6..=6)] {
            for n in ns {
                let t = SubsetTable::new(base_bits, n);
                assert_eq!(t.rows.is_empty(), base_bits == 14);
                for trial in 0..300 {
                    let len = 1 + trial % 17;
                    let xs = group(&mut rng, base_bits, len);
                    let idx: Vec<u32> = xs.iter().map(|&x| x as u32).collect();
                    let (s, err) = t.best(&xs, &idx, &mut scratch);
                    let (mask, want) = best_by_definition(base_bits, n, &xs);
                    assert_eq!(
                        (t.masks[s], err.to_bits()),
                        (mask, want.to_bits()),
                        "B = {base_bits}, N = {n}, group {xs:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn filters_quantize_as_the_definition_says() {
        // Whole filters (the vector paths for full groups of eight, the scalar ones for the
        // rest): each group's best subset by definition, each weight the nearer subset sum
        // (the larger on a tie) with its sign.
        let mut rng = Xoshiro256StarStar::from_seed(21);
        for (base_bits, n, group_size) in [(8, 3, 8), (8, 1, 16), (8, 4, 5), (4, 2, 8), (10, 3, 11)]
        {
            let scheme = Scheme::Swis {
                base_bits,
                group_size,
                shared: SharedBits::Fixed(n),
            };
            let prepared = Prepared::new(&scheme).expect("swis");
            for len in [1usize, 8, 37, 64, 200] {
                let w: Vec<f32> = (0..len)
                    .map(|_| match rng.next_u64() % 5 {
                        0 => 0.0,
                        1 => -0.25,
                        _ => (rng.next_open01() as f32 - 0.5) * 3.0,
                    })
                    .collect();
                let mut codes = vec![0 as Code; len];
                let out = prepared.quantize_filter(&w, &mut codes);
                let qmax = ((1u32 << (base_bits - 1)) - 1) as f32;
                let max = w.iter().fold(0.0f32, |a, x| a.max(x.abs()));
                assert_eq!(out.scale, if max > 0.0 { max / qmax } else { 0.0 });
                for (g, (wg, cg)) in w
                    .chunks(group_size as usize)
                    .zip(codes.chunks(group_size as usize))
                    .enumerate()
                {
                    let xs: Vec<f32> = wg
                        .iter()
                        .map(|&x| {
                            if max > 0.0 {
                                (x.abs() / out.scale).min(qmax)
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    let (mask, _) = best_by_definition(base_bits, n, &xs);
                    assert_eq!(out.groups[g], (n as u8, mask));
                    let sums = subset_sums(mask);
                    for ((&x, &m), &c) in wg.iter().zip(&xs).zip(cg) {
                        let (lo, hi) = bounds_by_definition(&sums, m);
                        let v = if hi - m <= m - lo { hi } else { lo };
                        let want = if x < 0.0 { -(v as i32) } else { v as i32 };
                        assert_eq!(c as i32, want, "B = {base_bits}, N = {n}, weight {x}");
                    }
                }
            }
        }
    }

    #[test]
    fn vector_errors_equal_scalar_errors_bit_for_bit() {
        let mut rng = Xoshiro256StarStar::from_seed(7);
        for n in 1..=7 {
            let t = SubsetTable::new(8, n);
            let mut scalar = vec![0.0; t.blocks * LANES];
            let mut vector = scalar.clone();
            for len in 1..40 {
                let xs = group(&mut rng, 8, len);
                let idx: Vec<u32> = xs.iter().map(|&x| x as u32).collect();
                group_errors_scalar(&t.rows, t.blocks, &xs, &idx, &mut scalar);
                group_errors(&t.rows, t.blocks, &xs, &idx, &mut vector);
                let bits = |v: &[f32]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&scalar), bits(&vector), "N = {n}, group {xs:?}");
                #[cfg(target_arch = "x86_64")]
                {
                    group_errors_sse2(&t.rows, t.blocks, &xs, &idx, &mut vector);
                    assert_eq!(bits(&scalar), bits(&vector), "SSE2, N = {n}");
                }
            }
        }
    }
}
