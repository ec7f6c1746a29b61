//! `bit_sparse`: one cycle per effectual digit of each weight. The digits are counted here
//! by building the representation digit by digit (the fast engine uses a closed form).

use super::{FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::{first, Program, ShiftRule};
use crate::pe::BitEncoding;

pub struct BitSparse;

fn digits(code: i32, enc: BitEncoding) -> u64 {
    let x = code.unsigned_abs() as u64;
    match enc {
        BitEncoding::Binary => x.count_ones() as u64,
        BitEncoding::Csd => {
            // Build the non-adjacent form digit by digit.
            let mut x = x as i64;
            let mut n = 0;
            while x != 0 {
                if x & 1 == 1 {
                    x -= 2 - (x & 3);
                    n += 1;
                }
                x >>= 1;
            }
            n
        }
    }
}

impl RefKind for BitSparse {
    fn name(&self) -> &'static str {
        "bit_sparse"
    }

    fn program(
        &self,
        p: &RefPe,
        held: &[i32],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        let lanes = p.pe.lanes as usize;
        let enc = p.pe.encoding;
        if p.lane_scope {
            // Each lane walks its own queue of digits.
            let mut queues = vec![0u64; lanes.min(held.len())];
            for (i, &c) in held.iter().enumerate() {
                queues[i % lanes] += digits(c, enc);
            }
            return Ok(Program::Lanes { queues });
        }
        // Lanes advance slot by slot; a slot lasts as long as its busiest lane.
        let work: Vec<Vec<u64>> = held
            .chunks(lanes)
            .map(|slot| slot.iter().map(|&c| digits(c, enc)).collect())
            .collect();
        Ok(Program::Slots {
            len: work
                .iter()
                .map(|w| w.iter().copied().max().unwrap_or(0))
                .collect(),
            adds: work
                .iter()
                .map(|w| w.iter().map(|&d| first(d)).collect())
                .collect(),
            work,
            mults: false,
            shifts_per_cycle: ShiftRule::PerBusyLane,
        })
    }

    fn pairs_program(&self, _: &RefPe, _: &[i32], _: &dyn Fn(usize) -> bool) -> Option<Program> {
        None
    }
}
