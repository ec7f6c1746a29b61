//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout, if present (CI has it; a user's fresh clone may not).
pub fn shared() -> Option<PathBuf> {
    let p = root().join("..").join("shared");
    if p.is_dir() {
        Some(p)
    } else {
        None
    }
}

/// True under CI (`CI=true`), where nothing that needs `../shared` may be skipped.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Like [`shared`], printing a plain skip note when the folder is absent; under `CI=true`
/// its absence is a failure.
pub fn shared_or_skip(what: &str) -> Option<PathBuf> {
    let s = shared();
    if s.is_none() {
        assert!(
            !ci(),
            "CI=true but ../shared is not beside the checkout: {what} cannot be skipped in CI"
        );
        println!("skipping {what}: ../shared not present beside the checkout");
    }
    s
}

/// Compare `actual` with the golden file `tests/golden/<rel>`; with `PLUMSIM_BLESS=1` write
/// it instead. Returns a failure message, if any.
pub fn golden(rel: &str, actual: &str) -> Option<String> {
    let path = root().join("tests/golden").join(rel);
    if std::env::var("PLUMSIM_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{rel} differs from tests/golden/{rel} (PLUMSIM_BLESS=1 cargo test rewrites it after a deliberate change):\n--- expected\n{expected}\n--- actual\n{actual}"
        )),
        Err(_) => Some(format!(
            "no golden file tests/golden/{rel} (PLUMSIM_BLESS=1 cargo test writes it)"
        )),
    }
}

pub fn plumsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumsim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run plumsim")
}

/// Write a sweep spec `name` into `dir`; its path.
pub fn write_spec(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// `plumsim sweep SPEC --out OUT --quiet` and `extra`.
pub fn sweep(spec: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep",
        spec.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    plumsim(&args)
}

/// A file's text (the path in the panic message).
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A CSV's rows as header -> value maps.
pub fn rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            h.iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The command succeeded (else its stderr is shown).
pub fn ok(o: &Output, what: &str) {
    assert!(o.status.success(), "{what} failed:\n{}", stderr(o));
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

// ---------------------------------------------------------------- fixture builders

use plumsim::arch::Arch;
use plumsim::quant::{quantize, QuantizedTensor};
use plumsim::synth::synthetic_weights;
use plumsim::workload::{parse_workload, Distribution, Network};

/// 1 MiB buffers with unlimited ports and an ideal DRAM: nothing stalls, M is never tiled
/// for small layers.
pub const BIG_MEMORY: &str = concat!(
    "[buffers.input]\ncapacity_bytes = 1048576\n",
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n",
    "[buffers.weight]\ncapacity_bytes = 1048576\n",
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n",
    "[buffers.output]\ncapacity_bytes = 1048576\n",
    "read_words_per_cycle = \"unlimited\"\nwrite_words_per_cycle = \"unlimited\"\n",
    "[dram]\nideal = true\n"
);

/// Architecture TOML of a `rows x cols` array of `kind` PEs: `[array]` lines `array_extra`,
/// `[pe]` lines `pe_extra`, then `rest` (buffers, DRAM, energy; [`BIG_MEMORY`] by default).
pub struct ArchToml<'a> {
    pub rows: u32,
    pub cols: u32,
    pub dataflow: &'a str,
    pub kind: &'a str,
    pub pe_extra: &'a str,
    pub array_extra: &'a str,
    pub rest: &'a str,
}

impl Default for ArchToml<'_> {
    fn default() -> Self {
        ArchToml {
            rows: 1,
            cols: 1,
            dataflow: "ws",
            kind: "dense",
            pe_extra: "",
            array_extra: "",
            rest: BIG_MEMORY,
        }
    }
}

impl ArchToml<'_> {
    pub fn text(&self) -> String {
        format!(
            "name = \"t\"\n[array]\nrows = {}\ncols = {}\ndataflow = \"{}\"\n{}\n[pe]\nkind = \"{}\"\n{}\n{}\n",
            self.rows, self.cols, self.dataflow, self.array_extra, self.kind, self.pe_extra, self.rest
        )
    }

    /// The validated architecture (panics with the problems when it is not valid).
    pub fn arch(&self) -> Arch {
        let text = self.text();
        plumsim::design::parse_arch(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
    }
}

/// A `rows x cols` weight-stationary array of `kind` PEs with big buffers and ideal DRAM.
pub fn arch(rows: u32, cols: u32, kind: &str, pe_extra: &str, array_extra: &str) -> Arch {
    ArchToml {
        rows,
        cols,
        kind,
        pe_extra,
        array_extra,
        ..ArchToml::default()
    }
    .arch()
}

/// One `[m, k] x [k, n]` matmul layer quantized with `quant` (JSON), inputs zero with
/// probability `zero_density`.
pub fn gemm_net_zeros(m: u64, k: u64, n: u64, quant: &str, zero_density: f64) -> Network {
    let text = format!(
        r#"{{"name": "g", "inputs": {{"a": [{m}, {k}]}}, "defaults": {{"quant": {quant}, "activations": {{"zero_density": {zero_density}}}}},
            "layers": [{{"name": "mm", "op": "matmul", "inputs": ["a"], "output": "y", "out_features": {n}}}]}}"#
    );
    parse_workload(&text, "g.json").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// [`gemm_net_zeros`] without zero activations.
pub fn gemm_net(m: u64, k: u64, n: u64, quant: &str) -> Network {
    gemm_net_zeros(m, k, n, quant, 0.0)
}

/// Every weight layer's synthetic Laplace weights (seed `seed`), quantized with its scheme.
pub fn codes_for(net: &Network, seed: u64) -> Vec<Option<QuantizedTensor>> {
    net.layers
        .iter()
        .map(|l| {
            let shape = l.weight_shape()?;
            let w = synthetic_weights(&shape, Distribution::Laplace, seed, None);
            Some(quantize(&w, &shape, &l.quant.scheme))
        })
        .collect()
}

/// The first shipped design (by file name) of `kind` on the weight-stationary dataflow: every
/// registered kind ships one.
pub fn shipped_design_of(kind: plumsim::pe::PeKind) -> Arch {
    plumsim::shipped::ARCHS
        .iter()
        .filter_map(|(name, _)| plumsim::shipped::arch(name).ok())
        .find(|a| a.pe.kind == kind && a.dataflow == plumsim::arch::Dataflow::Ws)
        .unwrap_or_else(|| {
            panic!(
                "no shipped weight-stationary design of kind `{}`",
                kind.as_str()
            )
        })
}

/// Write one f32 array `name` of `shape` into a new `.npz` file.
pub fn write_npz(path: &Path, name: &str, shape: &[u64], data: &[f32]) {
    use npyz::WriterBuilder;
    let mut npz = npyz::npz::NpzWriter::create(path).unwrap();
    let mut w = npz
        .array::<f32>(name, npyz::zip::write::FileOptions::default())
        .unwrap()
        .default_dtype()
        .shape(shape)
        .begin_nd()
        .unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
    npz.zip_writer().finish().unwrap();
}
