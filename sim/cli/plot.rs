//! `plumsim plot CSV --x COL --y COL --out FILE.svg|png`: scatter of design points with the
//! Pareto front; `plumsim plot LAYERS_CSV --bars COL,... --out FILE`: per-layer bars.

use std::path::PathBuf;

use plumsim::pareto::Sense;
use plumsim::plot::{bars, scatter, BarOptions, ImageFormat, PlotError, ScatterOptions};
use plumsim::table::Table;

#[derive(Debug, clap::Args)]
pub struct PlotArgs {
    /// Results CSV: a sweep's output (rows whose status is not ok are left out) or a layers.csv.
    pub csv: PathBuf,
    /// The image to write; the format follows the extension (.svg or .png).
    #[arg(long)]
    pub out: PathBuf,
    /// Scatter: the column on the x axis.
    #[arg(long, required_unless_present = "bars", requires = "y")]
    pub x: Option<String>,
    /// Scatter: the column on the y axis.
    #[arg(long, requires = "x")]
    pub y: Option<String>,
    /// Scatter: colour points by this column (categories, or a ramp for many numbers).
    #[arg(long)]
    pub color_by: Option<String>,
    /// Scatter: draw the Pareto front of (x, y) and label its points.
    #[arg(long)]
    pub pareto: bool,
    /// Scatter: objectives among x and y to maximize for the front (default: minimize both).
    #[arg(long, value_delimiter = ',')]
    pub maximize: Vec<String>,
    /// Scatter: more objectives the front is computed over, minimized unless in --maximize
    /// (e.g. area_mm2 for an energy x latency x area front; its points are marked, not joined).
    #[arg(long, value_delimiter = ',', requires = "pareto")]
    pub also: Vec<String>,
    /// Scatter: fronts within each value of this column [default: workload, when present].
    #[arg(long)]
    pub group_by: Option<String>,
    /// Scatter: one front over all rows.
    #[arg(long, conflicts_with = "group_by")]
    pub all: bool,
    /// Label front points (scatter) or rows (bars, default `layer`) with this column.
    #[arg(long)]
    pub label: Option<String>,
    /// Scatter: label every point, not only the front (a comparison of a few designs).
    #[arg(long, conflicts_with = "bars")]
    pub label_all: bool,
    /// Scatter: logarithmic x axis (every plotted x must be > 0).
    #[arg(long, conflicts_with = "bars")]
    pub log_x: bool,
    /// Scatter: logarithmic y axis (every plotted y must be > 0).
    #[arg(long, conflicts_with = "bars")]
    pub log_y: bool,
    /// Per-layer bars of these columns (comma-separated) instead of a scatter.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["x", "y", "pareto", "color_by"])]
    pub bars: Vec<String>,
    /// Bars: stack the columns (parts of one whole) instead of grouping them.
    #[arg(long, requires = "bars")]
    pub stack: bool,
    /// Keep only rows where COLUMN=VALUE (repeatable).
    #[arg(long = "where", value_name = "COLUMN=VALUE")]
    pub filters: Vec<String>,
    /// Plot title [default: the quantities in words, e.g. "Energy vs latency"].
    #[arg(long)]
    pub title: Option<String>,
    /// Image size in pixels, WIDTHxHEIGHT (bars: the height follows the rows).
    #[arg(long, default_value = "960x640", value_parser = parse_size)]
    pub size: (u32, u32),
    /// With --bars: a second panel to the right with one bar per row for this column (e.g.
    /// latency_us beside an energy breakdown).
    #[arg(long)]
    pub beside: Option<String>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{s}` is not WIDTHxHEIGHT, e.g. 960x640 (each 100..=8000)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(100..=8000).contains(&w) || !(100..=8000).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

fn lift(e: PlotError) -> anyhow::Error {
    match e {
        PlotError::Input(e) => e.into(),
        other => other.into(),
    }
}

pub fn run(args: PlotArgs, _v: super::progress::Verbosity) -> anyhow::Result<()> {
    let format = ImageFormat::from_path(&args.out).ok_or_else(|| {
        plumsim::Error::invalid(
            "command line",
            vec![plumsim::Problem::new(
                "--out",
                format!("`{}` is not an image file name", args.out.display()),
            )
            .with_help("allowed: a name ending in .svg or .png")],
        )
    })?;
    plumsim::io::output::check_file_target(&args.out)?;
    let origin = args.csv.display().to_string();
    let text = plumsim::io::read_text(&args.csv)?;
    let t = Table::parse(&text, &origin)?.select(&args.filters, &origin)?;
    let plot = if !args.bars.is_empty() {
        let o = BarOptions {
            columns: args.bars.clone(),
            label: args.label.clone().unwrap_or_else(|| "layer".into()),
            stack: args.stack,
            title: args.title.clone(),
            width: args.size.0,
            beside: args.beside.clone(),
        };
        bars(&t, &o, format, &origin).map_err(lift)?
    } else {
        let (x, y) = (
            args.x.clone().unwrap_or_default(),
            args.y.clone().unwrap_or_default(),
        );
        let sense = |c: &str| {
            if args.maximize.iter().any(|m| m == c) {
                Sense::Maximize
            } else {
                Sense::Minimize
            }
        };
        let o = ScatterOptions {
            pareto: args.pareto.then(|| (sense(&x), sense(&y))),
            also: args.also.iter().map(|c| (c.clone(), sense(c))).collect(),
            x,
            y,
            color_by: args.color_by.clone(),
            group_by: match (&args.group_by, args.all) {
                (_, true) => None,
                (Some(g), false) => Some(g.clone()),
                (None, false) => t.col("workload").map(|_| "workload".to_string()),
            },
            label: args.label.clone(),
            label_all: args.label_all,
            log_x: args.log_x,
            log_y: args.log_y,
            title: args.title.clone(),
            size: args.size,
        };
        scatter(&t, &o, format, &origin).map_err(lift)?
    };
    plumsim::io::write_all_atomic(&[(args.out.clone(), plot.bytes)])?;
    if args.bars.is_empty() {
        eprintln!(
            "wrote {} ({} points, {} on the front)",
            args.out.display(),
            plot.marks,
            plot.front
        );
    } else {
        eprintln!("wrote {} ({} bars)", args.out.display(), plot.marks);
    }
    Ok(())
}
