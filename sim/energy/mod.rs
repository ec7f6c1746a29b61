//! Energy: a pure function of a run's action counts, the design's hardware and the energy table.
//!
//! Every picojoule is an action count times a table entry ([`table`]); the breakdown per
//! component is kept per layer and summed for the network. Components:
//!
//! - `pe_arith`: multiplies (at the datapath's weight x activation width), accumulator adds,
//!   shared window-sum adds and shifts (accumulator width);
//! - `registers`: the data energy of PE register traffic: weight reads (bits per read: the
//!   code width for parallel PEs, one bit or position for serial ones), weight loads (code
//!   and skip index), activation writes, partial-sum read + write per step;
//! - `operand_mux`: each operand selection (a lane switching to a new weight-activation pair):
//!   the activation through the lane's multiplexer (its own slots, or the skip network's reach),
//!   the weight (code and index) through its slots';
//! - `input_buffer`, `weight_buffer`, `output_buffer`: array-side SRAM accesses in whole words
//!   (`word_bits` each) at the per-bit energy of one bank of the macro (its capacity decides
//!   it; a macro has one bank per word a cycle of its ports), DRAM fills and write-backs
//!   included;
//! - `dram`: bytes moved x 8 x pJ/bit of the DRAM type;
//! - `vector`: the elementwise unit's multiplies and adds in its format;
//! - `clock`: the array's register clocks: without clock gating every register bit of every
//!   PE each cycle of the layer; with clock gating only the bits written (weight loads,
//!   activation writes, partial-sum updates) plus one clock-gate cell per lane bank (weights,
//!   activations) and per accumulator, each cycle;
//! - `leakage`: the design's area ([`crate::area`]) at the leakage power density of logic and
//!   SRAM, over the layer's time at the clock.
//!
//! ACE (sum of MACs x weight bits x activation bits) and ACEv2 (ACE plus elementwise
//! operations costed by operand width: a multiply b1 x b2, an add max(b1, b2), full-precision
//! operands at their container width) are bit-operation counts, not energies.

pub mod table;

use crate::arch::Arch;
use crate::area::AreaBreakdown;
use crate::engine::{LayerResult, RunResult};
use crate::pe::Datapath;

pub use table::EnergyTable;

impl EnergyTable {
    /// The table in force for an architecture: defaults with its `[energy]` overrides.
    pub fn for_arch(arch: &Arch) -> Self {
        EnergyTable::with_overrides(&arch.energy_overrides)
    }
}

crate::record! {
    /// Energy of one layer (or a network) by component, in pJ.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct EnergyBreakdown {
        /// Multiplies, accumulator adds, shared window-sum adds and shifts.
        pub pe_arith_pj: f64 = Picojoules,
        /// PE register reads and writes: weights, activations, partial sums.
        pub registers_pj: f64 = Picojoules,
        /// Operand selection through the lanes' multiplexers (slots or the skip network).
        pub operand_mux_pj: f64 = Picojoules,
        /// Input buffer: array reads, DRAM fills.
        pub input_buffer_pj: f64 = Picojoules,
        /// Weight buffer: array reads, DRAM fills.
        pub weight_buffer_pj: f64 = Picojoules,
        /// Output buffer: partial sums, outputs, elementwise operands, DRAM traffic.
        pub output_buffer_pj: f64 = Picojoules,
        /// DRAM: bytes moved x 8 x pJ per bit.
        pub dram_pj: f64 = Picojoules,
        /// The elementwise (vector) unit's operations.
        pub vector_pj: f64 = Picojoules,
        /// The array's register clocks.
        pub clock_pj: f64 = Picojoules,
        /// Leakage of the design's logic and SRAM area over the layer's time.
        pub leakage_pj: f64 = Picojoules,
    }
}

impl EnergyBreakdown {
    /// Component names and values, in report order.
    pub fn components(&self) -> [(&'static str, f64); 10] {
        [
            ("pe_arith", self.pe_arith_pj),
            ("registers", self.registers_pj),
            ("operand_mux", self.operand_mux_pj),
            ("input_buffer", self.input_buffer_pj),
            ("weight_buffer", self.weight_buffer_pj),
            ("output_buffer", self.output_buffer_pj),
            ("dram", self.dram_pj),
            ("vector", self.vector_pj),
            ("clock", self.clock_pj),
            ("leakage", self.leakage_pj),
        ]
    }

    /// The sum of the components, always added in the same order.
    pub fn total_pj(&self) -> f64 {
        self.components().iter().map(|(_, v)| v).sum()
    }

    /// Every component rounded for output ([`crate::columns::round6`]).
    pub fn rounded(&self) -> EnergyBreakdown {
        let r = crate::columns::round6;
        EnergyBreakdown {
            pe_arith_pj: r(self.pe_arith_pj),
            registers_pj: r(self.registers_pj),
            operand_mux_pj: r(self.operand_mux_pj),
            input_buffer_pj: r(self.input_buffer_pj),
            weight_buffer_pj: r(self.weight_buffer_pj),
            output_buffer_pj: r(self.output_buffer_pj),
            dram_pj: r(self.dram_pj),
            vector_pj: r(self.vector_pj),
            clock_pj: r(self.clock_pj),
            leakage_pj: r(self.leakage_pj),
        }
    }

    fn add(&mut self, o: &EnergyBreakdown) {
        self.pe_arith_pj += o.pe_arith_pj;
        self.registers_pj += o.registers_pj;
        self.operand_mux_pj += o.operand_mux_pj;
        self.input_buffer_pj += o.input_buffer_pj;
        self.weight_buffer_pj += o.weight_buffer_pj;
        self.output_buffer_pj += o.output_buffer_pj;
        self.dram_pj += o.dram_pj;
        self.vector_pj += o.vector_pj;
        self.clock_pj += o.clock_pj;
        self.leakage_pj += o.leakage_pj;
    }
}

/// Energy of a run: per layer and the network total (the per-component sums over layers).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnergy {
    pub layers: Vec<EnergyBreakdown>,
    pub total: EnergyBreakdown,
}

/// What the energy model needs about a design besides its energy table: its PE hardware and
/// its area (for leakage).
#[derive(Debug, Clone, Copy)]
pub struct Hardware {
    pub datapath: Datapath,
    pub area: AreaBreakdown,
}

impl Hardware {
    pub fn of(arch: &Arch) -> Hardware {
        Hardware {
            datapath: arch.pe.datapath(),
            area: crate::area::area_of(arch),
        }
    }
}

/// Energy of one layer from its action counts.
pub fn layer_energy(arch: &Arch, t: &EnergyTable, l: &LayerResult) -> EnergyBreakdown {
    layer_energy_on(arch, t, &Hardware::of(arch), l)
}

/// [`layer_energy`] with the design's hardware given.
pub fn layer_energy_on(
    arch: &Arch,
    t: &EnergyTable,
    hw: &Hardware,
    l: &LayerResult,
) -> EnergyBreakdown {
    let a = &l.actions;
    let tr = &l.traffic;
    let d = &hw.datapath;
    let acc = arch.pe.accumulator_bits;
    let ab = l.bits.activation_bits as f64;
    // Bits a weight load writes into a PE: the slot's code and its skip index.
    let loaded_bits = (d.weight_bits + d.index_bits) as f64;
    let mut e = EnergyBreakdown {
        pe_arith_pj: a.mults as f64 * t.int_mult(d.weight_bits, d.activation_bits)
            + (a.adds + a.window_sum_adds) as f64 * t.int_add(acc)
            + a.shifts as f64 * t.shift(acc),
        registers_pj: t.reg_pj_per_bit()
            * (a.weight_reg_reads as f64 * l.bits.weight_reg_bits as f64
                + tr.weight_buffer_reads as f64 * loaded_bits
                + a.activation_reg_writes as f64 * ab
                + a.psum_reg_updates as f64 * 2.0 * acc as f64),
        operand_mux_pj: a.operand_selects as f64
            * (t.mux_select(d.mux_inputs, d.activation_bits)
                + t.mux_select(d.slots, d.weight_bits + d.index_bits)),
        ..EnergyBreakdown::default()
    };
    let (ib, wb, ob) = (&arch.input_buffer, &arch.weight_buffer, &arch.output_buffer);
    // Buffers: array-side accesses in whole words, plus DRAM fills (writes) and write-backs
    // (reads); a bank of the macro answers each access, at its capacity's energy per bit.
    let w = &tr.words;
    let word_bits = |words: u64, b: &crate::arch::Buffer| words as f64 * b.word_bits as f64;
    let (rd, wr) = (
        |b: &crate::arch::Buffer| t.sram_read_pj_per_bit(b.bank_bytes()),
        |b: &crate::arch::Buffer| t.sram_write_pj_per_bit(b.bank_bytes()),
    );
    e.input_buffer_pj =
        word_bits(w.input_read, ib) * rd(ib) + tr.dram_input_read_bytes as f64 * 8.0 * wr(ib);
    e.weight_buffer_pj =
        word_bits(w.weight_read, wb) * rd(wb) + tr.dram_weight_read_bytes as f64 * 8.0 * wr(wb);
    let v = &l.vector;
    // Written: the array's partial sums, the vector unit's outputs, spilled partial sums
    // coming back from DRAM. Read: partial sums for the next row fold, the vector unit's
    // inputs, outputs written back to DRAM and partial sums spilled to it.
    e.output_buffer_pj = (word_bits(w.output_write, ob)
        + v.elements_out as f64 * ab
        + tr.dram_psum_read_bytes as f64 * 8.0)
        * wr(ob)
        + (word_bits(w.output_read, ob)
            + v.elements_in as f64 * ab
            + (tr.dram_output_write_bytes + tr.dram_psum_write_bytes) as f64 * 8.0)
            * rd(ob);
    e.dram_pj = (tr.dram_read_bytes() + tr.dram_write_bytes()) as f64
        * 8.0
        * t.dram_pj_per_bit(arch.dram.kind);
    if let Some(p) = v.precision {
        e.vector_pj = v.mults as f64 * t.vector_mult(p) + v.adds as f64 * t.vector_add(p);
    }
    let cycles = l.total_cycles() as f64;
    let pes = arch.pes() as f64;
    e.clock_pj = t.clock_per_bit_cycle()
        * if arch.pe.clock_gating {
            // Written bits, and the gate cells (two banks per lane and the accumulator's).
            tr.weight_buffer_reads as f64 * loaded_bits
                + a.activation_reg_writes as f64 * d.activation_bits as f64
                + a.psum_reg_updates as f64 * acc as f64
                + cycles * pes * (2 * d.lanes + 1) as f64
        } else {
            cycles * pes * d.register_bits() as f64
        };
    e.leakage_pj = t.leakage(
        hw.area.logic_mm2(),
        hw.area.sram_mm2(),
        cycles / arch.clock_mhz,
    );
    e
}

/// Energy of every layer of a run and the network total.
pub fn run_energy(arch: &Arch, t: &EnergyTable, run: &RunResult) -> RunEnergy {
    let hw = Hardware::of(arch);
    let layers: Vec<EnergyBreakdown> = run
        .layers
        .iter()
        .map(|l| layer_energy_on(arch, t, &hw, l))
        .collect();
    let mut total = EnergyBreakdown::default();
    for l in &layers {
        total.add(l);
    }
    RunEnergy { layers, total }
}

/// ACE of a layer: MACs x weight bits x activation bits.
pub fn ace(l: &LayerResult) -> f64 {
    l.macs as f64 * l.bits.weight_bits as f64 * l.bits.activation_bits as f64
}

/// ACEv2 of a layer: ACE plus its elementwise operations by operand width.
pub fn ace_v2(l: &LayerResult) -> f64 {
    let b = l.vector.precision.map_or(0, |p| p.bits()) as f64;
    ace(l) + l.vector.mults as f64 * b * b + l.vector.adds as f64 * b
}
