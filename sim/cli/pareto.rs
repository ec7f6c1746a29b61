//! `plumsim pareto CSV --x COL --y COL`: print the non-dominated rows of a results table.

use std::path::PathBuf;

use plumsim::pareto::{front_rows, Sense};
use plumsim::table::Table;

#[derive(Debug, clap::Args)]
pub struct ParetoArgs {
    /// Results CSV (a sweep's output; rows whose status is not ok are left out).
    pub csv: PathBuf,
    /// First objective column (minimized unless listed in --maximize).
    #[arg(long)]
    pub x: Option<String>,
    /// Second objective column (minimized unless listed in --maximize).
    #[arg(long)]
    pub y: Option<String>,
    /// More columns to minimize (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub minimize: Vec<String>,
    /// Columns to maximize (e.g. utilization_pct); may name --x or --y.
    #[arg(long, value_delimiter = ',')]
    pub maximize: Vec<String>,
    /// Compute a separate front within each value of this column [default: workload, when present].
    #[arg(long)]
    pub group_by: Option<String>,
    /// One front over all rows, even across workloads.
    #[arg(long, conflicts_with = "group_by")]
    pub all: bool,
    /// Keep only rows where COLUMN=VALUE (repeatable).
    #[arg(long = "where", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
    /// Columns to print (comma-separated) [default: point, the sweep's parameters, workload and
    /// the objectives; every column when the table is not a sweep's].
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Also write the front rows (all columns) to this CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The objectives of --x, --y, --minimize and --maximize, in that order, each once.
pub fn objectives(
    x: &Option<String>,
    y: &Option<String>,
    minimize: &[String],
    maximize: &[String],
) -> Vec<(String, Sense)> {
    let mut v: Vec<(String, Sense)> = Vec::new();
    let sense = |c: &str| {
        if maximize.iter().any(|m| m == c) {
            Sense::Maximize
        } else {
            Sense::Minimize
        }
    };
    for c in x.iter().chain(y.iter()).chain(minimize).chain(maximize) {
        if !v.iter().any(|(d, _)| d == c) {
            v.push((c.clone(), sense(c)));
        }
    }
    v
}

/// CSV text of `rows` of `t`, restricted to `cols` (those present).
pub fn render(t: &Table, rows: &[usize], cols: &[String]) -> String {
    let idx: Vec<usize> = cols.iter().filter_map(|c| t.col(c)).collect();
    let sub = Table {
        headers: idx.iter().map(|&i| t.headers[i].clone()).collect(),
        rows: rows
            .iter()
            .map(|&r| idx.iter().map(|&i| t.rows[r][i].clone()).collect())
            .collect(),
    };
    sub.to_csv()
}

pub fn run(args: ParetoArgs, _v: super::progress::Verbosity) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        plumsim::io::output::check_file_target(out)?;
    }
    let origin = args.csv.display().to_string();
    let text = plumsim::io::read_text(&args.csv)?;
    let t = Table::parse(&text, &origin)?.select(&args.filters, &origin)?;
    let obj = objectives(&args.x, &args.y, &args.minimize, &args.maximize);
    let group = match (&args.group_by, args.all) {
        (_, true) => None,
        (Some(g), false) => Some(g.clone()),
        (None, false) => t.col("workload").map(|_| "workload".to_string()),
    };
    let on = front_rows(&t, &obj, group.as_deref(), &origin)?;
    let cols: Vec<String> = if !args.columns.is_empty() {
        for c in &args.columns {
            t.require(c, &origin, "--columns")?;
        }
        args.columns.clone()
    } else if let (Some(w), Some(_)) = (t.col("workload"), t.col("status")) {
        let mut c: Vec<String> = t.headers[..=w].to_vec();
        for (o, _) in &obj {
            if !c.contains(o) {
                c.push(o.clone());
            }
        }
        c
    } else {
        t.headers.clone()
    };
    print!("{}", render(&t, &on, &cols));
    eprintln!("{} of {} rows on the front", on.len(), t.rows.len());
    if let Some(out) = &args.out {
        let all: Vec<String> = t.headers.clone();
        plumsim::io::write_all_atomic(&[(out.clone(), render(&t, &on, &all).into_bytes())])?;
    }
    Ok(())
}
