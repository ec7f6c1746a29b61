//! The reference engine's micro-programs: what one PE does in one step, cycle by cycle. Each
//! kind's file under `kinds/` builds these from the codes a PE holds; the array walk
//! (`walk.rs`) runs them.

use crate::engine::Actions;

/// What one PE does in one step, cycle by cycle.
#[derive(Debug, Clone)]
pub enum Program {
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
pub enum ShiftRule {
    None,
    /// One shift per busy lane-cycle (bit-serial shift-accumulate).
    PerBusyLane,
    /// One shift per cycle of the slot (a shared shifter).
    PerCycle,
}

/// A program in execution.
#[derive(Debug, Clone)]
pub struct Running {
    pub cycle: u64,
    pub total: u64,
    /// The step's own program when it depends on the step (zero activations skipped).
    pub own: Option<Program>,
}

impl Program {
    /// Cycles the program takes (at least one: the PE always passes its operands on).
    pub fn cycles(&self) -> u64 {
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
    pub fn lane_busy(&self, i: u64, lane: usize) -> bool {
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
    pub fn cycle_actions(&self, i: u64, a: &mut Actions) {
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
pub fn first(n: u64) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

impl Program {
    /// Every held weight's lanes busy for `cycles` cycles per occupied slot, adding every
    /// cycle when `adds_per_cycle` (dense MACs, add/sub, bit-serial shift-adds).
    pub fn uniform(
        n_held: usize,
        lanes: usize,
        cycles: u64,
        mults: bool,
        shifts: ShiftRule,
        adds_per_cycle: bool,
    ) -> Program {
        let occupied = n_held.div_ceil(lanes);
        let in_slot = |s: usize| (n_held - s * lanes).min(lanes);
        Program::Slots {
            len: vec![cycles; occupied],
            work: (0..occupied).map(|s| vec![cycles; in_slot(s)]).collect(),
            adds: (0..occupied)
                .map(|s| vec![if adds_per_cycle { first(cycles) } else { 0 }; in_slot(s)])
                .collect(),
            mults,
            shifts_per_cycle: shifts,
        }
    }
}
