//! Axis labels with their units, from column names, and short tick numbers.

/// An axis label with its unit, from a column name: `total_cycles` -> `"total cycles
/// [cycles]"`, `energy_pj` -> `"energy [pJ]"`, `latency_us` -> `"latency [µs]"`.
pub fn axis_label(column: &str) -> String {
    const STRIP: &[(&str, &str)] = &[
        ("_pj_cycles", "pJ·cycles"),
        ("_pj_us", "pJ·µs"),
        ("_pj", "pJ"),
        ("_nj", "nJ"),
        ("_uj", "µJ"),
        ("_us", "µs"),
        ("_ms", "ms"),
        ("_pct", "%"),
        ("_mhz", "MHz"),
        ("_mm2", "mm²"),
        ("_db", "dB"),
        ("_per_w", "per W"),
    ];
    const KEEP: &[(&str, &str)] = &[
        ("_cycles", "cycles"),
        ("_bytes", "bytes"),
        ("_bits", "bits"),
        ("_ops", "ops"),
    ];
    let words = |s: &str| s.replace(['_', '.'], " ");
    for (suffix, unit) in STRIP {
        if let Some(stem) = column.strip_suffix(suffix) {
            if !stem.is_empty() {
                return format!("{} [{unit}]", words(stem));
            }
        }
    }
    for (suffix, unit) in KEEP {
        if column.ends_with(suffix) {
            return format!("{} [{unit}]", words(column));
        }
    }
    words(column)
}

/// A number for a tick or a label: 3 significant digits, SI suffix above a thousand.
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
