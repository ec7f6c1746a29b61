//! `pragmatic`: one cycle per one-bit of each activation; a lane is busy (shifting its weight
//! to the bit's position and adding) for as many cycles as its activation has one-bits. The
//! one-bits are found by walking the magnitude bit by bit.

use super::{per_weight_work, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::Program;
use crate::quant::Code;

pub struct Pragmatic;

/// One-bits of `a`, walked bit by bit.
fn oneffsets(a: u16) -> u64 {
    (0..16).filter(|b| a >> b & 1 == 1).count() as u64
}

impl RefKind for Pragmatic {
    fn name(&self) -> &'static str {
        "pragmatic"
    }

    /// Without activation values: every activation at full scale (all its bits one).
    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        Ok(per_weight_work(
            p,
            vec![p.activation_bits as u64; held.len()],
        ))
    }

    fn activation_program(
        &self,
        p: &RefPe,
        held: &[Code],
        acts: &dyn Fn(usize) -> u16,
    ) -> Option<Program> {
        let cap = p.activation_bits as u64;
        Some(per_weight_work(
            p,
            (0..held.len())
                .map(|i| oneffsets(acts(i)).min(cap))
                .collect(),
        ))
    }

    fn pairs_program(&self, _: &RefPe, _: &[Code], _: &dyn Fn(usize) -> bool) -> Option<Program> {
        None
    }
}
