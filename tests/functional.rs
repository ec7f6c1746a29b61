//! Functional execution (`run --inputs`): the quantized datapath computed by hand on a tiny
//! network, the trained ResNet-20 against onnxruntime's logits (needs `../shared`), bad
//! inputs, determinism, and zero-skipping timed on real activations.

mod common;

use std::collections::HashMap;
use std::path::Path;

use plumsim::functional::Samples;
use plumsim::pipeline::{self, Caches, CodeCache, MemorySource, Options, WeightCache};
use plumsim::workload::parse_workload;

/// `arch` run functionally on `net` with in-memory weights (per layer name) and `inputs`.
fn run_in_memory(
    arch: &plumsim::arch::Arch,
    net: &plumsim::workload::Network,
    weights: HashMap<String, Vec<f32>>,
    inputs: &[Vec<f32>],
) -> plumsim::Result<plumsim::pipeline::FunctionalRun> {
    let source = MemorySource::new("memory", weights);
    let (w, c) = (WeightCache::default(), CodeCache::default());
    pipeline::run_functional(
        arch,
        net,
        &source,
        Caches {
            weights: &w,
            codes: &c,
        },
        Samples {
            values: inputs,
            labels: None,
            reference_logits: None,
            calibration: plumsim::functional::Calibrate::Max,
        },
        None,
        Options::default(),
    )
}

/// `fc`: linear 2 -> 1, weights [1.0, -0.25], int8 per channel; inputs [0.25, -1.0] and
/// [-0.75, 0.25].
fn tiny(accumulator_bits: u32) -> plumsim::pipeline::FunctionalRun {
    let net = parse_workload(
        r#"{"name": "fc", "inputs": {"x": [2, 1, 1]},
            "layers": [{"name": "fc", "op": "linear", "inputs": ["x"], "output": "y", "out_features": 1}]}"#,
        "fc.json",
    )
    .unwrap();
    let arch = common::arch(
        1,
        1,
        "dense",
        &format!("accumulator_bits = {accumulator_bits}"),
        "",
    );
    let weights = HashMap::from([("fc".to_string(), vec![1.0f32, -0.25])]);
    run_in_memory(
        &arch,
        &net,
        weights,
        &[vec![0.25f32, -1.0], vec![-0.75, 0.25]],
    )
    .unwrap()
}

#[test]
fn the_datapath_matches_a_hand_computation() {
    // Weights: scale 1/127, codes [127, round(-31.75) = -32]. Inputs: max |x| = 1, signed,
    // scale 1/127: codes [32, -127] and [round(-95.25) = -95, 32]. Sums: 32*127 + 127*32 =
    // 8128 and -95*127 - 32*32 = -13089. The fp32 outputs 0.5 and -0.8125 make the output
    // signed with scale 0.8125/127; 8128/127^2 = 0.50394 -> code round(78.77) = 79;
    // -13089/127^2 = -0.81152 -> code round(-126.84) = -127.
    let f = tiny(32).evaluation.fidelity;
    let row = &f.layers[0];
    let got1 = 79.0 * 0.8125 / 127.0;
    let noise = (0.5f64 - got1).powi(2);
    let signal = 0.25 + 0.8125f64.powi(2);
    let want = 10.0 * (signal / noise).log10();
    let sqnr = row.output_sqnr_db.unwrap();
    assert!(
        (sqnr - want).abs() < 1e-3,
        "SQNR {sqnr} dB, by hand {want} dB"
    );
    assert_eq!(row.input_zero_fraction, Some(0.0));
    // Ones in |32|, |127|, |95|, |32|: 1 + 7 + 6 + 1 = 15 over 4 activations.
    assert_eq!(row.input_effectual_bits_mean, Some(3.75));
    assert_eq!(row.input_signed, Some(true));
    assert!((row.input_scale.unwrap() - 1.0 / 127.0).abs() < 1e-12);
    assert_eq!(row.accumulator_overflows, 0);
    assert_eq!(row.output_clipped_fraction, 0.0);
    assert_eq!(f.network.inputs, 2);
    assert_eq!(f.network.top1_agreements, 2);
}

#[test]
fn narrow_accumulators_wrap_and_are_counted() {
    // 12-bit accumulators hold -2048..=2047: 8128 wraps to -64, -13089 to -801; both count.
    let (v, over) = plumsim::functional::wrap(&[8128, -13089, 2047, -2048], 12);
    assert_eq!(v, vec![-64, -801, 2047, -2048]);
    assert_eq!(over, 2);
    let f = tiny(12).evaluation.fidelity;
    assert_eq!(f.layers[0].accumulator_overflows, 2);
    assert_eq!(f.network.accumulator_overflows, 2);
    // -64/127^2 -> code round(-0.0039 * 156.3) = -1; -801/127^2 -> -8: far from 0.5 and
    // -0.8125, so the output SQNR collapses.
    assert!(f.layers[0].output_sqnr_db.unwrap() < 1.0);
}

fn cifar_reference(shared: &Path) -> std::path::PathBuf {
    shared.join("images/cifar10/resnet20_fp32_reference.npz")
}

fn summary_fidelity(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["fidelity"].clone()
}

#[test]
fn resnet20_fp32_reproduces_onnxruntime_and_int8_agrees() {
    let Some(shared) = common::shared_or_skip("ResNet-20 on the CIFAR-10 reference inputs") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = common::root();
    let run = |inputs: &Path, out: &Path| {
        let o = common::plumsim(&[
            "run",
            &common::path_str(&root.join("arch/dense_pe16.toml")),
            &common::path_str(&root.join("workloads/resnet20_cifar10.json")),
            "--inputs",
            &common::path_str(inputs),
            "--out",
            &common::path_str(out),
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        summary_fidelity(out)
    };
    let f = run(&cifar_reference(&shared), &dir.path().join("npz"));
    let rel = f["reference_logits_max_rel_error"].as_f64().unwrap();
    assert!(
        rel < 1e-3,
        "fp32 logits {rel} (relative) from onnxruntime's"
    );
    assert_eq!(f["reference_correct"], 20);
    assert_eq!(f["inputs"], 20);
    let agree = f["top1_agreements"].as_u64().unwrap();
    assert!(agree >= 19, "int8 agrees with fp32 on {agree}/20");
    // The PNGs through the workload's transform: the same images, labels from the names.
    let f = run(&shared.join("images/cifar10"), &dir.path().join("png"));
    assert_eq!(f["labelled_inputs"], 20);
    assert_eq!(f["reference_correct"], 20);
    assert!(f["top1_agreements"].as_u64().unwrap() >= 19, "{f}");
}

/// A 3x3 conv 3 -> 4 (padding 1) on 4x4 images, BN-free, then ReLU and a linear 64 -> 3.
const TINY: &str = r#"{"name": "tiny", "inputs": {"x": [3, 4, 4]},
  "defaults": {"weights": {"synthetic": {"seed": 7}}},
  "layers": [
    {"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "c", "out_channels": 4, "kernel": 3, "padding": 1},
    {"name": "relu", "op": "relu", "inputs": ["c"], "output": "r"},
    {"name": "fc", "op": "linear", "inputs": ["r"], "output": "y", "out_features": 3}]}"#;

fn write_png(path: &Path, w: u32, h: u32, colour: png::ColorType, data: &[u8]) {
    let f = std::fs::File::create(path).unwrap();
    let mut e = png::Encoder::new(std::io::BufWriter::new(f), w, h);
    e.set_color(colour);
    e.set_depth(png::BitDepth::Eight);
    e.write_header().unwrap().write_image_data(data).unwrap();
}

fn write_npy(path: &Path, shape: &[u64], data: &[f32]) {
    use npyz::WriterBuilder;
    let f = std::fs::File::create(path).unwrap();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(std::io::BufWriter::new(f))
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

fn pixels(n: usize, seed: u32) -> Vec<u8> {
    (0..n)
        .map(|i| ((i as u32 * 37 + seed * 101) % 251) as u8)
        .collect()
}

#[test]
fn bad_inputs_exit_2_name_the_file_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.json"), TINY).unwrap();
    let arch = common::path_str(&common::root().join("arch/dense_pe16.toml"));
    let case = |name: &str, setup: &dyn Fn(&Path) -> String, extra: &[&str], expect: &[&str]| {
        let case_dir = d.join(name);
        std::fs::create_dir_all(&case_dir).unwrap();
        let inputs = setup(&case_dir);
        let out = d.join(format!("out_{name}"));
        let mut args = vec![
            "run".to_string(),
            arch.clone(),
            common::path_str(&d.join("tiny.json")),
            "--inputs".into(),
            inputs,
            "--out".into(),
            common::path_str(&out),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = common::plumsim(&args);
        let err = common::stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        for e in expect {
            assert!(err.contains(e), "{name}: `{e}` not in: {err}");
        }
        assert!(
            !out.exists(),
            "{name}: a failed run wrote {}",
            out.display()
        );
    };
    case(
        "size",
        &|p| {
            write_png(
                &p.join("a_1.png"),
                8,
                8,
                png::ColorType::Rgb,
                &pixels(8 * 8 * 3, 1),
            );
            common::path_str(p)
        },
        &[],
        &["a_1.png", "8 x 8 pixels", "4 x 4"],
    );
    case(
        "grey",
        &|p| {
            write_png(
                &p.join("g.png"),
                4,
                4,
                png::ColorType::Grayscale,
                &pixels(16, 2),
            );
            common::path_str(p)
        },
        &[],
        &["g.png", "1 channel(s)", "3 channel(s)"],
    );
    case(
        "garbage",
        &|p| {
            std::fs::write(p.join("x.png"), b"not a png").unwrap();
            common::path_str(p)
        },
        &[],
        &["x.png", "cannot decode"],
    );
    case(
        "empty",
        &|p| common::path_str(p),
        &[],
        &["no .png, .jpg or .jpeg files"],
    );
    case(
        "shape",
        &|p| {
            write_npy(&p.join("t.npy"), &[2, 3, 5, 5], &vec![0.5; 150]);
            common::path_str(&p.join("t.npy"))
        },
        &[],
        &["t.npy", "[2, 3, 5, 5]", "[N, 3, 4, 4]"],
    );
    case(
        "labels",
        &|p| {
            write_npy(&p.join("t.npy"), &[2, 3, 4, 4], &vec![0.5; 96]);
            std::fs::write(p.join("labels.txt"), "1\n2\n3\n").unwrap();
            common::path_str(&p.join("t.npy"))
        },
        &[
            "--labels",
            &common::path_str(&d.join("labels").join("labels.txt")),
        ],
        &["labels.txt", "3 labels for 2 inputs"],
    );
}

fn run_tiny(d: &Path, arch: &str, threads: &str, out: &str, extra: &[&str]) -> (String, String) {
    let out = d.join(out);
    let mut args = vec![
        "run",
        arch,
        d.to_str().unwrap(),
        "--inputs",
        "",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        threads,
    ];
    let wl = common::path_str(&d.join("tiny.json"));
    let inputs = common::path_str(&d.join("x.npy"));
    args[2] = &wl;
    args[4] = &inputs;
    args.extend_from_slice(extra);
    let o = common::plumsim(&args);
    assert!(o.status.success(), "{}", common::stderr(&o));
    (
        std::fs::read_to_string(out.join("fidelity.csv")).unwrap(),
        std::fs::read_to_string(out.join("layers.csv")).unwrap(),
    )
}

#[test]
fn functional_runs_are_deterministic_and_real_zeros_drive_the_skipping_engines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.json"), TINY).unwrap();
    // Four inputs, a third of them negative: the ReLU makes real zeros for the linear layer.
    let data: Vec<f32> = (0..4 * 48)
        .map(|i| ((i * 29 % 31) as f32 - 10.0) / 10.0)
        .collect();
    write_npy(&d.join("x.npy"), &[4, 3, 4, 4], &data);
    let skip = common::ArchToml {
        rows: 2,
        cols: 2,
        pe_extra: "lanes = 2\nweights_per_lane = 2\nskip_zero_activations = true",
        ..Default::default()
    }
    .text();
    std::fs::write(d.join("skip.toml"), &skip).unwrap();
    let arch = common::path_str(&d.join("skip.toml"));
    let a = run_tiny(d, &arch, "1", "t1", &[]);
    let b = run_tiny(d, &arch, "2", "t2", &[]);
    assert_eq!(a, b, "results depend on the thread count");
    // The per-cycle reference engine agrees with the fast one on the real zero pattern, and
    // on the real magnitudes for the PEs serial in the activations' bits.
    run_tiny(d, &arch, "2", "t3", &["--reference"]);
    for (name, kind, extra) in [
        ("pragmatic", "pragmatic", ""),
        ("loom", "loom", ""),
        (
            "stripes",
            "bit_serial",
            "serial_operand = \"activation\"\ndynamic_precision = true",
        ),
    ] {
        let text = common::ArchToml {
            rows: 2,
            cols: 2,
            kind,
            pe_extra: &format!("lanes = 2\nweights_per_lane = 2\n{extra}"),
            ..Default::default()
        }
        .text();
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        let a = common::path_str(&path);
        let real = run_tiny(d, &a, "2", &format!("{name}_real"), &["--reference"]).1;
        // Without inputs every activation is at full scale: more cycles.
        let o = common::plumsim(&[
            "run",
            &a,
            &common::path_str(&d.join("tiny.json")),
            "--out",
            &common::path_str(&d.join(format!("{name}_full"))),
            "--format",
            "json",
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        let full: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
        let cycles = |csv_text: &str| -> u64 {
            let mut r = csv::Reader::from_reader(csv_text.as_bytes());
            let h = r.headers().unwrap().clone();
            let i = h.iter().position(|c| c == "compute_cycles").unwrap();
            r.records()
                .map(|x| x.unwrap()[i].parse::<u64>().unwrap())
                .sum()
        };
        assert!(
            cycles(&real) < full["compute_cycles"].as_u64().unwrap(),
            "{name}: real activations {} cycles, full scale {}",
            cycles(&real),
            full["compute_cycles"]
        );
    }
    // The zeros the linear layer skips are the ReLU's: its row reports them.
    let mut r = csv::Reader::from_reader(a.0.as_bytes());
    let h = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col = |row: &csv::StringRecord, name: &str| {
        row[h.iter().position(|c| c == name).unwrap()].to_string()
    };
    let fc = rows.iter().find(|r| &r[0] == "fc").unwrap();
    let zeros: f64 = col(fc, "input_zero_fraction").parse().unwrap();
    assert!(zeros > 0.1 && zeros < 0.9, "fc input zero fraction {zeros}");
    // Timing with real zeros differs from timing with none.
    let dense = run_tiny(d, &arch, "2", "t4", &[]).1;
    let o = common::plumsim(&[
        "run",
        &arch,
        &common::path_str(&d.join("tiny.json")),
        "--out",
        &common::path_str(&d.join("t5")),
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_ne!(
        dense,
        common::stdout(&o),
        "real zeros did not change the timing"
    );
}

/// A sweep that names inputs: every row carries the fidelity columns, points that share
/// their codes share their fidelity, fewer shared bits lose fidelity, the objectives may
/// name the fidelity columns, the result does not depend on the thread count, and the row of
/// a point equals `plumsim run --inputs` of it.
#[test]
fn sweeps_with_inputs_carry_fidelity_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("tiny.json"), TINY).unwrap();
    let data: Vec<f32> = (0..4 * 48)
        .map(|i| ((i * 29 % 31) as f32 - 10.0) / 10.0)
        .collect();
    write_npy(&d.join("x.npy"), &[4, 3, 4, 4], &data);
    let root = common::root();
    let spec = format!(
        r#"base = "{base}"
workloads = ["tiny.json"]
inputs = "x.npy"
[axes]
"quant.shared_bits" = [1, 3]
"array.rows" = [8, 16]
[tie]
"array.cols" = "array.rows"
[objectives]
minimize = ["energy_pj"]
maximize = ["logit_sqnr_db"]
"#,
        base = common::path_str(&root.join("arch/swis_pe16.toml"))
    );
    std::fs::write(d.join("s.toml"), spec).unwrap();
    let run = |jobs: &str, out: &str| {
        let o = common::plumsim(&[
            "sweep",
            &common::path_str(&d.join("s.toml")),
            "--out",
            &common::path_str(&d.join(out)),
            "--jobs",
            jobs,
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        std::fs::read_to_string(d.join(out)).unwrap()
    };
    let a = run("1", "a.csv");
    assert_eq!(
        a,
        run("2", "b.csv"),
        "the sweep depends on the thread count"
    );
    let mut r = csv::Reader::from_reader(a.as_bytes());
    let h = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    let col = |row: &csv::StringRecord, name: &str| -> String {
        row[h
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name}"))]
        .to_string()
    };
    let sqnr = |i: usize| col(&rows[i], "logit_sqnr_db").parse::<f64>().unwrap();
    // Points 0, 1: N = 1 on 8x8 and 16x16; points 2, 3: N = 3.
    assert_eq!(sqnr(0), sqnr(1), "the array size changed the fidelity");
    assert_eq!(sqnr(2), sqnr(3));
    assert!(
        sqnr(2) > sqnr(0),
        "N = 3 ({}) not above N = 1 ({})",
        sqnr(2),
        sqnr(0)
    );
    assert_eq!(col(&rows[0], "inputs"), "4");
    // The row of point 3 (16x16, N = 3: the shipped design) is what `run --inputs` reports.
    let o = common::plumsim(&[
        "run",
        &common::path_str(&root.join("arch/swis_pe16.toml")),
        &common::path_str(&d.join("tiny.json")),
        "--inputs",
        &common::path_str(&d.join("x.npy")),
        "--out",
        &common::path_str(&d.join("single")),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&common::stdout(&o)).unwrap();
    let single = v["fidelity"]["logit_sqnr_db"].as_f64().unwrap();
    assert_eq!(single, sqnr(3), "sweep row and run disagree");
    assert_eq!(v["total_cycles"].to_string(), col(&rows[3], "total_cycles"));
}

/// Batch norm folded into the convolutions' sums or quantized, and an fp16 vector unit: each
/// changes the datapath (another logit SQNR than the separate fp32 batch norm) and keeps
/// ResNet-20's int8 agreement.
#[test]
fn batch_norm_modes_and_the_vector_format_change_the_datapath() {
    let Some(shared) = common::shared_or_skip("ResNet-20's batch-norm modes on real inputs") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = common::root();
    let text = std::fs::read_to_string(root.join("workloads/resnet20_cifar10.json"))
        .unwrap()
        .replace(
            "../../shared/weights/",
            &format!("{}/", common::path_str(&shared.join("weights"))),
        );
    let arch16 = std::fs::read_to_string(root.join("arch/dense_pe16.toml")).unwrap()
        + "\n[vector]\nprecision = \"fp16\"\n";
    std::fs::write(dir.path().join("fp16.toml"), arch16).unwrap();
    let run = |mode: Option<&str>, arch: &Path, name: &str| -> f64 {
        let wl = match mode {
            Some(m) => text.replacen("{", &format!("{{\n  \"batch_norm\": \"{m}\","), 1),
            None => text.clone(),
        };
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, wl).unwrap();
        let out = dir.path().join(name);
        let o = common::plumsim(&[
            "run",
            &common::path_str(arch),
            &common::path_str(&path),
            "--inputs",
            &common::path_str(&cifar_reference(&shared)),
            "--out",
            &common::path_str(&out),
        ]);
        assert!(o.status.success(), "{name}: {}", common::stderr(&o));
        let f = summary_fidelity(&out);
        assert!(f["top1_agreements"].as_u64().unwrap() >= 19, "{name}: {f}");
        f["logit_sqnr_db"].as_f64().unwrap()
    };
    let dense = root.join("arch/dense_pe16.toml");
    let separate = run(None, &dense, "separate");
    let folded = run(Some("folded"), &dense, "folded");
    let quantized = run(Some("quantized"), &dense, "quantized");
    let fp16 = run(None, &dir.path().join("fp16.toml"), "fp16");
    for (what, v) in [("folded", folded), ("quantized", quantized), ("fp16", fp16)] {
        assert_ne!(
            v, separate,
            "{what} gave the separate fp32 batch norm's SQNR"
        );
    }
}

/// A network with two outputs is refused by name (which one to compare is not guessed), and
/// a PReLU without parameters is run with PyTorch's initial slope and said so.
#[test]
fn two_outputs_are_refused_and_defaults_are_stated() {
    let arch = common::arch(1, 1, "dense", "", "");
    let run = |text: &str| {
        let net = parse_workload(text, "n.json").unwrap();
        let weights = HashMap::from([("fc".to_string(), vec![1.0f32, -0.25])]);
        run_in_memory(&arch, &net, weights, &[vec![0.25f32, -1.0]])
    };
    let two = r#"{"name": "two", "inputs": {"x": [2, 1, 1]},
        "layers": [{"name": "fc", "op": "linear", "inputs": ["x"], "output": "y", "out_features": 1},
                   {"name": "r", "op": "relu", "inputs": ["x"], "output": "z"}]}"#;
    match run(two) {
        Err(plumsim::Error::Unsupported(m)) => {
            assert!(m.contains("y, z") || m.contains("z, y"), "{m}")
        }
        other => panic!("two outputs ran: {:?}", other.map(|_| ())),
    }
    let prelu = r#"{"name": "p", "inputs": {"x": [2, 1, 1]},
        "layers": [{"name": "fc", "op": "linear", "inputs": ["x"], "output": "y", "out_features": 1},
                   {"name": "act", "op": "prelu", "inputs": ["y"], "output": "z"}]}"#;
    let f = run(prelu).unwrap();
    assert!(
        f.notes.iter().any(|n| n.contains("slope 0.25")),
        "{:?}",
        f.notes
    );
}
