//! `bit_sparse`: a Pragmatic-like PE that spends one cycle per effectual (non-zero) digit of
//! each weight, in plain binary or canonical signed-digit (Booth-like) encoding. Lanes advance
//! slot by slot together (a slot costs its slowest lane) unless `sync_scope = "lane"`, where
//! each lane walks its own slots and the PE waits for the slowest lane.

use serde::Deserialize;

use super::{
    Datapath, Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, ShifterPlacement, StepContext,
    StepCost,
};
use crate::quant::QuantSpec;

/// How a bit-sparse PE encodes weights before skipping zero bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BitEncoding {
    /// Plain sign-magnitude: a step costs popcount(|w|).
    Binary,
    /// Canonical signed digit (Booth-like): a step costs the non-zero CSD digits of w.
    Csd,
}

/// Non-zero digits of `v` in canonical signed-digit form (no two adjacent non-zero digits).
pub fn csd_digits(v: i32) -> u32 {
    let x = v.unsigned_abs() as u64;
    // The non-adjacent form has a non-zero digit wherever x and 3x differ, one position up.
    ((x ^ (3 * x)) >> 1).count_ones()
}

/// Effectual digits of a weight code under an encoding.
pub fn effectual_digits(code: i32, encoding: BitEncoding) -> u32 {
    match encoding {
        BitEncoding::Binary => code.unsigned_abs().count_ones(),
        BitEncoding::Csd => csd_digits(code),
    }
}

pub struct BitSparse;

impl Kind for BitSparse {
    fn name(&self) -> &'static str {
        "bit_sparse"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`bit_sparse`",
            cycles_per_step: "per slot, the most effectual digits among its lanes (lanes advance slot by slot); with `sync_scope = \"lane\"` each lane walks its own slots and the PE waits for the slowest lane; with `sync_scope = \"brick\"` every slot of the array's active PEs takes the slowest PE's slot (Pragmatic's brick lock-step)",
            per_step: "one shift (a shifter per lane places the activation at the digit's position) and one add per effectual digit",
        }]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::Encoding]
    }

    fn brick_lockstep(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, _quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(Digits {
            encoding: pe.encoding,
        }))
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        Datapath {
            shifters: Some(ShifterPlacement::Lane),
            ..Datapath::base(pe)
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("bitsparse_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &["encoding = \"binary\"", "encoding = \"csd\""]
    }
}

/// One cycle per effectual digit of each weight.
#[derive(Debug)]
pub struct Digits {
    pub encoding: BitEncoding,
}

impl StepCost for Digits {
    fn needs_codes(&self) -> bool {
        true
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let digits = |i: u64| effectual_digits(w.code(i), self.encoding) as u64;
        let total: u64 = (0..held).map(digits).sum();
        let cycles = super::lane_cycles(ctx, held, &digits);
        PeStep {
            cycles,
            held,
            mults: 0,
            adds: total,
            shifts: total,
            busy_lane_cycles: total,
            selects: held,
        }
    }

    fn slot_cycles(&self, ctx: &StepContext, w: &PeWeights) -> Vec<u64> {
        let held = w.held(ctx);
        let lanes = ctx.lanes;
        (0..held.div_ceil(lanes))
            .map(|s| {
                (s * lanes..((s + 1) * lanes).min(held))
                    .map(|i| effectual_digits(w.code(i), self.encoding) as u64)
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Non-zero digits of the non-adjacent form, built digit by digit.
    fn naf_nonzeros(mut x: i64) -> u32 {
        let mut n = 0;
        while x != 0 {
            if x & 1 == 1 {
                let d = 2 - (x & 3); // +1 or -1
                x -= d;
                n += 1;
            }
            x >>= 1;
        }
        n
    }

    #[test]
    fn csd_digits_match_naf() {
        for v in -40000..40000 {
            assert_eq!(csd_digits(v), naf_nonzeros((v as i64).abs()), "v = {v}");
        }
        assert_eq!(csd_digits(7), 2); // 8 - 1
        assert_eq!(csd_digits(0b1011_1011), 4);
    }
}
