//! Subcommands: one module and one args struct each.

use clap::{Parser, Subcommand};

pub mod import;
pub mod quantize;
pub mod run;
pub mod validate;

#[derive(Debug, Parser)]
#[command(
    name = "plumsim",
    version,
    about = "Cycle-level simulator for low-precision DNN accelerators"
)]
pub struct Cli {
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
    /// Convert another tool's inputs into plumsim files.
    #[command(subcommand)]
    Import(import::ImportCommand),
}

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run(a) => run::run(a),
        Command::Validate(a) => validate::run(a),
        Command::Quantize(a) => quantize::run(a),
        Command::Import(c) => import::run(c),
    }
}
