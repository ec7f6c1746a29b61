//! `loom`: both operands serial; a slot streams every weight bit against every activation bit
//! its widest activation needs (Pa x Pw cycles), every lane of the slot busy each cycle.

use super::{precision, precision_slots, shift_rule, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::Program;
use crate::quant::Code;

pub struct Loom;

impl RefKind for Loom {
    fn name(&self) -> &'static str {
        "loom"
    }

    /// Without activation values: every activation at full precision.
    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        let cycles = p.activation_bits as u64 * p.scheme.weight_bits() as u64;
        Ok(Program::uniform(
            held.len(),
            p.pe.lanes as usize,
            cycles,
            false,
            shift_rule(p.pe.shifter),
            true,
        ))
    }

    fn activation_program(
        &self,
        p: &RefPe,
        held: &[Code],
        acts: &dyn Fn(usize) -> u16,
    ) -> Option<Program> {
        let (pa_max, pw) = (p.activation_bits as u64, p.scheme.weight_bits() as u64);
        Some(precision_slots(
            p,
            held.len(),
            acts,
            &|slot| {
                let pa = slot.iter().map(|&a| precision(a)).max().unwrap_or(0);
                pa.min(pa_max) * pw
            },
            shift_rule(p.pe.shifter),
        ))
    }

    fn pairs_program(&self, _: &RefPe, _: &[Code], _: &dyn Fn(usize) -> bool) -> Option<Program> {
        None
    }
}
