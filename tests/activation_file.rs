//! PEs that skip zero activations read them from a tensor file when the workload names one.

mod common;

use std::path::Path;

/// A 1x1 conv 4 -> 2 on 2x2 inputs (M = 4, K = 4, N = 2) on a 1 x 2 dense array whose PEs
/// hold a whole filter (4 slots) and skip zero activations.
fn arch_text() -> String {
    common::ArchToml {
        rows: 1,
        cols: 2,
        pe_extra: "weights_per_lane = 4\nskip_zero_activations = true",
        rest: "[buffers.input]\ncapacity_bytes = 4096\n[buffers.weight]\ncapacity_bytes = 4096\n\
               [buffers.output]\ncapacity_bytes = 4096\n[dram]\nideal = true\n",
        ..Default::default()
    }
    .text()
}

fn workload(file: &str) -> String {
    format!(
        r#"{{"name": "act", "inputs": {{"x": [4, 2, 2]}},
            "layers": [{{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 2, "kernel": 1,
                         "activations": {{"file": "{file}", "tensor": "x"}}}}]}}"#
    )
}

fn run(dir: &Path, data: &[f32]) -> (u64, u64) {
    common::write_npz(&dir.join("acts.npz"), "x", &[4, 2, 2], data);
    std::fs::write(dir.join("arch.toml"), arch_text()).unwrap();
    std::fs::write(dir.join("w.json"), workload("acts.npz")).unwrap();
    let out = dir.join("out");
    let o = common::plumsim(&[
        "run",
        dir.join("arch.toml").to_str().unwrap(),
        dir.join("w.json").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = common::stdout(&o);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let col = |name: &str| {
        row[h.iter().position(|c| c == name).unwrap()]
            .parse::<u64>()
            .unwrap()
    };
    (col("compute_cycles"), col("mults"))
}

#[test]
fn zeros_come_from_the_activation_file() {
    let dir = tempfile::tempdir().unwrap();
    // No zeros: every step has 4 pairs at one lane: 4 cycles a step; 4 steps on a 1 x 2 array
    // are 5 wavefront steps: 20 cycles after a 4-cycle weight load; 32 MACs.
    let (dense_cycles, dense_mults) = run(dir.path(), &[1.0; 16]);
    assert_eq!(dense_mults, 4 * 4 * 2);
    assert_eq!(dense_cycles, 4 + 20);
    // All zero: nothing to multiply, every step costs the minimum single cycle: 5.
    let (zero_cycles, zero_mults) = run(dir.path(), &[0.0; 16]);
    assert_eq!(zero_mults, 0);
    assert_eq!(zero_cycles, 4 + 5);
    // Channels 0 and 1 zero (input layout C x H x W): 2 pairs per step, 2 cycles: 10.
    let mut half = vec![1.0; 16];
    half[..8].fill(0.0);
    let (half_cycles, half_mults) = run(dir.path(), &half);
    assert_eq!(half_mults, 4 * 2 * 2);
    assert_eq!(half_cycles, 4 + 10);
}

#[test]
fn a_tensor_of_the_wrong_size_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    common::write_npz(&dir.path().join("acts.npz"), "x", &[3, 2, 2], &[1.0; 12]);
    std::fs::write(dir.path().join("arch.toml"), arch_text()).unwrap();
    std::fs::write(dir.path().join("w.json"), workload("acts.npz")).unwrap();
    let o = common::plumsim(&[
        "run",
        dir.path().join("arch.toml").to_str().unwrap(),
        dir.path().join("w.json").to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = common::stderr(&o);
    assert!(
        e.contains("tensor `x` (layer `conv`)")
            && e.contains("12 activation values")
            && e.contains("holds 16"),
        "{e}"
    );
}

/// Every entry point goes through one pipeline: a sweep point reads the activation file as
/// `plumsim run` does (75 % zeros: 9 compute cycles, not the 24 of dense activations), and a
/// missing file fails that point with its error.
#[test]
fn a_sweep_reads_the_activation_file_like_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut acts = vec![0.0; 16];
    acts[12..].fill(1.0); // channel 3 only: 1 pair per step, 1 cycle
    let (run_cycles, _) = run(dir.path(), &acts);
    assert_eq!(run_cycles, 4 + 5);
    std::fs::write(
        dir.path().join("missing.json"),
        workload("nowhere.npz").replace("\"act\"", "\"act_missing\""),
    )
    .unwrap();
    let spec = dir.path().join("s.toml");
    std::fs::write(
        &spec,
        "base = \"arch.toml\"\nworkloads = [\"w.json\", \"missing.json\"]\n[axes]\n\"array.rows\" = [1]\n",
    )
    .unwrap();
    let csv_path = dir.path().join("s.csv");
    let o = common::plumsim(&[
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        csv_path.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |row: &csv::StringRecord, name: &str| {
        row[h.iter().position(|c| c == name).unwrap()].to_string()
    };
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let by_wl = |w: &str| rows.iter().find(|r| col(r, "workload") == w).unwrap();
    let (ok, failed) = (by_wl("act"), by_wl("act_missing"));
    assert_eq!(col(ok, "status"), "ok", "{text}");
    assert_eq!(col(ok, "compute_cycles"), run_cycles.to_string());
    assert_eq!(col(failed, "status"), "error", "{text}");
    assert!(col(failed, "error").contains("nowhere.npz"), "{text}");
    assert_eq!(col(failed, "total_cycles"), "", "{text}");
}
