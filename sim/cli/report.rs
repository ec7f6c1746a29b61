//! `plumsim report DIR`: one self-contained HTML page (`DIR/report.html`) for the results of
//! `plumsim run`, `compare` or `sweep`.
//!
//! What DIR holds decides the kind: `summary.json` and `layers.csv` (a run), `compare.csv` (a
//! comparison), or one sweep result CSV (its header starts `point,` and has `workload`,
//! `status`, `error`). A sweep CSV may be named directly; its page then goes beside it as
//! `NAME_report.html`. Every file is checked before anything is written, and the page is
//! written all or nothing.

use std::path::{Path, PathBuf};

use plumsim::report_html::{
    self, CompareResults, Input, Report, Results, RunResults, SweepResults,
};
use plumsim::{io, Error, Problem};

use super::progress::Verbosity;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A results folder of `plumsim run` or `plumsim compare`, a folder holding one sweep
    /// result CSV, or a sweep result CSV.
    pub dir: PathBuf,
    /// The page to write [default: DIR/report.html; for a sweep CSV named directly,
    /// NAME_report.html beside it].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

const EXPECTED: &str = "a results folder: summary.json and layers.csv (plumsim run), compare.csv (plumsim compare), or a sweep result CSV (plumsim sweep)";

fn refuse(path: &Path, message: impl Into<String>) -> anyhow::Error {
    Error::invalid(
        path.display().to_string(),
        vec![Problem::new("report", message).with_help(format!("expected {EXPECTED}"))],
    )
    .into()
}

/// The files of a results folder, as found.
enum Found {
    Run { dir: PathBuf },
    Compare { dir: PathBuf },
    Sweep { csv: PathBuf },
}

fn is_file(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// The first line of a file (at most 64 kB are read), for telling a sweep CSV.
fn first_line(p: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let f = std::fs::File::open(p).ok()?;
    let mut line = String::new();
    std::io::BufReader::new(f.take(64 * 1024))
        .read_line(&mut line)
        .ok()?;
    Some(line)
}

fn sweep_header(p: &Path) -> bool {
    let Some(line) = first_line(p) else {
        return false;
    };
    let headers: Vec<String> = line
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|h| h.trim_matches('"').to_string())
        .collect();
    report_html::is_sweep_header(&headers)
}

/// What `path` holds, and where its page goes by default.
fn find(path: &Path) -> anyhow::Result<(Found, PathBuf)> {
    let meta = std::fs::metadata(path).map_err(|_| refuse(path, "no such file or folder"))?;
    if meta.is_file() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        return match name.as_str() {
            "summary.json" | "layers.csv" | "compare.csv" => find(&dir),
            _ if name.ends_with(".csv") => {
                let stem = name.trim_end_matches(".csv");
                Ok((
                    Found::Sweep {
                        csv: path.to_path_buf(),
                    },
                    dir.join(format!("{stem}_report.html")),
                ))
            }
            _ => Err(refuse(path, "is neither a results folder nor a CSV")),
        };
    }
    let out = path.join("report.html");
    let (summary, layers) = (path.join("summary.json"), path.join("layers.csv"));
    if is_file(&summary) || is_file(&layers) {
        for p in [&summary, &layers] {
            if !is_file(p) {
                return Err(refuse(
                    p,
                    "is missing: a run's folder holds both summary.json and layers.csv",
                ));
            }
        }
        return Ok((
            Found::Run {
                dir: path.to_path_buf(),
            },
            out,
        ));
    }
    if is_file(&path.join("compare.csv")) {
        return Ok((
            Found::Compare {
                dir: path.to_path_buf(),
            },
            out,
        ));
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::Io {
        path: path.display().to_string(),
        source: e,
    })?;
    let mut sweeps: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv") && is_file(p) && sweep_header(p))
        .collect();
    sweeps.sort();
    match sweeps.len() {
        0 => Err(refuse(
            path,
            "holds no results: no summary.json, layers.csv, compare.csv nor sweep result CSV",
        )),
        1 => Ok((
            Found::Sweep {
                csv: sweeps.remove(0),
            },
            out,
        )),
        _ => Err(Error::invalid(
            path.display().to_string(),
            vec![Problem::new(
                "report",
                format!(
                    "holds {} sweep result CSVs ({})",
                    sweeps.len(),
                    sweeps
                        .iter()
                        .filter_map(|p| p.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .with_help("name one: plumsim report DIR/NAME.csv")],
        )
        .into()),
    }
}

/// Files beside the results that plumsim writes too (listed on the page).
fn present(dir: &Path, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .filter(|n| is_file(&dir.join(n)))
        .map(|n| n.to_string())
        .collect()
}

fn load(found: &Found) -> anyhow::Result<Results> {
    let origin = |p: &Path| p.display().to_string();
    Ok(match found {
        Found::Run { dir } => {
            let (sp, lp, fp) = (
                dir.join("summary.json"),
                dir.join("layers.csv"),
                dir.join("fidelity.csv"),
            );
            let (so, lo, fo) = (origin(&sp), origin(&lp), origin(&fp));
            let summary = io::read_text(&sp)?;
            let layers = io::read_text(&lp)?;
            let fidelity = if is_file(&fp) {
                Some(io::read_text(&fp)?)
            } else {
                None
            };
            Results::Run(RunResults::parse(
                Input {
                    text: &summary,
                    origin: &so,
                },
                Input {
                    text: &layers,
                    origin: &lo,
                },
                fidelity.as_deref().map(|text| Input { text, origin: &fo }),
                present(dir, &["COMPUTE_REPORT.csv"]),
            )?)
        }
        Found::Compare { dir } => {
            let cp = dir.join("compare.csv");
            let co = origin(&cp);
            let text = io::read_text(&cp)?;
            Results::Compare(CompareResults::parse(
                Input {
                    text: &text,
                    origin: &co,
                },
                present(dir, &["compare_energy.svg", "compare_energy.png"]),
            )?)
        }
        Found::Sweep { csv } => {
            let co = origin(csv);
            let text = io::read_text(csv)?;
            let mp = plumsim::sweep::manifest_path(csv);
            let mo = origin(&mp);
            let manifest = if is_file(&mp) {
                Some(io::read_text(&mp)?)
            } else {
                None
            };
            let file = csv
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            Results::Sweep(SweepResults::parse(
                &file,
                Input {
                    text: &text,
                    origin: &co,
                },
                manifest.as_deref().map(|text| Input { text, origin: &mo }),
            )?)
        }
    })
}

pub fn run(args: ReportArgs, v: Verbosity) -> anyhow::Result<()> {
    let (found, default_out) = find(&args.dir)?;
    let out = args.out.clone().unwrap_or(default_out);
    io::output::check_file_target(&out)?;
    let results = load(&found)?;
    let kind = results.kind();
    let html = report_html::render(&Report {
        source: args.dir.display().to_string(),
        results,
    })?;
    io::write_all_atomic(&[(out.clone(), html.into_bytes())])?;
    if !v.quiet {
        println!("wrote {} ({kind} report)", out.display());
    }
    Ok(())
}
