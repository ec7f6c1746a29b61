//! Energy: a hand-computed tiny layer on two PE kinds, every component, and the model's
//! invariants (linearity in the table, zero entries give zero energy, monotone in the
//! action counts, breakdown sums to the total).

mod common;

use proptest::prelude::*;

use plumsim::arch::Arch;
use plumsim::energy::{layer_energy, run_energy, EnergyTable};
use plumsim::engine::{self, RunResult};
use plumsim::pe::PeKind;
use plumsim::quant::{QuantizedTensor, Scheme, SignRule};
use plumsim::workload::{parse_workload, Network};

/// Round-number tables: adds 1 pJ at any width, 8x8 multiply 2 pJ, every SRAM 1 pJ/bit read
/// and 2 pJ/bit written, DRAM 10 pJ/bit, registers 0.5 pJ/bit, fp32 mult 5 pJ, a 2:1 mux level
/// 0.25 pJ/bit, clock 0.1 pJ per bit-cycle; leakage 1000 mW/mm^2 of logic and 10 of SRAM, with
/// areas of 1 um^2 per register bit, 1 um^2 per adder bit, 0.001 mm^2 per KiB of SRAM and
/// nothing else.
const TABLE: &str = r#"
[energy]
int_add_8b_pj = 1.0
int_add_32b_pj = 1.0
int_mult_8b_pj = 2.0
shift_32b_pj = 32.0
sram_read_64b_8kib_pj = 64.0
sram_read_64b_32kib_pj = 64.0
sram_read_64b_1mib_pj = 64.0
sram_write_factor = 2.0
dram_lpddr4_pj_per_bit = 10.0
reg_pj_per_bit = 0.5
fp32_mult_pj = 5.0
fp32_add_pj = 3.0
mux2_pj_per_bit = 0.25
clock_pj_per_bit_cycle = 0.1
logic_leakage_mw_per_mm2 = 1000.0
sram_leakage_mw_per_mm2 = 10.0
[area]
int_add_32b_um2 = 32.0
int_mult_32b_um2 = 0.0
shift_32b_um2 = 0.0
register_um2_per_bit = 1.0
mux2_um2_per_bit = 0.0
sram_mm2_per_kib = 0.001
sram_bank_mm2 = 0.0
fp32_add_um2 = 0.0
fp32_mult_um2 = 0.0
"#;

fn arch(kind: &str) -> Arch {
    common::ArchToml {
        rows: 1,
        cols: 2,
        kind,
        pe_extra: "weights_per_lane = 4",
        rest: &format!("{}{TABLE}", common::BIG_MEMORY),
        ..Default::default()
    }
    .arch()
}

fn net(quant: &str) -> Network {
    common::gemm_net(4, 4, 2, quant)
}

fn tensor(
    scheme: Scheme,
    filters: [[i16; 4]; 2],
    storage_bits: u64,
    absorbed: bool,
) -> Vec<Option<QuantizedTensor>> {
    vec![Some(QuantizedTensor {
        scheme,
        shape: vec![2, 4],
        codes: filters.iter().flatten().copied().collect(),
        scales: vec![1.0; 2],
        groups: None,
        storage_bits,
        scale_absorbed: absorbed,
        derived: Default::default(),
    })]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

// The tiny layer: M = 4 steps, K = 4, N = 2 on a 1 x 2 array, each PE holding a whole filter
// (4 slots of one lane, lane-private skipping: a 4:1 activation multiplexer and a 2-bit index
// per slot). 1 MiB buffers of one-byte words with unlimited ports; clock gating on. A PE has
// one 32-bit adder (32 um^2) and 4 x (8 weight + 2 index + 8 activation) + 32 accumulator
// register bits (104 um^2; signed binary 105 with its sign bit); 3 x 1024 KiB of SRAM
// (3.072 mm^2). Leakage per 1 ns cycle: 1000 x 0.000272 + 10 x 3.072 = 30.992 pJ (signed
// binary 30.994).

#[test]
fn ternary_tiny_layer_energy_by_hand() {
    let a = arch("ternary");
    // Codes: 2 and 1 non-zeros; 8 two-bit codes + 2 fp32 scales = 80 bits = 10 bytes.
    let codes = tensor(
        Scheme::Ternary {
            threshold_factor: 0.7,
        },
        [[1, 0, -1, 0], [0, 0, 1, 0]],
        80,
        false,
    );
    let run = engine::simulate_quantized(&a, &net(r#"{"scheme": "ternary"}"#), &codes).unwrap();
    let l = &run.layers[0];
    // Load 4 + stream with step costs [2, 1] over 5 wavefront steps (2+2+2+2+1): 13 cycles.
    assert_eq!(l.total_cycles(), 13);
    let e = layer_energy(&a, &EnergyTable::for_arch(&a), l);
    // Adds: (2 + 1) a step x 4 steps = 12, at 1 pJ.
    assert!(close(e.pe_arith_pj, 12.0), "{e:?}");
    // Registers, 0.5 pJ/bit: 12 weight reads x 2 bits + 8 weights loaded x (8 + 2 index) bits
    // + 32 activations x 8 bits + 8 partial-sum updates x 2 x 32 bits = 872 bits.
    assert!(close(e.registers_pj, 436.0), "{e:?}");
    // 12 selections, each 2 mux levels of 8 activation bits and 2 of 10 weight bits: 9 pJ.
    assert!(close(e.operand_mux_pj, 108.0), "{e:?}");
    // Input buffer: 16 one-byte words read at 1 pJ/bit + 16 B filled from DRAM x 8 x 2.
    assert!(close(e.input_buffer_pj, 384.0), "{e:?}");
    // Weight buffer: the load reads 4 x 2 weights x (2 code + 2 index) bits = 4 words: 32;
    // filled: 10 B of codes and scales + 3 scheduled non-zeros x 2 index bits = 10.75 B,
    // 11 B moved x 8 x 2 = 176.
    assert!(close(e.weight_buffer_pj, 208.0), "{e:?}");
    // Output buffer: writes (8 psums x 32 + 8 rescaled outputs x 8) x 2 = 640; reads (8 B
    // written back to DRAM x 8 + 8 outputs into the vector unit x 8) x 1 = 128.
    assert!(close(e.output_buffer_pj, 768.0), "{e:?}");
    // DRAM: 16 + 11 + 8 bytes x 8 bits x 10 pJ.
    assert!(close(e.dram_pj, 2800.0), "{e:?}");
    // Vector: 8 outputs rescaled, one fp32 multiply each at 5 pJ.
    assert!(close(e.vector_pj, 40.0), "{e:?}");
    // Clock, gated: the bits written (80 loaded + 256 activation + 256 partial-sum) and 3 gate
    // cells per PE per cycle (13 x 2 x 3 = 78): 670 x 0.1.
    assert!(close(e.clock_pj, 67.0), "{e:?}");
    assert!(close(e.leakage_pj, 13.0 * 30.992), "{e:?}");
    assert!(close(e.total_pj(), 5225.896), "{}", e.total_pj());
}

#[test]
fn signed_binary_tiny_layer_energy_by_hand() {
    let a = arch("signed_binary");
    let scheme = Scheme::SignedBinary {
        threshold: 0.05,
        sign_rule: SignRule::Halves,
        alpha: false,
    };
    // 3 and 1 non-zeros; 8 one-bit codes, the scale absorbed by batch norm: 8 bits = 1 byte.
    let codes = tensor(scheme, [[1, 1, 0, 1], [0, -1, 0, 0]], 8, true);
    let run =
        engine::simulate_quantized(&a, &net(r#"{"scheme": "signed_binary"}"#), &codes).unwrap();
    let l = &run.layers[0];
    // Load 4 + stream with step costs [3, 1]: 3+3+3+3+1 = 13: 17 cycles.
    assert_eq!(l.total_cycles(), 17);
    let e = layer_energy(&a, &EnergyTable::for_arch(&a), l);
    assert!(close(e.pe_arith_pj, 16.0), "{e:?}"); // 4 adds a step x 4 steps
                                                  // 16 weight reads x 1 bit + 80 loaded + 32 x 8 + 8 x 64 = 864 bits x 0.5.
    assert!(close(e.registers_pj, 432.0), "{e:?}");
    assert!(close(e.operand_mux_pj, 144.0), "{e:?}"); // 16 selections x 9 pJ
    assert!(close(e.input_buffer_pj, 384.0), "{e:?}");
    // The load reads 4 x 2 x (1 + 2) bits = 3 words: 24; filled 1 B of codes + 4 non-zeros
    // x 2 index bits = 2 B x 8 x 2 = 32.
    assert!(close(e.weight_buffer_pj, 56.0), "{e:?}");
    // No rescaling (the scale is absorbed): writes 256 x 2, reads the 64 written back.
    assert!(close(e.output_buffer_pj, 576.0), "{e:?}");
    assert!(close(e.dram_pj, 2080.0), "{e:?}"); // 26 bytes
    assert_eq!(e.vector_pj, 0.0);
    // 592 bits written + 17 x 2 x 3 gate cells = 694 x 0.1.
    assert!(close(e.clock_pj, 69.4), "{e:?}");
    assert!(close(e.leakage_pj, 17.0 * 30.994), "{e:?}");
    assert!(close(e.total_pj(), 4284.298), "{}", e.total_pj());
}

/// A run of the tiny residual block on the shipped design of the `kind`-th registered kind.
fn sample_run(kind: usize, scheme: &str, seed: u64) -> (Arch, RunResult) {
    let kind = PeKind::all().nth(kind).expect("a registered kind");
    let a = common::shipped_design_of(kind);
    let wl = std::fs::read_to_string(format!(
        "{}/tests/fixtures/workloads/tiny_resblock.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let wl = wl.replacen(
        "\"defaults\": {",
        &format!("\"defaults\": {{\"quant\": {scheme},"),
        1,
    );
    let n = parse_workload(&wl, "tiny").unwrap();
    let n = match &a.scheme {
        Some(s) => n.with_default_scheme(s),
        None => n,
    };
    let codes = common::codes_for(&n, seed);
    let r = engine::simulate_quantized(&a, &n, &codes).unwrap();
    (a, r)
}

/// Registered kinds (the properties run on each one's shipped design).
fn kinds() -> usize {
    PeKind::all().count()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn energy_is_linear_in_the_table(kind in 0usize..kinds(), k in 0.01f64..100.0, seed in any::<u64>()) {
        let (a, r) = sample_run(kind, r#"{"scheme": "int"}"#, seed);
        let t = EnergyTable::for_arch(&a);
        let base = run_energy(&a, &t, &r).total;
        let scaled = run_energy(&a, &t.scaled(k), &r).total;
        for ((name, x), (_, y)) in base.components().iter().zip(scaled.components()) {
            prop_assert!((y - k * x).abs() <= 1e-9 * (k * x).abs().max(1e-9), "{name}: {y} vs {k} x {x}");
        }
        prop_assert!((scaled.total_pj() - k * base.total_pj()).abs() <= 1e-9 * k * base.total_pj());
    }

    #[test]
    fn zero_entries_give_zero_energy_and_breakdown_sums(kind in 0usize..kinds(), seed in any::<u64>()) {
        let (a, r) = sample_run(kind, r#"{"scheme": "int"}"#, seed);
        let t = EnergyTable::for_arch(&a).with("dram_lpddr4_pj_per_bit", 0.0);
        let e = run_energy(&a, &t, &r);
        prop_assert_eq!(e.total.dram_pj, 0.0);
        for l in &e.layers {
            prop_assert_eq!(l.dram_pj, 0.0);
            let sum: f64 = l.components().iter().map(|(_, v)| v).sum();
            prop_assert_eq!(sum, l.total_pj());
        }
        let sum: f64 = e.total.components().iter().map(|(_, v)| v).sum();
        prop_assert_eq!(sum, e.total.total_pj());
        // The network components are the layer components summed.
        let registers_layers: f64 = e.layers.iter().map(|l| l.registers_pj).sum();
        prop_assert!((registers_layers - e.total.registers_pj).abs() <= 1e-9 * e.total.registers_pj.max(1.0));
    }

    #[test]
    fn more_actions_never_cost_less(kind in 0usize..kinds(), seed in any::<u64>(), which in 0usize..13, extra in 1u64..1000) {
        let (a, r) = sample_run(kind, r#"{"scheme": "int"}"#, seed);
        let t = EnergyTable::for_arch(&a);
        let i = r.layers.iter().position(|l| l.gemm.is_some()).unwrap();
        let before = layer_energy(&a, &t, &r.layers[i]).total_pj();
        let mut l = r.layers[i].clone();
        match which {
            0 => l.actions.mults += extra,
            1 => l.actions.adds += extra,
            2 => l.actions.shifts += extra,
            3 => l.actions.weight_reg_reads += extra,
            4 => l.actions.activation_reg_writes += extra,
            5 => l.actions.psum_reg_updates += extra,
            6 => l.traffic.words.input_read += extra,
            7 => l.traffic.words.weight_read += extra,
            8 => l.traffic.words.output_write += extra,
            9 => l.traffic.dram_input_read_bytes += extra,
            10 => l.vector.mults += extra,
            11 => l.compute_cycles += extra,
            _ => l.actions.operand_selects += extra,
        }
        if which == 10 && l.vector.precision.is_none() {
            l.vector.precision = Some(a.vector.precision);
        }
        let after = layer_energy(&a, &t, &l).total_pj();
        prop_assert!(after > before, "action {which}: {after} <= {before}");
    }
}
