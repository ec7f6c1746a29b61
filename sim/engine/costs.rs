//! The step costs of a weight layer's PEs, one per (K chunk, filter) of each conv group, for
//! the fold loop ([`super::folds::fold_loop`]).
//!
//! They depend on the codes and on the PE's shape (lanes, slots, skip network, lane
//! scope) and on whether filters are scheduled, not on the array, the buffers or the batch,
//! so a table is computed once per code set and PE configuration and kept with the codes
//! ([`crate::quant::prefix::Derived`]): the designs of a sweep that differ only in array size
//! or buffers share it. Costs that do not depend on code values are the same for every
//! filter: one entry per chunk, never kept.

use std::sync::Arc;

use rayon::prelude::*;

use crate::arch::{Arch, SyncScope};
use crate::pe::PeStep;

use super::{Actions, LayerPlan};

/// Step costs of one conv group, with the filters in the order they are placed on the
/// array's columns (the offline schedule's, [`super::schedule_filters`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupCosts {
    /// Entries per chunk: `n` when costs depend on the codes, else 1 (one entry per chunk,
    /// shared by every filter).
    pub stride: usize,
    /// Cycles per step of the PE holding chunk `ch` of the filter at column position `pos`:
    /// `cost[ch * stride + pos]` (`pos = 0` when `stride == 1`).
    pub cost: Vec<u32>,
    /// The filter at each column position (`order[pos]`).
    pub order: Vec<usize>,
    /// Weights held by a PE of each chunk.
    pub held: Vec<u64>,
    /// Brick lock-step: each (chunk, filter)'s slot costs, `slots` apiece, at
    /// `(ch * n + filter) * slots` (empty otherwise).
    pub slot_cost: Vec<u64>,
    /// The entries' step actions summed (one step each), and the entries holding weights.
    pub step_sum: PeStep,
    pub nonempty: u64,
}

impl GroupCosts {
    /// Cycles of the PE holding chunk `ch` of the filter at column position `pos`.
    #[inline]
    pub fn at(&self, ch: usize, pos: usize) -> u64 {
        self.cost[ch * self.stride + if self.stride == 1 { 0 } else { pos }] as u64
    }

    /// Add the actions of `steps` steps of every entry (each entry standing for
    /// `n / stride` PEs) to `a`: what summing each entry's step `steps` times gives.
    pub fn add_actions(&self, a: &mut Actions, steps: u64) {
        let st = &self.step_sum;
        a.add_lane_work(st, steps);
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
                "engine step costs: {:?} lanes={} slots={} lane_scope={} skip={:?} brick={} schedule={} n={} k={} group={g}",
                plan.cost,
                arch.pe.lanes,
                arch.pe.weights_per_lane,
                arch.sync_scope == SyncScope::Lane,
                arch.pe.skip,
                arch.sync_scope == SyncScope::Brick,
                arch.schedule,
                plan.n,
                plan.k,
            );
            q.derived.memo(&key, || build(arch, plan, g, true))
        }
        None => Arc::new(build(arch, plan, g, false)),
    }
}

/// One filter's steps, chunk by chunk ([`build`]).
struct FilterSteps {
    cost: Vec<u32>,
    held: Vec<u64>,
    slot_cost: Vec<u64>,
    sum: PeStep,
    nonempty: u64,
    work: u64,
}

/// Add the actions of `st` to `sum` (`held` only when it holds weights); 1 when it does.
fn add_step(sum: &mut PeStep, st: &PeStep) -> u64 {
    sum.mults += st.mults;
    sum.adds += st.adds;
    sum.shifts += st.shifts;
    sum.busy_lane_cycles += st.busy_lane_cycles;
    sum.selects += st.selects;
    if st.held > 0 {
        sum.held += st.held;
        1
    } else {
        0
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
        order: Vec::new(),
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
    };
    let mut work = vec![0u64; n];
    if per_filter {
        // The filters' steps in parallel (each PE's step is independent of the others'),
        // laid out in filter order; the sums are of integers, so their order is immaterial.
        let filters: Vec<FilterSteps> = (0..n)
            .into_par_iter()
            .with_min_len(4)
            .map(|f| {
                let mut fs = FilterSteps {
                    cost: Vec::with_capacity(chunks),
                    held: Vec::with_capacity(chunks),
                    slot_cost: vec![0; if brick { chunks * slots } else { 0 }],
                    sum: PeStep::default(),
                    nonempty: 0,
                    work: 0,
                };
                for ch in 0..chunks {
                    let st = plan.pe_step(arch, ch as u64, g * n + f);
                    if brick {
                        let sc = plan.slot_cycles(arch, ch as u64, g * n + f);
                        fs.slot_cost[ch * slots..ch * slots + sc.len()].copy_from_slice(&sc);
                    }
                    fs.cost.push(st.cycles as u32);
                    fs.held.push(st.held);
                    fs.work += st.cycles;
                    fs.nonempty += add_step(&mut fs.sum, &st);
                }
                fs
            })
            .collect();
        for (f, fs) in filters.into_iter().enumerate() {
            for ch in 0..chunks {
                t.cost[ch * n + f] = fs.cost[ch];
                if brick {
                    let at = (ch * n + f) * slots;
                    t.slot_cost[at..at + slots]
                        .copy_from_slice(&fs.slot_cost[ch * slots..(ch + 1) * slots]);
                }
            }
            // Every filter's PEs of a chunk hold as many weights; the last one's are kept.
            t.held.copy_from_slice(&fs.held);
            work[f] = fs.work;
            t.nonempty += fs.nonempty;
            add_step(&mut t.step_sum, &fs.sum);
        }
    } else {
        for ch in 0..chunks {
            let st = plan.pe_step(arch, ch as u64, g * n);
            t.cost[ch] = st.cycles as u32;
            t.held[ch] = st.held;
            t.nonempty += add_step(&mut t.step_sum, &st);
        }
        let total: u64 = t.cost.iter().map(|&c| c as u64).sum();
        work.fill(total);
    }
    t.order = super::schedule_filters(arch, &work);
    if per_filter && t.order.iter().enumerate().any(|(i, &f)| i != f) {
        // Lay each chunk's costs out in column order, so a fold reads them in sequence.
        let mut laid = Vec::with_capacity(t.cost.len());
        for row in t.cost.chunks(n) {
            laid.extend(t.order.iter().map(|&f| row[f]));
        }
        t.cost = laid;
    }
    t
}
