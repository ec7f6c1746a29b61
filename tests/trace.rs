//! Access traces and lane timelines (`plumsim run ... --trace DIR`): a hand-checked tiny
//! layer, invariants on every PE kind and lock-step scope (SRAM rows equal the engine's
//! buffer counters, the lane timeline tiles every lane's cycles exactly, busy lane-cycles
//! equal the engine's, the trace ends at compute + memory stall cycles), the size guard,
//! and byte-identical files across runs and thread counts.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use plumsim::arch::Arch;
use plumsim::engine::{self, reference, LayerResult};
use plumsim::quant::{QuantizedTensor, Scheme};
use plumsim::trace::{self, LaneState, SramAccess, TraceSink};
use plumsim::workload::Network;

use common::{codes_for, gemm_net, plumsim, stderr};

fn arch(rows: u32, cols: u32, kind: &str, pe_extra: &str, array_extra: &str, mem: &str) -> Arch {
    common::ArchToml {
        rows,
        cols,
        kind,
        pe_extra,
        array_extra,
        rest: mem,
        ..Default::default()
    }
    .arch()
}

/// Buffers of 1 MiB, the input one single-buffered, and a 1 byte/cycle DRAM: stalls happen.
const SLOW_MEMORY: &str = "[buffers.input]\ncapacity_bytes = 1048576\ndouble_buffered = false\n\
    read_words_per_cycle = \"unlimited\"\n\
    [buffers.weight]\ncapacity_bytes = 1048576\nread_words_per_cycle = \"unlimited\"\n\
    [buffers.output]\ncapacity_bytes = 1048576\nread_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n\
    [dram]\nbandwidth_bytes_per_cycle = 1.0\n";

/// Small buffers (M-tiling, several tiles) and a 4 byte/cycle DRAM.
const SMALL_BUFFERS: &str =
    "[buffers.input]\ncapacity_bytes = 256\n[buffers.weight]\ncapacity_bytes = 4096\n\
    [buffers.output]\ncapacity_bytes = 512\n[dram]\nbandwidth_bytes_per_cycle = 4.0\n";

/// CSV text as rows of named fields, checking the header.
fn rows(csv_text: &str, header: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = csv_text.lines();
    assert_eq!(lines.next(), Some(header), "header");
    let names: Vec<&str> = header.split(',').collect();
    lines
        .map(|l| {
            names
                .iter()
                .map(|n| n.to_string())
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, key: &str) -> u64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key} = {}", row[key]))
}

/// What a trace adds up to, for comparison with the engines' counters.
#[derive(Debug, Default, PartialEq)]
struct Sums {
    /// (buffer, direction) -> rows.
    sram: BTreeMap<(String, String), u64>,
    /// (operand, direction) -> bytes.
    dram: BTreeMap<(String, String), u64>,
    /// state -> lane-cycles.
    lanes: BTreeMap<String, u64>,
    last_sram_cycle: u64,
    end: u64,
}

/// Trace the single layer of `net` and check the invariants every trace must hold; returns
/// the fast engine's result and the trace's sums.
fn check(arch: &Arch, net: &Network, codes: &[Option<QuantizedTensor>]) -> (LayerResult, Sums) {
    let fast = engine::simulate_quantized(arch, net, codes).unwrap();
    let f = fast.layers[0].clone();
    let t = trace::trace_layer(arch, net, &net.layers[0], codes[0].as_ref(), &f)
        .unwrap()
        .expect("a weight layer has a trace");
    let mut s = Sums::default();
    let sram = rows(&t.sram_csv, "cycle,buffer,direction,address,bytes");
    let mut prev = 0;
    for r in &sram {
        let c = num(r, "cycle");
        assert!(c >= prev, "SRAM rows in cycle order");
        prev = c;
        *s.sram
            .entry((r["buffer"].clone(), r["direction"].clone()))
            .or_default() += 1;
        s.last_sram_cycle = c;
    }
    for r in rows(&t.dram_csv, "cycle,operand,direction,address,bytes") {
        let b = num(&r, "bytes");
        assert!(
            (1..=trace::DRAM_BURST_BYTES).contains(&b),
            "burst bytes {b}"
        );
        *s.dram
            .entry((r["operand"].clone(), r["direction"].clone()))
            .or_default() += b;
    }
    // Every (PE, lane) has contiguous segments from cycle 0 to the end, in order.
    let mut next: BTreeMap<(u64, u64, u64), u64> = BTreeMap::new();
    for r in rows(
        &t.lanes_csv,
        "pe_row,pe_col,lane,start_cycle,end_cycle,state",
    ) {
        let key = (num(&r, "pe_row"), num(&r, "pe_col"), num(&r, "lane"));
        let (a, b) = (num(&r, "start_cycle"), num(&r, "end_cycle"));
        let at = next.entry(key).or_insert(0);
        assert_eq!(a, *at, "lane {key:?}: gap or overlap at cycle {a}");
        assert!(b > a, "lane {key:?}: empty segment at {a}");
        *at = b;
        *s.lanes.entry(r["state"].clone()).or_default() += b - a;
    }
    let units = arch.pes() * arch.pe.lanes as u64;
    assert_eq!(next.len() as u64, units, "every (PE, lane) appears");
    for (key, end) in &next {
        assert_eq!(*end, t.total_cycles, "lane {key:?} ends at the trace's end");
    }
    s.end = t.total_cycles;

    // Against the fast engine.
    let tr = &f.traffic;
    let get = |m: &BTreeMap<(String, String), u64>, a: &str, b: &str| {
        m.get(&(a.to_string(), b.to_string())).copied().unwrap_or(0)
    };
    assert_eq!(t.total_cycles, f.compute_cycles + f.memory_stall_cycles);
    assert_eq!(get(&s.sram, "input", "read"), tr.input_buffer_reads);
    assert_eq!(get(&s.sram, "weight", "read"), tr.weight_buffer_reads);
    assert_eq!(get(&s.sram, "output", "write"), tr.output_buffer_writes);
    assert_eq!(get(&s.sram, "output", "read"), tr.output_buffer_reads);
    assert_eq!(get(&s.dram, "input", "read"), tr.dram_input_read_bytes);
    assert_eq!(get(&s.dram, "weight", "read"), tr.dram_weight_read_bytes);
    assert_eq!(get(&s.dram, "output", "write"), tr.dram_output_write_bytes);
    assert_eq!(get(&s.dram, "psum", "read"), tr.dram_psum_read_bytes);
    assert_eq!(get(&s.dram, "psum", "write"), tr.dram_psum_write_bytes);
    assert!(s.last_sram_cycle < t.total_cycles);
    let lane = |st: &str| s.lanes.get(st).copied().unwrap_or(0);
    assert_eq!(lane("busy"), f.actions.busy_lane_cycles, "busy lane-cycles");
    assert_eq!(lane("memory_stall"), f.memory_stall_cycles * units);
    // Not busy while streaming = the engine's idle lane-cycles; weight loads are idle too.
    let load = arch.rows as u64 * arch.pe.weights_per_lane as u64;
    let folds = f.timing.unwrap().folds;
    assert_eq!(
        lane("lockstep_wait") + lane("idle"),
        f.actions.idle_lane_cycles + folds * load * units
    );
    (f, s)
}

/// A hand-written ternary tensor of `filters` x `k` codes, 2 bits per code.
fn ternary_codes(filters: &[&[i16]]) -> Vec<Option<QuantizedTensor>> {
    let k = filters[0].len();
    vec![Some(QuantizedTensor {
        scheme: Scheme::Ternary {
            threshold_factor: 0.7,
        },
        shape: vec![filters.len() as u64, k as u64],
        codes: filters.iter().flat_map(|f| f.iter().copied()).collect(),
        scales: vec![1.0; filters.len()],
        groups: None,
        storage_bits: 2 * (filters.len() * k) as u64,
        scale_absorbed: false,
        derived: Default::default(),
    })]
}

// The tiny layer: M = 4, K = 4, N = 2 on a 1 x 2 array of ternary PEs with 2 lanes x 2
// slots, so each PE holds a whole filter. Filter 0 = [1, 1, -1, 0] (nnz 3: 2 cycles per
// step), filter 1 = [0, 0, 1, 0] (nnz 1: 1 cycle). Array lock-step over 5 wavefront steps:
// 2 + 3 x 2 + 1 = 9 cycles, plus the 1 x 2-cycle weight load: 11 compute cycles.
// DRAM at 1 byte/cycle: input 16 bytes single-buffered (16 cycles), weights 2 bytes of codes
// and 1 of skip index (4 scheduled non-zeros x 1 bit, lane-private skipping over 2 slots,
// rounded up) and outputs 8 bytes double-buffered (11 cycles, the 11-cycle fold's length): stall = 11 (first fold's
// prologue) + 16 = 27. The layer ends at cycle 38.
#[test]
fn tiny_layer_trace_by_hand() {
    let a = arch(
        1,
        2,
        "ternary",
        "lanes = 2\nweights_per_lane = 2",
        "",
        SLOW_MEMORY,
    );
    let net = gemm_net(4, 4, 2, r#"{"scheme": "ternary"}"#);
    let codes = ternary_codes(&[&[1, 1, -1, 0], &[0, 0, 1, 0]]);
    let (f, s) = check(&a, &net, &codes);
    assert_eq!(f.compute_cycles, 11);
    assert_eq!(f.memory_stall_cycles, 27);
    assert_eq!(s.end, 38);
    // Input: every row's 4 activations once (one column fold); weights: 8 codes; outputs:
    // 4 x 2 partial sums written, none read back (one row fold).
    let sram: Vec<((&str, &str), u64)> = s
        .sram
        .iter()
        .map(|((b, d), n)| ((b.as_str(), d.as_str()), *n))
        .collect();
    assert_eq!(
        sram,
        vec![
            (("input", "read"), 16),
            (("output", "write"), 8),
            (("weight", "read"), 8)
        ]
    );
    // Busy: (3 + 1) non-zero weights x 4 rows; stall: 27 cycles x 4 lanes; load: 2 x 4.
    let lanes: Vec<(&str, u64)> = s.lanes.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        lanes,
        vec![
            ("busy", 16),
            ("idle", 8),
            ("lockstep_wait", 9 * 4 - 16),
            ("memory_stall", 108)
        ]
    );
}

/// The tiny layer's files, row by row where a human can check them.
#[test]
fn tiny_layer_trace_rows() {
    let a = arch(
        1,
        2,
        "ternary",
        "lanes = 2\nweights_per_lane = 2",
        "",
        SLOW_MEMORY,
    );
    let net = gemm_net(4, 4, 2, r#"{"scheme": "ternary"}"#);
    let codes = ternary_codes(&[&[1, 1, -1, 0], &[0, 0, 1, 0]]);
    let f = engine::simulate_quantized(&a, &net, &codes).unwrap().layers[0].clone();
    let t = trace::trace_layer(&a, &net, &net.layers[0], codes[0].as_ref(), &f)
        .unwrap()
        .unwrap();
    // The stall plan: the whole 27 before the only fold.
    assert_eq!(trace::stall_plan(&a, &f), vec![27]);
    // Weight load at cycles 27 and 28: slot 0 (k = 0, 1) then slot 1 (k = 2, 3) of both
    // filters; address = 10,000,000 + k x N + n; the 2-bit codes take 1 byte per access.
    let sram: Vec<&str> = t.sram_csv.lines().collect();
    assert_eq!(
        &sram[..9],
        &[
            "cycle,buffer,direction,address,bytes",
            "27,weight,read,10000000,1",
            "27,weight,read,10000002,1",
            "27,weight,read,10000001,1",
            "27,weight,read,10000003,1",
            "28,weight,read,10000004,1",
            "28,weight,read,10000006,1",
            "28,weight,read,10000005,1",
            "28,weight,read,10000007,1",
        ]
    );
    // Row 0 enters at cycle 29 (input addresses m x K + k); PE (0, 0) finishes it after 2
    // cycles and writes partial sum (m 0, n 0) at 32-bit width.
    assert_eq!(
        &sram[9..14],
        &[
            "29,input,read,0,1",
            "29,input,read,1,1",
            "29,input,read,2,1",
            "29,input,read,3,1",
            "30,output,write,20000000,4",
        ]
    );
    // PE (0, 1), lane 0: stalls, loads, waits for row 0 to reach it (2 cycles), then
    // busy on its single non-zero for 1 cycle of each 2-cycle wavefront step.
    let lane01: Vec<&str> = t
        .lanes_csv
        .lines()
        .filter(|l| l.starts_with("0,1,0,"))
        .collect();
    assert_eq!(
        lane01,
        vec![
            "0,1,0,0,27,memory_stall",
            "0,1,0,27,29,idle",
            "0,1,0,29,31,lockstep_wait",
            "0,1,0,31,32,busy",
            "0,1,0,32,33,lockstep_wait",
            "0,1,0,33,34,busy",
            "0,1,0,34,35,lockstep_wait",
            "0,1,0,35,36,busy",
            "0,1,0,36,37,lockstep_wait",
            "0,1,0,37,38,busy",
        ]
    );
    // PE (0, 1), lane 1 holds k = 1 and 3 (both zero): it never works but holds weights, so
    // it waits on its PE from the first row on.
    assert!(t
        .lanes_csv
        .lines()
        .any(|l| l == "0,1,1,29,38,lockstep_wait"));
    // DRAM: input (single-buffered) from cycle 0, then the weights, at 1 byte/cycle; the
    // outputs are written back once the fold ends.
    assert_eq!(
        t.dram_csv,
        "cycle,operand,direction,address,bytes\n0,input,read,0,16\n16,weight,read,10000000,3\n38,output,write,20000000,8\n"
    );
}

/// Invariants on other PE kinds, lock-step scopes, row folds (partial sums read back),
/// M-tiling and several column folds.
#[test]
fn trace_invariants_across_kinds_and_scopes() {
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        (
            "dense",
            "lanes = 2\nweights_per_lane = 2",
            "",
            r#"{"scheme": "int", "weight_bits": 8}"#,
            SLOW_MEMORY,
        ),
        (
            "ternary",
            "lanes = 4\nweights_per_lane = 2",
            "sync_scope = \"row\"",
            r#"{"scheme": "ternary"}"#,
            SMALL_BUFFERS,
        ),
        (
            "bit_sparse",
            "lanes = 2\nweights_per_lane = 3",
            "sync_scope = \"lane\"",
            r#"{"scheme": "int", "weight_bits": 4}"#,
            SMALL_BUFFERS,
        ),
        (
            "bit_sparse",
            "lanes = 2\nweights_per_lane = 2",
            "sync_scope = \"column\"\nschedule = false",
            r#"{"scheme": "int", "weight_bits": 6}"#,
            SLOW_MEMORY,
        ),
        (
            "swis",
            "lanes = 4\nweights_per_lane = 2",
            "sync_scope = \"pe\"",
            r#"{"scheme": "swis", "group_size": 4, "shared_bits": 2}"#,
            SMALL_BUFFERS,
        ),
        (
            "signed_binary",
            "lanes = 4\nexploit_repetition = true",
            "",
            r#"{"scheme": "signed_binary"}"#,
            SMALL_BUFFERS,
        ),
    ];
    for &(kind, pe, array, quant, mem) in cases {
        let a = arch(3, 2, kind, pe, array, mem);
        let net = gemm_net(9, 30, 5, quant);
        let codes = codes_for(&net, 7);
        let (f, s) = check(&a, &net, &codes);
        let ft = f.timing.unwrap();
        assert!(
            ft.row_folds > 1 && ft.col_folds > 1,
            "{kind}: several folds"
        );
        assert!(
            s.sram
                .contains_key(&("output".to_string(), "read".to_string())),
            "{kind}: partial sums read back"
        );
        assert!(f.memory_stall_cycles > 0, "{kind}: memory stalls traced");
    }
}

/// Counts events, to check the sink does not change the simulation.
#[derive(Default)]
struct Count {
    folds: u64,
    sram: u64,
    lane_cycles: u64,
}

impl TraceSink for Count {
    fn fold_start(&mut self, _: u64) {
        self.folds += 1;
    }
    fn sram(&mut self, _: SramAccess) {
        self.sram += 1;
    }
    fn lanes(&mut self, start: u64, end: u64, _: u32, _: u32, _: u32, _: LaneState) {
        self.lane_cycles += end - start;
    }
}

#[test]
fn tracing_does_not_change_the_reference_engine() {
    let a = arch(
        4,
        3,
        "bit_sparse",
        "lanes = 2\nweights_per_lane = 2",
        "sync_scope = \"row\"",
        SMALL_BUFFERS,
    );
    let net = gemm_net(11, 37, 7, r#"{"scheme": "int", "weight_bits": 5}"#);
    let codes = codes_for(&net, 3);
    let plain = reference::simulate_layer(&a, &net, &net.layers[0], codes[0].as_ref())
        .unwrap()
        .unwrap();
    let mut count = Count::default();
    let traced =
        reference::simulate_layer_traced(&a, &net, &net.layers[0], codes[0].as_ref(), &mut count)
            .unwrap()
            .unwrap();
    assert_eq!(plain, traced);
    assert_eq!(count.folds, plain.folds);
    assert_eq!(
        count.sram,
        plain.input_buffer_reads
            + plain.weight_buffer_reads
            + plain.output_buffer_reads
            + plain.output_buffer_writes
    );
    // Every lane, every compute cycle (no stalls here: the reference engine has none).
    assert_eq!(count.lane_cycles, plain.compute_cycles * a.pes() * 2);
}

#[test]
fn size_guard_estimate_and_message() {
    let a = arch(
        1,
        2,
        "ternary",
        "lanes = 2\nweights_per_lane = 2",
        "",
        SLOW_MEMORY,
    );
    let net = gemm_net(4, 4, 2, r#"{"scheme": "ternary"}"#);
    let codes = ternary_codes(&[&[1, 1, -1, 0], &[0, 0, 1, 0]]);
    let f = engine::simulate_quantized(&a, &net, &codes).unwrap().layers[0].clone();
    let e = trace::estimate(&a, &f).unwrap();
    assert_eq!(e.sram_rows, 32, "exact: the buffer accesses");
    // 26 bytes in 64-byte bursts + up to one partial burst per operand and fold.
    assert_eq!(e.dram_rows, 1 + 5);
    // The real trace has 26 lane segments; the estimate is an upper bound.
    assert!(
        e.lane_rows >= 26 && e.lane_rows <= 37 * 4,
        "{}",
        e.lane_rows
    );
    assert!(trace::check_limit(&[("mm", e)], 1).is_ok());
    let err = trace::check_limit(
        &[
            ("mm", e),
            (
                "big",
                trace::TraceEstimate {
                    bytes: 3_000_000,
                    ..e
                },
            ),
        ],
        2,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("layer `big`"), "{err}");
    assert!(err.contains("above the limit of 2 MB"), "{err}");
    assert!(err.contains("--trace-limit-mb N"), "{err}");
    assert!(err.contains("--layer NAME"), "{err}");
}

// ---------------------------------------------------------------- the binary

/// A tiny design and a two-layer workload (matmul, relu, matmul) in `dir`.
fn tiny_files(dir: &Path) -> (String, String) {
    let arch = dir.join("tiny.toml");
    std::fs::write(
        &arch,
        common::ArchToml {
            rows: 2,
            cols: 2,
            kind: "ternary",
            pe_extra: "lanes = 2\nweights_per_lane = 2",
            rest: SMALL_BUFFERS,
            ..Default::default()
        }
        .text(),
    )
    .unwrap();
    let wl = dir.join("two.json");
    std::fs::write(
        &wl,
        r#"{"name": "two", "inputs": {"a": [6, 12]}, "defaults": {"quant": {"scheme": "ternary"}},
            "layers": [{"name": "fc1", "op": "matmul", "inputs": ["a"], "output": "h", "out_features": 5},
                       {"name": "act", "op": "relu", "inputs": ["h"], "output": "r"},
                       {"name": "fc2", "op": "matmul", "inputs": ["r"], "output": "y", "out_features": 3}]}"#,
    )
    .unwrap();
    (arch.display().to_string(), wl.display().to_string())
}

fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn cli_traces_every_weight_layer_byte_identical_across_runs_and_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (arch, wl) = tiny_files(tmp.path());
    let mut seen = Vec::new();
    for (run, threads) in [("a", "1"), ("b", "2"), ("c", "2")] {
        let tr = tmp.path().join(format!("traces_{run}"));
        let out = tmp.path().join(format!("out_{run}"));
        let o = plumsim(&[
            "run",
            &arch,
            &wl,
            "--out",
            &out.display().to_string(),
            "--trace",
            &tr.display().to_string(),
            "--threads",
            threads,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        seen.push(files_in(&tr));
    }
    let names: Vec<&str> = seen[0].keys().map(String::as_str).collect();
    assert_eq!(
        names,
        vec![
            "fc1_dram.csv",
            "fc1_lanes.csv",
            "fc1_sram.csv",
            "fc2_dram.csv",
            "fc2_lanes.csv",
            "fc2_sram.csv"
        ]
    );
    assert_eq!(seen[0], seen[1], "--threads 1 and 2");
    assert_eq!(seen[1], seen[2], "two runs");
    let lanes = String::from_utf8(seen[0]["fc1_lanes.csv"].clone()).unwrap();
    assert!(lanes.starts_with("pe_row,pe_col,lane,start_cycle,end_cycle,state\n"));
}

#[test]
fn cli_trace_one_layer_and_bad_layer_names() {
    let tmp = tempfile::tempdir().unwrap();
    let (arch, wl) = tiny_files(tmp.path());
    let tr = tmp.path().join("traces");
    let trs = tr.display().to_string();
    let out = tmp.path().join("out").display().to_string();
    let o = plumsim(&[
        "run", &arch, &wl, "--out", &out, "--trace", &trs, "--layer", "fc2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        files_in(&tr).keys().cloned().collect::<Vec<_>>(),
        vec!["fc2_dram.csv", "fc2_lanes.csv", "fc2_sram.csv"]
    );
    std::fs::remove_dir_all(&tr).unwrap();
    let o = plumsim(&[
        "run", &arch, &wl, "--out", &out, "--trace", &trs, "--layer", "act",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(
            "layer `act`: a relu layer: it runs on the vector unit and has no array trace"
        ),
        "{}",
        stderr(&o)
    );
    let o = plumsim(&[
        "run", &arch, &wl, "--out", &out, "--trace", &trs, "--layer", "fc9",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no layer `fc9`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("fc1, fc2"), "{}", stderr(&o));
    assert!(!tr.exists(), "no trace files after a failed run");
}

#[test]
fn cli_size_guard_refuses_a_big_layer_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let tr = tmp.path().join("traces");
    let out = tmp.path().join("out");
    let o = plumsim(&[
        "run",
        "arch/swis_pe16.toml",
        "workloads/resnet18.json",
        "--out",
        &out.display().to_string(),
        "--trace",
        &tr.display().to_string(),
        "--layer",
        "layer1.0.conv1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("layer `layer1.0.conv1`: its trace would be about"),
        "{err}"
    );
    assert!(err.contains("SRAM accesses"), "{err}");
    assert!(err.contains("above the limit of 512 MB"), "{err}");
    assert!(
        err.contains(
            "pick a smaller layer with --layer NAME or raise the limit with --trace-limit-mb N"
        ),
        "{err}"
    );
    assert!(!tr.exists(), "no trace files");
    assert!(!out.exists(), "no result files");
}
