//! The `plumsim` command-line tool: a thin edge over the plumsim library.

use std::process::ExitCode;

use clap::Parser;

mod cli;

fn main() -> ExitCode {
    // A closed pipe (`plumsim run ... | head -1`) ends the process quietly, as it does for
    // other command-line tools, instead of a panic on the next print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    plumsim::io::tune_allocator();
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // Bad input (a plumsim::Error anywhere in the chain) is exit 2; anything else 1.
            let user = e.chain().any(|c| {
                c.downcast_ref::<plumsim::Error>()
                    .is_some_and(plumsim::Error::is_user_error)
            });
            ExitCode::from(if user { 2 } else { 1 })
        }
    }
}
