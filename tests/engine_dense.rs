//! Hand-computed cycles and traffic of small GEMMs on the dense systolic engine.

mod common;

use plumsim::arch::Arch;
use plumsim::engine::{simulate, RunResult};
use plumsim::workload::{parse_workload, Network};

use common::ArchToml;

/// Three 64 KiB buffers and an ideal DRAM.
const MEMORY_64K: &str =
    "[buffers.input]\ncapacity_bytes = 65536\n[buffers.weight]\ncapacity_bytes = 65536\n\
    [buffers.output]\ncapacity_bytes = 65536\n[dram]\nideal = true\n";

fn arch(rows: u32, cols: u32, dataflow: &str) -> Arch {
    ArchToml {
        rows,
        cols,
        dataflow,
        rest: MEMORY_64K,
        ..Default::default()
    }
    .arch()
}

/// A 2x2 weight-stationary dense array with `array_extra` and the memory `rest`.
fn small(array_extra: &str, rest: &str) -> Arch {
    ArchToml {
        rows: 2,
        cols: 2,
        array_extra,
        rest,
        ..Default::default()
    }
    .arch()
}

fn gemm_net(m: u64, k: u64, n: u64) -> Network {
    common::gemm_net(m, k, n, "{}")
}

fn run(a: &Arch, net: &Network) -> RunResult {
    simulate(a, net).unwrap()
}

#[test]
fn weight_stationary_small_gemm() {
    // M=5, N=3, K=4 on 2x2: Sr = K = 4 -> 2 row folds, Sc = N = 3 -> 2 col folds,
    // each fold 2R + C + T - 2 = 4 + 2 + 5 - 2 = 9 cycles: 36.
    let r = run(&arch(2, 2, "ws"), &gemm_net(5, 4, 3));
    let l = &r.layers[0];
    assert_eq!(l.timing.unwrap().folds, 4);
    assert_eq!(l.timing.unwrap().fold_cycles, 9);
    assert_eq!(l.compute_cycles, 36);
    assert_eq!(l.macs, 60);
    // Mapping: folds use (2x2, 2x1, 2x2, 2x1) PEs: mean 12/16.
    assert_eq!(l.timing.unwrap().mapping_efficiency, 0.75);
    // SRAM: inputs M*K per column fold, weights once, outputs M*N per row fold.
    assert_eq!(l.traffic.input_buffer_reads, 5 * 4 * 2);
    assert_eq!(l.traffic.weight_buffer_reads, 12);
    assert_eq!(l.traffic.output_buffer_writes, 15 * 2);
    assert_eq!(l.traffic.output_buffer_reads, 15);
}

#[test]
fn output_stationary_small_gemm() {
    // Sr = M = 5 -> 3, Sc = N = 3 -> 2: 6 folds of T + R + C - 2 = 4 + 2 + 2 - 2 = 6.
    let r = run(&arch(2, 2, "os"), &gemm_net(5, 4, 3));
    assert_eq!(r.layers[0].timing.unwrap().folds, 6);
    assert_eq!(r.layers[0].compute_cycles, 36);
    assert_eq!(r.layers[0].traffic.output_buffer_writes, 15);
}

#[test]
fn input_stationary_small_gemm() {
    // Sr = K = 4 -> 2, Sc = M = 5 -> 3: 6 folds of 2R + C + T - 2 = 4 + 2 + 3 - 2 = 7.
    let r = run(&arch(2, 2, "is"), &gemm_net(5, 4, 3));
    assert_eq!(r.layers[0].timing.unwrap().folds, 6);
    assert_eq!(r.layers[0].compute_cycles, 42);
    // Weights re-read once per M-fold.
    assert_eq!(r.layers[0].traffic.weight_buffer_reads, 12 * 3);
}

#[test]
fn depthwise_groups_run_one_after_another() {
    // Depthwise 3x3 over 4 channels of 6x6 (pad 1): each group is M=36, K=9, N=1.
    // On 4x4 ws: Sr = 9 -> 3 row folds, Sc = 1 -> 1; 4 groups: 12 folds of 8 + 4 + 36 - 2 = 46.
    let net = r#"{"name": "dw", "inputs": {"x": [4, 6, 6]},
        "layers": [{"name": "dw", "op": "conv2d", "inputs": ["x"], "output": "y",
                    "out_channels": 4, "kernel": 3, "padding": 1, "groups": 4}]}"#;
    let r = run(&arch(4, 4, "ws"), &parse_workload(net, "dw.json").unwrap());
    let g = r.layers[0].gemm.unwrap();
    assert_eq!((g.m, g.n, g.k, g.groups), (36, 1, 9, 4));
    assert_eq!(r.layers[0].timing.unwrap().folds, 12);
    assert_eq!(r.layers[0].compute_cycles, 12 * 46);
}

/// Ports that serve any demand (this file's DRAM tests are about DRAM alone).
const UNLIMITED: &str =
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n";

#[test]
fn buffer_ports_stall_the_array_by_hand() {
    // ws, 2x2 dense PEs of 1 lane x 2 slots, M=6 K=8 N=2, int8, 32-bit partial sums, ideal
    // DRAM. K = 8 in chunks of 2: 4 chunks -> 2 row folds, 1 column fold. A fold loads 2 x 2
    // slots (4 cycles) and streams 6 steps of 2 cycles: wavefront 6 + 2 + 2 - 2 = 8 steps x 2
    // = 16 cycles; 2 folds x 20 = 40 compute cycles.
    // Ports, 16-bit words: inputs per step 2 rows x 2 activations x 8 bits = 2 words; at
    // 0.25 words/cycle a fold's 12 words take 48 cycles: 32 more than its 16 -> 64 stall
    // cycles. Weights: a load moves 2 rows x 2 filters x 2 x 8 bits = 4 words at 1 a cycle =
    // 4 cycles, no stall. Partial sums: 2 x 32 bits = 4 words a step written (24 a fold) at
    // 2 words/cycle = 12 cycles, and read back in the second fold at the same rate: no stall.
    let mem = "[buffers.input]\ncapacity_bytes = 4096\nword_bits = 16\nread_words_per_cycle = 0.25\n\
               [buffers.weight]\ncapacity_bytes = 4096\nword_bits = 16\n\
               [buffers.output]\ncapacity_bytes = 4096\nword_bits = 16\nread_words_per_cycle = 2.0\nwrite_words_per_cycle = 2.0\n\
               [dram]\nideal = true\n";
    let a = common::ArchToml {
        rows: 2,
        cols: 2,
        pe_extra: "weights_per_lane = 2",
        rest: mem,
        ..Default::default()
    }
    .arch();
    let r = run(&a, &gemm_net(6, 8, 2));
    let l = &r.layers[0];
    assert_eq!(l.compute_cycles, 40);
    assert_eq!(l.sram_stall_cycles, 64);
    assert_eq!(l.total_cycles(), 104);
    let w = l.traffic.words;
    assert_eq!(
        (w.input_read, w.weight_read, w.output_write, w.output_read),
        (24, 8, 48, 24)
    );
    // The same design with unlimited ports does not stall.
    let free = common::ArchToml {
        rows: 2,
        cols: 2,
        pe_extra: "weights_per_lane = 2",
        rest: &mem.replace(
            "read_words_per_cycle = 0.25",
            "read_words_per_cycle = \"unlimited\"",
        ),
        ..Default::default()
    }
    .arch();
    assert_eq!(
        run(&free, &gemm_net(6, 8, 2)).layers[0].sram_stall_cycles,
        0
    );
}

#[test]
fn dram_traffic_spills_and_stalls_by_hand() {
    // ws, 2x2, M=5 K=4 N=3, int8 activations and weights, 32-bit partial sums, 1 B/cycle,
    // all of M streamed through every fold (no M-tiling).
    // Input 20 B > usable 8 B (16 B double-buffered): re-read per column fold -> 40 B.
    // Weights 12 B of codes + 3 per-filter fp32 scales = 24 B, once. Outputs 15 B. Partial-sum tile M x min(N,C) x 4 B = 40 B > 32 B
    // usable: spill 15 x (2 - 1) x 4 = 60 B written and 60 B read back.
    let a = small(
        "tile_m = false",
        &format!(
            "[buffers.input]\ncapacity_bytes = 16\n{UNLIMITED}[buffers.weight]\ncapacity_bytes = 64\n{UNLIMITED}\
             [buffers.output]\ncapacity_bytes = 64\n{UNLIMITED}[dram]\nbandwidth_bytes_per_cycle = 1.0\n"
        ),
    );
    let r = run(&a, &gemm_net(5, 4, 3));
    let t = r.layers[0].traffic;
    assert_eq!(t.input_passes, 2);
    assert_eq!(t.dram_input_read_bytes, 40);
    assert_eq!(t.dram_weight_read_bytes, 24);
    assert_eq!(t.dram_output_write_bytes, 15);
    assert_eq!(t.dram_psum_write_bytes, 60);
    assert_eq!(t.dram_psum_read_bytes, 60);
    // 199 B over 4 folds = 49.75 cycles a fold against 9 compute cycles, all double-buffered:
    // stall = first fold's 49.75 + 4 x (49.75 - 9) = 212.75 -> 213.
    assert_eq!(r.layers[0].memory_stall_cycles, 213);
    assert_eq!(r.layers[0].total_cycles(), 36 + 213);
}

#[test]
fn single_buffered_transfers_serialize_with_compute() {
    // Same layer, large single-buffered buffers: everything fits, 24 + 20 + 15 = 59 B,
    // 4 folds of 14.75 B at 1 B/cycle that cannot overlap compute: 59 stall cycles.
    let a = small(
        "",
        "[buffers.input]\ncapacity_bytes = 4096\ndouble_buffered = false\n\
         [buffers.weight]\ncapacity_bytes = 4096\ndouble_buffered = false\n\
         [buffers.output]\ncapacity_bytes = 4096\ndouble_buffered = false\n\
         [dram]\nbandwidth_bytes_per_cycle = 1.0\n",
    );
    let r = run(&a, &gemm_net(5, 4, 3));
    assert_eq!(
        r.layers[0].traffic.dram_read_bytes() + r.layers[0].traffic.dram_write_bytes(),
        59
    );
    assert_eq!(r.layers[0].memory_stall_cycles, 59);
}

#[test]
fn m_tiling_keeps_partial_sums_on_chip_by_hand() {
    // Same layer and buffers with M-tiling: input rows are 4 B each (20 B / 5) and 8 B usable
    // -> 2 rows; partial sums of a row are min(N, C) x 4 B = 8 B and 32 B usable -> 4 rows.
    // Tile = 2 rows: tiles of 2, 2, 1. Each tile reloads the 4 folds' weights (2 cycles).
    let a = small(
        "",
        "[buffers.input]\ncapacity_bytes = 16\n[buffers.weight]\ncapacity_bytes = 64\n\
         [buffers.output]\ncapacity_bytes = 64\n[dram]\nideal = true\n",
    );
    let r = run(&a, &gemm_net(5, 4, 3));
    let l = &r.layers[0];
    let ft = l.timing.unwrap();
    assert_eq!((ft.m_tile, ft.m_tiles, ft.folds), (2, 3, 12));
    // Per spatial fold: load 2 + stream (T + R + C - 2): tiles T = 2, 2, 1 -> 6 + 6 + 5 = 17;
    // 4 spatial folds: 68.
    assert_eq!(l.compute_cycles, 68);
    let t = l.traffic;
    // Inputs fetched once, no partial-sum spill; weights (12 B + 12 B of scales) fit: once.
    assert_eq!((t.input_passes, t.dram_input_read_bytes), (1, 20));
    assert_eq!((t.dram_psum_write_bytes, t.dram_psum_read_bytes), (0, 0));
    assert_eq!(t.dram_weight_read_bytes, 24);
    // The weights enter the PEs once per tile: 12 x 3.
    assert_eq!(t.weight_buffer_reads, 36);
}
