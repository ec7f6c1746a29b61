//! The area reference table: one entry per hardware part, each with its unit and source.
//!
//! Logic figures are Aladdin's 40 nm commercial-library tables (Shao et al., ISCA 2014;
//! `harvard-acc/ALADDIN common/power_func.h`, the 1 ns rows), which Accelergy's Aladdin and
//! library plug-ins use for 40 and 45 nm alike; the multiplexer cell is the Nangate 45 nm Open
//! Cell Library's; the SRAM density is CACTI's 45 nm macro as Accelergy's reference outputs
//! give it. Entries without a primary source are marked *estimate* and say what they rest on:
//! override them in the architecture's `[area]` table. `tech_scale` multiplies every area.

use crate::entries::Entry;
use crate::tech::VectorPrecision;

const ALADDIN: &str = "Aladdin 40 nm tables, 1 ns row (Shao et al., ISCA 2014; harvard-acc/ALADDIN common/power_func.h), as Accelergy's Aladdin plug-in uses them for 45 nm";
const NANGATE: &str = "Nangate 45 nm Open Cell Library, MUX2_X1 (typical corner)";

/// Every entry, in the order `plumsim area-table` prints them.
pub const DEFAULTS: &[Entry] = &[
    Entry { key: "int_add_32b_um2", value: 278.0, unit: "um^2", source: ALADDIN },
    Entry { key: "int_mult_32b_um2", value: 6350.0, unit: "um^2", source: ALADDIN },
    Entry { key: "shift_32b_um2", value: 249.6, unit: "um^2", source: ALADDIN },
    Entry { key: "register_um2_per_bit", value: 5.98, unit: "um^2/bit", source: ALADDIN },
    Entry { key: "mux2_um2_per_bit", value: 1.862, unit: "um^2/bit", source: NANGATE },
    Entry {
        key: "sram_mm2_per_kib",
        value: 0.0031,
        unit: "mm^2/KiB",
        source: "CACTI 45 nm, one read/write port: 64 KiB in 0.199 mm^2 (Accelergy-Project/timeloop-accelergy-exercises, simba_like reference output); CACTI 7 gives 0.0030 to 0.0035 mm^2/KiB for 32 to 128 KiB",
    },
    Entry {
        key: "sram_bank_mm2",
        value: 0.002,
        unit: "mm^2",
        source: "estimate: periphery of one more bank: half the fixed part (0.0039 mm^2) of a linear fit to BitFusion's CACTI 7 45 nm sweep of dual-ported macros (4 KiB 0.0301, 16 KiB 0.1086 mm^2; hsharma35/bitfusion sram/cacti_sweep.csv)",
    },
    Entry {
        key: "fp32_add_um2",
        value: 777.0,
        unit: "um^2",
        source: "estimate: a 32-bit integer adder and two 32-bit shifters (align, normalize) of this table",
    },
    Entry {
        key: "fp32_mult_um2",
        value: 3929.0,
        unit: "um^2",
        source: "estimate: a 24 x 24-bit mantissa multiplier by this table's product rule, plus 10 % for exponent and rounding",
    },
    Entry {
        key: "fp16_add_um2",
        value: 389.0,
        unit: "um^2",
        source: "estimate: a 16-bit adder and two 16-bit shifters of this table",
    },
    Entry {
        key: "fp16_mult_um2",
        value: 825.0,
        unit: "um^2",
        source: "estimate: an 11 x 11-bit mantissa multiplier by this table's product rule, plus 10 %",
    },
    Entry {
        key: "tech_scale",
        value: 1.0,
        unit: "factor",
        source: "multiplies every area: 1 at 45 nm; logic area scales about with the square of the feature size, (16/45)^2 = 0.13 for 16 nm as a first estimate",
    },
];

crate::cost_table! {
    /// The table in force for an architecture: defaults with its `[area]` overrides. Every
    /// function returns um^2 with `tech_scale` applied.
    AreaTable, "area", "area-table"
}

impl AreaTable {
    fn scale(&self) -> f64 {
        self.raw("tech_scale")
    }

    /// An integer adder of `bits`: linear in width (Accelergy's rule).
    pub fn adder(&self, bits: u32) -> f64 {
        self.raw("int_add_32b_um2") * bits as f64 / 32.0 * self.scale()
    }

    /// An integer multiplier of `a x b` bits: in proportion to the product of the widths
    /// (an array multiplier's partial-product cells; Accelergy's quadratic rule).
    pub fn multiplier(&self, a: u32, b: u32) -> f64 {
        self.raw("int_mult_32b_um2") * (a * b) as f64 / 1024.0 * self.scale()
    }

    /// A shifter of `bits`: linear in width.
    pub fn shifter(&self, bits: u32) -> f64 {
        self.raw("shift_32b_um2") * bits as f64 / 32.0 * self.scale()
    }

    pub fn registers(&self, bits: u64) -> f64 {
        self.raw("register_um2_per_bit") * bits as f64 * self.scale()
    }

    /// An `inputs`:1 multiplexer of `bits` bits as a tree of 2:1 cells.
    pub fn mux(&self, inputs: u32, bits: u32) -> f64 {
        self.raw("mux2_um2_per_bit") * inputs.saturating_sub(1) as f64 * bits as f64 * self.scale()
    }

    /// An SRAM macro of `capacity_bytes` in `banks` banks, in um^2: the macro density for the
    /// capacity and the periphery of every bank beyond the first.
    pub fn sram(&self, capacity_bytes: u64, banks: u64) -> f64 {
        (self.raw("sram_mm2_per_kib") * capacity_bytes as f64 / 1024.0
            + self.raw("sram_bank_mm2") * banks.saturating_sub(1) as f64)
            * 1e6
            * self.scale()
    }

    /// One vector lane: a multiplier and an adder in the unit's format.
    pub fn vector_lane(&self, p: VectorPrecision) -> f64 {
        match p {
            VectorPrecision::Fp32 => {
                (self.raw("fp32_add_um2") + self.raw("fp32_mult_um2")) * self.scale()
            }
            VectorPrecision::Fp16 => {
                (self.raw("fp16_add_um2") + self.raw("fp16_mult_um2")) * self.scale()
            }
            VectorPrecision::Int(b) => self.adder(b) + self.multiplier(b, b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_reproduced() {
        let t = AreaTable::defaults();
        assert!((t.adder(32) - 278.0).abs() < 1e-9);
        assert!((t.adder(8) - 69.5).abs() < 1e-9);
        // 8 x 8: 64 / 1024 of the 32 x 32 multiplier.
        assert!((t.multiplier(8, 8) - 396.875).abs() < 1e-9);
        assert!((t.registers(10) - 59.8).abs() < 1e-9);
        // An 8:1 mux of 8 bits: 7 x 8 cells.
        assert!((t.mux(8, 8) - 7.0 * 8.0 * 1.862).abs() < 1e-9);
        assert_eq!(t.mux(1, 8), 0.0);
        // 64 KiB: 0.1984 mm^2; in 16 banks, 15 more banks' periphery.
        assert!((t.sram(65536, 1) - 198_400.0).abs() < 1e-6);
        assert!((t.sram(65536, 16) - 228_400.0).abs() < 1e-6);
        assert!((t.clone().with("tech_scale", 0.5).adder(32) - 139.0).abs() < 1e-9);
    }
}
