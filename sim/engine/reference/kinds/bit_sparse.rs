//! `bit_sparse`: one cycle per effectual digit of each weight. The digits are counted here
//! by building the representation digit by digit (the fast engine uses a closed form).

use super::{FilterGroups, RefKind, RefPe};
use crate::engine::reference::program::Program;
use crate::pe::BitEncoding;
use crate::quant::Code;

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
        held: &[Code],
        _: usize,
        _: Option<FilterGroups>,
    ) -> Result<Program, String> {
        let enc = p.pe.encoding;
        Ok(super::per_weight_work(
            p,
            held.iter().map(|&c| digits(c.into(), enc)).collect(),
        ))
    }

    fn pairs_program(&self, _: &RefPe, _: &[Code], _: &dyn Fn(usize) -> bool) -> Option<Program> {
        None
    }
}
