//! `swis`: SWIS (Li et al.): a slot is one group of `lanes` weights sharing N_g bit positions
//! chosen offline; one shared shifter steps through them, one position per cycle, so a slot
//! costs N_g cycles. It also runs the truncation baseline (the kept bits per slot).

use super::bit_serial::Serial;
use super::{Kind, KindDoc, Pe, PeStep, PeWeights, StepContext, StepCost};
use crate::quant::Scheme;

pub struct Swis;

impl Kind for Swis {
    fn name(&self) -> &'static str {
        "swis"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`swis`",
            cycles_per_step: "sum over the PE's slots of N_g: a slot is one group of `lanes` weights sharing N_g bit positions; one shared shifter steps through them, one position per cycle",
            per_step: "one shift per cycle, one add per set weight bit",
        }]
    }

    fn layer_cost(&self, pe: &Pe, scheme: &Scheme) -> Result<Box<dyn StepCost>, String> {
        match *scheme {
            Scheme::Swis { group_size, .. } if group_size != pe.lanes => Err(format!(
                "SWIS group_size {group_size} differs from pe.lanes = {}; a SWIS PE processes one group per slot, one lane per weight",
                pe.lanes
            )),
            Scheme::Swis { .. } => Ok(Box::new(SharedPositions)),
            Scheme::Truncate { kept_bits, .. } => Ok(Box::new(KeptBits { bits: kept_bits })),
            ref other => Ok(Serial::fallback(other)),
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("swis_pe16.toml")
    }
}

/// SWIS: slot s of the PE is group `k0 / lanes + s` of the filter; it costs N_g cycles.
#[derive(Debug)]
pub struct SharedPositions;

impl StepCost for SharedPositions {
    fn needs_codes(&self) -> bool {
        true
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let lanes = ctx.lanes;
        let groups = w.group_bits.expect("SWIS cost needs group metadata");
        let g0 = (w.k0 / lanes) as usize;
        let mut st = PeStep {
            held,
            ..PeStep::default()
        };
        for s in 0..held.div_ceil(lanes) as usize {
            let n_g = groups[g0 + s] as u64;
            let in_slot = (held - s as u64 * lanes).min(lanes);
            st.cycles += n_g;
            st.busy_lane_cycles += n_g * in_slot;
            st.shifts += n_g;
        }
        // Each set bit of a kept position is one add of the shifted activation.
        st.adds = (0..held)
            .map(|i| w.code(i).unsigned_abs().count_ones() as u64)
            .sum();
        st
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}

/// Truncation on a SWIS PE: a fixed number of kept bits per slot.
#[derive(Debug)]
pub struct KeptBits {
    pub bits: u32,
}

impl StepCost for KeptBits {
    fn needs_codes(&self) -> bool {
        true
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let b = self.bits as u64;
        let slots = held.div_ceil(ctx.lanes);
        PeStep {
            cycles: slots * b,
            held,
            mults: 0,
            adds: (0..held)
                .map(|i| w.code(i).unsigned_abs().count_ones() as u64)
                .sum(),
            shifts: slots * b,
            busy_lane_cycles: held * b,
        }
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }
}
