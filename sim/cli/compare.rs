//! `plumsim compare WORKLOAD [ARCH...] [--baseline ARCH]`: designs side by side.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use plumsim::energy::{self, EnergyTable};
use plumsim::io;
use plumsim::quant::QuantStats;
use plumsim::report::{round6, to_csv, Summary};

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

/// One row of `compare.csv`.
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub design: String,
    pub pe_kind: String,
    pub total_cycles: u64,
    pub latency_us: f64,
    pub energy_uj: f64,
    pub edp_uj_us: f64,
    pub tops_per_w: f64,
    pub weight_density: f64,
    pub effectual_bits_per_weight: f64,
    pub weight_storage_bytes: u64,
    pub ace_gbit_ops: f64,
    pub ace_v2_gbit_ops: f64,
    pub speedup_vs_baseline: f64,
    pub energy_ratio_vs_baseline: f64,
    pub pe_arith_uj: f64,
    pub registers_uj: f64,
    pub input_buffer_uj: f64,
    pub weight_buffer_uj: f64,
    pub output_buffer_uj: f64,
    pub dram_uj: f64,
    pub vector_uj: f64,
    pub leakage_uj: f64,
}

fn design(
    arch_path: &Path,
    args: &CompareArgs,
    net: &plumsim::workload::Network,
) -> anyhow::Result<(Summary, QuantStats, String)> {
    let arch = io::load_arch(arch_path)?;
    let d = io::prepare::run_design(&arch, net, &args.workload, args.weights.as_deref(), true)?;
    let e = energy::run_energy(&arch, &EnergyTable::for_arch(&arch), &d.run).total;
    let stats: Vec<QuantStats> = d.prepared.stats.iter().flatten().cloned().collect();
    Ok((
        Summary::with_energy(&arch, &d.run, &e),
        QuantStats::total(&stats),
        arch.pe.kind.as_str().to_string(),
    ))
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
    let base = &results[all
        .iter()
        .position(|a| *a == baseline)
        .expect("baseline is in the list")]
    .0;
    let uj = |pj: f64| round6(pj / 1e6);
    let rows: Vec<CompareRow> = archs
        .iter()
        .zip(&results)
        .map(|(_, (s, q, kind))| CompareRow {
            design: s.arch.clone(),
            pe_kind: kind.clone(),
            total_cycles: s.total_cycles,
            latency_us: s.latency_us,
            energy_uj: uj(s.energy_pj),
            edp_uj_us: round6(s.energy_pj / 1e6 * s.latency_us),
            tops_per_w: s.tops_per_w,
            weight_density: round6(q.density()),
            effectual_bits_per_weight: round6(q.effectual_bits_per_weight()),
            weight_storage_bytes: q.storage_bits.div_ceil(8),
            ace_gbit_ops: round6(s.ace_bit_ops / 1e9),
            ace_v2_gbit_ops: round6(s.ace_v2_bit_ops / 1e9),
            speedup_vs_baseline: round6(base.total_cycles as f64 / s.total_cycles as f64),
            energy_ratio_vs_baseline: round6(base.energy_pj / s.energy_pj),
            pe_arith_uj: uj(s.pe_arith_pj),
            registers_uj: uj(s.registers_pj),
            input_buffer_uj: uj(s.input_buffer_pj),
            weight_buffer_uj: uj(s.weight_buffer_pj),
            output_buffer_uj: uj(s.output_buffer_pj),
            dram_uj: uj(s.dram_pj),
            vector_uj: uj(s.vector_pj),
            leakage_uj: uj(s.leakage_pj),
        })
        .collect();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results/compare").join(&net.name));
    io::write_all_atomic(&[(out.join("compare.csv"), to_csv(&rows).into_bytes())])?;
    print!("{}", table(&rows, &base.arch, &net.name));
    println!("wrote {}", out.join("compare.csv").display());
    Ok(())
}

/// The comparison as a Markdown table (also readable on a terminal).
pub fn table(rows: &[CompareRow], baseline: &str, workload: &str) -> String {
    let mut s = format!("{workload}: speedup and energy ratio against {baseline}\n\n");
    s.push_str("| design | cycles | latency (us) | energy (uJ) | EDP (uJ x us) | TOPS/W | density | eff. bits/weight | weights (KiB) | ACE (Gbit-ops) | ACEv2 (Gbit-ops) | speedup | energy ratio |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.3} | {:.2} | {:.0} | {:.1} | {:.1} | {:.2}x | {:.2}x |\n",
            r.design,
            r.total_cycles,
            r.latency_us,
            r.energy_uj,
            r.edp_uj_us,
            r.tops_per_w,
            r.weight_density,
            r.effectual_bits_per_weight,
            r.weight_storage_bytes as f64 / 1024.0,
            r.ace_gbit_ops,
            r.ace_v2_gbit_ops,
            r.speedup_vs_baseline,
            r.energy_ratio_vs_baseline
        ));
    }
    s
}
