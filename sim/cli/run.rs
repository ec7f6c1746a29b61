//! `plumsim run ARCH WORKLOAD`: simulate and report.

use std::path::PathBuf;

use anyhow::Context;

use plumsim::{engine, io, report, scalesim};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Per-layer table and totals on stdout.
    Table,
    /// `layers.csv` content on stdout.
    Csv,
    /// `summary.json` content on stdout.
    Json,
    /// SCALE-Sim's COMPUTE_REPORT.csv columns on stdout (also written to --out).
    Scalesim,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Architecture TOML (see arch/README.md).
    pub arch: PathBuf,
    /// Workload JSON (see workloads/README.md) or a SCALE-Sim topology CSV.
    pub workload: PathBuf,
    /// Folder for layers.csv and summary.json [default: results/run/<arch>__<workload>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let arch = io::load_arch(&args.arch)?;
    let net = io::load_workload(&args.workload)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let result = pool.install(|| engine::simulate(&arch, &net))?;

    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results/run").join(format!("{}__{}", arch.name, net.name))
    });
    let layers_csv = report::to_csv(&report::layer_rows(&arch, &result));
    let summary = serde_json::to_string_pretty(&report::Summary::new(&arch, &result))? + "\n";
    let compute_csv = scalesim::compute_report_csv(&scalesim::compute_report(&arch, &result));
    let mut files = vec![
        (out.join("layers.csv"), layers_csv.clone().into_bytes()),
        (out.join("summary.json"), summary.clone().into_bytes()),
    ];
    if args.format == Format::Scalesim {
        files.push((
            out.join("COMPUTE_REPORT.csv"),
            compute_csv.clone().into_bytes(),
        ));
    }
    io::write_all_atomic(&files)?;
    match args.format {
        Format::Table => {
            print!("{}", report::table(&arch, &result));
            println!("wrote {}", out.display());
        }
        Format::Csv => print!("{layers_csv}"),
        Format::Json => print!("{summary}"),
        Format::Scalesim => print!("{compute_csv}"),
    }
    Ok(())
}
