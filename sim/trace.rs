//! Access traces and lane timelines of weight layers (`plumsim run ... --trace DIR`).
//!
//! The per-cycle reference engine ([`crate::engine::reference::simulate_layer_traced`])
//! reports every SRAM access and every lane's state per compute cycle to a [`TraceSink`];
//! [`trace_layer`] records them, inserts the memory stalls where the fast engine's DRAM model
//! puts them, derives a DRAM burst trace, and renders three CSV texts per layer. Pure: no
//! file IO (the CLI writes the texts). See `docs/traces.md` for the formats and the
//! approximations.
//!
//! - SRAM (`<layer>_sram.csv`): one row per element access, SCALE-Sim style addresses:
//!   operand base ([`INPUT_BASE`], [`WEIGHT_BASE`], [`OUTPUT_BASE`]) plus the element's
//!   index in its operand matrix (input `m x K + k`, weight `k x N + n`, output `m x N + n`,
//!   per conv group one matrix after another); bytes = the element's bits rounded up.
//! - Lanes (`<layer>_lanes.csv`): run-length segments `[start_cycle, end_cycle)` per
//!   (PE, lane), covering every cycle of the layer exactly once.
//! - DRAM (`<layer>_dram.csv`): each fold's share of each operand's DRAM bytes (as the fast
//!   engine's memory model spreads them) in bursts of [`DRAM_BURST_BYTES`] issued at the DRAM
//!   bandwidth.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::arch::Arch;
pub use crate::engine::events::{
    Access, LaneState, NoTrace, SramAccess, SramBuffer, TraceSink, INPUT_BASE, OUTPUT_BASE,
    PSUM_BASE, WEIGHT_BASE,
};
use crate::engine::{reference, LayerResult};
use crate::error::{Error, Problem, Result};
use crate::quant::QuantizedTensor;
use crate::workload::{Layer, Network};

/// Largest DRAM burst of the DRAM trace, in bytes.
pub const DRAM_BURST_BYTES: u64 = 64;
/// Default limit on the estimated size of all trace files of one run, in MB (10^6 bytes).
pub const DEFAULT_LIMIT_MB: u64 = 512;

/// Estimated bytes per CSV row, for the size guard.
const SRAM_ROW_BYTES: u64 = 32;
const DRAM_ROW_BYTES: u64 = 36;
const LANE_ROW_BYTES: u64 = 40;

/// The three CSV texts of one layer's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerTrace {
    pub layer: String,
    /// Cycles the trace covers: compute plus DRAM stalls (the lane timeline ends here). Buffer-
    /// port stalls (`sram_stall_cycles`) are not placed in the timeline.
    pub total_cycles: u64,
    pub sram_csv: String,
    pub dram_csv: String,
    pub lanes_csv: String,
}

/// Memory stall cycles before each fold, in fold order, summing to the layer's
/// `memory_stall_cycles`. Follows the fast engine's average-rate model (`memory.rs`): the
/// first fold waits for its double-buffered data (the prologue), and every fold waits for its
/// single-buffered transfers plus whatever its double-buffered prefetch takes beyond the
/// mean fold's compute. Cumulative stalls are rounded up at each fold boundary.
pub fn stall_plan(arch: &Arch, fast: &LayerResult) -> Vec<u64> {
    let folds = fast.timing.map_or(0, |t| t.folds) as usize;
    let total = fast.memory_stall_cycles;
    let mut plan = vec![0u64; folds];
    if folds == 0 || total == 0 {
        return plan;
    }
    let model = crate::engine::memory::StallModel::new(
        arch,
        &fast.traffic,
        folds as u64,
        fast.compute_cycles + fast.sram_stall_cycles,
    );
    let (prologue, per_fold) = (model.prologue, model.per_fold);
    let mut prev = 0u64;
    for (i, slot) in plan.iter_mut().enumerate() {
        let cum = if i + 1 == folds {
            total
        } else {
            ((prologue + (i + 1) as f64 * per_fold).ceil() as u64).min(total)
        }
        .max(prev);
        *slot = cum - prev;
        prev = cum;
    }
    plan
}

/// Wall-clock cycles of one fold: its stall starts at `stall_start`, its weight load at
/// `compute_start`.
#[derive(Debug, Clone, Copy)]
struct FoldWindow {
    stall_start: u64,
    compute_start: u64,
}

type Segment = (u64, u64, LaneState);

/// The sink [`trace_layer`] uses: maps compute cycles to wall cycles by inserting the stall
/// plan at fold starts, renders SRAM rows as they come and merges lane spans into segments.
struct Recorder {
    cols: usize,
    lanes: usize,
    units: usize,
    stalls: Vec<u64>,
    offset: u64,
    windows: Vec<FoldWindow>,
    sram: String,
    open: Vec<Option<Segment>>,
    closed: Vec<Vec<Segment>>,
}

impl Recorder {
    fn new(arch: &Arch, stalls: Vec<u64>) -> Self {
        let (rows, cols, lanes) = (
            arch.rows as usize,
            arch.cols as usize,
            arch.pe.lanes as usize,
        );
        let units = rows * cols * lanes;
        Recorder {
            cols,
            lanes,
            units,
            stalls,
            offset: 0,
            windows: Vec::new(),
            sram: String::from("cycle,buffer,direction,address,bytes\n"),
            open: vec![None; units],
            closed: vec![Vec::new(); units],
        }
    }

    /// Add `[start, end)` (wall cycles) in `state` to lane unit `u`.
    fn push(&mut self, u: usize, start: u64, end: u64, state: LaneState) {
        if end <= start {
            return;
        }
        match &mut self.open[u] {
            Some((_, e, s)) if *e == start && *s == state => *e = end,
            open => {
                if let Some(seg) = open.replace((start, end, state)) {
                    self.closed[u].push(seg);
                }
            }
        }
    }

    fn lanes_csv(mut self) -> (String, String) {
        let mut out = String::from("pe_row,pe_col,lane,start_cycle,end_cycle,state\n");
        for u in 0..self.units {
            if let Some(seg) = self.open[u].take() {
                self.closed[u].push(seg);
            }
            let (pe, lane) = (u / self.lanes, u % self.lanes);
            let (r, c) = (pe / self.cols, pe % self.cols);
            for &(s, e, st) in &self.closed[u] {
                let _ = writeln!(out, "{r},{c},{lane},{s},{e},{}", st.as_str());
            }
        }
        (self.sram, out)
    }
}

impl TraceSink for Recorder {
    fn fold_start(&mut self, cycle: u64) {
        let stall = self.stalls.get(self.windows.len()).copied().unwrap_or(0);
        let start = cycle + self.offset;
        self.windows.push(FoldWindow {
            stall_start: start,
            compute_start: start + stall,
        });
        for u in 0..self.units {
            self.push(u, start, start + stall, LaneState::MemoryStall);
        }
        self.offset += stall;
    }

    fn sram(&mut self, a: SramAccess) {
        let _ = writeln!(
            self.sram,
            "{},{},{},{},{}",
            a.cycle + self.offset,
            a.buffer.as_str(),
            a.kind.as_str(),
            a.address,
            a.bytes
        );
    }

    fn lanes(
        &mut self,
        start: u64,
        end: u64,
        pe_row: u32,
        pe_col: u32,
        lane: u32,
        state: LaneState,
    ) {
        let u = (pe_row as usize * self.cols + pe_col as usize) * self.lanes + lane as usize;
        let o = self.offset;
        self.push(u, start + o, end + o, state);
    }
}

/// Fold `i`'s share of `total` bytes spread evenly over `folds` folds (shares sum to total).
fn share(total: u64, folds: u64, i: u64) -> u64 {
    let at = |j: u64| (total as u128 * j as u128 / folds as u128) as u64;
    at(i + 1) - at(i)
}

/// The DRAM burst trace of a layer from the fast engine's traffic and the folds' wall-clock
/// windows; `end` is the layer's last cycle + 1.
fn dram_csv(arch: &Arch, fast: &LayerResult, windows: &[FoldWindow], end: u64) -> String {
    let t = &fast.traffic;
    let folds = windows.len() as u64;
    let image = |bytes: u64, passes: u64| bytes.div_ceil(passes.max(1)).max(1);
    // (operand, direction, total bytes, bytes of one copy, address base, double-buffered)
    let operands = [
        (
            "input",
            Access::Read,
            t.dram_input_read_bytes,
            image(t.dram_input_read_bytes, t.input_passes),
            INPUT_BASE,
            arch.input_buffer.double_buffered,
        ),
        (
            "weight",
            Access::Read,
            t.dram_weight_read_bytes,
            image(t.dram_weight_read_bytes, t.weight_passes),
            WEIGHT_BASE,
            arch.weight_buffer.double_buffered,
        ),
        (
            "psum",
            Access::Read,
            t.dram_psum_read_bytes,
            image(t.dram_psum_read_bytes, 1),
            PSUM_BASE,
            arch.output_buffer.double_buffered,
        ),
        (
            "output",
            Access::Write,
            t.dram_output_write_bytes,
            image(t.dram_output_write_bytes, 1),
            OUTPUT_BASE,
            arch.output_buffer.double_buffered,
        ),
        (
            "psum",
            Access::Write,
            t.dram_psum_write_bytes,
            image(t.dram_psum_write_bytes, 1),
            PSUM_BASE,
            arch.output_buffer.double_buffered,
        ),
    ];
    let bw = arch.dram.bandwidth_bytes_per_cycle;
    // Bytes already issued in each window (by its start cycle): bursts of one window follow
    // each other at the DRAM bandwidth.
    let mut issued: BTreeMap<u64, u64> = BTreeMap::new();
    let mut moved = [0u64; 5];
    let mut rows: Vec<(u64, usize, Access, u64, u64)> = Vec::new();
    for i in 0..folds as usize {
        for (o, &(_, dir, total, copy, base, db)) in operands.iter().enumerate() {
            let mut left = share(total, folds, i as u64);
            let start = match dir {
                // Prefetched during the previous fold when double-buffered; otherwise (and
                // for the first fold) fetched during the fold's own stall.
                Access::Read if db && i > 0 => windows[i - 1].compute_start,
                Access::Read => windows[i].stall_start,
                // Written back once the fold's compute ends.
                Access::Write => windows.get(i + 1).map_or(end, |w| w.stall_start),
            };
            while left > 0 {
                let bytes = left.min(DRAM_BURST_BYTES);
                let before = issued.entry(start).or_insert(0);
                let cycle = start + (*before as f64 / bw).floor() as u64;
                *before += bytes;
                rows.push((cycle, o, dir, base + moved[o] % copy, bytes));
                moved[o] += bytes;
                left -= bytes;
            }
        }
    }
    rows.sort_by_key(|r| r.0);
    let mut out = String::from("cycle,operand,direction,address,bytes\n");
    for (cycle, o, dir, addr, bytes) in rows {
        let _ = writeln!(
            out,
            "{cycle},{},{},{addr},{bytes}",
            operands[o].0,
            dir.as_str()
        );
    }
    out
}

/// Trace one weight layer on the reference engine; `fast` is the fast engine's result for
/// the same layer (for the memory stalls and the DRAM traffic). None for layers without a
/// GEMM (elementwise and pooling layers run on the vector unit and have no array trace).
pub fn trace_layer(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
    fast: &LayerResult,
) -> Result<Option<LayerTrace>> {
    if layer.gemm(net).is_none() {
        return Ok(None);
    }
    let mut rec = Recorder::new(arch, stall_plan(arch, fast));
    let Some(r) = reference::simulate_layer_traced(arch, net, layer, codes, &mut rec)? else {
        return Ok(None);
    };
    let total_cycles = r.compute_cycles + rec.offset;
    let windows = std::mem::take(&mut rec.windows);
    let (sram_csv, lanes_csv) = rec.lanes_csv();
    Ok(Some(LayerTrace {
        layer: layer.name.clone(),
        total_cycles,
        sram_csv,
        dram_csv: dram_csv(arch, fast, &windows, total_cycles),
        lanes_csv,
    }))
}

/// Estimated size of one layer's trace, before simulating it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceEstimate {
    /// Exact: the layer's buffer accesses.
    pub sram_rows: u64,
    /// Bursts, at most one partial burst per operand and fold more than bytes / burst.
    pub dram_rows: u64,
    /// Upper estimate of lane segments: per lane and fold, at most two per step and slot
    /// plus load, stall, fill and drain, and never more than the lane's cycles.
    pub lane_rows: u64,
    /// Estimated bytes of the three files.
    pub bytes: u64,
}

/// Estimate a weight layer's trace from the fast engine's result; None without a GEMM.
pub fn estimate(arch: &Arch, fast: &LayerResult) -> Option<TraceEstimate> {
    let ft = fast.timing?;
    fast.gemm?;
    let t = &fast.traffic;
    let sram_rows = t.input_buffer_reads
        + t.weight_buffer_reads
        + t.output_buffer_writes
        + t.output_buffer_reads;
    let dram_bytes = t.dram_read_bytes() + t.dram_write_bytes();
    let dram_rows = dram_bytes.div_ceil(DRAM_BURST_BYTES) + 5 * ft.folds;
    let units = arch.pes() * arch.pe.lanes as u64;
    let per_fold = 2u64
        .saturating_mul(ft.m_tile)
        .saturating_mul(arch.pe.weights_per_lane as u64)
        .saturating_add(6);
    let lane_rows = units
        .saturating_mul(ft.folds)
        .saturating_mul(per_fold)
        .min(units.saturating_mul(fast.array_cycles()));
    let bytes = sram_rows
        .saturating_mul(SRAM_ROW_BYTES)
        .saturating_add(dram_rows.saturating_mul(DRAM_ROW_BYTES))
        .saturating_add(lane_rows.saturating_mul(LANE_ROW_BYTES));
    Some(TraceEstimate {
        sram_rows,
        dram_rows,
        lane_rows,
        bytes,
    })
}

/// The size guard: refuse when the layers' estimated traces together exceed `limit_mb`
/// (10^6 bytes), naming the largest layer.
pub fn check_limit(layers: &[(&str, TraceEstimate)], limit_mb: u64) -> Result<()> {
    let total: u64 = layers
        .iter()
        .map(|(_, e)| e.bytes)
        .fold(0, u64::saturating_add);
    let limit = limit_mb.saturating_mul(1_000_000);
    if total <= limit {
        return Ok(());
    }
    let Some((name, e)) = layers.iter().max_by_key(|(_, e)| e.bytes) else {
        return Ok(());
    };
    let mb = |b: u64| b.div_ceil(1_000_000);
    let all = if layers.len() > 1 {
        format!(
            "; {} traced layers together about {} MB",
            layers.len(),
            mb(total)
        )
    } else {
        String::new()
    };
    Err(Error::invalid(
        "--trace",
        vec![Problem::new(
            format!("layer `{name}`"),
            format!(
                "its trace would be about {} rows, {} MB ({} SRAM accesses, {} DRAM bursts, {} lane segments{all}), above the limit of {limit_mb} MB",
                e.sram_rows + e.dram_rows + e.lane_rows,
                mb(e.bytes),
                e.sram_rows,
                e.dram_rows,
                e.lane_rows,
            ),
        )
        .with_help("pick a smaller layer with --layer NAME or raise the limit with --trace-limit-mb N")],
    ))
}
