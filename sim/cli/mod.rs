//! Subcommands: one module and one args struct each.

use clap::{Parser, Subcommand};

pub mod compare;
pub mod import;
pub mod merge;
pub mod pareto;
pub mod plot;
pub mod progress;
pub mod quantize;
pub mod report;
pub mod reproduce;
pub mod run;
pub mod shipped;
pub mod sweep;
pub mod tables;
pub mod validate;

/// `--input-shape NAME=DIMS` for commands that read a workload: an ONNX model's input shape,
/// batch first, resolving its dynamic dimensions.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModelArgs {
    /// Shape of an ONNX workload's input, batch first (NAME=1,3,224,224); resolves the model's
    /// dynamic dimensions. Repeat for several inputs.
    #[arg(long = "input-shape", value_name = "NAME=DIMS", value_parser = plumsim::io::parse_input_shape)]
    pub input_shape: Vec<(String, Vec<u64>)>,
}

impl ModelArgs {
    pub fn options(&self) -> plumsim::io::LoadOptions {
        plumsim::io::LoadOptions {
            input_shapes: self.input_shape.iter().cloned().collect(),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "plumsim",
    version,
    about = "Cycle-level simulator for low-precision DNN accelerators"
)]
pub struct Cli {
    #[command(flatten)]
    pub verbosity: progress::Verbosity,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one architecture on one workload: per-layer cycles, utilization, traffic.
    Run(run::RunArgs),
    /// Check an architecture and a workload without simulating.
    Validate(validate::ValidateArgs),
    /// Quantize a workload's weights and print per-layer statistics.
    Quantize(quantize::QuantizeArgs),
    /// Print the energy table in force for an architecture, with every entry's source.
    EnergyTable(tables::EnergyTableArgs),
    /// Print the area table in force for an architecture and the design's area by component.
    AreaTable(tables::AreaTableArgs),
    /// Compare designs on one workload: cycles, energy, EDP, density, ACE, speedup.
    Compare(compare::CompareArgs),
    /// Regenerate the evidence in results/ (PLUM, SWIS, PikeLPN claims; Pareto; sensitivity).
    Reproduce(reproduce::ReproduceArgs),
    /// Convert another tool's inputs into plumsim files.
    #[command(subcommand)]
    Import(import::ImportCommand),
    /// Evaluate a design space from a sweep spec; one CSV row per point and workload.
    Sweep(sweep::SweepArgs),
    /// Check and join the shard files of a sweep.
    Merge(merge::MergeArgs),
    /// Print the Pareto front (non-dominated rows) of a results CSV.
    Pareto(pareto::ParetoArgs),
    /// Plot a results CSV: scatter with Pareto front, or per-layer bars (SVG or PNG).
    Plot(plot::PlotArgs),
    /// List the PE kinds: their cost per step and `[pe]` options (`--markdown`: the docs table).
    Kinds(shipped::KindsArgs),
    /// Write one self-contained HTML page (DIR/report.html) for a run's, a comparison's or a
    /// sweep's results: key figures, charts, sortable tables, where they came from.
    Report(report::ReportArgs),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let v = cli.verbosity;
    match cli.command {
        Command::Run(a) => run::run(a, v),
        Command::Validate(a) => validate::run(a, v),
        Command::Quantize(a) => quantize::run(a, v),
        Command::Import(c) => import::run(c, v),
        Command::Sweep(a) => sweep::run(a, v),
        Command::Merge(a) => merge::run(a, v),
        Command::Pareto(a) => pareto::run(a, v),
        Command::Plot(a) => plot::run(a, v),
        Command::EnergyTable(a) => tables::energy(a, v),
        Command::AreaTable(a) => tables::area(a, v),
        Command::Compare(a) => compare::run(a, v),
        Command::Reproduce(a) => reproduce::run(a, v),
        Command::Kinds(a) => shipped::kinds(a, v),
        Command::Report(a) => report::run(a, v),
    }
}

/// Whether to colour what goes to stdout: a terminal, `NO_COLOR` unset or empty
/// (no-color.org), and a `TERM` other than `dumb`.
pub fn colour_stdout() -> bool {
    use std::io::IsTerminal;
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    std::io::stdout().is_terminal()
        && !set("NO_COLOR")
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The machine's cores, as the operating system reports them (1 if it cannot tell).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Parse a worker-thread count (`--threads`, `--jobs`): 1 to 4x the machine's cores. More
/// threads than that only add contention, and a huge count would spend the run starting
/// threads; results never depend on the count.
pub fn parse_threads(s: &str) -> Result<usize, String> {
    let max = 4 * cores();
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(n) => Err(format!(
            "{n}: this machine has {} core(s), so 1 to {max} threads are allowed",
            cores()
        )),
        Err(_) => Err(format!(
            "`{s}` is not a whole number of threads (1 to {max})"
        )),
    }
}
