//! `plumsim validate ARCH WORKLOAD`: check inputs only.

use std::path::PathBuf;

use plumsim::io;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Architecture TOML.
    pub arch: PathBuf,
    /// Workload JSON or SCALE-Sim topology CSV.
    pub workload: PathBuf,
}

pub fn run(args: ValidateArgs) -> anyhow::Result<()> {
    // Report problems in both files before failing.
    let arch = io::load_arch(&args.arch);
    let net = io::load_workload(&args.workload);
    match (arch, net) {
        (Ok(arch), Ok(net)) => {
            let weight_layers = net.layers.iter().filter(|l| l.gemm(&net).is_some()).count();
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
        (Err(a), Ok(_)) => Err(a.into()),
        (Ok(_), Err(w)) => Err(w.into()),
        (Err(a), Err(w)) => {
            eprintln!("error: {a}");
            Err(w.into())
        }
    }
}
