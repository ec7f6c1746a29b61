//! `dense`: every held weight is a multiply-accumulate, one slot per cycle.

use super::{pairs, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{Program, ShiftRule};
use crate::quant::Code;

pub struct Dense;

impl RefKind for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        Ok(Program::uniform(
            held.len(),
            p.pe.lanes as usize,
            1,
            true,
            ShiftRule::None,
            true,
        ))
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[Code],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(pairs(p, held, active, false, 1, true, ShiftRule::None))
    }
}
