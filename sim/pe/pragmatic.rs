//! `pragmatic`: Pragmatic as published (Albericio et al., MICRO 2017): weights in parallel,
//! activations serial in their effectual bits. Each lane pairs a held weight with one
//! activation and spends one cycle per one-bit ("oneffset") of the activation's magnitude,
//! shifting the weight to that bit's position (a shifter per lane) and adding it; a zero
//! activation costs nothing. Lanes advance slot by slot (a slot costs its lane with the most
//! one-bits) unless `sync_scope = "lane"`, where each lane walks its own slots.
//!
//! The cycles depend on the activations' values: with `--inputs` the real ones (sign-magnitude
//! codes of the functional run), else every non-zero activation at full scale (all
//! `activation_bits` ones: the worst case, where Pragmatic costs about what Stripes costs).

use super::bit_serial::bit_length;
use super::{
    Datapath, Kind, KindDoc, Pe, PeStep, PeWeights, ShifterPlacement, StepContext, StepCost,
};
use crate::quant::QuantSpec;

pub struct Pragmatic;

impl Kind for Pragmatic {
    fn name(&self) -> &'static str {
        "pragmatic"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[KindDoc {
            config: "`pragmatic`",
            cycles_per_step: "per occupied slot, the most one-bits among its activations' magnitudes (lanes advance slot by slot); with `sync_scope = \"lane\"` each lane walks its own slots and the PE waits for the slowest lane; real activations with `--inputs`, else every non-zero activation at full scale",
            per_step: "one shift (a shifter per lane moves the weight to the bit's position) and one add per one-bit of each activation",
        }]
    }

    fn reads_activations(&self, _pe: &Pe) -> bool {
        true
    }

    fn layer_cost(&self, _pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(Box::new(Oneffsets {
            bits: quant.activation_bits,
        }))
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        Datapath {
            shifters: Some(ShifterPlacement::Lane),
            ..Datapath::base(pe)
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("pragmatic_pe16.toml")
    }
}

/// One cycle per one-bit of each activation (`bits`: the layer's activation width).
#[derive(Debug)]
pub struct Oneffsets {
    pub bits: u32,
}

impl Oneffsets {
    fn cost(&self, ctx: &StepContext, held: u64, ones: &dyn Fn(u64) -> u64) -> PeStep {
        let total: u64 = (0..held).map(ones).sum();
        let cycles = super::lane_cycles(ctx, held, ones);
        PeStep {
            cycles,
            held,
            mults: 0,
            adds: total,
            shifts: total,
            busy_lane_cycles: total,
            selects: held,
        }
    }
}

impl StepCost for Oneffsets {
    fn needs_codes(&self) -> bool {
        false
    }

    /// Without activation values: every activation at full scale, `bits` one-bits.
    fn step(&self, ctx: &StepContext, w: &PeWeights) -> PeStep {
        let bits = self.bits as u64;
        self.cost(ctx, w.held(ctx), &|_| bits)
    }

    fn activation_step(&self, ctx: &StepContext, w: &PeWeights, acts: &[u16]) -> Option<PeStep> {
        let bits = self.bits as u64;
        let ones = |i: u64| (acts[i as usize].count_ones() as u64).min(bits);
        debug_assert!(acts.iter().all(|&a| bit_length(a) <= 16));
        Some(self.cost(ctx, w.held(ctx), &ones))
    }

    fn weight_reg_bits(&self, code_bits: u32) -> u32 {
        code_bits
    }
}
