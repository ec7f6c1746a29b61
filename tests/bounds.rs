//! Sizes and rates that cannot wrap: inside the documented bounds, MACs and cycles equal exact
//! (128-bit) arithmetic; outside them, validation refuses with the bound named; a design
//! too slow for a layer is refused rather than reported with a saturated count.

mod common;

use proptest::prelude::*;

use plumsim::engine::simulate;
use plumsim::workload::{parse_workload, MAX_DIM, MAX_LAYER_MACS, MAX_TENSOR_ELEMENTS};

use common::ArchToml;

/// Buffers as large as allowed with unlimited ports and an ideal DRAM: M is never tiled, so
/// dense weight-stationary cycles follow SCALE-Sim's closed form.
const HUGE_MEMORY: &str = concat!(
    "[buffers.input]\ncapacity_bytes = 1125899906842624\n",
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n",
    "[buffers.weight]\ncapacity_bytes = 1125899906842624\n",
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n",
    "[buffers.output]\ncapacity_bytes = 1125899906842624\n",
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n",
    "[dram]\nideal = true\n"
);

fn conv_net(c: u64, h: u64, w: u64, out: u64, k: u64, stride: u64, pad: u64) -> String {
    conv_batch(1, c, h, w, out, k, stride, pad)
}

#[allow(clippy::too_many_arguments)]
fn conv_batch(b: u64, c: u64, h: u64, w: u64, out: u64, k: u64, stride: u64, pad: u64) -> String {
    format!(
        r#"{{"name": "b", "batch": {b}, "inputs": {{"x": [{c}, {h}, {w}]}},
            "layers": [{{"name": "c", "op": "conv2d", "inputs": ["x"], "output": "y",
                         "out_channels": {out}, "kernel": {k}, "stride": {stride}, "padding": {pad}}}]}}"#
    )
}

fn refused(text: &str) -> String {
    match parse_workload(text, "b.json") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn sizes_beyond_the_bounds_are_refused_with_the_bound_named() {
    // The audit's reproducers: each was a panic or a wrapped MAC count.
    let e = refused(&conv_net(3, 8, 8, 1 << 62, 3, 1, 1));
    assert!(e.contains("out_channels") && e.contains("2^24"), "{e}");
    let e = refused(&conv_net(3, 8, 8, 2147483648, 3, 1, 1));
    assert!(e.contains("out_channels"), "{e}");
    let e = refused(&conv_net(3, 8, 8, 16, 3, 1, 1 << 62));
    assert!(e.contains("padding") && e.contains("2^24"), "{e}");
    let e = refused(&conv_net(4, 1 << 62, 8, 16, 3, 1, 1));
    assert!(e.contains("inputs.x") && e.contains("2^24"), "{e}");
    let e = refused(&conv_net(3, i64::MAX as u64, 8, 16, 3, 1, 1));
    assert!(e.contains("inputs.x"), "{e}");
    // Within every per-dimension bound, but the tensor is too large.
    let e = refused(&conv_net(1 << 20, 1 << 10, 1 << 10, 16, 1, 1, 0));
    assert!(e.contains("elements") && e.contains("2^32"), "{e}");
    // A layer whose MACs exceed the bound (16 x 2^20 pixels x 961 x 256 x 256 = 9.0e14):
    // the exact product is named.
    let e = refused(&conv_batch(16, 256, 1024, 1024, 256, 31, 1, 15));
    assert!(
        e.contains("MACs exceeds the 2^48 MAC count") && e.contains("16777216 x 246016 x 256"),
        "{e}"
    );
    // Too many weights: 2^24 x 2^7 inputs.
    let e = refused(&conv_net(128, 4, 4, 1 << 24, 1, 1, 0));
    assert!(e.contains("weights") && e.contains("2^30"), "{e}");
    let linear = format!(
        r#"{{"name": "b", "inputs": {{"x": [16, 1, 1]}},
            "layers": [{{"name": "fc", "op": "linear", "inputs": ["x"], "output": "y", "out_features": {}}}]}}"#,
        1u64 << 62
    );
    let e = refused(&linear);
    assert!(e.contains("out_features"), "{e}");
}

#[test]
fn float_fields_have_physical_ranges() {
    let memory = common::BIG_MEMORY.replace("[dram]\nideal = true\n", "");
    for (top, table, expect) in [
        ("clock_mhz = 1e-300", "", "clock_mhz"),
        ("clock_mhz = 1e300", "", "clock_mhz"),
        (
            "",
            "[dram]\nbandwidth_bytes_per_cycle = 1e-15",
            "dram.bandwidth_bytes_per_cycle",
        ),
        ("", "[energy]\ntech_scale = 1e308", "energy.tech_scale"),
        ("", "[area]\ntech_scale = 0.0", "area.tech_scale"),
        (
            "",
            "[energy]\nint_mult_8b_pj = 1e30",
            "energy.int_mult_8b_pj",
        ),
    ] {
        let rest = format!("{memory}{table}\n");
        let text = format!(
            "{top}\n{}",
            ArchToml {
                rows: 4,
                cols: 4,
                rest: &rest,
                ..Default::default()
            }
            .text()
        );
        let e = match plumsim::design::parse_arch(&text, "t.toml") {
            Ok(_) => panic!("accepted {top}{table}"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains(expect) && e.contains("out of range"),
            "{top}{table}: {e}"
        );
    }
}

#[test]
fn the_slowest_dram_gives_exact_stalls_not_saturated_ones() {
    // The audit: at 1e-15 B/cycle ResNet-18 reported 2^64 - 21 stall cycles and a total below
    // the one at 10 B/cycle. The slowest DRAM allowed now is 1/1024 B/cycle; stalls grow
    // with the bytes moved, and the total is their exact sum with compute.
    let at = |bw: &str| {
        let rest = format!(
            "{}\n[dram]\nbandwidth_bytes_per_cycle = {bw}\n",
            common::BIG_MEMORY.replace("[dram]\nideal = true\n", "")
        );
        let arch = ArchToml {
            rows: 4,
            cols: 4,
            rest: &rest,
            ..Default::default()
        }
        .arch();
        let net = parse_workload(&conv_net(64, 56, 56, 64, 3, 1, 1), "b.json").unwrap();
        simulate(&arch, &net).unwrap()
    };
    let (slow, fast) = (at("0.0009765625"), at("10.0"));
    let l = &slow.layers[0];
    let bytes = l.traffic.dram_read_bytes() + l.traffic.dram_write_bytes();
    assert!(
        l.memory_stall_cycles >= bytes * 1024 - l.compute_cycles,
        "{l:?}"
    );
    assert!(slow.total_cycles() > fast.total_cycles());
    assert_eq!(
        l.total_cycles(),
        l.compute_cycles + l.sram_stall_cycles + l.memory_stall_cycles + l.vector.exposed_cycles
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Random GEMM sizes, some beyond the MAC bound: validation accepts exactly those within
    /// it, and for those the engine's MACs and dense weight-stationary cycles equal exact
    /// arithmetic (SCALE-Sim's closed form, in 128 bits).
    #[test]
    fn macs_and_cycles_equal_exact_arithmetic(
        m_log in 0u32..27, k in 1u64..4096, n in 1u64..4096, batch_log in 0u32..20,
        rows in 1u32..64, cols in 1u32..64,
    ) {
        let m = (1u64 << m_log) + (m_log as u64 * 7919) % (1u64 << m_log);
        let batch = 1u64 << batch_log;
        let text = format!(
            r#"{{"name": "g", "batch": {batch}, "inputs": {{"a": [{m}, {k}]}},
                "layers": [{{"name": "mm", "op": "matmul", "inputs": ["a"], "output": "y", "out_features": {n}}}]}}"#
        );
        let exact = batch as u128 * m as u128 * k as u128 * n as u128;
        let parsed = parse_workload(&text, "g.json");
        let elements = (batch * m) as u128 * k.max(n) as u128;
        if m > MAX_DIM || exact > MAX_LAYER_MACS as u128 || elements > MAX_TENSOR_ELEMENTS as u128 {
            prop_assert!(parsed.is_err(), "accepted {m} x {k} x {n}");
            return Ok(());
        }
        let net = parsed.unwrap();
        let arch = ArchToml { rows, cols, rest: HUGE_MEMORY, ..Default::default() }.arch();
        let r = simulate(&arch, &net).unwrap();
        prop_assert_eq!(r.macs() as u128, exact);
        let (rows, cols) = (rows as u128, cols as u128);
        let folds = (k as u128).div_ceil(rows) * (n as u128).div_ceil(cols);
        let cycles = folds * (2 * rows + cols + batch as u128 * m as u128 - 2);
        prop_assert_eq!(r.layers[0].compute_cycles as u128, cycles);
    }
}
