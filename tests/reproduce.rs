//! The committed evidence in results/ is what the code produces: every committed results CSV
//! is regenerated (`plumsim reproduce` for the studies, `plumsim sweep` for the sweeps in
//! results/sweeps) and compared with the committed file byte for byte. The plots beside them
//! must be produced and committed too. The trained ResNet-20 parts need ../shared; without it
//! they are skipped with a note, except under CI=true, where that is a failure.
//!
//! `results/transformers/` (`plumsim reproduce --transformers`: two decode steps of 6.7 and
//! 2.4 billion weights on five designs, minutes on two cores) is checked by an ignored test:
//! `cargo test --release --test reproduce -- --ignored`. The engine paths it runs are held by
//! the golden summaries of BERT-base, ViT-B/16 and the dense Llama-2-7B and BitNet decode
//! steps (`tests/cli.rs`, `tests/transformers.rs`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files.sort();
    files
}

/// Committed CSVs under results/, relative to it.
fn committed_csvs() -> BTreeSet<PathBuf> {
    let results = common::root().join("results");
    walk(&results)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| p.strip_prefix(&results).unwrap().to_path_buf())
        // The default output folders of `run`, `compare` and `quantize` (git-ignored), and the
        // transformer study (its own, ignored, test below); python/ is the Python example's,
        // which the Python suite regenerates and compares (python/tests/test_plumsim.py).
        .filter(|p| {
            !["run", "compare", "quantize", TRANSFORMERS, "python"]
                .iter()
                .any(|d| p.starts_with(d))
        })
        .collect()
}

/// The transformer study's folder under results/.
const TRANSFORMERS: &str = "transformers";

/// The sweeps whose CSVs are committed: (spec, result CSV, Pareto-front CSV from stdout).
/// Those whose CSV names `resnet20` run on the trained weights and real inputs in ../shared.
const SWEEPS: [(&str, &str, &str); 4] = [
    (
        "scripts/sweeps/bert_kinds.toml",
        "sweeps/bert_kinds.csv",
        "sweeps/bert_kinds_front.csv",
    ),
    (
        "scripts/sweeps/kinds.toml",
        "sweeps/kinds.csv",
        "sweeps/kinds_front.csv",
    ),
    (
        "scripts/sweeps/swis_gnl.toml",
        "sweeps/swis_gnl.csv",
        "sweeps/swis_gnl_front.csv",
    ),
    (
        "scripts/sweeps/swis_fidelity.toml",
        "sweeps/resnet20_swis_fidelity.csv",
        "sweeps/resnet20_swis_fidelity_front.csv",
    ),
];

#[test]
fn committed_results_are_what_the_code_produces() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    let o = common::plumsim(&["reproduce", "--out", out.to_str().unwrap(), "-q"]);
    assert!(
        o.status.success(),
        "reproduce failed: {}",
        common::stderr(&o)
    );
    let mut produced = BTreeSet::new();
    for entry in walk(&out) {
        let rel = entry.strip_prefix(&out).unwrap().to_path_buf();
        let committed = common::root().join("results").join(&rel);
        assert!(
            committed.is_file(),
            "{} is produced but not committed",
            rel.display()
        );
        let ours = std::fs::read(&entry).unwrap();
        if rel.extension().is_some_and(|e| e == "csv") {
            assert!(
                ours == std::fs::read(&committed).unwrap(),
                "results/{} differs from what the code produces: run scripts/reproduce.sh",
                rel.display()
            );
            produced.insert(rel);
        } else {
            assert!(!ours.is_empty(), "{} is empty", rel.display());
        }
    }
    for (spec, csv, front) in SWEEPS {
        if csv.contains("resnet20") && common::shared().is_none() {
            continue;
        }
        let path = out.join(csv);
        let o = common::plumsim(&["sweep", spec, "--out", path.to_str().unwrap(), "-q"]);
        assert!(o.status.success(), "sweep {spec}: {}", common::stderr(&o));
        for (rel, ours) in [
            (csv, std::fs::read(&path).unwrap()),
            (front, o.stdout.clone()),
        ] {
            assert!(
                ours == std::fs::read(common::root().join("results").join(rel)).unwrap(),
                "results/{rel} differs from what the code produces: run the script in scripts/"
            );
            produced.insert(PathBuf::from(rel));
        }
    }
    let missing: Vec<String> = committed_csvs()
        .difference(&produced)
        .map(|p| p.display().to_string())
        .collect();
    if common::shared().is_some() {
        assert!(
            missing.is_empty(),
            "committed but not regenerated by any check: {missing:?}"
        );
    } else {
        assert!(
            missing.iter().all(|m| m.contains("resnet20")),
            "committed but not regenerated: {missing:?}"
        );
        common::shared_or_skip(&format!("the trained ResNet-20 results {missing:?}"));
    }
    assert!(produced.len() >= 11, "CSV files compared: {produced:?}");
}

#[test]
#[ignore = "minutes: two billion-weight decode steps on five designs; run with --ignored"]
fn committed_transformer_results_are_what_the_code_produces() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    let o = common::plumsim(&[
        "reproduce",
        "--transformers",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        o.status.success(),
        "reproduce failed: {}",
        common::stderr(&o)
    );
    let dir = out.join(TRANSFORMERS);
    let committed_dir = common::root().join("results").join(TRANSFORMERS);
    let produced: BTreeSet<PathBuf> = walk(&dir)
        .into_iter()
        .map(|p| p.strip_prefix(&dir).unwrap().to_path_buf())
        .collect();
    let committed: BTreeSet<PathBuf> = walk(&committed_dir)
        .into_iter()
        .map(|p| p.strip_prefix(&committed_dir).unwrap().to_path_buf())
        .collect();
    assert_eq!(produced, committed, "files produced and committed differ");
    for rel in produced
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "md"))
    {
        assert!(
            std::fs::read(dir.join(rel)).unwrap() == std::fs::read(committed_dir.join(rel)).unwrap(),
            "results/{TRANSFORMERS}/{} differs from what the code produces: run `plumsim reproduce --transformers`",
            rel.display()
        );
    }
}
