//! Buffer and DRAM traffic of one layer, and the cycles the array waits for memory.
//!
//! The loop nest is fixed per dataflow (inner loop over row folds, so partial sums of a
//! column fold stay in the output buffer while the reduction proceeds):
//!
//! | dataflow | outer loop | inner loop | stationary | re-streamed per outer step |
//! |---|---|---|---|---|
//! | ws | M-tiles, then N-folds (cols) | K-folds (rows) | weights | weights (per M-tile) |
//! | is | M-folds (cols) | K-folds (rows) | inputs | weights (whole K x N) |
//! | os | N-folds (cols) | M-folds (rows) | outputs | inputs (whole); weights K x C slice per inner step |
//!
//! Weight-stationary tiling (`array.tile_m`, on by default): the buffers decide how many
//! rows of M stream through one fold. An M-tile is as large as it can be while its input
//! rows fit the input buffer (so they are fetched once and reused by every column fold) and
//! its partial sums (M-tile x C at accumulator width) fit the output buffer (so the
//! reduction over row folds never spills). Each M-tile reloads the fold's weights: more
//! tiles cost weight loads, fill and drain, and (when the weights do not fit on chip) DRAM
//! weight re-reads. With `tile_m = false` the whole M streams through every fold, as in
//! SCALE-Sim; inputs that do not fit are then re-read per column fold and partial sums that
//! do not fit spill.
//!
//! An operand is fetched from DRAM once if the data the loop nest reuses fits in its buffer
//! (half the buffer when double-buffered), otherwise once per loop step that re-streams it.
//! Partial sums that do not fit spill to DRAM at accumulator width. Transfers are spread
//! evenly over the folds: a double-buffered operand's fetch overlaps the previous fold's
//! compute, a single-buffered one's does not, and the first fold's data must arrive first.

use crate::arch::{Arch, Buffer, Dataflow};
use crate::engine::systolic::FoldTiming;
use crate::workload::Gemm;

/// Sizes of a layer's operands as stored in DRAM (whole tensors, all groups).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Input feature map bytes (the real tensor, not the im2col matrix).
    pub input_bytes: f64,
    /// Weight bytes including per-filter scales and any metadata.
    pub weight_bytes: f64,
    /// Output feature map bytes at activation precision.
    pub output_bytes: f64,
    /// Bits of a weight, an activation and a partial sum as they move through the buffers.
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub accumulator_bits: u32,
}

/// Traffic and memory stalls of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Traffic {
    pub input_buffer_reads: u64,
    pub weight_buffer_reads: u64,
    pub output_buffer_writes: u64,
    /// Partial sums read back for accumulation across row folds.
    pub output_buffer_reads: u64,
    pub dram_input_read_bytes: u64,
    pub dram_weight_read_bytes: u64,
    pub dram_output_write_bytes: u64,
    /// Partial-sum spill traffic (written and read back), when partial sums do not fit.
    pub dram_psum_write_bytes: u64,
    pub dram_psum_read_bytes: u64,
    /// How many times the input / weight operand is fetched from DRAM.
    pub input_passes: u64,
    pub weight_passes: u64,
    pub memory_stall_cycles: u64,
    /// The array-side accesses in words (the energy model prices words).
    pub words: crate::engine::folds::BufferWords,
}

impl Traffic {
    pub fn dram_read_bytes(&self) -> u64 {
        self.dram_input_read_bytes + self.dram_weight_read_bytes + self.dram_psum_read_bytes
    }
    pub fn dram_write_bytes(&self) -> u64 {
        self.dram_output_write_bytes + self.dram_psum_write_bytes
    }
}

fn bits_to_bytes(elements: u64, bits: u32) -> f64 {
    elements as f64 * bits as f64 / 8.0
}

fn fits(bytes: f64, buf: &Buffer) -> bool {
    bytes <= buf.usable_bytes() as f64
}

/// Rows of M one weight-stationary fold streams: all of M, or with `array.tile_m` the
/// largest tile whose input rows fit the input buffer and whose partial sums (for one column
/// fold of up to `cols` filters) fit the output buffer; at least 1.
pub fn m_tile(arch: &Arch, g: &Gemm, fp: &Footprint) -> u64 {
    if arch.dataflow != Dataflow::Ws || !arch.tile_m {
        return g.m;
    }
    let m = g.m as f64;
    // Input bytes per row of M (one group's share of the input feature map).
    let input_per_row = fp.input_bytes / g.groups as f64 / m;
    let by_input = (arch.input_buffer.usable_bytes() as f64 / input_per_row).floor();
    let psum_per_row = g.n.min(arch.cols as u64) as f64 * fp.accumulator_bits as f64 / 8.0;
    let by_psum = (arch.output_buffer.usable_bytes() as f64 / psum_per_row).floor();
    (by_input.min(by_psum).min(m) as u64).max(1)
}

/// Buffer accesses (in elements), DRAM bytes and memory stalls of one layer.
///
/// `compute_cycles` is the array's busy time over all folds; stalls are cycles on top of it.
pub fn traffic(
    arch: &Arch,
    g: &Gemm,
    ft: &FoldTiming,
    fp: &Footprint,
    compute_cycles: u64,
) -> Traffic {
    let (r, c) = (arch.rows as u64, arch.cols as u64);
    let groups = g.groups;
    let (m, n, k) = (g.m, g.n, g.k);
    // Folds along the rows: K for ws and is (in chunks of a PE's K indices).
    let k_folds = ft.row_folds;
    let mut t = Traffic::default();
    // Partial-sum tile that must stay on chip across the inner (row-fold) loop.
    let psum_elems_per_tile;
    match arch.dataflow {
        Dataflow::Ws => {
            let m_t = ft.m_tile;
            let m_tiles = m.div_ceil(m_t);
            t.input_buffer_reads = groups * m * k * n.div_ceil(c);
            t.weight_buffer_reads = groups * k * n * m_tiles;
            t.output_buffer_writes = groups * m * n * k_folds;
            t.output_buffer_reads = groups * m * n * (k_folds - 1);
            // One group at a time: its share of the input, for the tile's rows.
            let input_tile_bytes = fp.input_bytes / groups as f64 * m_t as f64 / m as f64;
            t.input_passes = if fits(input_tile_bytes, &arch.input_buffer) {
                1
            } else {
                n.div_ceil(c)
            };
            t.weight_passes = if m_tiles == 1 || fits(fp.weight_bytes, &arch.weight_buffer) {
                1
            } else {
                m_tiles
            };
            psum_elems_per_tile = m_t * n.min(c);
        }
        Dataflow::Is => {
            t.input_buffer_reads = groups * m * k;
            t.weight_buffer_reads = groups * k * n * m.div_ceil(c);
            t.output_buffer_writes = groups * m * n * k_folds;
            t.output_buffer_reads = groups * m * n * (k_folds - 1);
            t.input_passes = 1;
            t.weight_passes = if fits(fp.weight_bytes, &arch.weight_buffer) {
                1
            } else {
                m.div_ceil(c)
            };
            psum_elems_per_tile = m.min(c) * n;
        }
        Dataflow::Os => {
            t.input_buffer_reads = groups * m * k * n.div_ceil(c);
            t.weight_buffer_reads = groups * k * n * m.div_ceil(r);
            t.output_buffer_writes = groups * m * n;
            t.output_buffer_reads = 0;
            t.input_passes = if fits(fp.input_bytes, &arch.input_buffer) {
                1
            } else {
                n.div_ceil(c)
            };
            let slice = bits_to_bytes(k * n.min(c), fp.weight_bits);
            t.weight_passes = if fits(slice, &arch.weight_buffer) {
                1
            } else {
                m.div_ceil(r)
            };
            psum_elems_per_tile = 0;
        }
    }
    t.dram_input_read_bytes = (fp.input_bytes * t.input_passes as f64).ceil() as u64;
    t.dram_weight_read_bytes = (fp.weight_bytes * t.weight_passes as f64).ceil() as u64;
    t.dram_output_write_bytes = fp.output_bytes.ceil() as u64;
    let psum_tile_bytes = bits_to_bytes(psum_elems_per_tile, fp.accumulator_bits);
    if psum_elems_per_tile > 0 && k_folds > 1 && !fits(psum_tile_bytes, &arch.output_buffer) {
        let spilled = bits_to_bytes(groups * m * n * (k_folds - 1), fp.accumulator_bits);
        t.dram_psum_write_bytes = spilled.ceil() as u64;
        t.dram_psum_read_bytes = spilled.ceil() as u64;
    }
    t.memory_stall_cycles = if arch.dram.ideal {
        0
    } else {
        stall_cycles(arch, &t, ft.folds, compute_cycles)
    };
    t
}

/// The DRAM stall model of a layer: per-fold transfers at the DRAM bandwidth; double-buffered
/// operands overlap the previous fold's compute, single-buffered ones serialize with it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StallModel {
    /// Cycles the first fold waits for its double-buffered data before compute starts.
    pub prologue: f64,
    /// Stall cycles of every fold: its single-buffered transfers plus whatever its
    /// double-buffered prefetch takes beyond a fold's mean compute time.
    pub per_fold: f64,
}

impl StallModel {
    pub fn new(arch: &Arch, t: &Traffic, folds: u64, compute_cycles: u64) -> Self {
        let bw = arch.dram.bandwidth_bytes_per_cycle;
        let folds_f = folds.max(1) as f64;
        let fold_compute = compute_cycles as f64 / folds_f;
        let mut overlapped = 0.0;
        let mut serial = 0.0;
        let mut add = |bytes: u64, db: bool| {
            if db {
                overlapped += bytes as f64;
            } else {
                serial += bytes as f64;
            }
        };
        add(t.dram_input_read_bytes, arch.input_buffer.double_buffered);
        add(t.dram_weight_read_bytes, arch.weight_buffer.double_buffered);
        add(
            t.dram_output_write_bytes + t.dram_psum_write_bytes + t.dram_psum_read_bytes,
            arch.output_buffer.double_buffered,
        );
        let prologue = overlapped / folds_f / bw;
        StallModel {
            prologue,
            per_fold: serial / folds_f / bw + (prologue - fold_compute).max(0.0),
        }
    }

    /// Stall cycles of all `folds` folds.
    pub fn total(&self, folds: u64) -> u64 {
        (self.prologue + folds.max(1) as f64 * self.per_fold).ceil() as u64
    }
}

fn stall_cycles(arch: &Arch, t: &Traffic, folds: u64, compute_cycles: u64) -> u64 {
    StallModel::new(arch, t, folds, compute_cycles).total(folds)
}

/// An embedding lookup: `elements` table entries of `bits` bits read from DRAM (one row per
/// token; the next weight layer reads the output as it reads any input); the array waits
/// for the rows (nothing to overlap them with).
pub fn lookup(arch: &Arch, elements: u64, bits: u32) -> Traffic {
    let bytes = bits_to_bytes(elements, bits).ceil() as u64;
    let mut t = Traffic {
        dram_weight_read_bytes: bytes,
        weight_passes: 1,
        ..Traffic::default()
    };
    t.memory_stall_cycles = if arch.dram.ideal {
        0
    } else {
        (bytes as f64 / arch.dram.bandwidth_bytes_per_cycle).ceil() as u64
    };
    t
}
