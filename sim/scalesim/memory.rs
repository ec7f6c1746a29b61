//! SCALE-Sim v2's memory system, as its code implements it (scalesim-project/scale-sim-v2
//! at commit 22f88b1: `scalesim/memory/{read_buffer, read_buffer_estimate_bw, write_buffer,
//! double_buffered_scratchpad_mem}.py`, `scalesim/compute/systolic_compute_{ws,os,is}.py`,
//! `scalesim/single_layer_sim.py`). It reproduces every number of SCALE-Sim's
//! `COMPUTE_REPORT.csv`, `BANDWIDTH_REPORT.csv` and `DETAILED_ACCESS_REPORT.csv`, quirks
//! included; it is the `dram.model = "scalesim_v2"` memory model, not plumsim's own.
//!
//! What SCALE-Sim does, and how it is reproduced without its per-cycle matrices:
//!
//! - **Demand.** Each fold streams SCALE-Sim's skewed demand rows (one row per cycle, one
//!   address per array row or column). The rows are generated one at a time from the fold,
//!   the row and the column: nothing of size cycles x PEs is ever held.
//! - **CALC mode** (`read_buffer_estimate_bw`): a read never stalls; a new address joins the
//!   current set of `floor(words / 100)` addresses, and every 50 sets a "prefetch" is
//!   charged. An address is a hit only if it joined since the last prefetch, so the model
//!   keeps, per address, the prefetch epoch in which it last joined (one `u32` per operand
//!   word). DRAM reads are the joins; the DRAM start and stop cycles come from the first
//!   request and the cycles of the prefetches, both fetched at SCALE-Sim's fixed
//!   10 words per cycle (its code says the 10 is arbitrary).
//! - **USER mode** (`read_buffer`): the operand's prefetch order is cut into sets of
//!   `ceil(words / 100)` words; the active half of the buffer is a circular window of 50 sets
//!   that a miss moves on by the prefetch half, each move costing `ceil(half / B) + 1`
//!   cycles at `B` words per cycle; the array stalls until the moved window has arrived.
//!   The model keeps, per address, the sets that hold it (a compressed index of the prefetch
//!   order, built once per operand).
//! - **Writes** (`write_buffer`, both modes): output words fill lines of the drain width
//!   (the array's columns in CALC mode, `B` in USER mode); once more than the active half is
//!   waiting, a drain of half a buffer's lines starts, one line per cycle, and the array
//!   stalls if the buffer fills while a drain is under way. The undrained lines are kept as
//!   runs, so a row of outputs costs O(1), not O(words).
//!
//! Counting quirks reproduced on purpose (they are in SCALE-Sim's reports): a drain counts
//! every slot of a part-filled line in its middle as written (the `+15` in `DRAM OFMAP
//! Writes`); output-stationary `SRAM OFMAP Writes` add R + C per fold; `Compute Util %`
//! divides by a fold one column-skew longer than it is; `Total Cycles` is the stamp of the
//! last output write, which does not include a read stall of the last row.
//!
//! Where SCALE-Sim itself fails (a division by zero, a shape mismatch, an index error) on a
//! layer, [`simulate`] says so instead of inventing a number.

use std::collections::VecDeque;

use crate::arch::Dataflow;
use crate::error::{Error, Result};

/// The SCALE-Sim version whose semantics this module follows.
pub const SCALESIM_VERSION: &str =
    "SCALE-Sim v2 (scalesim-project/scale-sim-v2, commit 22f88b1 of February 2025)";

/// Operand words one layer may hold in this model's per-address tables (2^26: 256 MiB of
/// epochs); larger layers are refused before anything is allocated.
pub const MAX_OPERAND_WORDS: u64 = 1 << 26;

/// SCALE-Sim's prefetch rate in CALC mode, words per cycle (hard-coded in its
/// `single_layer_sim.py`, whatever the configured bandwidth).
const CALC_PREFETCH_WORDS_PER_CYCLE: u64 = 10;

/// SCALE-Sim's DRAM interface (`InterfaceBandwidth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    /// `CALC`: reads never stall; SCALE-Sim reports the bandwidth it would have needed.
    Calc,
    /// `USER`: `words_per_cycle` (its `Bandwidth`) for every operand.
    User { words_per_cycle: u64 },
}

/// The array and buffers SCALE-Sim simulates (one-byte words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    pub rows: u64,
    pub cols: u64,
    pub dataflow: Dataflow,
    pub ifmap_words: u64,
    pub filter_words: u64,
    pub ofmap_words: u64,
    pub interface: Interface,
}

/// A layer as SCALE-Sim sees it: a convolution without padding over `batch` images (a GEMM
/// `M x K x N` is the convolution of an `M x K` image with `N` filters of `1 x K`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub ifmap_h: u64,
    pub ifmap_w: u64,
    pub channels: u64,
    pub filter_h: u64,
    pub filter_w: u64,
    pub filters: u64,
    pub stride_h: u64,
    pub stride_w: u64,
    pub ofmap_h: u64,
    pub ofmap_w: u64,
    pub batch: u64,
}

impl ConvShape {
    /// A topology-file convolution: SCALE-Sim's output size `ceil((H - F + S) / S)`.
    pub fn topology(h: u64, w: u64, fh: u64, fw: u64, channels: u64, filters: u64, s: u64) -> Self {
        ConvShape {
            ifmap_h: h,
            ifmap_w: w,
            channels,
            filter_h: fh,
            filter_w: fw,
            filters,
            stride_h: s,
            stride_w: s,
            ofmap_h: (h + s).saturating_sub(fh).div_ceil(s),
            ofmap_w: (w + s).saturating_sub(fw).div_ceil(s),
            batch: 1,
        }
    }

    /// A GEMM row `M, N, K` (SCALE-Sim's `load_arrays_gemm`).
    pub fn gemm(m: u64, n: u64, k: u64) -> Self {
        ConvShape::topology(m, k, 1, k, 1, n, 1)
    }

    /// GEMM M (output pixels over the batch), N (filters), K (window).
    pub fn mnk(&self) -> (u64, u64, u64) {
        (
            self.batch * self.ofmap_h * self.ofmap_w,
            self.filters,
            self.filter_h * self.filter_w * self.channels,
        )
    }

    fn ifmap_elements(&self) -> u64 {
        self.batch * self.ifmap_h * self.ifmap_w * self.channels
    }
}

/// One operand's accesses: SCALE-Sim's start and stop cycles and its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    pub start_cycle: i64,
    pub stop_cycle: i64,
    pub count: u64,
}

/// Every figure SCALE-Sim reports for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerMemory {
    /// `Total Cycles`: the stamp of the last output write.
    pub total_cycles: i64,
    /// `Stall Cycles`.
    pub stall_cycles: u64,
    /// Demand rows, folds x fold cycles: the stall-free cycles (plumsim's compute cycles).
    pub demand_rows: u64,
    /// M x N x K.
    pub macs: u64,
    pub pes: u64,
    /// Means over folds, as fractions, summed in fold order as SCALE-Sim sums them.
    pub mapping_efficiency: f64,
    pub compute_utilization: f64,
    /// SRAM reads (ifmap, filter) and writes (ofmap).
    pub sram: [Access; 3],
    /// DRAM reads (ifmap, filter) and writes (ofmap).
    pub dram: [Access; 3],
}

impl LayerMemory {
    /// `Overall Util %`.
    pub fn overall_util_pct(&self) -> f64 {
        (self.macs as f64 * 100.0) / (self.total_cycles as f64 * self.pes as f64)
    }
}

/// A SCALE-Sim failure on valid input, said as such.
fn scalesim_fails(why: &str) -> Error {
    Error::Unsupported(format!(
        "SCALE-Sim v2 itself fails on this layer ({why}), so its memory model has no figure to reproduce; give the buffers more room or use dram.model = \"physical\""
    ))
}

/// The GEMM mapping of a layer on the array.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    r: u64,
    c: u64,
    m: u64,
    n: u64,
    k: u64,
    row_fold: u64,
    col_fold: u64,
    fold_rows: u64,
}

impl Geometry {
    fn new(setup: &Setup, shape: &ConvShape) -> Self {
        let (m, n, k) = shape.mnk();
        let (r, c) = (setup.rows, setup.cols);
        let (sr, sc, t) = match setup.dataflow {
            Dataflow::Ws => (k, n, m),
            Dataflow::Os => (m, n, k),
            Dataflow::Is => (k, m, n),
        };
        let fold_rows = match setup.dataflow {
            Dataflow::Os => t + r + c - 2,
            Dataflow::Ws | Dataflow::Is => 2 * r + c + t - 2,
        };
        Geometry {
            r,
            c,
            m,
            n,
            k,
            row_fold: sr.div_ceil(r),
            col_fold: sc.div_ceil(c),
            fold_rows,
        }
    }
}

/// The ifmap operand matrix (SCALE-Sim's `calc_ifmap_elem_addr`), from per-row and
/// per-column tables: an address is `row base + column offset`, or none off the edge.
struct IfmapAddresses {
    rows: Vec<(u64, u32, u32)>,
    cols: Vec<(u64, u32, u32)>,
    h: u32,
    w: u32,
    all_valid: bool,
}

impl IfmapAddresses {
    fn new(s: &ConvShape) -> Self {
        let (m, _, k) = s.mnk();
        let pixels = s.ofmap_h * s.ofmap_w;
        let image = s.ifmap_h * s.ifmap_w * s.channels;
        let rows = (0..m)
            .map(|i| {
                let (b, p) = (i / pixels, i % pixels);
                let (orow, ocol) = (p / s.ofmap_w, p % s.ofmap_w);
                let (irow, icol) = (orow * s.stride_h, ocol * s.stride_w);
                (
                    b * image + (irow * s.ifmap_w + icol) * s.channels,
                    irow as u32,
                    icol as u32,
                )
            })
            .collect();
        let cols = (0..k)
            .map(|j| {
                let (crow, rest) = (j / (s.filter_w * s.channels), j % (s.filter_w * s.channels));
                let (ccol, ch) = (rest / s.channels, rest % s.channels);
                (
                    (crow * s.ifmap_w + ccol) * s.channels + ch,
                    crow as u32,
                    ccol as u32,
                )
            })
            .collect();
        let all_valid = (s.ofmap_h - 1) * s.stride_h + s.filter_h <= s.ifmap_h
            && (s.ofmap_w - 1) * s.stride_w + s.filter_w <= s.ifmap_w;
        IfmapAddresses {
            rows,
            cols,
            h: s.ifmap_h as u32,
            w: s.ifmap_w as u32,
            all_valid,
        }
    }

    /// The address of element (i, j) of the M x K ifmap matrix, or none (SCALE-Sim's -1).
    #[inline(always)]
    fn get(&self, i: u64, j: u64) -> Option<u64> {
        let (base, irow, icol) = self.rows[i as usize];
        let (off, crow, ccol) = self.cols[j as usize];
        if self.all_valid || (irow + crow < self.h && icol + ccol < self.w) {
            Some(base + off)
        } else {
            None
        }
    }
}

/// What the demand generators need of a layer.
struct Operands {
    g: Geometry,
    ifmap: IfmapAddresses,
}

impl Operands {
    #[inline(always)]
    fn filter(&self, k: u64, n: u64) -> u64 {
        n * self.g.k + k
    }
}

/// One fold: its column and row fold indices and what of the array it uses.
#[derive(Debug, Clone, Copy)]
struct Fold {
    fc: u64,
    fr: u64,
}

/// The columns `c < used` of a skewed demand row `t` whose `t - c` lies in `lo..hi`.
#[inline(always)]
fn skew_range(t: u64, lo: u64, hi: u64, used: u64) -> std::ops::Range<u64> {
    let start = (t + 1).saturating_sub(hi);
    let end = if t + 1 > lo {
        (t + 1 - lo).min(used)
    } else {
        0
    };
    start..end.max(start)
}

/// A dataflow's demand rows (SCALE-Sim's `create_*_demand_mat`), generated one row at a time.
trait DemandRows {
    /// Visits the ifmap addresses of fold row `t` in column order (none: SCALE-Sim's -1).
    fn ifmap(&self, o: &Operands, f: Fold, t: u64, visit: impl FnMut(Option<u64>));
    fn filter(&self, o: &Operands, f: Fold, t: u64, visit: impl FnMut(Option<u64>));
    /// Output words written by fold row `t`.
    fn ofmap_count(&self, g: &Geometry, f: Fold, t: u64) -> u64;
    /// Used array rows and columns of a fold (mapping efficiency).
    fn used(&self, g: &Geometry, f: Fold) -> (u64, u64);
    /// SCALE-Sim's per-fold `cycles_this_fold` and temporal extent T (compute utilization).
    fn util_cycles(&self, g: &Geometry) -> (u64, u64);
    /// SRAM reads and writes over the layer (SCALE-Sim's `ifmap_reads` ... counters).
    fn sram_counts(&self, g: &Geometry) -> [u64; 3];
}

struct Ws;
struct Os;
struct Is;

impl DemandRows for Ws {
    fn ifmap(&self, o: &Operands, f: Fold, t: u64, mut visit: impl FnMut(Option<u64>)) {
        let g = &o.g;
        let used = g.r.min(g.k - f.fr * g.r);
        for c in skew_range(t, g.r, g.r + g.m, used) {
            visit(o.ifmap.get(t - c - g.r, f.fr * g.r + c));
        }
    }
    fn filter(&self, o: &Operands, f: Fold, t: u64, mut visit: impl FnMut(Option<u64>)) {
        let g = &o.g;
        let rows_used = g.r.min(g.k - f.fr * g.r);
        if t >= g.r || g.r - 1 - t >= rows_used {
            return;
        }
        let kr = f.fr * g.r + (g.r - 1 - t);
        for c in 0..g.c.min(g.n - f.fc * g.c) {
            visit(Some(o.filter(kr, f.fc * g.c + c)));
        }
    }
    fn ofmap_count(&self, g: &Geometry, f: Fold, t: u64) -> u64 {
        let used = g.c.min(g.n - f.fc * g.c);
        let lo = 2 * g.r - 1;
        skew_range(t, lo, lo + g.m, used).count() as u64
    }
    fn used(&self, g: &Geometry, f: Fold) -> (u64, u64) {
        (g.r.min(g.k - f.fr * g.r), g.c.min(g.n - f.fc * g.c))
    }
    fn util_cycles(&self, g: &Geometry) -> (u64, u64) {
        (g.fold_rows + g.c - 1, g.m)
    }
    fn sram_counts(&self, g: &Geometry) -> [u64; 3] {
        [g.m * g.k * g.col_fold, g.k * g.n, g.m * g.n * g.row_fold]
    }
}

impl DemandRows for Os {
    fn ifmap(&self, o: &Operands, f: Fold, t: u64, mut visit: impl FnMut(Option<u64>)) {
        let g = &o.g;
        let used = g.r.min(g.m - f.fr * g.r);
        for c in skew_range(t, 0, g.k, used) {
            visit(o.ifmap.get(f.fr * g.r + c, t - c));
        }
    }
    fn filter(&self, o: &Operands, f: Fold, t: u64, mut visit: impl FnMut(Option<u64>)) {
        let g = &o.g;
        let used = g.c.min(g.n - f.fc * g.c);
        for c in skew_range(t, 0, g.k, used) {
            visit(Some(o.filter(t - c, f.fc * g.c + c)));
        }
    }
    fn ofmap_count(&self, g: &Geometry, f: Fold, t: u64) -> u64 {
        let rows_used = g.r.min(g.m - f.fr * g.r);
        let cols_used = g.c.min(g.n - f.fc * g.c);
        // Rows are written bottom up (flipped): only the last `rows_used` carry outputs.
        let lo = g.k - 1 + (g.r - rows_used);
        skew_range(t, lo, g.k - 1 + g.r, cols_used).count() as u64
    }
    fn used(&self, g: &Geometry, f: Fold) -> (u64, u64) {
        (g.r.min(g.m - f.fr * g.r), g.c.min(g.n - f.fc * g.c))
    }
    fn util_cycles(&self, g: &Geometry) -> (u64, u64) {
        (g.fold_rows, g.k)
    }
    fn sram_counts(&self, g: &Geometry) -> [u64; 3] {
        let folds = g.row_fold * g.col_fold;
        [
            g.m * g.k * g.col_fold,
            g.k * g.n * g.row_fold,
            g.m * g.n + folds * (g.r + g.c),
        ]
    }
}

impl DemandRows for Is {
    fn ifmap(&self, o: &Operands, f: Fold, t: u64, mut visit: impl FnMut(Option<u64>)) {
        let g = &o.g;
        let rows_used = g.r.min(g.k - f.fr * g.r);
        if t >= g.r || g.r - 1 - t >= rows_used {
            return;
        }
        let kr = f.fr * g.r + (g.r - 1 - t);
        for c in 0..g.c.min(g.m - f.fc * g.c) {
            visit(o.ifmap.get(f.fc * g.c + c, kr));
        }
    }
    fn filter(&self, o: &Operands, f: Fold, t: u64, mut visit: impl FnMut(Option<u64>)) {
        let g = &o.g;
        let used = g.r.min(g.k - f.fr * g.r);
        for c in skew_range(t, g.r, g.r + g.n, used) {
            visit(Some(o.filter(f.fr * g.r + c, t - c - g.r)));
        }
    }
    fn ofmap_count(&self, g: &Geometry, f: Fold, t: u64) -> u64 {
        let used = g.c.min(g.m - f.fc * g.c);
        let lo = 2 * g.r - 1;
        skew_range(t, lo, lo + g.n, used).count() as u64
    }
    fn used(&self, g: &Geometry, f: Fold) -> (u64, u64) {
        (g.r.min(g.k - f.fr * g.r), g.c.min(g.m - f.fc * g.c))
    }
    fn util_cycles(&self, g: &Geometry) -> (u64, u64) {
        (g.fold_rows + g.c - 1, g.n)
    }
    fn sram_counts(&self, g: &Geometry) -> [u64; 3] {
        [g.m * g.k, g.k * g.n * g.col_fold, g.m * g.n * g.row_fold]
    }
}

/// An operand's prefetch order (SCALE-Sim's `create_*_prefetch_mat`): a matrix of
/// `rows x cols` (fold blocks stacked), read row by row or along anti-diagonals.
struct PrefetchOrder {
    rows: u64,
    cols: u64,
    diagonal: bool,
}

impl PrefetchOrder {
    fn elements(&self) -> u64 {
        self.rows * self.cols
    }

    /// Visits every element in order (none: a -1 padding entry).
    fn each(&self, mut at: impl FnMut(u64, u64)) {
        if self.diagonal {
            for d in 0..self.rows + self.cols - 1 {
                let max_row = d.min(self.rows - 1);
                let min_row = (d + 1).saturating_sub(self.cols);
                for row in (min_row..=max_row).rev() {
                    at(row, d - row);
                }
            }
        } else {
            for row in 0..self.rows {
                for col in 0..self.cols {
                    at(row, col);
                }
            }
        }
    }
}

/// The address of a prefetch-matrix element (row, column), or none for -1 padding.
type ElementAddress<'a> = Box<dyn Fn(u64, u64) -> Option<u64> + 'a>;

/// Operand 0 (ifmap) or 1 (filter): its prefetch order and the address of each element.
fn prefetch_order(
    df: Dataflow,
    o: &Operands,
    which: usize,
    mut visit: impl FnMut(Option<u64>),
) -> u64 {
    let g = &o.g;
    let (order, f): (PrefetchOrder, ElementAddress<'_>) = match (df, which) {
        (Dataflow::Ws, 0) => (
            PrefetchOrder {
                rows: g.m * g.row_fold,
                cols: g.r,
                diagonal: true,
            },
            Box::new(move |row, col| {
                let (fr, i) = (row / g.m, row % g.m);
                let j = fr * g.r + col;
                if j < g.k {
                    o.ifmap.get(i, j)
                } else {
                    None
                }
            }),
        ),
        (Dataflow::Ws, _) => (
            PrefetchOrder {
                rows: g.k * g.col_fold,
                cols: g.c,
                diagonal: false,
            },
            Box::new(move |row, col| {
                let (fc, k) = (row / g.k, row % g.k);
                let n = fc * g.c + col;
                (n < g.n).then(|| o.filter(k, n))
            }),
        ),
        (Dataflow::Os, 0) => (
            PrefetchOrder {
                rows: g.k * g.row_fold,
                cols: g.r,
                diagonal: true,
            },
            Box::new(move |row, col| {
                let (fr, k) = (row / g.k, row % g.k);
                let m = fr * g.r + col;
                if m < g.m {
                    o.ifmap.get(m, k)
                } else {
                    None
                }
            }),
        ),
        (Dataflow::Os, _) => (
            PrefetchOrder {
                rows: g.k * g.col_fold,
                cols: g.c,
                diagonal: true,
            },
            Box::new(move |row, col| {
                let (fc, k) = (row / g.k, row % g.k);
                let n = fc * g.c + col;
                (n < g.n).then(|| o.filter(k, n))
            }),
        ),
        (Dataflow::Is, 0) => (
            PrefetchOrder {
                rows: g.k * g.col_fold,
                cols: g.c,
                diagonal: false,
            },
            Box::new(move |row, col| {
                let (fc, k) = (row / g.k, row % g.k);
                let m = fc * g.c + col;
                if m < g.m {
                    o.ifmap.get(m, k)
                } else {
                    None
                }
            }),
        ),
        (Dataflow::Is, _) => (
            PrefetchOrder {
                rows: g.n * g.row_fold,
                cols: g.r,
                diagonal: true,
            },
            Box::new(move |row, col| {
                let (fr, n) = (row / g.n, row % g.n);
                let k = fr * g.r + col;
                (k < g.k).then(|| o.filter(k, n))
            }),
        ),
    };
    order.each(|row, col| visit(f(row, col)));
    order.elements()
}

/// The prefetch order's size without walking it.
fn prefetch_elements(df: Dataflow, g: &Geometry, which: usize) -> u64 {
    match (df, which) {
        (Dataflow::Ws, 0) => g.m * g.row_fold * g.r,
        (Dataflow::Ws, _) => g.k * g.col_fold * g.c,
        (Dataflow::Os, 0) => g.k * g.row_fold * g.r,
        (Dataflow::Os, _) => g.k * g.col_fold * g.c,
        (Dataflow::Is, 0) => g.k * g.col_fold * g.c,
        (Dataflow::Is, _) => g.n * g.row_fold * g.r,
    }
}

/// A read buffer: serves one address of a demand row at `cycle`; `offset` is the row's
/// service delay so far (hit latency 1 plus stalls), which a USER-mode miss raises.
trait ReadBuffer {
    fn read(&mut self, cycle: i64, offset: &mut i64, addr: u64) -> Result<()>;
    /// DRAM reads with their start and stop cycles, after the last row.
    fn finish(self) -> Result<Access>;
}

/// `read_buffer_estimate_bw` (CALC mode).
struct CalcBuffer {
    /// Per address: 1 + the prefetch epoch in which it last joined a set; 0: never.
    epoch: Vec<u32>,
    epochs: u32,
    joined: u64,
    /// Joins between prefetches: 50 sets of `floor(words / 100)`.
    window: u64,
    items_per_set: u64,
    first_request: Option<i64>,
    /// Cycles of the first and the last two prefetches.
    first_prefetch: Option<i64>,
    last_prefetch: Option<i64>,
    two_in_one_cycle: bool,
}

impl CalcBuffer {
    fn new(words: u64, addresses: u64) -> Self {
        let items_per_set = words / 100;
        CalcBuffer {
            epoch: vec![0; addresses as usize],
            epochs: 0,
            joined: 0,
            window: 50 * items_per_set,
            items_per_set,
            first_request: None,
            first_prefetch: None,
            last_prefetch: None,
            two_in_one_cycle: false,
        }
    }
}

impl ReadBuffer for CalcBuffer {
    #[inline(always)]
    fn read(&mut self, cycle: i64, _offset: &mut i64, addr: u64) -> Result<()> {
        if self.first_request.is_none() {
            self.first_request = Some(cycle);
        }
        let e = &mut self.epoch[addr as usize];
        if *e == self.epochs + 1 {
            return Ok(());
        }
        *e = self.epochs + 1;
        self.joined += 1;
        if self.joined % self.window == 0 {
            self.epochs += 1;
            if self.epochs > 1 && self.last_prefetch == Some(cycle) {
                self.two_in_one_cycle = true;
            }
            self.first_prefetch.get_or_insert(cycle);
            self.last_prefetch = Some(cycle);
        }
        Ok(())
    }

    fn finish(self) -> Result<Access> {
        if self.joined == 0 {
            return Err(scalesim_fails(
                "an operand without a single address leaves its DRAM trace empty",
            ));
        }
        if self.two_in_one_cycle {
            return Err(scalesim_fails(
                "two prefetch windows close in one cycle: a division by zero in read_buffer_estimate_bw",
            ));
        }
        let bw = CALC_PREFETCH_WORDS_PER_CYCLE;
        match (self.first_request, self.first_prefetch, self.last_prefetch) {
            (Some(first), Some(_), Some(last)) => Ok(Access {
                start_cycle: first - (self.window.div_ceil(bw)) as i64,
                stop_cycle: last + 1,
                count: self.joined,
            }),
            _ => {
                let sets = self.joined.div_ceil(self.items_per_set);
                Ok(Access {
                    start_cycle: -((sets * self.items_per_set).div_ceil(bw) as i64),
                    stop_cycle: -1,
                    count: self.joined,
                })
            }
        }
    }
}

/// `read_buffer` (USER mode).
struct UserBuffer {
    /// Per address, the sets of the prefetch order that hold it: `ids[starts[a]..starts[a+1]]`.
    starts: Vec<u32>,
    ids: Vec<u32>,
    sets: u64,
    active_sets: u64,
    prefetch_sets: u64,
    /// First set of the active window.
    window: u64,
    /// Every address is in the first window: no prefetch is ever needed.
    all_hit: bool,
    lines_per_prefetch: u64,
    fetch_lines: u64,
    words_per_line: u64,
    last_prefetch: i64,
    accesses: u64,
    start_cycle: i64,
}

impl UserBuffer {
    /// Built from the operand's prefetch order; the first prefetch is made at cycle 0 (the
    /// first demand row), before any request.
    fn new(
        words: u64,
        bw: u64,
        addresses: u64,
        elements: u64,
        each: impl Fn(&mut dyn FnMut(Option<u64>)),
    ) -> Self {
        let per_set = words.div_ceil(100);
        let active_size = (words as f64 * 0.5).ceil() as u64;
        let prefetch_size = words - active_size;
        let mut counts = vec![0u32; addresses as usize + 1];
        let mut valid = 0u64;
        each(&mut |a| {
            if let Some(a) = a {
                counts[a as usize + 1] += 1;
                valid += 1;
            }
        });
        let mut starts = counts;
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut fill = starts.clone();
        let mut ids = vec![0u32; valid as usize];
        let mut v = 0u64;
        each(&mut |a| {
            if let Some(a) = a {
                let slot = &mut fill[a as usize];
                ids[*slot as usize] = (v / per_set) as u32;
                *slot += 1;
                v += 1;
            }
        });
        let sets = valid / per_set + 1;
        let active_sets = active_size.div_ceil(per_set).min(sets);
        let prefetch_sets = prefetch_size.div_ceil(per_set).min(sets - active_sets);
        let fetch_lines = elements.div_ceil(bw);
        let first_lines = active_size.div_ceil(bw).min(fetch_lines);
        UserBuffer {
            starts,
            ids,
            sets,
            active_sets,
            prefetch_sets,
            window: 0,
            all_hit: active_sets == sets,
            lines_per_prefetch: prefetch_size.div_ceil(bw),
            fetch_lines,
            words_per_line: bw,
            last_prefetch: -1,
            accesses: first_lines * bw,
            start_cycle: -(first_lines as i64),
        }
    }

    #[inline(always)]
    fn hit(&self, addr: u64) -> bool {
        let (a, b) = (
            self.starts[addr as usize] as usize,
            self.starts[addr as usize + 1] as usize,
        );
        self.ids[a..b]
            .iter()
            .any(|&s| (s as u64 + self.sets - self.window) % self.sets < self.active_sets)
    }
}

impl ReadBuffer for UserBuffer {
    #[inline(always)]
    fn read(&mut self, cycle: i64, offset: &mut i64, addr: u64) -> Result<()> {
        if self.all_hit {
            return Ok(());
        }
        let mut moves = 0;
        while !self.hit(addr) {
            if self.lines_per_prefetch > self.fetch_lines {
                return Err(scalesim_fails(
                    "a prefetch longer than the operand's whole prefetch matrix: a shape mismatch in read_buffer.new_prefetch",
                ));
            }
            self.window = (self.window + self.prefetch_sets) % self.sets;
            self.accesses += self.lines_per_prefetch * self.words_per_line;
            self.last_prefetch += self.lines_per_prefetch as i64 + 1;
            let wait = self.last_prefetch - (cycle + *offset);
            if wait > 0 {
                *offset += wait;
            }
            moves += 1;
            if moves > self.sets {
                return Err(Error::Internal(format!(
                    "SCALE-Sim read buffer: address {addr} is in none of the {} prefetch sets",
                    self.sets
                )));
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Access> {
        Ok(Access {
            start_cycle: self.start_cycle,
            stop_cycle: self.last_prefetch,
            count: self.accesses,
        })
    }
}

/// `write_buffer`: output words fill lines of `width`; drains move half a buffer's lines.
struct WriteBuffer {
    width: u64,
    /// Free words (SCALE-Sim's `free_space`, which a drain credits at its start).
    free: i64,
    /// A drain starts once fewer than this many words are free.
    active: i64,
    lines_per_drain: u64,
    /// Words in the open line.
    open: u64,
    /// Closed, undrained lines as runs of (lines, words per line).
    runs: VecDeque<(u64, u64)>,
    lines: u64,
    drain_end: i64,
    accesses: u64,
    first_drain: Option<i64>,
    last_drain_stop: i64,
}

impl WriteBuffer {
    fn new(words: u64, width: u64) -> Self {
        let active = (words as f64 * 0.5).ceil() as u64;
        let drain = words - active;
        WriteBuffer {
            width,
            free: words as i64,
            active: active as i64,
            lines_per_drain: drain.div_ceil(width),
            open: 0,
            runs: VecDeque::new(),
            lines: 0,
            drain_end: 0,
            accesses: 0,
            first_drain: None,
            last_drain_stop: 0,
        }
    }

    fn push_lines(&mut self, lines: u64, words: u64) {
        if lines == 0 {
            return;
        }
        match self.runs.back_mut() {
            Some((n, w)) if *w == words => *n += lines,
            _ => self.runs.push_back((lines, words)),
        }
        self.lines += lines;
    }

    fn store(&mut self, n: u64) {
        self.free -= n as i64;
        self.open += n;
        let full = self.open / self.width;
        self.open %= self.width;
        self.push_lines(full, self.width);
    }

    /// Closes the open line (SCALE-Sim's forced `append_to_trace_mat`).
    fn close(&mut self) {
        if self.open > 0 {
            let open = self.open;
            self.push_lines(1, open);
            self.open = 0;
        }
    }

    /// `empty_drain_buf`: returns the drain's last cycle.
    fn drain(&mut self, start: i64) -> Result<i64> {
        let n = self.lines_per_drain.min(self.lines);
        if n == 0 {
            return Err(scalesim_fails(
                "a drain with no line to move: an index error in write_buffer.empty_drain_buf",
            ));
        }
        let mut left = n;
        let mut last_words = 0;
        while left > 0 {
            let (lines, words) = self.runs.front_mut().expect("lines are counted");
            let take = left.min(*lines);
            *lines -= take;
            left -= take;
            last_words = *words;
            if *lines == 0 {
                self.runs.pop_front();
            }
        }
        self.lines -= n;
        let data = n * self.width - (self.width - last_words);
        self.free += data as i64;
        self.accesses += data;
        self.first_drain.get_or_insert(start);
        let stop = start + n as i64 - 1;
        self.last_drain_stop = stop;
        Ok(stop)
    }

    /// `service_writes` of one demand row of `words` outputs at `cycle`: the cycle it is done.
    fn write_row(&mut self, cycle: i64, words: u64) -> Result<i64> {
        let mut current = cycle;
        let mut left = words;
        while left > 0 {
            if current < self.drain_end {
                // Stall only when a store leaves no free word while a drain is under way.
                if self.free > left as i64 {
                    self.store(left);
                    left = 0;
                } else {
                    let s = (self.free.max(1) as u64).min(left);
                    self.store(s);
                    left -= s;
                    if self.free <= 0 {
                        current = self.drain_end;
                    }
                }
            } else {
                let s = ((self.free - self.active + 1).max(1) as u64).min(left);
                self.store(s);
                left -= s;
                if self.free < self.active {
                    self.close();
                    self.drain_end = self.drain(current)?;
                }
            }
        }
        Ok(current)
    }

    /// `empty_all_buffers` after the last row: drains what is left, back to back.
    fn finish(mut self, mut cycle: i64) -> Result<Access> {
        self.close();
        while self.lines > 0 {
            self.drain_end = self.drain(cycle)?;
            cycle = self.drain_end + 1;
        }
        match self.first_drain {
            Some(start) => Ok(Access {
                start_cycle: start,
                stop_cycle: self.last_drain_stop,
                count: self.accesses,
            }),
            None => Err(scalesim_fails(
                "no output was written, so the output DRAM trace is empty",
            )),
        }
    }
}

/// First and last serviced cycles of the rows that carry at least one address.
#[derive(Default)]
struct Span {
    first: Option<i64>,
    last: i64,
}

impl Span {
    #[inline(always)]
    fn see(&mut self, cycle: i64) {
        if self.first.is_none() {
            self.first = Some(cycle);
        }
        self.last = cycle;
    }
    fn access(&self, count: u64) -> Access {
        Access {
            start_cycle: self.first.unwrap_or(0),
            stop_cycle: self.last,
            count,
        }
    }
}

/// Checks a layer against the sizes this model handles before anything is allocated.
fn check_sizes(setup: &Setup, shape: &ConvShape) -> Result<()> {
    let (m, n, k) = shape.mnk();
    let g = Geometry::new(setup, shape);
    let too_big = |what: &str, words: u64| {
        Err(Error::Unsupported(format!(
            "the SCALE-Sim memory model keeps a table entry per {what} word; this layer has {words}, more than {MAX_OPERAND_WORDS}"
        )))
    };
    if shape.ifmap_elements() > MAX_OPERAND_WORDS {
        return too_big("ifmap", shape.ifmap_elements());
    }
    if k * n > MAX_OPERAND_WORDS {
        return too_big("filter", k * n);
    }
    if m > MAX_OPERAND_WORDS || k > MAX_OPERAND_WORDS {
        return too_big("GEMM row or column", m.max(k));
    }
    if let Interface::User { .. } = setup.interface {
        for which in 0..2 {
            let e = prefetch_elements(setup.dataflow, &g, which);
            if e > MAX_OPERAND_WORDS {
                return too_big("prefetch-order", e);
            }
        }
    }
    for (name, words) in [
        ("ifmap", setup.ifmap_words),
        ("filter", setup.filter_words),
        ("ofmap", setup.ofmap_words),
    ] {
        if words < 100 {
            return Err(Error::Unsupported(format!(
                "SCALE-Sim's {name} buffer holds {words} words; its sets are 1/100 of a buffer, so it needs at least 100"
            )));
        }
    }
    Ok(())
}

/// SCALE-Sim v2's figures for one layer.
pub fn simulate(setup: &Setup, shape: &ConvShape) -> Result<LayerMemory> {
    check_sizes(setup, shape)?;
    match setup.dataflow {
        Dataflow::Ws => run_dataflow(setup, shape, Ws),
        Dataflow::Os => run_dataflow(setup, shape, Os),
        Dataflow::Is => run_dataflow(setup, shape, Is),
    }
}

fn run_dataflow<D: DemandRows>(setup: &Setup, shape: &ConvShape, d: D) -> Result<LayerMemory> {
    let g = Geometry::new(setup, shape);
    let o = Operands {
        g,
        ifmap: IfmapAddresses::new(shape),
    };
    let addresses = [shape.ifmap_elements(), g.k * g.n];
    match setup.interface {
        Interface::Calc => {
            let ifmap = CalcBuffer::new(setup.ifmap_words, addresses[0]);
            let filter = CalcBuffer::new(setup.filter_words, addresses[1]);
            let ofmap = WriteBuffer::new(setup.ofmap_words, setup.cols);
            run_rows(&o, &d, ifmap, filter, ofmap)
        }
        Interface::User {
            words_per_cycle: bw,
        } => {
            let buffer = |which: usize, words: u64| {
                UserBuffer::new(
                    words,
                    bw,
                    addresses[which],
                    prefetch_elements(setup.dataflow, &g, which),
                    |visit| {
                        prefetch_order(setup.dataflow, &o, which, visit);
                    },
                )
            };
            let ifmap = buffer(0, setup.ifmap_words);
            let filter = buffer(1, setup.filter_words);
            let ofmap = WriteBuffer::new(setup.ofmap_words, bw);
            run_rows(&o, &d, ifmap, filter, ofmap)
        }
    }
}

/// `double_buffered_scratchpad.service_memory_requests`: every demand row in order.
fn run_rows<D: DemandRows, B: ReadBuffer>(
    o: &Operands,
    d: &D,
    mut ifmap: B,
    mut filter: B,
    mut ofmap: WriteBuffer,
) -> Result<LayerMemory> {
    let g = &o.g;
    let pes = g.r * g.c;
    let (util_cycles, t_extent) = d.util_cycles(g);
    let (mut mapping_sum, mut util_sum, mut folds) = (0.0f64, 0.0f64, 0u64);
    let (mut if_span, mut f_span, mut of_span) =
        (Span::default(), Span::default(), Span::default());
    let mut stall: i64 = 0;
    let mut row: i64 = 0;
    let mut last_out = 0i64;
    let mut failure: Option<Error> = None;
    for fc in 0..g.col_fold {
        for fr in 0..g.row_fold {
            let f = Fold { fc, fr };
            let (ru, cu) = d.used(g, f);
            mapping_sum += (ru * cu) as f64 / pes as f64;
            util_sum += (ru * cu * t_extent) as f64 / (pes * util_cycles) as f64;
            folds += 1;
            for t in 0..g.fold_rows {
                let cycle = row + stall;
                let mut offset = 1i64;
                let mut any = false;
                d.ifmap(o, f, t, |a| {
                    if let Some(a) = a {
                        any = true;
                        if let Err(e) = ifmap.read(cycle, &mut offset, a) {
                            failure.get_or_insert(e);
                        }
                    }
                });
                let if_stall = offset - 1;
                if any {
                    if_span.see(cycle + offset);
                }
                let mut offset = 1i64;
                let mut any = false;
                d.filter(o, f, t, |a| {
                    if let Some(a) = a {
                        any = true;
                        if let Err(e) = filter.read(cycle, &mut offset, a) {
                            failure.get_or_insert(e);
                        }
                    }
                });
                let f_stall = offset - 1;
                if any {
                    f_span.see(cycle + offset);
                }
                if let Some(e) = failure.take() {
                    return Err(e);
                }
                let words = d.ofmap_count(g, f, t);
                let out = if words > 0 {
                    let out = ofmap.write_row(cycle, words)?;
                    of_span.see(out);
                    out
                } else {
                    cycle
                };
                last_out = out;
                stall += if_stall.max(f_stall).max(out - cycle);
                row += 1;
            }
        }
    }
    let sram_counts = d.sram_counts(g);
    let dram = [ifmap.finish()?, filter.finish()?, ofmap.finish(last_out)?];
    Ok(LayerMemory {
        total_cycles: last_out,
        stall_cycles: stall as u64,
        demand_rows: row as u64,
        macs: g.m * g.n * g.k,
        pes,
        mapping_efficiency: mapping_sum / folds as f64,
        compute_utilization: util_sum / folds as f64,
        sram: [
            if_span.access(sram_counts[0]),
            f_span.access(sram_counts[1]),
            of_span.access(sram_counts[2]),
        ],
        dram,
    })
}
