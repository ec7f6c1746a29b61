//! Horizontal bar charts of one run's layers (grouped or stacked), with an optional panel
//! beside them.

use plotters::prelude::*;

use super::axes::Axis;
use super::colours::PALETTE;
use super::labels::axis_label;
use super::{draw_err, render_png, render_svg, ImageFormat, Plot, PlotResult, FAMILY};
use crate::error::{Error, Problem};
use crate::table::Table;

/// The tallest bar chart drawn, in pixels (the `--size` bound of a scatter plot too).
pub const MAX_HEIGHT_PX: u64 = 8000;

/// One bar (or stacked segment): lower-left and upper-right corners in data units, colour.
pub(crate) type Bar = ((f64, f64), (f64, f64), RGBColor);

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
    // The height follows the rows: check it before drawing anything.
    let per = if o.stack { 18 } else { (10 * k as u64).max(18) };
    let height = (n as u64).saturating_mul(per).saturating_add(140);
    if height > MAX_HEIGHT_PX {
        return Err(Error::invalid(
            origin,
            vec![Problem::new(
                "--bars",
                format!(
                    "{n} rows would make a chart {height} pixels high; at most {MAX_HEIGHT_PX} \
                     ({} rows{})",
                    (MAX_HEIGHT_PX - 140) / per,
                    if o.stack { "" } else { " at this many columns" }
                ),
            )
            .with_help("plot fewer rows: select them with --where COLUMN=VALUE")],
        )
        .into());
    }
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
    let size = (o.width.max(400), (height as u32).max(300));
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
