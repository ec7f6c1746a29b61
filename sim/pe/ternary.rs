//! `ternary`: {-1,0,+1} weights (TWN) with zero skipping: the PE walks an offline-compacted
//! list of its non-zero weights (with their indices), `lanes` per cycle. It runs binary and
//! signed-binary codes natively too.

use super::bit_serial::Serial;
use super::{Kind, KindDoc, Pe, PeStep, PeWeights, StepContext, StepCost};
use crate::quant::Scheme;

pub struct Ternary;

impl Kind for Ternary {
    fn name(&self) -> &'static str {
        "ternary"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`ternary`",
            cycles_per_step: "ceil(nnz / lanes): the PE walks its offline-compacted list of non-zero weights (with their indices), `lanes` per cycle",
            per_step: "nnz add/subs",
        }]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, _pe: &Pe, scheme: &Scheme) -> Result<Box<dyn StepCost>, String> {
        Ok(match scheme {
            Scheme::Binary | Scheme::Ternary { .. } | Scheme::SignedBinary { .. } => {
                Box::new(ZeroSkip { repetition: false })
            }
            other => Serial::fallback(other),
        })
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("ternary_pe16.toml")
    }
}

/// Zero skipping over the PE's compacted non-zero list: ceil(nnz / lanes) cycles. With
/// repetition (one-sign filters), whichever of the non-zero and zero lists is shorter is
/// summed; the zero list is subtracted from the shared window sum.
#[derive(Debug)]
pub struct ZeroSkip {
    pub repetition: bool,
}

impl StepCost for ZeroSkip {
    fn needs_codes(&self) -> bool {
        true
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let nnz = (0..held).filter(|&i| w.code(i) != 0).count() as u64;
        let work = if self.repetition {
            nnz.min(held - nnz)
        } else {
            nnz
        };
        PeStep {
            cycles: work.div_ceil(ctx.lanes),
            held,
            mults: 0,
            adds: work,
            shifts: 0,
            busy_lane_cycles: work,
        }
    }

    fn skipping_step(&self, lanes: u64, held: u64, items: u64) -> Option<PeStep> {
        Some(super::pairs_step(lanes, held, items, 1, false, false))
    }

    fn skips_zero_weights(&self) -> bool {
        true
    }

    fn weight_reg_bits(&self, code_bits: u32) -> u32 {
        code_bits
    }
}
