//! Embeds the shipped designs (`arch/*.toml`) and workloads (`workloads/*.json`) in the
//! binary: writes `$OUT_DIR/shipped.rs`, which `sim/shipped.rs` includes. A file added to
//! either folder is built in without editing any list.

use std::fmt::Write as _;
use std::path::Path;

fn files(dir: &str, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    v.sort();
    v
}

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut out = String::new();
    for (name, dir, ext) in [
        ("ARCHS", "arch", ".toml"),
        ("WORKLOADS", "workloads", ".json"),
    ] {
        println!("cargo:rerun-if-changed={dir}");
        writeln!(
            out,
            "/// `(file name, text)` of every `{dir}/*{ext}`, sorted by name."
        )
        .unwrap();
        writeln!(out, "pub static {name}: &[(&str, &str)] = &[").unwrap();
        for f in files(dir, ext) {
            let path = Path::new(&root).join(dir).join(&f);
            println!("cargo:rerun-if-changed={}", path.display());
            writeln!(
                out,
                "    ({f:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "];").unwrap();
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("shipped.rs");
    std::fs::write(dest, out).expect("write shipped.rs");
}
