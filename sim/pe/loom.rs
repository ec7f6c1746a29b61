//! `loom`: Loom (Sharify et al., DAC 2018): both operands serial. A lane ANDs one weight bit
//! with one activation bit per cycle and adds the product at its position, so a slot costs
//! `Pa x Pw` cycles: `Pw` the layer's weight bits, `Pa` the bit length of the slot's largest
//! activation magnitude (Loom trims activation precision dynamically per group; here the group
//! is the `lanes` activations of a slot, and a slot of zeros costs nothing).
//!
//! With `--inputs` the real activations set `Pa`; without, every non-zero activation is at
//! full scale (`Pa` = the layer's activation bits).

use super::bit_serial::{bit_length, slot_maxima, slots_step};
use super::{Datapath, Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, StepContext, StepCost};
use crate::pe::ShifterPlacement;
use crate::quant::QuantSpec;

pub struct Loom;

impl Kind for Loom {
    fn name(&self) -> &'static str {
        "loom"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`loom`",
            cycles_per_step: "per occupied slot, Pa x Pw: Pw the layer's weight bits, Pa the bit length of the slot's largest activation magnitude (real activations with `--inputs`, else the layer's activation bits); a slot of zero activations costs nothing",
            per_step: "one 1-bit product and add per lane per cycle of its slot; one shift per cycle (`shifter = \"pe\"`) or per lane per cycle (`\"lane\"`)",
        }]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::Shifter]
    }

    fn reads_activations(&self, _pe: &Pe) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(BothSerial {
            weight_bits: quant.scheme.weight_bits(),
            activation_bits: quant.activation_bits,
            shifter: pe.shifter,
        }))
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        Datapath::serial(pe)
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("loom_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &["shifter = \"pe\"", "shifter = \"lane\""]
    }
}

/// `Pa x Pw` cycles per occupied slot.
#[derive(Debug)]
pub struct BothSerial {
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub shifter: ShifterPlacement,
}

impl BothSerial {
    /// `Pa[s] x Pw` cycles per occupied slot s.
    fn cost(&self, ctx: &StepContext, held: u64, pa: &[u64]) -> PeStep {
        let pw = self.weight_bits as u64;
        let lens: Vec<u64> = pa.iter().map(|&p| p * pw).collect();
        slots_step(ctx, held, &lens, self.shifter)
    }
}

impl StepCost for BothSerial {
    fn needs_codes(&self) -> bool {
        false
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let slots = held.div_ceil(ctx.lanes) as usize;
        self.cost(ctx, held, &vec![self.activation_bits as u64; slots])
    }

    fn activation_step(&self, ctx: &StepContext, w: &PeWeights, acts: &[u16]) -> Option<PeStep> {
        let bits = self.activation_bits as u64;
        let pa = slot_maxima(acts, ctx.lanes, |a| bit_length(a).min(bits));
        Some(self.cost(ctx, w.held(ctx), &pa))
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}
