//! `plumsim validate ARCH WORKLOAD`: every check `run` makes, without simulating.

use std::path::PathBuf;

use plumsim::io;
use plumsim::pipeline::{self, Caches, CodeCache, Options, WeightCache};

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Architecture TOML.
    pub arch: PathBuf,
    /// Workload JSON, a SCALE-Sim topology CSV or an ONNX model.
    pub workload: PathBuf,
    #[command(flatten)]
    pub model: super::ModelArgs,
    /// Check this weight file as `plumsim run --weights FILE` would read it.
    #[arg(long)]
    pub weights: Option<PathBuf>,
}

pub fn run(args: ValidateArgs, v: Verbosity) -> anyhow::Result<()> {
    // Report problems in both files before failing.
    let arch = io::load_arch(&args.arch);
    let net = io::load_workload_with(&args.workload, &args.model.options());
    let (arch, net) = match (arch, net) {
        (Ok(arch), Ok(net)) => (arch, net),
        (Err(a), Ok(_)) => return Err(a.into()),
        (Ok(_), Err(w)) => return Err(w.into()),
        (Err(a), Err(w)) => {
            eprintln!("error: {a:#}");
            return Err(w.into());
        }
    };
    // The design on the network: can it run every layer, do the sizes fit, and can every
    // tensor `run` would read be read.
    let source = io::FileSource::new(&args.workload, args.weights.as_deref());
    // The caches `run` uses: it keeps nothing.
    let (weights, codes) = (WeightCache::with_bound(0), CodeCache::with_bound(0));
    let caches = Caches {
        weights: &weights,
        codes: &codes,
    };
    let pair = format!("{} on {}", args.arch.display(), args.workload.display());
    pipeline::check_design(&arch, &net, &source, caches, Options::default(), &pair)?;
    // As `run` does: the memory the run would hold, against what this machine has free.
    io::check_memory(
        &pair,
        pipeline::memory_estimate_bytes(&arch, &net, &source, Options::default(), caches),
    )?;
    let weight_layers = net.layers.iter().filter(|l| l.gemm(&net).is_some()).count();
    v.detail("every layer runs on the design, and every tensor the run reads is readable");
    println!(
        "ok: {} ({}x{} {}, pe {}) and {} ({} layers, {} with weights)",
        arch.name,
        arch.rows,
        arch.cols,
        arch.dataflow.as_str(),
        arch.pe.kind.as_str(),
        net.name,
        net.layers.len(),
        weight_layers
    );
    Ok(())
}
