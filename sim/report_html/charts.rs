//! The page's charts: [`crate::plot`]'s bars and scatter as SVG text, made fit to sit inside
//! HTML. A chart that cannot be drawn from valid results (every bar zero) becomes a note.

use crate::error::{Error, Result};
use crate::pareto::Sense;
use crate::plot::{self, BarOptions, ImageFormat, PlotError, ScatterOptions};
use crate::table::Table;

use super::format::escape;

/// The most bars a per-row chart draws; a table with more rows is charted by its largest.
pub const MAX_BARS: usize = 40;

/// A chart for the page: its SVG, or why there is none.
#[derive(Debug, Clone)]
pub struct Chart {
    pub svg: Option<String>,
    /// Shown under the chart (what it leaves out), or in its place.
    pub note: Option<String>,
}

/// The SVG text made safe and fit for inline use: no XML prolog, scalable (the page's CSS
/// sizes it by its viewBox), labelled for screen readers. plotters escapes its text; an SVG
/// that still holds a script or foreign content is refused.
fn inline(svg: Vec<u8>, label: &str) -> Result<String> {
    let s = String::from_utf8(svg).map_err(|_| Error::Internal("a chart is not UTF-8".into()))?;
    let start = s
        .find("<svg")
        .ok_or_else(|| Error::Internal("a chart has no <svg> element".into()))?;
    let body = &s[start..];
    let lower = body.to_ascii_lowercase();
    if lower.contains("<script") || lower.contains("<foreignobject") || lower.contains("<iframe") {
        return Err(Error::Internal(
            "a chart holds markup that is not drawing".into(),
        ));
    }
    Ok(body.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(label)),
        1,
    ))
}

/// Turn a drawing outcome into a chart: a refusal of the data (every value zero) becomes a
/// note; a failure of the drawing library is an internal error.
fn finish(r: std::result::Result<plot::Plot, PlotError>, label: &str) -> Result<Chart> {
    match r {
        Ok(p) => Ok(Chart {
            svg: Some(inline(p.bytes, label)?),
            note: None,
        }),
        Err(PlotError::Input(e)) => Ok(Chart {
            svg: None,
            note: Some(format!("no chart: {e}")),
        }),
        Err(e) => Err(e.into()),
    }
}

/// The rows to chart: those with a `weight` above zero (a bar of nothing is not drawn),
/// at most [`MAX_BARS`] of them (the largest), in their order; and the note saying what is
/// left out. `what` names the rows and `of` the weight: ("layers", "cycles").
pub fn largest_rows(weights: &[f64], what: &str, of: &str) -> (Vec<usize>, Option<String>) {
    let n = weights.len();
    let mut some: Vec<usize> = (0..n).filter(|&i| weights[i] > 0.0).collect();
    if some.len() > MAX_BARS {
        some.sort_by(|&a, &b| weights[b].total_cmp(&weights[a]).then(a.cmp(&b)));
        some.truncate(MAX_BARS);
        some.sort_unstable();
        let note = format!(
            "The {MAX_BARS} {what} with the most {of} of {n}, in order; the table below lists them all."
        );
        return (some, Some(note));
    }
    let note = (some.len() < n).then(|| {
        format!(
            "{} of {n} {what}: those without {of} are left out.",
            some.len()
        )
    });
    (some, note)
}

/// A number for a derived table cell (plain, exact enough to draw).
fn cell(v: f64) -> String {
    format!("{v}")
}

/// Horizontal bars of one value per named row: `rows` are (label, value in pJ).
pub fn energy_by_component(parts: &[(String, f64)], title: &str) -> Result<Chart> {
    // The plot shows energies in the unit of the largest.
    let col = "energy_pj".to_string();
    let t = Table {
        headers: vec!["component".into(), col.clone()],
        rows: parts
            .iter()
            .map(|(n, v)| vec![n.clone(), cell(*v)])
            .collect(),
    };
    let o = BarOptions {
        columns: vec![col],
        label: "component".into(),
        stack: false,
        title: Some(title.to_string()),
        width: 1000,
        beside: None,
    };
    finish(plot::bars(&t, &o, ImageFormat::Svg, "report"), title)
}

/// Stacked per-row bars: `label` names each row, `parts` are the stacked columns as
/// (column name for the legend, values per row). `rows` selects the rows drawn.
pub fn stacked(
    labels: &[String],
    parts: &[(String, Vec<f64>)],
    rows: &[usize],
    label: &str,
    title: &str,
) -> Result<Chart> {
    let mut headers = vec![label.to_string()];
    headers.extend(parts.iter().map(|(n, _)| n.clone()));
    let t = Table {
        headers,
        rows: rows
            .iter()
            .map(|&r| {
                let mut row = vec![labels[r].clone()];
                row.extend(parts.iter().map(|(_, v)| cell(v[r])));
                row
            })
            .collect(),
    };
    let o = BarOptions {
        columns: parts.iter().map(|(n, _)| n.clone()).collect(),
        label: label.to_string(),
        stack: parts.len() > 1,
        title: Some(title.to_string()),
        width: 1000,
        beside: None,
    };
    finish(plot::bars(&t, &o, ImageFormat::Svg, "report"), title)
}

/// Stacked energy per row, scaled to one unit: `energies` are (component, pJ per row).
pub fn stacked_energy(
    labels: &[String],
    energies: &[(&str, Vec<f64>)],
    rows: &[usize],
    label: &str,
    title: &str,
) -> Result<Chart> {
    // The plot shows energies in the unit of the largest stack.
    let parts: Vec<(String, Vec<f64>)> = energies
        .iter()
        .map(|(c, v)| (format!("{c}_pj"), v.clone()))
        .collect();
    stacked(labels, &parts, rows, label, title)
}

/// Scatter of a sweep's rows, latency against energy, with the front of both minimized.
/// The plot draws the energy in the unit of its largest value.
pub fn front(t: &Table, color_by: Option<&str>, title: &str) -> Result<Chart> {
    let o = ScatterOptions {
        x: "latency_us".into(),
        y: "energy_pj".into(),
        color_by: color_by.map(str::to_string),
        pareto: Some((Sense::Minimize, Sense::Minimize)),
        also: Vec::new(),
        group_by: None,
        label: None,
        label_all: false,
        log_x: false,
        log_y: false,
        title: Some(title.to_string()),
        size: (1000, 620),
    };
    finish(plot::scatter(t, &o, ImageFormat::Svg, "report"), title)
}
