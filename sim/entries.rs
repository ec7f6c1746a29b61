//! Cost tables as data: named entries, each with a default value, its unit and its source, and
//! an architecture's overrides of them. The energy table (`energy/table.rs`) and the area
//! table (`area/table.rs`) are both one of these; `plumsim energy-table` and
//! `plumsim area-table` print them. A leaf module.

use std::collections::BTreeMap;

use crate::error::Problem;

/// One table entry: default value, unit and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub key: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub source: &'static str,
}

/// The entry named `key` of `defaults`, if there is one.
pub fn find(defaults: &'static [Entry], key: &str) -> Option<&'static Entry> {
    defaults.iter().find(|e| e.key == key)
}

/// Check an architecture's overrides of the table `section` (`energy`, `area`): every key an
/// entry, every value finite and non-negative. `command` is the CLI command that lists them.
pub fn check_overrides(
    section: &str,
    defaults: &'static [Entry],
    command: &str,
    overrides: &BTreeMap<String, f64>,
    p: &mut Vec<Problem>,
) {
    for (k, v) in overrides {
        if find(defaults, k).is_none() {
            p.push(
                Problem::new(
                    format!("{section}.{k}"),
                    format!("is not an {section}-table entry"),
                )
                .with_help(format!("`plumsim {command} ARCH` lists the entries")),
            );
        } else {
            let (lo, hi) = override_range(k);
            if !(*v >= lo && *v <= hi) {
                p.push(
                    Problem::new(
                        format!("{section}.{k}"),
                        format!("{} is out of range", crate::error::show_number(*v)),
                    )
                        .with_help(format!(
                            "allowed: {lo} to {hi} (in the entry's unit; `plumsim {command} ARCH` lists them)"
                        )),
                );
            }
        }
    }
}

/// The physical range of an override: `tech_scale` (a node's factor over the table's) from
/// 1e-3 to 1e3; other `*_factor` entries from 0 to 1e3; every cost from 0 to 1e9 in its unit.
/// The bounds keep every energy and area finite: counts fit in 64 bits (< 1.9e19), so an
/// energy is at most about 1.9e19 x 1e9 x 1e3 pJ.
pub fn override_range(key: &str) -> (f64, f64) {
    if key == "tech_scale" {
        (1e-3, 1e3)
    } else if key.ends_with("_factor") {
        (0.0, 1e3)
    } else {
        (0.0, 1e9)
    }
}

/// Values in force: the defaults with an architecture's overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Entries {
    defaults: &'static [Entry],
    values: BTreeMap<&'static str, f64>,
    overridden: BTreeMap<&'static str, bool>,
}

impl Entries {
    pub fn defaults(defaults: &'static [Entry]) -> Self {
        Entries {
            defaults,
            values: defaults.iter().map(|e| (e.key, e.value)).collect(),
            overridden: BTreeMap::new(),
        }
    }

    /// Defaults with `overrides` (keys were checked by [`check_overrides`]; unknown keys are
    /// ignored here).
    pub fn with_overrides(defaults: &'static [Entry], overrides: &BTreeMap<String, f64>) -> Self {
        let mut t = Self::defaults(defaults);
        for (k, v) in overrides {
            if let Some(e) = find(defaults, k) {
                t.values.insert(e.key, *v);
                t.overridden.insert(e.key, true);
            }
        }
        t
    }

    /// The raw entry value.
    pub fn raw(&self, key: &str) -> f64 {
        *self
            .values
            .get(key)
            .unwrap_or_else(|| panic!("no table entry `{key}`"))
    }

    pub fn is_overridden(&self, key: &str) -> bool {
        self.overridden.get(key).copied().unwrap_or(false)
    }

    /// Every entry with the value in force and whether it was overridden, in table order.
    pub fn entries(&self) -> Vec<(Entry, f64, bool)> {
        self.defaults
            .iter()
            .map(|e| (*e, self.raw(e.key), self.is_overridden(e.key)))
            .collect()
    }

    /// Set one entry (tests and what-if studies).
    pub fn set(&mut self, key: &'static str, value: f64) {
        assert!(find(self.defaults, key).is_some(), "no table entry `{key}`");
        self.values.insert(key, value);
        self.overridden.insert(key, true);
    }

    /// Multiply by `k` every entry whose key `scaled` accepts.
    pub fn scale_where(&mut self, k: f64, scaled: impl Fn(&str) -> bool) {
        for (key, v) in self.values.iter_mut() {
            if scaled(key) {
                *v *= k;
            }
        }
    }
}

/// Declare a cost table over a module's `DEFAULTS`: the table type `$name` (the values in
/// force: defaults with an architecture's overrides of section `$section`, listed by
/// `plumsim $command`) with `defaults`, `with_overrides`, `raw`, `entries` and `with`, and
/// the module's `default_entry` and `check_overrides`.
#[macro_export]
macro_rules! cost_table {
    ($(#[$meta:meta])* $name:ident, $section:literal, $command:literal) => {
        /// The default entry named `key`, if there is one.
        pub fn default_entry(key: &str) -> Option<&'static $crate::entries::Entry> {
            $crate::entries::find(DEFAULTS, key)
        }

        #[doc = concat!("Check an architecture's `[", $section, "]` overrides: every key an entry, every value finite and non-negative.")]
        pub fn check_overrides(
            overrides: &std::collections::BTreeMap<String, f64>,
            p: &mut Vec<$crate::error::Problem>,
        ) {
            $crate::entries::check_overrides($section, DEFAULTS, $command, overrides, p);
        }

        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            entries: $crate::entries::Entries,
        }

        impl $name {
            pub fn defaults() -> Self {
                $name {
                    entries: $crate::entries::Entries::defaults(DEFAULTS),
                }
            }

            /// Defaults with `overrides` (keys were checked by [`check_overrides`]).
            pub fn with_overrides(overrides: &std::collections::BTreeMap<String, f64>) -> Self {
                $name {
                    entries: $crate::entries::Entries::with_overrides(DEFAULTS, overrides),
                }
            }

            /// The raw entry value (not scaled by `tech_scale`).
            pub fn raw(&self, key: &str) -> f64 {
                self.entries.raw(key)
            }

            /// Every entry with the value in force and whether it was overridden.
            pub fn entries(&self) -> Vec<($crate::entries::Entry, f64, bool)> {
                self.entries.entries()
            }

            /// Set one entry (tests and what-if studies).
            pub fn with(mut self, key: &'static str, value: f64) -> Self {
                self.entries.set(key, value);
                self
            }
        }
    };
}
