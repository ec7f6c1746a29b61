//! What `plumsim validate` accepts, `plumsim run` runs: shipped architectures and the fixture
//! workloads, with fields mutated to edge and out-of-range values, are validated the way
//! `validate` does (the whole file, then every check of the pipeline); whatever passes must
//! then run end to end without a panic and without an error validation should have caught.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use proptest::prelude::*;

use plumsim::io::FileSource;
use plumsim::pipeline::{self, Caches, CodeCache, Options, WeightCache};

const INTS: [i64; 16] = [
    -1,
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    9,
    16,
    17,
    33,
    64,
    65,
    1025,
    1 << 40,
];
const FLOATS: [f64; 10] = [
    -1.0,
    0.0,
    0.05,
    0.5,
    0.99,
    1.0,
    7.0,
    1.0e9,
    f64::NAN,
    f64::INFINITY,
];

/// A field to mutate and the values it may take.
#[derive(Debug, Clone, Copy)]
enum Values {
    Int,
    Float,
    Bool,
    Str(&'static [&'static str]),
    /// Every registered PE kind, and one that is not.
    Kinds,
    /// Every weight scheme, and one that is not.
    Schemes,
}

/// The names a `Kinds` or `Schemes` field takes: the registry's, plus one unknown.
fn names(v: Values) -> Vec<&'static str> {
    match v {
        Values::Kinds => plumsim::pe::kind_names().to_vec(),
        Values::Schemes => plumsim::quant::spec::SCHEME_NAMES.to_vec(),
        Values::Str(s) => return s.to_vec(),
        _ => Vec::new(),
    }
    .into_iter()
    .chain(["no_such_name"])
    .collect()
}

/// Architecture fields by dotted path.
const ARCH_FIELDS: &[(&str, Values)] = &[
    ("clock_mhz", Values::Float),
    ("array.rows", Values::Int),
    ("array.cols", Values::Int),
    ("array.dataflow", Values::Str(&["ws", "os", "is", "rs"])),
    (
        "array.sync_scope",
        Values::Str(&["lane", "pe", "row", "column", "array", "chip"]),
    ),
    ("array.schedule", Values::Bool),
    ("array.tile_m", Values::Bool),
    ("pe.kind", Values::Kinds),
    ("pe.weight_bits", Values::Int),
    ("pe.activation_bits", Values::Int),
    ("pe.accumulator_bits", Values::Int),
    ("pe.lanes", Values::Int),
    ("pe.weights_per_lane", Values::Int),
    (
        "pe.serial_operand",
        Values::Str(&["weight", "activation", "both"]),
    ),
    ("pe.encoding", Values::Str(&["binary", "csd", "booth"])),
    ("pe.exploit_repetition", Values::Bool),
    ("pe.skip_zero_activations", Values::Bool),
    ("buffers.input.capacity_bytes", Values::Int),
    ("buffers.weight.capacity_bytes", Values::Int),
    ("buffers.output.capacity_bytes", Values::Int),
    ("buffers.weight.word_bits", Values::Int),
    ("buffers.input.double_buffered", Values::Bool),
    ("dram.bandwidth_bytes_per_cycle", Values::Float),
    ("dram.ideal", Values::Bool),
    (
        "dram.type",
        Values::Str(&["lpddr4", "hbm2", "ddr3", "ddr5"]),
    ),
    ("quant.scheme", Values::Schemes),
    ("quant.weight_bits", Values::Int),
    ("quant.group_size", Values::Int),
    ("quant.shared_bits", Values::Int),
    ("quant.max_shared_bits", Values::Int),
    ("quant.error_bound", Values::Float),
    ("quant.threshold", Values::Float),
    ("vector.lanes", Values::Int),
    (
        "vector.precision",
        Values::Str(&["fp32", "fp16", "int8", "int1", "fp8"]),
    ),
    ("vector.overlap", Values::Bool),
    ("energy.int_add_8b_pj", Values::Float),
];

/// Workload fields by path (JSON object keys; `layers.0` is the first layer).
const WORKLOAD_FIELDS: &[(&str, Values)] = &[
    ("batch", Values::Int),
    ("defaults.quant.scheme", Values::Schemes),
    ("defaults.quant.weight_bits", Values::Int),
    ("defaults.quant.group_size", Values::Int),
    ("defaults.quant.shared_bits", Values::Int),
    ("defaults.quant.threshold", Values::Float),
    ("defaults.quant.activation_bits", Values::Int),
    ("defaults.activations.zero_density", Values::Float),
    ("layers.0.kernel", Values::Int),
    ("layers.0.stride", Values::Int),
    ("layers.0.padding", Values::Int),
    ("layers.0.out_channels", Values::Int),
    ("layers.0.groups", Values::Int),
    ("layers.0.quant.scheme", Values::Schemes),
    (
        "layers.0.weights.file",
        Values::Str(&["w.npz", "missing.npz", "a.npz"]),
    ),
    (
        "layers.0.weights.tensor",
        Values::Str(&["conv.weight", "x", "nope"]),
    ),
    (
        "layers.0.activations.file",
        Values::Str(&["a.npz", "missing.npz", "w.npz"]),
    ),
    (
        "layers.0.activations.tensor",
        Values::Str(&["x", "conv.weight", "nope"]),
    ),
];

const WORKLOADS: [&str; 5] = [
    "tiny_conv.json",
    "tiny_gemm.json",
    "tiny_resblock.json",
    "depthwise.json",
    FILE_BACKED,
];

/// tiny_conv with its weights and its input activations read from `.npz` files.
const FILE_BACKED: &str = "file-backed tiny_conv";

/// The folder holding the file-backed workload, made once per test process.
fn file_backed() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let w: Vec<f32> = (0..8 * 4 * 9)
            .map(|i| ((i * 37 % 19) as f32 - 9.0) / 9.0)
            .collect();
        common::write_npz(&dir.join("w.npz"), "conv.weight", &[8, 4, 3, 3], &w);
        let a: Vec<f32> = (0..4 * 8 * 8).map(|i| (i % 3) as f32).collect();
        common::write_npz(&dir.join("a.npz"), "x", &[4, 8, 8], &a);
        let text =
            std::fs::read_to_string(common::root().join("tests/fixtures/workloads/tiny_conv.json"))
                .unwrap();
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        doc["layers"][0]["weights"] = serde_json::json!({"file": "w.npz", "tensor": "conv.weight"});
        doc["layers"][0]["activations"] = serde_json::json!({"file": "a.npz", "tensor": "x"});
        std::fs::write(dir.join("w.json"), doc.to_string()).unwrap();
        dir.join("w.json")
    })
    .clone()
}

fn toml_value(v: Values, i: usize) -> toml::Value {
    match v {
        Values::Int => toml::Value::Integer(INTS[i % INTS.len()]),
        Values::Float => toml::Value::Float(FLOATS[i % FLOATS.len()]),
        Values::Bool => toml::Value::Boolean(i % 2 == 0),
        Values::Str(_) | Values::Kinds | Values::Schemes => {
            let n = names(v);
            toml::Value::String(n[i % n.len()].into())
        }
    }
}

fn json_value(v: Values, i: usize) -> serde_json::Value {
    match v {
        Values::Int => serde_json::json!(INTS[i % INTS.len()]),
        // JSON has no NaN or infinity: those become out-of-range finite values.
        Values::Float => {
            let f = FLOATS[i % FLOATS.len()];
            serde_json::json!(if f.is_finite() { f } else { -7.5 })
        }
        Values::Bool => serde_json::json!(i % 2 == 0),
        Values::Str(_) | Values::Kinds | Values::Schemes => {
            let n = names(v);
            serde_json::json!(n[i % n.len()])
        }
    }
}

fn set_json(doc: &mut serde_json::Value, path: &str, value: serde_json::Value) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = doc;
    for p in &parts[..parts.len() - 1] {
        cur = match p.parse::<usize>() {
            Ok(i) => match cur.get_mut(i) {
                Some(c) => c,
                None => return,
            },
            Err(_) => {
                if !cur.is_object() {
                    return;
                }
                cur.as_object_mut()
                    .unwrap()
                    .entry(p.to_string())
                    .or_insert_with(|| serde_json::json!({}))
            }
        };
    }
    if let Some(o) = cur.as_object_mut() {
        o.insert(parts[parts.len() - 1].to_string(), value);
    }
}

/// `validate`, then `run`, on the mutated pair; returns what happened.
fn validate_then_run(
    arch: usize,
    workload: usize,
    arch_edits: &[(usize, usize)],
    workload_edits: &[(usize, usize)],
) -> Result<&'static str, String> {
    let (arch_name, arch_text) = plumsim::shipped::ARCHS[arch % plumsim::shipped::ARCHS.len()];
    let mut table: toml::Table = toml::from_str(arch_text).unwrap();
    for &(f, v) in arch_edits {
        let (path, values) = ARCH_FIELDS[f % ARCH_FIELDS.len()];
        plumsim::sweep::spec::set_path(&mut table, path, toml_value(values, v)).unwrap();
    }
    let wl_path: PathBuf = match WORKLOADS[workload % WORKLOADS.len()] {
        FILE_BACKED => file_backed(),
        name => common::root().join("tests/fixtures/workloads").join(name),
    };
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&wl_path).unwrap()).unwrap();
    for &(f, v) in workload_edits {
        let (path, values) = WORKLOAD_FIELDS[f % WORKLOAD_FIELDS.len()];
        set_json(&mut doc, path, json_value(values, v));
    }
    let what = format!(
        "{arch_name} with {arch_edits:?}, {wl_path:?} with {workload_edits:?}\n{table}\n{doc}"
    );
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Ok(arch) = plumsim::design::arch_from_table(table.clone(), arch_name) else {
            return Ok("arch rejected");
        };
        let Ok(net) = plumsim::workload::parse_workload(&doc.to_string(), "w.json") else {
            return Ok("workload rejected");
        };
        let source = FileSource::new(&wl_path, None);
        let (w, c) = (WeightCache::default(), CodeCache::default());
        let caches = Caches {
            weights: &w,
            codes: &c,
        };
        let opts = Options::default();
        if pipeline::check_design(&arch, &net, &source, caches, opts, "w.json").is_err() {
            return Ok("pair rejected");
        }
        match pipeline::run_design(&arch, &net, &source, caches, opts) {
            Ok(_) => Ok("ran"),
            Err(e) => Err(format!("validate accepted it, run failed: {e}")),
        }
    }));
    match outcome {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(format!("{e}\n{what}")),
        Err(_) => Err(format!("run panicked\n{what}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn what_validate_accepts_runs_without_a_panic(
        arch in 0usize..64,
        workload in 0usize..4,
        arch_edits in prop::collection::vec((0usize..64, 0usize..64), 0..3),
        workload_edits in prop::collection::vec((0usize..64, 0usize..64), 0..3),
    ) {
        if let Err(e) = validate_then_run(arch, workload, &arch_edits, &workload_edits) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// The mutations do reach the engine: the unmutated pairs all run, and some mutated ones too.
#[test]
fn unmutated_pairs_run() {
    for a in 0..plumsim::shipped::ARCHS.len() {
        for w in 0..WORKLOADS.len() {
            let r = validate_then_run(a, w, &[], &[]);
            assert!(r.is_ok(), "{r:?}");
        }
    }
    // A 4-lane SWIS PE whose groups are 8 wide is rejected by validate, not by run.
    let swis = plumsim::shipped::ARCHS
        .iter()
        .position(|(n, _)| *n == "swis_pe16.toml")
        .unwrap();
    let lanes = ARCH_FIELDS
        .iter()
        .position(|(p, _)| *p == "pe.lanes")
        .unwrap();
    let v4 = INTS.iter().position(|&v| v == 4).unwrap();
    assert_eq!(
        validate_then_run(swis, 0, &[(lanes, v4)], &[]),
        Ok("pair rejected")
    );
}

/// Over many single mutations, a fair share of the mutated pairs is accepted and runs (the
/// property above is not met by rejecting everything).
#[test]
fn many_mutated_pairs_run() {
    let mut counts = std::collections::BTreeMap::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % 1024) as usize
    };
    for _ in 0..300 {
        let (a, w) = (next(), next());
        let edit = [(next(), next())];
        let r = if next() % 2 == 0 {
            validate_then_run(a, w, &edit, &[])
        } else {
            validate_then_run(a, w, &[], &edit)
        };
        *counts
            .entry(r.unwrap_or_else(|e| panic!("{e}")))
            .or_insert(0) += 1;
    }
    println!("{counts:?}");
    assert!(counts.get("ran").copied().unwrap_or(0) >= 60, "{counts:?}");
    assert!(counts.len() >= 3, "{counts:?}");
}

/// A layer whose im2col input of zero flags would not fit in memory is refused by validate
/// (it once aborted `run` on a 13 GB allocation).
#[test]
fn validate_refuses_an_im2col_mask_too_large_to_hold() {
    let arch = common::ArchToml {
        rows: 16,
        cols: 16,
        pe_extra: "lanes = 64\nweights_per_lane = 64\nskip_zero_activations = true",
        rest: "[buffers.input]\ncapacity_bytes = 1073741824\n[buffers.weight]\ncapacity_bytes = 1073741824\n\
               [buffers.output]\ncapacity_bytes = 1073741824\n[dram]\nideal = true\n",
        ..Default::default()
    }
    .arch();
    let net = plumsim::workload::parse_workload(
        r#"{"name": "big", "batch": 16, "inputs": {"x": [64, 512, 512]},
            "layers": [{"name": "c", "op": "conv2d", "inputs": ["x"], "output": "y",
                        "out_channels": 1, "kernel": 7, "padding": 3}]}"#,
        "big.json",
    )
    .unwrap();
    let source = FileSource::new(std::path::Path::new("big.json"), None);
    let (w, c) = (WeightCache::default(), CodeCache::default());
    let caches = Caches {
        weights: &w,
        codes: &c,
    };
    let err = pipeline::check_design(&arch, &net, &source, caches, Options::default(), "big")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("im2col input") && err.contains("too large"),
        "{err}"
    );
    let err = pipeline::run_design(&arch, &net, &source, caches, Options::default())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("im2col input"), "{err}");
}
