//! `bit_serial`: a Stripes-like datapath that streams one operand bit by bit: B cycles per
//! occupied slot, one shift-add per lane per cycle. Its [`Serial`] cost is also how any kind
//! runs a weight scheme it has no native support for: one bit plane per cycle.

use serde::Deserialize;

use super::{
    Datapath, Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, ShifterPlacement, StepContext,
    StepCost,
};
use crate::quant::{QuantSpec, Scheme};

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
            cycles_per_step: "occupied slots x B, B = the layer's weight bits (weight-serial) or its activation bits (activation-serial)",
            per_step: "one add per lane per cycle; one shift per cycle (`shifter = \"pe\"`) or per lane per cycle (`\"lane\"`)",
        }]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::SerialOperand, PeOption::Shifter]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(Serial {
            bits: match pe.serial_operand {
                SerialOperand::Weight => quant.scheme.weight_bits(),
                SerialOperand::Activation => quant.activation_bits,
            },
            shifter: pe.shifter,
        }))
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        Datapath {
            shifters: Some(pe.shifter),
            lane_accumulators: pe.shifter == ShifterPlacement::Lane,
            ..Datapath::base(pe)
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("bitserial_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &[
            "serial_operand = \"weight\"",
            "serial_operand = \"weight\"\nshifter = \"lane\"",
            "serial_operand = \"activation\"\nactivation_bits = 6",
        ]
    }
}

/// `bits` cycles per occupied slot: an add per held weight and cycle, shifts where the
/// shifters sit.
#[derive(Debug)]
pub struct Serial {
    pub bits: u32,
    pub shifter: ShifterPlacement,
}

impl Serial {
    /// The cost of running `scheme` one bit plane per cycle on a PE without native support,
    /// through the PE's one shifter.
    pub fn fallback(scheme: &Scheme) -> Box<dyn StepCost> {
        Box::new(Serial {
            bits: scheme.weight_bits(),
            shifter: ShifterPlacement::Pe,
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
        let cycles = held.div_ceil(ctx.lanes) * b;
        PeStep {
            cycles,
            held,
            mults: 0,
            adds: held * b,
            shifts: self.shifter.shifts(held * b, cycles),
            busy_lane_cycles: held * b,
            selects: held,
        }
    }

    fn skipping_step(&self, batches: u64, held: u64, items: u64) -> Option<PeStep> {
        Some(super::pairs_step(
            batches,
            held,
            items,
            self.bits as u64,
            false,
            Some(self.shifter),
        ))
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}
