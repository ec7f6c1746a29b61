//! `ternary`: the held non-zero weights through the skip network, for binary, ternary and
//! signed-binary codes.

use super::bit_serial::{fallback, fallback_pairs};
use super::{pairs, skipping, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{Program, ShiftRule};
use crate::quant::{Code, Scheme};

pub struct Ternary;

fn native(s: &Scheme) -> bool {
    matches!(
        s,
        Scheme::Binary
            | Scheme::Ternary { .. }
            | Scheme::TernaryAbsmean
            | Scheme::SignedBinary { .. }
    )
}

impl RefKind for Ternary {
    fn name(&self) -> &'static str {
        "ternary"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        if !native(p.scheme) {
            return Ok(fallback(p, held));
        }
        let nonzero: Vec<bool> = held.iter().map(|&c| c != 0).collect();
        Ok(skipping(p, &nonzero))
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[Code],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(if native(p.scheme) {
            pairs(p, held, active, true, 1, false, ShiftRule::None)
        } else {
            fallback_pairs(p, held, active)
        })
    }
}
