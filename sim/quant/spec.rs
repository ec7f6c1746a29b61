//! Quantization specification: which scheme a layer's weights use, with its parameters.
//!
//! [`RawQuant`] mirrors a `quant` table as it is written (in a workload, in an architecture's
//! `[quant]`, or as `plumsim quantize` flags); [`resolve_quant`] is the one validator that turns
//! it into a [`QuantSpec`] or reports every problem. [`Scheme::problems`] checks a scheme built
//! in code against the same rules. The quantizers live beside this in `quant/` and are pure
//! functions of (weights, scheme).

use serde::Deserialize;

use crate::error::Problem;

/// How a signed-binary filter picks its sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
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
    /// BitNet b1.58's absmean ternary: `round(w / mean|W|)` clipped to {-1, 0, +1}, one scale
    /// (mean |W|) per tensor.
    TernaryAbsmean,
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
            Scheme::TernaryAbsmean => "ternary_absmean",
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
            Scheme::Ternary { .. } | Scheme::TernaryAbsmean => 2,
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
            Scheme::TernaryAbsmean => "ternary absmean".into(),
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
    /// The rules are [`resolve_quant`]'s: the scheme is written back as a raw `quant` table and
    /// validated there, so a scheme built in code and one read from a file obey one set of limits.
    pub fn problems(&self, path: &str) -> Vec<Problem> {
        let mut p = Vec::new();
        resolve_quant(&self.to_raw(), path, &mut p);
        p
    }

    /// The raw `quant` table that describes this scheme (activation bits unset).
    pub fn to_raw(&self) -> RawQuant {
        let mut q = RawQuant {
            scheme: Some(self.name().to_string()),
            ..RawQuant::default()
        };
        match *self {
            Scheme::Int { bits, per_channel } => {
                q.weight_bits = Some(bits.into());
                q.per_channel = Some(per_channel);
            }
            Scheme::Binary | Scheme::TernaryAbsmean => {}
            Scheme::Ternary { threshold_factor } => q.threshold = Some(threshold_factor),
            Scheme::SignedBinary {
                threshold,
                sign_rule,
                alpha,
            } => {
                q.threshold = Some(threshold);
                q.sign_rule = Some(sign_rule);
                q.alpha = Some(alpha);
            }
            Scheme::Swis {
                base_bits,
                group_size,
                shared,
            } => {
                q.weight_bits = Some(base_bits.into());
                q.group_size = Some(group_size.into());
                match shared {
                    SharedBits::Fixed(n) => q.shared_bits = Some(n.into()),
                    SharedBits::Variable { max, error_bound } => {
                        q.max_shared_bits = Some(max.into());
                        q.error_bound = Some(error_bound);
                    }
                }
            }
            Scheme::Truncate {
                base_bits,
                kept_bits,
            } => {
                q.weight_bits = Some(base_bits.into());
                q.shared_bits = Some(kept_bits.into());
            }
        }
        q
    }
}

/// A `quant` table as written: every field optional, unknown fields rejected.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuant {
    pub scheme: Option<String>,
    pub weight_bits: Option<i64>,
    pub activation_bits: Option<i64>,
    pub per_channel: Option<bool>,
    pub threshold: Option<f64>,
    pub sign_rule: Option<SignRule>,
    pub alpha: Option<bool>,
    pub group_size: Option<i64>,
    pub shared_bits: Option<i64>,
    pub max_shared_bits: Option<i64>,
    pub error_bound: Option<f64>,
}

impl RawQuant {
    /// Field by field: `self` where set, else `base`.
    pub fn over(&self, base: &RawQuant) -> RawQuant {
        RawQuant {
            scheme: self.scheme.clone().or_else(|| base.scheme.clone()),
            weight_bits: self.weight_bits.or(base.weight_bits),
            activation_bits: self.activation_bits.or(base.activation_bits),
            per_channel: self.per_channel.or(base.per_channel),
            threshold: self.threshold.or(base.threshold),
            sign_rule: self.sign_rule.or(base.sign_rule),
            alpha: self.alpha.or(base.alpha),
            group_size: self.group_size.or(base.group_size),
            shared_bits: self.shared_bits.or(base.shared_bits),
            max_shared_bits: self.max_shared_bits.or(base.max_shared_bits),
            error_bound: self.error_bound.or(base.error_bound),
        }
    }
}

/// The scheme names [`resolve_quant`] accepts.
pub const SCHEME_NAMES: [&str; 7] = [
    "int",
    "binary",
    "ternary",
    "ternary_absmean",
    "signed_binary",
    "swis",
    "truncate",
];

/// Largest SWIS group (weights sharing bit positions).
pub const MAX_GROUP_SIZE: i64 = 1024;

/// Resolve a raw `quant` table (already merged over its defaults) into a [`QuantSpec`],
/// pushing a problem under `path` for every field out of range. The one place the limits live:
///
/// - `activation_bits` 1..=32 (default 8);
/// - int: `weight_bits` 2..=16 (default 8), `per_channel` (default true);
/// - ternary: `threshold`, a factor of mean |w|, finite and >= 0 (default 0.7, TWN);
/// - ternary_absmean: no parameters (`threshold` is an error: BitNet's rounding fixes it);
/// - signed_binary: `threshold`, a fraction of max |w|, 0 <= t < 1 (default 0.05),
///   `sign_rule` (default halves), `alpha` (default false);
/// - swis: `weight_bits` B 2..=16 (default 8), `group_size` 1..=1024 (default 8), and either
///   `shared_bits` N 1..=B-1 (default 3) or `max_shared_bits` 1..=B-1 with `error_bound`
///   0 <= e < 1 (default 0.01);
/// - truncate: `weight_bits` B 2..=16 (default 8), `shared_bits` (bits kept) 1..=B-1 (default 3).
///
/// Fields another scheme uses are ignored (a layer may override a default table's scheme).
pub fn resolve_quant(q: &RawQuant, path: &str, p: &mut Vec<Problem>) -> QuantSpec {
    let scheme_name = q.scheme.as_deref().unwrap_or("int");
    let bits =
        |p: &mut Vec<Problem>, field: &str, v: Option<i64>, default: i64, lo: i64, hi: i64| {
            let v = v.unwrap_or(default);
            if v < lo || v > hi {
                p.push(
                    Problem::new(format!("{path}.{field}"), format!("{v} is out of range"))
                        .with_help(format!("allowed for scheme `{scheme_name}`: {lo}..={hi}")),
                );
                default as u32
            } else {
                v as u32
            }
        };
    let activation_bits = bits(p, "activation_bits", q.activation_bits, 8, 1, 32);
    let unit = |p: &mut Vec<Problem>, field: &str, v: Option<f64>, default: f64| {
        let v = v.unwrap_or(default);
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            p.push(
                Problem::new(format!("{path}.{field}"), format!("{v} is out of range"))
                    .with_help("allowed: 0 <= value < 1"),
            );
            default
        } else {
            v
        }
    };
    let scheme = match scheme_name {
        "int" => Scheme::Int {
            bits: bits(p, "weight_bits", q.weight_bits, 8, 2, 16),
            per_channel: q.per_channel.unwrap_or(true),
        },
        "binary" => Scheme::Binary,
        "ternary" => {
            let t = q.threshold.unwrap_or(0.7);
            Scheme::Ternary {
                threshold_factor: if t.is_finite() && t >= 0.0 {
                    t
                } else {
                    p.push(
                        Problem::new(format!("{path}.threshold"), format!("{t} is out of range"))
                            .with_help("allowed for scheme `ternary`: a factor of mean |w|, finite and >= 0 (TWN uses 0.7)"),
                    );
                    0.7
                },
            }
        }
        "ternary_absmean" => {
            if let Some(t) = q.threshold {
                p.push(
                    Problem::new(format!("{path}.threshold"), format!("{t} is not read by scheme `ternary_absmean`"))
                        .with_help("absmean rounds w / mean|W| (a weight is kept when |w| > mean|W| / 2); use scheme `ternary` for a chosen threshold"),
                );
            }
            Scheme::TernaryAbsmean
        }
        "signed_binary" => Scheme::SignedBinary {
            threshold: unit(p, "threshold", q.threshold, 0.05),
            sign_rule: q.sign_rule.unwrap_or(SignRule::Halves),
            alpha: q.alpha.unwrap_or(false),
        },
        "swis" => {
            let base_bits = bits(p, "weight_bits", q.weight_bits, 8, 2, 16);
            let group_size = bits(p, "group_size", q.group_size, 8, 1, MAX_GROUP_SIZE);
            let shared = match (q.shared_bits, q.max_shared_bits) {
                (Some(_), Some(_)) => {
                    p.push(
                        Problem::new(format!("{path}.shared_bits"), "both shared_bits and max_shared_bits are set")
                            .with_help("set shared_bits for fixed-N SWIS, or max_shared_bits (+ error_bound) for variable-N"),
                    );
                    SharedBits::Fixed(3)
                }
                (_, Some(max)) => SharedBits::Variable {
                    max: bits(p, "max_shared_bits", Some(max), 3, 1, base_bits as i64 - 1),
                    error_bound: unit(p, "error_bound", q.error_bound, 0.01),
                },
                (n, None) => {
                    SharedBits::Fixed(bits(p, "shared_bits", n, 3, 1, base_bits as i64 - 1))
                }
            };
            Scheme::Swis {
                base_bits,
                group_size,
                shared,
            }
        }
        "truncate" => {
            let base_bits = bits(p, "weight_bits", q.weight_bits, 8, 2, 16);
            Scheme::Truncate {
                base_bits,
                kept_bits: bits(p, "shared_bits", q.shared_bits, 3, 1, base_bits as i64 - 1),
            }
        }
        other => {
            p.push(
                Problem::new(
                    format!("{path}.scheme"),
                    format!("unknown scheme `{other}`"),
                )
                .with_help(format!("allowed: {}", SCHEME_NAMES.join(", "))),
            );
            Scheme::Int {
                bits: 8,
                per_channel: true,
            }
        }
    };
    QuantSpec {
        scheme,
        activation_bits,
    }
}
