//! `plumsim run ARCH WORKLOAD`: simulate and report.

use std::path::PathBuf;

use anyhow::Context;

use plumsim::engine::reference;
use plumsim::io::output;
use plumsim::pipeline::{self, Caches, Options};
use plumsim::{functional, io, report, scalesim, trace};

use super::progress::{timed, Verbosity};

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
    /// Workload JSON (see workloads/README.md), a SCALE-Sim topology CSV or an ONNX model.
    pub workload: PathBuf,
    #[command(flatten)]
    pub model: super::ModelArgs,
    /// Folder for layers.csv and summary.json [default: results/run/<arch>__<workload>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Worker threads, 1 to 4x the cores (default: all cores); results do not depend on it.
    #[arg(long, value_parser = super::parse_threads)]
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
    /// Write per-cycle SRAM and DRAM access traces and per-lane activity timelines of the
    /// weight layers as CSV into this folder (e.g. traces/<name>; see docs/traces.md). Runs
    /// the per-cycle reference engine: small layers only.
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
    /// With --trace: trace only this layer.
    #[arg(long, value_name = "NAME", requires = "trace")]
    pub layer: Option<String>,
    /// Run the network on real inputs as well: a folder of PNG/JPEG images (through the
    /// workload's input_transform; labels from names `..._LABEL.png`) or a .npy/.npz tensor
    /// file ([N, C, H, W] under `input`, optional `labels` and `logits`). Writes fidelity.csv
    /// (per layer: SQNR against fp32, zero activations, effectual bits) and the network's
    /// agreement and accuracy into summary.json; zero-skipping PEs are timed on the real
    /// activations of the first `batch` inputs.
    #[arg(long, value_name = "PATH")]
    pub inputs: Option<PathBuf>,
    /// With --inputs: one class per line, in input order (replaces labels from file names).
    #[arg(long, value_name = "FILE", requires = "inputs")]
    pub labels: Option<PathBuf>,
    /// With --inputs: how each stored activation's range is calibrated on the inputs: `max`
    /// (the largest |x| the fp32 network reaches) or `percentile:P` (the P-th percentile of
    /// |x|, 0 < P <= 100; larger values saturate).
    #[arg(long, value_name = "METHOD", default_value = "max", value_parser = parse_calibration, requires = "inputs")]
    pub calibration: functional::Calibrate,
    /// With the table: every column (GEMM shape, folds, each stall, weight statistics,
    /// traffic) instead of the default's about 120 characters.
    #[arg(long)]
    pub wide: bool,
    /// With --trace: refuse when the trace files would exceed this many MB (10^6 bytes).
    #[arg(long, value_name = "N", default_value_t = trace::DEFAULT_LIMIT_MB)]
    pub trace_limit_mb: u64,
}

pub fn run(args: RunArgs, v: Verbosity) -> anyhow::Result<()> {
    let arch = io::load_arch(&args.arch)?;
    let net = io::load_workload_with(&args.workload, &args.model.options())?;
    if (args.reference || args.trace.is_some()) && arch.dataflow != plumsim::arch::Dataflow::Ws {
        return Err(plumsim::Error::invalid(
            args.arch.display().to_string(),
            vec![plumsim::Problem::new(
                "array.dataflow",
                format!(
                    "is \"{}\": --reference and --trace run the per-cycle reference engine, which models the weight-stationary dataflow only",
                    arch.dataflow.as_str()
                ),
            )
            .with_help("use a design with dataflow = \"ws\", or run without --reference and --trace")],
        )
        .into());
    }
    // Where the results go is checked before any work.
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out(&arch.name, &net.name));
    let traces_apart = args.trace.as_ref().filter(|t| !same_path(t, &out));
    output::check_result_dir(&out, &owns_run_file)?;
    if let Some(dir) = traces_apart {
        output::check_result_dir(dir, &owns_trace_file)?;
    }
    v.detail(format!(
        "{}: {}x{} {} PEs of kind {}; {}: {} layers",
        args.arch.display(),
        arch.rows,
        arch.cols,
        arch.dataflow.as_str(),
        arch.pe.kind.as_str(),
        args.workload.display(),
        net.layers.len()
    ));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let source = io::FileSource::new(&args.workload, args.weights.as_deref());
    let opts = Options {
        all_layers: args.stats,
        stats: true,
    };
    let pair = format!("{} on {}", args.arch.display(), args.workload.display());
    let inputs = match &args.inputs {
        Some(p) => Some(io::load_inputs(p, &net, args.labels.as_deref())?),
        None => None,
    };
    let samples = inputs.as_ref().map(|set| functional::Samples {
        values: &set.values,
        labels: set.labels.as_deref(),
        reference_logits: set.reference_logits.as_deref(),
        calibration: args.calibration,
    });
    let step = if samples.is_some() {
        "run on the inputs, quantize and simulate"
    } else {
        "quantize and simulate"
    };
    // With real inputs, --reference or --trace the run's codes are asked for again.
    let (weights, codes) =
        pipeline::one_run_caches(samples.is_some() || args.reference || args.trace.is_some());
    let caches = Caches {
        weights: &weights,
        codes: &codes,
    };
    let admit = |bytes: u128| io::check_memory(&pair, bytes);
    let sim = timed(&v, step, || {
        pool.install(|| pipeline::simulate(&arch, &net, &source, caches, samples, opts, &admit))
    })
    .with_context(|| pair.clone())?;
    for note in &sim.notes {
        v.note(format!("note: {note}"));
    }
    let d = &sim.design;
    let (net, result) = (&d.net, &d.run);
    for note in arch.idealizations() {
        v.note(format!("note: {}: {note}", arch.name));
    }

    // The reference engine and the traces need every weight layer's codes.
    let codes = if args.reference || args.trace.is_some() {
        let all: Vec<bool> = net
            .layers
            .iter()
            .map(|l| l.weight_shape().is_some())
            .collect();
        pool.install(|| pipeline::quantize_layers(net, &all, &source, caches))?
    } else {
        Vec::new()
    };
    let layer_codes = |i: usize| codes.get(i)?.as_deref().map(|q| &q.codes);

    if args.reference {
        let weight_layers = net.layers.iter().filter(|l| l.gemm(net).is_some()).count();
        let bar = v.bar(weight_layers as u64, "layers on the reference engine");
        for (i, layer) in net.layers.iter().enumerate() {
            if layer.gemm(net).is_none() {
                continue;
            }
            bar.step(&layer.name);
            let Some(r) = reference::simulate_layer(&arch, net, layer, layer_codes(i))? else {
                continue;
            };
            let fast = &result.layers[i];
            let same = r.compute_cycles == fast.compute_cycles && r.actions == fast.actions;
            bar.note(
                &v,
                &format!(
                    "reference {}: {} cycles (fast engine {}){}",
                    layer.name,
                    r.compute_cycles,
                    fast.compute_cycles,
                    if same {
                        ", actions equal"
                    } else {
                        ", MISMATCH"
                    }
                ),
            );
            if !same {
                bar.finish();
                anyhow::bail!(
                    "layer `{}`: the fast and reference engines disagree",
                    layer.name
                );
            }
        }
        bar.finish();
    }

    let trace_files = match &args.trace {
        Some(_) => timed(&v, "traces", || {
            pool.install(|| {
                traces(
                    &arch,
                    net,
                    &layer_codes,
                    result,
                    args.layer.as_deref(),
                    args.trace_limit_mb,
                )
            })
        })?,
        None => Vec::new(),
    };

    let report =
        report::RunReport::new(&arch, &sim, inputs.as_ref().map(|set| set.origin.clone()))?;
    let rows = &report.rows;
    let layers_csv = report.layers_csv();
    let summary = report.summary_json();
    let compute_csv = scalesim::compute_report_csv(&scalesim::compute_report(&arch, result));
    let mut files = vec![
        ("layers.csv".to_string(), layers_csv.clone().into_bytes()),
        ("summary.json".to_string(), summary.clone().into_bytes()),
    ];
    if args.format == Format::Scalesim {
        files.push((
            "COMPUTE_REPORT.csv".to_string(),
            compute_csv.clone().into_bytes(),
        ));
    }
    if let Some(f) = report.fidelity_csv() {
        files.push(("fidelity.csv".to_string(), f.into_bytes()));
    }
    // Both folders are staged in full before either is moved into place.
    match traces_apart {
        Some(dir) => {
            let staged = output::stage_result_dir(dir, &trace_files, &owns_trace_file)?;
            output::write_result_dir(&out, &files, &owns_run_file)?;
            staged.commit()?;
        }
        None => {
            files.extend(trace_files);
            let owns = |n: &str| owns_run_file(n) || owns_trace_file(n);
            output::write_result_dir(&out, &files, &owns)?;
        }
    }
    match args.format {
        Format::Table => {
            let style = report::TableStyle {
                wide: args.wide,
                color: super::colour_stdout(),
            };
            print!("{}", report::table(&arch, result, rows, style));
            if let Some(f) = &report.summary.fidelity {
                print!("{}", report::fidelity_lines(f));
            }
            println!("wrote {}", out.display());
            if let Some(dir) = &args.trace {
                println!("wrote traces to {}", dir.display());
            }
        }
        Format::Csv => print!("{layers_csv}"),
        Format::Json => print!("{summary}"),
        Format::Scalesim => print!("{compute_csv}"),
    }
    Ok(())
}

/// The trace files of the selected weight layers (`--trace DIR [--layer NAME]`), after the
/// size guard; built in memory and written with the results, all or nothing.
fn traces<'c>(
    arch: &plumsim::arch::Arch,
    net: &plumsim::workload::Network,
    codes: &(dyn Fn(usize) -> Option<&'c plumsim::quant::QuantizedTensor> + Sync),
    result: &plumsim::engine::RunResult,
    only: Option<&str>,
    limit_mb: u64,
) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    use rayon::prelude::*;
    let selected: Vec<usize> = match only {
        Some(name) => {
            let Some(i) = net.layers.iter().position(|l| l.name == name) else {
                let weight_layers: Vec<&str> = net
                    .layers
                    .iter()
                    .filter(|l| l.gemm(net).is_some())
                    .map(|l| l.name.as_str())
                    .take(8)
                    .collect();
                return Err(plumsim::Error::invalid(
                    "--layer",
                    vec![plumsim::Problem::new(
                        format!("workload `{}`", net.name),
                        format!("no layer `{name}`"),
                    )
                    .with_help(format!(
                        "name a weight layer, e.g. {}",
                        weight_layers.join(", ")
                    ))],
                )
                .into());
            };
            if net.layers[i].gemm(net).is_none() {
                return Err(plumsim::Error::invalid(
                    "--layer",
                    vec![plumsim::Problem::new(
                        format!("layer `{name}`"),
                        format!(
                            "a {} layer: it runs on the vector unit and has no array trace",
                            net.layers[i].op.kind().as_str()
                        ),
                    )
                    .with_help("name a conv, linear or matmul layer")],
                )
                .into());
            }
            vec![i]
        }
        None => (0..net.layers.len())
            .filter(|&i| net.layers[i].gemm(net).is_some())
            .collect(),
    };
    let estimates: Vec<(&str, trace::TraceEstimate)> = selected
        .iter()
        .filter_map(|&i| {
            trace::estimate(arch, &result.layers[i]).map(|e| (net.layers[i].name.as_str(), e))
        })
        .collect();
    trace::check_limit(&estimates, limit_mb)?;
    let traced = selected
        .par_iter()
        .map(|&i| {
            let layer = &net.layers[i];
            trace::trace_layer(arch, net, layer, codes(i), &result.layers[i])
                .with_context(|| format!("cannot trace layer `{}`", layer.name))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // One stem per layer name, made unique (`c/1` and `c_1` would both be `c_1`).
    let stems = output::unique_stems(net.layers.iter().map(|l| l.name.as_str()));
    let mut files = Vec::new();
    for (t, &i) in traced.into_iter().zip(&selected) {
        let Some(t) = t else { continue };
        let fast = &result.layers[i];
        anyhow::ensure!(
            t.total_cycles == fast.compute_cycles + fast.memory_stall_cycles,
            "layer `{}`: the trace covers {} cycles but the fast engine reports {}",
            t.layer,
            t.total_cycles,
            fast.array_cycles()
        );
        let stem = &stems[i];
        files.push((format!("{stem}_sram.csv"), t.sram_csv.into_bytes()));
        files.push((format!("{stem}_dram.csv"), t.dram_csv.into_bytes()));
        files.push((format!("{stem}_lanes.csv"), t.lanes_csv.into_bytes()));
    }
    Ok(files)
}

/// The default results folder: `results/run/<arch>__<workload>`, each name made one plain
/// file-name component (names inside files never pick paths).
fn default_out(arch: &str, workload: &str) -> PathBuf {
    PathBuf::from("results/run").join(format!(
        "{}__{}",
        output::file_component(arch),
        output::file_component(workload)
    ))
}

/// Files `run` writes into its results folder (and `report.html`, which `plumsim report`
/// makes of them: a new run removes it rather than leave a page of the old results).
fn owns_run_file(name: &str) -> bool {
    matches!(
        name,
        "layers.csv" | "summary.json" | "fidelity.csv" | "COMPUTE_REPORT.csv" | "report.html"
    )
}

/// Files `run --trace` writes into its trace folder.
fn owns_trace_file(name: &str) -> bool {
    ["_sram.csv", "_dram.csv", "_lanes.csv"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// Whether two paths name the same place (compared as written, then through the file
/// system where both exist).
fn same_path(a: &std::path::Path, b: &std::path::Path) -> bool {
    a == b
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

fn parse_calibration(s: &str) -> Result<functional::Calibrate, String> {
    functional::Calibrate::parse(s)
        .ok_or_else(|| format!("`{s}`: allowed: max, or percentile:P with 0 < P <= 100"))
}
