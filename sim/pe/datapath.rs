//! What one PE is built from: the hardware its kind and options imply. The area model counts
//! it, the clock model clocks its registers, and the energy model prices each action at the
//! widths it gives, so every kind is charged by the same rules (arch/README.md, "What one PE
//! is built from").
//!
//! Every kind has `lanes` adders of the accumulator width (an adder tree into the PE's
//! accumulator: lanes - 1 tree adders and the accumulating one), one accumulator register, and
//! per lane `weights_per_lane` weight slots of `pe.weight_bits` and as many activation
//! registers of `pe.activation_bits` (the activations of the PE's K indices for the step). A
//! lane picks the operand pair of each cycle through a multiplexer over the slots it can reach:
//! its own slots in order, or the reach of the skip network (see [`super::skip`]); a PE that
//! skips zero weights keeps an offline index of `ceil(log2 reach)` bits per weight slot.

use serde::Deserialize;

use super::skip::SkipNetwork;
use super::Pe;

/// Where a serial PE shifts: one shifter per lane (each lane shift-accumulates on its own) or
/// one per PE (the adder tree's sum is shifted once per cycle, as Stripes' serial inner-product
/// unit and SWIS's shared shifter do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShifterPlacement {
    Lane,
    Pe,
}

impl ShifterPlacement {
    /// Shifts of a step that keeps lanes busy for `busy_lane_cycles` over `cycles` cycles: one
    /// per busy lane-cycle with a shifter per lane, one per cycle with one per PE.
    pub fn shifts(self, busy_lane_cycles: u64, cycles: u64) -> u64 {
        match self {
            ShifterPlacement::Lane => busy_lane_cycles,
            ShifterPlacement::Pe => cycles,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ShifterPlacement::Lane => "lane",
            ShifterPlacement::Pe => "pe",
        }
    }
}

/// The hardware of one PE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datapath {
    pub lanes: u32,
    pub slots: u32,
    /// A multiplier per lane, weight bits x activation bits (dense PEs).
    pub multiplier: Option<(u32, u32)>,
    /// Adder width: the accumulator's.
    pub adder_bits: u32,
    /// Shifters of the accumulator width, and where they sit (serial PEs).
    pub shifters: Option<ShifterPlacement>,
    /// Each lane accumulates into its own register (lane shift-accumulate) before the sum.
    pub lane_accumulators: bool,
    pub weight_bits: u32,
    pub activation_bits: u32,
    pub accumulator_bits: u32,
    /// Inputs of each lane's operand multiplexer (1: no multiplexer).
    pub mux_inputs: u32,
    /// Offline index bits stored per weight slot (zero-weight skipping).
    pub index_bits: u32,
    /// PE registers beyond the lanes' and the accumulator (SWIS positions, a filter's sign).
    pub extra_register_bits: u32,
}

/// Bits to name one of `n` things (0 for one).
pub fn index_bits(n: u32) -> u32 {
    u32::BITS - n.saturating_sub(1).leading_zeros()
}

impl Datapath {
    /// The parts every kind has: adders, accumulator, weight and activation slots, one
    /// multiplexer input per own slot.
    pub fn base(pe: &Pe) -> Datapath {
        Datapath {
            lanes: pe.lanes,
            slots: pe.weights_per_lane,
            multiplier: None,
            adder_bits: pe.accumulator_bits,
            shifters: None,
            lane_accumulators: false,
            weight_bits: pe.weight_bits,
            activation_bits: pe.activation_bits,
            accumulator_bits: pe.accumulator_bits,
            mux_inputs: pe.weights_per_lane,
            index_bits: 0,
            extra_register_bits: 0,
        }
    }

    /// A serial PE's parts: the base, with its shifters where `pe.shifter` puts them (a lane
    /// shifter comes with the lane's own accumulator).
    pub fn serial(pe: &Pe) -> Datapath {
        Datapath {
            shifters: Some(pe.shifter),
            lane_accumulators: pe.shifter == ShifterPlacement::Lane,
            ..Datapath::base(pe)
        }
    }

    /// The lanes reach what `net` reaches and the PE keeps an offline index of it per slot
    /// (zero-weight skipping decided when the weights are loaded).
    pub fn with_skip_index(mut self, net: SkipNetwork) -> Datapath {
        self.mux_inputs = net.mux_inputs(self.lanes, self.slots);
        self.index_bits = index_bits(net.reach(self.lanes, self.slots));
        self
    }

    /// Register bits of one lane: its weight slots (codes and index) and activation slots,
    /// plus its own accumulator when it has one.
    pub fn lane_register_bits(&self) -> u64 {
        let own_acc = if self.lane_accumulators {
            self.accumulator_bits
        } else {
            0
        };
        self.slots as u64 * (self.weight_bits + self.index_bits + self.activation_bits) as u64
            + own_acc as u64
    }

    /// Register bits of the PE outside its lanes: the accumulator and the extra registers.
    pub fn pe_register_bits(&self) -> u64 {
        (self.accumulator_bits + self.extra_register_bits) as u64
    }

    /// Every register bit of the PE.
    pub fn register_bits(&self) -> u64 {
        self.lanes as u64 * self.lane_register_bits() + self.pe_register_bits()
    }

    /// Shifters of the PE.
    pub fn shifter_count(&self) -> u32 {
        match self.shifters {
            None => 0,
            Some(ShifterPlacement::Lane) => self.lanes,
            Some(ShifterPlacement::Pe) => 1,
        }
    }
}
