//! `plumsim compare WORKLOAD [ARCH...] [--baseline ARCH]`: designs side by side.

use std::path::PathBuf;

use anyhow::Context;

use plumsim::arch::Arch;
use plumsim::compare::{compare_rows, markdown, DesignResult};
use plumsim::pipeline::{Caches, CodeCache, WeightCache};
use plumsim::report::to_csv;
use plumsim::studies::energy_bars;
use plumsim::{io, shipped};

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without ARCH, the shipped arch/*_pe16.toml design of every PE kind is compared (dense_pe16, the int8 member of the family, is the baseline); those designs are built into the binary, so this works from any folder."
)]
pub struct CompareArgs {
    /// Workload JSON, a SCALE-Sim topology CSV or an ONNX model.
    pub workload: PathBuf,
    #[command(flatten)]
    pub model: super::ModelArgs,
    /// Architectures to compare [default: the shipped *_pe16 designs, built in].
    pub archs: Vec<PathBuf>,
    /// Design the speedup and energy ratio are relative to [default: dense_pe16, the fair
    /// int8 baseline of the *_pe16 family, if compared, else the first].
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Read every weight layer's tensor from this file.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Output folder for compare.csv [default: results/compare/<workload>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compare at equal area: resize every design's array to the largest square, then the
    /// most more columns, whose total area (array, buffers, vector unit) fits this many mm^2.
    #[arg(long, value_name = "MM2", value_parser = positive_mm2)]
    pub area_budget: Option<f64>,
}

/// An area budget: a finite number of mm^2 above 0.
fn positive_mm2(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not an area: allowed is a number of mm^2 > 0"
        )),
    }
}

/// A design to compare: a file named on the command line, or a shipped one.
#[derive(Debug, Clone, PartialEq)]
enum Design {
    File(PathBuf),
    Shipped(&'static str),
}

impl Design {
    fn load(&self) -> plumsim::Result<Arch> {
        match self {
            Design::File(p) => io::load_arch(p),
            Design::Shipped(name) => shipped::arch(name),
        }
    }

    fn describe(&self) -> String {
        match self {
            Design::File(p) => p.display().to_string(),
            Design::Shipped(name) => format!("arch/{name} (built in)"),
        }
    }

    fn is_fair_dense(&self) -> bool {
        let name = match self {
            Design::File(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
            Design::Shipped(n) => Some(n.to_string()),
        };
        name.as_deref() == Some("dense_pe16.toml")
    }
}

pub fn run(args: CompareArgs, v: Verbosity) -> anyhow::Result<()> {
    let designs: Vec<Design> = if args.archs.is_empty() {
        super::shipped::compare_designs()
            .into_iter()
            .map(Design::Shipped)
            .collect()
    } else {
        args.archs.iter().cloned().map(Design::File).collect()
    };
    let baseline = match &args.baseline {
        Some(p) => Design::File(p.clone()),
        None => designs
            .iter()
            .find(|d| d.is_fair_dense())
            .unwrap_or(&designs[0])
            .clone(),
    };
    let net = io::load_workload_with(&args.workload, &args.model.options())?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results/compare").join(io::output::file_component(&net.name))
    });
    io::output::check_result_dir(&out, &owns_compare_file)?;
    let mut all = designs.clone();
    if !all.contains(&baseline) {
        all.push(baseline.clone());
    }
    let source = io::FileSource::new(&args.workload, args.weights.as_deref());
    let (weights, codes) = (WeightCache::default(), CodeCache::default());
    let caches = Caches {
        weights: &weights,
        codes: &codes,
    };
    let bar = v.bar(all.len() as u64, "designs");
    let results = all
        .iter()
        .map(|d| {
            bar.step(&d.describe());
            design(d, &net, &source, caches, args.area_budget, &v)
                .with_context(|| format!("design {}", d.describe()))
        })
        .collect::<anyhow::Result<Vec<_>>>();
    bar.finish();
    let results = results?;
    let base = all
        .iter()
        .position(|a| *a == baseline)
        .expect("baseline is in the list");
    let mut rows = compare_rows(&results, base);
    rows.truncate(designs.len());
    let mut files = vec![(out.join("compare.csv"), to_csv(&rows).into_bytes())];
    energy_bars(
        &mut files,
        &rows,
        &out.join("compare_energy"),
        &format!(
            "{}: energy per inference by component",
            plumsim::plot::labels::network_name(&net.name)
        ),
    )?;
    let files: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(p, b)| (p.strip_prefix(&out).unwrap_or(&p).display().to_string(), b))
        .collect();
    io::write_result_dir(&out, &files, &owns_compare_file)?;
    if let Some(b) = args.area_budget {
        println!("at equal area: every array resized to fit {b} mm^2 (name@rows x cols)\n");
    }
    print!("{}", markdown(&rows, &results[base].label, &net.name));
    println!("wrote {}", out.join("compare.csv").display());
    Ok(())
}

fn design(
    d: &Design,
    net: &plumsim::workload::Network,
    source: &io::FileSource,
    caches: Caches,
    area_budget: Option<f64>,
    v: &Verbosity,
) -> anyhow::Result<DesignResult> {
    let arch = d.load()?;
    let admit = |arch: &Arch, bytes: u128| {
        io::check_memory(
            &format!("design `{}` on workload `{}`", arch.name, net.name),
            bytes,
        )
    };
    let (result, note) =
        plumsim::compare::evaluate(&arch, net, source, caches, area_budget, &admit)?;
    if let Some(note) = note {
        v.note(format!("note: {note}"));
    }
    Ok(result)
}

/// Files `compare` writes into its results folder (and `report.html`, which `plumsim
/// report` makes of them: a new comparison removes it rather than leave a stale page).
fn owns_compare_file(name: &str) -> bool {
    matches!(
        name,
        "compare.csv" | "compare_energy.svg" | "compare_energy.png" | "report.html"
    )
}
