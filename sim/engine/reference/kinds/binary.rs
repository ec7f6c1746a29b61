//! `binary`: {-1,+1} codes, each lane adding or subtracting its activation, one slot per
//! cycle; with repetition, the sign the skip network serves faster, and a shared window sum.

use super::bit_serial::{fallback, fallback_pairs};
use super::{cheaper, pairs, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{Program, ShiftRule};
use crate::quant::{Code, Scheme};

pub struct Binary;

impl RefKind for Binary {
    fn name(&self) -> &'static str {
        "binary"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        let lanes = p.pe.lanes as usize;
        Ok(match p.scheme {
            Scheme::Binary if p.pe.exploit_repetition => {
                let plus: Vec<bool> = held.iter().map(|&c| c > 0).collect();
                let minus: Vec<bool> = plus.iter().map(|&x| !x).collect();
                cheaper(p, &plus, &minus)
            }
            Scheme::Binary => Program::uniform(held.len(), lanes, 1, false, ShiftRule::None, true),
            _ => fallback(p, held),
        })
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[Code],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(match p.scheme {
            Scheme::Binary => pairs(p, held, active, false, 1, false, ShiftRule::None),
            _ => fallback_pairs(p, held, active),
        })
    }

    fn window_sums(&self, p: &RefPe) -> bool {
        matches!(p.scheme, Scheme::Binary) && p.pe.exploit_repetition
    }
}
