//! `ternary`: a compacted list of the held non-zero weights, `lanes` per cycle, for binary,
//! ternary and signed-binary codes.

use super::bit_serial::{fallback, fallback_pairs};
use super::{count_active, pairs, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::Program;
use crate::quant::Scheme;

pub struct Ternary;

fn native(s: &Scheme) -> bool {
    matches!(
        s,
        Scheme::Binary | Scheme::Ternary { .. } | Scheme::SignedBinary { .. }
    )
}

impl RefKind for Ternary {
    fn name(&self) -> &'static str {
        "ternary"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[i32],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        if !native(p.scheme) {
            return Ok(fallback(p, held));
        }
        Ok(Program::List {
            items: held.iter().filter(|&&c| c != 0).count() as u64,
            lanes: p.pe.lanes as u64,
        })
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[i32],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(if native(p.scheme) {
            pairs(
                p.pe.lanes as usize,
                count_active(held, active, true),
                1,
                false,
                false,
            )
        } else {
            fallback_pairs(p, held, active)
        })
    }
}
