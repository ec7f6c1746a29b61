//! `pragmatic`: one cycle per one-bit of each activation; a lane is busy (shifting its weight
//! to the bit's position and adding) for as many cycles as its activation has one-bits. The
//! one-bits are found by walking the magnitude bit by bit.

use super::{FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{first, Program, ShiftRule};

pub struct Pragmatic;

/// One-bits of `a`, walked bit by bit.
fn oneffsets(a: u16) -> u64 {
    (0..16).filter(|b| a >> b & 1 == 1).count() as u64
}

/// Lanes take one activation each per slot (or walk their own slots at lane scope), busy one
/// cycle per one-bit.
fn program_of(p: &RefPe, work: Vec<u64>) -> Program {
    let lanes = p.pe.lanes as usize;
    if p.lane_scope {
        let mut queues = vec![0u64; lanes.min(work.len())];
        for (i, w) in work.iter().enumerate() {
            queues[i % lanes] += w;
        }
        return Program::Lanes { queues };
    }
    let slots: Vec<Vec<u64>> = work.chunks(lanes).map(<[u64]>::to_vec).collect();
    Program::Slots {
        len: slots
            .iter()
            .map(|s| s.iter().copied().max().unwrap_or(0))
            .collect(),
        adds: slots
            .iter()
            .map(|s| s.iter().map(|&w| first(w)).collect())
            .collect(),
        work: slots,
        mults: false,
        shifts_per_cycle: ShiftRule::PerBusyLane,
    }
}

impl RefKind for Pragmatic {
    fn name(&self) -> &'static str {
        "pragmatic"
    }

    /// Without activation values: every activation at full scale (all its bits one).
    fn program(
        &self,
        p: &RefPe,
        held: &[i32],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        Ok(program_of(p, vec![p.activation_bits as u64; held.len()]))
    }

    fn activation_program(
        &self,
        p: &RefPe,
        held: &[i32],
        acts: &dyn Fn(usize) -> u16,
    ) -> Option<Program> {
        let cap = p.activation_bits as u64;
        Some(program_of(
            p,
            (0..held.len())
                .map(|i| oneffsets(acts(i)).min(cap))
                .collect(),
        ))
    }

    fn pairs_program(&self, _: &RefPe, _: &[i32], _: &dyn Fn(usize) -> bool) -> Option<Program> {
        None
    }
}
