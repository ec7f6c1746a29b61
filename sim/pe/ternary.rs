//! `ternary`: {-1,0,+1} weights (TWN) with zero skipping: offline, each lane's non-zero
//! weights are scheduled through the skip network (`pe.skip`, see [`super::skip`]) and their
//! slot indices stored beside them. It runs binary and signed-binary codes natively too.

use super::bit_serial::Serial;
use super::{
    Datapath, Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, ShifterPlacement, StepContext,
    StepCost,
};
use crate::quant::{Code, QuantSpec, Scheme};

pub struct Ternary;

impl Kind for Ternary {
    fn name(&self) -> &'static str {
        "ternary"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`ternary`",
            cycles_per_step: "the skip network's cycles for the non-zero weights: `ideal` ceil(nnz / lanes); `lane` the most non-zeros of one lane; `window` Bit-Tactical's lookahead/lookaside schedule",
            per_step: "nnz add/subs",
        }]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::Skip]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, _pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(match &quant.scheme {
            Scheme::Binary
            | Scheme::Ternary { .. }
            | Scheme::TernaryAbsmean
            | Scheme::SignedBinary { .. } => Box::new(ZeroSkip { repetition: false }),
            other => Serial::fallback(other),
        })
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        skipping_datapath(pe)
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("ternary_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        SKIP_CONFIGS
    }
}

/// The skip networks the differential tests check a zero-skipping kind with.
pub const SKIP_CONFIGS: &[&str] = &[
    "skip = \"ideal\"",
    "skip = \"lane\"",
    "skip = \"window\"",
    "skip = \"window\"\nlookahead = 1\nlookaside = 1",
    "skip = \"window\"\nlookahead = 0\nlookaside = 7",
];

/// A zero-skipping PE: the skip network's multiplexer and index, and one PE shifter for the
/// bit-plane fallback of schemes it has no native support for.
pub fn skipping_datapath(pe: &Pe) -> Datapath {
    Datapath {
        shifters: Some(ShifterPlacement::Pe),
        ..Datapath::base(pe)
    }
    .with_skip_index(pe.skip)
}

/// Zero skipping through the skip network: its cycles for the non-zero positions. With
/// repetition (one-sign filters), whichever of the non-zero and zero lists the network serves
/// faster is summed; the zero list is subtracted from the shared window sum.
#[derive(Debug)]
pub struct ZeroSkip {
    pub repetition: bool,
}

impl ZeroSkip {
    /// (cycles, positions accumulated) of a PE holding more than 64 weights.
    fn positions_step(&self, ctx: &StepContext, w: &PeWeights) -> (u64, u64) {
        let nonzero = w.positions(ctx, |c| c != 0);
        if self.repetition {
            super::cheaper_list(ctx, &nonzero, &w.positions(ctx, |c| c == 0))
        } else {
            (
                ctx.skip.cycles(ctx.lanes, ctx.slots, &nonzero),
                nonzero.iter().map(|x| x.count_ones() as u64).sum(),
            )
        }
    }
}

impl StepCost for ZeroSkip {
    fn needs_codes(&self) -> bool {
        true
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let (cycles, work) = if held <= 64 {
            // One word of positions (every shipped PE): no allocation. The zero positions
            // are the held ones that are not non-zero.
            let nonzero = super::skip::held_mask(w, held, |c| c != 0);
            if self.repetition {
                let zero = super::skip::all_held(held) & !nonzero;
                super::cheaper_list(ctx, &[nonzero], &[zero])
            } else {
                (
                    ctx.skip.cycles(ctx.lanes, ctx.slots, &[nonzero]),
                    nonzero.count_ones() as u64,
                )
            }
        } else {
            self.positions_step(ctx, w)
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

    fn skips_zero_weights(&self) -> bool {
        true
    }

    fn uses_skip_index(&self) -> bool {
        true
    }

    fn indexed_weights(&self, codes: &[Code], kpp: usize) -> u64 {
        codes
            .chunks(kpp.max(1))
            .map(|c| {
                let nnz = c.iter().filter(|&&x| x != 0).count() as u64;
                if self.repetition {
                    nnz.min(c.len() as u64 - nnz)
                } else {
                    nnz
                }
            })
            .sum()
    }

    fn weight_reg_bits(&self, code_bits: u32) -> u32 {
        code_bits
    }
}
