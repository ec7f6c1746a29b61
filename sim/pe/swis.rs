//! `swis`: SWIS (Li et al.): a slot is one group of `lanes` weights sharing N_g bit positions
//! chosen offline; one shared shifter steps through them, one position per cycle, so a slot
//! costs N_g cycles. It also runs the truncation baseline (the kept bits per slot).

use super::bit_serial::Serial;
use super::{
    Datapath, Kind, KindDoc, Pe, PeOption, PeStep, PeWeights, ShifterPlacement, StepContext,
    StepCost,
};
use crate::quant::{QuantSpec, Scheme};

pub struct Swis;

impl Kind for Swis {
    fn name(&self) -> &'static str {
        "swis"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`swis`",
            cycles_per_step: "sum over the PE's slots of N_g: a slot is one group of `lanes` weights sharing N_g bit positions; one shared shifter steps through them, one position per cycle",
            per_step: "one add per lane per cycle (the lane's bit at the shared position gates its activation into the adder tree); one shift per cycle (`shifter = \"pe\"`, SWIS's shared shifter) or per lane per cycle (`\"lane\"`)",
        }]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::Shifter]
    }

    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        let shifter = pe.shifter;
        match quant.scheme {
            Scheme::Swis { group_size, .. } if group_size != pe.lanes => Err(format!(
                "SWIS group_size {group_size} differs from pe.lanes = {}; a SWIS PE processes one group per slot, one lane per weight",
                pe.lanes
            )),
            Scheme::Swis { .. } => Ok(Box::new(SharedPositions { shifter })),
            // Truncation keeps a fixed number of bits per slot: bit-serial over the kept bits.
            Scheme::Truncate { kept_bits, .. } => Ok(Box::new(Serial {
                bits: kept_bits,
                shifter,
                dynamic: false,
            })),
            ref other => Ok(Serial::fallback(other)),
        }
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        // Per slot (one group) a mask of the positions its weights share, one bit per
        // position of the base width.
        Datapath {
            extra_register_bits: pe.weights_per_lane * pe.weight_bits,
            ..Datapath::serial(pe)
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("swis_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &["shifter = \"pe\"", "shifter = \"lane\""]
    }
}

/// SWIS: slot s of the PE is group `k0 / lanes + s` of the filter; it costs N_g cycles.
#[derive(Debug)]
pub struct SharedPositions {
    pub shifter: ShifterPlacement,
}

impl StepCost for SharedPositions {
    fn needs_codes(&self) -> bool {
        true
    }

    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let held = w.held(ctx);
        let lanes = ctx.lanes;
        let g0 = (w.k0 / lanes) as usize;
        let mut st = PeStep {
            held,
            selects: held,
            ..PeStep::default()
        };
        if let Some((prefix, f)) = w.group_prefix {
            // Slot s holds group g0 + s; the PE's held weights end where the chunk or the
            // filter ends, so a slot holds exactly its group's weights.
            let (cycles, busy) = prefix.range(f, g0, g0 + held.div_ceil(lanes) as usize);
            st.cycles = cycles;
            st.busy_lane_cycles = busy;
            st.adds = busy;
            st.shifts = self.shifter.shifts(busy, cycles);
            return st;
        }
        let groups = w.group_bits.expect("SWIS cost needs group metadata");
        for s in 0..held.div_ceil(lanes) as usize {
            let n_g = groups[g0 + s] as u64;
            let in_slot = (held - s as u64 * lanes).min(lanes);
            st.cycles += n_g;
            st.busy_lane_cycles += n_g * in_slot;
        }
        // Every lane of a slot feeds the adder tree each cycle (its bit gates the activation).
        st.adds = st.busy_lane_cycles;
        st.shifts = self.shifter.shifts(st.busy_lane_cycles, st.cycles);
        st
    }

    fn weight_reg_bits(&self, _code_bits: u32) -> u32 {
        1
    }

    fn reads_group_prefix(&self) -> bool {
        true
    }
}
