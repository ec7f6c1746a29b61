//! Energy: a pure function of a run's action counts and the energy table.
//!
//! Every picojoule is an action count times a table entry ([`table`]); the breakdown per
//! component is kept per layer and summed for the network. Components:
//!
//! - `pe_arith`: multiplies (weight x activation bits), accumulator adds, shared window-sum
//!   adds and shifts (accumulator width);
//! - `registers`: PE register traffic: weight reads (bits per read: the code width for
//!   parallel PEs, one bit or position for serial ones), activation writes, partial-sum
//!   read + write per step;
//! - `input_buffer`, `weight_buffer`, `output_buffer`: SRAM reads and writes at the buffer's
//!   per-bit energy (its capacity decides it), DRAM fills and write-backs included;
//! - `dram`: bytes moved x 8 x pJ/bit of the DRAM type;
//! - `vector`: the elementwise unit's multiplies and adds in its format;
//! - `leakage`: per cycle of the layer: PE lanes, SRAM KiB and vector lanes.
//!
//! ACE (sum of MACs x weight bits x activation bits) and ACEv2 (ACE plus elementwise
//! operations costed by operand width: a multiply b1 x b2, an add max(b1, b2), full-precision
//! operands at their container width) are bit-operation counts, not energies.

pub mod table;

use crate::arch::Arch;
use crate::engine::{LayerResult, RunResult};

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
        /// Leakage of PE lanes, SRAM and vector lanes per cycle.
        pub leakage_pj: f64 = Picojoules,
    }
}

impl EnergyBreakdown {
    /// Component names and values, in report order.
    pub fn components(&self) -> [(&'static str, f64); 8] {
        [
            ("pe_arith", self.pe_arith_pj),
            ("registers", self.registers_pj),
            ("input_buffer", self.input_buffer_pj),
            ("weight_buffer", self.weight_buffer_pj),
            ("output_buffer", self.output_buffer_pj),
            ("dram", self.dram_pj),
            ("vector", self.vector_pj),
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
            input_buffer_pj: r(self.input_buffer_pj),
            weight_buffer_pj: r(self.weight_buffer_pj),
            output_buffer_pj: r(self.output_buffer_pj),
            dram_pj: r(self.dram_pj),
            vector_pj: r(self.vector_pj),
            leakage_pj: r(self.leakage_pj),
        }
    }

    fn add(&mut self, o: &EnergyBreakdown) {
        self.pe_arith_pj += o.pe_arith_pj;
        self.registers_pj += o.registers_pj;
        self.input_buffer_pj += o.input_buffer_pj;
        self.weight_buffer_pj += o.weight_buffer_pj;
        self.output_buffer_pj += o.output_buffer_pj;
        self.dram_pj += o.dram_pj;
        self.vector_pj += o.vector_pj;
        self.leakage_pj += o.leakage_pj;
    }
}

/// Energy of a run: per layer and the network total (the per-component sums over layers).
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnergy {
    pub layers: Vec<EnergyBreakdown>,
    pub total: EnergyBreakdown,
}

/// Energy of one layer from its action counts.
pub fn layer_energy(arch: &Arch, t: &EnergyTable, l: &LayerResult) -> EnergyBreakdown {
    let a = &l.actions;
    let tr = &l.traffic;
    let acc = arch.pe.accumulator_bits;
    let ab = l.bits.activation_bits as f64;
    let mut e = EnergyBreakdown {
        pe_arith_pj: a.mults as f64 * t.int_mult(l.bits.weight_bits, l.bits.activation_bits)
            + (a.adds + a.window_sum_adds) as f64 * t.int_add(acc)
            + a.shifts as f64 * t.shift(acc),
        registers_pj: t.reg_pj_per_bit()
            * (a.weight_reg_reads as f64 * l.bits.weight_reg_bits as f64
                + a.activation_reg_writes as f64 * ab
                + a.psum_reg_updates as f64 * 2.0 * acc as f64),
        ..EnergyBreakdown::default()
    };
    let (ib, wb, ob) = (&arch.input_buffer, &arch.weight_buffer, &arch.output_buffer);
    // Buffers: array-side accesses, plus DRAM fills (writes) and write-backs (reads).
    e.input_buffer_pj =
        tr.input_buffer_reads as f64 * ab * t.sram_read_pj_per_bit(ib.capacity_bytes)
            + tr.dram_input_read_bytes as f64 * 8.0 * t.sram_write_pj_per_bit(ib.capacity_bytes);
    e.weight_buffer_pj = tr.weight_buffer_reads as f64
        * l.bits.weight_storage_bits
        * t.sram_read_pj_per_bit(wb.capacity_bytes)
        + tr.dram_weight_read_bytes as f64 * 8.0 * t.sram_write_pj_per_bit(wb.capacity_bytes);
    let v = &l.vector;
    e.output_buffer_pj = (tr.output_buffer_writes as f64 * acc as f64
        + (tr.dram_psum_write_bytes + tr.dram_output_write_bytes) as f64 * 8.0
        + v.elements_out as f64 * ab)
        * t.sram_write_pj_per_bit(ob.capacity_bytes)
        + (tr.output_buffer_reads as f64 * acc as f64
            + tr.dram_output_write_bytes as f64 * 8.0
            + v.elements_in as f64 * ab)
            * t.sram_read_pj_per_bit(ob.capacity_bytes)
        + tr.dram_psum_read_bytes as f64 * 8.0 * t.sram_write_pj_per_bit(ob.capacity_bytes);
    e.dram_pj = (tr.dram_read_bytes() + tr.dram_write_bytes()) as f64
        * 8.0
        * t.dram_pj_per_bit(arch.dram.kind);
    if let Some(p) = v.precision {
        e.vector_pj = v.mults as f64 * t.vector_mult(p) + v.adds as f64 * t.vector_add(p);
    }
    let sram_kib = (ib.capacity_bytes + wb.capacity_bytes + ob.capacity_bytes) as f64 / 1024.0;
    e.leakage_pj = l.total_cycles() as f64
        * (t.pe_leakage_per_lane_cycle() * arch.pes() as f64 * arch.pe.lanes as f64
            + t.sram_leakage_per_kib_cycle() * sram_kib
            + t.vector_leakage_per_lane_cycle() * arch.vector.lanes as f64);
    e
}

/// Energy of every layer of a run and the network total.
pub fn run_energy(arch: &Arch, t: &EnergyTable, run: &RunResult) -> RunEnergy {
    let layers: Vec<EnergyBreakdown> = run
        .layers
        .iter()
        .map(|l| layer_energy(arch, t, l))
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
