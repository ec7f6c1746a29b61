//! `bit_serial`: B cycles per slot, every lane adding each cycle, shifting per lane or once
//! per cycle as the shifters sit. Other kinds run a scheme they have no native support for
//! the same way, one bit plane per cycle through one PE shifter.

use super::{pairs, shift_rule, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{Program, ShiftRule};
use crate::pe::{SerialOperand, ShifterPlacement};
use crate::quant::Code;

pub struct BitSerial;

/// The serial width of a bit-serial PE on the layer.
fn width(p: &RefPe) -> u64 {
    match p.pe.serial_operand {
        SerialOperand::Weight => p.scheme.weight_bits() as u64,
        SerialOperand::Activation => p.activation_bits as u64,
    }
}

/// `bits` cycles per occupied slot, an add per lane per cycle.
pub(super) fn serial(p: &RefPe, held: &[Code], bits: u64, shifts: ShiftRule) -> Program {
    Program::uniform(held.len(), p.pe.lanes as usize, bits, false, shifts, true)
}

/// With zero activations skipped: the non-zero pairs through the skip network, `bits` cycles
/// per batch.
pub(super) fn serial_pairs(
    p: &RefPe,
    held: &[Code],
    active: &dyn Fn(usize) -> bool,
    bits: u64,
    shifts: ShiftRule,
) -> Program {
    pairs(p, held, active, false, bits, false, shifts)
}

/// A scheme the PE has no native support for: one bit plane of the weights per cycle.
pub(super) fn fallback(p: &RefPe, held: &[Code]) -> Program {
    serial(
        p,
        held,
        p.scheme.weight_bits() as u64,
        shift_rule(ShifterPlacement::Pe),
    )
}

pub(super) fn fallback_pairs(p: &RefPe, held: &[Code], active: &dyn Fn(usize) -> bool) -> Program {
    serial_pairs(
        p,
        held,
        active,
        p.scheme.weight_bits() as u64,
        shift_rule(ShifterPlacement::Pe),
    )
}

impl RefKind for BitSerial {
    fn name(&self) -> &'static str {
        "bit_serial"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        Ok(serial(p, held, width(p), shift_rule(p.pe.shifter)))
    }

    fn activation_program(
        &self,
        p: &RefPe,
        held: &[Code],
        acts: &dyn Fn(usize) -> u16,
    ) -> Option<Program> {
        if !p.pe.dynamic_precision {
            return None;
        }
        // Dynamic Stripes: a slot streams the bits of its widest activation.
        let cap = width(p);
        Some(super::precision_slots(
            p,
            held.len(),
            acts,
            &|slot| {
                slot.iter()
                    .map(|&a| super::precision(a))
                    .max()
                    .unwrap_or(0)
                    .min(cap)
            },
            shift_rule(p.pe.shifter),
        ))
    }

    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[Code],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program> {
        Some(serial_pairs(
            p,
            held,
            active,
            width(p),
            shift_rule(p.pe.shifter),
        ))
    }
}
