//! Plots of results tables: a scatter of design points with their Pareto front, and per-layer
//! bar charts of one run.
//!
//! Pure: each plot is drawn into memory (SVG text or PNG bytes); the CLI writes the file.
//! Text in PNGs is rendered with DejaVu Sans, shipped in `assets/fonts` and embedded in the
//! binary, so no system fonts are needed. Every design point is one `<circle>` in an SVG;
//! legends use squares.

use std::ops::Range;
use std::sync::Once;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Problem};
use crate::pareto::{front_rows, Sense};
use crate::table::Table;

static FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The embedded file is a valid TrueType font; registration cannot fail on it.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// A column is missing or holds no numbers.
    #[error(transparent)]
    Input(#[from] Error),
    /// The drawing library failed.
    #[error("cannot draw the plot: {0}")]
    Draw(String),
}

pub type PlotResult<T> = std::result::Result<T, PlotError>;

impl From<PlotError> for Error {
    fn from(e: PlotError) -> Error {
        match e {
            PlotError::Input(e) => e,
            PlotError::Draw(d) => Error::Internal(format!("cannot draw the plot: {d}")),
        }
    }
}

/// Output format, chosen by the file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Svg,
    Png,
}

impl ImageFormat {
    /// From a file name's extension (`.svg` or `.png`, any case).
    pub fn from_path(path: &std::path::Path) -> Option<ImageFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "svg" => Some(ImageFormat::Svg),
            "png" => Some(ImageFormat::Png),
            _ => None,
        }
    }
}

/// A drawn plot.
#[derive(Debug, Clone)]
pub struct Plot {
    pub bytes: Vec<u8>,
    /// Markers (scatter) or bars drawn.
    pub marks: usize,
    /// Points on the Pareto front (scatter with a front).
    pub front: usize,
}

// ---------------------------------------------------------------- axis labels and numbers

/// An axis label with its unit, from a column name: `total_cycles` -> "total cycles
/// [cycles]", `energy_pj` -> "energy [pJ]", `latency_us` -> "latency [µs]".
pub fn axis_label(column: &str) -> String {
    const STRIP: &[(&str, &str)] = &[
        ("_pj_cycles", "pJ·cycles"),
        ("_pj_us", "pJ·µs"),
        ("_pj", "pJ"),
        ("_nj", "nJ"),
        ("_uj", "µJ"),
        ("_us", "µs"),
        ("_ms", "ms"),
        ("_pct", "%"),
        ("_mhz", "MHz"),
        ("_per_w", "per W"),
    ];
    const KEEP: &[(&str, &str)] = &[
        ("_cycles", "cycles"),
        ("_bytes", "bytes"),
        ("_bits", "bits"),
        ("_ops", "ops"),
    ];
    let words = |s: &str| s.replace(['_', '.'], " ");
    for (suffix, unit) in STRIP {
        if let Some(stem) = column.strip_suffix(suffix) {
            if !stem.is_empty() {
                return format!("{} [{unit}]", words(stem));
            }
        }
    }
    for (suffix, unit) in KEEP {
        if column.ends_with(suffix) {
            return format!("{} [{unit}]", words(column));
        }
    }
    words(column)
}

/// A number for a tick or a label: 3 significant digits, SI suffix above a thousand.
pub fn short_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e15 {
        return format!("{v:.2e}");
    } else if a >= 1e12 {
        (v / 1e12, "T")
    } else if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else if a < 1e-3 {
        return format!("{v:.2e}");
    } else {
        (v, "")
    };
    let digits = 2 - scaled.abs().log10().floor() as i32;
    let s = format!("{:.*}", digits.clamp(0, 6) as usize, scaled);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

/// A numeric axis, linear or logarithmic, with its own ticks.
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    /// A tick at every integer (bar charts' row axis).
    every_integer: bool,
}

impl Axis {
    /// An axis over `values` with a margin; logarithmic when every value is positive and
    /// they span more than two decades.
    fn fit(values: impl Iterator<Item = f64> + Clone, allow_log: bool) -> Axis {
        let (mut lo, mut hi) = values
            .clone()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if allow_log && lo > 0.0 && hi / lo > 100.0 {
            let pad = (hi / lo).powf(0.04);
            return Axis {
                lo: lo / pad,
                hi: hi * pad,
                log: true,
                every_integer: false,
            };
        }
        let span = if hi > lo {
            hi - lo
        } else {
            lo.abs().max(1.0) * 0.1
        };
        Axis {
            lo: lo - 0.05 * span,
            hi: hi + 0.05 * span,
            log: false,
            every_integer: false,
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            v.max(f64::MIN_POSITIVE).log10()
        } else {
            v
        }
    }

    fn ticks(&self, max: usize) -> Vec<f64> {
        if self.every_integer {
            return (self.lo.ceil() as i64..=self.hi.floor() as i64)
                .map(|i| i as f64)
                .collect();
        }
        let max = max.max(2);
        if self.log {
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let decades = (b - a).max(1) as usize;
            let mults: &[f64] = if decades * 3 <= max {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            let stride = (decades / max).max(1) as i32;
            let mut v = Vec::new();
            for e in (a..=b).filter(|e| (e - a) % stride == 0) {
                for m in mults {
                    let x = m * 10f64.powi(e);
                    if x >= self.lo && x <= self.hi {
                        v.push(x);
                    }
                }
            }
            return v;
        }
        let raw = (self.hi - self.lo) / max as f64;
        if raw <= 0.0 || !raw.is_finite() {
            return vec![self.lo];
        }
        let mag = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .iter()
            .map(|m| m * mag)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * mag);
        let first = (self.lo / step).ceil() as i64;
        let last = (self.hi / step).floor() as i64;
        (first..=last).map(|i| i as f64 * step).collect()
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.t(self.lo), self.t(self.hi));
        let f = if b > a {
            (self.t(*v) - a) / (b - a)
        } else {
            0.5
        };
        limit.0 + ((limit.1 - limit.0) as f64 * f).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        self.ticks(hint.max_num_points().min(12))
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(v: &f64) -> String {
        short_number(*v)
    }
    fn format_ext(&self, v: &f64) -> String {
        short_number(*v)
    }
}

// ---------------------------------------------------------------- colours

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// A viridis-like ramp, t in [0, 1].
fn ramp(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 5] = [
        (68, 1, 84),
        (59, 82, 139),
        (33, 145, 140),
        (94, 201, 98),
        (253, 231, 37),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colours of rows by a column: categorical (at most 10 distinct values; numeric values
/// sorted as numbers) or, for more numeric values, a ramp. Returns one colour per row and
/// the legend entries.
fn colours(
    t: &Table,
    rows: &[usize],
    col: Option<usize>,
) -> (Vec<RGBColor>, Vec<(String, RGBColor)>) {
    let Some(c) = col else {
        return (vec![PALETTE[0]; rows.len()], Vec::new());
    };
    let mut distinct: Vec<&str> = rows.iter().map(|&r| t.rows[r][c].as_str()).collect();
    let numeric = distinct.iter().all(|s| s.parse::<f64>().is_ok());
    let num = |s: &str| s.parse::<f64>().unwrap_or(0.0);
    if numeric {
        distinct.sort_by(|a, b| num(a).total_cmp(&num(b)));
    } else {
        distinct.sort();
    }
    distinct.dedup();
    if distinct.len() <= PALETTE.len() || !numeric {
        let idx = |s: &str| distinct.iter().position(|d| *d == s).unwrap_or(0) % PALETTE.len();
        let per_row = rows.iter().map(|&r| PALETTE[idx(&t.rows[r][c])]).collect();
        let legend = distinct
            .iter()
            .map(|d| (d.to_string(), PALETTE[idx(d)]))
            .collect();
        return (per_row, legend);
    }
    let (lo, hi) = (num(distinct[0]), num(distinct[distinct.len() - 1]));
    let f = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    let per_row = rows.iter().map(|&r| ramp(f(num(&t.rows[r][c])))).collect();
    let legend = (0..5)
        .map(|i| {
            let v = lo + (hi - lo) * i as f64 / 4.0;
            (short_number(v), ramp(f(v)))
        })
        .collect();
    (per_row, legend)
}

// ---------------------------------------------------------------- rendering

fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Draw(format!("{e:?}"))
}

/// What to draw in a scatter plot.
#[derive(Debug, Clone)]
pub struct ScatterOptions {
    pub x: String,
    pub y: String,
    /// Colour points by this column.
    pub color_by: Option<String>,
    /// Draw the Pareto front of (x, y) with these senses and label its points.
    pub pareto: Option<(Sense, Sense)>,
    /// Fronts are computed within each value of this column (e.g. `workload`).
    pub group_by: Option<String>,
    /// Label front points with this column (default: `point` as `#id`, else the row number).
    pub label: Option<String>,
    pub title: Option<String>,
    pub size: (u32, u32),
}

/// A scatter of every row of `t` with numbers in both columns, optionally with the front.
/// `origin` names the table's file in messages.
pub fn scatter(
    t: &Table,
    o: &ScatterOptions,
    format: ImageFormat,
    origin: &str,
) -> PlotResult<Plot> {
    let xc = t.require(&o.x, origin, "--x")?;
    let yc = t.require(&o.y, origin, "--y")?;
    let cc = o
        .color_by
        .as_deref()
        .map(|c| t.require(c, origin, "--color-by"))
        .transpose()?;
    let lc = o
        .label
        .as_deref()
        .map(|c| t.require(c, origin, "--label"))
        .transpose()?;
    let num = |r: usize, c: usize| t.rows[r][c].parse::<f64>().ok().filter(|v| v.is_finite());
    let rows: Vec<usize> = (0..t.rows.len())
        .filter(|&r| num(r, xc).is_some() && num(r, yc).is_some())
        .collect();
    if rows.is_empty() {
        return Err(Error::invalid(
            origin,
            vec![Problem::new(
                "--x/--y",
                format!("no row has numbers in both `{}` and `{}`", o.x, o.y),
            )
            .with_help("plot numeric columns of rows whose status is ok")],
        )
        .into());
    }
    let xs: Vec<f64> = rows.iter().map(|&r| num(r, xc).unwrap_or(0.0)).collect();
    let ys: Vec<f64> = rows.iter().map(|&r| num(r, yc).unwrap_or(0.0)).collect();
    let (xa, ya) = (
        Axis::fit(xs.iter().copied(), true),
        Axis::fit(ys.iter().copied(), true),
    );
    let (point_colours, legend) = colours(t, &rows, cc);

    // Fronts (per group), as positions into `rows`, each sorted by x.
    let mut fronts: Vec<Vec<usize>> = Vec::new();
    if let Some((sx, sy)) = o.pareto {
        let sub = Table {
            headers: t.headers.clone(),
            rows: rows.iter().map(|&r| t.rows[r].clone()).collect(),
        };
        let on = front_rows(
            &sub,
            &[(o.x.clone(), sx), (o.y.clone(), sy)],
            o.group_by.as_deref(),
            origin,
        )?;
        let g = o.group_by.as_deref().and_then(|g| sub.col(g));
        let mut keys: Vec<String> = Vec::new();
        for &i in &on {
            let k = g.map_or(String::new(), |g| sub.rows[i][g].clone());
            match keys.iter().position(|x| *x == k) {
                Some(p) => fronts[p].push(i),
                None => {
                    keys.push(k);
                    fronts.push(vec![i]);
                }
            }
        }
        for f in &mut fronts {
            f.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]).then(ys[a].total_cmp(&ys[b])));
        }
    }
    let point_col = t.col("point");
    let label_of = |i: usize| -> String {
        let r = rows[i];
        match (lc, point_col) {
            (Some(c), _) => t.rows[r][c].clone(),
            (None, Some(p)) => format!("#{}", t.rows[r][p]),
            (None, None) => format!("#{}", r + 1),
        }
    };
    let front_count: usize = fronts.iter().map(Vec::len).sum();
    let title = o
        .title
        .clone()
        .unwrap_or_else(|| format!("{} vs {}", o.y, o.x));
    let color_title = o.color_by.clone().unwrap_or_default();
    // Keep the legend off the front: a maximized y puts the front at the top.
    let legend_at = match o.pareto {
        Some((_, Sense::Maximize)) => SeriesLabelPosition::LowerRight,
        _ => SeriesLabelPosition::UpperRight,
    };

    macro_rules! body {
        ($root:expr) => {{
            let root = $root;
            root.fill(&WHITE).map_err(draw_err)?;
            let mut chart = ChartBuilder::on(root)
                .margin(16)
                .caption(&title, (FAMILY, 20))
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d(xa, ya)
                .map_err(draw_err)?;
            chart
                .configure_mesh()
                .x_desc(axis_label(&o.x))
                .y_desc(axis_label(&o.y))
                .label_style((FAMILY, 13))
                .axis_desc_style((FAMILY, 15))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.08))
                .draw()
                .map_err(draw_err)?;
            for f in &fronts {
                let mut path = Vec::new();
                for (k, &i) in f.iter().enumerate() {
                    if k > 0 {
                        path.push((xs[i], ys[f[k - 1]]));
                    }
                    path.push((xs[i], ys[i]));
                }
                chart
                    .draw_series(LineSeries::new(path, BLACK.mix(0.6).stroke_width(2)))
                    .map_err(draw_err)?;
            }
            chart
                .draw_series(
                    (0..rows.len()).map(|i| {
                        Circle::new((xs[i], ys[i]), 4, point_colours[i].mix(0.75).filled())
                    }),
                )
                .map_err(draw_err)?;
            for f in &fronts {
                chart
                    .draw_series(f.iter().map(|&i| {
                        Text::new(
                            label_of(i),
                            (xs[i], ys[i]),
                            (FAMILY, 12).into_font().color(&BLACK),
                        )
                    }))
                    .map_err(draw_err)?;
            }
            for (name, c) in &legend {
                let c = *c;
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .map_err(draw_err)?
                    .label(format!("{color_title} = {name}"))
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled())
                    });
            }
            if !legend.is_empty() {
                chart
                    .configure_series_labels()
                    .label_font((FAMILY, 12))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.3))
                    .position(legend_at)
                    .draw()
                    .map_err(draw_err)?;
            }
            Ok(())
        }};
    }
    let bytes = match format {
        ImageFormat::Svg => render_svg(o.size, |root| body!(root))?,
        ImageFormat::Png => render_png(o.size, |root| body!(root))?,
    };
    Ok(Plot {
        bytes,
        marks: rows.len(),
        front: front_count,
    })
}

fn render_svg(
    size: (u32, u32),
    f: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> PlotResult<()>,
) -> PlotResult<Vec<u8>> {
    register_font();
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        f(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(s.into_bytes())
}

fn render_png(
    size: (u32, u32),
    f: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> PlotResult<()>,
) -> PlotResult<Vec<u8>> {
    register_font();
    let mut buf = vec![0u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        f(&root)?;
        root.present().map_err(draw_err)?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, size.0, size.1);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(draw_err)?;
        w.write_image_data(&buf).map_err(draw_err)?;
    }
    Ok(out)
}

/// One bar (or stacked segment): lower-left and upper-right corners in data units, colour.
type Bar = ((f64, f64), (f64, f64), RGBColor);

/// What to draw in a per-layer bar chart.
#[derive(Debug, Clone)]
pub struct BarOptions {
    /// Numeric columns, one bar (or one stacked segment) each per row.
    pub columns: Vec<String>,
    /// Row labels (default `layer`).
    pub label: String,
    /// Stack the columns (parts of a whole) instead of grouping them.
    pub stack: bool,
    pub title: Option<String>,
    /// Width in pixels; the height follows the number of rows.
    pub width: u32,
    /// A second panel to the right: one bar per row for this column (e.g. latency beside an
    /// energy breakdown).
    pub beside: Option<String>,
}

/// Horizontal bars, one group per row of `t` (rows whose columns are all zero or empty are
/// left out), first row at the top.
pub fn bars(t: &Table, o: &BarOptions, format: ImageFormat, origin: &str) -> PlotResult<Plot> {
    let cols: Vec<usize> = o
        .columns
        .iter()
        .map(|c| t.require(c, origin, "--bars"))
        .collect::<Result<_, _>>()?;
    let lc = t.require(&o.label, origin, "--label")?;
    let bc = o
        .beside
        .as_deref()
        .map(|c| t.require(c, origin, "--beside"))
        .transpose()?;
    let val = |r: usize, c: usize| {
        t.rows[r][c]
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
    };
    let rows: Vec<usize> = (0..t.rows.len())
        .filter(|&r| cols.iter().any(|&c| val(r, c) != 0.0))
        .collect();
    if rows.is_empty() {
        return Err(Error::invalid(
            origin,
            vec![Problem::new(
                "--bars",
                format!("every row is zero or empty in {}", o.columns.join(", ")),
            )],
        )
        .into());
    }
    let n = rows.len();
    let k = cols.len();
    let max = rows
        .iter()
        .map(|&r| {
            if o.stack {
                cols.iter().map(|&c| val(r, c).max(0.0)).sum::<f64>()
            } else {
                cols.iter().map(|&c| val(r, c)).fold(0.0, f64::max)
            }
        })
        .fold(0.0, f64::max);
    let xa = Axis {
        lo: 0.0,
        hi: if max > 0.0 { max * 1.05 } else { 1.0 },
        log: false,
        every_integer: false,
    };
    let ya = Axis {
        lo: -0.5,
        hi: n as f64 - 0.5,
        log: false,
        every_integer: true,
    };
    let labels: Vec<String> = rows.iter().map(|&r| t.rows[r][lc].clone()).collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32 * 8 + 16;
    let per = if o.stack { 18 } else { (10 * k as u32).max(18) };
    let size = (o.width.max(400), (n as u32 * per + 140).max(300));
    let units: Vec<String> = o.columns.iter().map(|c| axis_label(c)).collect();
    let x_desc = if k == 1 {
        units[0].clone()
    } else {
        let unit = |s: &str| s.rfind('[').map(|i| s[i..].to_string());
        match unit(&units[0]) {
            Some(u) if units.iter().all(|x| unit(x).as_deref() == Some(u.as_str())) => {
                format!("value {u}")
            }
            _ => "value".to_string(),
        }
    };
    let title = o.title.clone().unwrap_or_else(|| o.columns.join(", "));
    // Row i is drawn at y = n - 1 - i so the first row is at the top.
    let y_of = |i: usize| (n - 1 - i) as f64;
    let mut rects: Vec<Bar> = Vec::new();
    for (i, &r) in rows.iter().enumerate() {
        let mut acc = 0.0;
        for (j, &c) in cols.iter().enumerate() {
            let v = val(r, c);
            let colour = PALETTE[j % PALETTE.len()];
            if o.stack {
                rects.push((
                    (acc, y_of(i) - 0.4),
                    (acc + v.max(0.0), y_of(i) + 0.4),
                    colour,
                ));
                acc += v.max(0.0);
            } else {
                let h = 0.8 / k as f64;
                let top = y_of(i) + 0.4 - j as f64 * h;
                rects.push(((0.0, top - h), (v, top), colour));
            }
        }
    }
    let marks = rects.len();
    let y_label = |v: &f64| -> String {
        let i = (n as f64 - 1.0 - v).round();
        if (v - v.round()).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
            labels[i as usize].clone()
        } else {
            String::new()
        }
    };
    // The side panel: one bar per row, on the same rows.
    let side: Option<(String, Axis, Vec<Bar>)> = bc.map(|c| {
        let max = rows.iter().map(|&r| val(r, c)).fold(0.0, f64::max);
        let axis = Axis {
            lo: 0.0,
            hi: if max > 0.0 { max * 1.05 } else { 1.0 },
            log: false,
            every_integer: false,
        };
        let bars = rows
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                (
                    (0.0, y_of(i) - 0.3),
                    (val(r, c), y_of(i) + 0.3),
                    PALETTE[9 % PALETTE.len()],
                )
            })
            .collect();
        (axis_label(&t.headers[c]), axis, bars)
    });
    let split = (size.0 as f64 * 0.72) as u32;
    macro_rules! body {
        ($root:expr) => {{
            let full = $root;
            full.fill(&WHITE).map_err(draw_err)?;
            let (main, side_area) = match &side {
                Some(_) => {
                    let (a, b) = full.split_horizontally(split);
                    (a, Some(b))
                }
                None => (full.clone(), None),
            };
            if let (Some(area), Some((desc, axis, bars))) = (&side_area, &side) {
                let mut c2 = ChartBuilder::on(area)
                    .margin(16)
                    .caption(desc.clone(), (FAMILY, 15))
                    .x_label_area_size(48)
                    .y_label_area_size(8)
                    .build_cartesian_2d(*axis, ya)
                    .map_err(draw_err)?;
                c2.configure_mesh()
                    .x_desc(desc.clone())
                    .y_label_formatter(&|_: &f64| String::new())
                    .x_labels(4)
                    .label_style((FAMILY, 12))
                    .axis_desc_style((FAMILY, 13))
                    .disable_y_mesh()
                    .light_line_style(WHITE.mix(0.0))
                    .bold_line_style(BLACK.mix(0.08))
                    .draw()
                    .map_err(draw_err)?;
                c2.draw_series(
                    bars.iter()
                        .map(|(a, b, c)| Rectangle::new([*a, *b], c.filled())),
                )
                .map_err(draw_err)?;
            }
            let root = &main;
            let mut chart = ChartBuilder::on(root)
                .margin(16)
                .caption(&title, (FAMILY, 20))
                .x_label_area_size(48)
                .y_label_area_size(label_w)
                .build_cartesian_2d(xa, ya)
                .map_err(draw_err)?;
            chart
                .configure_mesh()
                .x_desc(x_desc.clone())
                .y_labels(n + 1)
                .y_label_formatter(&y_label)
                .label_style((FAMILY, 12))
                .axis_desc_style((FAMILY, 15))
                .disable_y_mesh()
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.08))
                .draw()
                .map_err(draw_err)?;
            chart
                .draw_series(
                    rects
                        .iter()
                        .map(|(a, b, c)| Rectangle::new([*a, *b], c.filled())),
                )
                .map_err(draw_err)?;
            if k > 1 {
                for (j, name) in o.columns.iter().enumerate() {
                    let c = PALETTE[j % PALETTE.len()];
                    chart
                        .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                        .map_err(draw_err)?
                        .label(name.clone())
                        .legend(move |(x, y)| {
                            Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled())
                        });
                }
                chart
                    .configure_series_labels()
                    .label_font((FAMILY, 12))
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK.mix(0.3))
                    .position(SeriesLabelPosition::LowerRight)
                    .draw()
                    .map_err(draw_err)?;
            }
            Ok(())
        }};
    }
    let bytes = match format {
        ImageFormat::Svg => render_svg(size, |root| body!(root))?,
        ImageFormat::Png => render_png(size, |root| body!(root))?,
    };
    Ok(Plot {
        bytes,
        marks,
        front: 0,
    })
}
