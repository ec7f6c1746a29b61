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

/// Like [`shared`], printing a plain skip note when the folder is absent.
pub fn shared_or_skip(what: &str) -> Option<PathBuf> {
    let s = shared();
    if s.is_none() {
        println!("skipping {what}: ../shared not present beside the checkout");
    }
    s
}

pub fn plumsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_plumsim"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run plumsim")
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
