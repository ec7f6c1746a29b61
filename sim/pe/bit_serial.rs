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
        &[
            KindDoc {
                config: "`bit_serial`",
                cycles_per_step: "occupied slots x B, B = the layer's weight bits (weight-serial) or its activation bits (activation-serial)",
                per_step: "one add per lane per cycle; one shift per cycle (`shifter = \"pe\"`) or per lane per cycle (`\"lane\"`)",
            },
            KindDoc {
                config: "`bit_serial`, `serial_operand = \"activation\"`, `dynamic_precision`",
                cycles_per_step: "per occupied slot, the bit length of its largest activation magnitude (dynamic Stripes: leading zeros trimmed per slot of `lanes` activations; a slot of zeros costs nothing); real activations with `--inputs`, else every non-zero activation at full scale",
                per_step: "one add per lane per cycle of its slot; shifts as above",
            },
        ]
    }

    fn options(&self) -> &'static [PeOption] {
        &[
            PeOption::SerialOperand,
            PeOption::Shifter,
            PeOption::DynamicPrecision,
        ]
    }

    fn reads_activations(&self, pe: &Pe) -> bool {
        pe.dynamic_precision
    }

    fn check(&self, pe: &Pe, problems: &mut Vec<crate::error::Problem>) {
        if pe.dynamic_precision && pe.serial_operand != SerialOperand::Activation {
            problems.push(
                crate::error::Problem::new(
                    "pe.dynamic_precision",
                    "trims activation bits: it needs serial_operand = \"activation\"",
                )
                .with_help("set serial_operand = \"activation\", or drop dynamic_precision"),
            );
        }
        if pe.dynamic_precision && pe.skip_zero_activations {
            problems.push(
                crate::error::Problem::new(
                    "pe.dynamic_precision",
                    "is not modelled together with skip_zero_activations (a slot of zero activations already costs nothing)",
                )
                .with_help("turn one of them off"),
            );
        }
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    /// A multiplier (or a generic serial datapath) takes an activation operand as it takes
    /// a weight.
    fn dynamic_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        self.layer_cost(pe, quant)
    }

    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(Serial {
            bits: match pe.serial_operand {
                SerialOperand::Weight => quant.scheme.weight_bits(),
                SerialOperand::Activation => quant.activation_bits,
            },
            shifter: pe.shifter,
            dynamic: pe.dynamic_precision,
        }))
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        Datapath::serial(pe)
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("bitserial_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &[
            "serial_operand = \"weight\"",
            "serial_operand = \"weight\"\nshifter = \"lane\"",
            "serial_operand = \"activation\"\nactivation_bits = 6",
            "serial_operand = \"activation\"\ndynamic_precision = true",
        ]
    }
}

/// `bits` cycles per occupied slot: an add per held weight and cycle, shifts where the
/// shifters sit.
#[derive(Debug)]
pub struct Serial {
    pub bits: u32,
    pub shifter: ShifterPlacement,
    /// Activation-serial with each slot's precision from its activations.
    pub dynamic: bool,
}

impl Serial {
    /// The cost of running `scheme` one bit plane per cycle on a PE without native support,
    /// through the PE's one shifter.
    pub fn fallback(scheme: &Scheme) -> Box<dyn StepCost> {
        Box::new(Serial {
            bits: scheme.weight_bits(),
            shifter: ShifterPlacement::Pe,
            dynamic: false,
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

    fn activation_step(&self, ctx: &StepContext, w: &PeWeights, acts: &[u16]) -> Option<PeStep> {
        if !self.dynamic {
            return None;
        }
        let lens = slot_maxima(acts, ctx.lanes, |a| bit_length(a).min(self.bits as u64));
        Some(slots_step(ctx, w.held(ctx), &lens, self.shifter))
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}

/// Bits needed to write magnitude `a` (0 for 0): what a serial PE streams of it once its
/// leading zeros are trimmed.
pub fn bit_length(a: u16) -> u64 {
    (u16::BITS - a.leading_zeros()) as u64
}

/// Per occupied slot of `lanes` activations, the largest `f` of its activations.
pub fn slot_maxima(acts: &[u16], lanes: u64, f: impl Fn(u16) -> u64) -> Vec<u64> {
    acts.chunks(lanes.max(1) as usize)
        .map(|slot| slot.iter().map(|&a| f(a)).max().unwrap_or(0))
        .collect()
}

/// Weights held in slot `s` of a PE holding `held` over `lanes` lanes.
fn in_slot(held: u64, lanes: u64, s: usize) -> u64 {
    held.saturating_sub(s as u64 * lanes).min(lanes)
}

/// The step of a serial PE whose occupied slot s lasts `lens[s]` cycles with every lane of
/// the slot adding each cycle (shifts where the shifters sit).
pub fn slots_step(ctx: &StepContext, held: u64, lens: &[u64], shifter: ShifterPlacement) -> PeStep {
    let cycles: u64 = lens.iter().sum();
    let busy: u64 = lens
        .iter()
        .enumerate()
        .map(|(s, &len)| len * in_slot(held, ctx.lanes, s))
        .sum();
    PeStep {
        cycles,
        held,
        mults: 0,
        adds: busy,
        shifts: shifter.shifts(busy, cycles),
        busy_lane_cycles: busy,
        selects: held,
    }
}
