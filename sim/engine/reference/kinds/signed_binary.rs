//! `signed_binary`: the held non-zero weights of a one-sign filter through the skip network;
//! with repetition, whichever of the non-zero and zero lists the network serves faster.

use super::bit_serial::{fallback, fallback_pairs};
use super::{cheaper, pairs, skipping, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{Program, ShiftRule};
use crate::quant::{Code, Scheme};

pub struct SignedBinary;

impl RefKind for SignedBinary {
    fn name(&self) -> &'static str {
        "signed_binary"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        if !matches!(p.scheme, Scheme::SignedBinary { .. }) {
            return Ok(fallback(p, held));
        }
        let nonzero: Vec<bool> = held.iter().map(|&c| c != 0).collect();
        Ok(if p.pe.exploit_repetition {
            let zero: Vec<bool> = nonzero.iter().map(|&x| !x).collect();
            cheaper(p, &nonzero, &zero)
        } else {
            skipping(p, &nonzero)
        })
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[Code],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(if matches!(p.scheme, Scheme::SignedBinary { .. }) {
            pairs(p, held, active, true, 1, false, ShiftRule::None)
        } else {
            fallback_pairs(p, held, active)
        })
    }
}
