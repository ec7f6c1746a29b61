//! The shipped designs (`arch/`) and workloads (`workloads/`), embedded in the binary so that
//! `plumsim compare` and `plumsim reproduce` do not depend on the working directory.
//!
//! Paths written inside a shipped workload (the trained weights in `../shared/weights`)
//! resolve against the repository the binary was built from ([`repo`]), as they would from the
//! file itself; when that folder has moved, those weights are reported missing.

use std::path::PathBuf;

use crate::arch::Arch;
use crate::error::{Error, Problem, Result};
use crate::workload::Network;

/// `(file name, text)` of every shipped architecture.
pub static ARCHS: [(&str, &str); 9] = [
    ("binary_pe16.toml", include_str!("../arch/binary_pe16.toml")),
    (
        "bitserial_pe16.toml",
        include_str!("../arch/bitserial_pe16.toml"),
    ),
    (
        "bitsparse_pe16.toml",
        include_str!("../arch/bitsparse_pe16.toml"),
    ),
    ("dense_is16.toml", include_str!("../arch/dense_is16.toml")),
    ("dense_os16.toml", include_str!("../arch/dense_os16.toml")),
    ("dense_ws16.toml", include_str!("../arch/dense_ws16.toml")),
    (
        "signed_binary_pe16.toml",
        include_str!("../arch/signed_binary_pe16.toml"),
    ),
    ("swis_pe16.toml", include_str!("../arch/swis_pe16.toml")),
    (
        "ternary_pe16.toml",
        include_str!("../arch/ternary_pe16.toml"),
    ),
];

/// `(file name, text)` of every shipped workload.
pub static WORKLOADS: [(&str, &str); 7] = [
    (
        "mobilenet_v2.json",
        include_str!("../workloads/mobilenet_v2.json"),
    ),
    ("resnet18.json", include_str!("../workloads/resnet18.json")),
    (
        "resnet18_plum.json",
        include_str!("../workloads/resnet18_plum.json"),
    ),
    (
        "resnet20_cifar10.json",
        include_str!("../workloads/resnet20_cifar10.json"),
    ),
    (
        "resnet20_cifar10_plum.json",
        include_str!("../workloads/resnet20_cifar10_plum.json"),
    ),
    (
        "resnet56_cifar10.json",
        include_str!("../workloads/resnet56_cifar10.json"),
    ),
    (
        "resnet8_cifar10.json",
        include_str!("../workloads/resnet8_cifar10.json"),
    ),
];

/// The repository the binary was built from.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where a shipped file lives in the repository: `arch/NAME` or `workloads/NAME`.
pub fn repo_path(folder: &str, name: &str) -> PathBuf {
    repo().join(folder).join(name)
}

fn find(table: &[(&'static str, &'static str)], folder: &str, name: &str) -> Result<&'static str> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            Error::invalid(
                format!("{folder}/{name}"),
                vec![
                    Problem::new(name, "is not a shipped file").with_help(format!(
                        "shipped: {}",
                        table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    )),
                ],
            )
        })
}

/// The text of shipped architecture `name` (e.g. `swis_pe16.toml`).
pub fn arch_text(name: &str) -> Result<&'static str> {
    find(&ARCHS, "arch", name)
}

/// Shipped architecture `name`, validated.
pub fn arch(name: &str) -> Result<Arch> {
    crate::design::parse_arch(arch_text(name)?, &format!("arch/{name}"))
}

/// Shipped workload `name`, validated, with the path its relative weight paths resolve from.
pub fn workload(name: &str) -> Result<(PathBuf, Network)> {
    let net = crate::workload::parse_workload(
        find(&WORKLOADS, "workloads", name)?,
        &format!("workloads/{name}"),
    )?;
    Ok((repo_path("workloads", name), net))
}

/// The trained weights in `../shared/weights` beside the repository, when present.
pub fn shared_weights() -> Option<PathBuf> {
    let p = repo().join("..").join("shared").join("weights");
    p.join("resnet20_cifar10_akamaster_fp32.npz")
        .is_file()
        .then_some(p)
}
