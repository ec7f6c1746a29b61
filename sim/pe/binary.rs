//! `binary`: {-1,+1} weights, an add or subtract per lane instead of a multiplier (XNOR-Net
//! weights on an add/sub datapath). With `exploit_repetition` only the rarer sign is
//! accumulated and a window sum of the activations, shared by every filter of the fold, gives
//! the rest (UCNN/SumMerge's idea): y = 2 S+ - W (or W - 2 S-).

use super::bit_serial::Serial;
use super::{Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, StepContext, StepCost};
use crate::quant::Scheme;

pub struct Binary;

impl Kind for Binary {
    fn name(&self) -> &'static str {
        "binary"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[
            KindDoc {
                config: "`binary`",
                cycles_per_step: "occupied slots: each lane adds or subtracts its activation",
                per_step: "one add/sub per held weight",
            },
            KindDoc {
                config: "`binary`, `exploit_repetition`",
                cycles_per_step: "ceil(min(n+, n-) / lanes): only the rarer sign is accumulated, y = 2 S+ - W (or W - 2 S-), where the window sum W of the activations is computed once per row and shared by every filter of the fold",
                per_step: "min(n+, n-) adds, plus the shared window-sum adds (counted separately)",
            },
        ]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::ExploitRepetition]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, scheme: &Scheme) -> Result<Box<dyn StepCost>, String> {
        Ok(match scheme {
            Scheme::Binary => Box::new(AddSub {
                repetition: pe.exploit_repetition,
            }),
            other => Serial::fallback(other),
        })
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("binary_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &["exploit_repetition = false", "exploit_repetition = true"]
    }
}

/// An add or subtract per held weight, one cycle per occupied slot; with repetition, only the
/// rarer sign, `lanes` per cycle.
#[derive(Debug)]
pub struct AddSub {
    pub repetition: bool,
}

impl StepCost for AddSub {
    fn needs_codes(&self) -> bool {
        self.repetition
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let work = if self.repetition {
            let plus = (0..held).filter(|&i| w.code(i) > 0).count() as u64;
            plus.min(held - plus)
        } else {
            held
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

    fn weight_reg_bits(&self, code_bits: u32) -> u32 {
        code_bits
    }

    fn shares_window_sums(&self) -> bool {
        self.repetition
    }
}
