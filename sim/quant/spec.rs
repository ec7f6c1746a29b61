//! Quantization specification: which scheme a layer's weights use, with its parameters.
//!
//! This is configuration (validated from the workload JSON); the quantizers themselves live
//! beside it in `quant/` and are pure functions of (weights, spec).

/// How a signed-binary filter picks its sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignRule {
    /// PLUM default: the first half of the layer's filters are {0,+1}, the second half {0,-1}.
    Halves,
    /// A filter's sign is the sign of the sum of its weights.
    WeightSum,
}

/// How many bit positions a SWIS group shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SharedBits {
    /// Every group uses exactly N shared positions.
    Fixed(u32),
    /// Per group the smallest N <= max whose relative squared error is <= error_bound.
    Variable { max: u32, error_bound: f64 },
}

/// A weight quantization scheme and its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scheme {
    /// Uniform symmetric int-k, k = bits (2..=16); per-output-channel or per-tensor scale.
    Int { bits: u32, per_channel: bool },
    /// sign(w) * alpha, alpha = mean |w| per filter (XNOR-Net).
    Binary,
    /// {-a,0,+a}, threshold = threshold_factor * mean |w| per filter (TWN, factor 0.7).
    Ternary { threshold_factor: f64 },
    /// PLUM signed binary: per filter {0,+1} or {0,-1}, threshold = threshold * max |w_f|.
    SignedBinary {
        threshold: f64,
        sign_rule: SignRule,
        alpha: bool,
    },
    /// SWIS: B-bit sign-magnitude, groups of `group_size` along the reduction dim share bit positions.
    Swis {
        base_bits: u32,
        group_size: u32,
        shared: SharedBits,
    },
    /// Baseline for SWIS: keep the top `kept_bits` consecutive bits of each B-bit magnitude.
    Truncate { base_bits: u32, kept_bits: u32 },
}

impl Scheme {
    pub fn name(&self) -> &'static str {
        match self {
            Scheme::Int { .. } => "int",
            Scheme::Binary => "binary",
            Scheme::Ternary { .. } => "ternary",
            Scheme::SignedBinary { .. } => "signed_binary",
            Scheme::Swis { .. } => "swis",
            Scheme::Truncate { .. } => "truncate",
        }
    }

    /// Bits a weight code occupies in memory (excluding per-filter scales and SWIS shift codes).
    pub fn weight_bits(&self) -> u32 {
        match *self {
            Scheme::Int { bits, .. } => bits,
            Scheme::Binary => 1,
            Scheme::Ternary { .. } => 2,
            // One bit says zero / non-zero; the sign is per filter.
            Scheme::SignedBinary { .. } => 1,
            // Sign plus N kept bits (fixed N) or N_max (variable N: worst case).
            Scheme::Swis { shared, .. } => {
                1 + match shared {
                    SharedBits::Fixed(n) => n,
                    SharedBits::Variable { max, .. } => max,
                }
            }
            Scheme::Truncate { kept_bits, .. } => 1 + kept_bits,
        }
    }
}

/// Per-layer quantization: the weight scheme and the activation precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantSpec {
    pub scheme: Scheme,
    pub activation_bits: u32,
}
