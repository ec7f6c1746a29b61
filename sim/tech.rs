//! Technology parameters the architecture names and the energy table prices: DRAM kinds and
//! number formats. A leaf module, so the energy table does not depend on the architecture.

use serde::Deserialize;

/// Named DRAM technology (decides energy per bit in the energy model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DramKind {
    Lpddr4,
    Ddr3,
    Hbm2,
}

impl DramKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DramKind::Lpddr4 => "lpddr4",
            DramKind::Ddr3 => "ddr3",
            DramKind::Hbm2 => "hbm2",
        }
    }
}

/// Number format of the elementwise (vector) unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VectorPrecision {
    Fp32,
    Fp16,
    /// Integer of the given width (2..=32 bits).
    Int(u32),
}

impl VectorPrecision {
    /// Operand width in bits (container width for floats).
    pub fn bits(self) -> u32 {
        match self {
            VectorPrecision::Fp32 => 32,
            VectorPrecision::Fp16 => 16,
            VectorPrecision::Int(b) => b,
        }
    }

    pub fn label(self) -> String {
        match self {
            VectorPrecision::Fp32 => "fp32".into(),
            VectorPrecision::Fp16 => "fp16".into(),
            VectorPrecision::Int(b) => format!("int{b}"),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fp32" => Some(VectorPrecision::Fp32),
            "fp16" => Some(VectorPrecision::Fp16),
            _ => s
                .strip_prefix("int")
                .and_then(|b| b.parse::<u32>().ok())
                .filter(|b| (2..=32).contains(b))
                .map(VectorPrecision::Int),
        }
    }
}
