//! An architecture file as a whole: the architecture's own rules ([`crate::arch`], with the PE
//! kind's through [`crate::pe`]) and its `[energy]` overrides ([`crate::energy::table`]),
//! every problem reported at once. These are the entry points that turn TOML into an [`Arch`].

use crate::arch::{validate_arch, Arch, RawArch};
use crate::error::{toml_error, Error, Problem, Result};

/// Parse and validate architecture TOML. `origin` names the file in messages.
pub fn parse_arch(text: &str, origin: &str) -> Result<Arch> {
    let raw: RawArch = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
    validate_design(raw, origin)
}

/// Validate an architecture given as a TOML table (e.g. a base file with sweep overrides
/// applied by field path). Type errors name the field but carry no line/column.
pub fn arch_from_table(table: toml::Table, origin: &str) -> Result<Arch> {
    let raw: RawArch = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| Error::Parse {
            origin: origin.to_string(),
            line: None,
            column: None,
            message: e.message().trim().to_string(),
        })?;
    validate_design(raw, origin)
}

/// Validate a raw architecture: its rules and its energy and area overrides, every problem at
/// once; the design's area must come out finite and above zero.
pub fn validate_design(raw: RawArch, origin: &str) -> Result<Arch> {
    let mut p = Vec::new();
    if let Some(e) = &raw.energy {
        crate::energy::table::check_overrides(e, &mut p);
    }
    if let Some(a) = &raw.area {
        crate::area::table::check_overrides(a, &mut p);
        if a.get("tech_scale").is_some_and(|&v| v == 0.0) {
            p.push(
                Problem::new("area.tech_scale", "0 is not allowed")
                    .with_help("allowed: a factor > 0 (a design has an area)"),
            );
        }
    }
    let arch = validate_arch(raw, &mut p);
    if p.is_empty() {
        let mm2 = crate::area::area_of(&arch).total_mm2();
        if !(mm2.is_finite() && mm2 > 0.0) {
            p.push(
                Problem::new("area", format!("the design's area comes out as {mm2} mm^2"))
                    .with_help("the [area] entries must give a finite area above 0; `plumsim area-table ARCH` shows each part"),
            );
        }
    }
    if p.is_empty() {
        Ok(arch)
    } else {
        // Energy and area problems come last, as the tables do in the file.
        let (tables, mut rest): (Vec<_>, Vec<_>) = p
            .into_iter()
            .partition(|q| q.path.starts_with("energy.") || q.path.starts_with("area."));
        rest.extend(tables);
        Err(Error::invalid(origin, rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"t\"\n[array]\nrows = 2\ncols = 2\ndataflow = \"ws\"\n[pe]\nkind = \"dense\"\n\
        [buffers.input]\ncapacity_bytes = 4096\nread_words_per_cycle = 2.0\nwrite_words_per_cycle = 1.0\n\
        [buffers.weight]\ncapacity_bytes = 4096\n[buffers.output]\ncapacity_bytes = 4096\n";

    fn problems(extra: &str) -> String {
        parse_arch(&format!("{BASE}{extra}"), "t.toml")
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn a_design_has_a_finite_area_above_zero() {
        assert_eq!(problems(""), "");
        assert!(problems("[area]\ntech_scale = 0.0\n")
            .contains("area.tech_scale: 0 is out of range (help: allowed: 0.001 to 1000"));
        // Overrides are bounded, so the area cannot overflow to infinity.
        let huge = problems("[area]\nsram_mm2_per_kib = 1e308\n");
        assert!(
            huge.contains("area.sram_mm2_per_kib: 1e308 is out of range"),
            "{huge}"
        );
    }

    #[test]
    fn ports_have_a_floor_and_banks_count_both_sides() {
        let slow = BASE.replace("read_words_per_cycle = 2.0", "read_words_per_cycle = 1e-9");
        let e = parse_arch(&slow, "t.toml").unwrap_err().to_string();
        assert!(
            e.contains("buffers.input.read_words_per_cycle: 0.000000001 is out of range"),
            "{e}"
        );
        let a = parse_arch(BASE, "t.toml").unwrap();
        // 2 read banks and 1 write bank; the unstated ports are 1 word a cycle each way.
        assert_eq!(a.input_buffer.banks(), 3);
        assert_eq!(a.weight_buffer.banks(), 2);
        assert_eq!(a.input_buffer.bank_bytes(), 4096 / 3);
    }
}
