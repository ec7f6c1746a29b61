//! The fold loop of a weight layer: per-PE step costs from the PE kind's cost model, filters
//! scheduled, the array walked fold by fold and M-tile by M-tile. Two evaluations share the
//! bookkeeping (`Tally`): step costs constant over a fold (closed-form lock-step,
//! [`fold_loop`]), and step costs that change from step to step when zero activations are
//! skipped or activation magnitudes are read (`skipping`: [`fold_loop_skipping`],
//! [`fold_loop_values`]).

use crate::arch::{Arch, Dataflow};

use super::costs;
use super::lockstep::{self, StepCosts};
use super::systolic::{self, FoldTiming};
use super::{Actions, LayerPlan};

mod skipping;
pub use skipping::{fold_loop_skipping, fold_loop_values};

/// Cycles and actions of a weight-stationary (or unit-cost) layer, fold by fold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldSums {
    pub compute_cycles: u64,
    pub imbalance_cycles: u64,
    /// Cycles the array waits because a buffer port cannot deliver the fold's words in time.
    pub sram_stall_cycles: u64,
    /// Array-side buffer accesses in words.
    pub words: BufferWords,
    pub actions: Actions,
}

/// Array-side accesses of the three buffers, in words of each buffer's `word_bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BufferWords {
    pub input_read: u64,
    pub weight_read: u64,
    pub output_write: u64,
    pub output_read: u64,
}

/// What one fold asks of the buffer ports, in words: an access moves one array row's
/// operands of a step (inputs), one array row's weights of a load, or the bottom row's
/// partial sums of a step, each rounded up to whole words.
#[derive(Debug, Clone, Copy, Default)]
pub struct PortDemand {
    pub load_words: u64,
    pub input_words_per_step: u64,
    pub psum_write_words_per_step: u64,
    pub psum_read_words_per_step: u64,
}

/// Operand widths the ports move: activations, stored weight bits (code and skip index),
/// partial sums.
#[derive(Debug, Clone, Copy)]
pub struct PortBits {
    pub activation: u64,
    pub weight: u64,
    pub psum: u64,
}

impl PortDemand {
    /// The demand of a fold whose active rows hold `held` reduction indices of each of its
    /// `cols_active` filters, given as (rows, indices each) runs, so O(runs) rather than
    /// O(rows); `read_psums` for every row fold but the first.
    pub fn of_rows(
        arch: &Arch,
        held: &[(u64, u64)],
        cols_active: u64,
        read_psums: bool,
        b: PortBits,
    ) -> Self {
        let words = |bits: u64, w: u32| bits.div_ceil(w as u64);
        let (ib, wb, ob) = (
            arch.input_buffer.word_bits,
            arch.weight_buffer.word_bits,
            arch.output_buffer.word_bits,
        );
        let psum = words(cols_active * b.psum, ob);
        PortDemand {
            load_words: held
                .iter()
                .map(|&(r, h)| r * words(h * cols_active * b.weight, wb))
                .sum(),
            input_words_per_step: held
                .iter()
                .map(|&(r, h)| r * words(h * b.activation, ib))
                .sum(),
            psum_write_words_per_step: psum,
            psum_read_words_per_step: if read_psums { psum } else { 0 },
        }
    }
}

/// Cycles a port of `rate` words per cycle needs for `words` (0 when unlimited).
pub fn port_cycles(words: u64, rate: Option<f64>) -> u64 {
    rate.map_or(0, |r| (words as f64 / r).ceil() as u64)
}

/// Filter order within a conv group: by total work, heaviest first (stable), when the
/// architecture schedules offline; identity otherwise.
pub fn schedule_filters(arch: &Arch, work: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..work.len()).collect();
    if arch.schedule {
        order.sort_by_key(|&f| std::cmp::Reverse(work[f]));
    }
    order
}

/// What every fold adds up, whichever way its streaming time was found.
struct Tally<'a> {
    arch: &'a Arch,
    /// Weight-load cycles of one fold (each M-tile reloads the fold's weights).
    load: u64,
    sums: FoldSums,
}

impl<'a> Tally<'a> {
    fn new(arch: &'a Arch) -> Self {
        Tally {
            arch,
            load: arch.rows as u64 * arch.pe.weights_per_lane as u64,
            sums: FoldSums {
                compute_cycles: 0,
                imbalance_cycles: 0,
                sram_stall_cycles: 0,
                words: BufferWords::default(),
                actions: Actions::default(),
            },
        }
    }

    /// `count` M-tiles of `tile` steps that each stream for `stream` cycles; `cost_sum` over
    /// `cost_terms` (active PE, step) pairs gives the mean step cost of an active PE. The
    /// balanced time is the wavefront at that mean cost; the rest is imbalance. A port that
    /// cannot deliver the load's or the stream's words in that time stalls the array for the
    /// difference (the slowest buffer decides).
    fn tiles(
        &mut self,
        count: u64,
        tile: u64,
        stream: u64,
        (cost_sum, cost_terms): (u64, u64),
        d: &PortDemand,
    ) {
        let (rows, cols) = (self.arch.rows as u64, self.arch.cols as u64);
        let wave = tile + rows + cols - 2;
        let balanced = (wave as f64 * cost_sum as f64 / cost_terms.max(1) as f64).round() as u64;
        self.sums.imbalance_cycles += count * stream.saturating_sub(balanced);
        self.sums.compute_cycles += count * (self.load + stream);
        self.sums.actions.idle_lane_cycles +=
            count * stream * self.arch.pes() * self.arch.pe.lanes as u64;
        let (ib, wb, ob) = (
            &self.arch.input_buffer,
            &self.arch.weight_buffer,
            &self.arch.output_buffer,
        );
        let (inp, pw, pr) = (
            tile * d.input_words_per_step,
            tile * d.psum_write_words_per_step,
            tile * d.psum_read_words_per_step,
        );
        let load_stall =
            port_cycles(d.load_words, wb.read_words_per_cycle).saturating_sub(self.load);
        let stream_need = port_cycles(inp, ib.read_words_per_cycle)
            .max(port_cycles(pw, ob.write_words_per_cycle))
            .max(port_cycles(pr, ob.read_words_per_cycle));
        self.sums.sram_stall_cycles = self.sums.sram_stall_cycles.saturating_add(
            count.saturating_mul(load_stall.saturating_add(stream_need.saturating_sub(stream))),
        );
        let w = &mut self.sums.words;
        w.weight_read += count * d.load_words;
        w.input_read += count * inp;
        w.output_write += count * pw;
        w.output_read += count * pr;
    }

    /// Idle lane-cycles are the streaming lane-cycles not busy.
    fn finish(mut self) -> FoldSums {
        let a = &mut self.sums.actions;
        a.idle_lane_cycles -= a.busy_lane_cycles.min(a.idle_lane_cycles);
        self.sums
    }
}

/// Which (K chunk, filter) PE (r, c) of fold (rf, cf) holds, `None` where it holds nothing.
fn holder(
    arch: &Arch,
    plan: &LayerPlan,
    order: &[usize],
    (rf, cf): (usize, usize),
    (r, c): (usize, usize),
) -> Option<(usize, usize)> {
    let (ch, fi) = (rf * arch.rows as usize + r, cf * arch.cols as usize + c);
    (ch < plan.k_chunks as usize && fi < plan.n as usize).then(|| (ch, order[fi]))
}

/// Output- and input-stationary dense layers: every PE costs one cycle per step.
fn unit_cost_loop(arch: &Arch, plan: &LayerPlan, ft: &FoldTiming) -> FoldSums {
    // An input-stationary fold first loads its inputs (R cycles); output-stationary folds have
    // no separate load.
    let fold = systolic::fold_cycles(arch.dataflow, arch.rows as u64, arch.cols as u64, plan.t);
    let load = if arch.dataflow == Dataflow::Is {
        arch.rows as u64
    } else {
        0
    };
    let stream = fold - load;
    let macs = plan.gemm.macs();
    let a = Actions {
        mults: macs,
        adds: macs,
        busy_lane_cycles: macs,
        weight_reg_reads: macs,
        operand_selects: macs,
        activation_reg_writes: macs,
        psum_reg_updates: macs,
        idle_lane_cycles: ft.folds * stream * arch.pes() - macs,
        ..Actions::default()
    };
    // Words and port stalls follow at layer level from the element counts (see
    // `engine::unit_cost_ports`).
    FoldSums {
        compute_cycles: ft.folds * (load + stream),
        imbalance_cycles: 0,
        sram_stall_cycles: 0,
        words: BufferWords::default(),
        actions: a,
    }
}

/// The fold loop when every PE's step cost is constant over a fold: the fold's streaming time
/// in closed form from the per-PE costs ([`lockstep::stream_cycles`]).
///
/// The per-(chunk, filter) costs come from [`costs::group_costs`] (kept with the codes, so
/// shared by every design with the same PE shape). When they do not depend on the codes,
/// every PE of a chunk costs the same, so folds come in at most six shapes (the first, the
/// middle and the last row fold, by the full and the last column fold): each is evaluated
/// once and counted as often as it occurs.
pub fn fold_loop(arch: &Arch, plan: &LayerPlan, ft: &FoldTiming) -> FoldSums {
    fold_loop_shapes(arch, plan, ft, true)
}

/// [`fold_loop`] evaluating every fold, whatever the costs (what the closed form for uniform
/// layers is tested against).
#[doc(hidden)]
pub fn fold_loop_every_fold(arch: &Arch, plan: &LayerPlan, ft: &FoldTiming) -> FoldSums {
    fold_loop_shapes(arch, plan, ft, false)
}

fn fold_loop_shapes(arch: &Arch, plan: &LayerPlan, ft: &FoldTiming, collapse: bool) -> FoldSums {
    if arch.dataflow != Dataflow::Ws {
        return unit_cost_loop(arch, plan, ft);
    }
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let t = plan.t;
    let n = plan.n as usize;
    let chunks = plan.k_chunks as usize;
    let mut tally = Tally::new(arch);
    // M streams in tiles: full ones of m_tile rows and possibly one shorter last tile.
    let tiles: Vec<(u64, u64)> = {
        let (full, rest) = (t / ft.m_tile, t % ft.m_tile);
        let mut v = vec![(ft.m_tile, full)];
        if rest > 0 {
            v.push((rest, 1));
        }
        v
    };
    let per_filter = plan.cost.needs_codes();
    let brick = arch.sync_scope == crate::arch::SyncScope::Brick;
    let slots = arch.pe.weights_per_lane as usize;
    let (row_folds, col_folds) = (ft.row_folds as usize, ft.col_folds as usize);
    // Folds as (index, how many folds share its shape).
    let classes = |folds: usize, first_apart: bool| -> Vec<(usize, u64)> {
        if per_filter || !collapse {
            return (0..folds).map(|i| (i, 1)).collect();
        }
        let mut v = Vec::new();
        if first_apart && folds > 1 {
            // The first row fold reads no partial sums: its port demand differs.
            v.push((0, 1));
            if folds > 2 {
                v.push((1, folds as u64 - 2));
            }
        } else if folds > 1 {
            v.push((0, folds as u64 - 1));
        }
        v.push((folds - 1, 1));
        v
    };
    let (row_classes, col_classes) = (classes(row_folds, true), classes(col_folds, false));
    let mut s = StepCosts {
        rows,
        cols,
        s: vec![1; rows * cols],
    };
    // Array lock-step needs only each anti-diagonal's most expensive PE (idle PEs cost 1).
    let diagonals = arch.sync_scope == crate::arch::SyncScope::Array;
    let mut d = vec![1u64; rows + cols - 1];
    let mut b = lockstep::BrickCosts {
        rows,
        cols,
        slots,
        s: vec![0; if brick { rows * cols * slots } else { 0 }],
    };
    for g in 0..plan.gemm.groups as usize {
        let table = costs::group_costs(arch, plan, g);
        table.add_actions(
            &mut tally.sums.actions,
            if per_filter { t } else { t * n as u64 },
        );
        if plan.cost.shares_window_sums() {
            // One window sum per row and step, shared by the fold's filters.
            tally.sums.actions.window_sum_adds += table.held.iter().sum::<u64>() * t * ft.col_folds;
        }
        let order = &table.order;
        // Row folds outermost: a row fold's chunks are read column fold after column fold,
        // along the table's rows (the sums do not depend on the order).
        for &(rf, rmult) in &row_classes {
            for &(cf, cmult) in &col_classes {
                let (mut active_sum, mut active) = (0u64, 0u64);
                if diagonals {
                    d.fill(1);
                    let used = n.saturating_sub(cf * cols).min(cols);
                    for r in 0..rows.min(chunks.saturating_sub(rf * rows)) {
                        let ch = rf * rows + r;
                        let line = &mut d[r..r + used];
                        if per_filter {
                            let at = ch * n + cf * cols;
                            for (x, &v) in line.iter_mut().zip(&table.cost[at..at + used]) {
                                active_sum += v as u64;
                                *x = (*x).max(v as u64);
                            }
                        } else {
                            let v = table.at(ch, 0);
                            active_sum += v * used as u64;
                            line.iter_mut().for_each(|x| *x = (*x).max(v));
                        }
                        active += used as u64;
                    }
                }
                let walk_rows = if diagonals { 0 } else { rows };
                for r in 0..walk_rows {
                    let ch = rf * rows + r;
                    let line = &mut s.s[r * cols..(r + 1) * cols];
                    if ch >= chunks {
                        line.fill(1);
                        continue;
                    }
                    for (c, v) in line.iter_mut().enumerate() {
                        let fi = cf * cols + c;
                        *v = if fi < n {
                            let x = table.at(ch, fi);
                            active_sum += x;
                            active += 1;
                            x
                        } else {
                            1
                        };
                    }
                }
                let demand = plan.fold_demand(arch, rf, cf);
                if brick {
                    b.s.fill(0);
                    if per_filter {
                        for r in 0..rows {
                            for c in 0..cols {
                                if let Some((ch, f)) = holder(arch, plan, order, (rf, cf), (r, c)) {
                                    let (from, to) = ((ch * n + f) * slots, (r * cols + c) * slots);
                                    b.s[to..to + slots]
                                        .copy_from_slice(&table.slot_cost[from..from + slots]);
                                }
                            }
                        }
                    }
                }
                for &(tile_t, count) in &tiles {
                    let stream = if brick {
                        lockstep::brick_cycles(&b, tile_t)
                    } else if diagonals {
                        lockstep::diagonal_cycles(&d, tile_t)
                    } else {
                        lockstep::stream_cycles(arch.sync_scope, &s, tile_t)
                    };
                    tally.tiles(
                        count * cmult * rmult,
                        tile_t,
                        stream,
                        (active_sum, active),
                        &demand,
                    );
                }
            }
        }
    }
    tally.finish()
}
