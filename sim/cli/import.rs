//! `plumsim import scalesim CONFIG.cfg [TOPOLOGY.csv]`: move a SCALE-Sim study over.

use std::path::PathBuf;

use plumsim::{io, scalesim};

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Write the architecture TOML (and workload JSON) equivalent to SCALE-Sim inputs.
    Scalesim(ScalesimArgs),
}

#[derive(Debug, clap::Args)]
pub struct ScalesimArgs {
    /// SCALE-Sim config.cfg.
    pub config: PathBuf,
    /// SCALE-Sim topology CSV (conv or GEMM form).
    pub topology: Option<PathBuf>,
    /// Output folder for the converted files.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Base name of the written files [default: the config's run_name].
    #[arg(long)]
    pub name: Option<String>,
    /// Refuse a config with keys plumsim does not model, instead of warning about them.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(cmd: ImportCommand, _v: super::progress::Verbosity) -> anyhow::Result<()> {
    let ImportCommand::Scalesim(args) = cmd;
    io::output::check_dir_target(&args.out)?;
    let cfg_text = io::read_text(&args.config)?;
    let origin = args.config.display().to_string();
    let imported = scalesim::import_config(&cfg_text, &origin)?;
    if args.strict && !imported.warnings.is_empty() {
        return Err(plumsim::Error::invalid(
            origin,
            imported
                .warnings
                .iter()
                .map(|w| {
                    plumsim::Problem::new("config", w.clone())
                        .with_help("--strict refuses what plumsim does not model; drop --strict to import without it")
                })
                .collect(),
        )
        .into());
    }
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    // The generated TOML must itself validate; its errors point at the cfg keys.
    let arch =
        plumsim::design::parse_arch(&imported.toml, &origin).map_err(|e| imported.locate(e))?;
    let arch_toml = imported.toml;
    // Names (the config's run_name, or --name) become one plain file-name component: they
    // never pick a folder.
    let name = io::output::file_component(args.name.as_deref().unwrap_or(&arch.name));
    let mut files = vec![(
        args.out.join(format!("{name}.toml")),
        arch_toml.into_bytes(),
    )];
    if let Some(topo) = &args.topology {
        let text = io::read_text(topo)?;
        let origin = topo.display().to_string();
        let rows = scalesim::parse_topology_rows(&text, &origin)?;
        let wl_name = topo
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone());
        let json = scalesim::topology_json(&rows, &wl_name);
        // Validate before writing anything.
        scalesim::parse_topology(&text, &origin, &wl_name)?;
        files.push((
            args.out.join(format!("{name}.json")),
            (serde_json::to_string_pretty(&json)? + "\n").into_bytes(),
        ));
    }
    io::write_all_atomic(&files)?;
    for (p, _) in &files {
        println!("wrote {}", p.display());
    }
    Ok(())
}
