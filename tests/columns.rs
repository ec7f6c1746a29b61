//! Result columns are declared once (`record!`): every record's names carry their units, the
//! serialized CSV and JSON follow the declaration, and a sweep's header comes from it, so a
//! sweep without a single valid point still has its metric columns.

mod common;

use plumsim::columns::{names, Column, Record, Unit};
use plumsim::compare::CompareRow;
use plumsim::energy::EnergyBreakdown;
use plumsim::engine::Actions;
use plumsim::report::{LayerRow, Summary};

fn check_units(record: &str, cols: &[Column]) {
    let mut seen = std::collections::BTreeSet::new();
    for c in cols {
        assert!(seen.insert(c.name), "{record}: column `{}` twice", c.name);
        if let Some(suffix) = c.unit.suffix() {
            assert!(
                c.name.ends_with(suffix),
                "{record}: column `{}` is in {} but does not end in `{suffix}`",
                c.name,
                c.unit
            );
        }
        for (suffix, unit) in [
            ("_cycles", Unit::Cycles),
            ("_bytes", Unit::Bytes),
            ("_pj", Unit::Picojoules),
            ("_pct", Unit::Percent),
            ("_us", Unit::Microseconds),
        ] {
            if c.name.ends_with(suffix)
                && !c.name.ends_with("_pj_us")
                && !c.name.ends_with("_uj_us")
            {
                assert_eq!(c.unit, unit, "{record}: `{}`", c.name);
            }
        }
    }
}

#[test]
fn every_column_names_its_unit() {
    check_units("LayerRow", &LayerRow::columns());
    check_units("Summary", &Summary::columns());
    check_units("EnergyBreakdown", &EnergyBreakdown::columns());
    check_units("Actions", &Actions::columns());
    check_units("CompareRow", &CompareRow::columns());
}

#[test]
fn records_nest_their_parts_in_place() {
    let layer = names::<LayerRow>();
    let energy = names::<EnergyBreakdown>();
    let at = layer.iter().position(|c| *c == "energy_pj").unwrap();
    assert_eq!(&layer[at + 1..at + 1 + energy.len()], &energy[..]);
    let actions = names::<Actions>();
    let at = layer.iter().position(|c| *c == "mults").unwrap();
    assert_eq!(&layer[at..at + actions.len()], &actions[..]);
    let summary = names::<Summary>();
    let at = summary.iter().position(|c| *c == "energy_pj").unwrap();
    assert_eq!(&summary[at + 1..at + 1 + energy.len()], &energy[..]);
    // The breakdown's component names are its columns without the unit.
    let parts: Vec<String> = EnergyBreakdown::default()
        .components()
        .iter()
        .map(|(n, _)| format!("{n}_pj"))
        .collect();
    assert_eq!(parts, energy);
    for c in CompareRow::energy_columns() {
        assert!(names::<CompareRow>().contains(&c.as_str()), "{c}");
    }
}

#[test]
fn files_follow_the_declaration() {
    let arch = common::arch(2, 2, "swis", "lanes = 2", "");
    let net = common::gemm_net(5, 12, 3, r#"{"scheme": "swis", "group_size": 2}"#);
    let codes = common::codes_for(&net, 3);
    let run = plumsim::engine::simulate_quantized(&arch, &net, &codes).unwrap();
    let rows = plumsim::report::layer_rows(&arch, &run, &[], &["swis"]);
    let csv = plumsim::report::to_csv(&rows);
    assert_eq!(
        csv.lines().next().unwrap(),
        names::<LayerRow>().join(","),
        "layers.csv header"
    );
    let summary = serde_json::to_string(&Summary::new(&arch, &run)).unwrap();
    let keys: Vec<String> = summary
        .trim_matches(|c| c == '{' || c == '}')
        .split(",\"")
        .map(|kv| {
            kv.trim_start_matches('"')
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(keys, names::<Summary>(), "summary.json keys in order");
}

#[test]
fn a_sweep_without_a_valid_point_has_its_metric_columns() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        format!(
            "base = \"{}\"\nworkloads = [\"{}\"]\n[axes]\n\"array.rows\" = [0, -1]\n",
            common::root().join("arch/swis_pe16.toml").display(),
            common::root()
                .join("tests/fixtures/workloads/tiny_conv.json")
                .display()
        ),
    )
    .unwrap();
    let out = dir.path().join("s.csv");
    let o = common::plumsim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let mut want = vec!["point", "array.rows", "workload", "status", "error"];
    want.extend(names::<Summary>().into_iter().filter(|c| *c != "workload"));
    assert_eq!(header, want);
    assert_eq!(text.matches(",invalid,").count(), 2, "{text}");
}
