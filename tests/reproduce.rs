//! The committed evidence in results/ is what the code produces: re-run the quick part of the
//! reproduction (`plumsim reproduce --reduced`) and compare its CSVs with the committed ones,
//! byte for byte.

mod common;

#[test]
fn committed_results_are_what_the_code_produces() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    let o = common::plumsim(&["reproduce", "--reduced", "--out", out.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "reproduce failed: {}",
        common::stderr(&o)
    );
    let mut compared = 0;
    for entry in walk(&out) {
        let rel = entry.strip_prefix(&out).unwrap();
        let committed = common::root().join("results").join(rel);
        let ours = std::fs::read(&entry).unwrap();
        assert!(
            committed.is_file(),
            "{} is produced but not committed",
            rel.display()
        );
        if rel.extension().is_some_and(|e| e == "csv") {
            let theirs = std::fs::read(&committed).unwrap();
            assert!(
                ours == theirs,
                "{} differs from the committed file: run scripts/reproduce.sh",
                rel.display()
            );
            compared += 1;
        } else {
            assert!(!ours.is_empty(), "{} is empty", rel.display());
        }
    }
    // PLUM (comparison and per layer) and PikeLPN (ResNet-18 and MobileNetV2).
    assert_eq!(compared, 4, "CSV files compared");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
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
