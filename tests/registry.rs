//! The PE-kind registry and the shipped files agree with the docs and the repository: the
//! docs' kind table is the registry's, every kind ships a design, and the designs and
//! workloads built into the binary are exactly those in `arch/` and `workloads/`.

mod common;

use plumsim::pe::{kind_table_markdown, PeKind};
use plumsim::shipped;

fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(common::root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn the_docs_kind_table_is_the_registrys() {
    let readme = std::fs::read_to_string(common::root().join("arch/README.md")).unwrap();
    let table = kind_table_markdown();
    assert!(
        readme.contains(&table),
        "arch/README.md's kind table differs from the registry's; paste `plumsim kinds --markdown`:\n{table}"
    );
    let family: Vec<_> = PeKind::all()
        .filter_map(|k| k.model().compare_design())
        .map(|d| shipped::arch(d).unwrap())
        .collect();
    let hardware = plumsim::area::hardware_table_markdown(&family);
    assert!(
        readme.contains(&hardware),
        "arch/README.md's hardware table differs from the designs'; paste the second table of `plumsim kinds --markdown`:\n{hardware}"
    );
    for k in PeKind::all() {
        assert!(
            readme.contains(&format!("`{}`", k.as_str())),
            "arch/README.md does not mention kind `{}`",
            k.as_str()
        );
    }
}

#[test]
fn every_kind_ships_a_design_and_compare_runs_its_own() {
    for k in PeKind::all() {
        // Panics when there is none.
        let a = common::shipped_design_of(k);
        assert_eq!(a.pe.kind, k);
        if let Some(name) = k.model().compare_design() {
            let d = shipped::arch(name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(d.pe.kind, k, "{name} is not a `{}` design", k.as_str());
        }
    }
    assert!(
        PeKind::all()
            .filter(|k| k.model().compare_design().is_some())
            .count()
            >= 6,
        "compare's default designs"
    );
}

#[test]
fn the_built_in_files_are_the_repositorys() {
    let built: Vec<String> = shipped::ARCHS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        built,
        files("arch", "toml"),
        "sim/shipped.rs ARCHS must list every arch/*.toml"
    );
    let built: Vec<String> = shipped::WORKLOADS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(
        built,
        files("workloads", "json"),
        "sim/shipped.rs WORKLOADS must list every workloads/*.json"
    );
    for (name, text) in shipped::ARCHS {
        shipped::arch(name).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            *text,
            std::fs::read_to_string(common::root().join("arch").join(name)).unwrap()
        );
    }
    for (name, _) in shipped::WORKLOADS {
        let (path, _) = shipped::workload(name).unwrap_or_else(|e| panic!("{e}"));
        assert!(path.is_file(), "{}", path.display());
    }
    let err = shipped::arch("nope.toml").unwrap_err().to_string();
    assert!(err.contains("is not a shipped file"), "{err}");
}

#[test]
fn unknown_kind_names_every_registered_one() {
    let text = common::ArchToml {
        kind: "quantum",
        ..Default::default()
    }
    .text();
    let err = plumsim::design::parse_arch(&text, "t.toml")
        .unwrap_err()
        .to_string();
    for k in PeKind::all() {
        assert!(err.contains(k.as_str()), "{err}");
    }
    assert!(err.starts_with("t.toml:"), "located by line: {err}");
}
