//! Hand-computed cycles of a tiny layer on every PE kind, lock-step imbalance and what
//! scheduling recovers, and invariants across kinds.

mod common;

use proptest::prelude::*;

use plumsim::arch::Arch;
use plumsim::engine::{self, RunResult};
use plumsim::quant::{quantize, QuantizedTensor, Scheme, SharedBits, SignRule, SwisGroups};
use plumsim::synth::synthetic_weights;
use plumsim::workload::{parse_workload, Distribution, Network};

use common::{arch, gemm_net as net};

/// A hand-written quantized tensor of `filters` x `k` codes.
fn codes(
    scheme: Scheme,
    filters: &[&[i16]],
    groups: Option<(u32, Vec<u8>, Vec<u16>)>,
) -> Vec<Option<QuantizedTensor>> {
    let k = filters[0].len();
    let groups = groups.map(|(g, shared, masks)| SwisGroups {
        group_size: g,
        groups_per_filter: (k as u32).div_ceil(g),
        shared,
        masks,
        metadata_bits_per_group: 7,
    });
    vec![Some(QuantizedTensor {
        scheme,
        shape: vec![filters.len() as u64, k as u64],
        codes: filters.iter().flat_map(|f| f.iter().copied()).collect(),
        scales: vec![1.0; filters.len()],
        groups,
        storage_bits: 0,
        scale_absorbed: false,
        derived: Default::default(),
    })]
}

fn cycles(a: &Arch, n: &Network, c: &[Option<QuantizedTensor>]) -> u64 {
    engine::simulate_quantized(a, n, c).unwrap().layers[0].compute_cycles
}

// The tiny layer: M = 4 (4 steps), K = 4, N = 2 on a 1 x 2 array; each PE holds a whole
// filter (lanes x weights_per_lane = 4), so one fold, weight load 1 x weights_per_lane
// cycles. Array lock-step over 5 wavefront steps: s0 + 3 max(s0, s1) + s1.

#[test]
fn dense_tiny_layer() {
    let a = arch(1, 2, "dense", "weights_per_lane = 4", "");
    // s = 4 occupied slots per PE: 4 + 12 + 4 = 20, plus a 4-cycle load.
    assert_eq!(cycles(&a, &net(4, 4, 2, r#"{"scheme": "int"}"#), &[]), 24);
}

#[test]
fn ternary_zero_skipping_tiny_layer() {
    let a = arch(1, 2, "ternary", "weights_per_lane = 4", "");
    let c = codes(
        Scheme::Ternary {
            threshold_factor: 0.7,
        },
        &[&[1, 0, -1, 0], &[0, 0, 1, 0]],
        None,
    );
    // nnz 2 and 1: 2 + 3 x 2 + 1 = 9, + 4.
    assert_eq!(
        cycles(&a, &net(4, 4, 2, r#"{"scheme": "ternary"}"#), &c),
        13
    );
}

#[test]
fn signed_binary_tiny_layer_with_and_without_repetition() {
    let scheme = Scheme::SignedBinary {
        threshold: 0.05,
        sign_rule: SignRule::Halves,
        alpha: false,
    };
    let c = codes(scheme, &[&[1, 1, 0, 1], &[0, -1, 0, 0]], None);
    let n = net(4, 4, 2, r#"{"scheme": "signed_binary"}"#);
    // nnz 3 and 1: 3 + 9 + 1 = 13, + 4.
    assert_eq!(
        cycles(
            &arch(1, 2, "signed_binary", "weights_per_lane = 4", ""),
            &n,
            &c
        ),
        17
    );
    // Repetition: sum the shorter of the non-zero / zero lists: 1 and 1: 1 + 3 + 1 = 5, + 4.
    let rep = arch(
        1,
        2,
        "signed_binary",
        "weights_per_lane = 4\nexploit_repetition = true",
        "",
    );
    assert_eq!(cycles(&rep, &n, &c), 9);
}

#[test]
fn binary_tiny_layer_with_and_without_repetition() {
    let c = codes(Scheme::Binary, &[&[1, 1, -1, 1], &[-1, -1, -1, 1]], None);
    let n = net(4, 4, 2, r#"{"scheme": "binary"}"#);
    // One add/sub per weight: 4 cycles per step per PE: 4 + 12 + 4 = 20, + 4.
    assert_eq!(
        cycles(&arch(1, 2, "binary", "weights_per_lane = 4", ""), &n, &c),
        24
    );
    // Repetition: only the rarer sign (1 of 4 each) is accumulated: 1 + 3 + 1 = 5, + 4.
    let rep = arch(
        1,
        2,
        "binary",
        "weights_per_lane = 4\nexploit_repetition = true",
        "",
    );
    let r = engine::simulate_quantized(&rep, &n, &c).unwrap();
    assert_eq!(r.layers[0].compute_cycles, 9);
    // The shared window sum: 4 activations per step, 4 steps, one column fold.
    assert_eq!(r.layers[0].actions.window_sum_adds, 16);
    assert_eq!(r.layers[0].actions.adds, 2 * 4);
}

#[test]
fn bit_serial_tiny_layer() {
    let a = arch(1, 2, "bit_serial", "weights_per_lane = 4", "");
    // int4: 4 slots x 4 bits = 16 cycles per step for both PEs: 16 x 5 = 80, + 4.
    assert_eq!(
        cycles(
            &a,
            &net(4, 4, 2, r#"{"scheme": "int", "weight_bits": 4}"#),
            &[]
        ),
        84
    );
    let act = arch(
        1,
        2,
        "bit_serial",
        "weights_per_lane = 4\nserial_operand = \"activation\"",
        "",
    );
    // Activation-serial streams the layer's activation bits (Stripes' per-layer precision):
    // 3-bit activations, 12 cycles per step: 60 + 4; 6-bit, 24 per step: 120 + 4.
    let int4_act =
        |a: u32| format!(r#"{{"scheme": "int", "weight_bits": 4, "activation_bits": {a}}}"#);
    assert_eq!(cycles(&act, &net(4, 4, 2, &int4_act(3)), &[]), 64);
    assert_eq!(cycles(&act, &net(4, 4, 2, &int4_act(6)), &[]), 124);
    // A layer wider than the datapath is refused, naming both widths.
    let narrow = arch(
        1,
        2,
        "bit_serial",
        "weights_per_lane = 4\nserial_operand = \"activation\"\nactivation_bits = 4",
        "",
    );
    let err = engine::simulate_quantized(&narrow, &net(4, 4, 2, &int4_act(6)), &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("6-bit activations are wider than the datapath (pe.activation_bits = 4)"),
        "{err}"
    );
}

#[test]
fn bit_sparse_tiny_layer() {
    let scheme = Scheme::Int {
        bits: 4,
        per_channel: true,
    };
    let c = codes(scheme, &[&[3, 0, 5, 1], &[7, 0, 0, 0]], None);
    let n = net(4, 4, 2, r#"{"scheme": "int", "weight_bits": 4}"#);
    // Plain bits: popcounts 2 + 0 + 2 + 1 = 5 and 3: 5 + 15 + 3 = 23, + 4.
    assert_eq!(
        cycles(
            &arch(1, 2, "bit_sparse", "weights_per_lane = 4", ""),
            &n,
            &c
        ),
        27
    );
    // CSD: 3 = 4 - 1, 5 = 4 + 1, 1, 7 = 8 - 1: 2 + 2 + 1 = 5 and 2: 5 + 15 + 2 = 22, + 4.
    let csd = arch(
        1,
        2,
        "bit_sparse",
        "weights_per_lane = 4\nencoding = \"csd\"",
        "",
    );
    assert_eq!(cycles(&csd, &n, &c), 26);
    // Brick lock-step: slot s of both PEs lasts the slower one's. Slots of PE 0 cost
    // [2, 0, 2, 1], of PE 1 [3, 0, 0, 0]; with both active a step costs 3 + 0 + 2 + 1 = 6
    // instead of max(5, 3) = 5: 5 + 3 x 6 + 3 = 26, + 4.
    let brick = arch(
        1,
        2,
        "bit_sparse",
        "weights_per_lane = 4",
        "sync_scope = \"brick\"",
    );
    assert_eq!(cycles(&brick, &n, &c), 30);
    // Brick lock-step is refused where it is not modelled.
    let text = common::ArchToml {
        kind: "dense",
        array_extra: "sync_scope = \"brick\"",
        ..Default::default()
    }
    .text();
    let err = plumsim::design::parse_arch(&text, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("array.sync_scope: \"brick\" is not modelled for pe.kind = \"dense\""),
        "{err}"
    );
}

#[test]
fn swis_tiny_layer() {
    // Two lanes, two slots: each PE holds two groups of two weights.
    let scheme = Scheme::Swis {
        base_bits: 8,
        group_size: 2,
        shared: SharedBits::Fixed(3),
    };
    let c = codes(
        scheme,
        &[&[3, 1, 4, 0], &[7, 5, 0, 0]],
        Some((2, vec![2, 1, 3, 0], vec![0b11, 0b100, 0b111, 0])),
    );
    let a = arch(1, 2, "swis", "lanes = 2\nweights_per_lane = 2", "");
    // PE 0: N = 2 + 1 = 3; PE 1: 3 + 0 = 3: 3 + 9 + 3 = 15, plus a 2-cycle load.
    let n = net(
        4,
        4,
        2,
        r#"{"scheme": "swis", "group_size": 2, "shared_bits": 3}"#,
    );
    let r = engine::simulate_quantized(&a, &n, &c).unwrap();
    assert_eq!(r.layers[0].compute_cycles, 17);
    // One shared-shifter operation per cycle of a group: (2 + 1 + 3 + 0) x 4 steps.
    assert_eq!(r.layers[0].actions.shifts, 24);
    // Adds: every lane of a slot each of its cycles: (2 + 1 + 3 + 0) x 2 lanes x 4 steps.
    assert_eq!(r.layers[0].actions.adds, 48);
    // With a shifter per lane, one shift per lane-cycle instead.
    let per_lane = arch(
        1,
        2,
        "swis",
        "lanes = 2\nweights_per_lane = 2\nshifter = \"lane\"",
        "",
    );
    let r = engine::simulate_quantized(&per_lane, &n, &c).unwrap();
    assert_eq!(r.layers[0].actions.shifts, 48);
}

#[test]
fn lockstep_imbalance_and_what_scheduling_recovers() {
    // Ternary, 1 x 2 array, four filters with 4, 1, 4, 1 non-zeros (whole filter per PE).
    let c = codes(
        Scheme::Ternary {
            threshold_factor: 0.7,
        },
        &[
            &[1, -1, 1, 1],
            &[0, 0, 1, 0],
            &[-1, 1, 1, -1],
            &[0, 1, 0, 0],
        ],
        None,
    );
    let n = net(4, 4, 4, r#"{"scheme": "ternary"}"#);
    let off = arch(1, 2, "ternary", "weights_per_lane = 4", "schedule = false");
    let on = arch(1, 2, "ternary", "weights_per_lane = 4", "schedule = true");
    let r_off = engine::simulate_quantized(&off, &n, &c).unwrap();
    let r_on = engine::simulate_quantized(&on, &n, &c).unwrap();
    // Unscheduled folds (4,1) and (4,1): each 4 + 3 x 4 + 1 = 17, + 4 load: 42.
    assert_eq!(r_off.layers[0].compute_cycles, 42);
    // Balanced would be 5 steps x mean 2.5 = 12.5 -> 13 per fold: 2 x 4 lost to lock-step.
    assert_eq!(r_off.layers[0].imbalance_cycles, 8);
    // Scheduled (heaviest first): folds (4,4) = 20 + 4 and (1,1) = 5 + 4: 33, no imbalance.
    assert_eq!(r_on.layers[0].compute_cycles, 33);
    assert_eq!(r_on.layers[0].imbalance_cycles, 0);
    // Actions do not depend on the schedule.
    assert_eq!(r_on.layers[0].actions.adds, r_off.layers[0].actions.adds);
}

fn run_kind(
    rows: u32,
    cols: u32,
    kind: &str,
    pe_extra: &str,
    scope: &str,
    n: &Network,
    seed: u64,
) -> RunResult {
    let a = arch(
        rows,
        cols,
        kind,
        pe_extra,
        &format!("sync_scope = \"{scope}\""),
    );
    let c: Vec<_> = n
        .layers
        .iter()
        .map(|l| {
            let shape = l.weight_shape()?;
            Some(quantize(
                &synthetic_weights(&shape, Distribution::Laplace, seed, None),
                &shape,
                &l.quant.scheme,
            ))
        })
        .collect();
    engine::simulate_quantized(&a, n, &c).unwrap()
}

const SCOPES: [&str; 5] = ["lane", "pe", "row", "column", "array"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Full folds: bit-serial compute minus weight loads is exactly B times the 1-bit figure.
    #[test]
    fn bit_serial_cycles_grow_linearly_with_bits(
        rows in 1u32..5, cols in 1u32..5, a in 1u64..4, b in 1u64..4, m in 1u64..20, bits in 2u32..8, scope in 0usize..5,
    ) {
        let (k, n) = (rows as u64 * a, cols as u64 * b);
        let q = |bits: u32| format!(r#"{{"scheme": "int", "weight_bits": {bits}}}"#);
        let run = |bits: u32| run_kind(rows, cols, "bit_serial", "", SCOPES[scope], &net(m, k, n, &q(bits)), 1).layers[0].compute_cycles;
        let loads = a * b * rows as u64;
        prop_assert_eq!(run(bits) - loads, bits as u64 * (run(2) - loads) / 2);
        prop_assert!(run(bits) < run(bits + 1));
    }

    /// Zero skipping never costs more than processing every weight bit-serially, SWIS never
    /// more than bit-serial at its base width, and utilization stays within 100 %.
    #[test]
    fn cheaper_kinds_never_cost_more(
        rows in 1u32..5, cols in 1u32..5, lanes in 1u32..4, m in 1u64..12, k in 1u64..50, n in 1u64..12,
        scope in 0usize..5, seed in any::<u64>(), shared in 1u32..4,
    ) {
        let lanes_line = format!("lanes = {lanes}");
        for scheme in ["ternary", "signed_binary"] {
            let nt = net(m, k, n, &format!(r#"{{"scheme": "{scheme}"}}"#));
            let zs = run_kind(rows, cols, "ternary", &lanes_line, SCOPES[scope], &nt, seed);
            let bs = run_kind(rows, cols, "bit_serial", &lanes_line, SCOPES[scope], &nt, seed);
            prop_assert!(zs.compute_cycles() <= bs.compute_cycles(), "{scheme}: {} > {}", zs.compute_cycles(), bs.compute_cycles());
        }
        let swis = net(m, k, n, &format!(r#"{{"scheme": "swis", "group_size": {lanes}, "shared_bits": {shared}}}"#));
        let int8 = net(m, k, n, r#"{"scheme": "int", "weight_bits": 8}"#);
        let sw = run_kind(rows, cols, "swis", &lanes_line, SCOPES[scope], &swis, seed);
        let bs = run_kind(rows, cols, "bit_serial", &lanes_line, SCOPES[scope], &int8, seed);
        prop_assert!(sw.compute_cycles() <= bs.compute_cycles());
        for r in [&sw, &bs] {
            let a = arch(rows, cols, "swis", &lanes_line, "");
            prop_assert!(r.utilization(&a) <= 1.0);
            for l in &r.layers {
                prop_assert!(l.utilization(&a) <= 1.0);
            }
        }
    }

    /// Same result inside a 1-thread and a 3-thread pool.
    #[test]
    fn results_do_not_depend_on_threads(seed in any::<u64>(), scope in 0usize..5) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/workloads/tiny_resblock.json")).unwrap();
        let text = text.replacen("\"defaults\": {", "\"defaults\": {\"quant\": {\"scheme\": \"swis\", \"group_size\": 2, \"shared_bits\": 2},", 1);
        let n = parse_workload(&text, "tiny").unwrap();
        let is_swis = matches!(n.layers[0].quant.scheme, Scheme::Swis { .. });
        prop_assert!(is_swis);
        let pool = |t: usize| rayon::ThreadPoolBuilder::new().num_threads(t).build().unwrap();
        let one = pool(1).install(|| run_kind(4, 4, "swis", "lanes = 2", SCOPES[scope], &n, seed));
        let three = pool(3).install(|| run_kind(4, 4, "swis", "lanes = 2", SCOPES[scope], &n, seed));
        prop_assert_eq!(one, three);
    }
}

/// Codes or not, a layer whose timing does not depend on them costs the same (storage is
/// accounted identically), and the codes-free storage estimate matches the quantizer's.
#[test]
fn timing_and_traffic_do_not_depend_on_having_the_codes() {
    use plumsim::quant::storage_bits_for;
    for (kind, quant) in [
        ("dense", r#"{"scheme": "int", "weight_bits": 8}"#),
        (
            "dense",
            r#"{"scheme": "int", "weight_bits": 4, "per_channel": false}"#,
        ),
        ("bit_serial", r#"{"scheme": "ternary"}"#),
        ("bit_serial", r#"{"scheme": "signed_binary"}"#),
        (
            "dense",
            r#"{"scheme": "swis", "group_size": 4, "shared_bits": 2}"#,
        ),
        ("dense", r#"{"scheme": "truncate", "shared_bits": 3}"#),
    ] {
        let n = net(7, 20, 5, quant);
        let shape = n.layers[0].weight_shape().unwrap();
        let q = quantize(
            &synthetic_weights(&shape, Distribution::Laplace, 9, None),
            &shape,
            &n.layers[0].quant.scheme,
        );
        assert_eq!(
            storage_bits_for(&n.layers[0].quant.scheme, &shape),
            q.storage_bits,
            "{quant}"
        );
        let a = arch(2, 2, kind, "", "");
        let with = engine::simulate_quantized(&a, &n, &[Some(q)]).unwrap();
        let without = engine::simulate_quantized(&a, &n, &[]).unwrap();
        assert_eq!(
            with.layers[0].traffic, without.layers[0].traffic,
            "{kind} {quant}"
        );
        assert_eq!(
            with.total_cycles(),
            without.total_cycles(),
            "{kind} {quant}"
        );
    }
}
