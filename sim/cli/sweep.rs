//! `plumsim sweep SPEC --out FILE.csv`: evaluate a design space, streaming rows to disk.
//!
//! Rows are appended (one write per row) to `FILE.csv.partial` as points finish; a killed
//! sweep keeps every finished row there, and `--resume` skips them. When every point of the
//! run is done the rows are sorted by (point, workload) and written to `FILE.csv`
//! atomically, and the partial file is removed.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;

use plumsim::pareto::front_rows;
use plumsim::sweep::{sort_rows, Shard, Sweep, Table};
use plumsim::table::csv_line;

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Sweep spec TOML (see docs/sweeps.md).
    pub spec: PathBuf,
    /// Result CSV [default: results/<spec name>.csv].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores); results do not depend on it.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only the points with id % N == I (I/N, 0-based); join shard files with `plumsim merge`.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Continue a killed sweep: keep the rows in OUT.partial (or a finished OUT) and run the rest.
    #[arg(long)]
    pub resume: bool,
    /// Testing aid: stop after K rows, leaving OUT.partial as a killed sweep would.
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
}

/// `FILE.csv` -> `FILE.csv.partial`.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Progress on stderr: a bar on a terminal; elsewhere (a log file) a plain line every 10 % or
/// 30 s with `-v`, nothing otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    start: Instant,
    last: Mutex<(Instant, usize)>,
    lines: bool,
}

impl Progress {
    fn new(total: usize, v: Verbosity) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!v.quiet && terminal).then(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} points  {per_sec}  eta {eta}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Progress {
            bar,
            total,
            start: Instant::now(),
            last: Mutex::new((Instant::now(), 0)),
            lines: v.verbose && !terminal,
        }
    }

    fn tick(&self, done: usize) {
        if let Some(b) = &self.bar {
            b.set_position(done as u64);
            return;
        }
        if !self.lines || self.total == 0 {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let step = (self.total / 10).max(1);
        if done / step > last.1 / step || last.0.elapsed() >= Duration::from_secs(30) {
            let secs = self.start.elapsed().as_secs_f64();
            let rate = done as f64 / secs.max(1e-9);
            let eta = (self.total - done) as f64 / rate.max(1e-9);
            eprintln!(
                "sweep: {done}/{} rows ({:.0}%), {rate:.1}/s, eta {eta:.0} s",
                self.total,
                100.0 * done as f64 / self.total as f64
            );
            *last = (Instant::now(), done);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

pub fn run(args: SweepArgs, v: Verbosity) -> anyhow::Result<()> {
    let sweep = Sweep::load(&args.spec)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .spec
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sweep".into());
        PathBuf::from("results").join(format!("{stem}.csv"))
    });
    let partial = partial_path(&out);
    let jobs = sweep.jobs(args.shard);

    // Rows already done: a finished OUT (resume after completion) or a partial file.
    let mut done = Table {
        headers: sweep.headers.clone(),
        rows: Vec::new(),
    };
    let mut keep_bytes = None;
    if args.resume {
        if partial.exists() {
            let text = std::fs::read_to_string(&partial)
                .with_context(|| format!("cannot read {}", partial.display()))?;
            let (t, complete) = Table::parse_partial(&text, &partial.display().to_string())?;
            done = t;
            keep_bytes = Some(complete as u64);
        } else if out.exists() {
            let text = std::fs::read_to_string(&out)
                .with_context(|| format!("cannot read {}", out.display()))?;
            done = Table::parse(&text, &out.display().to_string())?;
        }
    } else if partial.exists() {
        return Err(plumsim::Error::invalid(
            partial.display().to_string(),
            vec![plumsim::Problem::new(
                "--resume",
                "is missing: this file holds the rows of an unfinished sweep",
            )
            .with_help("pass --resume to continue it, or delete the file")],
        )
        .into());
    }
    let origin = if keep_bytes.is_some() { &partial } else { &out };
    let done_keys = sweep.check_done(&done, &origin.display().to_string())?;
    let todo: Vec<_> = jobs
        .iter()
        .copied()
        .filter(|j| !done_keys.contains(&sweep.key(j)))
        .collect();

    // The partial file: the rows done so far (cut after the last complete line), then appends.
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut file = match keep_bytes {
        Some(len) => {
            let f = std::fs::OpenOptions::new()
                .append(true)
                .open(&partial)
                .with_context(|| format!("cannot open {}", partial.display()))?;
            f.set_len(len)
                .with_context(|| format!("cannot truncate {}", partial.display()))?;
            f
        }
        None => {
            let mut f = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            f.write_all(done.to_csv().as_bytes())?;
            f
        }
    };
    file.flush()?;
    let file = Mutex::new(file);

    if !v.quiet {
        eprintln!(
            "sweep {}: {} points ({} excluded by constraints) x {} workloads; {} rows to run{}{}",
            args.spec.display(),
            sweep.plan.points.len(),
            sweep.plan.excluded,
            sweep.workloads.len(),
            todo.len(),
            args.shard
                .map(|s| format!(" in shard {}/{}", s.index, s.count))
                .unwrap_or_default(),
            if done_keys.is_empty() {
                String::new()
            } else {
                format!(", {} done before", done_keys.len())
            }
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let progress = Progress::new(todo.len().min(args.stop_after.unwrap_or(usize::MAX)), v);
    let written = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    let sink = |row: Vec<String>| -> plumsim::Result<()> {
        let line = csv_line(&row);
        let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
        f.write_all(line.as_bytes())
            .map_err(|source| plumsim::Error::Io {
                path: partial.display().to_string(),
                source,
            })?;
        let n = written.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        drop(f);
        progress.tick(n);
        Ok(())
    };
    let stats = pool.install(|| sweep.run(&todo, args.stop_after, &sink))?;
    progress.finish();
    drop(file);
    let secs = start.elapsed().as_secs_f64();
    if !v.quiet {
        eprintln!(
            "sweep: {} rows in {secs:.1} s ({:.1} rows/s); {} ok, {} invalid, {} unsupported or failed; {} distinct weight codes quantized",
            stats.rows,
            stats.rows as f64 / secs.max(1e-9),
            stats.ok,
            stats.invalid,
            stats.failed,
            stats.quantized
        );
    }
    if stats.stopped {
        eprintln!(
            "sweep: stopped after {} rows; the rows are in {} (continue with --resume)",
            stats.rows,
            partial.display()
        );
        return Ok(());
    }

    // Done: sort every row into OUT, atomically, and drop the partial file.
    let text = std::fs::read_to_string(&partial)
        .with_context(|| format!("cannot read {}", partial.display()))?;
    let mut all = Table::parse(&text, &partial.display().to_string())?;
    sort_rows(&mut all);
    plumsim::io::write_all_atomic(&[(out.clone(), all.to_csv().into_bytes())])?;
    std::fs::remove_file(&partial)
        .with_context(|| format!("cannot remove {}", partial.display()))?;
    if !v.quiet {
        eprintln!("wrote {} ({} rows)", out.display(), all.rows.len());
    }

    // The front of the spec's objectives, per workload, when the whole sweep is here.
    let objectives = &sweep.plan.spec.objectives;
    if !objectives.is_empty() && args.shard.is_none() {
        let ok = all.select(&[], &out.display().to_string())?;
        let on = front_rows(
            &ok,
            objectives,
            Some("workload"),
            &out.display().to_string(),
        )?;
        let mut cols = vec!["point".to_string()];
        cols.extend(sweep.plan.spec.param_columns());
        cols.push("workload".into());
        cols.extend(objectives.iter().map(|(c, _)| c.clone()));
        println!("{}", crate::cli::pareto::render(&ok, &on, &cols));
    }
    Ok(())
}
