//! Scatter of design points with their Pareto front.

use plotters::prelude::*;

use super::axes::Axis;
use super::colours::colours;
use super::labels::axis_label;
use super::{draw_err, render_png, render_svg, ImageFormat, Plot, PlotResult, FAMILY};
use crate::error::{Error, Problem};
use crate::pareto::{front_rows, Sense};
use crate::table::Table;

/// What to draw in a scatter plot.
#[derive(Debug, Clone)]
pub struct ScatterOptions {
    pub x: String,
    pub y: String,
    /// Colour points by this column.
    pub color_by: Option<String>,
    /// Draw the Pareto front of (x, y) with these senses and label its points.
    pub pareto: Option<(Sense, Sense)>,
    /// More objectives the front is computed over (e.g. `area_mm2`): its points are marked
    /// and labelled but not joined (a front in three objectives is no staircase in two).
    pub also: Vec<(String, Sense)>,
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
    for (c, _) in &o.also {
        let ci = t.require(c, origin, "--also")?;
        if !rows.iter().any(|&r| num(r, ci).is_some()) {
            return Err(Error::invalid(
                origin,
                vec![
                    Problem::new("--also", format!("no plotted row has a number in `{c}`"))
                        .with_help("a front objective must be a numeric column, e.g. area_mm2"),
                ],
            )
            .into());
        }
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
        let mut objectives = vec![(o.x.clone(), sx), (o.y.clone(), sy)];
        objectives.extend(o.also.iter().cloned());
        let on = front_rows(&sub, &objectives, o.group_by.as_deref(), origin)?;
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
            for f in fronts.iter().filter(|_| o.also.is_empty()) {
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
