//! The array walk of the reference engine: one fold streamed cycle by cycle, every PE running
//! its program, neighbours handing over activations (left to right) and partial sums (top to
//! bottom) when a step finishes, a result visible to a neighbour the cycle after it is
//! produced; the lock-step scope decides which PEs start their steps together. Buffer
//! accesses and lane states go to the fold's trace sink.

use crate::arch::{Arch, SyncScope};
use crate::engine::events::{
    Access, LaneState, SramAccess, SramBuffer, TraceSink, INPUT_BASE, OUTPUT_BASE,
};

use super::program::{Program, Running};
use super::ReferenceResult;

/// Where the trace of one fold's streaming phase goes, and what it needs to name addresses.
pub struct FoldTrace<'s> {
    pub sink: &'s mut dyn TraceSink,
    /// Cycle of the fold's first streaming cycle (compute time: stalls not included).
    pub base: u64,
    /// Conv group, first M row of the tile, first K chunk of the row fold.
    pub group: u64,
    pub m0: u64,
    pub ch0: u64,
    /// Filter (within the group) each column holds, None for unused columns.
    pub filters: Vec<Option<u64>>,
    pub k_per_pe: u64,
    /// GEMM sizes per group.
    pub m: u64,
    pub k: u64,
    pub n: u64,
    /// Bytes per access: activation, partial sum.
    pub input_bytes: u32,
    pub psum_bytes: u32,
}

impl FoldTrace<'_> {
    pub fn input_address(&self, m: u64, k: u64) -> u64 {
        INPUT_BASE + self.group * self.m * self.k + (self.m0 + m) * self.k + k
    }
    pub fn output_address(&self, m: u64, f: u64) -> u64 {
        OUTPUT_BASE + self.group * self.m * self.n + (self.m0 + m) * self.n + f
    }
}

/// Trace a fold's weight load starting at `start`: row r takes slot s of all its PEs' lanes
/// in cycle `start + r x weights_per_lane + s`; every lane is idle meanwhile.
/// `address(r, c)` gives the weight address of the PE's j-th held weight.
pub fn trace_weight_load<A: Fn(u64) -> u64>(
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

/// One fold to stream: the PE grid and what the walk needs around it.
pub struct Fold<'a> {
    pub arch: &'a Arch,
    /// The program and held-weight count of each PE (row-major), `None` where none is held.
    pub grid: &'a [Option<&'a (Program, u64)>],
    /// Steps (M rows) the fold streams.
    pub t: u64,
    /// Partial sums come from the output buffer (every row fold but the first).
    pub read_psums: bool,
    /// Columns holding a filter.
    pub col_active: &'a [bool],
    /// The program of PE (r, c) at step m when zero activations are skipped.
    pub skip: Option<&'a dyn Fn(usize, usize, u64) -> Program>,
}

/// Stream one fold cycle by cycle, adding its counts to `res`; returns its cycles.
#[allow(clippy::needless_range_loop)]
pub fn run_fold(f: &Fold, res: &mut ReferenceResult, tr: &mut FoldTrace) -> u64 {
    let Fold {
        arch,
        grid,
        t,
        read_psums,
        col_active,
        skip,
    } = *f;
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let tracing = tr.sink.enabled();
    let lanes = arch.pe.lanes as usize;
    let idle = (Program::idle(), 0u64);
    let prog = |r: usize, c: usize| -> &(Program, u64) { grid[r * cols + c].unwrap_or(&idle) };
    let scope = arch.sync_scope;
    // Steps each PE has finished (visible from the next cycle on) and its running step.
    let mut done = vec![0u64; rows * cols];
    let mut running: Vec<Option<Running>> = vec![None; rows * cols];
    // Lock-step domains: step counters per domain (array: 1, row: rows, column: cols).
    let domains = match scope {
        SyncScope::Array | SyncScope::Brick => 1,
        SyncScope::Row => rows,
        SyncScope::Column => cols,
        SyncScope::Pe | SyncScope::Lane => 0,
    };
    let mut dom_step = vec![0u64; domains]; // the domain step in progress or next
    let mut dom_busy = vec![false; domains];
    let mut dom_done = vec![0u64; domains];
    let dom_steps = match scope {
        SyncScope::Array | SyncScope::Brick => t + (rows + cols) as u64 - 2,
        SyncScope::Row => t + cols as u64 - 1,
        SyncScope::Column => t + rows as u64 - 1,
        _ => 0,
    };
    // m processed by PE (r, c) in domain step j.
    let m_of = |r: usize, c: usize, j: u64| -> Option<u64> {
        let skew = match scope {
            SyncScope::Array | SyncScope::Brick => (r + c) as u64,
            SyncScope::Row => c as u64,
            SyncScope::Column => r as u64,
            _ => 0,
        };
        j.checked_sub(skew).filter(|&m| m < t)
    };
    let members = |d: usize| -> Vec<(usize, usize)> {
        match scope {
            SyncScope::Array | SyncScope::Brick => {
                (0..rows * cols).map(|i| (i / cols, i % cols)).collect()
            }
            SyncScope::Row => (0..cols).map(|c| (d, c)).collect(),
            SyncScope::Column => (0..rows).map(|r| (r, d)).collect(),
            _ => Vec::new(),
        }
    };
    let start_step = |r: usize,
                      c: usize,
                      m: u64,
                      cycle: u64,
                      stretch: Option<&[u64]>,
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
        debug_assert!(m < t);
        let own = match stretch {
            Some(lens) => Some(p.stretched(lens)),
            None => skip.filter(|_| *held > 0).map(|f| f(r, c, m)),
        };
        if *held > 0 {
            res.actions.activation_reg_writes += held;
            res.actions.psum_reg_updates += 1;
            res.actions.operand_selects += own.as_ref().unwrap_or(p).selects(*held);
        }
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
                            start_step(r, c, m, cycles, None, &mut running, res, tr);
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
                        let active: Vec<(usize, usize, u64)> = members(d)
                            .into_iter()
                            .filter_map(|(r, c)| m_of(r, c, j).map(|m| (r, c, m)))
                            .collect();
                        // Brick lock-step: slot s of every active PE lasts the slowest one's.
                        let lens: Option<Vec<u64>> = (scope == SyncScope::Brick).then(|| {
                            let n = active
                                .iter()
                                .map(|&(r, c, _)| prog(r, c).0.slot_lens().len())
                                .max()
                                .unwrap_or(0);
                            (0..n)
                                .map(|s| {
                                    active
                                        .iter()
                                        .filter_map(|&(r, c, _)| prog(r, c).0.slot_lens().get(s))
                                        .copied()
                                        .max()
                                        .unwrap_or(0)
                                })
                                .collect()
                        });
                        for (r, c, m) in active {
                            start_step(r, c, m, cycles, lens.as_deref(), &mut running, res, tr);
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
