//! The SCALE-Sim v2 memory model against SCALE-Sim's own three reports, byte for byte.

mod common;

use plumsim::arch::Dataflow;
use plumsim::scalesim::memory::{self, Interface, Setup};
use plumsim::scalesim::{self, reports};

fn setup_of(cfg: &str) -> Setup {
    let get = |key: &str| {
        cfg.lines()
            .find_map(|l| {
                let (k, v) = l.split_once([':', '='])?;
                (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().to_string())
            })
            .unwrap()
    };
    let num = |k: &str| get(k).parse::<u64>().unwrap();
    Setup {
        rows: num("ArrayHeight"),
        cols: num("ArrayWidth"),
        dataflow: match get("Dataflow").as_str() {
            "ws" => Dataflow::Ws,
            "os" => Dataflow::Os,
            _ => Dataflow::Is,
        },
        ifmap_words: num("IfmapSramSzkB") * 1024,
        filter_words: num("FilterSramSzkB") * 1024,
        ofmap_words: num("OfmapSramSzkB") * 1024,
        interface: if get("InterfaceBandwidth") == "USER" {
            Interface::User {
                words_per_cycle: num("Bandwidth"),
            }
        } else {
            Interface::Calc
        },
    }
}

#[test]
fn every_reference_run_matches_all_three_reports() {
    let Some(shared) = common::shared_or_skip("SCALE-Sim memory model") else {
        return;
    };
    let dir = shared.join("reference/scalesim");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let mut bad = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let read = |f: &str| std::fs::read_to_string(case.join(f)).unwrap();
        let setup = setup_of(&read("config.cfg"));
        let rows = scalesim::parse_topology_rows(&read("topology.csv"), &name).unwrap();
        let layers: Vec<_> = rows
            .iter()
            .map(|r| {
                let shape = r.conv_shape();
                memory::simulate(&setup, &shape).unwrap()
            })
            .collect();
        for (file, ours) in reports::all(&layers) {
            let theirs = read(file);
            if ours != theirs {
                let first = ours
                    .lines()
                    .zip(theirs.lines())
                    .find(|(o, t)| o != t)
                    .map(|(o, t)| format!("plumsim `{o}` / SCALE-Sim `{t}`"))
                    .unwrap_or_else(|| "line count".into());
                bad.push(format!("{name}/{file}: {first}"));
            }
        }
    }
    assert_eq!(cases.len(), 10, "the 10 reference runs");
    assert!(bad.is_empty(), "differ: {bad:?}");
}
