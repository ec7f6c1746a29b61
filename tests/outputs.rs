//! Results that cannot be lost or mixed: a run's folder is replaced as a whole or not at all,
//! a folder holding anything else is refused before any work, names inside files never pick
//! paths, trace names never collide, and what a killed run left is cleaned by the next one.

mod common;

use std::path::Path;
use std::process::Command;

use common::{path_str, plumsim, stderr};

const ARCH: &str = "arch/dense_ws16.toml";
const WORKLOAD: &str = "tests/fixtures/workloads/tiny_conv.json";

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_plumsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn a_rerun_replaces_the_whole_folder_so_old_and_new_results_never_mix() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("r");
    let o = plumsim(&[
        "run",
        ARCH,
        WORKLOAD,
        "--out",
        &path_str(&out),
        "--format",
        "scalesim",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        listing(&out),
        ["COMPUTE_REPORT.csv", "layers.csv", "summary.json"]
    );
    let o = plumsim(&["run", ARCH, WORKLOAD, "--out", &path_str(&out), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The second run writes no SCALE-Sim report, and the first one's is gone with its folder.
    assert_eq!(listing(&out), ["layers.csv", "summary.json"]);
    // Nothing but the result folder beside it.
    assert_eq!(listing(t.path()), ["r"]);
}

#[test]
fn a_folder_holding_other_files_keeps_them_and_an_entry_in_the_way_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("r");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    std::fs::write(out.join("fidelity.csv"), "stale").unwrap();
    let o = plumsim(&["run", ARCH, WORKLOAD, "--out", &path_str(&out), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The user's file is kept; run's stale fidelity.csv (this run has no --inputs) is gone.
    assert_eq!(listing(&out), ["layers.csv", "notes.txt", "summary.json"]);
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine"
    );
    // The audit's case: summary.json is a folder. Refused before any work, nothing changed.
    let before = std::fs::read(out.join("layers.csv")).unwrap();
    std::fs::remove_file(out.join("summary.json")).unwrap();
    std::fs::create_dir(out.join("summary.json")).unwrap();
    let o = plumsim(&[
        "run",
        ARCH,
        "tests/fixtures/workloads/tiny_gemm.json",
        "--out",
        &path_str(&out),
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(
        e.contains("summary.json") && e.contains("in the way"),
        "{e}"
    );
    assert_eq!(listing(&out), ["layers.csv", "notes.txt", "summary.json"]);
    assert_eq!(std::fs::read(out.join("layers.csv")).unwrap(), before);
    assert_eq!(listing(t.path()), ["r"], "no staging folder left");
    // An --out that is a file.
    let f = t.path().join("file");
    std::fs::write(&f, "x").unwrap();
    let o = plumsim(&["run", ARCH, WORKLOAD, "--out", &path_str(&f)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "x");
}

#[test]
fn names_inside_files_never_pick_paths() {
    let t = tempfile::tempdir().unwrap();
    let root = common::root();
    let text = std::fs::read_to_string(root.join(ARCH)).unwrap();
    for evil in ["../../../escaped", "/tmp/plumsim-abs-escape"] {
        let arch = t.path().join("evil.toml");
        let body = text
            .lines()
            .map(|l| {
                if l.starts_with("name ") {
                    format!("name = \"{evil}\"")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&arch, body).unwrap();
        let wl = path_str(&root.join(WORKLOAD));
        let o = run_in(t.path(), &["run", "evil.toml", &wl, "-q"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let runs = listing(&t.path().join("results/run"));
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert!(
            !runs[0].contains('/') && !runs[0].starts_with('.'),
            "{runs:?}"
        );
        std::fs::remove_dir_all(t.path().join("results")).unwrap();
    }
    assert!(!t.path().parent().unwrap().join("escaped").exists());
    assert!(!Path::new("/tmp/plumsim-abs-escape__tiny_conv").exists());
}

#[test]
fn trace_files_of_colliding_layer_names_are_made_distinct() {
    let t = tempfile::tempdir().unwrap();
    let wl = t.path().join("w.json");
    std::fs::write(
        &wl,
        r#"{"name": "w", "inputs": {"x": [3, 8, 8]}, "layers": [
            {"name": "c/1", "op": "conv2d", "inputs": ["x"], "output": "a", "out_channels": 4, "kernel": 3, "padding": 1},
            {"name": "c_1", "op": "conv2d", "inputs": ["a"], "output": "b", "out_channels": 4, "kernel": 3, "padding": 1}]}"#,
    )
    .unwrap();
    let (out, traces) = (t.path().join("r"), t.path().join("t"));
    let o = plumsim(&[
        "run",
        ARCH,
        &path_str(&wl),
        "--out",
        &path_str(&out),
        "--trace",
        &path_str(&traces),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        listing(&traces),
        [
            "c_1_dram.csv",
            "c_1_lanes.csv",
            "c_1_sram.csv",
            "c_1~2_dram.csv",
            "c_1~2_lanes.csv",
            "c_1~2_sram.csv"
        ]
    );
    // Different traces: the second layer has 4 input channels, the first 3.
    assert_ne!(
        std::fs::read(traces.join("c_1_sram.csv")).unwrap(),
        std::fs::read(traces.join("c_1~2_sram.csv")).unwrap()
    );
}

#[test]
fn what_a_killed_run_left_is_cleaned_by_the_next_run() {
    let t = tempfile::tempdir().unwrap();
    // A staging folder of a process that is gone (pid 0 is never a user process), with a
    // planted symlink in it, and a live-looking one of this very test process.
    let dead = t.path().join(".plumsim-stage-0-deadbeef");
    std::fs::create_dir(&dead).unwrap();
    std::fs::write(dead.join("layers.csv"), "half").unwrap();
    let victim = t.path().join("victim");
    std::fs::write(&victim, "keep").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&victim, dead.join("link")).unwrap();
    let live = t
        .path()
        .join(format!(".plumsim-stage-{}-cafe", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    let out = t.path().join("r");
    let o = plumsim(&["run", ARCH, WORKLOAD, "--out", &path_str(&out), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!dead.exists(), "a dead run's staging folder is removed");
    assert!(live.exists(), "a live run's staging folder is left alone");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
}

#[test]
fn thread_counts_beyond_the_machine_are_refused_at_once() {
    for args in [
        vec!["run", ARCH, WORKLOAD, "--threads", "100000"],
        vec!["run", ARCH, WORKLOAD, "--threads", "0"],
        vec!["quantize", WORKLOAD, "--threads", "100000"],
    ] {
        let start = std::time::Instant::now();
        let o = plumsim(&args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains("--threads") && e.contains("core"), "{e}");
        assert!(start.elapsed().as_secs() < 10);
    }
}

#[test]
fn bar_charts_are_capped_before_drawing() {
    let t = tempfile::tempdir().unwrap();
    let csv = t.path().join("l.csv");
    let mut text = String::from("layer,compute_cycles\n");
    for i in 0..100_000 {
        text.push_str(&format!("l{i},{}\n", i + 1));
    }
    std::fs::write(&csv, text).unwrap();
    let png = t.path().join("p.png");
    let o = plumsim(&[
        "plot",
        &path_str(&csv),
        "--bars",
        "compute_cycles",
        "--out",
        &path_str(&png),
    ]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("100000 rows") && e.contains("8000"), "{e}");
    assert!(!png.exists());
}
