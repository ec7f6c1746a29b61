//! Area: a pure function of the architecture's hardware and the area table.
//!
//! Each PE is built from its kind's [`Datapath`] (multipliers, adders, shifters, registers,
//! operand multiplexers and skip indices); the array is rows x cols of them. The three SRAMs
//! take their capacity at the table's macro density plus the periphery of every bank their
//! ports need beyond the first; the vector unit `lanes` multipliers and adders in its format. Wires, control and the DRAM interface are not counted (the figure is
//! the sum of the listed parts; every comparison counts the same parts).

pub mod table;

use crate::arch::Arch;
use crate::pe::Datapath;

pub use table::AreaTable;

impl AreaTable {
    /// The table in force for an architecture: defaults with its `[area]` overrides.
    pub fn for_arch(arch: &Arch) -> Self {
        AreaTable::with_overrides(&arch.area_overrides)
    }
}

crate::record! {
    /// Area of a design by component, in mm^2.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    pub struct AreaBreakdown {
        /// The array's multipliers, adders and shifters.
        pub pe_arith_mm2: f64 = SquareMillimetres,
        /// The array's registers: weight and activation slots, skip indices, accumulators.
        pub pe_registers_mm2: f64 = SquareMillimetres,
        /// The array's operand multiplexers (slot selection or the skip network).
        pub pe_mux_mm2: f64 = SquareMillimetres,
        pub input_buffer_mm2: f64 = SquareMillimetres,
        pub weight_buffer_mm2: f64 = SquareMillimetres,
        pub output_buffer_mm2: f64 = SquareMillimetres,
        /// The elementwise unit's multipliers and adders.
        pub vector_mm2: f64 = SquareMillimetres,
    }
}

impl AreaBreakdown {
    /// Component names and values, in report order.
    pub fn components(&self) -> [(&'static str, f64); 7] {
        [
            ("pe_arith", self.pe_arith_mm2),
            ("pe_registers", self.pe_registers_mm2),
            ("pe_mux", self.pe_mux_mm2),
            ("input_buffer", self.input_buffer_mm2),
            ("weight_buffer", self.weight_buffer_mm2),
            ("output_buffer", self.output_buffer_mm2),
            ("vector", self.vector_mm2),
        ]
    }

    pub fn total_mm2(&self) -> f64 {
        self.components().iter().map(|(_, v)| v).sum()
    }

    /// Logic area (what leaks at the logic density): the array and the vector unit.
    pub fn logic_mm2(&self) -> f64 {
        self.pe_arith_mm2 + self.pe_registers_mm2 + self.pe_mux_mm2 + self.vector_mm2
    }

    /// SRAM area.
    pub fn sram_mm2(&self) -> f64 {
        self.input_buffer_mm2 + self.weight_buffer_mm2 + self.output_buffer_mm2
    }

    /// Every component rounded for output ([`crate::columns::round6`]).
    pub fn rounded(&self) -> AreaBreakdown {
        let r = crate::columns::round6;
        AreaBreakdown {
            pe_arith_mm2: r(self.pe_arith_mm2),
            pe_registers_mm2: r(self.pe_registers_mm2),
            pe_mux_mm2: r(self.pe_mux_mm2),
            input_buffer_mm2: r(self.input_buffer_mm2),
            weight_buffer_mm2: r(self.weight_buffer_mm2),
            output_buffer_mm2: r(self.output_buffer_mm2),
            vector_mm2: r(self.vector_mm2),
        }
    }
}

/// Area of one PE in um^2: arithmetic, registers, multiplexers.
pub fn pe_area(d: &Datapath, t: &AreaTable) -> (f64, f64, f64) {
    let lanes = d.lanes as f64;
    let mult = d.multiplier.map_or(0.0, |(a, b)| t.multiplier(a, b));
    let arith = lanes * (mult + t.adder(d.adder_bits))
        + d.shifter_count() as f64 * t.shifter(d.accumulator_bits);
    let regs = t.registers(d.register_bits());
    // Per lane: the activation operand through the network's multiplexer, the weight through
    // its own slots'.
    let mux = lanes
        * (t.mux(d.mux_inputs, d.activation_bits) + t.mux(d.slots, d.weight_bits + d.index_bits));
    (arith, regs, mux)
}

/// Area of a design.
pub fn arch_area(arch: &Arch, t: &AreaTable) -> AreaBreakdown {
    let (arith, regs, mux) = pe_area(&arch.pe.datapath(), t);
    let pes = arch.pes() as f64;
    let mm2 = |um2: f64| um2 / 1e6;
    let sram = |b: &crate::arch::Buffer| t.sram(b.capacity_bytes, b.banks());
    AreaBreakdown {
        pe_arith_mm2: mm2(pes * arith),
        pe_registers_mm2: mm2(pes * regs),
        pe_mux_mm2: mm2(pes * mux),
        input_buffer_mm2: mm2(sram(&arch.input_buffer)),
        weight_buffer_mm2: mm2(sram(&arch.weight_buffer)),
        output_buffer_mm2: mm2(sram(&arch.output_buffer)),
        vector_mm2: mm2(arch.vector.lanes as f64 * t.vector_lane(arch.vector.precision)),
    }
}

/// Area of a design with its own `[area]` overrides.
pub fn area_of(arch: &Arch) -> AreaBreakdown {
    arch_area(arch, &AreaTable::for_arch(arch))
}

/// The docs' hardware table (arch/README.md, "What one PE is built from"): for each design,
/// what one PE holds and its area, from the datapath and the default area table.
pub fn hardware_table_markdown(designs: &[Arch]) -> String {
    let mut s = String::from(
        "| design | kind | per lane | per PE | register bits (lane / PE) | operand mux | skip index (bits/slot) | PE (um^2) | design (mm^2) |\n|---|---|---|---|---|---|---|---:|---:|\n",
    );
    for a in designs {
        let d = a.pe.datapath();
        let t = AreaTable::for_arch(a);
        let (arith, regs, mux) = pe_area(&d, &t);
        let mut lane = Vec::new();
        if let Some((w, x)) = d.multiplier {
            lane.push(format!("{w}x{x}-bit multiplier"));
        }
        lane.push(format!("{}-bit adder", d.adder_bits));
        let shifter = format!("{}-bit shifter", d.accumulator_bits);
        let mut pe = vec![format!("{}-bit accumulator", d.accumulator_bits)];
        match d.shifters {
            Some(crate::pe::ShifterPlacement::Lane) => lane.push(shifter),
            Some(crate::pe::ShifterPlacement::Pe) => pe.push(shifter),
            None => {}
        }
        if d.lane_accumulators {
            lane.push(format!("{}-bit accumulator", d.accumulator_bits));
        }
        s.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} / {} | {}:1 x {} bits | {} | {:.0} | {:.3} |\n",
            a.name,
            a.pe.kind.as_str(),
            lane.join(", "),
            pe.join(", "),
            d.lane_register_bits(),
            d.pe_register_bits(),
            d.mux_inputs,
            d.activation_bits,
            d.index_bits,
            arith + regs + mux,
            arch_area(a, &t).total_mm2(),
        ));
    }
    s
}
