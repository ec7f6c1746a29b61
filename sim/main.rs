//! The `plumsim` command-line tool: a thin edge over the plumsim library.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Bad input (a plumsim::Error anywhere in the chain) is exit 2; anything else 1.
            let user = e
                .chain()
                .any(|c| c.downcast_ref::<plumsim::Error>().is_some());
            ExitCode::from(if user { 2 } else { 1 })
        }
    }
}
