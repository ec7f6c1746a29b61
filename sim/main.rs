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
    // The pipeline allocates and frees layer-sized buffers (float weights, codes, magnitudes)
    // layer after layer. glibc maps each allocation above its threshold (128 KiB, raised up to
    // 32 MiB as such blocks are freed) freshly and unmaps it on free, so a layer pays a page
    // fault for every page the previous layer just returned: 5-7 % of the main command's CPU
    // time. Below 256 MiB they now come from the heap and are reused, and the heap keeps up
    // to 256 MiB of free memory before trimming (peak memory is unchanged, measured with
    // `scripts/bench.sh`).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets two of glibc's allocation parameters, before any thread
    // starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
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
