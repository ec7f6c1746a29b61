//! Quantities for people: an energy or a time in the unit that suits its size (pJ to J, ns
//! to s), for the terminal table, the HTML report and the figures' axes. Pure; a leaf module.

/// A unit a quantity can be shown in: its symbol and its size in the base unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    /// In ASCII, for terminals and CSV (`uJ`).
    pub symbol: &'static str,
    /// As typeset in figures and the report (`µJ`).
    pub glyph: &'static str,
    /// How many base units one of this unit is (for energies in pJ: 1e6 for uJ).
    pub factor: f64,
}

/// Energies, in pJ.
pub const ENERGY: &[Scale] = &[
    Scale {
        symbol: "pJ",
        glyph: "pJ",
        factor: 1.0,
    },
    Scale {
        symbol: "nJ",
        glyph: "nJ",
        factor: 1e3,
    },
    Scale {
        symbol: "uJ",
        glyph: "µJ",
        factor: 1e6,
    },
    Scale {
        symbol: "mJ",
        glyph: "mJ",
        factor: 1e9,
    },
    Scale {
        symbol: "J",
        glyph: "J",
        factor: 1e12,
    },
];

/// Times, in us.
pub const TIME: &[Scale] = &[
    Scale {
        symbol: "ns",
        glyph: "ns",
        factor: 1e-3,
    },
    Scale {
        symbol: "us",
        glyph: "µs",
        factor: 1.0,
    },
    Scale {
        symbol: "ms",
        glyph: "ms",
        factor: 1e3,
    },
    Scale {
        symbol: "s",
        glyph: "s",
        factor: 1e6,
    },
];

/// Sizes, in bytes (decimal prefixes).
pub const BYTES: &[Scale] = &[
    Scale {
        symbol: "B",
        glyph: "B",
        factor: 1.0,
    },
    Scale {
        symbol: "kB",
        glyph: "kB",
        factor: 1e3,
    },
    Scale {
        symbol: "MB",
        glyph: "MB",
        factor: 1e6,
    },
    Scale {
        symbol: "GB",
        glyph: "GB",
        factor: 1e9,
    },
    Scale {
        symbol: "TB",
        glyph: "TB",
        factor: 1e12,
    },
];

/// The largest unit of `scales` in which `magnitude` (in the base unit) is at least 1; the
/// smallest unit for 0, negative or non-finite magnitudes.
pub fn pick(scales: &'static [Scale], magnitude: f64) -> Scale {
    let m = magnitude.abs();
    if !m.is_finite() {
        return scales[0];
    }
    scales
        .iter()
        .rev()
        .find(|s| m >= s.factor)
        .copied()
        .unwrap_or(scales[0])
}

/// `value` (in the base unit) in its unit, with three significant digits: `4.52 mJ`,
/// `12.3 us`, `0 pJ`.
pub fn show(scales: &'static [Scale], value: f64) -> String {
    // The unit of the value as printed: 999,999 pJ shows as 1.00 uJ, not 1000 nJ.
    let rounded = if value == 0.0 || !value.is_finite() {
        value
    } else {
        let step = 10f64.powi(value.abs().log10().floor() as i32 - 2);
        (value / step).round() * step
    };
    let s = pick(scales, rounded);
    format!("{} {}", significant(value / s.factor, 3), s.symbol)
}

/// An energy given in pJ: `4.52 mJ`.
pub fn energy_pj(pj: f64) -> String {
    show(ENERGY, pj)
}

/// A time given in us: `812 us`, `1.20 ms`.
pub fn time_us(us: f64) -> String {
    show(TIME, us)
}

/// A whole number with thousands separators: `64,545,550`.
pub fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `x` with `digits` significant digits (at least the integer part: 1234.5 gives `1235`).
pub fn significant(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i64;
    let decimals = (digits as i64 - 1 - magnitude).max(0) as usize;
    // Rounding can carry into the next decade (9.996 -> 10.00): take one decimal fewer.
    let text = format!("{x:.decimals$}");
    let carried = text
        .parse::<f64>()
        .is_ok_and(|r| r.abs() >= 10f64.powi(magnitude as i32 + 1));
    if decimals > 0 && carried {
        let d = decimals - 1;
        format!("{x:.d$}")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energies_take_the_unit_of_their_size() {
        assert_eq!(energy_pj(4.5e9), "4.50 mJ");
        assert_eq!(energy_pj(1.0e6), "1.00 uJ");
        assert_eq!(energy_pj(999_999.0), "1.00 uJ");
        assert_eq!(energy_pj(999_000.0), "999 nJ");
        assert_eq!(energy_pj(12.34), "12.3 pJ");
        assert_eq!(energy_pj(0.0), "0 pJ");
        assert_eq!(energy_pj(3.2e12), "3.20 J");
    }

    #[test]
    fn times_take_the_unit_of_their_size() {
        assert_eq!(time_us(812.4), "812 us");
        assert_eq!(time_us(1204.0), "1.20 ms");
        assert_eq!(time_us(0.5), "500 ns");
        assert_eq!(time_us(2.5e6), "2.50 s");
    }

    #[test]
    fn significant_digits_carry_into_the_next_decade() {
        assert_eq!(significant(9.996, 3), "10.0");
        assert_eq!(significant(0.012345, 3), "0.0123");
        assert_eq!(significant(1234.4, 3), "1234");
        assert_eq!(significant(-2.5, 2), "-2.5");
    }
}
