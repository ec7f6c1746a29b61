//! `binary`: {-1,+1} weights, an add or subtract per lane instead of a multiplier (XNOR-Net
//! weights on an add/sub datapath). With `exploit_repetition` only the rarer sign is
//! accumulated and a window sum of the activations, shared by every filter of the fold, gives
//! the rest (UCNN/SumMerge's idea): y = 2 S+ - W (or W - 2 S-).

use super::bit_serial::Serial;
use super::{
    Datapath, Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, ShifterPlacement, StepContext,
    StepCost,
};
use crate::quant::{Code, QuantSpec, Scheme};

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
                cycles_per_step: "the skip network's cycles for the cheaper of the +1 and the -1 positions (ideal: ceil(min(n+, n-) / lanes)): only that sign is accumulated, y = 2 S+ - W (or W - 2 S-), where the window sum W of the activations is computed once per row and shared by every filter of the fold",
                per_step: "one add per accumulated weight, plus the shared window-sum adds (counted separately)",
            },
        ]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::ExploitRepetition, PeOption::Skip]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(match &quant.scheme {
            Scheme::Binary => Box::new(AddSub {
                repetition: pe.exploit_repetition,
            }),
            other => Serial::fallback(other),
        })
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        // One PE shifter for the bit-plane fallback of schemes it has no native support for.
        let d = Datapath {
            shifters: Some(ShifterPlacement::Pe),
            ..Datapath::base(pe)
        };
        if pe.exploit_repetition {
            d.with_skip_index(pe.skip)
        } else {
            d
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("binary_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &[
            "exploit_repetition = false",
            "exploit_repetition = true\nskip = \"ideal\"",
            "exploit_repetition = true\nskip = \"lane\"",
            "exploit_repetition = true\nskip = \"window\"\nlookahead = 1\nlookaside = 2",
        ]
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
        let (cycles, work) = if self.repetition && held <= 64 {
            // One word of positions (every shipped PE): no allocation.
            let plus = super::skip::held_mask(w, held, |c| c > 0);
            super::cheaper_list(ctx, &[plus], &[super::skip::all_held(held) & !plus])
        } else if self.repetition {
            super::cheaper_list(
                ctx,
                &w.positions(ctx, |c| c > 0),
                &w.positions(ctx, |c| c <= 0),
            )
        } else {
            (held.div_ceil(ctx.lanes), held)
        };
        PeStep {
            cycles,
            held,
            mults: 0,
            adds: work,
            shifts: 0,
            busy_lane_cycles: work,
            selects: work,
        }
    }

    fn skipping_step(&self, batches: u64, held: u64, items: u64) -> Option<PeStep> {
        Some(super::pairs_step(batches, held, items, 1, false, None))
    }

    fn weight_reg_bits(&self, code_bits: u32) -> u32 {
        code_bits
    }

    fn shares_window_sums(&self) -> bool {
        self.repetition
    }

    fn uses_skip_index(&self) -> bool {
        self.repetition
    }

    fn indexed_weights(&self, codes: &[Code], kpp: usize) -> u64 {
        if !self.repetition {
            return 0;
        }
        codes
            .chunks(kpp.max(1))
            .map(|c| {
                let plus = c.iter().filter(|&&x| x > 0).count() as u64;
                plus.min(c.len() as u64 - plus)
            })
            .sum()
    }
}
