//! The per-cycle reference engine: a literal simulation of a weight-stationary array, one
//! cycle at a time, for checking the fast engine and for `plumsim run --reference`.
//!
//! Every PE runs a small program derived directly from its codes (a compacted non-zero list,
//! a sequence of slots, per-lane digit queues, SWIS shared positions), advanced one cycle per
//! loop iteration. Neighbours hand over activations (left to right) and partial sums (top to
//! bottom) when a step finishes; a result becomes visible to a neighbour the cycle after it
//! is produced. The lock-step scope decides which PEs start their steps together. Nothing
//! here calls the fast engine's cost or closed-form code: the property tests hold the two
//! equal on random layers.
//!
//! [`simulate_layer_traced`] runs the same simulation and reports every buffer access and
//! every lane's state per cycle to a [`TraceSink`] (see [`crate::trace`]); the counts and
//! cycles it returns do not depend on the sink.

use crate::arch::{Arch, BitEncoding, Dataflow, SyncScope};
use crate::error::{Error, Result};
use crate::quant::QuantizedTensor;
use crate::trace::{
    Access, LaneState, NoTrace, SramAccess, SramBuffer, TraceSink, INPUT_BASE, OUTPUT_BASE,
    WEIGHT_BASE,
};
use crate::workload::{Layer, Network};

use super::pe::CostModel;
use super::{schedule_filters, Actions, LayerPlan};

/// Counts of one layer from the reference engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReferenceResult {
    pub folds: u64,
    pub compute_cycles: u64,
    pub actions: Actions,
    pub input_buffer_reads: u64,
    pub weight_buffer_reads: u64,
    pub output_buffer_writes: u64,
    pub output_buffer_reads: u64,
}

/// Most PE-cycles the reference engine will simulate for one layer.
pub const MAX_PE_CYCLES: u64 = 2_000_000_000;

/// What one PE does in one step, cycle by cycle.
#[derive(Debug, Clone)]
enum Program {
    /// Slots processed one after another, all lanes together: `len[slot]` cycles each;
    /// `work[slot][lane]` = the lane's effectual cycles (its first ones); bit i of
    /// `adds[slot][lane]` = the lane adds into its accumulator in cycle i of the slot.
    Slots {
        len: Vec<u64>,
        work: Vec<Vec<u64>>,
        adds: Vec<Vec<u64>>,
        mults: bool,
        shifts_per_cycle: ShiftRule,
    },
    /// Lanes walking their own queues of cycles (bit-sparse, lane scope).
    Lanes { queues: Vec<u64> },
    /// A compacted list of `items` additions, `lanes` per cycle.
    List { items: u64, lanes: u64 },
    /// A compacted list of `items` pairs (zero activations skipped), `lanes` at a time, each
    /// batch taking `bits` cycles (1 for parallel PEs); `mults`: dense MACs; `shifts`: serial.
    Pairs {
        items: u64,
        lanes: u64,
        bits: u64,
        mults: bool,
        shifts: bool,
    },
}

#[derive(Debug, Clone, Copy)]
enum ShiftRule {
    None,
    /// One shift per busy lane-cycle (bit-serial shift-accumulate).
    PerBusyLane,
    /// One shift per cycle of the slot (a shared shifter).
    PerCycle,
}

/// A program in execution.
#[derive(Debug, Clone)]
struct Running {
    cycle: u64,
    total: u64,
    /// The step's own program when it depends on the step (zero activations skipped).
    own: Option<Program>,
}

impl Program {
    /// Cycles the program takes (at least one: the PE always passes its operands on).
    fn cycles(&self) -> u64 {
        let c = match self {
            Program::Slots { len, .. } => len.iter().sum(),
            Program::Lanes { queues } => queues.iter().copied().max().unwrap_or(0),
            Program::List { items, lanes } => items.div_ceil(*lanes),
            Program::Pairs {
                items, lanes, bits, ..
            } => items.div_ceil(*lanes) * bits,
        };
        c.max(1)
    }

    /// Whether `lane` does effectual work in cycle `i` of the program (the lanes
    /// [`Program::cycle_actions`] counts as busy).
    fn lane_busy(&self, i: u64, lane: usize) -> bool {
        match self {
            Program::Slots { len, work, .. } => {
                let mut start = 0;
                for (s, &l) in len.iter().enumerate() {
                    if i < start + l {
                        return work[s].get(lane).is_some_and(|&w| w > i - start);
                    }
                    start += l;
                }
                false
            }
            Program::Lanes { queues } => queues.get(lane).is_some_and(|&q| q > i),
            Program::List { items, lanes } => {
                (lane as u64) < items.saturating_sub(i * lanes).min(*lanes)
            }
            Program::Pairs {
                items, lanes, bits, ..
            } => (lane as u64) < items.saturating_sub(i / bits * lanes).min(*lanes),
        }
    }

    /// Actions of cycle `i` of the program.
    fn cycle_actions(&self, i: u64, a: &mut Actions) {
        match self {
            Program::Slots {
                len,
                work,
                adds,
                mults,
                shifts_per_cycle,
            } => {
                let mut start = 0;
                for (s, &l) in len.iter().enumerate() {
                    if i < start + l {
                        let within = i - start;
                        let busy = work[s].iter().filter(|&&w| w > within).count() as u64;
                        let add = adds[s].iter().filter(|&&m| m >> within & 1 == 1).count() as u64;
                        a.busy_lane_cycles += busy;
                        a.weight_reg_reads += busy;
                        a.adds += add;
                        if *mults {
                            a.mults += busy;
                        }
                        match shifts_per_cycle {
                            ShiftRule::None => {}
                            ShiftRule::PerBusyLane => a.shifts += busy,
                            ShiftRule::PerCycle => a.shifts += 1,
                        }
                        return;
                    }
                    start += l;
                }
            }
            Program::Lanes { queues } => {
                let busy = queues.iter().filter(|&&q| q > i).count() as u64;
                a.busy_lane_cycles += busy;
                a.weight_reg_reads += busy;
                a.adds += busy;
                a.shifts += busy;
            }
            Program::List { items, lanes } => {
                let done = i * lanes;
                let busy = items.saturating_sub(done).min(*lanes);
                a.busy_lane_cycles += busy;
                a.weight_reg_reads += busy;
                a.adds += busy;
            }
            Program::Pairs {
                items,
                lanes,
                bits,
                mults,
                shifts,
            } => {
                let busy = items.saturating_sub(i / bits * lanes).min(*lanes);
                a.busy_lane_cycles += busy;
                a.weight_reg_reads += busy;
                a.adds += busy;
                if *mults {
                    a.mults += busy;
                }
                if *shifts {
                    a.shifts += busy;
                }
            }
        }
    }
}

/// Mask of the first `n` cycles.
fn first(n: u64) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

fn digits(code: i32, enc: BitEncoding) -> u64 {
    let x = code.unsigned_abs() as u64;
    match enc {
        BitEncoding::Binary => x.count_ones() as u64,
        BitEncoding::Csd => {
            // Build the non-adjacent form digit by digit.
            let mut x = x as i64;
            let mut n = 0;
            while x != 0 {
                if x & 1 == 1 {
                    x -= 2 - (x & 3);
                    n += 1;
                }
                x >>= 1;
            }
            n
        }
    }
}

/// The program of the PE holding K indices `k0 ..` of `codes` (a filter's codes).
fn program(
    model: CostModel,
    arch: &Arch,
    codes: &[i32],
    k0: usize,
    group_bits: Option<(&[u8], &[u16])>,
) -> (Program, u64) {
    let lanes = arch.pe.lanes as usize;
    let slots = arch.pe.weights_per_lane as usize;
    let held: Vec<i32> = codes.iter().skip(k0).take(lanes * slots).copied().collect();
    let n_held = held.len() as u64;
    let slot_lanes = |s: usize| -> &[i32] { &held[s * lanes..((s + 1) * lanes).min(held.len())] };
    let occupied = held.len().div_ceil(lanes);
    let uniform =
        |cycles: u64, mults: bool, shifts: ShiftRule, adds_per_cycle: bool| Program::Slots {
            len: vec![cycles; occupied],
            work: (0..occupied)
                .map(|s| vec![cycles; slot_lanes(s).len()])
                .collect(),
            adds: (0..occupied)
                .map(|s| vec![if adds_per_cycle { first(cycles) } else { 0 }; slot_lanes(s).len()])
                .collect(),
            mults,
            shifts_per_cycle: shifts,
        };
    let p = match model {
        CostModel::Dense => uniform(1, true, ShiftRule::None, true),
        CostModel::Binary { repetition: false } => uniform(1, false, ShiftRule::None, true),
        CostModel::Binary { repetition: true } => {
            let plus = held.iter().filter(|&&c| c > 0).count() as u64;
            Program::List {
                items: plus.min(n_held - plus),
                lanes: lanes as u64,
            }
        }
        CostModel::ZeroSkip { repetition } => {
            let nnz = held.iter().filter(|&&c| c != 0).count() as u64;
            let items = if repetition {
                nnz.min(n_held - nnz)
            } else {
                nnz
            };
            Program::List {
                items,
                lanes: lanes as u64,
            }
        }
        CostModel::Serial { bits } => uniform(bits as u64, false, ShiftRule::PerBusyLane, true),
        CostModel::BitSparse { encoding } => {
            if arch.sync_scope == SyncScope::Lane {
                let mut queues = vec![0u64; lanes.min(held.len())];
                for (i, &c) in held.iter().enumerate() {
                    queues[i % lanes] += digits(c, encoding);
                }
                Program::Lanes { queues }
            } else {
                let work: Vec<Vec<u64>> = (0..occupied)
                    .map(|s| slot_lanes(s).iter().map(|&c| digits(c, encoding)).collect())
                    .collect();
                Program::Slots {
                    len: work
                        .iter()
                        .map(|w| w.iter().copied().max().unwrap_or(0))
                        .collect(),
                    adds: work
                        .iter()
                        .map(|w| w.iter().map(|&d| first(d)).collect())
                        .collect(),
                    work,
                    mults: false,
                    shifts_per_cycle: ShiftRule::PerBusyLane,
                }
            }
        }
        CostModel::SwisGroups => {
            let (shared, masks) = group_bits.expect("SWIS groups");
            let g0 = k0 / lanes;
            let mut len = Vec::new();
            let mut work = Vec::new();
            let mut adds = Vec::new();
            for s in 0..occupied {
                let n_g = shared[g0 + s] as u64;
                let mask = masks[g0 + s];
                let positions: Vec<u32> = (0..16).filter(|p| mask >> p & 1 == 1).collect();
                assert_eq!(positions.len() as u64, n_g, "SWIS mask and N_g disagree");
                len.push(n_g);
                work.push(vec![n_g; slot_lanes(s).len()]);
                // Cycle j handles the j-th shared position; a lane adds when its code has that bit.
                adds.push(
                    slot_lanes(s)
                        .iter()
                        .map(|&c| {
                            positions
                                .iter()
                                .enumerate()
                                .filter(|(_, &p)| c.unsigned_abs() >> p & 1 == 1)
                                .fold(0u64, |m, (j, _)| m | 1 << j)
                        })
                        .collect(),
                );
            }
            Program::Slots {
                len,
                work,
                adds,
                mults: false,
                shifts_per_cycle: ShiftRule::PerCycle,
            }
        }
        CostModel::FixedBits { bits } => Program::Slots {
            len: vec![bits as u64; occupied],
            work: (0..occupied)
                .map(|s| vec![bits as u64; slot_lanes(s).len()])
                .collect(),
            // Truncation keeps each weight's bits at its own positions: one add per set bit.
            adds: (0..occupied)
                .map(|s| {
                    slot_lanes(s)
                        .iter()
                        .map(|&c| first(c.unsigned_abs().count_ones() as u64))
                        .collect()
                })
                .collect(),
            mults: false,
            shifts_per_cycle: ShiftRule::PerCycle,
        },
    };
    (p, n_held)
}

/// Simulate one weight layer cycle by cycle. Weight-stationary arrays only; `codes` must be
/// given for cost models that need them (as for the fast engine).
/// The program of one step of a PE that skips zero activations: the held pairs whose
/// activation is non-zero (and, for zero-skipping kinds, whose weight is non-zero).
fn pairs_program(
    model: CostModel,
    lanes: u64,
    held: &[i32],
    active: impl Fn(usize) -> bool,
) -> Program {
    let weight_matters = matches!(model, CostModel::ZeroSkip { .. });
    let items = held
        .iter()
        .enumerate()
        .filter(|&(i, &w)| active(i) && (!weight_matters || w != 0))
        .count() as u64;
    let (bits, serial) = match model {
        CostModel::Serial { bits } => (bits as u64, true),
        _ => (1, false),
    };
    Program::Pairs {
        items,
        lanes,
        bits,
        mults: model == CostModel::Dense,
        shifts: serial,
    }
}

pub fn simulate_layer(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> Result<Option<ReferenceResult>> {
    simulate_layer_traced(arch, net, layer, codes, &mut NoTrace)
}

/// Where the trace of one fold's streaming phase goes, and what it needs to name addresses.
struct FoldTrace<'s> {
    sink: &'s mut dyn TraceSink,
    /// Cycle of the fold's first streaming cycle (compute time: stalls not included).
    base: u64,
    /// Conv group, first M row of the tile, first K chunk of the row fold.
    group: u64,
    m0: u64,
    ch0: u64,
    /// Filter (within the group) each column holds, None for unused columns.
    filters: Vec<Option<u64>>,
    k_per_pe: u64,
    /// GEMM sizes per group.
    m: u64,
    k: u64,
    n: u64,
    /// Bytes per access: activation, partial sum.
    input_bytes: u32,
    psum_bytes: u32,
}

impl FoldTrace<'_> {
    fn input_address(&self, m: u64, k: u64) -> u64 {
        INPUT_BASE + self.group * self.m * self.k + (self.m0 + m) * self.k + k
    }
    fn output_address(&self, m: u64, f: u64) -> u64 {
        OUTPUT_BASE + self.group * self.m * self.n + (self.m0 + m) * self.n + f
    }
}

/// Bytes one access moves: `bits` rounded up to whole bytes.
fn access_bytes(bits: u32) -> u32 {
    bits.div_ceil(8)
}

/// [`simulate_layer`], reporting every buffer access and every lane's state per cycle to
/// `sink`. Cycles are compute cycles (memory stalls are not simulated here); the sink is told
/// where each fold (weight load) starts.
pub fn simulate_layer_traced(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
    sink: &mut dyn TraceSink,
) -> Result<Option<ReferenceResult>> {
    let Some(gemm) = layer.gemm(net) else {
        return Ok(None);
    };
    if arch.dataflow != Dataflow::Ws {
        return Err(Error::Unsupported(
            "the reference engine models the weight-stationary dataflow only".into(),
        ));
    }
    let plan = LayerPlan::new(arch, layer, gemm, codes)?;
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let lanes = arch.pe.lanes as u64;
    let t = plan.t;
    let n = plan.n as usize;
    let chunks = plan.k_chunks as usize;
    let kpp = plan.k_per_pe as usize;
    let row_folds = chunks.div_ceil(rows);
    let col_folds = n.div_ceil(cols);
    let pe_cycles_est = gemm.groups
        * (row_folds * col_folds) as u64
        * (t + (rows + cols) as u64)
        * (rows * cols) as u64;
    if pe_cycles_est > MAX_PE_CYCLES {
        return Err(Error::Unsupported(format!(
            "layer `{}` is too large for the per-cycle reference engine (about {pe_cycles_est} PE-cycles; limit {MAX_PE_CYCLES})",
            layer.name
        )));
    }
    let m_tile = super::layer_m_tile(arch, net, layer, &gemm, codes);
    let ones = vec![1i32; plan.k as usize];
    // Zero activations, when the PEs skip them: the same statistics the fast engine draws.
    let mask = if arch.pe.skip_zero_activations {
        super::activations::layer_mask(net, layer)
    } else {
        None
    };
    let mut res = ReferenceResult::default();
    for g in 0..gemm.groups as usize {
        let filter_codes =
            |f: usize| -> &[i32] { codes.map_or(&ones[..], |q| q.filter_codes(g * n + f)) };
        let group_bits = |f: usize| {
            codes.and_then(|q| q.groups.as_ref()).map(|gr| {
                let per = gr.groups_per_filter as usize;
                let fi = g * n + f;
                (
                    &gr.shared[fi * per..(fi + 1) * per],
                    &gr.masks[fi * per..(fi + 1) * per],
                )
            })
        };
        // Programs per (chunk, filter) and the schedule from their lengths.
        let progs: Vec<Vec<(Program, u64)>> = (0..chunks)
            .map(|ch| {
                (0..n)
                    .map(|f| program(plan.model, arch, filter_codes(f), ch * kpp, group_bits(f)))
                    .collect()
            })
            .collect();
        // One step of the PE holding chunk `ch` of filter `f`, at GEMM row `m`, when zero
        // activations are skipped.
        let step_program = |f: usize, ch: usize, m: u64| -> Program {
            let mask = mask.as_ref().expect("skipping needs the activation mask");
            let k0 = ch * kpp;
            let held = &filter_codes(f)[k0..(k0 + kpp).min(plan.k as usize)];
            pairs_program(plan.model, lanes, held, |i| mask.get(g, m as usize, k0 + i))
        };
        let work: Vec<u64> = (0..n)
            .map(|f| {
                (0..chunks)
                    .map(|ch| match mask {
                        Some(_) => (0..t).map(|m| step_program(f, ch, m).cycles()).sum(),
                        None => progs[ch][f].0.cycles(),
                    })
                    .sum()
            })
            .collect();
        let order = schedule_filters(arch, &work);
        if matches!(plan.model, CostModel::Binary { repetition: true }) {
            let held_rows: u64 = (0..chunks).map(|ch| progs[ch][0].1).sum();
            res.actions.window_sum_adds += held_rows * t * col_folds as u64;
        }
        for cf in 0..col_folds {
            for rf in 0..row_folds {
                // The PE grid of this fold: None where no weights are held.
                let grid: Vec<Option<&(Program, u64)>> = (0..rows * cols)
                    .map(|i| {
                        let (r, c) = (i / cols, i % cols);
                        let ch = rf * rows + r;
                        let fi = cf * cols + c;
                        (ch < chunks && fi < n).then(|| &progs[ch][order[fi]])
                    })
                    .collect();
                let col_active: Vec<bool> = (0..cols).map(|c| cf * cols + c < n).collect();
                // M streams through the fold in tiles; each tile reloads the weights.
                let mut m0 = 0;
                while m0 < t {
                    let tile_t = m_tile.min(t - m0);
                    res.folds += 1;
                    let load_start = res.compute_cycles;
                    // Weight load: each row takes one slot (all lanes) per cycle.
                    for _ in 0..arch.rows as u64 * arch.pe.weights_per_lane as u64 {
                        res.compute_cycles += 1;
                    }
                    for pe in grid.iter().flatten() {
                        res.weight_buffer_reads += pe.1;
                    }
                    if sink.enabled() {
                        trace_weight_load(
                            arch,
                            &grid,
                            load_start,
                            |r, c| {
                                let fi = cf * cols + c;
                                let f = order[fi] as u64;
                                let ch = (rf * rows + r) as u64;
                                let (k, n, kpp) = (plan.k, plan.n, kpp as u64);
                                // Weight matrix K x N per group, groups one after another.
                                let base = WEIGHT_BASE + g as u64 * k * n;
                                move |j: u64| base + (ch * kpp + j) * n + f
                            },
                            access_bytes(layer.quant.scheme.weight_bits()),
                            sink,
                        );
                    }
                    let mut tr = FoldTrace {
                        sink: &mut *sink,
                        base: res.compute_cycles,
                        group: g as u64,
                        m0,
                        ch0: (rf * rows) as u64,
                        filters: (0..cols)
                            .map(|c| {
                                let fi = cf * cols + c;
                                (fi < n).then(|| order[fi] as u64)
                            })
                            .collect(),
                        k_per_pe: kpp as u64,
                        m: gemm.m,
                        k: plan.k,
                        n: plan.n,
                        input_bytes: access_bytes(layer.quant.activation_bits),
                        psum_bytes: access_bytes(arch.pe.accumulator_bits),
                    };
                    let skip = |r: usize, c: usize, m: u64| {
                        step_program(order[cf * cols + c], rf * rows + r, m0 + m)
                    };
                    let stream = run_fold(
                        arch,
                        &grid,
                        rows,
                        cols,
                        tile_t,
                        rf > 0,
                        &col_active,
                        mask.as_ref()
                            .map(|_| &skip as &dyn Fn(usize, usize, u64) -> Program),
                        &mut res,
                        &mut tr,
                    );
                    res.compute_cycles += stream;
                    res.actions.idle_lane_cycles += stream * (rows * cols) as u64 * lanes;
                    m0 += tile_t;
                }
            }
        }
    }
    res.actions.idle_lane_cycles -= res.actions.busy_lane_cycles;
    Ok(Some(res))
}

/// Trace a fold's weight load starting at `start`: row r takes slot s of all its PEs' lanes
/// in cycle `start + r x weights_per_lane + s`; every lane is idle meanwhile.
/// `address(r, c)` gives the weight address of the PE's j-th held weight.
fn trace_weight_load<A: Fn(u64) -> u64>(
    arch: &Arch,
    grid: &[Option<&(Program, u64)>],
    start: u64,
    address: impl Fn(usize, usize) -> A,
    bytes: u32,
    sink: &mut dyn TraceSink,
) {
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let lanes = arch.pe.lanes as u64;
    let slots = arch.pe.weights_per_lane as u64;
    sink.fold_start(start);
    for r in 0..rows {
        for s in 0..slots {
            let cycle = start + r as u64 * slots + s;
            for c in 0..cols {
                let Some(pe) = grid[r * cols + c] else {
                    continue;
                };
                let addr = address(r, c);
                for l in 0..lanes {
                    let j = s * lanes + l;
                    if j < pe.1 {
                        sink.sram(SramAccess {
                            cycle,
                            buffer: SramBuffer::Weight,
                            kind: Access::Read,
                            address: addr(j),
                            bytes,
                        });
                    }
                }
            }
        }
    }
    let end = start + rows as u64 * slots;
    for r in 0..rows {
        for c in 0..cols {
            for l in 0..lanes {
                sink.lanes(start, end, r as u32, c as u32, l as u32, LaneState::Idle);
            }
        }
    }
}

/// Stream one fold cycle by cycle; returns its cycles.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn run_fold(
    arch: &Arch,
    grid: &[Option<&(Program, u64)>],
    rows: usize,
    cols: usize,
    t: u64,
    read_psums: bool,
    col_active: &[bool],
    skip: Option<&dyn Fn(usize, usize, u64) -> Program>,
    res: &mut ReferenceResult,
    tr: &mut FoldTrace,
) -> u64 {
    let tracing = tr.sink.enabled();
    let lanes = arch.pe.lanes as usize;
    let idle = (Program::List { items: 0, lanes: 1 }, 0u64);
    let prog = |r: usize, c: usize| -> &(Program, u64) { grid[r * cols + c].unwrap_or(&idle) };
    let scope = arch.sync_scope;
    // Steps each PE has finished (visible from the next cycle on) and its running step.
    let mut done = vec![0u64; rows * cols];
    let mut running: Vec<Option<Running>> = vec![None; rows * cols];
    // Lock-step domains: step counters per domain (array: 1, row: rows, column: cols).
    let domains = match scope {
        SyncScope::Array => 1,
        SyncScope::Row => rows,
        SyncScope::Column => cols,
        SyncScope::Pe | SyncScope::Lane => 0,
    };
    let mut dom_step = vec![0u64; domains]; // the domain step in progress or next
    let mut dom_busy = vec![false; domains];
    let mut dom_done = vec![0u64; domains];
    let dom_steps = match scope {
        SyncScope::Array => t + (rows + cols) as u64 - 2,
        SyncScope::Row => t + cols as u64 - 1,
        SyncScope::Column => t + rows as u64 - 1,
        _ => 0,
    };
    // m processed by PE (r, c) in domain step j.
    let m_of = |r: usize, c: usize, j: u64| -> Option<u64> {
        let skew = match scope {
            SyncScope::Array => (r + c) as u64,
            SyncScope::Row => c as u64,
            SyncScope::Column => r as u64,
            _ => 0,
        };
        j.checked_sub(skew).filter(|&m| m < t)
    };
    let members = |d: usize| -> Vec<(usize, usize)> {
        match scope {
            SyncScope::Array => (0..rows * cols).map(|i| (i / cols, i % cols)).collect(),
            SyncScope::Row => (0..cols).map(|c| (d, c)).collect(),
            SyncScope::Column => (0..rows).map(|r| (r, d)).collect(),
            _ => Vec::new(),
        }
    };
    let start_step = |r: usize,
                      c: usize,
                      m: u64,
                      cycle: u64,
                      running: &mut Vec<Option<Running>>,
                      res: &mut ReferenceResult,
                      tr: &mut FoldTrace| {
        let (p, held) = prog(r, c);
        if c == 0 {
            res.input_buffer_reads += held;
            if tracing {
                let k0 = (tr.ch0 + r as u64) * tr.k_per_pe;
                for j in 0..*held {
                    let address = tr.input_address(m, k0 + j);
                    tr.sink.sram(SramAccess {
                        cycle: tr.base + cycle,
                        buffer: SramBuffer::Input,
                        kind: Access::Read,
                        address,
                        bytes: tr.input_bytes,
                    });
                }
            }
        }
        if r == 0 && read_psums && col_active[c] {
            res.output_buffer_reads += 1;
            if let (true, Some(f)) = (tracing, tr.filters[c]) {
                let address = tr.output_address(m, f);
                tr.sink.sram(SramAccess {
                    cycle: tr.base + cycle,
                    buffer: SramBuffer::Output,
                    kind: Access::Read,
                    address,
                    bytes: tr.psum_bytes,
                });
            }
        }
        if *held > 0 {
            res.actions.activation_reg_writes += held;
            res.actions.psum_reg_updates += 1;
        }
        debug_assert!(m < t);
        let own = skip.filter(|_| *held > 0).map(|f| f(r, c, m));
        running[r * cols + c] = Some(Running {
            cycle: 0,
            total: own.as_ref().unwrap_or(p).cycles(),
            own,
        });
    };
    let total_steps = t * (rows * cols) as u64;
    let mut cycles = 0u64;
    loop {
        let finished: u64 = done.iter().sum();
        if finished == total_steps {
            break;
        }
        // 1. Starts, from what was visible at the end of the previous cycle.
        match scope {
            SyncScope::Pe | SyncScope::Lane => {
                for r in 0..rows {
                    for c in 0..cols {
                        let i = r * cols + c;
                        let m = done[i];
                        if running[i].is_some() || m >= t {
                            continue;
                        }
                        let left_ok = c == 0 || done[i - 1] > m;
                        let up_ok = r == 0 || done[i - cols] > m;
                        if left_ok && up_ok {
                            start_step(r, c, m, cycles, &mut running, res, tr);
                        }
                    }
                }
            }
            _ => {
                for d in 0..domains {
                    let j = dom_step[d];
                    if dom_busy[d] || j >= dom_steps {
                        continue;
                    }
                    let ready = match scope {
                        SyncScope::Row => d == 0 || dom_done[d - 1] > j,
                        SyncScope::Column => d == 0 || dom_done[d - 1] > j,
                        _ => true,
                    };
                    if ready {
                        dom_busy[d] = true;
                        for (r, c) in members(d) {
                            if let Some(m) = m_of(r, c, j) {
                                start_step(r, c, m, cycles, &mut running, res, tr);
                            }
                        }
                    }
                }
            }
        }
        // 2. One cycle of work.
        let now = tr.base + cycles;
        cycles += 1;
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                if tracing {
                    // A lane holding no weight is idle; one holding weights is busy when its
                    // program does effectual work this cycle and waits (on its lock-step
                    // domain, its PE's slower lanes or neighbour data) otherwise.
                    let (p, held) = prog(r, c);
                    for l in 0..lanes {
                        let state = if l as u64 >= *held {
                            LaneState::Idle
                        } else if running[i].as_ref().is_some_and(|run| {
                            run.own.as_ref().unwrap_or(p).lane_busy(run.cycle, l)
                        }) {
                            LaneState::Busy
                        } else {
                            LaneState::LockstepWait
                        };
                        tr.sink
                            .lanes(now, now + 1, r as u32, c as u32, l as u32, state);
                    }
                }
                if let Some(run) = running[i].as_mut() {
                    run.own
                        .as_ref()
                        .unwrap_or(&prog(r, c).0)
                        .cycle_actions(run.cycle, &mut res.actions);
                    run.cycle += 1;
                    if run.cycle == run.total {
                        running[i] = None;
                        if r == rows - 1 && col_active[c] {
                            res.output_buffer_writes += 1;
                            if let (true, Some(f)) = (tracing, tr.filters[c]) {
                                let address = tr.output_address(done[i], f);
                                tr.sink.sram(SramAccess {
                                    cycle: now,
                                    buffer: SramBuffer::Output,
                                    kind: Access::Write,
                                    address,
                                    bytes: tr.psum_bytes,
                                });
                            }
                        }
                        done[i] += 1;
                    }
                }
            }
        }
        // 3. Lock-step domains finish a step when all their members have.
        for d in 0..domains {
            if dom_busy[d]
                && members(d)
                    .iter()
                    .all(|&(r, c)| running[r * cols + c].is_none())
            {
                dom_busy[d] = false;
                dom_step[d] += 1;
                dom_done[d] += 1;
            }
        }
    }
    cycles
}
