//! `dense`: an int-k multiply-accumulate per lane, one MAC per lane per cycle. The SCALE-Sim
//! setting; the only kind modelled on the output- and input-stationary dataflows too.

use super::{Datapath, Kind, KindDoc, Pe, PeStep, PeWeights, StepContext, StepCost};
use crate::quant::QuantSpec;

pub struct Dense;

impl Kind for Dense {
    fn name(&self) -> &'static str {
        "dense"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`dense`",
            cycles_per_step: "occupied slots (1 with one slot)",
            per_step: "one multiply and one add per held weight",
        }]
    }

    fn weight_stationary_only(&self) -> bool {
        false
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    /// A multiplier (or a generic serial datapath) takes an activation operand as it takes
    /// a weight.
    fn dynamic_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        self.layer_cost(pe, quant)
    }

    fn layer_cost(&self, _pe: &Pe, _quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(Mac))
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        Datapath {
            multiplier: Some((pe.weight_bits, pe.activation_bits)),
            ..Datapath::base(pe)
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("dense_pe16.toml")
    }
}

/// One multiply and one add per held weight; one cycle per occupied slot.
#[derive(Debug)]
pub struct Mac;

impl StepCost for Mac {
    fn needs_codes(&self) -> bool {
        false
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        PeStep {
            cycles: held.div_ceil(ctx.lanes),
            held,
            mults: held,
            adds: held,
            shifts: 0,
            busy_lane_cycles: held,
            selects: held,
        }
    }

    fn skipping_step(&self, batches: u64, held: u64, items: u64) -> Option<PeStep> {
        Some(super::pairs_step(batches, held, items, 1, true, None))
    }

    fn weight_reg_bits(&self, code_bits: u32) -> u32 {
        code_bits
    }
}
