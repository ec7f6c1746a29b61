//! The step costs of a weight layer's PEs, one per (K chunk, filter) of each conv group, for
//! the fold loop ([`super::folds::fold_loop`]).
//!
//! They depend on the codes and on the PE's shape (lanes, slots, skip network, lane
//! scope), not on the array, the buffers or the batch, so a table is computed once per code
//! set and PE configuration and kept with the codes ([`crate::quant::prefix::Derived`]): the
//! designs of a sweep that differ only in array size or buffers share it. Costs that do not
//! depend on code values are the same for every filter: one entry per chunk, never kept.

use std::sync::{Arc, OnceLock};

use crate::arch::{Arch, SyncScope};
use crate::pe::PeStep;

use super::{Actions, LayerPlan};

/// Step costs of one conv group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupCosts {
    /// Filters per entry row: `n` when costs depend on the codes, else 1 (one entry per
    /// chunk, shared by every filter).
    pub stride: usize,
    /// Cycles per step of the PE holding chunk `ch` of filter `f`: `cost[ch * stride + f]`
    /// (`f = 0` when `stride == 1`).
    pub cost: Vec<u32>,
    /// Each filter's total work (the schedule's sort key).
    pub work: Vec<u64>,
    /// Weights held by a PE of each chunk.
    pub held: Vec<u64>,
    /// Brick lock-step: each entry's slot costs, `slots` apiece (empty otherwise).
    pub slot_cost: Vec<u64>,
    /// The entries' step actions summed (one step each), and the entries holding weights.
    pub step_sum: PeStep,
    pub nonempty: u64,
    /// `cost` with each chunk's filters in the offline schedule's order (heaviest first),
    /// made on first use.
    scheduled: OnceLock<Vec<u32>>,
}

impl GroupCosts {
    /// Cycles of the PE holding chunk `ch` of filter `f`.
    #[inline]
    pub fn at(&self, ch: usize, f: usize) -> u64 {
        self.cost[ch * self.stride + if self.stride == 1 { 0 } else { f }] as u64
    }

    /// The costs per chunk with the filters in the order `order` (filters are placed on the
    /// columns in that order): `cost` itself when `order` is the identity. `order` is the
    /// schedule of [`super::schedule_filters`] over `work`, the same for every design that
    /// schedules.
    pub fn in_order(&self, order: &[usize]) -> &[u32] {
        if self.stride == 1 || order.iter().enumerate().all(|(i, &f)| i == f) {
            return &self.cost;
        }
        let laid = self.scheduled.get_or_init(|| {
            let n = self.stride;
            let mut v = Vec::with_capacity(self.cost.len());
            for row in self.cost.chunks(n) {
                v.extend(order.iter().map(|&f| row[f]));
            }
            v
        });
        debug_assert!(order
            .iter()
            .zip(&laid[..order.len()])
            .all(|(&f, &c)| self.cost[f] == c));
        laid
    }

    /// Add the actions of `steps` steps of every entry (each entry standing for
    /// `n / stride` PEs) to `a`: what summing each entry's step `steps` times gives.
    pub fn add_actions(&self, a: &mut Actions, steps: u64) {
        let st = &self.step_sum;
        a.mults += st.mults * steps;
        a.adds += st.adds * steps;
        a.shifts += st.shifts * steps;
        a.busy_lane_cycles += st.busy_lane_cycles * steps;
        a.weight_reg_reads += st.busy_lane_cycles * steps;
        a.operand_selects += st.selects * steps;
        a.activation_reg_writes += st.held * steps;
        a.psum_reg_updates += self.nonempty * steps;
    }
}

/// The step costs of group `g` of the layer: from the codes' memo when they depend on the
/// codes (built on first use), else computed (one per chunk).
pub fn group_costs(arch: &Arch, plan: &LayerPlan, g: usize) -> Arc<GroupCosts> {
    match plan.codes.filter(|_| plan.cost.needs_codes()) {
        Some(q) => {
            let key = format!(
                "engine step costs: {:?} lanes={} slots={} lane_scope={} skip={:?} brick={} n={} k={} group={g}",
                plan.cost,
                arch.pe.lanes,
                arch.pe.weights_per_lane,
                arch.sync_scope == SyncScope::Lane,
                arch.pe.skip,
                arch.sync_scope == SyncScope::Brick,
                plan.n,
                plan.k,
            );
            q.derived.memo(&key, || build(arch, plan, g, true))
        }
        None => Arc::new(build(arch, plan, g, false)),
    }
}

fn build(arch: &Arch, plan: &LayerPlan, g: usize, per_filter: bool) -> GroupCosts {
    let n = plan.n as usize;
    let chunks = plan.k_chunks as usize;
    let brick = arch.sync_scope == SyncScope::Brick;
    let slots = arch.pe.weights_per_lane as usize;
    let stride = if per_filter { n } else { 1 };
    let mut t = GroupCosts {
        stride,
        cost: vec![0; chunks * stride],
        work: vec![0; n],
        held: vec![0; chunks],
        slot_cost: vec![
            0;
            if brick && per_filter {
                chunks * n * slots
            } else {
                0
            }
        ],
        step_sum: PeStep::default(),
        nonempty: 0,
        scheduled: OnceLock::new(),
    };
    let add = |t: &mut GroupCosts, st: &PeStep| {
        let s = &mut t.step_sum;
        s.mults += st.mults;
        s.adds += st.adds;
        s.shifts += st.shifts;
        s.busy_lane_cycles += st.busy_lane_cycles;
        s.selects += st.selects;
        if st.held > 0 {
            s.held += st.held;
            t.nonempty += 1;
        }
    };
    if per_filter {
        for f in 0..n {
            for ch in 0..chunks {
                let st = plan.pe_step(arch, ch as u64, g * n + f);
                if brick {
                    let sc = plan.slot_cycles(arch, ch as u64, g * n + f);
                    let at = (ch * n + f) * slots;
                    t.slot_cost[at..at + sc.len()].copy_from_slice(&sc);
                }
                t.cost[ch * n + f] = st.cycles as u32;
                t.work[f] += st.cycles;
                t.held[ch] = st.held;
                add(&mut t, &st);
            }
        }
    } else {
        for ch in 0..chunks {
            let st = plan.pe_step(arch, ch as u64, g * n);
            t.cost[ch] = st.cycles as u32;
            t.held[ch] = st.held;
            add(&mut t, &st);
        }
        let total: u64 = t.cost.iter().map(|&c| c as u64).sum();
        t.work.fill(total);
    }
    t
}
