//! An architecture file as a whole: the architecture's own rules ([`crate::arch`], with the PE
//! kind's through [`crate::pe`]) and its `[energy]` overrides ([`crate::energy::table`]),
//! every problem reported at once. These are the entry points that turn TOML into an [`Arch`].

use crate::arch::{validate_arch, Arch, RawArch};
use crate::error::{toml_error, Error, Result};

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

/// Validate a raw architecture: its rules and its energy overrides, every problem at once.
pub fn validate_design(raw: RawArch, origin: &str) -> Result<Arch> {
    let mut p = Vec::new();
    if let Some(e) = &raw.energy {
        crate::energy::table::check_overrides(e, &mut p);
    }
    if let Some(a) = &raw.area {
        crate::area::table::check_overrides(a, &mut p);
    }
    let arch = validate_arch(raw, &mut p);
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
