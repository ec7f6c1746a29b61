//! The `plumsim` binary end to end: every shipped architecture x workload, every malformed
//! fixture, atomic result files, determinism across thread counts, and the SCALE-Sim
//! compatibility report against SCALE-Sim's own COMPUTE_REPORT.csv.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{path_str, plumsim, root, shared, shared_or_skip, stderr, stdout};

// ---------------------------------------------------------------- helpers

/// Files in `dir` (relative to the repo root) with extension `ext`, sorted.
fn shipped(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("read {dir}/: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    v.sort();
    v
}

/// Workloads of more than this many weights stay out of the arch x workload matrix (and
/// `validate`'s): quantizing Llama-2-7B's 6.6e9 or BitNet 2B4T's 2.4e9 synthetic weights takes
/// minutes per design. `tests/transformers.rs` checks them on every shipped design (the
/// static checks) and runs them on a dense one.
const MATRIX_MAX_WEIGHTS: u64 = 1_000_000_000;

/// The shipped workloads of at most [`MATRIX_MAX_WEIGHTS`] weights, sorted.
fn matrix_workloads() -> Vec<PathBuf> {
    shipped("workloads", "json")
        .into_iter()
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let net =
                plumsim::workload::parse_workload(&text, &rel(p)).unwrap_or_else(|e| panic!("{e}"));
            let weights: u64 = net
                .layers
                .iter()
                .filter_map(|l| l.weight_shape())
                .map(|s| s.iter().product::<u64>())
                .sum();
            weights <= MATRIX_MAX_WEIGHTS
        })
        .collect()
}

fn rel(p: &Path) -> String {
    path_str(p.strip_prefix(root()).unwrap_or(p))
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

fn assert_no_panic(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(
        !err.contains("panicked"),
        "{what}: plumsim panicked:\n{err}"
    );
}

/// `layers.csv` as header -> column of strings, plus the row count.
fn read_layers_csv(path: &Path) -> (Vec<BTreeMap<String, String>>, Vec<String>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect();
    (rows, headers)
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// True when a failed run only failed because `../shared` (weights) is absent.
fn failed_for_missing_shared(workload: &Path, err: &str) -> bool {
    let text = std::fs::read_to_string(workload).unwrap_or_default();
    let missing = shared().is_none() && text.contains("shared/weights") && err.contains("shared");
    assert!(
        !(missing && common::ci()),
        "CI=true but ../shared is missing: {} cannot be skipped",
        workload.display()
    );
    missing
}

// ---------------------------------------------------------------- 1. arch x workload

#[test]
fn every_shipped_arch_runs_every_shipped_workload() {
    let archs = shipped("arch", "toml");
    let workloads = matrix_workloads();
    assert!(
        archs.len() >= 3,
        "expected at least 3 architectures, found {archs:?}"
    );
    assert!(
        workloads.len() >= 5,
        "expected at least 5 workloads, found {workloads:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut ran = 0;
    // Runs that exit non-zero are collected so one report names every failing pair.
    let mut failed = Vec::new();
    for arch in &archs {
        for wl in &workloads {
            let what = format!("{} x {}", rel(arch), rel(wl));
            let out = tmp.path().join(format!(
                "{}__{}",
                arch.file_stem().unwrap().to_string_lossy(),
                wl.file_stem().unwrap().to_string_lossy()
            ));
            let o = plumsim(&[
                "run",
                &rel(arch),
                &rel(wl),
                "--out",
                &path_str(&out),
                "--format",
                "csv",
            ]);
            assert_no_panic(&o, &what);
            if !o.status.success() {
                let err = stderr(&o);
                if code(&o) == Some(2) && failed_for_missing_shared(wl, &err) {
                    println!(
                        "skipping {what}: its weights need ../shared, which is absent ({err})"
                    );
                    continue;
                }
                failed.push(format!("{what}: exit {:?}\n{err}", code(&o)));
                continue;
            }
            let csv_path = out.join("layers.csv");
            let summary_path = out.join("summary.json");
            assert!(csv_path.is_file(), "{what}: no layers.csv");
            assert!(summary_path.is_file(), "{what}: no summary.json");
            // --format csv prints exactly what it wrote.
            assert_eq!(
                stdout(&o),
                std::fs::read_to_string(&csv_path).unwrap(),
                "{what}: stdout differs from layers.csv"
            );

            let (rows, headers) = read_layers_csv(&csv_path);
            for h in [
                "layer",
                "compute_cycles",
                "memory_stall_cycles",
                "total_cycles",
                "macs",
            ] {
                assert!(
                    headers.iter().any(|x| x == h),
                    "{what}: no `{h}` column in {headers:?}"
                );
            }
            let wl_json = read_json(wl);
            let wl_layers: Vec<String> = wl_json["layers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["name"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(rows.len(), wl_layers.len(), "{what}: one CSV row per layer");
            let mut csv_names: Vec<&str> = rows.iter().map(|r| r["layer"].as_str()).collect();
            let mut wl_names: Vec<&str> = wl_layers.iter().map(String::as_str).collect();
            csv_names.sort_unstable();
            wl_names.sort_unstable();
            assert_eq!(
                csv_names, wl_names,
                "{what}: CSV layers are the workload's layers"
            );

            let col = |name: &str| -> u64 {
                rows.iter()
                    .map(|r| {
                        r[name]
                            .parse::<u64>()
                            .unwrap_or_else(|e| panic!("{what}: {name} = {:?}: {e}", r[name]))
                    })
                    .sum()
            };
            for r in &rows {
                let n = |c: &str| r[c].parse::<u64>().unwrap();
                assert_eq!(
                    n("total_cycles"),
                    n("compute_cycles")
                        + n("sram_stall_cycles")
                        + n("memory_stall_cycles")
                        + n("vector_exposed_cycles"),
                    "{what}: layer {}: total = compute + port stall + DRAM stall + exposed vector cycles",
                    r["layer"]
                );
                assert!(
                    n("vector_exposed_cycles") <= n("vector_cycles"),
                    "{what}: exposed <= vector cycles"
                );
            }
            let summary_text = std::fs::read_to_string(&summary_path).unwrap();
            if let Some(diff) = common::golden(
                &format!(
                    "summary/{}__{}.json",
                    arch.file_stem().unwrap().to_string_lossy(),
                    wl.file_stem().unwrap().to_string_lossy()
                ),
                &summary_text,
            ) {
                failed.push(format!("{what}: {diff}"));
            }
            let summary = read_json(&summary_path);
            let total = col("total_cycles");
            assert!(total > 0, "{what}: zero cycles");
            assert_eq!(
                summary["total_cycles"].as_u64(),
                Some(total),
                "{what}: summary total_cycles"
            );
            assert_eq!(
                summary["macs"].as_u64(),
                Some(col("macs")),
                "{what}: summary macs"
            );
            assert_eq!(
                summary["layers"].as_u64(),
                Some(wl_layers.len() as u64),
                "{what}: summary layers"
            );
            ran += 1;
        }
    }
    println!(
        "ran {ran} of {} arch x workload pairs",
        archs.len() * workloads.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} runs failed:\n{}",
        failed.len(),
        archs.len() * workloads.len(),
        failed.join("\n")
    );
    assert!(ran > 0, "no pair ran");
}

// ---------------------------------------------------------------- 2. malformed inputs

const GOOD_ARCH: &str = "arch/dense_ws16.toml";
const GOOD_WORKLOAD: &str = "tests/fixtures/workloads/tiny_conv.json";

/// Malformed architectures and the phrases their error must contain (tests/fixtures/README.md).
const BAD_ARCHS: &[(&str, &[&str])] = &[
    (
        "tests/fixtures/arch/bad_toml.toml",
        &["bad_toml.toml:4:7", "invalid table header"],
    ),
    (
        "tests/fixtures/arch/unknown_key.toml",
        &["unknown_key.toml:6:1", "unknown field `colums`", "`rows`, `cols`, `dataflow`"],
    ),
    (
        "tests/fixtures/arch/zero_rows.toml",
        &["zero_rows.toml", "1 problem", "array.rows: 0 is out of range", "allowed: 1..=4096"],
    ),
    (
        "tests/fixtures/arch/tiny_buffer.toml",
        &[
            "tiny_buffer.toml",
            "1 problem",
            "buffers.weight.capacity_bytes: 64 bytes cannot hold one 16x16 tile of 8-bit values twice (double-buffered)",
            "allowed: >= 512 bytes",
        ],
    ),
    (
        "tests/fixtures/arch/bad_dataflow.toml",
        &["bad_dataflow.toml:7:12", "unknown variant `xs`", "`ws`, `os`, `is`"],
    ),
    (
        "tests/fixtures/arch/no_such_arch.toml",
        &["no_such_arch.toml", "No such file"],
    ),
];

/// Malformed workloads and the phrases their error must contain (tests/fixtures/README.md).
const BAD_WORKLOADS: &[(&str, &[&str])] = &[
    (
        "tests/fixtures/workloads/bad_json.json",
        &["bad_json.json:9:7", "expected `,` or `}`"],
    ),
    (
        "tests/fixtures/workloads/unknown_key.json",
        &["unknown_key.json:28:14", "unknown field `stirde`", "`stride`"],
    ),
    (
        "tests/fixtures/workloads/shape_mismatch.json",
        &[
            "shape_mismatch.json",
            "1 problem",
            "layers[1] (add).inputs: shapes do not broadcast: `input` is [8, 8, 8], `conv` is [16, 8, 8]",
        ],
    ),
    (
        "tests/fixtures/workloads/cycle.json",
        &[
            "cycle.json",
            "1 problem",
            "layers: the layer graph has a cycle through `relu_a`, `relu_b`",
        ],
    ),
    (
        "tests/fixtures/workloads/dangling.json",
        &[
            "dangling.json",
            "1 problem",
            "layers[1] (bn).inputs[0]: tensor `missing` is not produced by any layer nor a network input",
        ],
    ),
    (
        "tests/fixtures/workloads/zero_channels.json",
        &[
            "zero_channels.json",
            "1 problem",
            "layers[0] (conv).out_channels: 0 is out of range",
        ],
    ),
    (
        "tests/fixtures/workloads/no_such_workload.json",
        &["no_such_workload.json", "No such file"],
    ),
];

/// Exit 2, every expected phrase in stderr, `error: ` prefix, no panic, nothing on stdout.
fn assert_rejected(o: &Output, what: &str, expected: &[&str]) {
    assert_no_panic(o, what);
    let err = stderr(o);
    assert_eq!(code(o), Some(2), "{what}: exit code; stderr:\n{err}");
    assert!(
        err.starts_with("error: "),
        "{what}: stderr should start with `error: `:\n{err}"
    );
    for phrase in expected {
        assert!(
            err.contains(phrase),
            "{what}: stderr lacks {phrase:?}:\n{err}"
        );
    }
    assert!(
        stdout(o).trim().is_empty(),
        "{what}: stdout not empty:\n{}",
        stdout(o)
    );
}

#[test]
fn malformed_inputs_fail_with_exit_2_and_a_located_message() {
    assert!(!root()
        .join("tests/fixtures/arch/no_such_arch.toml")
        .exists());
    assert!(!root()
        .join("tests/fixtures/workloads/no_such_workload.json")
        .exists());
    let tmp = tempfile::tempdir().unwrap();
    let snapshot = |file: &str, o: &Output| {
        let name = Path::new(file).file_name().unwrap().to_string_lossy();
        if let Some(diff) = common::golden(&format!("stderr/{name}.txt"), &stderr(o)) {
            panic!("{diff}");
        }
    };
    for (i, (arch, expected)) in BAD_ARCHS.iter().enumerate() {
        let out = tmp.path().join(format!("a{i}"));
        let o = plumsim(&["run", arch, GOOD_WORKLOAD, "--out", &path_str(&out)]);
        assert_rejected(&o, &format!("run {arch}"), expected);
        snapshot(arch, &o);
        assert!(
            !out.exists(),
            "run {arch}: failed run created {}",
            out.display()
        );
    }
    for (i, (wl, expected)) in BAD_WORKLOADS.iter().enumerate() {
        let out = tmp.path().join(format!("w{i}"));
        let o = plumsim(&["run", GOOD_ARCH, wl, "--out", &path_str(&out)]);
        assert_rejected(&o, &format!("run {wl}"), expected);
        snapshot(wl, &o);
        assert!(
            !out.exists(),
            "run {wl}: failed run created {}",
            out.display()
        );
    }
}

// ---------------------------------------------------------------- 3. no half-written result

fn dir_listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn failed_run_writes_nothing_and_keeps_a_previous_result() {
    let tmp = tempfile::tempdir().unwrap();

    // A fresh folder: nothing written (not even the folder or temporaries).
    let fresh = tmp.path().join("x");
    let o = plumsim(&[
        "run",
        GOOD_ARCH,
        "tests/fixtures/workloads/shape_mismatch.json",
        "--out",
        &path_str(&fresh),
    ]);
    assert_rejected(
        &o,
        "bad workload into a fresh folder",
        &["shapes do not broadcast"],
    );
    assert!(
        !fresh.join("layers.csv").exists(),
        "half-written layers.csv"
    );
    assert!(
        !fresh.join("summary.json").exists(),
        "half-written summary.json"
    );
    if fresh.exists() {
        assert_eq!(
            dir_listing(&fresh),
            Vec::<String>::new(),
            "leftovers in {}",
            fresh.display()
        );
    }

    // A folder holding a good result: a failed run into it leaves it byte for byte.
    let kept = tmp.path().join("kept");
    let o = plumsim(&[
        "run",
        GOOD_ARCH,
        GOOD_WORKLOAD,
        "--out",
        &path_str(&kept),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "good run failed: {}", stderr(&o));
    let before = dir_listing(&kept);
    assert_eq!(
        before,
        vec!["layers.csv".to_string(), "summary.json".to_string()]
    );
    let csv_before = std::fs::read(kept.join("layers.csv")).unwrap();
    let summary_before = std::fs::read(kept.join("summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&summary_before).unwrap();
    assert_eq!(summary["workload"], "tiny_conv");
    // tiny_conv is one 64x8x36 GEMM (README): its MACs are 18,432.
    assert_eq!(summary["macs"].as_u64(), Some(18_432));

    for (what, arch, wl) in [
        (
            "bad workload",
            GOOD_ARCH,
            "tests/fixtures/workloads/cycle.json",
        ),
        (
            "bad arch",
            "tests/fixtures/arch/zero_rows.toml",
            GOOD_WORKLOAD,
        ),
        (
            "missing workload",
            GOOD_ARCH,
            "tests/fixtures/workloads/no_such_workload.json",
        ),
    ] {
        let o = plumsim(&["run", arch, wl, "--out", &path_str(&kept)]);
        assert_no_panic(&o, what);
        assert_eq!(code(&o), Some(2), "{what}: {}", stderr(&o));
        assert_eq!(
            dir_listing(&kept),
            before,
            "{what}: folder contents changed"
        );
        assert_eq!(
            std::fs::read(kept.join("layers.csv")).unwrap(),
            csv_before,
            "{what}: layers.csv clobbered"
        );
        assert_eq!(
            std::fs::read(kept.join("summary.json")).unwrap(),
            summary_before,
            "{what}: summary.json clobbered"
        );
    }
}

// ---------------------------------------------------------------- 4. determinism

#[test]
fn results_are_byte_identical_across_threads_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    for wl in ["workloads/resnet18.json", "workloads/mobilenet_v2.json"] {
        let mut outputs: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
        for (i, threads) in ["1", "2", "2", "1"].iter().enumerate() {
            let out = tmp.path().join(format!(
                "{}_{i}_t{threads}",
                Path::new(wl).file_stem().unwrap().to_string_lossy()
            ));
            let o = plumsim(&[
                "run",
                GOOD_ARCH,
                wl,
                "--out",
                &path_str(&out),
                "--threads",
                threads,
                "--format",
                "csv",
            ]);
            assert!(
                o.status.success(),
                "{wl} --threads {threads}: {}",
                stderr(&o)
            );
            outputs.push((
                format!("run {i} with --threads {threads}"),
                std::fs::read(out.join("layers.csv")).unwrap(),
                std::fs::read(out.join("summary.json")).unwrap(),
            ));
        }
        let (first, csv0, sum0) = &outputs[0];
        assert!(csv0.len() > 1000, "{wl}: suspiciously small layers.csv");
        for (what, csv, sum) in &outputs[1..] {
            assert!(
                csv == csv0,
                "{wl}: layers.csv of {what} differs from {first}"
            );
            assert!(
                sum == sum0,
                "{wl}: summary.json of {what} differs from {first}"
            );
        }
    }
}

// ---------------------------------------------------------------- 5. SCALE-Sim compatibility

/// Data rows of a SCALE-Sim COMPUTE_REPORT.csv as numbers (header checked, trailing comma dropped).
fn parse_compute_report(text: &str, what: &str) -> Vec<Vec<f64>> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .unwrap_or_else(|| panic!("{what}: empty report"))
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "LayerID",
            "Total Cycles",
            "Stall Cycles",
            "Overall Util %",
            "Mapping Efficiency %",
            "Compute Util %"
        ],
        "{what}: header"
    );
    lines
        .map(|l| {
            let cells: Vec<f64> = l
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| {
                    c.parse()
                        .unwrap_or_else(|e| panic!("{what}: {c:?} in {l:?}: {e}"))
                })
                .collect();
            assert_eq!(cells.len(), 6, "{what}: row {l:?}");
            cells
        })
        .collect()
}

#[test]
fn scalesim_format_matches_scalesim_compute_reports() {
    let Some(shared) = shared_or_skip("SCALE-Sim compatibility report") else {
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(shared.join("reference/scalesim"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("COMPUTE_REPORT.csv").is_file())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the 10 reference folders, found {cases:?}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let (mut calc, mut user) = (0, 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tmp.path().join(&name);
        let o = plumsim(&[
            "import",
            "scalesim",
            &path_str(&case.join("config.cfg")),
            &path_str(&case.join("topology.csv")),
            "--out",
            &path_str(&dir),
            "--name",
            "n",
        ]);
        assert!(o.status.success(), "{name}: import failed: {}", stderr(&o));
        let (arch, wl) = (path_str(&dir.join("n.toml")), path_str(&dir.join("n.json")));

        let v = plumsim(&["validate", &arch, &wl]);
        assert!(
            v.status.success(),
            "{name}: imported files do not validate: {}",
            stderr(&v)
        );
        assert!(
            stdout(&v).starts_with("ok: "),
            "{name}: validate said {}",
            stdout(&v)
        );

        let out = dir.join("o");
        let r = plumsim(&[
            "run",
            &arch,
            &wl,
            "--format",
            "scalesim",
            "--out",
            &path_str(&out),
        ]);
        assert!(r.status.success(), "{name}: run failed: {}", stderr(&r));
        let printed = stdout(&r);
        assert_eq!(
            std::fs::read_to_string(out.join("COMPUTE_REPORT.csv")).unwrap(),
            printed,
            "{name}: written COMPUTE_REPORT.csv differs from stdout"
        );
        let ours = parse_compute_report(&printed, &format!("{name} (plumsim)"));
        let theirs = parse_compute_report(
            &std::fs::read_to_string(case.join("COMPUTE_REPORT.csv")).unwrap(),
            &format!("{name} (SCALE-Sim)"),
        );
        assert_eq!(ours.len(), theirs.len(), "{name}: row count");
        let user_mode = name.contains("userbw");
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            let at = format!("{name} row {i}");
            assert_eq!(o[0], t[0], "{at}: LayerID");
            if user_mode {
                // USER bandwidth mode: SCALE-Sim's stall model differs from ours (see the
                // reference README), but the stall-free cycles must agree.
                assert_eq!(
                    o[1] - o[2],
                    t[1] - t[2],
                    "{at}: Total Cycles - Stall Cycles"
                );
                assert_eq!(o[4], t[4], "{at}: Mapping Efficiency %");
            } else {
                let cols = [
                    "LayerID",
                    "Total Cycles",
                    "Stall Cycles",
                    "Overall Util %",
                    "Mapping Efficiency %",
                ];
                for (c, col) in cols.iter().enumerate().skip(1) {
                    assert_eq!(o[c], t[c], "{at}: {col}");
                }
                assert!(
                    (o[5] - t[5]).abs() <= 1e-9,
                    "{at}: Compute Util % {} vs SCALE-Sim {}",
                    o[5],
                    t[5]
                );
            }
        }
        if user_mode {
            user += 1;
        } else {
            calc += 1;
        }
    }
    assert!(
        calc >= 7 && user >= 3,
        "checked {calc} CALC and {user} USER folders"
    );
}

// ---------------------------------------------------------------- 6. validate

#[test]
fn validate_accepts_good_inputs_and_rejects_bad_ones() {
    let good_workloads = shipped("tests/fixtures/workloads", "json")
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            !BAD_WORKLOADS.iter().any(|(b, _)| b.ends_with(&*n))
        })
        .chain(matrix_workloads())
        .collect::<Vec<_>>();
    assert!(good_workloads.len() >= 9, "{good_workloads:?}");
    for arch in shipped("arch", "toml") {
        for wl in &good_workloads {
            let what = format!("validate {} {}", rel(&arch), rel(wl));
            let o = plumsim(&["validate", &rel(&arch), &rel(wl)]);
            assert_no_panic(&o, &what);
            if code(&o) == Some(2) && failed_for_missing_shared(wl, &stderr(&o)) {
                // validate opens the weight files run would read.
                println!("skipping {what}: its weights need ../shared, which is absent");
                continue;
            }
            assert_eq!(code(&o), Some(0), "{what}: {}", stderr(&o));
            let text = stdout(&o);
            assert!(text.starts_with("ok: "), "{what}: printed {text:?}");
            let wl_name = read_json(wl)["name"].as_str().unwrap().to_string();
            assert!(
                text.contains(&wl_name),
                "{what}: {text:?} does not name `{wl_name}`"
            );
        }
    }
    // tiny_conv: 3 layers, 1 with weights.
    let o = plumsim(&["validate", GOOD_ARCH, GOOD_WORKLOAD]);
    assert_eq!(
        stdout(&o).trim(),
        "ok: dense_ws16 (16x16 ws, pe dense) and tiny_conv (3 layers, 1 with weights)"
    );

    for (arch, expected) in BAD_ARCHS {
        let o = plumsim(&["validate", arch, GOOD_WORKLOAD]);
        assert_rejected(&o, &format!("validate {arch}"), expected);
    }
    for (wl, expected) in BAD_WORKLOADS {
        let o = plumsim(&["validate", GOOD_ARCH, wl]);
        assert_rejected(&o, &format!("validate {wl}"), expected);
    }
    // Both bad: both reported.
    let o = plumsim(&[
        "validate",
        "tests/fixtures/arch/zero_rows.toml",
        "tests/fixtures/workloads/dangling.json",
    ]);
    assert_rejected(
        &o,
        "validate with both inputs bad",
        &["array.rows", "tensor `missing`"],
    );
}

// ---------------------------------------------------------------- 6. command-line conventions

/// The subcommands `plumsim --help` lists.
fn subcommands() -> Vec<String> {
    let o = plumsim(&["--help"]);
    let text = stdout(&o);
    let commands = text
        .split("Commands:")
        .nth(1)
        .expect("a Commands section")
        .split("\n\n")
        .next()
        .unwrap();
    commands
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

#[test]
fn every_subcommand_takes_quiet_and_verbose() {
    let subs = subcommands();
    assert!(subs.len() >= 12, "{subs:?}");
    for sub in &subs {
        for flag in ["-q", "--quiet", "-v", "--verbose"] {
            let o = plumsim(&[sub, flag, "--help"]);
            assert_eq!(code(&o), Some(0), "{sub} {flag}: {}", stderr(&o));
        }
        let o = plumsim(&[sub, "--no-such-flag"]);
        assert_eq!(code(&o), Some(2), "{sub} --no-such-flag");
    }
    let o = plumsim(&["run", "-q", "-v", GOOD_ARCH, GOOD_WORKLOAD]);
    assert_eq!(code(&o), Some(2), "-q and -v together");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let tmp = tempfile::tempdir().unwrap();
    for (i, close_at_once) in [true, false].into_iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_plumsim"))
            .args([
                "run",
                "arch/swis_pe16.toml",
                "workloads/resnet18.json",
                "--format",
                "csv",
                "--out",
            ])
            .arg(tmp.path().join(format!("o{i}")))
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        if !close_at_once {
            // `| head -1`: one line read, then the pipe closes.
            let mut line = String::new();
            std::io::BufReader::new(out).read_line(&mut line).unwrap();
            assert!(line.starts_with("layer,"), "{line}");
        } else {
            drop(out);
        }
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{err}");
        assert!(!err.contains("Broken pipe"), "{err}");
        assert_ne!(o.status.code(), Some(101), "{err}");
        // The results were written before anything was printed.
        assert!(tmp.path().join(format!("o{i}/summary.json")).is_file());
    }
}

#[test]
fn compare_and_reproduce_run_from_any_folder() {
    use std::process::Command;
    let elsewhere = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_plumsim");
    let wl = root().join("tests/fixtures/workloads/tiny_resblock.json");
    let o = Command::new(bin)
        .arg("compare")
        .arg(&wl)
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for k in plumsim::pe::PeKind::all() {
        if let Some(design) = k.model().compare_design() {
            let name = design.trim_end_matches(".toml");
            assert!(table.contains(&format!("| {name} |")), "{name}:\n{table}");
        }
    }
    assert!(
        elsewhere
            .path()
            .join("results/compare/tiny_resblock/compare.csv")
            .is_file(),
        "compare writes under the working directory"
    );
    // Not a terminal: no progress bar on stderr, nothing at all without -v.
    assert_eq!(stderr(&o), "");
    let o = Command::new(bin)
        .args(["reproduce", "--reduced", "--out", "here"])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let produced = elsewhere.path().join("here/plum/resnet18_plum.csv");
    assert_eq!(
        std::fs::read(produced).unwrap(),
        std::fs::read(root().join("results/plum/resnet18_plum.csv")).unwrap()
    );
}

#[test]
fn verbose_says_what_it_does_and_quiet_says_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = path_str(&tmp.path().join("v"));
    let o = plumsim(&["run", "-v", GOOD_ARCH, GOOD_WORKLOAD, "--out", &out]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("quantize and simulate:"),
        "{}",
        stderr(&o)
    );
    let o = plumsim(&[
        "run",
        "-q",
        "--reference",
        "arch/swis_pe16.toml",
        GOOD_WORKLOAD,
        "--out",
        &out,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "-q: nothing on stderr");
    let o = plumsim(&[
        "run",
        "--reference",
        "arch/swis_pe16.toml",
        GOOD_WORKLOAD,
        "--out",
        &out,
    ]);
    assert!(stderr(&o).contains("actions equal"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- 7. validate = run's checks

#[test]
fn validate_makes_every_check_run_makes() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        path_str(&p)
    };
    let conv = |quant: &str, weights: &str| {
        format!(
            r#"{{"name": "t", "inputs": {{"x": [8, 6, 6]}}, "defaults": {{"quant": {quant}{weights}}},
                "layers": [{{"name": "c", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 4, "kernel": 3}}]}}"#
        )
    };
    // A ternary threshold below zero: exit 2 from both, with the field path.
    let wl = write(
        "t.json",
        &conv(r#"{"scheme": "ternary", "threshold": -1.0}"#, ""),
    );
    let out = path_str(&tmp.path().join("out"));
    let o = plumsim(&["validate", "arch/dense_ws16.toml", &wl]);
    assert_rejected(
        &o,
        "validate",
        &["defaults.quant.threshold: -1 is out of range"],
    );
    let o = plumsim(&["run", "arch/dense_ws16.toml", &wl, "--out", &out]);
    assert_rejected(&o, "run", &["defaults.quant.threshold: -1 is out of range"]);
    // SWIS groups of 8 on a 4-lane PE: validate says so, before any run.
    let arch = std::fs::read_to_string(root().join("arch/swis_pe16.toml"))
        .unwrap()
        .replace("lanes = 8 ", "lanes = 4 ");
    let arch = write("swis_l4.toml", &arch);
    let wl = write("s.json", &conv(r#"{"scheme": "swis"}"#, ""));
    let o = plumsim(&["validate", &arch, &wl]);
    assert_rejected(
        &o,
        "validate swis",
        &[
            "layers[0] (c)",
            "SWIS group_size 8 differs from pe.lanes = 4",
        ],
    );
    // validate opens the weight files run would read.
    let wl = write(
        "w.json",
        &conv(
            r#"{"scheme": "int"}"#,
            r#", "weights": {"file": "nowhere.npz", "tensor": "c.weight"}"#,
        ),
    );
    let o = plumsim(&["validate", "arch/dense_ws16.toml", &wl]);
    assert_rejected(&o, "validate missing weights", &["nowhere.npz", "c.weight"]);
    // And accepts what runs.
    let wl = write("ok.json", &conv(r#"{"scheme": "int"}"#, ""));
    let o = plumsim(&["validate", "arch/dense_ws16.toml", &wl]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: "), "{}", stdout(&o));
}
