//! `bit_serial`: a Stripes-like datapath that streams one operand bit by bit: B cycles per
//! occupied slot, one shift-add per lane per cycle. Its [`Serial`] cost is also how any kind
//! runs a weight scheme it has no native support for: one bit plane per cycle.

use serde::Deserialize;

use super::{Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, StepContext, StepCost};
use crate::quant::Scheme;

/// Which operand a bit-serial PE streams bit by bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialOperand {
    Weight,
    Activation,
}

pub struct BitSerial;

impl Kind for BitSerial {
    fn name(&self) -> &'static str {
        "bit_serial"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`bit_serial`",
            cycles_per_step: "occupied slots x B, B = the layer's weight bits (weight-serial) or `activation_bits` (activation-serial)",
            per_step: "one shift-add per lane per cycle",
        }]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::SerialOperand]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, scheme: &Scheme) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(Serial {
            bits: match pe.serial_operand {
                SerialOperand::Weight => scheme.weight_bits(),
                SerialOperand::Activation => pe.activation_bits,
            },
        }))
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("bitserial_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &[
            "serial_operand = \"weight\"",
            "serial_operand = \"activation\"\nactivation_bits = 6",
        ]
    }
}

/// `bits` cycles per occupied slot: a shift-add per held weight and cycle.
#[derive(Debug)]
pub struct Serial {
    pub bits: u32,
}

impl Serial {
    /// The cost of running `scheme` one bit plane per cycle on a PE without native support.
    pub fn fallback(scheme: &Scheme) -> Box<dyn StepCost> {
        Box::new(Serial {
            bits: scheme.weight_bits(),
        })
    }
}

impl StepCost for Serial {
    fn needs_codes(&self) -> bool {
        false
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let b = self.bits as u64;
        PeStep {
            cycles: held.div_ceil(ctx.lanes) * b,
            held,
            mults: 0,
            adds: held * b,
            shifts: held * b,
            busy_lane_cycles: held * b,
        }
    }

    fn skipping_step(&self, lanes: u64, held: u64, items: u64) -> Option<PeStep> {
        Some(super::pairs_step(
            lanes,
            held,
            items,
            self.bits as u64,
            false,
            true,
        ))
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}
