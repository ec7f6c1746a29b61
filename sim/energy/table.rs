//! The energy reference table: one entry per action, each with its unit and source.
//!
//! Defaults are for 45 nm. Arithmetic and SRAM figures are Horowitz, "Computing's energy
//! problem (and what we can do about it)", ISSCC 2014 (Fig. 1.1.9); DRAM energy per bit is
//! Accelergy's (Wu et al., ICCAD 2019) table. Entries without a primary source are marked
//! *estimate* and say what they rest on: override them for your technology in the
//! architecture's `[energy]` table, entry by entry. `tech_scale` multiplies every energy.

pub use crate::entries::Entry;
use crate::tech::{DramKind, VectorPrecision};

const HOROWITZ: &str = "Horowitz, ISSCC 2014, 45 nm";
const ACCELERGY: &str = "Accelergy DRAM table (Wu et al., ICCAD 2019)";

/// Every entry, in the order `plumsim energy-table` prints them.
pub const DEFAULTS: &[Entry] = &[
    Entry { key: "int_add_8b_pj", value: 0.03, unit: "pJ", source: HOROWITZ },
    Entry { key: "int_add_32b_pj", value: 0.1, unit: "pJ", source: HOROWITZ },
    Entry { key: "int_mult_8b_pj", value: 0.2, unit: "pJ", source: HOROWITZ },
    Entry { key: "int_mult_32b_pj", value: 3.1, unit: "pJ", source: HOROWITZ },
    Entry { key: "fp16_add_pj", value: 0.4, unit: "pJ", source: HOROWITZ },
    Entry { key: "fp16_mult_pj", value: 1.1, unit: "pJ", source: HOROWITZ },
    Entry { key: "fp32_add_pj", value: 0.9, unit: "pJ", source: HOROWITZ },
    Entry { key: "fp32_mult_pj", value: 3.7, unit: "pJ", source: HOROWITZ },
    Entry {
        key: "shift_32b_pj",
        value: 0.2,
        unit: "pJ",
        source: "estimate: twice int_add_32b_pj, the ratio of Aladdin's 40 nm 32-bit shifter (0.417 pJ) and adder (0.210 pJ)",
    },
    Entry { key: "sram_read_64b_8kib_pj", value: 10.0, unit: "pJ", source: HOROWITZ },
    Entry { key: "sram_read_64b_32kib_pj", value: 20.0, unit: "pJ", source: HOROWITZ },
    Entry { key: "sram_read_64b_1mib_pj", value: 100.0, unit: "pJ", source: HOROWITZ },
    Entry {
        key: "sram_write_factor",
        value: 1.0,
        unit: "x read",
        source: "estimate: writes cost about a read (Accelergy's SRAM tables, within ~10%)",
    },
    Entry { key: "dram_lpddr4_pj_per_bit", value: 8.0, unit: "pJ/bit", source: ACCELERGY },
    Entry { key: "dram_hbm2_pj_per_bit", value: 3.9, unit: "pJ/bit", source: ACCELERGY },
    Entry { key: "dram_ddr3_pj_per_bit", value: 70.0, unit: "pJ/bit", source: ACCELERGY },
    Entry {
        key: "reg_pj_per_bit",
        value: 0.001,
        unit: "pJ/bit",
        source: "Aladdin 40 nm register: 9.0 fJ per bit written, of which 7.9 fJ is its clock (charged by clock_pj_per_bit_cycle), leaving about 1 fJ of data energy",
    },
    Entry {
        key: "clock_pj_per_bit_cycle",
        value: 0.008,
        unit: "pJ/(bit cycle)",
        source: "Nangate 45 nm DFF_X1 clock pin: 6.9 fJ internal + 0.95 fF at 1.1 V per cycle (Aladdin's 40 nm register: 7.9 fJ); the clock tree above the leaf is not included",
    },
    Entry {
        key: "mux2_pj_per_bit",
        value: 0.004,
        unit: "pJ/bit",
        source: "Nangate 45 nm MUX2_X1: about 2.9 fJ internal + 1.1 fJ load per output toggle",
    },
    Entry {
        key: "logic_leakage_mw_per_mm2",
        value: 20.0,
        unit: "mW/mm^2",
        source: "Nangate 45 nm typical corner: cell leakage over cell area 14 to 27 nW/um^2 (DFF_X1 17.5, MUX2_X1 19.3, NAND2_X1 21.8); BitFusion's synthesized 45 nm PEs: 23 to 37",
    },
    Entry {
        key: "sram_leakage_mw_per_mm2",
        value: 20.0,
        unit: "mW/mm^2",
        source: "estimate: the logic density (Nangate 45 nm typical); CACTI 7 with high-performance cells at 360 K gives about 400 mW/mm^2 for 64 KiB, low-standby-power cells far less",
    },
    Entry {
        key: "tech_scale",
        value: 1.0,
        unit: "factor",
        source: "multiplies every energy but leakage (which follows the area and its densities): 1 at 45 nm; e.g. about 0.3 to 0.4 for 16 nm (Stillmaker and Baas, Integration 2017)",
    },
];

crate::cost_table! {
    /// The table in force for an architecture: defaults with its `[energy]` overrides.
    EnergyTable, "energy", "energy-table"
}

impl EnergyTable {
    /// Multiply every entry except the factors by `k` (for tests of linearity).
    pub fn scaled(&self, k: f64) -> Self {
        let mut t = self.clone();
        t.entries
            .scale_where(k, |key| !key.ends_with("_factor") && key != "tech_scale");
        t
    }

    fn scale(&self) -> f64 {
        self.raw("tech_scale")
    }

    /// Integer add of `bits`: linear through the 8- and 32-bit figures.
    pub fn int_add(&self, bits: u32) -> f64 {
        let (a8, a32) = (self.raw("int_add_8b_pj"), self.raw("int_add_32b_pj"));
        (a8 + (bits as f64 - 8.0) * (a32 - a8) / 24.0).max(0.0) * self.scale()
    }

    /// Integer multiply of `a x b` bits: up to 8 x 8 the 8-bit figure scaled by the product of
    /// the widths (the square of the width for equal operands); above, linear in the product
    /// between the 8 x 8 and 32 x 32 figures.
    pub fn int_mult(&self, a: u32, b: u32) -> f64 {
        let (m8, m32) = (self.raw("int_mult_8b_pj"), self.raw("int_mult_32b_pj"));
        let p = (a * b) as f64;
        let e = if p <= 64.0 {
            m8 * p / 64.0
        } else {
            m8 + (p - 64.0) * (m32 - m8) / (1024.0 - 64.0)
        };
        e * self.scale()
    }

    /// Shift of `bits` width: linear in width from the 32-bit figure.
    pub fn shift(&self, bits: u32) -> f64 {
        self.raw("shift_32b_pj") * bits as f64 / 32.0 * self.scale()
    }

    /// Add (or compare) in the vector unit's format.
    pub fn vector_add(&self, p: VectorPrecision) -> f64 {
        match p {
            VectorPrecision::Fp32 => self.raw("fp32_add_pj") * self.scale(),
            VectorPrecision::Fp16 => self.raw("fp16_add_pj") * self.scale(),
            VectorPrecision::Int(b) => self.int_add(b),
        }
    }

    /// Multiply in the vector unit's format.
    pub fn vector_mult(&self, p: VectorPrecision) -> f64 {
        match p {
            VectorPrecision::Fp32 => self.raw("fp32_mult_pj") * self.scale(),
            VectorPrecision::Fp16 => self.raw("fp16_mult_pj") * self.scale(),
            VectorPrecision::Int(b) => self.int_mult(b, b),
        }
    }

    /// Energy per bit read from an SRAM of `capacity_bytes`: the 64-bit read energy,
    /// piecewise linear in log2(capacity) through 8 KiB, 32 KiB and 1 MiB (the 8 KiB figure
    /// below 8 KiB, the last slope above 1 MiB), over 64 bits.
    pub fn sram_read_pj_per_bit(&self, capacity_bytes: u64) -> f64 {
        let pts = [
            (13.0, self.raw("sram_read_64b_8kib_pj")),
            (15.0, self.raw("sram_read_64b_32kib_pj")),
            (20.0, self.raw("sram_read_64b_1mib_pj")),
        ];
        let x = (capacity_bytes.max(1) as f64).log2();
        let e = if x <= pts[0].0 {
            pts[0].1
        } else if x <= pts[1].0 {
            pts[0].1 + (x - pts[0].0) * (pts[1].1 - pts[0].1) / (pts[1].0 - pts[0].0)
        } else {
            pts[1].1 + (x - pts[1].0) * (pts[2].1 - pts[1].1) / (pts[2].0 - pts[1].0)
        };
        e / 64.0 * self.scale()
    }

    pub fn sram_write_pj_per_bit(&self, capacity_bytes: u64) -> f64 {
        self.sram_read_pj_per_bit(capacity_bytes) * self.raw("sram_write_factor")
    }

    pub fn dram_pj_per_bit(&self, kind: DramKind) -> f64 {
        let key = match kind {
            DramKind::Lpddr4 => "dram_lpddr4_pj_per_bit",
            DramKind::Hbm2 => "dram_hbm2_pj_per_bit",
            DramKind::Ddr3 => "dram_ddr3_pj_per_bit",
        };
        self.raw(key) * self.scale()
    }

    pub fn reg_pj_per_bit(&self) -> f64 {
        self.raw("reg_pj_per_bit") * self.scale()
    }

    /// Clock energy per register bit per cycle (clock tree share and the flop's clock pin).
    pub fn clock_per_bit_cycle(&self) -> f64 {
        self.raw("clock_pj_per_bit_cycle") * self.scale()
    }

    /// One selection through an `inputs`:1 multiplexer of `bits` bits: the selected bits
    /// pass ceil(log2 inputs) levels of 2:1 muxes.
    pub fn mux_select(&self, inputs: u32, bits: u32) -> f64 {
        let levels = u32::BITS - inputs.saturating_sub(1).leading_zeros();
        self.raw("mux2_pj_per_bit") * levels as f64 * bits as f64 * self.scale()
    }

    /// Leakage energy of `logic_mm2` of logic and `sram_mm2` of SRAM over `us`
    /// microseconds: mW x us = nJ = 1000 pJ. Not multiplied by `tech_scale`: the area carries
    /// the node (the area table's `tech_scale`) and the densities are per mm^2 of it.
    pub fn leakage(&self, logic_mm2: f64, sram_mm2: f64, us: f64) -> f64 {
        (self.raw("logic_leakage_mw_per_mm2") * logic_mm2
            + self.raw("sram_leakage_mw_per_mm2") * sram_mm2)
            * us
            * 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_reproduced() {
        let t = EnergyTable::defaults();
        assert!((t.int_add(8) - 0.03).abs() < 1e-12);
        assert!((t.int_add(32) - 0.1).abs() < 1e-12);
        assert!((t.int_mult(8, 8) - 0.2).abs() < 1e-12);
        assert!((t.int_mult(32, 32) - 3.1).abs() < 1e-12);
        // 4 x 4 bits: a quarter of the 8 x 8 product.
        assert!((t.int_mult(4, 4) - 0.05).abs() < 1e-12);
        assert!((t.sram_read_pj_per_bit(8 * 1024) * 64.0 - 10.0).abs() < 1e-9);
        assert!((t.sram_read_pj_per_bit(32 * 1024) * 64.0 - 20.0).abs() < 1e-9);
        assert!((t.sram_read_pj_per_bit(1 << 20) * 64.0 - 100.0).abs() < 1e-9);
        // 16 KiB: halfway (in log2) between 8 and 32 KiB.
        assert!((t.sram_read_pj_per_bit(16 * 1024) * 64.0 - 15.0).abs() < 1e-9);
        // 64 KiB: one octave past 32 KiB on the 32 KiB -> 1 MiB slope of 16 pJ per octave.
        assert!((t.sram_read_pj_per_bit(64 * 1024) * 64.0 - 36.0).abs() < 1e-9);
    }
}
