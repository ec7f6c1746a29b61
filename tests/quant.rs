//! Quantizers: hand-computed small tensors for every scheme, properties, determinism, the
//! whole-network entry point and the `plumsim quantize` command.

use plumsim::pipeline::{self, Caches, CodeCache, MemorySource, Quantized, WeightCache};
use plumsim::quant::{quantize, stats, QuantizedTensor, Scheme, SharedBits, SignRule};
use plumsim::synth::synthetic_weights;
use plumsim::workload::{parse_workload, Distribution};
use proptest::prelude::*;

/// The one place the tests call the quantizer: quantize and return codes and scales.
fn q(w: &[f32], shape: &[u64], scheme: Scheme) -> QuantizedTensor {
    quantize(w, shape, &scheme)
}

fn assert_close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} != {b} (tol {tol})");
}

fn swis(base_bits: u32, group_size: u32, n: u32) -> Scheme {
    Scheme::Swis {
        base_bits,
        group_size,
        shared: SharedBits::Fixed(n),
    }
}

fn signed(threshold: f64, sign_rule: SignRule, alpha: bool) -> Scheme {
    Scheme::SignedBinary {
        threshold,
        sign_rule,
        alpha,
    }
}

// ------------------------------------------------------------------ hand-computed tensors

#[test]
fn ternary_absmean_is_bitnets_rounding_of_w_over_the_tensor_mean() {
    // Two filters; mean |W| over the whole tensor = (0.1 + 0.4 + 0.05 + 0.3) / 4 = 0.2125,
    // s = 1 / 0.2125 = 4.7059: w s = [0.47, -1.88, 0.235, 1.41] -> [0, -1, 0, 1].
    let t = q(&[0.1, -0.4, 0.05, 0.3], &[2, 2], Scheme::TernaryAbsmean);
    assert_eq!(t.codes, vec![0, -1, 0, 1]);
    for &scale in &t.scales {
        assert_close(scale as f64, 0.2125, 1e-6);
    }
    // Two bits per weight and one 32-bit scale for the tensor, not one per filter.
    assert_eq!(t.storage_bits, 2 * 4 + 32);
    // A tie rounds half to even as PyTorch's `round` does: mean |W| = 2, s = 0.5, so
    // w s = 0.5 -> 0, 1.5 -> clipped 1, -0.5 -> 0, -1.5 -> -1.
    let t = q(&[1.0, 3.0, -1.0, -3.0], &[1, 4], Scheme::TernaryAbsmean);
    assert_eq!(t.codes, vec![0, 1, 0, -1]);
    assert_close(t.scales[0] as f64, 2.0, 0.0);
    // All-zero weights: the scale is clamped at 1e-5 (s = 1e5), every code 0.
    let t = q(&[0.0; 6], &[3, 2], Scheme::TernaryAbsmean);
    assert_eq!(t.codes, vec![0; 6]);
    assert_close(t.scales[0] as f64, 1e-5, 1e-12);
}

proptest! {
    #[test]
    fn ternary_four_filters_at_once_equal_filter_by_filter(
        filters in 1usize..11,
        k in 1usize..40,
        seed in any::<u64>(),
        factor in 0.0f64..1.5,
    ) {
        let shape = [filters as u64, k as u64];
        let w = synthetic_weights(&shape, Distribution::Laplace, seed, None);
        let t = q(&w, &shape, Scheme::Ternary { threshold_factor: factor });
        for f in 0..filters {
            let mut codes = vec![0; k];
            let alpha = plumsim::quant::ternary::quantize_filter(&w[f * k..(f + 1) * k], factor, &mut codes);
            prop_assert_eq!(&t.codes[f * k..(f + 1) * k], &codes[..]);
            prop_assert_eq!(t.scales[f].to_bits(), alpha.to_bits());
        }
    }

    #[test]
    fn ternary_absmean_matches_its_definition(w in proptest::collection::vec(-4.0f32..4.0, 1..300)) {
        let n = w.len() as u64;
        let t = q(&w, &[1, n], Scheme::TernaryAbsmean);
        // The definition in f64: gamma = mean |w|, code = clip(round_half_even(w / gamma)).
        let gamma = (w.iter().map(|x| x.abs() as f64).sum::<f64>() / n as f64).max(1e-5);
        for (&c, &x) in t.codes.iter().zip(&w) {
            let y = x as f64 / gamma;
            // Away from the rounding boundary the f32 and f64 computations agree.
            if (y.abs() - 0.5).abs() > 1e-4 {
                let want = if y > 0.5 { 1 } else if y < -0.5 { -1 } else { 0 };
                prop_assert_eq!(c as i32, want, "w = {}, w / gamma = {}", x, y);
            }
        }
        prop_assert!((t.scales[0] as f64 - gamma).abs() <= 1e-6 * gamma.max(1.0));
    }
}

const INT_W: [f32; 8] = [3.0, -1.4, 0.6, 2.5, -6.0, 1.0, 2.9, 0.0];

#[test]
fn int3_per_channel_codes_scales_and_stats() {
    let t = q(
        &INT_W,
        &[2, 4],
        Scheme::Int {
            bits: 3,
            per_channel: true,
        },
    );
    assert_eq!(t.codes, vec![3, -1, 1, 3, -3, 1, 1, 0]);
    assert_eq!(t.scales, vec![1.0, 2.0]);
    assert_eq!(t.storage_bits, 8 * 3 + 2 * 32);
    let s = stats(&INT_W, &t);
    // errors: f0 [0, -0.4, -0.4, -0.5], f1 [0, -1, 0.9, 0]
    assert_close(s.sq_error, 0.16 + 0.16 + 0.25 + 1.0 + 0.81, 1e-5);
    assert_close(s.rel_error(), (2.38f64 / 62.98).sqrt(), 1e-6);
    assert_eq!(s.nonzeros, 7);
    assert_close(s.density(), 7.0 / 8.0, 1e-12);
    // popcounts of 3,1,1,3,3,1,1,0
    assert_eq!(s.effectual_bits, 2 + 1 + 1 + 2 + 2 + 1 + 1);
    assert_eq!((s.distinct_sum, s.distinct_max), (3 + 2, 3));
}

#[test]
fn int3_per_tensor_uses_one_scale() {
    let t = q(
        &INT_W,
        &[2, 4],
        Scheme::Int {
            bits: 3,
            per_channel: false,
        },
    );
    assert_eq!(t.codes, vec![2, -1, 0, 1, -3, 1, 1, 0]);
    assert_eq!(t.scales, vec![2.0, 2.0]);
    assert_eq!(t.storage_bits, 8 * 3 + 32);
}

#[test]
fn int_k_error_can_grow_from_3_to_4_bits() {
    // Why the property test only compares k with k' where (k-1) | (k'-1): int3 represents
    // 1/3 of the range exactly, int4 (steps of 1/7) does not.
    let w = [3.0f32, 1.0];
    let e3 = stats(
        &w,
        &q(
            &w,
            &[1, 2],
            Scheme::Int {
                bits: 3,
                per_channel: true,
            },
        ),
    )
    .sq_error;
    let e4 = stats(
        &w,
        &q(
            &w,
            &[1, 2],
            Scheme::Int {
                bits: 4,
                per_channel: true,
            },
        ),
    )
    .sq_error;
    assert_eq!(e3, 0.0);
    assert_close(e4, (1.0f64 - 6.0 / 7.0 * 1.0).powi(2), 1e-6);
}

#[test]
fn binary_signs_and_mean_abs_alpha() {
    let w = [0.5f32, -1.5, 0.0, 1.0, -2.0, -2.0, 4.0, 0.0];
    let t = q(&w, &[2, 4], Scheme::Binary);
    assert_eq!(t.codes, vec![1, -1, 1, 1, -1, -1, 1, 1]);
    assert_eq!(t.scales, vec![0.75, 2.0]);
    assert_eq!(t.storage_bits, 8 + 2 * 32);
}

#[test]
fn ternary_twn_threshold_and_alpha() {
    // f0: mean|w| = 1.0, delta = 0.7; f1: mean|w| = 0.5, delta = 0.35
    let w = [1.0f32, -0.2, 0.5, -2.3, 0.3, 0.4, -1.0, 0.3];
    let t = q(
        &w,
        &[2, 4],
        Scheme::Ternary {
            threshold_factor: 0.7,
        },
    );
    assert_eq!(t.codes, vec![1, 0, 0, -1, 0, 1, -1, 0]);
    assert_close(t.scales[0] as f64, 1.65, 1e-6);
    assert_close(t.scales[1] as f64, 0.7, 1e-6);
    assert_eq!(t.storage_bits, 2 * 8 + 2 * 32);
    let s = stats(&w, &t);
    assert_eq!((s.distinct_sum, s.distinct_max), (4, 2));
}

const SB_W: [f32; 12] = [
    1.0, -0.9, 0.04, 0.1, 0.2, -0.3, 0.5, -0.5, -0.02, -1.0, -0.06, 0.5,
];

#[test]
fn signed_binary_halves_codes_and_stats() {
    let t = q(&SB_W, &[4, 3], signed(0.05, SignRule::Halves, false));
    assert_eq!(t.codes, vec![1, 0, 0, 1, 1, 0, 0, -1, 0, -1, -1, 0]);
    assert_eq!(t.scales, vec![1.0; 4]);
    assert!(t.scale_absorbed);
    assert_eq!(t.storage_bits, 12);
    let s = stats(&SB_W, &t);
    assert_close(s.density(), 0.5, 1e-12);
    assert_close(s.effectual_ops_per_output(), 1.5, 1e-12);
    assert_eq!(
        (s.distinct_sum, s.distinct_max, s.effectual_bits),
        (4, 1, 6)
    );
    // Least-squares scales: f0 1.0, f1 0.15, f2 0.5, f3 0.53.
    let e = 0.81
        + 0.04f64.powi(2)
        + 0.05f64.powi(2) * 2.0
        + 0.3f64.powi(2)
        + 0.25
        + 0.02f64.powi(2)
        + 0.47f64.powi(2)
        + 0.47f64.powi(2)
        + 0.25;
    assert_close(s.sq_error, e, 1e-5);
}

#[test]
fn signed_binary_alpha_is_mean_of_kept() {
    let t = q(&SB_W, &[4, 3], signed(0.05, SignRule::Halves, true));
    assert!(!t.scale_absorbed);
    for (got, want) in t.scales.iter().zip([1.0, 0.15, 0.5, 0.53]) {
        assert_close(*got as f64, want, 1e-6);
    }
    assert_eq!(t.storage_bits, 12 + 4 * 32);
}

#[test]
fn signed_binary_odd_filter_count_and_weight_sum_rule() {
    let w = [0.5f32, 0.1, 0.5, -0.1, 0.5, -0.1];
    // out = 3: only filter 0 (< 3/2 = 1) is positive.
    let t = q(&w, &[3, 2], signed(0.05, SignRule::Halves, false));
    assert_eq!(t.codes, vec![1, 1, 0, -1, 0, -1]);
    let w = [-1.0f32, 0.2, 0.1, 0.5, -0.1, 0.0];
    let t = q(&w, &[2, 3], signed(0.05, SignRule::WeightSum, false));
    assert_eq!(t.codes, vec![-1, 0, 0, 1, 0, 0]);
    assert_eq!(t.storage_bits, 6 + 2);
}

#[test]
fn swis_fixed_rounds_to_nearest_subset_sum() {
    // B = 4: magnitudes 0..=7, scale = 7 / 7 = 1. Groups [7, 3] and [-5] (short).
    // N = 1: group 0 errors: {1}: 36+4, {2}: 25+1, {4}: 9+1 -> 4; group 1: {4} -> 4.
    let w = [7.0f32, 3.0, -5.0];
    let t = q(&w, &[1, 3], swis(4, 2, 1));
    assert_eq!(t.codes, vec![4, 4, -4]);
    assert_eq!(t.scales, vec![1.0]);
    let g = t.groups.as_ref().unwrap();
    assert_eq!(
        (g.shared.clone(), g.masks.clone()),
        (vec![1, 1], vec![0b100, 0b100])
    );
    assert_eq!(g.metadata_bits_per_group, 3);
    // scale + group 0: 2 x (1 + 1) + 3-bit mask + group 1: 1 x 2 + 3
    assert_eq!(t.storage_bits, 32 + 7 + 5);
    let s = stats(&w, &t);
    assert_eq!(s.effectual_bits, 3);
    assert_close(s.sq_error, 9.0 + 1.0 + 1.0, 1e-9);
    // N = 2: {2,4} gives 6 and 4 (3 is a tie between 2 and 4: the larger), 5 -> {1,4} = 5.
    let t = q(&w, &[1, 3], swis(4, 2, 2));
    assert_eq!(t.codes, vec![6, 4, -5]);
    assert_eq!(t.groups.unwrap().masks, vec![0b110, 0b101]);
}

#[test]
fn swis_variable_picks_smallest_sufficient_n() {
    let scheme = Scheme::Swis {
        base_bits: 4,
        group_size: 2,
        shared: SharedBits::Variable {
            max: 2,
            error_bound: 0.05,
        },
    };
    // Group [7, 3]: N=1 error 10 > 0.05 * 58; N=2 {2,4}: error 2 -> codes 6, 4.
    // Group [-5]: N=1 {4}: error 1 <= 0.05 * 25. Group [0.3, 0.2] rounds to 0: N = 0.
    let w = [7.0f32, 3.0, -5.0, 0.0, 0.3, 0.2];
    let t = q(&w, &[2, 3], scheme);
    let g = t.groups.as_ref().unwrap();
    assert_eq!(g.groups_per_filter, 2);
    assert_eq!(t.codes[..3], [6, 4, -4]);
    assert_eq!(g.shared[..2], [2, 1]);
    assert_eq!(g.masks[..2], [0b110, 0b100]);
    // filter 1: scale 0.3 / 7; groups [0, 0.3] and [0.2] -> 0 / 7 and 4.67: N = 1 each
    assert_eq!(t.scales[1], 0.3f32 / 7.0);
}

#[test]
fn swis_variable_all_zero_group_costs_no_weight_bits() {
    let scheme = Scheme::Swis {
        base_bits: 4,
        group_size: 2,
        shared: SharedBits::Variable {
            max: 3,
            error_bound: 0.01,
        },
    };
    let w = [7.0f32, 7.0, 0.3, 0.2];
    let t = q(&w, &[1, 4], scheme);
    assert_eq!(t.codes, vec![7, 7, 0, 0]);
    let g = t.groups.unwrap();
    assert_eq!((g.shared, g.masks), (vec![3, 0], vec![0b111, 0]));
    assert_eq!(t.storage_bits, 32 + (2 * 4 + 3) + 3);
}

#[test]
fn truncate_keeps_top_bits_of_the_filter_range() {
    let w = [7.0f32, 3.0, -5.0];
    let t = q(
        &w,
        &[1, 3],
        Scheme::Truncate {
            base_bits: 4,
            kept_bits: 1,
        },
    );
    assert_eq!(t.codes, vec![4, 0, -4]);
    let t = q(
        &w,
        &[1, 3],
        Scheme::Truncate {
            base_bits: 4,
            kept_bits: 2,
        },
    );
    assert_eq!(t.codes, vec![6, 2, -4]);
    let g = t.groups.as_ref().unwrap();
    assert_eq!(
        (g.shared.clone(), g.masks.clone(), g.group_size),
        (vec![2], vec![0b110], 3)
    );
    assert_eq!(t.storage_bits, 3 * 3 + 32);
}

#[test]
fn all_zero_filter_has_zero_codes_and_scale() {
    let w = [0.0f32; 4];
    for scheme in [
        Scheme::Int {
            bits: 8,
            per_channel: true,
        },
        Scheme::Ternary {
            threshold_factor: 0.7,
        },
        swis(8, 2, 3),
        Scheme::Truncate {
            base_bits: 8,
            kept_bits: 3,
        },
    ] {
        let t = q(&w, &[1, 4], scheme);
        assert_eq!(
            (t.codes.clone(), t.scales.clone()),
            (vec![0; 4], vec![0.0]),
            "{scheme:?}"
        );
        assert_eq!(stats(&w, &t).rel_error(), 0.0);
    }
}

// ------------------------------------------------------------------ properties

fn weights_strategy() -> impl Strategy<Value = (Vec<f32>, Vec<u64>)> {
    (1u64..6, 1u64..40).prop_flat_map(|(out, k)| {
        (
            proptest::collection::vec(-2.0f32..2.0, (out * k) as usize),
            Just(vec![out, k]),
        )
    })
}

fn distinct_nonzero(codes: &[i16]) -> Vec<i16> {
    let mut v: Vec<i16> = codes.iter().copied().filter(|&c| c != 0).collect();
    v.sort_unstable();
    v.dedup();
    v
}

proptest! {
    #[test]
    fn signed_binary_one_value_per_filter_with_the_region_sign((w, shape) in weights_strategy(), t in 0.0f64..0.5) {
        let qt = q(&w, &shape, signed(t, SignRule::Halves, false));
        let out = shape[0] as usize;
        for f in 0..out {
            let d = distinct_nonzero(qt.filter_codes(f));
            prop_assert!(d.len() <= 1);
            if let Some(&v) = d.first() {
                prop_assert_eq!(v, if f < out / 2 { 1 } else { -1 });
            }
        }
    }

    #[test]
    fn ternary_at_most_two_values_per_filter((w, shape) in weights_strategy()) {
        let qt = q(&w, &shape, Scheme::Ternary { threshold_factor: 0.7 });
        for f in 0..shape[0] as usize {
            let d = distinct_nonzero(qt.filter_codes(f));
            prop_assert!(d.len() <= 2 && d.iter().all(|v| v.abs() == 1));
        }
    }

    #[test]
    fn swis_with_all_bits_reproduces_the_b_bit_codes((w, shape) in weights_strategy(), b in 2u32..=10, g in 1u32..12) {
        let full = q(&w, &shape, swis(b, g, b - 1));
        let int = q(&w, &shape, Scheme::Int { bits: b, per_channel: true });
        prop_assert_eq!(&full.codes, &int.codes);
        prop_assert_eq!(&full.scales, &int.scales);
    }

    #[test]
    fn swis_error_never_above_truncation((w, shape) in weights_strategy(), b in 3u32..=9, g in 1u32..12, n in 1u32..8) {
        let n = n.min(b - 1);
        let s = stats(&w, &q(&w, &shape, swis(b, g, n)));
        let t = stats(&w, &q(&w, &shape, Scheme::Truncate { base_bits: b, kept_bits: n }));
        prop_assert!(s.sq_error <= t.sq_error * (1.0 + 1e-5) + 1e-10 * s.sq_norm, "swis {} > truncate {}", s.sq_error, t.sq_error);
    }

    #[test]
    fn swis_codes_use_only_the_group_positions((w, shape) in weights_strategy(), g in 1u32..12, max in 1u32..7, bound in 0.0f64..0.3) {
        let qt = q(&w, &shape, Scheme::Swis { base_bits: 8, group_size: g, shared: SharedBits::Variable { max, error_bound: bound } });
        let groups = qt.groups.as_ref().unwrap();
        let k = shape[1] as usize;
        for (i, &c) in qt.codes.iter().enumerate() {
            let gi = groups.group_of(k, i);
            prop_assert_eq!(c.unsigned_abs() & !groups.masks[gi], 0);
            prop_assert_eq!(groups.masks[gi].count_ones(), groups.shared[gi] as u32);
            prop_assert!(groups.shared[gi] as u32 <= max);
        }
    }

    /// int-k' never has more error than int-k when (k-1) divides (k'-1): the k-bit grid is then
    /// a subset of the k'-bit grid (2^(k-1)-1 divides 2^(k'-1)-1). The grids are computed in
    /// f32 (scale x code), so equal grid points may differ in the last bits: a slack of 1e-6 of
    /// ||w||^2 (a few f32 ulps of each weight's error) is allowed.
    #[test]
    fn int_k_error_does_not_grow_on_nested_grids((w, shape) in weights_strategy(), per_channel in any::<bool>()) {
        for k in 2u32..=8 {
            let ek = stats(&w, &q(&w, &shape, Scheme::Int { bits: k, per_channel }));
            for k2 in (k + 1..=16).filter(|k2| (k2 - 1) % (k - 1) == 0) {
                let e2 = stats(&w, &q(&w, &shape, Scheme::Int { bits: k2, per_channel }));
                prop_assert!(e2.sq_error <= ek.sq_error + 1e-6 * ek.sq_norm, "k={} {} < k'={} {}", k, ek.sq_error, k2, e2.sq_error);
            }
        }
    }
}

// ------------------------------------------------------------------ determinism

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn synthetic_weights_same_seed_same_bits_on_any_thread_count() {
    let shape = [64u64, 32, 3, 3]; // 18432 weights: several chunks
    for dist in [Distribution::Laplace, Distribution::Gaussian] {
        let a = pool(1).install(|| synthetic_weights(&shape, dist, 42, None));
        let b = pool(4).install(|| synthetic_weights(&shape, dist, 42, None));
        let c = synthetic_weights(&shape, dist, 43, None);
        assert_eq!(
            a.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            b.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert_ne!(a, c);
        // He std sqrt(2 / 288) = 0.0833; sample std within 3 %.
        let std = (a.iter().map(|&x| x as f64 * x as f64).sum::<f64>() / a.len() as f64).sqrt();
        assert!(
            (std / (2.0f64 / 288.0).sqrt() - 1.0).abs() < 0.03,
            "{dist:?} std {std}"
        );
        let mean = a.iter().map(|&x| x as f64).sum::<f64>() / a.len() as f64;
        assert!(mean.abs() < 0.003, "{dist:?} mean {mean}");
    }
    // Explicit scale.
    let w = synthetic_weights(&[100, 100], Distribution::Gaussian, 1, Some(2.0));
    let std = (w.iter().map(|&x| x as f64 * x as f64).sum::<f64>() / w.len() as f64).sqrt();
    assert!((std - 2.0).abs() < 0.06, "std {std}");
}

#[test]
fn synthetic_weights_are_pinned() {
    // Bit-exact outputs: a change here changes every synthetic result (and every figure
    // computed from synthetic weights).
    // SplitMix64 from state 0: the published reference output.
    assert_eq!(
        plumsim::synth::SplitMix64(0).next_u64(),
        0xe220_a839_7b1d_cdaf
    );
    let mut rng = plumsim::synth::Xoshiro256StarStar::from_seed(0);
    assert_eq!(
        [rng.next_u64(), rng.next_u64()],
        [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a]
    );
    let bits = |d| {
        synthetic_weights(&[2, 2], d, 7, Some(1.0))
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        bits(Distribution::Laplace),
        [0xbf90_8cb1, 0xbf35_b035, 0xbcb8_352d, 0x3f61_993a]
    );
    assert_eq!(
        bits(Distribution::Gaussian),
        [0xbd51_1482, 0x3f94_b718, 0x3e73_6018, 0x3f02_88ff]
    );
}

#[test]
fn quantize_is_identical_on_one_and_many_threads() {
    let w = synthetic_weights(&[32, 16, 3, 3], Distribution::Laplace, 9, None);
    for scheme in [
        Scheme::Int {
            bits: 4,
            per_channel: false,
        },
        signed(0.05, SignRule::WeightSum, true),
        swis(8, 8, 3),
        Scheme::Swis {
            base_bits: 8,
            group_size: 5,
            shared: SharedBits::Variable {
                max: 4,
                error_bound: 0.02,
            },
        },
    ] {
        let a = pool(1).install(|| q(&w, &[32, 16, 3, 3], scheme));
        let b = pool(3).install(|| q(&w, &[32, 16, 3, 3], scheme));
        assert_eq!(a, b, "{scheme:?}");
        assert_eq!(stats(&w, &a), stats(&w, &b));
    }
}

// ------------------------------------------------------------------ network

const NET: &str = r#"{
  "name": "tiny",
  "inputs": {"x": [3, 8, 8]},
  "defaults": {"quant": {"scheme": "swis", "weight_bits": 8, "group_size": 8, "shared_bits": 3}},
  "layers": [
    {"name": "conv1", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 4, "kernel": 3, "padding": 1},
    {"name": "relu1", "op": "relu", "inputs": ["y"], "output": "z"},
    {"name": "fc", "op": "linear", "inputs": ["z"], "output": "o", "out_features": 10,
     "quant": {"scheme": "signed_binary"}}
  ]
}"#;

fn memory(net: &plumsim::workload::Network, weights: &[Option<Vec<f32>>]) -> MemorySource {
    MemorySource::new(
        "tiny",
        net.layers
            .iter()
            .zip(weights)
            .filter_map(|(l, w)| Some((l.name.clone(), w.clone()?)))
            .collect(),
    )
}

fn quantize_all(
    net: &plumsim::workload::Network,
    src: &MemorySource,
) -> plumsim::Result<Vec<Option<std::sync::Arc<Quantized>>>> {
    let (w, c) = (WeightCache::default(), CodeCache::default());
    let all: Vec<bool> = net
        .layers
        .iter()
        .map(|l| l.weight_shape().is_some())
        .collect();
    pipeline::quantize_layers_with_stats(
        net,
        &all,
        src,
        Caches {
            weights: &w,
            codes: &c,
        },
    )
}

#[test]
fn pipeline_quantizes_like_per_layer_quantize() {
    let net = parse_workload(NET, "tiny.json").unwrap();
    let weights: Vec<Option<Vec<f32>>> = net
        .layers
        .iter()
        .map(|l| {
            l.weight_shape()
                .map(|s| synthetic_weights(&s, Distribution::Gaussian, l.id.0 as u64, None))
        })
        .collect();
    let qs = quantize_all(&net, &memory(&net, &weights)).unwrap();
    assert_eq!(
        qs.iter().map(Option::is_some).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    let conv = &qs[0].as_ref().unwrap().codes;
    assert_eq!(conv.shape, vec![4, 3, 3, 3]);
    assert_eq!(
        conv,
        &q(weights[0].as_ref().unwrap(), &[4, 3, 3, 3], swis(8, 8, 3))
    );
    assert_eq!(conv.groups.as_ref().unwrap().groups_per_filter, 4); // 27 = 8+8+8+3
    let fc = &qs[2].as_ref().unwrap();
    assert_eq!(fc.codes.shape, vec![10, 256]);
    assert_eq!(fc.codes.scheme.name(), "signed_binary");
    assert_eq!(
        fc.stats(),
        Some(&stats(weights[2].as_ref().unwrap(), &fc.codes)),
        "statistics of the pipeline's codes"
    );
}

#[test]
fn pipeline_reports_missing_and_wrong_sized_weights() {
    let net = parse_workload(NET, "tiny.json").unwrap();
    let err = quantize_all(&net, &memory(&net, &[None, None, Some(vec![0.0; 2560])]))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("(layer `conv1`): no weights given for this weight layer"),
        "{err}"
    );
    let w27 = Some(vec![0.5; 108]);
    let err = quantize_all(&net, &memory(&net, &[w27, None, Some(vec![0.0; 3])]))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("(layer `fc`): 3 weights given, the layer's shape [10, 256] holds 2560"),
        "{err}"
    );
}

// ------------------------------------------------------------------ command line

fn plumsim(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_plumsim"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn quantize_command_writes_csv_and_keeps_layer_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("tiny.json");
    std::fs::write(&wl, NET).unwrap();
    let out = dir.path().join("out");
    let o = plumsim(&[
        "quantize",
        wl.to_str().unwrap(),
        "--scheme",
        "int",
        "--weight-bits",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{}{}",
        stdout,
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(out.join("quant.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "layer,op,shape,scheme,weights,filters,nonzero_weights,density,effectual_bits_per_weight,distinct_values_per_filter_mean,distinct_values_per_filter_max,effectual_ops_per_output,rel_error,storage_bits"
    );
    assert!(
        lines[1].starts_with("conv1,conv2d,4x3x3x3,int4/ch,108,4,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("fc,linear,10x256,signed_binary t0.05,2560,10,"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("total,,,,2668,14,"), "{}", lines[3]);
    assert_eq!(lines.len(), 4);
    assert!(stdout.contains("conv1") && stdout.contains("total"));
}

#[test]
fn quantize_command_rejects_bad_parameters_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("tiny.json");
    std::fs::write(&wl, NET).unwrap();
    let o = plumsim(&[
        "quantize",
        wl.to_str().unwrap(),
        "--scheme",
        "swis",
        "--shared-bits",
        "9",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--shared-bits: 9 is out of range"), "{err}");
    // The flags obey the workload's limits: one validator.
    let o = plumsim(&[
        "quantize",
        wl.to_str().unwrap(),
        "--scheme",
        "swis",
        "--group-size",
        "2000",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "--group-size: 2000 is out of range (help: allowed for scheme `swis`: 1..=1024)"
        ),
        "{err}"
    );
    let o = plumsim(&["quantize", wl.to_str().unwrap(), "--weight-bits", "4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no --scheme is given"));
}
