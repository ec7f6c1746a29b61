//! Horizontal bar charts of one run's layers (grouped or stacked), with an optional panel
//! beside them.

use plotters::prelude::*;

use super::axes::{self, Axis, Scaled, GAP, MARGIN, TICK_FONT, TICK_LEN};
use super::colours::PALETTE;
use super::labels::{quantity, scale, scaled_axis_label, sentence, titled, Dim};
use super::legend::Legend;
use super::scene::{text_extent, Anchor, Bounds, Scene};
use super::{render, ImageFormat, Plot, PlotResult};
use crate::error::{Error, Problem};
use crate::table::Table;

/// The tallest bar chart drawn, in pixels (the `--size` bound of a scatter plot too).
pub const MAX_HEIGHT_PX: u64 = 8000;

/// The value axis's title and divisor for `columns` reaching `max`, and the legend names of
/// the columns: one quantity in words (`Energy (µJ)` over an energy breakdown, `Speedup`
/// over `speedup_window`, `speedup_lane`), the columns named by what differs.
fn value_title(columns: &[String], max: f64) -> (String, f64, Vec<String>) {
    if columns.len() == 1 {
        let (t, d) = scaled_axis_label(&columns[0], max);
        return (t, d, vec![sentence(&quantity(&columns[0]).name)]);
    }
    let qs: Vec<_> = columns.iter().map(|c| quantity(c)).collect();
    let names: Vec<String> = qs.iter().map(|q| sentence(&q.name)).collect();
    let same = qs
        .iter()
        .all(|q| q.dim == qs[0].dim && q.to_base == qs[0].to_base);
    if !same {
        return ("Value".into(), 1.0, names);
    }
    let toks: Vec<Vec<&str>> = qs.iter().map(|q| q.name.split(' ').collect()).collect();
    let common = (0..)
        .take_while(|&i| toks.iter().all(|t| t.len() > i + 1 && t[i] == toks[0][i]))
        .count();
    let sc = scale(&qs[0], max);
    if common > 0 {
        let rest = toks
            .iter()
            .map(|t| sentence(&t[common..].join(" ")))
            .collect();
        return (
            titled(&toks[0][..common].join(" "), &sc.unit),
            sc.divisor,
            rest,
        );
    }
    let name = match qs[0].dim {
        Dim::Energy => "energy".to_string(),
        Dim::Time => "time".to_string(),
        Dim::Cycles => "cycles".to_string(),
        Dim::Bytes => "bytes".to_string(),
        _ if columns.len() <= 3 => {
            let n: Vec<&str> = qs.iter().map(|q| q.name.as_str()).collect();
            match n.split_last() {
                Some((last, first)) if !first.is_empty() => {
                    format!("{} and {last}", first.join(", "))
                }
                _ => n.join(""),
            }
        }
        _ => "value".to_string(),
    };
    (titled(&name, &sc.unit), sc.divisor, names)
}

/// Pixels per row.
fn row_px(stack: bool, k: usize) -> f64 {
    if stack {
        22.0
    } else {
        (10.0 * k as f64 + 8.0).max(22.0)
    }
}

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
    let value_axis = |max: f64| Axis {
        lo: 0.0,
        hi: if max > 0.0 { max * 1.05 } else { 1.0 },
        log: false,
    };
    let (x_title, divisor, names) = value_title(&o.columns, max);
    let xa = Scaled {
        axis: value_axis(max),
        title: x_title,
        divisor,
    };
    let side: Option<(Scaled, Vec<f64>)> = bc.map(|c| {
        let v: Vec<f64> = rows.iter().map(|&r| val(r, c)).collect();
        let m = v.iter().copied().fold(0.0, f64::max);
        let (title, divisor) = scaled_axis_label(&t.headers[c], m);
        (
            Scaled {
                axis: value_axis(m),
                title,
                divisor,
            },
            v,
        )
    });
    let labels: Vec<String> = rows.iter().map(|&r| t.rows[r][lc].clone()).collect();
    let legend = Legend {
        title: None,
        entries: if k > 1 {
            names
                .iter()
                .enumerate()
                .map(|(j, n)| (n.clone(), PALETTE[j % PALETTE.len()]))
                .collect()
        } else {
            Vec::new()
        },
    };
    let title = o.title.clone().unwrap_or_else(|| {
        if k == 1 {
            sentence(&quantity(&o.columns[0]).name)
        } else {
            xa.title.clone()
        }
    });

    // Layout, top to bottom: caption, rows, x band, legend; left to right: row labels, main
    // panel, side panel. The height follows the rows: check it before drawing anything.
    let w = o.width.max(400) as f64;
    let label_w = labels
        .iter()
        .map(|l| text_extent(l, TICK_FONT).0)
        .fold(0.0, f64::max);
    let per = row_px(o.stack, k);
    let caption_h = axes::caption_height(&title, w);
    let legend_h = if legend.is_empty() {
        0.0
    } else {
        legend.flow_size(w - 2.0 * MARGIN).1 + GAP
    };
    let fixed = caption_h + axes::x_band() + legend_h + MARGIN;
    let height = (n as f64 * per + fixed).ceil().max(300.0);
    if height > MAX_HEIGHT_PX as f64 {
        let fits = ((MAX_HEIGHT_PX as f64 - fixed) / per).floor().max(0.0);
        return Err(Error::invalid(
            origin,
            vec![Problem::new(
                "--bars",
                format!(
                    "{n} rows would make a chart {height} pixels high; at most {MAX_HEIGHT_PX} \
                     ({fits} rows{})",
                    if o.stack { "" } else { " at this many columns" }
                ),
            )
            .with_help("plot fewer rows: select them with --where COLUMN=VALUE")],
        )
        .into());
    }
    let size = (w as u32, height as u32);
    let mut s = Scene::new(size);
    let top = axes::draw_caption(&mut s, &title, w);
    let bottom = top + n as f64 * per;
    let left = MARGIN + TICK_LEN + GAP + label_w;
    let half = |a: &Scaled| a.widest_label(0) / 2.0;
    let (main_right, side_area) = match &side {
        Some((sa, _)) => {
            let split = left + (w - left) * 0.68;
            let area = Bounds::new(split + 3.0 * GAP, top, w - MARGIN - half(sa), bottom);
            (split - half(&xa), Some(area))
        }
        None => (w - MARGIN - half(&xa), None),
    };
    let area = Bounds::new(left, top, main_right.max(left + 10.0), bottom);
    s.layout.panels.push(area);
    axes::draw_x(&mut s, area, &xa);
    s.path(
        vec![(area.x0, area.y0), (area.x0, area.y1)],
        RGBAColor(0, 0, 0, 0.75),
        1,
    );
    // Row i spans [top + i*per, top + (i+1)*per]; bars fill 80% of it.
    let row_top = |i: usize| top + i as f64 * per + 0.1 * per;
    let inner = 0.8 * per;
    for (i, l) in labels.iter().enumerate() {
        let cy = top + (i as f64 + 0.5) * per;
        s.path(
            vec![(area.x0 - TICK_LEN, cy), (area.x0, cy)],
            RGBAColor(0, 0, 0, 0.75),
            1,
        );
        s.text(
            l,
            TICK_FONT,
            (area.x0 - TICK_LEN - GAP, cy),
            Anchor::End,
            false,
        );
    }
    let px = |v: f64| xa.axis.px(v, area.x0, area.x1);
    for (i, &r) in rows.iter().enumerate() {
        let mut acc = 0.0;
        for (j, &c) in cols.iter().enumerate() {
            let v = val(r, c);
            let colour = PALETTE[j % PALETTE.len()];
            if o.stack {
                let v = v.max(0.0);
                s.bar(
                    Bounds::new(px(acc), row_top(i), px(acc + v), row_top(i) + inner),
                    colour,
                );
                acc += v;
            } else {
                let h = inner / k as f64;
                let y0 = row_top(i) + j as f64 * h;
                s.bar(Bounds::new(px(0.0), y0, px(v), y0 + h), colour);
            }
        }
    }
    let marks = s.layout.marks.len();
    if let (Some(sarea), Some((sa, v))) = (side_area, &side) {
        s.layout.panels.push(sarea);
        axes::draw_x(&mut s, sarea, sa);
        s.path(
            vec![(sarea.x0, sarea.y0), (sarea.x0, sarea.y1)],
            RGBAColor(0, 0, 0, 0.75),
            1,
        );
        let spx = |x: f64| sa.axis.px(x, sarea.x0, sarea.x1);
        for (i, x) in v.iter().enumerate() {
            let y0 = top + (i as f64 + 0.2) * per;
            s.bar(
                Bounds::new(spx(0.0), y0, spx(*x), y0 + 0.6 * per),
                PALETTE[9 % PALETTE.len()],
            );
        }
    }
    if !legend.is_empty() {
        legend.draw_flow(
            &mut s,
            w / 2.0,
            bottom + axes::x_band() + GAP,
            w - 2.0 * MARGIN,
        );
    }
    let bytes = render(&s, format)?;
    Ok(Plot {
        bytes,
        marks,
        front: 0,
        layout: s.layout,
    })
}
