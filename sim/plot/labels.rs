//! Axis titles in words with their units, from column names: the quantity a column holds
//! (`energy_pj` is an energy in picojoules), one display unit per axis picked from the data
//! range (pJ/nJ/µJ/mJ/J, ns/µs/ms/s, K/M/G cycles, K/M/G/T bit-operations, kB/MB/GB), and
//! tick numbers.

/// What a column's values measure, and the factor to the dimension's base unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dim {
    /// Base unit: pJ.
    Energy,
    /// Base unit: µs.
    Time,
    Cycles,
    /// Bit operations (ACE).
    BitOps,
    Bytes,
    /// A fixed unit, not rescaled (%, dB, mm², MHz, ...); large values get a power of ten.
    Fixed(&'static str),
    /// A plain number (ratios, counts, labels as numbers).
    Plain,
}

/// A column as a quantity: its name in words and its unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quantity {
    /// In words, lower case except acronyms: `total cycles`, `energy`, `ACEv2`.
    pub(crate) name: String,
    pub(crate) dim: Dim,
    /// A column value times this is in the dimension's base unit (energy_uj: 1e6 pJ).
    pub(crate) to_base: f64,
}

/// Column-name suffixes and what they mean: (suffix, dimension, factor to base, keep the
/// suffix's word in the name).
const SUFFIXES: &[(&str, Dim, f64, bool)] = &[
    ("_pj_cycles", Dim::Fixed("pJ·cycles"), 1.0, false),
    ("_pj_us", Dim::Fixed("pJ·µs"), 1.0, false),
    ("_uj_us", Dim::Fixed("µJ·µs"), 1.0, false),
    ("_gbit_ops", Dim::BitOps, 1e9, false),
    ("_bit_ops", Dim::BitOps, 1.0, false),
    ("_pj", Dim::Energy, 1.0, false),
    ("_nj", Dim::Energy, 1e3, false),
    ("_uj", Dim::Energy, 1e6, false),
    ("_mj", Dim::Energy, 1e9, false),
    ("_ns", Dim::Time, 1e-3, false),
    ("_us", Dim::Time, 1.0, false),
    ("_ms", Dim::Time, 1e3, false),
    ("_pct", Dim::Fixed("%"), 1.0, false),
    ("_mhz", Dim::Fixed("MHz"), 1.0, false),
    ("_mm2", Dim::Fixed("mm²"), 1.0, false),
    ("_db", Dim::Fixed("dB"), 1.0, false),
    ("_per_w", Dim::Fixed("TOPS/W"), 1.0, false),
    ("_per_s", Dim::Fixed("1/s"), 1.0, false),
    ("_cycles", Dim::Cycles, 1.0, true),
    ("_bytes", Dim::Bytes, 1.0, true),
    ("_bits", Dim::Fixed("bits"), 1.0, true),
];

/// Words of a column stem: `_` and `.` are spaces, acronyms upper case (`pe` → `PE`,
/// `ace_v2` → `ACEv2`).
pub(crate) fn words(stem: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for w in stem.split(['_', '.']).filter(|w| !w.is_empty()) {
        let word = match w {
            "pe" => "PE",
            "dram" => "DRAM",
            "sram" => "SRAM",
            "ace" => "ACE",
            "sqnr" => "SQNR",
            "edp" => "EDP",
            "mac" => "MAC",
            "macs" => "MACs",
            "fp32" => "FP32",
            "arith" => "arithmetic",
            "mux" => "multiplexer",
            "quant" => "quantization",
            "rel" => "relative",
            other => other,
        };
        if word == "v2" && out.last().is_some_and(|l| l == "ACE") {
            out.last_mut().expect("checked").push_str("v2");
            continue;
        }
        out.push(word.to_string());
    }
    out.join(" ")
}

/// The first letter upper case.
pub(crate) fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

pub(crate) fn quantity(column: &str) -> Quantity {
    for &(suffix, dim, to_base, keep) in SUFFIXES {
        if let Some(stem) = column.strip_suffix(suffix) {
            if !stem.is_empty() {
                let name = if keep { words(column) } else { words(stem) };
                return Quantity { name, dim, to_base };
            }
        }
    }
    Quantity {
        name: words(column),
        dim: Dim::Plain,
        to_base: 1.0,
    }
}

/// The display unit of an axis: shown values are column values divided by `divisor`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scale {
    /// The unit as said in the axis title (empty: no unit).
    pub(crate) unit: String,
    pub(crate) divisor: f64,
}

/// Superscript digits for a power of ten.
fn power_of_ten(e: i32) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let digits: String = e
        .unsigned_abs()
        .to_string()
        .chars()
        .map(|d| SUP[d.to_digit(10).unwrap_or(0) as usize])
        .collect();
    format!("10{}{digits}", if e < 0 { "⁻" } else { "" })
}

/// One unit for values of `q` up to `max_abs` (in column units): the largest prefix that
/// keeps the largest value at 1 or more.
pub(crate) fn scale(q: &Quantity, max_abs: f64) -> Scale {
    let base = max_abs * q.to_base;
    let pick = |steps: &[(f64, &str)]| -> Scale {
        let &(f, u) = steps
            .iter()
            .find(|(f, _)| base >= *f)
            .unwrap_or(steps.last().expect("non-empty"));
        Scale {
            unit: u.to_string(),
            divisor: f / q.to_base,
        }
    };
    match q.dim {
        Dim::Energy | Dim::Time => {
            let table = if q.dim == Dim::Energy {
                crate::units::ENERGY
            } else {
                crate::units::TIME
            };
            let s = crate::units::pick(table, base);
            Scale {
                unit: s.glyph.to_string(),
                divisor: s.factor / q.to_base,
            }
        }
        Dim::Cycles => pick(&[
            (1e9, "G cycles"),
            (1e6, "M cycles"),
            (1e3, "K cycles"),
            (1.0, "cycles"),
        ]),
        Dim::BitOps => pick(&[
            (1e12, "T bit-operations"),
            (1e9, "G bit-operations"),
            (1e6, "M bit-operations"),
            (1e3, "K bit-operations"),
            (1.0, "bit-operations"),
        ]),
        Dim::Bytes => pick(&[(1e9, "GB"), (1e6, "MB"), (1e3, "kB"), (1.0, "bytes")]),
        Dim::Fixed(_) | Dim::Plain if max_abs >= 1e4 && max_abs.is_finite() => {
            let e = 3 * (max_abs.log10() / 3.0).floor() as i32;
            let p = power_of_ten(e);
            Scale {
                unit: if u_of(q.dim).is_empty() {
                    p
                } else {
                    format!("{p} {}", u_of(q.dim))
                },
                divisor: 10f64.powi(e),
            }
        }
        _ => Scale {
            unit: u_of(q.dim).to_string(),
            divisor: 1.0,
        },
    }
}

fn u_of(d: Dim) -> &'static str {
    match d {
        Dim::Fixed(u) => u,
        _ => "",
    }
}

/// `Name (unit)`, or `Name` without a unit.
pub(crate) fn titled(name: &str, unit: &str) -> String {
    if unit.is_empty() {
        sentence(name)
    } else {
        format!("{} ({unit})", sentence(name))
    }
}

/// An axis title in words with the column's own unit: `energy_pj` -> `"Energy (pJ)"`,
/// `total_cycles` -> `"Total cycles (cycles)"`, `ace_v2_gbit_ops` -> `"ACEv2 (G
/// bit-operations)"`. Plots pick the unit from the data ([`scaled_axis_label`]).
pub fn axis_label(column: &str) -> String {
    let q = quantity(column);
    // The column's own unit: the scale of a value of exactly 1.
    titled(&q.name, &scale(&q, 1.0).unit)
}

/// The axis title of a column whose values reach `max_abs`, and the divisor from column
/// values to the values shown: `("energy_pj", 4.5e9)` -> `("Energy (mJ)", 1e9)`.
pub fn scaled_axis_label(column: &str, max_abs: f64) -> (String, f64) {
    let q = quantity(column);
    let s = scale(&q, max_abs);
    (titled(&q.name, &s.unit), s.divisor)
}

/// Tick labels for `ticks` (in shown units): linear axes with one number of decimals, enough
/// for the step; log axes each as short as it can be.
pub(crate) fn tick_labels(ticks: &[f64], log: bool) -> Vec<String> {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    let fix = |s: String| if s == "-0" { "0".to_string() } else { s };
    if log || ticks.len() < 2 {
        return ticks.iter().map(|v| fix(trim(format!("{v:.6}")))).collect();
    }
    let step = (ticks[1] - ticks[0]).abs();
    let decimals = if step > 0.0 {
        (-(step.log10()) - 1e-9).ceil().clamp(0.0, 6.0) as usize
    } else {
        0
    };
    // A step like 0.25 needs one more digit than its magnitude says.
    let decimals = if ticks.iter().all(|v| {
        ((v * 10f64.powi(decimals as i32)).round() - v * 10f64.powi(decimals as i32)).abs() < 1e-6
    }) {
        decimals
    } else {
        (decimals + 1).min(6)
    };
    ticks
        .iter()
        .map(|v| fix(format!("{v:.decimals$}")))
        .collect()
}

/// A number for a label: 3 significant digits, SI suffix above a thousand.
pub fn short_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e15 {
        return format!("{v:.2e}");
    } else if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else if a < 1e-3 {
        return format!("{v:.2e}");
    } else {
        (v, "")
    };
    let digits = 2 - scaled.abs().log10().floor() as i32;
    let s = format!("{:.*}", digits.clamp(0, 6) as usize, scaled);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

/// A network's name as a paper writes it: `resnet18` -> `ResNet-18`, `mobilenet_v2` ->
/// `MobileNetV2`; names not known are kept.
pub fn network_name(name: &str) -> String {
    let known = match name {
        "resnet20_cifar10" => Some("ResNet-20 (CIFAR-10)"),
        "resnet18_plum" => Some("ResNet-18 (PLUM setting)"),
        "resnet20_cifar10_plum" => Some("ResNet-20 (CIFAR-10, PLUM setting)"),
        "mobilenet_v2" => Some("MobileNetV2"),
        "bert_base_s128" => Some("BERT-base (sequence 128)"),
        "llama2_7b_decode_ctx2048" => Some("Llama-2-7B (one decode step, context 2048)"),
        "llama2_7b_prefill_s512" => Some("Llama-2-7B (prefill of 512 tokens)"),
        "bitnet_2b4t_decode_ctx2048" => Some("BitNet b1.58 2B4T (one decode step, context 2048)"),
        "resnet56_cifar10" => Some("ResNet-56 (CIFAR-10)"),
        "resnet8_cifar10" => Some("ResNet-8 (CIFAR-10)"),
        "vit_b16" => Some("ViT-B/16"),
        _ => None,
    };
    if let Some(k) = known {
        return k.to_string();
    }
    match name.strip_prefix("resnet") {
        Some(d) if !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()) => format!("ResNet-{d}"),
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_data_range() {
        assert_eq!(
            scaled_axis_label("energy_pj", 4.5e9),
            ("Energy (mJ)".into(), 1e9)
        );
        assert_eq!(
            scaled_axis_label("energy_uj", 520.0),
            ("Energy (µJ)".into(), 1.0)
        );
        assert_eq!(
            scaled_axis_label("energy_uj", 2500.0),
            ("Energy (mJ)".into(), 1e3)
        );
        assert_eq!(
            scaled_axis_label("latency_us", 38_000.0),
            ("Latency (ms)".into(), 1e3)
        );
        assert_eq!(
            scaled_axis_label("latency_us", 0.5),
            ("Latency (ns)".into(), 1e-3)
        );
        assert_eq!(
            scaled_axis_label("total_cycles", 7e7),
            ("Total cycles (M cycles)".into(), 1e6)
        );
        assert_eq!(
            scaled_axis_label("ace_v2_gbit_ops", 120.0),
            ("ACEv2 (G bit-operations)".into(), 1.0)
        );
        assert_eq!(
            scaled_axis_label("ace_bit_ops", 1.2e12),
            ("ACE (T bit-operations)".into(), 1e12)
        );
        assert_eq!(
            scaled_axis_label("logit_sqnr_db", 26.0),
            ("Logit SQNR (dB)".into(), 1.0)
        );
        assert_eq!(
            scaled_axis_label("edp_pj_us", 3e13),
            ("EDP (10¹² pJ·µs)".into(), 1e12)
        );
        assert_eq!(scaled_axis_label("speedup_window", 1.3).0, "Speedup window");
    }

    #[test]
    fn tick_labels_share_their_decimals() {
        assert_eq!(
            tick_labels(&[0.0, 0.5, 1.0, 1.5], false),
            ["0.0", "0.5", "1.0", "1.5"]
        );
        assert_eq!(
            tick_labels(&[0.0, 0.25, 0.5], false),
            ["0.00", "0.25", "0.50"]
        );
        assert_eq!(tick_labels(&[0.0, 10.0, 20.0], false), ["0", "10", "20"]);
        assert_eq!(tick_labels(&[-0.0, 2.0], false), ["0", "2"]);
        assert_eq!(tick_labels(&[0.1, 1.0, 10.0], true), ["0.1", "1", "10"]);
    }
}
