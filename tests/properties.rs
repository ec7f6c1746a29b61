//! Property tests of the dense engine: bounds every correct simulator satisfies, SCALE-Sim's
//! closed-form fold timing, DRAM-traffic monotonicity, and thread-count independence.
//!
//! Inputs are built as TOML/JSON text and go through the public parsers, so the properties
//! hold for what a user can write, not for hand-built structs that skip validation.

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;

use plumsim::arch::Arch;
use plumsim::engine::{self, LayerResult, RunResult};
use plumsim::workload::{parse_workload, Network};

const CASES: u32 = 128;

// ---------------------------------------------------------------- input builders

#[derive(Debug, Clone, Copy)]
struct ArchSpec {
    rows: u32,
    cols: u32,
    dataflow: &'static str,
    /// Buffer capacities in bytes (input, weight, output).
    input_bytes: u64,
    weight_bytes: u64,
    output_bytes: u64,
    dram_bytes_per_cycle: f64,
    ideal: bool,
    /// `array.tile_m`: None leaves the default (M tiled to fit the buffers on ws).
    tile_m: Option<bool>,
}

impl ArchSpec {
    fn arch(&self) -> Arch {
        let tile_m = self
            .tile_m
            .map_or(String::new(), |b| format!("tile_m = {b}"));
        let rest = format!(
            "[buffers.input]\ncapacity_bytes = {}\n[buffers.weight]\ncapacity_bytes = {}\n\
             [buffers.output]\ncapacity_bytes = {}\n[dram]\nbandwidth_bytes_per_cycle = {:?}\nideal = {}\n",
            self.input_bytes, self.weight_bytes, self.output_bytes, self.dram_bytes_per_cycle, self.ideal
        );
        common::ArchToml {
            rows: self.rows,
            cols: self.cols,
            dataflow: self.dataflow,
            array_extra: &tile_m,
            rest: &rest,
            ..Default::default()
        }
        .arch()
    }
}

#[derive(Debug, Clone, Copy)]
struct ConvSpec {
    in_channels: u64,
    h: u64,
    w: u64,
    out_channels: u64,
    kernel: (u64, u64),
    stride: (u64, u64),
    padding: (u64, u64),
    groups: u64,
}

impl ConvSpec {
    fn out_hw(&self) -> (u64, u64) {
        let o = |x: u64, k: u64, s: u64, p: u64| (x + 2 * p - k) / s + 1;
        (
            o(self.h, self.kernel.0, self.stride.0, self.padding.0),
            o(self.w, self.kernel.1, self.stride.1, self.padding.1),
        )
    }
    fn macs(&self) -> u64 {
        let (oh, ow) = self.out_hw();
        oh * ow
            * self.out_channels
            * (self.in_channels / self.groups)
            * self.kernel.0
            * self.kernel.1
    }
    fn weight_elements(&self) -> u64 {
        self.out_channels * (self.in_channels / self.groups) * self.kernel.0 * self.kernel.1
    }
    fn input_elements(&self) -> u64 {
        self.in_channels * self.h * self.w
    }
    fn layer_json(&self, name: &str, input: &str) -> String {
        format!(
            r#"{{"name": "{name}", "op": "conv2d", "inputs": ["{input}"], "output": "{name}",
                "out_channels": {oc}, "kernel": [{kh}, {kw}], "stride": [{sh}, {sw}],
                "padding": [{ph}, {pw}], "groups": {g}}}"#,
            oc = self.out_channels,
            kh = self.kernel.0,
            kw = self.kernel.1,
            sh = self.stride.0,
            sw = self.stride.1,
            ph = self.padding.0,
            pw = self.padding.1,
            g = self.groups,
        )
    }
}

/// A network of one input `x` (`[C, H, W]`) and several convs reading it, plus a matmul on
/// its own input `a` (`[M, K]`), so the layers are independent and run in parallel.
fn network(convs: &[ConvSpec], gemm: Option<(u64, u64, u64)>) -> Network {
    let mut inputs = Vec::new();
    let mut layers = Vec::new();
    if let Some(c0) = convs.first() {
        inputs.push(format!(r#""x": [{}, {}, {}]"#, c0.in_channels, c0.h, c0.w));
        for (i, c) in convs.iter().enumerate() {
            layers.push(c.layer_json(&format!("conv{i}"), "x"));
        }
    }
    if let Some((m, k, n)) = gemm {
        inputs.push(format!(r#""a": [{m}, {k}]"#));
        layers.push(format!(
            r#"{{"name": "mm", "op": "matmul", "inputs": ["a"], "output": "mm", "out_features": {n}}}"#
        ));
    }
    let text = format!(
        r#"{{"name": "prop", "batch": 1, "inputs": {{{}}}, "layers": [{}]}}"#,
        inputs.join(", "),
        layers.join(",\n")
    );
    parse_workload(&text, "prop.json").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn simulate(arch: &Arch, net: &Network) -> RunResult {
    engine::simulate(arch, net).unwrap_or_else(|e| panic!("simulate: {e}"))
}

fn pool(threads: usize) -> &'static rayon::ThreadPool {
    static ONE: OnceLock<rayon::ThreadPool> = OnceLock::new();
    static THREE: OnceLock<rayon::ThreadPool> = OnceLock::new();
    let cell = match threads {
        1 => &ONE,
        3 => &THREE,
        _ => unreachable!("pools of 1 and 3 threads only"),
    };
    cell.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    })
}

// ---------------------------------------------------------------- strategies

fn dataflow() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("ws"), Just("os"), Just("is")]
}

/// A dense array with buffers from the smallest valid (one double-buffered tile) up to 64 KiB.
fn arch_spec() -> impl Strategy<Value = ArchSpec> {
    (
        1u32..=32,
        1u32..=32,
        dataflow(),
        0u64..=3,
        0u64..=3,
        0u64..=3,
        1u32..=64,
        any::<bool>(),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(rows, cols, dataflow, si, sw, so, bw, ideal, tile_m)| {
            let pes = rows as u64 * cols as u64;
            // Minimum per validation: 2 tiles of R x C at 8 (input, weight) or 32 (output) bits.
            let size = |min: u64, step: u64| (min << (3 * step)).min(65536).max(min);
            ArchSpec {
                rows,
                cols,
                dataflow,
                input_bytes: size(2 * pes, si),
                weight_bytes: size(2 * pes, sw),
                output_bytes: size(8 * pes, so),
                dram_bytes_per_cycle: bw as f64 / 2.0,
                ideal,
                tile_m,
            }
        })
}

/// Conv shapes with stride, padding, rectangular kernels and groups; always a valid layer.
fn conv_spec() -> impl Strategy<Value = ConvSpec> {
    (
        1u64..=4,  // groups
        1u64..=6,  // in channels per group
        1u64..=8,  // out channels per group
        1u64..=20, // h
        1u64..=20, // w
        (0u64..=2, 0u64..=2),
        (1u64..=3, 1u64..=3),
        (0u64..=4, 0u64..=4),
    )
        .prop_map(|(g, cpg, opg, h, w, (ph, pw), (sh, sw), (kh, kw))| {
            // Kernel fits the padded input (and at most 5).
            let fit = |k: u64, x: u64, p: u64| 1 + k % (x + 2 * p).min(5);
            ConvSpec {
                in_channels: g * cpg,
                h,
                w,
                out_channels: g * opg,
                kernel: (fit(kh, h, ph), fit(kw, w, pw)),
                stride: (sh, sw),
                padding: (ph, pw),
                groups: g,
            }
        })
}

fn gemm_dims() -> impl Strategy<Value = (u64, u64, u64)> {
    (1u64..=300, 1u64..=300, 1u64..=300)
}

// ---------------------------------------------------------------- checks

/// Bounds any correct dense engine satisfies for a weight layer.
fn check_bounds(arch: &Arch, l: &LayerResult, expected_macs: u64) -> Result<(), TestCaseError> {
    let pes = arch.pes();
    prop_assert_eq!(l.macs, expected_macs, "{}: MACs", l.name);
    prop_assert!(
        l.compute_cycles >= l.macs.div_ceil(pes),
        "{}: {} compute cycles < ideal {} (MACs {} on {} PEs)",
        l.name,
        l.compute_cycles,
        l.macs.div_ceil(pes),
        l.macs,
        pes
    );
    prop_assert_eq!(
        l.total_cycles(),
        l.compute_cycles + l.sram_stall_cycles + l.memory_stall_cycles + l.vector.exposed_cycles
    );
    // Utilization from the raw counts (the library clamps its own figure at 1).
    let util = l.macs as f64 / (l.total_cycles() as f64 * pes as f64);
    prop_assert!(
        util > 0.0 && util <= 1.0,
        "{}: utilization {}",
        l.name,
        util
    );
    let lib_util = l.utilization(arch);
    prop_assert!(
        lib_util > 0.0 && lib_util <= 1.0,
        "{}: library utilization {}",
        l.name,
        lib_util
    );
    prop_assert!(
        (lib_util - util).abs() <= 1e-12,
        "{}: library utilization {} vs {}",
        l.name,
        lib_util,
        util
    );
    let ft = l.timing.expect("weight layers have a fold timing");
    prop_assert!(
        ft.mapping_efficiency > 0.0 && ft.mapping_efficiency <= 1.0,
        "{}: mapping efficiency {}",
        l.name,
        ft.mapping_efficiency
    );
    Ok(())
}

fn dram_bytes(l: &LayerResult) -> (u64, u64) {
    (l.traffic.dram_read_bytes(), l.traffic.dram_write_bytes())
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// 7. Cycle, utilization and mapping bounds on random convs and GEMMs, every dataflow;
    /// and the same RunResult in a 1-thread and a 3-thread pool.
    #[test]
    fn dense_bounds_hold_and_threads_do_not_matter(
        a in arch_spec(),
        convs in prop::collection::vec(conv_spec(), 1..=3),
        gemm in gemm_dims(),
    ) {
        // Every conv reads the same input `x`: give them the first conv's input shape.
        let base = convs[0];
        let convs: Vec<ConvSpec> = convs
            .into_iter()
            .map(|c| {
                let g = base.groups;
                let fit = |k: u64, x: u64, p: u64| 1 + (k - 1) % (x + 2 * p).min(5);
                ConvSpec {
                    in_channels: base.in_channels,
                    h: base.h,
                    w: base.w,
                    out_channels: g * c.out_channels.div_ceil(c.groups),
                    groups: g,
                    kernel: (fit(c.kernel.0, base.h, c.padding.0), fit(c.kernel.1, base.w, c.padding.1)),
                    ..c
                }
            })
            .collect();
        let arch = a.arch();
        let net = network(&convs, Some(gemm));
        let one = pool(1).install(|| simulate(&arch, &net));
        let three = pool(3).install(|| simulate(&arch, &net));
        prop_assert_eq!(&one, &three, "1-thread and 3-thread results differ");
        prop_assert_eq!(one.layers.len(), convs.len() + 1);
        for (c, l) in convs.iter().zip(&one.layers) {
            let g = l.gemm.expect("conv lowers to a GEMM");
            let (oh, ow) = c.out_hw();
            prop_assert_eq!((g.m, g.n, g.k, g.groups), (
                oh * ow,
                c.out_channels / c.groups,
                c.kernel.0 * c.kernel.1 * c.in_channels / c.groups,
                c.groups,
            ), "{}: GEMM lowering of {:?}", l.name, c);
            check_bounds(&arch, l, c.macs())?;
        }
        let (m, k, n) = gemm;
        check_bounds(&arch, one.layers.last().unwrap(), m * n * k)?;
        prop_assert_eq!(one.total_cycles(), one.layers.iter().map(|l| l.compute_cycles + l.sram_stall_cycles + l.memory_stall_cycles + l.vector.exposed_cycles).sum::<u64>());
    }

    /// 8. GEMM compute cycles equal SCALE-Sim's closed form folds x L.
    #[test]
    fn gemm_cycles_match_scalesim_closed_form(
        rows in 1u64..=32,
        cols in 1u64..=32,
        df in dataflow(),
        (m, k, n) in gemm_dims(),
    ) {
        let arch = ArchSpec {
            rows: rows as u32,
            cols: cols as u32,
            dataflow: df,
            input_bytes: 65536,
            weight_bytes: 65536,
            output_bytes: 65536,
            dram_bytes_per_cycle: 10.0,
            ideal: true,
            // SCALE-Sim streams all of M through every fold.
            tile_m: Some(false),
        }
        .arch();
        let run = simulate(&arch, &network(&[], Some((m, k, n))));
        let l = &run.layers[0];
        // SCALE-Sim's mapping (../shared/reference/README.md): rows x columns x time.
        let (sr, sc, t) = match df {
            "os" => (m, n, k),
            "ws" => (k, n, m),
            "is" => (k, m, n),
            _ => unreachable!(),
        };
        let folds = sr.div_ceil(rows) * sc.div_ceil(cols);
        let fold_len = if df == "os" { t + rows + cols - 2 } else { 2 * rows + cols + t - 2 };
        prop_assert_eq!(l.compute_cycles, folds * fold_len, "{} {}x{} GEMM M={} K={} N={}", df, rows, cols, m, k, n);
        prop_assert_eq!(l.memory_stall_cycles, 0, "ideal DRAM never stalls");
        let ft = l.timing.unwrap();
        prop_assert_eq!(ft.folds, folds);
        // Mapping efficiency: mean over folds of used / all PEs = Sr x Sc / (folds x R x C).
        let eff = (sr * sc) as f64 / (folds * rows * cols) as f64;
        prop_assert!((ft.mapping_efficiency - eff).abs() <= 1e-12, "mapping efficiency {} vs {}", ft.mapping_efficiency, eff);
    }

    /// 9. DRAM traffic covers every tensor at least once; bigger buffers never add DRAM
    /// traffic; more DRAM bandwidth never adds stall cycles.
    #[test]
    fn dram_traffic_is_sane_and_monotone(
        a in arch_spec(),
        conv in conv_spec(),
        gemm in gemm_dims(),
        which in 0usize..4,
        faster in 1u32..=8,
    ) {
        let net = network(&[conv], Some(gemm));
        let a = ArchSpec { ideal: false, ..a };
        let base = simulate(&a.arch(), &net);
        let (m, k, _) = gemm;
        let n = gemm.2;
        // int8 weights and activations: one byte per element.
        let tensors = [
            (conv.input_elements(), conv.weight_elements()),
            (m * k, k * n),
        ];
        for (l, (input_bytes, weight_bytes)) in base.layers.iter().zip(tensors) {
            prop_assert!(l.traffic.dram_input_read_bytes >= input_bytes,
                "{}: DRAM input bytes {} < input tensor {}", l.name, l.traffic.dram_input_read_bytes, input_bytes);
            prop_assert!(l.traffic.dram_weight_read_bytes >= weight_bytes,
                "{}: DRAM weight bytes {} < weight tensor {}", l.name, l.traffic.dram_weight_read_bytes, weight_bytes);
        }

        // Double one buffer (which < 3) or all three (which == 3).
        let mut big = a;
        if which == 0 || which == 3 { big.input_bytes *= 2; }
        if which == 1 || which == 3 { big.weight_bytes *= 2; }
        if which == 2 || which == 3 { big.output_bytes *= 2; }
        let bigger = simulate(&big.arch(), &net);
        for (s, b) in base.layers.iter().zip(&bigger.layers) {
            let (sr, sw) = dram_bytes(s);
            let (br, bw) = dram_bytes(b);
            prop_assert!(br <= sr, "{}: DRAM read bytes grew from {} to {} with bigger buffers ({})", s.name, sr, br, which);
            prop_assert!(bw <= sw, "{}: DRAM write bytes grew from {} to {} with bigger buffers ({})", s.name, sw, bw, which);
        }

        let mut fast = a;
        fast.dram_bytes_per_cycle *= 1.0 + faster as f64 / 2.0;
        let quicker = simulate(&fast.arch(), &net);
        for (s, q) in base.layers.iter().zip(&quicker.layers) {
            prop_assert!(q.memory_stall_cycles <= s.memory_stall_cycles,
                "{}: stalls grew from {} to {} at {} -> {} B/cycle", s.name, s.memory_stall_cycles,
                q.memory_stall_cycles, a.dram_bytes_per_cycle, fast.dram_bytes_per_cycle);
            prop_assert_eq!(q.compute_cycles, s.compute_cycles, "{}: bandwidth changed compute cycles", s.name);
            prop_assert_eq!(dram_bytes(q), dram_bytes(s), "{}: bandwidth changed DRAM bytes", s.name);
        }
    }
}
