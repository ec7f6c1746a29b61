//! Scatter of design points with their Pareto front.

use plotters::prelude::*;

use super::axes::{self, Axis, Scaled, GAP, MARGIN};
use super::colours::colours;
use super::labels::{quantity, scaled_axis_label, sentence};
use super::legend::Legend;
use super::scene::{text_bounds, Anchor, Bounds, Scene};
use super::{render, ImageFormat, Plot, PlotResult};
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
    /// Label every point, not only the front's (a comparison of a few designs).
    pub label_all: bool,
    /// Logarithmic axes (every plotted value must then be positive).
    pub log_x: bool,
    pub log_y: bool,
    /// Default: "<y> vs <x>" in words.
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
    let point_col = t.col("point");
    let label_of = |i: usize| -> String {
        let r = rows[i];
        match (lc, point_col) {
            (Some(c), _) => t.rows[r][c].clone(),
            (None, Some(p)) => format!("#{}", t.rows[r][p]),
            (None, None) => format!("#{}", r + 1),
        }
    };
    for (log, vals, col, opt) in [
        (o.log_x, &xs, &o.x, "--log-x"),
        (o.log_y, &ys, &o.y, "--log-y"),
    ] {
        if let Some(i) = (0..vals.len()).find(|&i| log && vals[i] <= 0.0) {
            return Err(Error::invalid(
                origin,
                vec![Problem::new(
                    opt,
                    format!(
                        "a log axis needs values > 0, but `{col}` is {} at {}",
                        vals[i],
                        label_of(i)
                    ),
                )
                .with_help(format!(
                    "allowed: {opt} when every plotted `{col}` is > 0; drop {opt}, or select rows with --where"
                ))],
            )
            .into());
        }
    }
    let scaled = |col: &str, vals: &[f64], log: bool| {
        let (title, divisor) =
            scaled_axis_label(col, vals.iter().fold(0.0, |m: f64, v| m.max(v.abs())));
        Scaled {
            axis: Axis::fit(vals.iter().copied(), log),
            title,
            divisor,
        }
    };
    let (xa, ya) = (scaled(&o.x, &xs, o.log_x), scaled(&o.y, &ys, o.log_y));
    let (point_colours, entries) = colours(t, &rows, cc);
    let legend = Legend {
        title: o.color_by.as_deref().map(|c| sentence(&quantity(c).name)),
        entries,
    };

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
    let front_count: usize = fronts.iter().map(Vec::len).sum();
    let title = o.title.clone().unwrap_or_else(|| {
        format!(
            "{} vs {}",
            sentence(&quantity(&o.y).name),
            quantity(&o.x).name
        )
    });

    // Layout: caption, y band, plot area, legend column to the right, x band.
    let (w, h) = (o.size.0 as f64, o.size.1 as f64);
    let mut s = Scene::new(o.size);
    let top = axes::draw_caption(&mut s, &title, w) + axes::TICK_FONT / 2.0;
    let (lw, _) = if legend.is_empty() {
        (0.0, 0.0)
    } else {
        legend.column_size()
    };
    let half_x_label = xa.widest_label(0) / 2.0;
    let right = w
        - MARGIN
        - if legend.is_empty() {
            half_x_label
        } else {
            lw + 2.0 * GAP
        };
    let bottom = h - MARGIN - axes::x_band();
    let y_labels = ya.widest_label(axes::y_ticks(bottom - top));
    let left = MARGIN + axes::y_band(y_labels, true);
    let area = Bounds::new(left, top, right.max(left + 10.0), bottom.max(top + 10.0));
    axes::draw_y(&mut s, area, &ya, MARGIN + axes::TITLE_FONT / 2.0 + 1.0);
    axes::draw_x(&mut s, area, &xa);
    s.layout.panels.push(area);
    let at = |i: usize| {
        (
            xa.axis.px(xs[i], area.x0, area.x1),
            ya.axis.px(ys[i], area.y1, area.y0),
        )
    };

    // The fronts as staircases: between two neighbours, the corner is the worse of the two in
    // each objective (the boundary of what the front dominates).
    if let (Some((sx, sy)), true) = (o.pareto, o.also.is_empty()) {
        let worse = |a: f64, b: f64, sense: Sense| match sense {
            Sense::Minimize => a.max(b),
            Sense::Maximize => a.min(b),
        };
        for f in &fronts {
            let mut path = Vec::new();
            for (k, &i) in f.iter().enumerate() {
                if k > 0 {
                    let j = f[k - 1];
                    let corner = (worse(xs[j], xs[i], sx), worse(ys[j], ys[i], sy));
                    path.push((
                        xa.axis.px(corner.0, area.x0, area.x1),
                        ya.axis.px(corner.1, area.y1, area.y0),
                    ));
                }
                path.push(at(i));
            }
            s.path(path, RGBAColor(0, 0, 0, 0.6), 2);
        }
    }
    let on_front: Vec<bool> = {
        let mut v = vec![false; rows.len()];
        for &i in fronts.iter().flatten() {
            v[i] = true;
        }
        v
    };
    const R: f64 = 4.0;
    for (i, c) in point_colours.iter().enumerate() {
        let ring = on_front[i].then_some(RGBAColor(0, 0, 0, 0.85));
        s.point(at(i), R, RGBAColor(c.0, c.1, c.2, 0.8), ring);
    }

    // Labels: front points (or every point), each placed where it is inside the plot area and
    // clear of the other labels and, if possible, of every point.
    let labelled: Vec<usize> = if o.label_all {
        (0..rows.len()).collect()
    } else {
        let mut v: Vec<usize> = fronts.iter().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let marks = s.layout.marks.clone();
    let mut placed: Vec<Bounds> = Vec::new();
    const LABEL_FONT: f64 = 12.0;
    for &i in &labelled {
        let text = label_of(i);
        let (px, py) = at(i);
        let d = R + 3.0;
        let v = LABEL_FONT / 2.0 + R + 1.0;
        let mut candidates = Vec::new();
        for k in [1.0, 2.2, 3.5, 5.0, 7.0, 9.0] {
            candidates.extend([
                ((px + d * k, py), Anchor::Start),
                ((px - d * k, py), Anchor::End),
                ((px, py - v * k), Anchor::Middle),
                ((px, py + v * k), Anchor::Middle),
                ((px + d * k, py - v * k), Anchor::Start),
                ((px + d * k, py + v * k), Anchor::Start),
                ((px - d * k, py - v * k), Anchor::End),
                ((px - d * k, py + v * k), Anchor::End),
            ]);
        }
        let bounds = |c: &((f64, f64), Anchor)| text_bounds(&text, LABEL_FONT, c.0, c.1, false);
        let inside = |b: &Bounds| area.contains(b);
        let clear_of_labels = |b: &Bounds| !placed.iter().any(|p| p.overlaps(b));
        let clear_of_points = |b: &Bounds| !marks.iter().any(|m| m.overlaps(b));
        let pick = candidates
            .iter()
            .find(|c| {
                let b = bounds(c);
                inside(&b) && clear_of_labels(&b) && clear_of_points(&b)
            })
            .or_else(|| {
                candidates.iter().find(|c| {
                    let b = bounds(c);
                    inside(&b) && clear_of_labels(&b)
                })
            })
            .or_else(|| candidates.iter().find(|c| inside(&bounds(c))))
            .copied();
        let (pos, anchor) = pick.unwrap_or_else(|| {
            // Nothing fits around the point: pull the label inside the area.
            let b = bounds(&((px + d, py), Anchor::Start));
            let x = (b.x0).clamp(area.x0, (area.x1 - b.width()).max(area.x0));
            let y = py.clamp(area.y0 + LABEL_FONT / 2.0, area.y1 - LABEL_FONT / 2.0);
            ((x, y), Anchor::Start)
        });
        let b = s.text(&text, LABEL_FONT, pos, anchor, false);
        placed.push(b);
    }
    if !legend.is_empty() {
        legend.draw_column(&mut s, area.x1 + 2.0 * GAP, area.y0);
    }
    let bytes = render(&s, format)?;
    Ok(Plot {
        bytes,
        marks: rows.len(),
        front: front_count,
        layout: s.layout,
    })
}
