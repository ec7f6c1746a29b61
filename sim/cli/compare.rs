//! `plumsim compare WORKLOAD [ARCH...] [--baseline ARCH]`: designs side by side.

use std::path::{Path, PathBuf};

use anyhow::Context;

use plumsim::compare::{compare_rows, markdown, DesignResult};
use plumsim::io;
use plumsim::report::to_csv;

/// The designs compared when none are named.
pub const DEFAULT_ARCHS: [&str; 6] = [
    "arch/binary_pe16.toml",
    "arch/ternary_pe16.toml",
    "arch/signed_binary_pe16.toml",
    "arch/bitserial_pe16.toml",
    "arch/bitsparse_pe16.toml",
    "arch/swis_pe16.toml",
];

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Workload JSON (or SCALE-Sim topology CSV).
    pub workload: PathBuf,
    /// Architectures to compare [default: the six *_pe16 designs in arch/].
    pub archs: Vec<PathBuf>,
    /// Design the speedup and energy ratio are relative to [default: arch/binary_pe16.toml if
    /// compared, else the first].
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Read every weight layer's tensor from this file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Output folder for compare.csv [default: results/compare/<workload>].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn design(
    arch_path: &Path,
    args: &CompareArgs,
    net: &plumsim::workload::Network,
) -> anyhow::Result<DesignResult> {
    let arch = io::load_arch(arch_path)?;
    let d = io::prepare::run_design(&arch, net, &args.workload, args.weights.as_deref(), true)?;
    Ok(DesignResult {
        label: arch.name.clone(),
        arch,
        run: d.run,
        stats: d.prepared.stats,
    })
}

pub fn run(args: CompareArgs) -> anyhow::Result<()> {
    let archs: Vec<PathBuf> = if args.archs.is_empty() {
        DEFAULT_ARCHS.iter().map(PathBuf::from).collect()
    } else {
        args.archs.clone()
    };
    let baseline = args.baseline.clone().unwrap_or_else(|| {
        archs
            .iter()
            .find(|a| a.ends_with("binary_pe16.toml") && !a.ends_with("signed_binary_pe16.toml"))
            .cloned()
            .unwrap_or_else(|| archs[0].clone())
    });
    let net = io::load_workload(&args.workload)?;
    let mut all = archs.clone();
    if !all.contains(&baseline) {
        all.push(baseline.clone());
    }
    let results = all
        .iter()
        .map(|a| design(a, &args, &net).with_context(|| format!("design {}", a.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let base = all
        .iter()
        .position(|a| *a == baseline)
        .expect("baseline is in the list");
    let mut rows = compare_rows(&results, base);
    rows.truncate(archs.len());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results/compare").join(&net.name));
    let mut files = vec![(out.join("compare.csv"), to_csv(&rows).into_bytes())];
    super::reproduce::energy_bars(
        &mut files,
        &rows,
        &out.join("compare_energy"),
        &format!("{}: energy per inference by component", net.name),
    )?;
    io::write_all_atomic(&files)?;
    print!("{}", markdown(&rows, &results[base].label, &net.name));
    println!("wrote {}", out.join("compare.csv").display());
    Ok(())
}
