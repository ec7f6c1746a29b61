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

impl Scheme {
    /// Short label with the parameters, e.g. `int8/ch`, `swis B8 G8 N3`, `signed_binary t0.05`.
    pub fn label(&self) -> String {
        match *self {
            Scheme::Int { bits, per_channel } => {
                format!("int{bits}/{}", if per_channel { "ch" } else { "tensor" })
            }
            Scheme::Binary => "binary".into(),
            Scheme::Ternary { threshold_factor } => format!("ternary t{threshold_factor}"),
            Scheme::SignedBinary {
                threshold,
                sign_rule,
                alpha,
            } => format!(
                "signed_binary t{threshold}{}{}",
                if sign_rule == SignRule::WeightSum {
                    " sum"
                } else {
                    ""
                },
                if alpha { " alpha" } else { "" }
            ),
            Scheme::Swis {
                base_bits,
                group_size,
                shared,
            } => match shared {
                SharedBits::Fixed(n) => format!("swis B{base_bits} G{group_size} N{n}"),
                SharedBits::Variable { max, error_bound } => {
                    format!("swis B{base_bits} G{group_size} N<={max} e{error_bound}")
                }
            },
            Scheme::Truncate {
                base_bits,
                kept_bits,
            } => format!("truncate B{base_bits} N{kept_bits}"),
        }
    }

    /// Every parameter out of range, as problems under `path` (empty when the scheme is valid).
    ///
    /// Ranges: int bits 2..=16; ternary factor >= 0; signed-binary threshold 0 <= t < 1;
    /// SWIS / truncation base bits 2..=16, group size >= 1, N (or N_max) 1..=base_bits-1,
    /// error bound 0 <= e < 1.
    pub fn problems(&self, path: &str) -> Vec<crate::error::Problem> {
        use crate::error::Problem;
        let mut p = Vec::new();
        let mut range = |field: &str, v: u32, lo: u32, hi: u32| {
            if v < lo || v > hi {
                p.push(
                    Problem::new(format!("{path}.{field}"), format!("{v} is out of range"))
                        .with_help(format!("allowed for scheme `{}`: {lo}..={hi}", self.name())),
                );
            }
        };
        match *self {
            Scheme::Int { bits, .. } => range("weight_bits", bits, 2, 16),
            Scheme::Binary => {}
            Scheme::Ternary { .. } | Scheme::SignedBinary { .. } => {}
            Scheme::Swis {
                base_bits,
                group_size,
                shared,
            } => {
                range("weight_bits", base_bits, 2, 16);
                range("group_size", group_size, 1, u32::MAX);
                match shared {
                    SharedBits::Fixed(n) => {
                        range("shared_bits", n, 1, base_bits.saturating_sub(1).max(1))
                    }
                    SharedBits::Variable { max, .. } => range(
                        "max_shared_bits",
                        max,
                        1,
                        base_bits.saturating_sub(1).max(1),
                    ),
                }
            }
            Scheme::Truncate {
                base_bits,
                kept_bits,
            } => {
                range("weight_bits", base_bits, 2, 16);
                range(
                    "shared_bits",
                    kept_bits,
                    1,
                    base_bits.saturating_sub(1).max(1),
                );
            }
        }
        let unit = |field: &str, v: f64, p: &mut Vec<Problem>| {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                p.push(
                    Problem::new(format!("{path}.{field}"), format!("{v} is out of range"))
                        .with_help("allowed: 0 <= value < 1"),
                );
            }
        };
        match *self {
            Scheme::Ternary { threshold_factor }
                if !(threshold_factor.is_finite() && threshold_factor >= 0.0) =>
            {
                p.push(
                    Problem::new(
                        format!("{path}.threshold"),
                        format!("{threshold_factor} is out of range"),
                    )
                    .with_help("allowed: a factor >= 0 (TWN uses 0.7)"),
                )
            }
            Scheme::SignedBinary { threshold, .. } => unit("threshold", threshold, &mut p),
            Scheme::Swis {
                shared: SharedBits::Variable { error_bound, .. },
                ..
            } => unit("error_bound", error_bound, &mut p),
            _ => {}
        }
        p
    }
}
