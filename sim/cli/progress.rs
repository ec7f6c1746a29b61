//! What the commands say on stderr besides errors: `-q` silences notes, `-v` adds detail, and
//! jobs that take more than a moment draw a progress bar, only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Instant;

/// `-q/--quiet` and `-v/--verbose`, on every subcommand.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Verbosity {
    /// Print nothing but errors on stderr (no progress, notes or timings).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also print what is loaded, quantized and simulated, with timings, on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Verbosity {
    /// A note (default and verbose).
    pub fn note(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Detail (verbose only).
    pub fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// A progress bar over `len` steps named `what`; drawn only on a terminal and not quiet.
    pub fn bar(&self, len: u64, what: &str) -> Bar {
        let bar = (!self.quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(len);
            b.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "{{bar:40}} {{pos}}/{{len}} {what}  eta {{eta}}  {{msg}}"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Bar {
            bar,
            verbose: self.verbose,
            start: Instant::now(),
        }
    }
}

/// A progress bar (or nothing), with timings in verbose mode.
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    verbose: bool,
    start: Instant,
}

impl Bar {
    /// One step done, `msg` names the next.
    pub fn step(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(msg.to_string());
        }
        if self.verbose {
            let line = format!("[{:>7.2} s] {msg}", self.start.elapsed().as_secs_f64());
            match &self.bar {
                Some(b) => b.println(line),
                None => eprintln!("{line}"),
            }
        }
    }

    /// A note that does not garble the bar (above it on a terminal); nothing with `-q`.
    pub fn note(&self, v: &Verbosity, msg: &str) {
        match &self.bar {
            Some(b) => b.println(msg),
            None => v.note(msg),
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Time a stage, saying how long it took in verbose mode.
pub fn timed<T>(v: &Verbosity, what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    v.detail(format!("{what}: {:.3} s", start.elapsed().as_secs_f64()));
    out
}
