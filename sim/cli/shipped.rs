//! `plumsim kinds`: the registered PE kinds. Also the shipped designs `compare` runs by default.

use plumsim::pe::{kind_table_markdown, PeKind};

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
pub struct KindsArgs {
    /// Print the kind table of arch/README.md ("What each PE kind models").
    #[arg(long)]
    pub markdown: bool,
}

pub fn kinds(args: KindsArgs, _v: Verbosity) -> anyhow::Result<()> {
    if args.markdown {
        print!("{}", kind_table_markdown());
        println!();
        print!("{}", plumsim::area::hardware_table_markdown(&family()?));
        return Ok(());
    }
    for k in PeKind::all() {
        let m = k.model();
        let options: Vec<&str> = m.options().iter().map(|o| o.field()).collect();
        println!(
            "{:<14} options: {:<20} zero-activation skipping: {:<3} dataflows: {:<10} compared by default: {}",
            k.as_str(),
            if options.is_empty() { "-".to_string() } else { options.join(", ") },
            if m.skips_zero_activations() { "yes" } else { "no" },
            if m.weight_stationary_only() { "ws" } else { "ws, os, is" },
            m.compare_design().unwrap_or("-"),
        );
    }
    Ok(())
}

/// The shipped designs of the `*_pe16` family, in registry order.
pub fn family() -> plumsim::Result<Vec<plumsim::arch::Arch>> {
    compare_designs()
        .into_iter()
        .map(plumsim::shipped::arch)
        .collect()
}

/// The shipped designs `plumsim compare` runs when none are named: each kind's own, in
/// registry order.
pub fn compare_designs() -> Vec<&'static str> {
    PeKind::all()
        .filter_map(|k| k.model().compare_design())
        .collect()
}
