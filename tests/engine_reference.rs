//! The fast engine against the per-cycle reference engine, on every registered PE kind, each
//! of its test configurations and every weight scheme: a kind added to the registry is
//! checked here without editing this file.

mod common;

use proptest::prelude::*;

use plumsim::arch::Arch;
use plumsim::engine::{self, reference};
use plumsim::pe::PeKind;
use plumsim::quant::QuantizedTensor;
use plumsim::workload::{parse_workload, Network};

use common::{arch, codes_for, gemm_net, gemm_net_zeros};

/// Fast and reference engines agree on cycles, actions and buffer accesses, or both refuse
/// the layer.
fn check_equal(
    arch: &Arch,
    net: &Network,
    codes: &[Option<QuantizedTensor>],
) -> Result<(), TestCaseError> {
    let layer = &net.layers[0];
    let fast = engine::simulate_quantized(arch, net, codes);
    let r = reference::simulate_layer(arch, net, layer, codes[0].as_ref());
    let (fast, r) = match (fast, r) {
        (Ok(f), Ok(r)) => (f, r.expect("a weight layer")),
        (Err(plumsim::Error::Unsupported(_)), Err(plumsim::Error::Unsupported(_))) => return Ok(()),
        (f, r) => {
            return Err(TestCaseError::fail(format!(
                "the engines disagree on whether the layer runs: fast {:?}, reference {:?}",
                f.map(|_| "ok"),
                r.map(|_| "ok")
            )))
        }
    };
    let f = &fast.layers[0];
    prop_assert_eq!(f.timing.unwrap().folds, r.folds, "folds");
    prop_assert_eq!(f.compute_cycles, r.compute_cycles, "compute cycles");
    prop_assert_eq!(f.actions, r.actions, "actions");
    prop_assert_eq!(
        f.traffic.input_buffer_reads,
        r.input_buffer_reads,
        "input buffer reads"
    );
    prop_assert_eq!(
        f.traffic.weight_buffer_reads,
        r.weight_buffer_reads,
        "weight buffer reads"
    );
    prop_assert_eq!(
        f.traffic.output_buffer_writes,
        r.output_buffer_writes,
        "output buffer writes"
    );
    prop_assert_eq!(
        f.traffic.output_buffer_reads,
        r.output_buffer_reads,
        "output buffer reads"
    );
    Ok(())
}

const SCOPES: [&str; 6] = ["lane", "pe", "row", "column", "array", "brick"];

/// The lock-step scope `i` for `kind`: brick lock-step only where the kind models it (the
/// others get array lock-step instead).
fn scope_for(kind: &str, i: usize) -> &'static str {
    let brick = PeKind::by_name(kind).is_some_and(|k| k.model().brick_lockstep());
    if SCOPES[i] == "brick" && !brick {
        "array"
    } else {
        SCOPES[i]
    }
}

/// Every weight scheme family (workload quant JSON); SWIS groups as wide as the lanes; the
/// layer's activations of 2 to 6 bits (activation-serial PEs stream that many).
fn schemes(lanes: u32, variant: u32) -> Vec<String> {
    let a = 2 + variant % 5;
    [
        format!(r#"{{"scheme": "int", "weight_bits": {}}}"#, 2 + variant % 7),
        r#"{"scheme": "int", "weight_bits": 8}"#.into(),
        r#"{"scheme": "binary"}"#.into(),
        r#"{"scheme": "ternary"}"#.into(),
        r#"{"scheme": "signed_binary"}"#.into(),
        format!(
            r#"{{"scheme": "swis", "group_size": {lanes}, "shared_bits": {}}}"#,
            1 + variant % 3
        ),
        format!(
            r#"{{"scheme": "swis", "group_size": {lanes}, "max_shared_bits": 4, "error_bound": 0.05}}"#
        ),
        r#"{"scheme": "truncate", "shared_bits": 3}"#.into(),
    ]
    .into_iter()
    .map(|q: String| format!(r#"{}, "activation_bits": {a}}}"#, &q[..q.len() - 1]))
    .collect()
}

/// The skip networks a configuration without its own `skip` line is also checked with when
/// it skips zero activations.
const NETWORKS: [&str; 3] = [
    "",
    "skip = \"ideal\"",
    "skip = \"window\"\nlookahead = 1\nlookaside = 1",
];

/// (kind, its `[pe]` test lines) for every registered kind.
fn configs() -> Vec<(&'static str, &'static str)> {
    PeKind::all()
        .flat_map(|k| {
            k.model()
                .test_configs()
                .iter()
                .map(move |c| (k.as_str(), *c))
        })
        .collect()
}

#[test]
fn every_registered_kind_has_a_reference_program_and_test_configs() {
    for k in PeKind::all() {
        assert!(
            reference::kinds::for_kind(k.as_str()).is_some(),
            "pe kind `{}` has no reference program under sim/engine/reference/kinds/",
            k.as_str()
        );
        assert!(!k.model().test_configs().is_empty(), "{}", k.as_str());
    }
    assert!(configs().len() >= PeKind::all().count());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn fast_engine_equals_reference_engine(
        rows in 1u32..7, cols in 1u32..7, lanes in 1u32..4, wpl in 1u32..3,
        m in 1u64..25, k in 1u64..60, n in 1u64..10,
        scope in 0usize..6, schedule in any::<bool>(), variant in 0u32..12, seed in any::<u64>(),
    ) {
        for (kind, pe_extra) in configs() {
            for quant in schemes(lanes, variant) {
                let pe_extra = format!("lanes = {lanes}\nweights_per_lane = {wpl}\n{pe_extra}");
                let sc = scope_for(kind, scope);
                let array_extra = format!("sync_scope = \"{sc}\"\nschedule = {schedule}");
                let arch = arch(rows, cols, kind, &pe_extra, &array_extra);
                let net = gemm_net(m, k, n, &quant);
                let codes = codes_for(&net, seed);
                check_equal(&arch, &net, &codes).map_err(|e| TestCaseError::fail(format!("{kind} [{pe_extra}] {quant} {sc}: {e}")))?;
            }
        }
    }

    /// Zero-activation skipping, on every kind that models it: the step-by-step fast engine
    /// against the reference, on a matmul and on a padded, strided convolution (im2col zeros).
    #[test]
    fn skipping_zero_activations_fast_equals_reference(
        rows in 1u32..5, cols in 1u32..5, lanes in 1u32..4, wpl in 1u32..3,
        m in 1u64..10, k in 1u64..40, n in 1u64..8, zeros in 0.0f64..0.95,
        scope in 0usize..5, schedule in any::<bool>(), seed in any::<u64>(), conv in any::<bool>(),
        variant in 0u32..12,
    ) {
        let skipping = configs()
            .into_iter()
            .filter(|(kind, cfg)| {
                PeKind::by_name(kind).is_some_and(|k| k.model().skips_zero_activations())
                    && !cfg.contains("exploit_repetition = true")
                    && !cfg.contains("dynamic_precision = true")
            })
            .flat_map(|(kind, cfg)| {
                let nets: Vec<&str> = if cfg.contains("skip =") { vec![""] } else { NETWORKS.to_vec() };
                nets.into_iter().map(move |net| (kind, format!("{cfg}\n{net}")))
            });
        for (kind, extra) in skipping {
            for quant in schemes(lanes, variant) {
                let pe_extra = format!("lanes = {lanes}\nweights_per_lane = {wpl}\nskip_zero_activations = true\n{extra}");
                let array_extra = format!("sync_scope = \"{}\"\nschedule = {schedule}", SCOPES[scope]);
                let arch = arch(rows, cols, kind, &pe_extra, &array_extra);
                let net = if conv {
                    let text = format!(
                        r#"{{"name": "c", "inputs": {{"x": [{c}, 5, 4]}}, "defaults": {{"quant": {quant}, "activations": {{"zero_density": {zeros}}}}},
                            "layers": [{{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": {n},
                                         "kernel": 3, "stride": 2, "padding": 1}}]}}"#,
                        c = 1 + k % 4
                    );
                    parse_workload(&text, "c.json").unwrap()
                } else {
                    gemm_net_zeros(m, k, n, &quant, zeros)
                };
                let codes = codes_for(&net, seed);
                check_equal(&arch, &net, &codes).map_err(|e| TestCaseError::fail(format!("{kind} [{extra}] {quant} {}: {e}", SCOPES[scope])))?;
            }
        }
    }

    /// PEs serial in the activations' bits (Pragmatic, Loom, dynamic Stripes) on real
    /// activation values: random magnitudes of the layer's width with some zeros, on a matmul
    /// and on a padded, strided convolution; the fast engine against the reference.
    #[test]
    fn activation_values_fast_equals_reference(
        rows in 1u32..5, cols in 1u32..5, lanes in 1u32..4, wpl in 1u32..3,
        m in 1u64..10, k in 1u64..40, n in 1u64..8, zeros in 0.0f64..0.9,
        scope in 0usize..5, schedule in any::<bool>(), seed in any::<u64>(), conv in any::<bool>(),
        variant in 0u32..12,
    ) {
        for (kind, cfg) in configs() {
            for quant in schemes(lanes, variant) {
                let pe_extra = format!("lanes = {lanes}\nweights_per_lane = {wpl}\n{cfg}");
                let array_extra = format!("sync_scope = \"{}\"\nschedule = {schedule}", SCOPES[scope]);
                let arch = arch(rows, cols, kind, &pe_extra, &array_extra);
                if !arch.pe.reads_activations() {
                    continue;
                }
                let mut net = if conv {
                    let text = format!(
                        r#"{{"name": "c", "inputs": {{"x": [{c}, 5, 4]}}, "defaults": {{"quant": {quant}}},
                            "layers": [{{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": {n},
                                         "kernel": 3, "stride": 2, "padding": 1}}]}}"#,
                        c = 1 + k % 4
                    );
                    parse_workload(&text, "c.json").unwrap()
                } else {
                    gemm_net(m, k, n, &quant)
                };
                let layer = &net.layers[0];
                let elements = net.tensor(layer.inputs[0]).elements() as usize;
                let bits = layer.quant.activation_bits;
                let mut rng = seed | 1;
                let values: Vec<u16> = (0..elements)
                    .map(|_| {
                        // xorshift64: a seeded stream of magnitudes below 2^bits.
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        let zero = (rng >> 11) as f64 / (1u64 << 53) as f64 <= zeros;
                        if zero { 0 } else { ((rng >> 3) % (1 << bits)) as u16 }
                    })
                    .collect();
                net.layers[0].activations.values = Some(std::sync::Arc::new(values));
                let codes = codes_for(&net, seed);
                check_equal(&arch, &net, &codes).map_err(|e| TestCaseError::fail(format!("{kind} [{cfg}] {quant} {}: {e}", SCOPES[scope])))?;
            }
        }
    }
}
