//! Colours: a categorical palette, a viridis-like ramp, and rows coloured by a column.

use plotters::prelude::*;

use super::labels::short_number;
use crate::table::Table;

pub(crate) const PALETTE: [RGBColor; 10] = [
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
pub(crate) fn ramp(t: f64) -> RGBColor {
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
pub(crate) fn colours(
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
