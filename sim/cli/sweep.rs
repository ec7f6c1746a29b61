//! `plumsim sweep SPEC --out FILE.csv`: evaluate a design space, streaming rows to disk.
//!
//! Before anything is loaded, `FILE.csv` must be able to take the result (not a folder, its
//! folder writable or creatable) and `FILE.csv.partial` must be absent or a regular file (a
//! symlink there is refused, never followed) that no other sweep holds locked.
//!
//! Rows are appended (one write per row) to `FILE.csv.partial` as points finish, each with
//! its check, under the file's fingerprint (see `plumsim::sweep`); the process holds an
//! exclusive lock (`flock`) on it for the whole run, so a second sweep on the same file
//! stops at once. A killed sweep keeps every finished row there, and `--resume` skips them
//! (after checking the fingerprint, and dropping rows whose check fails). When every point
//! of the run is done the rows are sorted by (point, workload) and written to `FILE.csv`
//! atomically (with `FILE.csv.shard`, the shard's manifest, for `--shard`), and the partial
//! file is removed.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;

use plumsim::pareto::front_rows;
use plumsim::sweep::{
    check_header, manifest_path, partial_line, sort_rows, Fingerprint, Shard, ShardManifest, Sweep,
    Table,
};
use plumsim::{Error, Problem};

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// Sweep spec TOML (see docs/sweeps.md).
    pub spec: PathBuf,
    #[command(flatten)]
    pub model: super::ModelArgs,
    /// Result CSV [default: results/<spec name>.csv].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads, 1 to 4x the cores (default: all cores); results do not depend on it.
    #[arg(long, value_parser = super::parse_threads)]
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

/// A bad-input refusal (exit 2) about `path`.
fn refuse(path: &Path, what: &str, message: String, help: &str) -> anyhow::Error {
    Error::invalid(
        path.display().to_string(),
        vec![Problem::new(what, message).with_help(help)],
    )
    .into()
}

fn io_error(path: &Path, source: std::io::Error) -> anyhow::Error {
    Error::Io {
        path: path.display().to_string(),
        source,
    }
    .into()
}

/// `--out` can take the result: it names a file that is not a folder (nor a device or
/// pipe) nor the spec, and the nearest folder of its path that exists is a writable folder.
/// Checked before any work, so a bad `--out` leaves nothing behind.
fn check_out(out: &Path, spec: &Path) -> anyhow::Result<()> {
    let help = "--out names the result CSV file, e.g. --out results/sweep.csv";
    if out.file_name().is_none() || out.as_os_str().to_string_lossy().ends_with('/') {
        return Err(refuse(out, "--out", "names no file".into(), help));
    }
    if let Ok(m) = std::fs::metadata(out) {
        if m.is_dir() {
            return Err(refuse(
                out,
                "--out",
                "is a directory; the result is one CSV file".into(),
                "give a file path, e.g. --out DIR/sweep.csv",
            ));
        }
        if !m.is_file() {
            return Err(refuse(out, "--out", "is not a regular file".into(), help));
        }
        if let (Ok(a), Ok(b)) = (std::fs::canonicalize(out), std::fs::canonicalize(spec)) {
            if a == b {
                return Err(refuse(
                    out,
                    "--out",
                    "is the spec file itself; the result would replace it".into(),
                    help,
                ));
            }
        }
    }
    let mut dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    loop {
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(refuse(
                    &dir,
                    "--out",
                    format!("is not a directory, so {} cannot be created", out.display()),
                    "choose an output path whose folders are folders",
                ))
            }
            Err(_) => match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => dir = p.to_path_buf(),
                _ => {
                    dir = PathBuf::from(".");
                    break;
                }
            },
        }
    }
    if !writable(&dir) {
        return Err(refuse(
            &dir,
            "--out",
            format!("is not writable, so {} cannot be written", out.display()),
            "choose an output folder you can write to",
        ));
    }
    Ok(())
}

#[cfg(unix)]
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// Refuse a path that must be a regular file this process writes (or absent) but is a
/// symlink, a folder or a special file. True when a regular file is there.
fn check_plain(path: &Path) -> anyhow::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error(path, e)),
        Ok(m) if m.file_type().is_symlink() => Err(refuse(
            path,
            "file",
            "is a symlink; plumsim writes its partial rows only to a regular file it opens itself, never through a link".into(),
            "remove the symlink (and check who planted it)",
        )),
        Ok(m) if !m.is_file() => Err(refuse(
            path,
            "file",
            "is not a regular file".into(),
            "remove it, or choose another --out",
        )),
        Ok(_) => Ok(true),
    }
}

/// Take the exclusive lock on the partial file, without waiting.
#[cfg(unix)]
fn try_lock(f: &File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a descriptor `f` owns; no memory is passed. (`File::try_lock` does the
    // same on Linux but needs Rust 1.89; the crate's rust-version is older.)
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e)
    }
}

#[cfg(not(unix))]
#[allow(clippy::incompatible_msrv)]
fn try_lock(f: &File) -> std::io::Result<bool> {
    match f.try_lock() {
        Ok(()) => Ok(true),
        Err(std::fs::TryLockError::WouldBlock) => Ok(false),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

fn lock_held(path: &Path) -> anyhow::Error {
    anyhow::Error::from(Error::invalid(
        path.display().to_string(),
        vec![Problem::new(
            "lock",
            format!(
                "another plumsim sweep is writing {} (lock held)",
                path.display()
            ),
        )
        .with_help("wait for it to finish (or stop it), then --resume; two sweeps on one file would write every row twice")],
    ))
}

/// True when `path` still names the file `f` has open (not removed or replaced since).
fn same_file(f: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (f.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = f;
        std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
    }
}

fn open_options() -> std::fs::OpenOptions {
    let mut o = std::fs::OpenOptions::new();
    o.read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Never through a symlink; never block on a pipe planted at the path.
        o.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    o
}

/// The locked partial file, open for reading and writing; `None` when there is none.
/// `create`: create it (it must not exist); else open the one there.
fn open_partial(path: &Path, create: bool) -> anyhow::Result<Option<File>> {
    let mut o = open_options();
    if create {
        o.create_new(true);
    }
    let f = match o.open(path) {
        Ok(f) => f,
        Err(e) if !create && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            // A symlink or special file put there since the first look: name it.
            check_plain(path)?;
            return Err(io_error(path, e));
        }
    };
    if !f.metadata().is_ok_and(|m| m.is_file()) {
        return Err(refuse(
            path,
            "file",
            "is not a regular file".into(),
            "remove it, or choose another --out",
        ));
    }
    if !try_lock(&f).map_err(|e| io_error(path, e))? {
        return Err(lock_held(path));
    }
    // Locked, but the path may have been removed (a sweep that just finished) or replaced
    // between the open and the lock.
    if !same_file(&f, path) {
        return Err(lock_held(path));
    }
    Ok(Some(f))
}

fn missing_resume(path: &Path) -> anyhow::Error {
    refuse(
        path,
        "--resume",
        "is missing: this file holds the rows of an unfinished sweep".into(),
        "pass --resume to continue it, or delete the file",
    )
}

/// A finished result being resumed: it must be this run's (by its shard manifest when it
/// has one, else by its rows' points and shard).
fn read_finished(
    sweep: &Sweep,
    out: &Path,
    fp: &Fingerprint,
    shard: Option<Shard>,
) -> anyhow::Result<(Table, BTreeSet<(u64, String)>)> {
    let bytes = std::fs::read(out).map_err(|e| io_error(out, e))?;
    let origin = out.display().to_string();
    let text = plumsim::io::files::decode_utf8(bytes, &origin)?;
    let done = Table::parse(&text, &origin)?;
    let mpath = manifest_path(out);
    if check_plain(&mpath)? {
        let m = ShardManifest::parse(
            &plumsim::io::read_text(&mpath)?,
            &mpath.display().to_string(),
        )?;
        let differs = m.fingerprint.differences(fp);
        if !differs.is_empty() {
            return Err(Error::invalid(
                mpath.display().to_string(),
                differs
                    .into_iter()
                    .map(|p| p.with_help(format!("{} is the result of another run; --resume continues a run of the same spec, shard and plumsim version", out.display())))
                    .collect(),
            )
            .into());
        }
        if !m.describes(text.as_bytes()) {
            return Err(refuse(
                out,
                "file",
                format!(
                    "was changed after plumsim wrote it (its manifest {} records other bytes)",
                    mpath.display()
                ),
                "run the sweep again without --resume",
            ));
        }
    }
    let keys = sweep.check_done(&done, &origin, shard)?;
    Ok((done, keys))
}

fn write_at_end(f: &mut File, path: &Path, text: &str) -> anyhow::Result<()> {
    f.seek(SeekFrom::End(0))
        .and_then(|_| f.write_all(text.as_bytes()))
        .and_then(|_| f.flush())
        .map_err(|e| io_error(path, e))
}

/// Replace the whole content of the (locked) partial file.
fn rewrite(f: &mut File, path: &Path, text: &str) -> anyhow::Result<()> {
    f.set_len(0).map_err(|e| io_error(path, e))?;
    write_at_end(f, path, text)
}

pub fn run(args: SweepArgs, v: Verbosity) -> anyhow::Result<()> {
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .spec
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sweep".into());
        PathBuf::from("results").join(format!("{stem}.csv"))
    });
    let partial = partial_path(&out);
    let manifest = manifest_path(&out);

    // Before any work: where the results go, and whether another sweep is writing there.
    check_out(&out, &args.spec)?;
    if let Ok(m) = std::fs::symlink_metadata(&manifest) {
        if args.shard.is_some() && m.is_dir() {
            return Err(refuse(
                &manifest,
                "--out",
                "is a directory, where the shard's manifest goes".into(),
                "remove it, or choose another --out",
            ));
        }
    }
    if check_plain(&partial)? {
        // Probe the lock (released at once; taken for good below).
        drop(open_partial(&partial, false)?);
        if !args.resume {
            return Err(missing_resume(&partial));
        }
    }

    let sweep = Sweep::load_with(&args.spec, &args.model.options())?;
    let fp = sweep.fingerprint(args.shard);
    let check_cell = check_header(&fp);
    let header_line = plumsim::table::csv_line(&sweep.partial_headers(&fp));
    let partial_origin = partial.display().to_string();
    let jobs = sweep.jobs(args.shard);

    // The partial file, locked: a resumed one (rows checked) or a new one.
    let mut done_keys = BTreeSet::new();
    let mut resumed = None;
    if args.resume {
        if let Some(mut f) = open_partial(&partial, false)? {
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)
                .map_err(|e| io_error(&partial, e))?;
            let text = plumsim::io::files::decode_utf8(bytes, &partial_origin)?;
            let (rec, complete) = Table::parse_partial(&text, &partial_origin)?;
            if complete == 0 && header_line.starts_with(text.as_str()) {
                // Killed before its header was written: nothing to keep.
                rewrite(&mut f, &partial, &header_line)?;
            } else {
                if complete == 0 {
                    return Err(refuse(
                        &partial,
                        "header",
                        "has no complete line: it is not a partial file of this sweep".into(),
                        "delete it to start over",
                    ));
                }
                let r = sweep.check_partial(&rec, &partial_origin, &fp)?;
                if r.dropped.is_empty() {
                    f.set_len(complete as u64)
                        .map_err(|e| io_error(&partial, e))?;
                } else {
                    let shown: Vec<String> =
                        r.dropped.iter().take(20).map(ToString::to_string).collect();
                    // Said even with -q: finished rows are being thrown away.
                    eprintln!(
                        "warning: {}: {} row{} failed {} check (edited or damaged) and will be run again: {}{}",
                        partial.display(),
                        r.dropped.len(),
                        if r.dropped.len() == 1 { "" } else { "s" },
                        if r.dropped.len() == 1 { "its" } else { "their" },
                        shown.join(", "),
                        if r.dropped.len() > 20 { ", ..." } else { "" }
                    );
                    let mut t = header_line.clone();
                    for row in &r.done.rows {
                        t.push_str(&partial_line(&check_cell, row));
                    }
                    rewrite(&mut f, &partial, &t)?;
                }
                done_keys = r.keys;
            }
            resumed = Some(f);
        }
    }
    let mut file = match resumed {
        Some(f) => f,
        None => {
            // A finished OUT being resumed keeps its rows.
            let done = if args.resume && out.exists() {
                let (done, keys) = read_finished(&sweep, &out, &fp, args.shard)?;
                done_keys = keys;
                done
            } else {
                Table::default()
            };
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let mut f = match open_partial(&partial, true) {
                Ok(f) => f.expect("a created file"),
                Err(e) => {
                    // Another sweep created it since the first look: it holds the lock, or
                    // (killed since) left a partial file to resume.
                    if check_plain(&partial).unwrap_or(false) {
                        drop(open_partial(&partial, false)?);
                        return Err(if args.resume {
                            lock_held(&partial)
                        } else {
                            missing_resume(&partial)
                        });
                    }
                    return Err(e);
                }
            };
            let mut t = header_line.clone();
            for row in &done.rows {
                t.push_str(&partial_line(&check_cell, row));
            }
            write_at_end(&mut f, &partial, &t)?;
            f
        }
    };
    file.seek(SeekFrom::End(0))
        .map_err(|e| io_error(&partial, e))?;
    let todo: Vec<_> = jobs
        .iter()
        .copied()
        .filter(|j| !done_keys.contains(&sweep.key(j)))
        .collect();
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
        let line = partial_line(&check_cell, &row);
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
    let mut file = file.into_inner().unwrap_or_else(|e| e.into_inner());
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

    // Done: every row (read back through the locked file, checked again) sorted into OUT,
    // atomically, and the partial file dropped.
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| io_error(&partial, e))?;
    let text = plumsim::io::files::decode_utf8(bytes, &partial_origin)?;
    let (rec, _) = Table::parse_partial(&text, &partial_origin)?;
    let r = sweep.check_partial(&rec, &partial_origin, &fp)?;
    if !r.dropped.is_empty() || r.keys.len() != jobs.len() {
        return Err(refuse(
            &partial,
            "file",
            format!(
                "changed while this sweep wrote it ({} of {} rows fail their check or are missing)",
                r.dropped.len() + jobs.len().saturating_sub(r.keys.len()),
                jobs.len()
            ),
            "something else writes to this file; run the sweep again with --resume",
        ));
    }
    let mut all = r.done;
    sort_rows(&mut all);
    let csv = all.to_csv().into_bytes();
    let mut files = vec![(out.clone(), csv)];
    if args.shard.is_some() {
        let m = ShardManifest::new(fp.clone(), &files[0].1, all.rows.len());
        files.push((manifest.clone(), m.to_text().into_bytes()));
    }
    plumsim::io::write_all_atomic(&files)?;
    if args.shard.is_none() && check_plain(&manifest).unwrap_or(false) {
        // A manifest of an earlier sharded run to the same file no longer describes it.
        let stale = std::fs::read_to_string(&manifest)
            .ok()
            .is_some_and(|t| ShardManifest::parse(&t, "").is_ok());
        if stale {
            let _ = std::fs::remove_file(&manifest);
        }
    }
    if same_file(&file, &partial) {
        std::fs::remove_file(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    drop(file);
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
