//! `plumsim quantize WORKLOAD [--scheme S] [--weights F] [--out DIR] [scheme parameters]`:
//! quantize every weight layer and report per-layer statistics.
//!
//! `--scheme` replaces the workload's default scheme: it applies to every weight layer except
//! those whose own `quant` sets a `scheme` in the workload JSON. Without `--scheme` each layer
//! uses the scheme the workload resolves for it. Prints a per-layer table and a total line, and
//! writes `quant.csv` to `--out` (default `results/quantize/<workload name>/`).

use std::path::PathBuf;

use anyhow::Context;

use plumsim::pipeline::{self, Caches, CodeCache, Quantized, WeightCache};
use plumsim::quant::{resolve_quant, QuantStats, RawQuant, Scheme, SignRule};
use plumsim::workload::Network;
use plumsim::{io, Error, Problem};

use super::progress::{timed, Verbosity};

/// A weight quantization scheme (see the library's `quant` module for each one's paper).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemeArg {
    /// Uniform symmetric int-k (--weight-bits, --per-tensor).
    Int,
    /// sign(w) * mean|w| per filter (XNOR-Net).
    Binary,
    /// {-a, 0, +a}, threshold --threshold * mean|w| (TWN, 0.7).
    Ternary,
    /// PLUM: filters {0,+1} or {0,-1}, threshold --threshold * max|w| (0.05).
    #[value(name = "signed_binary", alias = "signed-binary")]
    SignedBinary,
    /// Shared weight-bit positions per group (--weight-bits, --group-size, --shared-bits or
    /// --max-shared-bits with --error-bound).
    Swis,
    /// Keep the top --shared-bits bits of the --weight-bits range.
    Truncate,
}

/// How signed-binary filters get their sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignRuleArg {
    /// First half of the filters positive, second half negative.
    Halves,
    /// The sign of the filter's weight sum.
    WeightSum,
}

#[derive(Debug, clap::Args)]
pub struct QuantizeArgs {
    /// Workload JSON (see workloads/README.md), a SCALE-Sim topology CSV or an ONNX model.
    pub workload: PathBuf,
    #[command(flatten)]
    pub model: super::ModelArgs,
    /// Scheme for every weight layer that does not set its own scheme [default: the workload's].
    #[arg(long, value_enum)]
    pub scheme: Option<SchemeArg>,
    /// Read every weight layer from this .npz/.npy/.safetensors file (synthetic layers use the
    /// tensor named like the layer, or `<layer>.weight`).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Folder for quant.csv [default: results/quantize/<workload name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// int: k (2..=16, default 8); swis/truncate: B, bits of the sign-magnitude base (default 8).
    #[arg(long)]
    pub weight_bits: Option<u32>,
    /// int: one scale per tensor instead of per output channel.
    #[arg(long)]
    pub per_tensor: bool,
    /// swis: weights per group along the reduction dimension (default 8).
    #[arg(long)]
    pub group_size: Option<u32>,
    /// swis: shared bit positions N per group (default 3); truncate: kept bits (default 3).
    #[arg(long)]
    pub shared_bits: Option<u32>,
    /// swis variable N: largest N per group (use with --error-bound).
    #[arg(long, conflicts_with = "shared_bits")]
    pub max_shared_bits: Option<u32>,
    /// swis variable N: largest relative squared error of a group (default 0.01).
    #[arg(long, requires = "max_shared_bits")]
    pub error_bound: Option<f64>,
    /// ternary: threshold factor (default 0.7); signed-binary: t of t * max|w| (default 0.05).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// signed-binary: how a filter gets its sign (default halves).
    #[arg(long, value_enum)]
    pub sign_rule: Option<SignRuleArg>,
    /// signed-binary: scale by the mean |w| of the kept weights instead of 1.
    #[arg(long)]
    pub alpha: bool,
    /// Worker threads, 1 to 4x the cores (default: all cores); results do not depend on it.
    #[arg(long, value_parser = super::parse_threads)]
    pub threads: Option<usize>,
}

/// One `quant.csv` row: a layer, or the network total (`layer` = `total`).
#[derive(Debug, serde::Serialize)]
struct QuantRow {
    layer: String,
    op: String,
    shape: String,
    scheme: String,
    weights: u64,
    filters: u64,
    nonzero_weights: u64,
    density: f64,
    effectual_bits_per_weight: f64,
    distinct_values_per_filter_mean: f64,
    distinct_values_per_filter_max: u64,
    effectual_ops_per_output: f64,
    rel_error: f64,
    storage_bits: u64,
}

impl QuantRow {
    fn new(layer: &str, op: &str, shape: &str, scheme: &str, s: &QuantStats) -> Self {
        let r = |x: f64| (x * 1e6).round() / 1e6;
        QuantRow {
            layer: layer.into(),
            op: op.into(),
            shape: shape.into(),
            scheme: scheme.into(),
            weights: s.weights,
            filters: s.filters,
            nonzero_weights: s.nonzeros,
            density: r(s.density()),
            effectual_bits_per_weight: r(s.effectual_bits_per_weight()),
            distinct_values_per_filter_mean: r(s.distinct_per_filter_mean()),
            distinct_values_per_filter_max: s.distinct_max,
            effectual_ops_per_output: r(s.effectual_ops_per_output()),
            rel_error: r(s.rel_error()),
            storage_bits: s.storage_bits,
        }
    }
}

pub fn run(args: QuantizeArgs, v: Verbosity) -> anyhow::Result<()> {
    let mut net = io::load_workload_with(&args.workload, &args.model.options())?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results/quantize").join(io::output::file_component(&net.name))
    });
    let owns = |n: &str| n == "quant.csv";
    io::output::check_result_dir(&out, &owns)?;
    if let Some(scheme) = cli_scheme(&args)? {
        net = net.with_default_scheme(&scheme);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let source = io::FileSource::new(&args.workload, args.weights.as_deref());
    let (weights, codes) = (WeightCache::default(), CodeCache::default());
    let caches = Caches {
        weights: &weights,
        codes: &codes,
    };
    let all: Vec<bool> = net
        .layers
        .iter()
        .map(|l| l.weight_shape().is_some())
        .collect();
    let quantized = timed(&v, "quantize", || {
        pool.install(|| -> anyhow::Result<_> {
            // With every layer's statistics, in parallel.
            Ok(pipeline::quantize_layers_with_stats(
                &net, &all, &source, caches,
            )?)
        })
    })?;
    let rows = rows(&net, &quantized)?;
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in &rows {
        w.serialize(row)?;
    }
    let csv_bytes = w.into_inner().context("cannot write quant.csv")?;
    io::write_result_dir(&out, &[("quant.csv".to_string(), csv_bytes)], &owns)?;
    print!("{}", table(&rows));
    println!("wrote {}", out.join("quant.csv").display());
    Ok(())
}

/// Per-layer rows (weight layers, in network order) and the total row last.
fn rows(
    net: &Network,
    quantized: &[Option<std::sync::Arc<Quantized>>],
) -> anyhow::Result<Vec<QuantRow>> {
    let mut rows = Vec::new();
    let mut all = Vec::new();
    for (layer, q) in net.layers.iter().zip(quantized) {
        if let Some(q) = q {
            let s = *q
                .stats()
                .with_context(|| format!("layer `{}`: no statistics computed", layer.name))?;
            let shape = q
                .codes
                .shape
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join("x");
            rows.push(QuantRow::new(
                &layer.name,
                layer.op.kind().as_str(),
                &shape,
                &q.codes.scheme.label(),
                &s,
            ));
            all.push(s);
        }
    }
    let total = QuantStats::total(&all);
    rows.push(QuantRow::new("total", "", "", "", &total));
    Ok(rows)
}

fn table(rows: &[QuantRow]) -> String {
    let mut t = format!(
        "{:<28} {:>14} {:<26} {:>8} {:>9} {:>12} {:>10} {:>13}\n",
        "layer",
        "shape",
        "scheme",
        "density",
        "eff_bits",
        "distinct/f",
        "rel_error",
        "storage_bits"
    );
    for r in rows {
        t += &format!(
            "{:<28} {:>14} {:<26} {:>8.4} {:>9.3} {:>7.2}/{:<4} {:>10.5} {:>13}\n",
            r.layer,
            r.shape,
            r.scheme,
            r.density,
            r.effectual_bits_per_weight,
            r.distinct_values_per_filter_mean,
            r.distinct_values_per_filter_max,
            r.rel_error,
            r.storage_bits
        );
    }
    t
}

/// The scheme the flags describe, validated; `None` without `--scheme`.
fn cli_scheme(a: &QuantizeArgs) -> Result<Option<Scheme>, Error> {
    let Some(kind) = a.scheme else {
        let given = [
            ("--weight-bits", a.weight_bits.is_some()),
            ("--per-tensor", a.per_tensor),
            ("--group-size", a.group_size.is_some()),
            ("--shared-bits", a.shared_bits.is_some()),
            ("--max-shared-bits", a.max_shared_bits.is_some()),
            ("--threshold", a.threshold.is_some()),
            ("--sign-rule", a.sign_rule.is_some()),
            ("--alpha", a.alpha),
        ];
        let problems: Vec<Problem> = given
            .iter()
            .filter(|(_, set)| *set)
            .map(|(flag, _)| {
                Problem::new(*flag, "is a scheme parameter but no --scheme is given")
                    .with_help("add --scheme, or set the parameter in the workload's quant")
            })
            .collect();
        return if problems.is_empty() {
            Ok(None)
        } else {
            Err(Error::invalid("command line", problems))
        };
    };
    // A flag of another scheme is a mistake on the command line (a workload's layered
    // tables may carry them; flags are one scheme's).
    use SchemeArg as K;
    let flags: [(&str, bool, &[SchemeArg]); 9] = [
        (
            "--weight-bits",
            a.weight_bits.is_some(),
            &[K::Int, K::Swis, K::Truncate],
        ),
        ("--per-tensor", a.per_tensor, &[K::Int]),
        ("--group-size", a.group_size.is_some(), &[K::Swis]),
        (
            "--shared-bits",
            a.shared_bits.is_some(),
            &[K::Swis, K::Truncate],
        ),
        ("--max-shared-bits", a.max_shared_bits.is_some(), &[K::Swis]),
        ("--error-bound", a.error_bound.is_some(), &[K::Swis]),
        (
            "--threshold",
            a.threshold.is_some(),
            &[K::Ternary, K::SignedBinary],
        ),
        ("--sign-rule", a.sign_rule.is_some(), &[K::SignedBinary]),
        ("--alpha", a.alpha, &[K::SignedBinary]),
    ];
    let name = |k: SchemeArg| {
        clap::ValueEnum::to_possible_value(&k).map_or(String::new(), |v| v.get_name().to_string())
    };
    let misplaced: Vec<Problem> = flags
        .iter()
        .filter(|(_, set, schemes)| *set && !schemes.contains(&kind))
        .map(|(flag, _, schemes)| {
            Problem::new(*flag, format!("does not apply to --scheme {}", name(kind))).with_help(
                format!(
                    "it applies to --scheme {}",
                    schemes
                        .iter()
                        .map(|&k| name(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
        .collect();
    if !misplaced.is_empty() {
        return Err(Error::invalid("command line", misplaced));
    }
    // The flags as a raw `quant` table, validated by the one quantization validator.
    let raw = RawQuant {
        scheme: Some(
            match kind {
                SchemeArg::Int => "int",
                SchemeArg::Binary => "binary",
                SchemeArg::Ternary => "ternary",
                SchemeArg::SignedBinary => "signed_binary",
                SchemeArg::Swis => "swis",
                SchemeArg::Truncate => "truncate",
            }
            .to_string(),
        ),
        weight_bits: a.weight_bits.map(i64::from),
        activation_bits: None,
        per_channel: a.per_tensor.then_some(false),
        threshold: a.threshold,
        sign_rule: a.sign_rule.map(|r| match r {
            SignRuleArg::Halves => SignRule::Halves,
            SignRuleArg::WeightSum => SignRule::WeightSum,
        }),
        alpha: a.alpha.then_some(true),
        group_size: a.group_size.map(i64::from),
        shared_bits: a.shared_bits.map(i64::from),
        max_shared_bits: a.max_shared_bits.map(i64::from),
        error_bound: a.error_bound,
    };
    let mut problems = Vec::new();
    let spec = resolve_quant(&raw, "", &mut problems);
    if problems.is_empty() {
        Ok(Some(spec.scheme))
    } else {
        // `.weight_bits` -> `--weight-bits`: name the flag.
        for p in &mut problems {
            p.path = format!("--{}", p.path.trim_start_matches('.').replace('_', "-"));
        }
        Err(Error::invalid("command line", problems))
    }
}
