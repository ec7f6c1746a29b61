//! `plumsim run ARCH WORKLOAD`: simulate and report.

use std::path::PathBuf;

use anyhow::Context;

use plumsim::engine::reference;
use plumsim::{io, report, scalesim};

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
    /// Read every weight layer's tensor from this .npz/.npy/.safetensors file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Also simulate every weight layer with the per-cycle reference engine (small layers
    /// only) and check it agrees with the fast engine.
    #[arg(long)]
    pub reference: bool,
    /// Quantize every weight layer and report its statistics (density, effectual bits,
    /// error, storage). Always on for PE kinds whose timing depends on the codes and for
    /// workloads whose weights come from files.
    #[arg(long)]
    pub stats: bool,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let arch = io::load_arch(&args.arch)?;
    let net = io::load_workload(&args.workload)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let io::prepare::DesignRun {
        net,
        prepared,
        run: result,
    } = pool.install(|| {
        io::prepare::run_design(
            &arch,
            &net,
            &args.workload,
            args.weights.as_deref(),
            args.stats,
        )
    })?;

    if args.reference {
        for (i, layer) in net.layers.iter().enumerate() {
            let Some(r) =
                reference::simulate_layer(&arch, &net, layer, prepared.codes[i].as_ref())?
            else {
                continue;
            };
            let fast = &result.layers[i];
            let same = r.compute_cycles == fast.compute_cycles && r.actions == fast.actions;
            eprintln!(
                "reference {}: {} cycles (fast engine {}){}",
                layer.name,
                r.compute_cycles,
                fast.compute_cycles,
                if same {
                    ", actions equal"
                } else {
                    ", MISMATCH"
                }
            );
            if !same {
                anyhow::bail!(
                    "layer `{}`: the fast and reference engines disagree",
                    layer.name
                );
            }
        }
    }

    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results/run").join(format!("{}__{}", arch.name, net.name))
    });
    let labels: Vec<String> = net.layers.iter().map(|l| l.quant.scheme.label()).collect();
    let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
    let rows = report::layer_rows(&arch, &result, &prepared.stats, &label_refs);
    let layers_csv = report::to_csv(&rows);
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
            print!("{}", report::table(&arch, &result, &rows));
            println!("wrote {}", out.display());
        }
        Format::Csv => print!("{layers_csv}"),
        Format::Json => print!("{summary}"),
        Format::Scalesim => print!("{compute_csv}"),
    }
    Ok(())
}
