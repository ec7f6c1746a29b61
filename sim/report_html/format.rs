//! Text for the page: HTML escaping and numbers with their units, scaled to read well
//! (`51.73 mJ`, not `51726514853.17 pJ`).

/// `s` as HTML text or attribute value: `&`, `<`, `>`, `"` and `'` become entities, so a
/// name from a user's file never opens a tag or ends an attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (but tab and newline) have no place in a page.
            c if c.is_control() && c != '\t' && c != '\n' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub use crate::units::grouped;

/// A number with 4 significant digits (at least the integer part), trailing zeros kept off:
/// `51.73`, `0.4275`, `1234`; very small or very large numbers in scientific notation.
pub fn sig4(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e7).contains(&a) {
        return format!("{v:.3e}");
    }
    let s = crate::units::significant(v, 4);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A unit and how many of the base unit it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub unit: &'static str,
    /// Base units per one of this unit.
    pub factor: f64,
}

impl Scale {
    /// `v` (in the base unit) in this unit, with 4 significant digits and the unit.
    pub fn show(self, v: f64) -> String {
        format!("{} {}", sig4(v / self.factor), self.unit)
    }

    /// `v` (in the base unit) in this unit, the number only.
    pub fn number(self, v: f64) -> String {
        sig4(v / self.factor)
    }
}

/// The quantities that are scaled: each from its base unit (the unit of the CSV column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Base: picojoules.
    EnergyPj,
    /// Base: microjoules.
    EnergyUj,
    /// Base: microseconds.
    TimeUs,
    /// Base: bytes.
    Bytes,
}

impl Quantity {
    /// The units of the quantity ([`crate::units`]) and how many of the table's base unit
    /// one of this quantity's base unit is.
    fn table(self) -> (&'static [crate::units::Scale], f64) {
        match self {
            Quantity::EnergyPj => (crate::units::ENERGY, 1.0),
            Quantity::EnergyUj => (crate::units::ENERGY, 1e6),
            Quantity::TimeUs => (crate::units::TIME, 1.0),
            Quantity::Bytes => (crate::units::BYTES, 1.0),
        }
    }

    /// The unit that shows `v` (in the base unit) as 1 to 999: the largest unit not above
    /// it; zero in the base unit.
    pub fn scale_for(self, v: f64) -> Scale {
        let (table, to_table) = self.table();
        let s = if v == 0.0 {
            table
                .iter()
                .find(|s| s.factor == to_table)
                .copied()
                .unwrap_or(table[0])
        } else {
            crate::units::pick(table, v * to_table)
        };
        Scale {
            unit: s.symbol,
            factor: s.factor / to_table,
        }
    }

    /// `v` (in the base unit) scaled to its own unit: `51.73 mJ`.
    pub fn show(self, v: f64) -> String {
        self.scale_for(v).show(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(escape("conv\u{0}1"), "conv\u{fffd}1");
        assert_eq!(escape("plain_name-1.2"), "plain_name-1.2");
    }

    #[test]
    fn numbers_scale_to_their_unit() {
        assert_eq!(Quantity::EnergyPj.show(51_726_514_853.17), "51.73 mJ");
        assert_eq!(Quantity::EnergyPj.show(1_500_000.0), "1.5 uJ");
        assert_eq!(Quantity::EnergyPj.show(12.0), "12 pJ");
        assert_eq!(Quantity::EnergyPj.show(0.0), "0 pJ");
        assert_eq!(Quantity::EnergyUj.show(2500.0), "2.5 mJ");
        assert_eq!(Quantity::EnergyUj.show(0.25), "250 nJ");
        assert_eq!(Quantity::TimeUs.show(64_545.55), "64.55 ms");
        assert_eq!(Quantity::TimeUs.show(0.5), "500 ns");
        assert_eq!(Quantity::TimeUs.show(12.345678), "12.35 us");
        assert_eq!(Quantity::TimeUs.show(3.2e6), "3.2 s");
        assert_eq!(Quantity::Bytes.show(613_011_456.0), "613 MB");
        assert_eq!(grouped(64_545_550), "64,545,550");
        assert_eq!(grouped(7), "7");
        assert_eq!(sig4(0.4274991), "0.4275");
        assert_eq!(sig4(1234.4), "1234");
        assert_eq!(sig4(1e-9), "1.000e-9");
        assert_eq!(sig4(f64::NAN), "-");
    }
}
