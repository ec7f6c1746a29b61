//! The IO edge: reading input files and writing result files atomically.
//!
//! Everything here turns paths into the pure parsers' inputs; the core never touches files.

use std::path::{Path, PathBuf};

use crate::arch::Arch;
use crate::design::parse_arch;
use crate::error::{Error, Problem, Result};
use crate::workload::{parse_workload, Network};

pub mod files;
pub mod inputs;
pub mod onnx;
pub mod output;
pub mod source;
pub mod weights;

pub use inputs::{load_inputs, InputSet};
pub use output::{write_all_atomic, write_result_dir};
pub use source::FileSource;

/// Read a text file to a string, naming it on failure: only a regular file (a FIFO, a device
/// or a directory is refused before it is opened), of at most [`files::MAX_TEXT_BYTES`],
/// in UTF-8 (a bad byte is an [`Error::Parse`] at its line and column).
pub fn read_text(path: &Path) -> Result<String> {
    files::read_text(path)
}

fn has_extension(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Load and validate an architecture TOML file.
pub fn load_arch(path: &Path) -> Result<Arch> {
    read_arch(path).map(|(_, arch)| arch)
}

/// [`load_arch`], with the file's text (for callers that keep the TOML, e.g. to edit it by
/// field path).
pub fn read_arch(path: &Path) -> Result<(String, Arch)> {
    if has_extension(path, &["json", "csv"]) {
        return Err(Error::invalid(
            path.display().to_string(),
            vec![
                Problem::new("file", "is a workload (.json or .csv), not an architecture")
                    .with_help(
                        "the architecture TOML comes first: plumsim run ARCH.toml WORKLOAD.json",
                    ),
            ],
        ));
    }
    let text = read_text(path)?;
    let arch = parse_arch(&text, &path.display().to_string())?;
    Ok((text, arch))
}

/// How to read a workload beyond its file: the shapes of an ONNX model's inputs
/// (`--input-shape NAME=1,3,224,224`), batch first.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub input_shapes: std::collections::BTreeMap<String, Vec<u64>>,
}

/// Load and validate a workload: plumsim JSON, a SCALE-Sim topology CSV (by `.csv` extension)
/// or an ONNX model (`.onnx`, imported as `plumsim import onnx` does; its weights are read from
/// the model, its warnings printed to stderr).
pub fn load_workload(path: &Path) -> Result<Network> {
    load_workload_with(path, &LoadOptions::default())
}

/// [`load_workload`] with [`LoadOptions`].
pub fn load_workload_with(path: &Path, options: &LoadOptions) -> Result<Network> {
    if has_extension(path, &["onnx"]) {
        let imported = onnx::import_file(path, &onnx_options(path, options, false))?;
        for w in &imported.warnings {
            eprintln!("warning: {}: {w}", path.display());
        }
        return Ok(imported.network);
    }
    if has_extension(path, &["toml"]) {
        return Err(Error::invalid(
            path.display().to_string(),
            vec![
                Problem::new("file", "is an architecture (.toml), not a workload")
                    .with_help("the workload (JSON, or a SCALE-Sim topology CSV) comes second: plumsim run ARCH.toml WORKLOAD.json"),
            ],
        ));
    }
    let text = read_text(path)?;
    let origin = path.display().to_string();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        crate::scalesim::parse_topology(&text, &origin, &name)
    } else {
        parse_workload(&text, &origin)
    }
}

/// How a `.onnx` workload is imported to be run directly: named after its file, its weights
/// read from the model itself (`weights_only`: for the weight loader, dynamic dimensions
/// nobody gave are 1, as weights do not depend on them).
pub fn onnx_options(
    path: &Path,
    options: &LoadOptions,
    weights_only: bool,
) -> crate::onnx::ImportOptions {
    crate::onnx::ImportOptions {
        name: path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into()),
        weights_file: path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        input_shapes: options.input_shapes.clone(),
        unresolved_as_one: weights_only,
    }
}

/// `NAME=1,3,224,224` as a name and a shape.
pub fn parse_input_shape(text: &str) -> std::result::Result<(String, Vec<u64>), String> {
    let (name, dims) = text
        .rsplit_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=DIM,DIM,... (e.g. input=1,3,224,224)"))?;
    let dims: Vec<u64> = dims
        .split(',')
        .map(|d| {
            d.trim()
                .parse::<u64>()
                .ok()
                .filter(|&d| (1..=crate::workload::MAX_DIM).contains(&d))
        })
        .collect::<Option<_>>()
        .ok_or_else(|| {
            format!(
                "`{text}`: every dimension must be a whole number from 1 to {}",
                crate::workload::MAX_DIM
            )
        })?;
    if name.is_empty() || dims.is_empty() {
        return Err(format!(
            "`{text}` is not NAME=DIM,DIM,... (e.g. input=1,3,224,224)"
        ));
    }
    Ok((name.to_string(), dims))
}

/// Whether the trained weights the shipped ResNet-20 workloads read are present
/// ([`crate::shipped::shared_weights_dir`]).
pub fn shared_weights_present() -> bool {
    crate::shipped::shared_weights_dir()
        .join("resnet20_cifar10_akamaster_fp32.npz")
        .is_file()
}

/// Resolve a path written inside a workload file relative to that file's folder.
pub fn resolve_relative(workload_path: &Path, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        workload_path.parent().unwrap_or(Path::new(".")).join(p)
    }
}

/// The memory this machine can still give, in bytes (`MemAvailable` of `/proc/meminfo`;
/// `None` where the system does not say).
pub fn available_memory_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Refuse a run whose memory estimate exceeds what the machine has free, before anything is
/// allocated (`what` names the run in the message).
pub fn check_memory(what: &str, needed_bytes: u128) -> Result<()> {
    let Some(free) = available_memory_bytes() else {
        return Ok(());
    };
    if needed_bytes > free {
        let gib = |b: u128| b as f64 / (1u64 << 30) as f64;
        return Err(Error::invalid(
            what,
            vec![Problem::new(
                "memory",
                format!(
                    "the run would hold about {:.1} GiB (weights, codes and per-activation \
                     state), and this machine has {:.1} GiB free",
                    gib(needed_bytes),
                    gib(free)
                ),
            )
            .with_help("a smaller workload or batch, or a machine with more memory")],
        ));
    }
    Ok(())
}

/// Set the process's allocator for the pipeline's pattern: layer-sized buffers (float
/// weights, codes, magnitudes; up to half a gigabyte for Llama-2-7B's LM head) allocated and
/// freed layer after layer, on whichever worker thread runs the layer. Call it first, before
/// any thread starts (the binary and the benchmarks do).
///
/// glibc maps each allocation above its threshold (128 KiB, raised up to 32 MiB as such
/// blocks are freed) freshly and unmaps it on free, so a layer pays a page fault for every
/// page the previous layer just returned. Below 256 MiB they now come from the heap and are
/// reused, and the heap keeps up to 1 GiB of free memory before trimming (a Llama-2-7B FFN
/// layer's weights and codes, freed together, are 270 MB: a lower bound gives them back to
/// the system after every layer and faults them in again for the next; memory kept free never
/// exceeds the peak the run reached before it). A worker thread's
/// own arena cannot grow past 64 MiB and maps anything larger whatever the threshold (a
/// Llama-2-7B FFN layer's weights are 180 MB), so every thread allocates from the one main
/// arena. On a Llama-2-7B decode step this removes 8.4 million of 8.7 million page faults and
/// a sixth of the CPU time, peak memory unchanged (measured with `/usr/bin/time`; small allocations
/// are few and not contended).
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets three of glibc's allocation parameters; called before any
    // thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
