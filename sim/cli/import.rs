//! `plumsim import scalesim CONFIG.cfg [TOPOLOGY.csv]`: move a SCALE-Sim study over.
//! `plumsim import transformer CONFIG.json (--prefill SEQ_LEN | --decode CONTEXT)`: a
//! transformer workload from a published model config.
//! `plumsim import onnx MODEL.onnx --out DIR`: a workload and its weights from an ONNX model.

use std::path::PathBuf;

use plumsim::workload::transformer::{self, Phase};
use plumsim::{io, scalesim};

#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Write the architecture TOML (and workload JSON) equivalent to SCALE-Sim inputs.
    Scalesim(ScalesimArgs),
    /// Write the workload JSON of a transformer from its Hugging Face style config.json
    /// (model_type bert, vit, llama or bitnet; see workloads/README.md, "Transformers").
    Transformer(TransformerArgs),
    /// Write the workload JSON and the weights (.safetensors or .npz, PyTorch layout) of an
    /// ONNX model; `plumsim run ARCH MODEL.onnx` runs it directly.
    Onnx(OnnxArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WeightsFormat {
    Safetensors,
    Npz,
}

#[derive(Debug, clap::Args)]
pub struct OnnxArgs {
    /// The ONNX model (.onnx); external data is read from its folder.
    pub model: PathBuf,
    /// Folder to write NAME.json and its weights file into.
    #[arg(long)]
    pub out: PathBuf,
    /// The workload's name and the files' stem [default: the model's file stem].
    #[arg(long)]
    pub name: Option<String>,
    /// Format of the weights file.
    #[arg(long, value_enum, default_value = "safetensors")]
    pub weights_format: WeightsFormat,
    #[command(flatten)]
    pub model_args: super::ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct TransformerArgs {
    /// The model's config.json (Hugging Face layout; keys plumsim does not read are ignored).
    pub config: PathBuf,
    /// A prefill: SEQ_LEN prompt tokens per sequence at once (text models).
    #[arg(long, value_name = "SEQ_LEN", conflicts_with = "decode")]
    pub prefill: Option<u64>,
    /// A decode step: one new token per sequence over a KV cache of CONTEXT tokens (decoders).
    #[arg(long, value_name = "CONTEXT")]
    pub decode: Option<u64>,
    /// Sequences (or images) per inference.
    #[arg(long, default_value_t = 1)]
    pub batch: u64,
    /// The workload's name [default: the config's file stem, the phase and the batch, e.g.
    /// llama2_7b_decode_ctx2048].
    #[arg(long)]
    pub name: Option<String>,
    /// The workload JSON file to write.
    #[arg(long)]
    pub out: PathBuf,
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
    let args = match cmd {
        ImportCommand::Scalesim(args) => args,
        ImportCommand::Transformer(args) => return import_transformer(args),
        ImportCommand::Onnx(args) => return import_onnx(args),
    };
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

fn import_transformer(args: TransformerArgs) -> anyhow::Result<()> {
    io::output::check_file_target(&args.out)?;
    let text = io::read_text(&args.config)?;
    let origin = args.config.display().to_string();
    let config = transformer::parse_config(&text, &origin)?;
    let phase = match (args.prefill, args.decode) {
        (Some(seq_len), _) => Some(Phase::Prefill { seq_len }),
        (None, Some(context)) => Some(Phase::Decode { context }),
        (None, None) => None,
    };
    let stem = args
        .config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| transformer::default_name(&stem, phase, args.batch));
    let workload = transformer::transformer_workload(&config, phase, args.batch, &name, &origin)?;
    let json = workload.to_json()?;
    // The written file must itself validate (the size bounds, for a very large model), so
    // nothing is written that `run` would refuse.
    plumsim::workload::parse_workload(&json, &format!("the workload generated from {origin}"))?;
    io::write_all_atomic(&[(args.out.clone(), json.into_bytes())])?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn import_onnx(args: OnnxArgs) -> anyhow::Result<()> {
    io::output::check_dir_target(&args.out)?;
    let stem = args.name.clone().unwrap_or_else(|| {
        args.model
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    // The name becomes one plain file-name component: it never picks a folder.
    let stem = io::output::file_component(&stem);
    let ext = match args.weights_format {
        WeightsFormat::Safetensors => "safetensors",
        WeightsFormat::Npz => "npz",
    };
    let options = plumsim::onnx::ImportOptions {
        name: stem.clone(),
        weights_file: format!("{stem}.{ext}"),
        input_shapes: args.model_args.options().input_shapes,
        unresolved_as_one: false,
    };
    let imported = io::onnx::import_file(&args.model, &options)?;
    for w in &imported.warnings {
        eprintln!("warning: {}: {w}", args.model.display());
    }
    let mut files = vec![(
        args.out.join(format!("{stem}.json")),
        imported.json.clone().into_bytes(),
    )];
    if !imported.tensors.is_empty() {
        let bytes = match args.weights_format {
            WeightsFormat::Safetensors => io::onnx::safetensors_bytes(&imported.tensors)?,
            WeightsFormat::Npz => io::onnx::npz_bytes(&imported.tensors)?,
        };
        files.push((args.out.join(format!("{stem}.{ext}")), bytes));
    }
    io::write_all_atomic(&files)?;
    let s = imported.stats;
    println!(
        "imported {} nodes ({} evaluated at import) as {} layers, {} of them weight layers: {} weights from the model, {} synthetic, {} MACs per inference (batch {})",
        s.nodes,
        s.folded_nodes,
        s.layers,
        s.weight_layers,
        s.file_weights,
        s.synthetic_weights,
        s.macs,
        imported.network.batch
    );
    for (p, _) in &files {
        println!("wrote {}", p.display());
    }
    Ok(())
}
