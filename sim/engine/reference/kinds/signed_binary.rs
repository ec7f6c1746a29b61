//! `signed_binary`: a compacted list of the held non-zero weights of a one-sign filter; with
//! repetition, whichever of the non-zero and zero lists is shorter.

use super::bit_serial::{fallback, fallback_pairs};
use super::{count_active, pairs, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::Program;
use crate::quant::Scheme;

pub struct SignedBinary;

impl RefKind for SignedBinary {
    fn name(&self) -> &'static str {
        "signed_binary"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[i32],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        if !matches!(p.scheme, Scheme::SignedBinary { .. }) {
            return Ok(fallback(p, held));
        }
        let nonzero = held.iter().filter(|&&c| c != 0).count();
        let zero = held.len() - nonzero;
        Ok(Program::List {
            items: if p.pe.exploit_repetition {
                nonzero.min(zero)
            } else {
                nonzero
            } as u64,
            lanes: p.pe.lanes as u64,
        })
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[i32],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(if matches!(p.scheme, Scheme::SignedBinary { .. }) {
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
