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
    /// The skip network's schedule: `batches[j]` = the lanes busy in batch j (bit l = lane l),
    /// each batch taking `bits` cycles (1 for parallel PEs), each busy lane adding every cycle;
    /// `mults`: dense MACs.
    Scheduled {
        batches: Vec<u64>,
        bits: u64,
        mults: bool,
        shifts: ShiftRule,
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
            Program::Scheduled { batches, bits, .. } => batches.len() as u64 * bits,
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
            Program::Scheduled { batches, bits, .. } => batches
                .get((i / bits) as usize)
                .is_some_and(|&b| b >> lane & 1 == 1),
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
            Program::Scheduled {
                batches,
                bits,
                mults,
                shifts,
            } => {
                let Some(batch) = batches.get((i / bits) as usize) else {
                    // The one cycle of a PE with nothing to do: it passes its operands on.
                    return;
                };
                let busy = batch.count_ones() as u64;
                a.busy_lane_cycles += busy;
                a.weight_reg_reads += busy;
                a.adds += busy;
                if *mults {
                    a.mults += busy;
                }
                match shifts {
                    ShiftRule::None => {}
                    ShiftRule::PerBusyLane => a.shifts += busy,
                    ShiftRule::PerCycle => a.shifts += 1,
                }
            }
        }
    }
}

impl Program {
    /// Operand selections of one step of a PE holding `held` weights: every held weight of a
    /// slot program and of lanes walking their queues, the scheduled positions of a skip
    /// network's program.
    pub fn selects(&self, held: u64) -> u64 {
        match self {
            Program::Slots { work, .. } => work.iter().map(|w| w.len() as u64).sum(),
            Program::Lanes { .. } => held,
            Program::Scheduled { batches, .. } => {
                batches.iter().map(|b| b.count_ones() as u64).sum()
            }
        }
    }

    /// Cycles of each slot (empty for programs that are not slot sequences).
    pub fn slot_lens(&self) -> &[u64] {
        match self {
            Program::Slots { len, .. } => len,
            _ => &[],
        }
    }

    /// The program with its slots stretched to `lens` (brick lock-step: slot s lasts the
    /// slowest PE's slot s); the lanes keep their own work and wait out the rest of each slot.
    pub fn stretched(&self, lens: &[u64]) -> Program {
        let pad = |v: &[Vec<u64>]| -> Vec<Vec<u64>> {
            (0..lens.len())
                .map(|s| v.get(s).cloned().unwrap_or_default())
                .collect()
        };
        match self {
            Program::Slots {
                work,
                adds,
                mults,
                shifts_per_cycle,
                ..
            } => Program::Slots {
                len: lens.to_vec(),
                work: pad(work),
                adds: pad(adds),
                mults: *mults,
                shifts_per_cycle: *shifts_per_cycle,
            },
            _ => Program::Slots {
                len: lens.to_vec(),
                work: pad(&[]),
                adds: pad(&[]),
                mults: false,
                shifts_per_cycle: ShiftRule::None,
            },
        }
    }

    /// A program that does nothing (a PE holding no weights).
    pub fn idle() -> Program {
        Program::Scheduled {
            batches: Vec::new(),
            bits: 1,
            mults: false,
            shifts: ShiftRule::None,
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
