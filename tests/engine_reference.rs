//! The fast engine against the per-cycle reference engine, and hand-computed cycles of a
//! tiny layer on every PE kind.

use proptest::prelude::*;

use plumsim::arch::Arch;
use plumsim::design::parse_arch;
use plumsim::engine::{self, reference};
use plumsim::quant::{quantize, QuantizedTensor};
use plumsim::synth::synthetic_weights;
use plumsim::workload::{parse_workload, Distribution, Network};

fn arch_toml(rows: u32, cols: u32, kind: &str, pe_extra: &str, array_extra: &str) -> Arch {
    let text = format!(
        r#"
name = "t"
[array]
rows = {rows}
cols = {cols}
dataflow = "ws"
{array_extra}
[pe]
kind = "{kind}"
{pe_extra}
[buffers.input]
capacity_bytes = 1048576
[buffers.weight]
capacity_bytes = 1048576
[buffers.output]
capacity_bytes = 1048576
[dram]
ideal = true
"#
    );
    parse_arch(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn gemm_net(m: u64, k: u64, n: u64, quant: &str) -> Network {
    gemm_net_zeros(m, k, n, quant, 0.0)
}

fn gemm_net_zeros(m: u64, k: u64, n: u64, quant: &str, zero_density: f64) -> Network {
    let text = format!(
        r#"{{"name": "g", "inputs": {{"a": [{m}, {k}]}}, "defaults": {{"quant": {quant}, "activations": {{"zero_density": {zero_density}}}}},
            "layers": [{{"name": "mm", "op": "matmul", "inputs": ["a"], "output": "y", "out_features": {n}}}]}}"#
    );
    parse_workload(&text, "g.json").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn codes_for(net: &Network, seed: u64) -> Vec<Option<QuantizedTensor>> {
    net.layers
        .iter()
        .map(|l| {
            let shape = l.weight_shape()?;
            let w = synthetic_weights(&shape, Distribution::Laplace, seed, None);
            Some(quantize(&w, &shape, &l.quant.scheme))
        })
        .collect()
}

/// Fast and reference engines agree on cycles, actions and buffer accesses.
fn check_equal(
    arch: &Arch,
    net: &Network,
    codes: &[Option<QuantizedTensor>],
) -> Result<(), TestCaseError> {
    let fast = engine::simulate_quantized(arch, net, codes).unwrap();
    let layer = &net.layers[0];
    let r = reference::simulate_layer(arch, net, layer, codes[0].as_ref())
        .unwrap()
        .unwrap();
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

const SCOPES: [&str; 5] = ["lane", "pe", "row", "column", "array"];

/// (pe kind, extra [pe] lines, workload quant JSON) for every PE kind and its schemes.
fn kinds(lanes: u32, variant: u32) -> Vec<(&'static str, String, String)> {
    let rep = if variant % 2 == 0 { "true" } else { "false" };
    vec![
        (
            "dense",
            String::new(),
            r#"{"scheme": "int", "weight_bits": 8}"#.into(),
        ),
        (
            "binary",
            format!("exploit_repetition = {rep}"),
            r#"{"scheme": "binary"}"#.into(),
        ),
        ("ternary", String::new(), r#"{"scheme": "ternary"}"#.into()),
        (
            "ternary",
            String::new(),
            r#"{"scheme": "signed_binary"}"#.into(),
        ),
        (
            "signed_binary",
            format!("exploit_repetition = {rep}"),
            r#"{"scheme": "signed_binary"}"#.into(),
        ),
        (
            "signed_binary",
            String::new(),
            r#"{"scheme": "int", "weight_bits": 4}"#.into(),
        ),
        (
            "bit_serial",
            "serial_operand = \"weight\"".into(),
            format!(r#"{{"scheme": "int", "weight_bits": {}}}"#, 2 + variant % 7),
        ),
        (
            "bit_serial",
            "serial_operand = \"activation\"\nactivation_bits = 6".into(),
            r#"{"scheme": "int"}"#.into(),
        ),
        (
            "bit_sparse",
            "encoding = \"binary\"".into(),
            r#"{"scheme": "int", "weight_bits": 8}"#.into(),
        ),
        (
            "bit_sparse",
            "encoding = \"csd\"".into(),
            r#"{"scheme": "int", "weight_bits": 6}"#.into(),
        ),
        (
            "swis",
            String::new(),
            format!(
                r#"{{"scheme": "swis", "group_size": {lanes}, "shared_bits": {}}}"#,
                1 + variant % 3
            ),
        ),
        (
            "swis",
            String::new(),
            format!(
                r#"{{"scheme": "swis", "group_size": {lanes}, "max_shared_bits": 4, "error_bound": 0.05}}"#
            ),
        ),
        (
            "swis",
            String::new(),
            r#"{"scheme": "truncate", "shared_bits": 3}"#.into(),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn fast_engine_equals_reference_engine(
        rows in 1u32..7, cols in 1u32..7, lanes in 1u32..4, wpl in 1u32..3,
        m in 1u64..25, k in 1u64..60, n in 1u64..10,
        scope in 0usize..5, schedule in any::<bool>(), variant in 0u32..12, seed in any::<u64>(),
    ) {
        for (kind, pe_extra, quant) in kinds(lanes, variant) {
            let pe_extra = format!("lanes = {lanes}\nweights_per_lane = {wpl}\n{pe_extra}");
            let array_extra = format!("sync_scope = \"{}\"\nschedule = {schedule}", SCOPES[scope]);
            let arch = arch_toml(rows, cols, kind, &pe_extra, &array_extra);
            let net = gemm_net(m, k, n, &quant);
            let codes = codes_for(&net, seed);
            check_equal(&arch, &net, &codes).map_err(|e| TestCaseError::fail(format!("{kind} {quant} {}: {e}", SCOPES[scope])))?;
        }
    }

    /// Zero-activation skipping: the step-by-step fast engine against the reference, on a
    /// matmul and on a padded, strided convolution (im2col zeros).
    #[test]
    fn skipping_zero_activations_fast_equals_reference(
        rows in 1u32..5, cols in 1u32..5, lanes in 1u32..4, wpl in 1u32..3,
        m in 1u64..10, k in 1u64..40, n in 1u64..8, zeros in 0.0f64..0.95,
        scope in 0usize..5, schedule in any::<bool>(), seed in any::<u64>(), conv in any::<bool>(),
    ) {
        let kinds: [(&str, &str, &str); 6] = [
            ("dense", "", r#"{"scheme": "int"}"#),
            ("binary", "", r#"{"scheme": "binary"}"#),
            ("ternary", "", r#"{"scheme": "ternary"}"#),
            ("signed_binary", "", r#"{"scheme": "signed_binary"}"#),
            ("bit_serial", "", r#"{"scheme": "int", "weight_bits": 5}"#),
            ("bit_serial", "serial_operand = \"activation\"\nactivation_bits = 3", r#"{"scheme": "int"}"#),
        ];
        for (kind, extra, quant) in kinds {
            let pe_extra = format!("lanes = {lanes}\nweights_per_lane = {wpl}\nskip_zero_activations = true\n{extra}");
            let array_extra = format!("sync_scope = \"{}\"\nschedule = {schedule}", SCOPES[scope]);
            let arch = arch_toml(rows, cols, kind, &pe_extra, &array_extra);
            let net = if conv {
                let text = format!(
                    r#"{{"name": "c", "inputs": {{"x": [{c}, 5, 4]}}, "defaults": {{"quant": {quant}, "activations": {{"zero_density": {zeros}}}}},
                        "layers": [{{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": {n},
                                     "kernel": 3, "stride": 2, "padding": 1}}]}}"#,
                    c = 1 + k % 4
                );
                parse_workload(&text, "c.json").unwrap()
            } else {
                gemm_net_zeros(m, k, n, quant, zeros)
            };
            let codes = codes_for(&net, seed);
            check_equal(&arch, &net, &codes).map_err(|e| TestCaseError::fail(format!("{kind} {quant} {}: {e}", SCOPES[scope])))?;
        }
    }
}
