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
pub mod source;
pub mod weights;

pub use inputs::{load_inputs, InputSet};
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
    parse_arch(&read_text(path)?, &path.display().to_string())
}

/// Load and validate a workload: plumsim JSON, or a SCALE-Sim topology CSV (by `.csv` extension).
pub fn load_workload(path: &Path) -> Result<Network> {
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

/// Write files all-or-nothing: each is written to a temporary sibling, and only when every
/// one is written are they renamed into place. A failure leaves no half-written result.
pub fn write_all_atomic(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let io = |path: &Path, source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let mut temps = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            }
        }
        let tmp = path.with_extension(format!(
            "{}.tmp-plumsim",
            path.extension()
                .map(|e| e.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        if let Err(e) = std::fs::write(&tmp, bytes) {
            for t in &temps {
                let _ = std::fs::remove_file(t);
            }
            let _ = std::fs::remove_file(&tmp);
            return Err(io(&tmp, e));
        }
        temps.push(tmp);
    }
    for (tmp, (path, _)) in temps.iter().zip(files) {
        std::fs::rename(tmp, path).map_err(|e| io(path, e))?;
    }
    Ok(())
}
