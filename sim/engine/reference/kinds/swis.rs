//! `swis`: each slot is one SWIS group; the shifter steps through the group's kept positions,
//! one per cycle, and every lane of the slot feeds the adder tree each cycle (its bit at the
//! position gates its activation). Truncation keeps a fixed number of positions per slot.

use super::bit_serial::fallback;
use super::{shift_rule, FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{first, Program};
use crate::quant::{Code, Scheme};

pub struct Swis;

impl RefKind for Swis {
    fn name(&self) -> &'static str {
        "swis"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        k0: usize,
        groups: Option<FilterGroups>,
    ) -> Result<Program, String> {
        let lanes = p.pe.lanes as usize;
        match *p.scheme {
            Scheme::Swis { group_size, .. } => {
                if group_size as usize != lanes {
                    return Err(format!(
                        "the SWIS groups ({group_size} weights) are not the PE's slots ({lanes} lanes)"
                    ));
                }
                let g = groups.ok_or("SWIS codes carry no group metadata")?;
                let first_group = k0 / lanes;
                let (mut len, mut work, mut adds) = (Vec::new(), Vec::new(), Vec::new());
                for (s, slot) in held.chunks(lanes).enumerate() {
                    let mask = g.masks[first_group + s];
                    let positions: Vec<u32> = (0..16).filter(|b| mask >> b & 1 == 1).collect();
                    let n_g = positions.len() as u64;
                    if n_g != g.shared[first_group + s] as u64 {
                        return Err("SWIS mask and N_g disagree".into());
                    }
                    // Cycle j handles the j-th kept position; every lane of the slot adds.
                    len.push(n_g);
                    work.push(vec![n_g; slot.len()]);
                    adds.push(vec![first(n_g); slot.len()]);
                }
                Ok(Program::Slots {
                    len,
                    work,
                    adds,
                    mults: false,
                    shifts_per_cycle: shift_rule(p.pe.shifter),
                })
            }
            Scheme::Truncate { kept_bits, .. } => {
                let b = kept_bits as u64;
                let slots: Vec<&[Code]> = held.chunks(lanes).collect();
                Ok(Program::Slots {
                    len: vec![b; slots.len()],
                    work: slots.iter().map(|s| vec![b; s.len()]).collect(),
                    adds: slots.iter().map(|s| vec![first(b); s.len()]).collect(),
                    mults: false,
                    shifts_per_cycle: shift_rule(p.pe.shifter),
                })
            }
            _ => Ok(fallback(p, held)),
        }
    }

    fn pairs_program(&self, _: &RefPe, _: &[Code], _: &dyn Fn(usize) -> bool) -> Option<Program> {
        None
    }
}
