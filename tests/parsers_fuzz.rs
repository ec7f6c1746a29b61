//! The parsers under proptest: shipped and fixture files with random byte-level edits (flips,
//! deletions, insertions of hostile tokens, truncations), fed to every text parser in
//! process. Whatever the bytes, a parser returns a value or a user error naming its origin;
//! it never panics and never reports an internal error. Fixed case count, so the budget is
//! bounded (a few seconds).

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use proptest::prelude::*;

const TOKENS: &[&str] = &[
    "0",
    "-1",
    "4294967296",
    "4611686018427387904",
    "9223372036854775807",
    "18446744073709551616",
    "1e308",
    "1e-300",
    "nan",
    "inf",
    "\"\"",
    "\"../../x\"",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    ":",
    "\n",
    "\"",
    "\u{0}",
    "\u{feff}",
    "[[",
    "]]",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(i, t)| Edit::Insert(i, t)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(base: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = base.to_vec();
    for e in edits {
        let n = b.len().max(1);
        match *e {
            Edit::Flip(i, x) if !b.is_empty() => b[i % n] ^= x.max(1),
            Edit::Delete(i, k) if !b.is_empty() => {
                let i = i % n;
                b.drain(i..(i + k).min(b.len()));
            }
            Edit::Insert(i, t) => {
                let i = i % (b.len() + 1);
                b.splice(i..i, TOKENS[t].bytes());
            }
            Edit::Truncate(i) => b.truncate(i % n),
            _ => {}
        }
    }
    b
}

/// The parser on `bytes` (as text: invalid UTF-8 is the readers' concern, checked in
/// tests/readers_hostile.rs): no panic, and an error is a user error naming `origin`.
fn check<T>(
    what: &str,
    bytes: &[u8],
    parse: impl Fn(&str) -> plumsim::Result<T>,
) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(bytes);
    let r = catch_unwind(AssertUnwindSafe(|| parse(&text)));
    let Ok(r) = r else {
        return Err(TestCaseError::fail(format!("{what} panicked on:\n{text}")));
    };
    if let Err(e) = r {
        prop_assert!(e.is_user_error(), "{what}: internal error {e} on:\n{text}");
        let msg = e.to_string();
        prop_assert!(
            msg.contains("fuzz."),
            "{what}: the message names no file: {msg}"
        );
    }
    Ok(())
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(common::root().join(rel)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn architectures(i in 0usize..4, edits in prop::collection::vec(edit(), 1..6)) {
        let files = ["arch/swis_pe16.toml", "arch/dense_ws16.toml", "arch/bitsparse_pe16.toml", "arch/pragmatic_pe16.toml"];
        let b = apply(&read(files[i]), &edits);
        check("parse_arch", &b, |t| plumsim::design::parse_arch(t, "fuzz.toml"))?;
    }

    #[test]
    fn workloads(i in 0usize..4, edits in prop::collection::vec(edit(), 1..6)) {
        let files = [
            "tests/fixtures/workloads/tiny_conv.json",
            "tests/fixtures/workloads/tiny_resblock.json",
            "tests/fixtures/workloads/depthwise.json",
            "workloads/resnet20_cifar10.json",
        ];
        let b = apply(&read(files[i]), &edits);
        check("parse_workload", &b, |t| plumsim::workload::parse_workload(t, "fuzz.json"))?;
    }

    #[test]
    fn scalesim_files(edits in prop::collection::vec(edit(), 1..6)) {
        let topo = b"Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n\
                     conv1, 224, 224, 7, 7, 3, 64, 2,\nconv2, 56, 56, 3, 3, 64, 64, 1,\n";
        let b = apply(topo, &edits);
        check("parse_topology", &b, |t| plumsim::scalesim::parse_topology(t, "fuzz.csv", "fuzz"))?;
        let cfg = b"[general]\nrun_name = fuzz\n\n[architecture_presets]\nArrayHeight: 16\nArrayWidth: 16\n\
                    IfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nIfmapOffset: 0\nFilterOffset: 10000000\n\
                    OfmapOffset: 20000000\nDataflow: ws\nBandwidth: 10\nMemoryBanks: 1\n\n[run_presets]\nInterfaceBandwidth: CALC\n";
        let b = apply(cfg, &edits);
        check("import_config", &b, |t| plumsim::scalesim::import_config(t, "fuzz.cfg"))?;
    }

    #[test]
    fn results_tables(edits in prop::collection::vec(edit(), 1..6)) {
        let csv = b"id,workload,status,total_cycles,energy_pj\n0,w,ok,100,2.5\n1,w,ok,200,1.5\n";
        let b = apply(csv, &edits);
        check("Table::parse", &b, |t| plumsim::table::Table::parse(t, "fuzz.csv"))?;
    }

    #[test]
    fn sweep_specs(edits in prop::collection::vec(edit(), 1..6)) {
        let spec = b"base = \"arch/dense_pe16.toml\"\nworkloads = [\"tests/fixtures/workloads/tiny_conv.json\"]\n\
                     [axes]\n\"pe.lanes\" = [1, 2]\n\"array.rows\" = { from = 4, to = 16, factor = 2 }\n\
                     [constraints]\nmax_pes = 1024\n[objectives]\nminimize = [\"energy_pj\"]\n";
        let b = apply(spec, &edits);
        let root = common::root();
        check("parse_spec", &b, |t| plumsim::sweep::spec::parse_spec(t, "fuzz.toml", &root))?;
    }
}
