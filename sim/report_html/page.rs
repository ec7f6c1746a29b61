//! The page itself: its frame (styles, the sorting script), the sections of each kind of
//! results, and sortable tables.

use serde_json::{Map, Value};

use crate::columns::Record;
use crate::error::Result;
use crate::table::Table;

use super::charts::{self, Chart};
use super::format::{escape, grouped, sig4, Quantity, Scale};
use super::{energy_components, CompareResults, Report, Results, RunResults, SweepResults};

/// The most rows a sweep's table of points lists (the CSV has them all).
const MAX_POINT_ROWS: usize = 2000;
/// The most failed rows listed.
const MAX_FAILED_ROWS: usize = 500;
/// The most workloads of a sweep that get their own front chart.
const MAX_FRONT_CHARTS: usize = 8;
/// The most points a front chart draws.
const MAX_SCATTER_POINTS: usize = 5000;

const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f5f7; color: #1c2330;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; }
header { background: #24304a; color: #fff; padding: 20px 32px 18px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; overflow-wrap: anywhere; }
header p { margin: 0; color: #c8d0e0; font-size: 14px; overflow-wrap: anywhere; }
main { max-width: 1280px; margin: 0 auto; padding: 8px 16px 32px; }
section { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 14px 16px 18px; margin: 16px 0; }
h2 { font-size: 18px; margin: 0 0 12px; font-weight: 600; }
h3 { font-size: 15px; margin: 18px 0 8px; font-weight: 600; }
.cols h3:first-child { margin-top: 0; }
p.note { color: #586174; font-size: 13px; margin: 6px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.card { border: 1px solid #e2e6ec; border-left: 4px solid #3b6fb6; border-radius: 5px; padding: 8px 12px; }
.card .k { color: #586174; font-size: 13px; }
.card .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card .d { color: #586174; font-size: 12px; overflow-wrap: anywhere; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 8px 32px; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; font-size: 14px; }
dl.kv dt { color: #586174; }
dl.kv dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 8px 0 16px; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { color: #586174; font-size: 13px; text-align: center; }
.scroll { overflow: auto; max-height: 680px; border: 1px solid #e2e6ec; border-radius: 4px; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
table.parts { width: auto; min-width: 50%; }
th, td { padding: 4px 6px; border-bottom: 1px solid #edf0f3; white-space: nowrap; text-align: left; }
thead th { white-space: normal; vertical-align: bottom; min-width: 4em; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th.n { text-align: right; }
td.t { white-space: normal; min-width: 10em; max-width: 18em; overflow-wrap: anywhere; }
thead th { position: sticky; top: 0; background: #eaeef4; z-index: 1; font-weight: 600; }
tbody tr:nth-child(even) { background: #f9fafb; }
tbody tr:hover { background: #eef4fc; }
th button { all: unset; cursor: pointer; }
th button:focus-visible { outline: 2px solid #3b6fb6; }
th button::after { content: "\00a0\2195"; opacity: 0.35; }
th[aria-sort=ascending] button::after { content: "\00a0\25B2"; opacity: 1; }
th[aria-sort=descending] button::after { content: "\00a0\25BC"; opacity: 1; }
.bar { display: inline-block; height: 10px; background: #3b6fb6; vertical-align: middle; }
ul.files { margin: 4px 0; padding-left: 20px; font-size: 14px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; overflow-wrap: anywhere; }
footer { color: #586174; font-size: 12px; text-align: center; padding: 8px 16px 24px; }
"#;

/// Sorting by a header click, and by the page's address (`#sort=COLUMN`, `#sort=-COLUMN`).
const SCRIPT: &str = r##"
(function () {
  "use strict";
  function value(cell, numeric) {
    if (numeric) {
      var v = cell.getAttribute("data-v");
      var x = v === null || v === "" ? NaN : Number(v);
      return isNaN(x) ? null : x;
    }
    return cell.textContent;
  }
  function sortTable(table, index, descending) {
    var heads = table.tHead.rows[0].cells;
    var numeric = heads[index].getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[index], numeric), y = value(b.cells[index], numeric);
      var order = Number(a.getAttribute("data-i")) - Number(b.getAttribute("data-i"));
      if (x === null || y === null) {
        return x === y ? order : (x === null ? 1 : -1);
      }
      var c = numeric ? x - y : x.localeCompare(y, undefined, { numeric: true });
      return (descending ? -c : c) || order;
    });
    for (var i = 0; i < rows.length; i++) { body.appendChild(rows[i]); }
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    heads[index].setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  function column(table, name) {
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].getAttribute("data-col") === name) { return i; }
    }
    return -1;
  }
  var tables = document.querySelectorAll("table.sortable");
  function fromAddress() {
    var m = /^#sort=(-?)(.+)$/.exec(window.location.hash);
    if (!m) { return; }
    var name;
    try { name = decodeURIComponent(m[2]); } catch (e) { return; }
    for (var i = 0; i < tables.length; i++) {
      var k = column(tables[i], name);
      if (k >= 0) { sortTable(tables[i], k, m[1] === "-"); }
    }
  }
  function listen(table, head, k) {
    var b = head.querySelector("button");
    if (!b) { return; }
    b.addEventListener("click", function () {
      var descending = head.getAttribute("aria-sort") === "ascending";
      sortTable(table, k, descending);
      var link = "#sort=" + (descending ? "-" : "") + encodeURIComponent(head.getAttribute("data-col"));
      try { history.replaceState(null, "", link); } catch (e) { /* a page that cannot keep it */ }
    });
  }
  for (var i = 0; i < tables.length; i++) {
    var heads = tables[i].tHead.rows[0].cells;
    for (var k = 0; k < heads.length; k++) { listen(tables[i], heads[k], k); }
  }
  window.addEventListener("hashchange", fromAddress);
  fromAddress();
})();
"##;

/// How a column's cells are shown.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Show {
    Text,
    /// A whole number with separators.
    Int,
    /// 4 significant digits.
    Sig,
    /// A percentage with 2 decimals.
    Pct,
    /// Scaled to one unit for the column (chosen by its largest value).
    Scaled(Quantity),
    /// A file path: its file name shown, the whole path on hover.
    Path,
}

/// What the column `name` holds, from the declared result columns.
fn column_doc(name: &str) -> Option<&'static str> {
    crate::report::LayerRow::columns()
        .into_iter()
        .chain(crate::compare::CompareRow::columns())
        .chain(crate::report::Summary::columns())
        .chain(crate::functional::fidelity::LayerFidelity::columns())
        .chain(crate::functional::fidelity::NetworkFidelity::columns())
        .find(|c| c.name == name)
        .map(|c| c.doc)
        .filter(|d| !d.is_empty())
}

/// `name` with its unit suffix taken off and `_` as spaces.
fn words(name: &str) -> String {
    let stem = ["_pj", "_uj", "_us", "_bytes", "_pct", "_mm2", "_db"]
        .iter()
        .find_map(|s| name.strip_suffix(s).filter(|st| !st.is_empty()))
        .unwrap_or(name);
    stem.replace('_', " ")
}

/// The header text of a column.
fn head_label(name: &str, show: Show, scale: Option<Scale>) -> String {
    match name {
        "tops_per_w" => return "TOPS/W".into(),
        "edp_uj_us" => return "EDP [uJ x us]".into(),
        "edp_pj_us" => return "EDP [pJ x us]".into(),
        _ => {}
    }
    match (show, scale) {
        (Show::Scaled(_), Some(s)) => format!("{} [{}]", words(name), s.unit),
        (Show::Pct, _) => format!("{} [%]", words(name)),
        _ if name.ends_with("_mm2") => format!("{} [mm²]", words(name)),
        _ if name.ends_with("_db") => format!("{} [dB]", words(name)),
        _ => name.replace('_', " "),
    }
}

fn number(cell: &str) -> Option<f64> {
    cell.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A sortable table of `t`'s `rows` (in that order) and `cols` (those `t` has).
fn table_html(id: &str, t: &Table, rows: &[usize], cols: &[(&str, Show)]) -> String {
    let cols: Vec<(usize, &str, Show)> = cols
        .iter()
        .filter_map(|(n, s)| t.col(n).map(|i| (i, *n, *s)))
        .collect();
    let mut h = format!(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"{}\">\n<thead><tr>",
        escape(id)
    );
    let mut scales = Vec::new();
    for &(i, name, show) in &cols {
        let scale = match show {
            Show::Scaled(q) => {
                let max = rows
                    .iter()
                    .filter_map(|&r| number(&t.rows[r][i]))
                    .map(f64::abs)
                    .fold(0.0, f64::max);
                Some(q.scale_for(max))
            }
            _ => None,
        };
        scales.push(scale);
        let title = match column_doc(name) {
            Some(d) => format!("{name}: {d}"),
            None => name.to_string(),
        };
        let numeric = !matches!(show, Show::Text | Show::Path);
        h.push_str(&format!(
            "<th scope=\"col\"{} data-col=\"{}\" data-type=\"{}\" title=\"{}\"><button type=\"button\">{}</button></th>",
            if numeric { " class=\"n\"" } else { "" },
            escape(name),
            if numeric { "num" } else { "text" },
            escape(&title),
            escape(&head_label(name, show, scale))
        ));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (k, &r) in rows.iter().enumerate() {
        h.push_str(&format!("<tr data-i=\"{k}\">"));
        for (&(i, _, show), scale) in cols.iter().zip(&scales) {
            let cell = &t.rows[r][i];
            if show == Show::Path {
                let name = cell.rsplit(['/', '\\']).next().unwrap_or(cell);
                h.push_str(&format!(
                    "<td title=\"{}\">{}</td>",
                    escape(cell),
                    escape(name)
                ));
                continue;
            }
            if show == Show::Text {
                let e = escape(cell);
                if cell.chars().count() > 24 {
                    // A long name (`encoder.layer.0.attention.self.query`) may wrap after
                    // its separators; its text stays the same.
                    let mut broken = String::with_capacity(e.len() + 16);
                    for ch in e.chars() {
                        broken.push(ch);
                        if matches!(ch, '.' | '/' | '_') {
                            broken.push_str("<wbr>");
                        }
                    }
                    h.push_str(&format!("<td class=\"t\">{broken}</td>"));
                } else {
                    h.push_str(&format!("<td>{e}</td>"));
                }
                continue;
            }
            let Some(v) = number(cell) else {
                h.push_str(&format!(
                    "<td class=\"n\" data-v=\"\">{}</td>",
                    if cell.trim().is_empty() {
                        "-".to_string()
                    } else {
                        escape(cell)
                    }
                ));
                continue;
            };
            let shown = match (show, scale) {
                (Show::Int, _) if v >= 0.0 && v.fract() == 0.0 && v < 9.007e15 => grouped(v as u64),
                (Show::Pct, _) => format!("{v:.2}"),
                (Show::Scaled(_), Some(s)) => s.number(v),
                _ => sig4(v),
            };
            h.push_str(&format!("<td class=\"n\" data-v=\"{v}\">{shown}</td>"));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody></table></div>\n");
    h
}

fn card(key: &str, value: &str, detail: &str) -> String {
    format!(
        "<div class=\"card\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"d\">{}</div></div>\n",
        escape(key),
        escape(value),
        escape(detail)
    )
}

fn kv(pairs: &[(&str, String)]) -> String {
    let mut h = String::from("<dl class=\"kv\">\n");
    for (k, v) in pairs {
        h.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(k), escape(v)));
    }
    h.push_str("</dl>\n");
    h
}

fn figure(chart: &Chart) -> String {
    let mut h = String::from("<figure>\n");
    if let Some(svg) = &chart.svg {
        h.push_str(svg);
        h.push('\n');
    }
    if let Some(n) = &chart.note {
        h.push_str(&format!("<figcaption>{}</figcaption>\n", escape(n)));
    }
    h.push_str("</figure>\n");
    h
}

fn files_list(files: &[String]) -> String {
    if files.is_empty() {
        return String::new();
    }
    let mut h = String::from("<ul class=\"files\">\n");
    for f in files {
        h.push_str(&format!("<li><code>{}</code></li>\n", escape(f)));
    }
    h.push_str("</ul>\n");
    h
}

/// A summary field as text: strings as they are, numbers and flags as JSON spells them.
fn text(m: &Map<String, Value>, k: &str) -> String {
    match m.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

fn num(m: &Map<String, Value>, k: &str) -> Option<f64> {
    m.get(k).and_then(Value::as_f64).filter(|v| v.is_finite())
}

fn int(m: &Map<String, Value>, k: &str) -> String {
    num(m, k).map_or_else(String::new, |v| {
        if v >= 0.0 && v.fract() == 0.0 {
            grouped(v as u64)
        } else {
            sig4(v)
        }
    })
}

fn yes_no(m: &Map<String, Value>, k: &str) -> String {
    match m.get(k) {
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        _ => text(m, k),
    }
}

/// The whole page around `body`.
fn frame(title: &str, subtitle: &str, body: &str, source: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"plumsim {v}\">\n\
         <title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>{t}</h1><p>{s}</p></header>\n<main>\n{body}</main>\n\
         <footer>Made by plumsim {v} with <code>plumsim report {src}</code>. The page is self-contained: \
         styles, charts (SVG) and the sorting script are inline. Click a column header to sort its table; \
         the address then links to the sorted view (<code>#sort=COLUMN</code>, <code>#sort=-COLUMN</code> descending).</footer>\n\
         <script>{SCRIPT}</script>\n</body>\n</html>\n",
        v = escape(env!("CARGO_PKG_VERSION")),
        t = escape(title),
        s = escape(subtitle),
        src = escape(source),
    )
}

pub fn render(report: &Report) -> Result<String> {
    match &report.results {
        Results::Run(r) => run_page(&report.source, r),
        Results::Compare(c) => compare_page(&report.source, c),
        Results::Sweep(s) => sweep_page(&report.source, s),
    }
}

/// A column of `t` as numbers (blank or text: 0).
fn column_values(t: &Table, name: &str) -> Vec<f64> {
    match t.col(name) {
        Some(c) => t
            .rows
            .iter()
            .map(|r| number(&r[c]).unwrap_or(0.0))
            .collect(),
        None => vec![0.0; t.rows.len()],
    }
}

fn column_text(t: &Table, name: &str) -> Vec<String> {
    match t.col(name) {
        Some(c) => t.rows.iter().map(|r| r[c].clone()).collect(),
        None => vec![String::new(); t.rows.len()],
    }
}

fn run_page(source: &str, r: &RunResults) -> Result<String> {
    let m = &r.summary;
    let (arch, workload) = (text(m, "arch"), text(m, "workload"));
    let mut b = String::new();

    // Key figures.
    b.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    let clock = format!("at {} MHz", sig4(num(m, "clock_mhz").unwrap_or(0.0)));
    b.push_str(&card(
        "Latency",
        &Quantity::TimeUs.show(num(m, "latency_us").unwrap_or(0.0)),
        &clock,
    ));
    b.push_str(&card(
        "Total cycles",
        &int(m, "total_cycles"),
        &format!("{} compute cycles", int(m, "compute_cycles")),
    ));
    b.push_str(&card(
        "Energy per inference",
        &Quantity::EnergyPj.show(num(m, "energy_pj").unwrap_or(0.0)),
        &num(m, "tops_per_w")
            .map(|t| format!("{} TOPS/W", sig4(t)))
            .unwrap_or_default(),
    ));
    b.push_str(&card(
        "Area",
        &format!("{} mm²", sig4(num(m, "area_mm2").unwrap_or(0.0))),
        &format!("{} x {} PEs", int(m, "array_rows"), int(m, "array_cols")),
    ));
    b.push_str(&card(
        "Utilization",
        &format!("{:.2} %", num(m, "utilization_pct").unwrap_or(0.0)),
        "effectual lane-cycles of all",
    ));
    b.push_str(&card(
        "MACs",
        &crate::plot::short_number(num(m, "macs").unwrap_or(0.0)),
        &format!("{} layers", int(m, "layers")),
    ));
    if let (Some(rd), Some(wr)) = (num(m, "dram_read_bytes"), num(m, "dram_write_bytes")) {
        b.push_str(&card(
            "DRAM traffic",
            &Quantity::Bytes.show(rd + wr),
            &format!(
                "{} read, {} written",
                Quantity::Bytes.show(rd),
                Quantity::Bytes.show(wr)
            ),
        ));
    }
    if let (Some(rate), Some(e)) = (num(m, "tokens_per_s"), num(m, "energy_per_token_pj")) {
        b.push_str(&card(
            "Tokens per second",
            &sig4(rate),
            &format!(
                "{}: {} per token",
                text(m, "phase"),
                Quantity::EnergyPj.show(e)
            ),
        ));
    }
    if let Some(Value::Object(f)) = m.get("fidelity") {
        b.push_str(&card(
            "Top-1 agreement with fp32",
            &format!("{:.1} %", num(f, "top1_agreement_pct").unwrap_or(0.0)),
            &format!(
                "{} of {} inputs",
                int(f, "top1_agreements"),
                int(f, "inputs")
            ),
        ));
        b.push_str(&card(
            "Logit SQNR",
            &num(f, "logit_sqnr_db").map_or("exact".into(), |d| format!("{:.2} dB", d)),
            &text(f, "calibration"),
        ));
    }
    b.push_str("</div>\n</section>\n");

    // Where the results came from.
    b.push_str("<section id=\"design\">\n<h2>Design and workload</h2>\n<div class=\"cols\">\n<div>\n<h3>Architecture</h3>\n");
    let mut design = vec![
        ("name", arch.clone()),
        ("PE kind", text(m, "pe_kind")),
        (
            "array",
            format!(
                "{} x {} PEs, {} dataflow",
                int(m, "array_rows"),
                int(m, "array_cols"),
                text(m, "dataflow")
            ),
        ),
        (
            "clock",
            format!("{} MHz", sig4(num(m, "clock_mhz").unwrap_or(0.0))),
        ),
    ];
    for (label, key) in [
        ("lock-step scope", "sync_scope"),
        ("offline filter scheduling", "schedule"),
        ("zero-skipping network", "skip_network"),
        ("clock gating", "clock_gating"),
    ] {
        let v = yes_no(m, key);
        if !v.is_empty() {
            design.push((label, v));
        }
    }
    b.push_str(&kv(&design));
    // The area by component, in the summary's order.
    let area: Vec<(String, f64)> = crate::report::Summary::columns()
        .iter()
        .filter(|c| c.name.ends_with("_mm2") && c.name != "area_mm2")
        .filter_map(|c| num(m, c.name).map(|v| (words(c.name), v)))
        .collect();
    if !area.is_empty() {
        b.push_str("<h3>Area by component</h3>\n");
        let pairs: Vec<(&str, String)> = area
            .iter()
            .map(|(n, v)| (n.as_str(), format!("{} mm²", sig4(*v))))
            .collect();
        b.push_str(&kv(&pairs));
    }
    b.push_str("</div>\n<div>\n<h3>Workload</h3>\n");
    let mut wl = vec![
        ("name", workload.clone()),
        ("layers", int(m, "layers")),
        ("MACs", int(m, "macs")),
    ];
    if !text(m, "phase").is_empty() {
        wl.push(("phase", text(m, "phase")));
        wl.push(("tokens per inference", int(m, "tokens")));
    }
    if !text(m, "inputs").is_empty() {
        wl.push(("inputs", text(m, "inputs")));
    }
    b.push_str(&kv(&wl));
    b.push_str("<h3>Provenance</h3>\n");
    b.push_str(&kv(&[
        ("results", source.to_string()),
        (
            "simulated by",
            format!("plumsim {}", text(m, "plumsim_version")),
        ),
    ]));
    b.push_str("<p class=\"note\">summary.json records the names of the architecture and the workload, not the files they were read from.</p>\n");
    let mut files = vec!["summary.json".to_string(), "layers.csv".to_string()];
    if r.fidelity.is_some() {
        files.push("fidelity.csv".into());
    }
    files.extend(r.other_files.iter().cloned());
    b.push_str(&files_list(&files));
    b.push_str("</div>\n</div>\n</section>\n");

    // Energy.
    let parts: Vec<(String, f64)> = energy_components()
        .iter()
        .map(|c| (c.to_string(), num(m, &format!("{c}_pj")).unwrap_or(0.0)))
        .collect();
    let total = num(m, "energy_pj").unwrap_or(0.0);
    b.push_str("<section id=\"energy\">\n<h2>Energy</h2>\n");
    b.push_str(&figure(&charts::energy_by_component(
        &parts,
        &format!("{workload} on {arch}: energy per inference by component"),
    )?));
    b.push_str("<table class=\"parts\">\n<thead><tr><th>component</th><th class=\"n\">energy</th><th class=\"n\">share [%]</th><th></th></tr></thead>\n<tbody>\n");
    for (c, v) in &parts {
        let share = if total > 0.0 { 100.0 * v / total } else { 0.0 };
        b.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{share:.1}</td><td><span class=\"bar\" style=\"width:{:.0}px\"></span></td></tr>\n",
            escape(c),
            Quantity::EnergyPj.show(*v),
            (3.0 * share).round()
        ));
    }
    b.push_str(&format!(
        "<tr><td><b>total</b></td><td class=\"n\"><b>{}</b></td><td class=\"n\">100.0</td><td></td></tr>\n</tbody></table>\n",
        Quantity::EnergyPj.show(total)
    ));
    let t = &r.layers;
    let labels = column_text(t, "layer");
    let energy = column_values(t, "energy_pj");
    let (rows, note) = charts::largest_rows(&energy, "layers", "energy");
    let per_layer: Vec<(&str, Vec<f64>)> = energy_components()
        .into_iter()
        .map(|c| (c, column_values(t, &format!("{c}_pj"))))
        .collect();
    let mut chart = charts::stacked_energy(
        &labels,
        &per_layer,
        &rows,
        "layer",
        "energy per layer by component",
    )?;
    chart.note = chart.note.or(note);
    b.push_str("<h3>Per layer</h3>\n");
    b.push_str(&figure(&chart));
    b.push_str("</section>\n");

    // Cycles.
    b.push_str("<section id=\"cycles\">\n<h2>Latency and cycles</h2>\n");
    b.push_str(&format!(
        "<p class=\"note\">{} cycles in all: {} at {} MHz. A layer's cycles are its array (compute) cycles, its stalls on buffer ports and DRAM, and its vector cycles that do not hide behind the array.</p>\n",
        int(m, "total_cycles"),
        Quantity::TimeUs.show(num(m, "latency_us").unwrap_or(0.0)),
        sig4(num(m, "clock_mhz").unwrap_or(0.0))
    ));
    let cycles = column_values(t, "total_cycles");
    let (rows, note) = charts::largest_rows(&cycles, "layers", "cycles");
    let parts: Vec<(String, Vec<f64>)> = [
        "compute_cycles",
        "sram_stall_cycles",
        "memory_stall_cycles",
        "vector_exposed_cycles",
    ]
    .iter()
    .map(|c| (c.to_string(), column_values(t, c)))
    .collect();
    let mut chart = charts::stacked(&labels, &parts, &rows, "layer", "cycles per layer")?;
    chart.note = chart.note.or(note);
    b.push_str(&figure(&chart));
    b.push_str("</section>\n");

    // Per-layer table.
    b.push_str(&format!(
        "<section id=\"layers-section\">\n<h2>Layers</h2>\n<p class=\"note\">{} rows of layers.csv (the file has more columns). Click a header to sort.</p>\n",
        t.rows.len()
    ));
    let all: Vec<usize> = (0..t.rows.len()).collect();
    b.push_str(&table_html(
        "layers",
        t,
        &all,
        &[
            ("layer", Show::Text),
            ("op", Show::Text),
            ("macs", Show::Int),
            ("total_cycles", Show::Int),
            ("compute_cycles", Show::Int),
            ("sram_stall_cycles", Show::Int),
            ("memory_stall_cycles", Show::Int),
            ("vector_exposed_cycles", Show::Int),
            ("utilization_pct", Show::Pct),
            ("energy_pj", Show::Scaled(Quantity::EnergyPj)),
            ("dram_read_bytes", Show::Scaled(Quantity::Bytes)),
            ("dram_write_bytes", Show::Scaled(Quantity::Bytes)),
            ("scheme", Show::Text),
            ("weight_density", Show::Sig),
            ("effectual_bits_per_weight", Show::Sig),
        ],
    ));
    b.push_str("</section>\n");

    if let Some(f) = &r.fidelity {
        b.push_str(&format!(
            "<section id=\"fidelity-section\">\n<h2>Fidelity</h2>\n<p class=\"note\">{} rows of fidelity.csv: each layer of the quantized datapath against the fp32 reference.</p>\n",
            f.rows.len()
        ));
        let cols: Vec<(&str, Show)> = f
            .headers
            .iter()
            .map(|h| {
                let show = match h.as_str() {
                    "layer" | "op" | "input_signed" => Show::Text,
                    h if h.ends_with("_bits") || h == "inputs" || h == "accumulator_overflows" => {
                        Show::Int
                    }
                    _ => Show::Sig,
                };
                (h.as_str(), show)
            })
            .collect();
        let all: Vec<usize> = (0..f.rows.len()).collect();
        b.push_str(&table_html("fidelity", f, &all, &cols));
        b.push_str("</section>\n");
    }

    Ok(frame(
        &format!("{workload} on {arch}"),
        &format!("plumsim run results: {source}"),
        &b,
        source,
    ))
}

fn compare_page(source: &str, c: &CompareResults) -> Result<String> {
    let t = &c.designs;
    let names = column_text(t, "design");
    let latency = column_values(t, "latency_us");
    let energy = column_values(t, "energy_uj");
    let n = t.rows.len();
    let best = |v: &[f64]| {
        (0..n)
            .min_by(|&a, &b| v[a].total_cmp(&v[b]).then(a.cmp(&b)))
            .unwrap_or(0)
    };
    let (fast, frugal) = (best(&latency), best(&energy));
    let mut b = String::new();
    b.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    b.push_str(&card("Designs", &n.to_string(), "rows of compare.csv"));
    b.push_str(&card(
        "Lowest latency",
        &Quantity::TimeUs.show(latency[fast]),
        &names[fast],
    ));
    b.push_str(&card(
        "Lowest energy",
        &Quantity::EnergyUj.show(energy[frugal]),
        &names[frugal],
    ));
    let area = column_values(t, "area_mm2");
    let small = best(&area);
    b.push_str(&card(
        "Smallest area",
        &format!("{} mm²", sig4(area[small])),
        &names[small],
    ));
    b.push_str("</div>\n</section>\n");

    b.push_str("<section id=\"designs-section\">\n<h2>Designs</h2>\n<p class=\"note\">Ratios are against the comparison's baseline design (speedup: its cycles over a design's; energy and area ratio: its energy or area over a design's).</p>\n");
    let all: Vec<usize> = (0..n).collect();
    b.push_str(&table_html(
        "designs",
        t,
        &all,
        &[
            ("design", Show::Text),
            ("pe_kind", Show::Text),
            ("skip_network", Show::Text),
            ("total_cycles", Show::Int),
            ("latency_us", Show::Scaled(Quantity::TimeUs)),
            ("energy_uj", Show::Scaled(Quantity::EnergyUj)),
            ("edp_uj_us", Show::Sig),
            ("tops_per_w", Show::Sig),
            ("area_mm2", Show::Sig),
            ("speedup_vs_baseline", Show::Sig),
            ("energy_ratio_vs_baseline", Show::Sig),
            ("area_ratio_vs_baseline", Show::Sig),
            ("weight_density", Show::Sig),
            ("effectual_bits_per_weight", Show::Sig),
            ("quant_rel_error", Show::Sig),
        ],
    ));
    b.push_str("</section>\n");

    b.push_str("<section id=\"energy\">\n<h2>Energy</h2>\n");
    let (rows, note) = charts::largest_rows(&energy, "designs", "energy");
    let parts: Vec<(&str, Vec<f64>)> = energy_components()
        .into_iter()
        .map(|comp| {
            let uj = column_values(t, &format!("{comp}_uj"));
            (comp, uj.iter().map(|v| v * 1e6).collect())
        })
        .collect();
    let mut chart = charts::stacked_energy(
        &names,
        &parts,
        &rows,
        "design",
        "energy per inference by component",
    )?;
    chart.note = chart.note.or(note);
    b.push_str(&figure(&chart));
    b.push_str("</section>\n");

    b.push_str("<section id=\"cycles\">\n<h2>Latency</h2>\n");
    let (rows, note) = charts::largest_rows(&latency, "designs", "latency");
    let max = latency.iter().copied().fold(0.0, f64::max);
    let (col, factor) = if max >= 1e3 {
        ("latency_ms", 1e3)
    } else {
        ("latency_us", 1.0)
    };
    let parts = vec![(
        col.to_string(),
        latency.iter().map(|v| v / factor).collect::<Vec<f64>>(),
    )];
    let mut chart = charts::stacked(&names, &parts, &rows, "design", "latency per inference")?;
    chart.note = chart.note.or(note);
    b.push_str(&figure(&chart));
    b.push_str("</section>\n");

    b.push_str("<section id=\"provenance\">\n<h2>Provenance</h2>\n");
    b.push_str(&kv(&[("results", source.to_string())]));
    b.push_str("<p class=\"note\">compare.csv records each design's name and PE kind, not the files they were read from, nor the workload; <code>plumsim compare</code> names its default folder after the workload (results/compare/WORKLOAD).</p>\n");
    let mut files = vec!["compare.csv".to_string()];
    files.extend(c.other_files.iter().cloned());
    b.push_str(&files_list(&files));
    b.push_str("</section>\n");

    Ok(frame(
        &format!("Comparison of {n} design{}", if n == 1 { "" } else { "s" }),
        &format!("plumsim compare results: {source}"),
        &b,
        source,
    ))
}

/// Distinct values of a column among `rows`, in first-seen order.
fn distinct(t: &Table, col: &str, rows: &[usize]) -> Vec<String> {
    let Some(c) = t.col(col) else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut order = Vec::new();
    for &r in rows {
        if seen.insert(t.rows[r][c].as_str()) {
            order.push(t.rows[r][c].clone());
        }
    }
    order
}

fn sweep_page(source: &str, s: &SweepResults) -> Result<String> {
    use crate::pareto::{front_rows, Sense};
    let t = &s.table;
    let status = t.col("status").expect("checked: a sweep header");
    let ok_rows: Vec<usize> = (0..t.rows.len())
        .filter(|&r| t.rows[r][status] == "ok")
        .collect();
    let failed: Vec<usize> = (0..t.rows.len())
        .filter(|&r| t.rows[r][status] != "ok")
        .collect();
    let ok = t.filtered(|r| r[status] == "ok");
    let objectives = [
        ("latency_us".to_string(), Sense::Minimize),
        ("energy_pj".to_string(), Sense::Minimize),
    ];
    let on_front: Vec<usize> = if ok.rows.is_empty() {
        Vec::new()
    } else {
        front_rows(&ok, &objectives, Some("workload"), &s.file)?
    };
    let all: Vec<usize> = (0..t.rows.len()).collect();
    let workloads = distinct(t, "workload", &all);
    let points = distinct(t, "point", &all);
    let params = s.param_columns();

    let mut b = String::new();
    b.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"cards\">\n");
    b.push_str(&card(
        "Design points",
        &grouped(points.len() as u64),
        &format!("over {} parameter(s)", params.len()),
    ));
    b.push_str(&card(
        "Workloads",
        &grouped(workloads.len() as u64),
        &workloads.join(", "),
    ));
    b.push_str(&card(
        "Rows evaluated",
        &grouped(ok_rows.len() as u64),
        &format!("{} of {} rows ok", ok_rows.len(), t.rows.len()),
    ));
    b.push_str(&card(
        "Rows not evaluated",
        &grouped(failed.len() as u64),
        "invalid or unsupported points",
    ));
    b.push_str(&card(
        "On the Pareto front",
        &grouped(on_front.len() as u64),
        "latency and energy, per workload",
    ));
    let ok_all: Vec<usize> = (0..ok.rows.len()).collect();
    let lat = column_values(&ok, "latency_us");
    let en = column_values(&ok, "energy_pj");
    if let Some(i) = ok_all
        .iter()
        .copied()
        .min_by(|&a, &b| lat[a].total_cmp(&lat[b]).then(a.cmp(&b)))
    {
        b.push_str(&card(
            "Lowest latency",
            &Quantity::TimeUs.show(lat[i]),
            &format!("point {} on {}", ok.rows[i][0], text_of(&ok, i, "workload")),
        ));
    }
    if let Some(i) = ok_all
        .iter()
        .copied()
        .min_by(|&a, &b| en[a].total_cmp(&en[b]).then(a.cmp(&b)))
    {
        b.push_str(&card(
            "Lowest energy",
            &Quantity::EnergyPj.show(en[i]),
            &format!("point {} on {}", ok.rows[i][0], text_of(&ok, i, "workload")),
        ));
    }
    b.push_str("</div>\n</section>\n");

    // The design space.
    b.push_str("<section id=\"design\">\n<h2>Design space</h2>\n<div class=\"cols\">\n<div>\n<h3>Parameters</h3>\n");
    let values: Vec<(String, String)> = params
        .iter()
        .map(|p| {
            let v = distinct(t, p, &all);
            let shown = if v.len() > 12 {
                format!("{} ... ({} values)", v[..12].join(", "), v.len())
            } else {
                v.join(", ")
            };
            (p.clone(), shown)
        })
        .collect();
    let pairs: Vec<(&str, String)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    b.push_str(&kv(&pairs));
    b.push_str("</div>\n<div>\n<h3>Workloads and architectures</h3>\n");
    let mut pairs = vec![("workloads", workloads.join(", "))];
    let archs = distinct(t, "arch", &ok_rows);
    if !archs.is_empty() {
        pairs.push(("architectures", archs.join(", ")));
    }
    let kinds = distinct(t, "pe_kind", &ok_rows);
    if !kinds.is_empty() {
        pairs.push(("PE kinds", kinds.join(", ")));
    }
    b.push_str(&kv(&pairs));
    b.push_str("<h3>Provenance</h3>\n");
    let mut prov = vec![("results", source.to_string()), ("file", s.file.clone())];
    let versions = distinct(t, "plumsim_version", &ok_rows);
    if !versions.is_empty() {
        prov.push(("simulated by", format!("plumsim {}", versions.join(", "))));
    }
    if let Some((m, describes)) = &s.shard {
        prov.push((
            "shard",
            format!(
                "{} of sweep spec {} ({})",
                m.fingerprint.shard.describe(),
                m.fingerprint.spec,
                if *describes {
                    "the CSV is the one its manifest records"
                } else {
                    "the CSV was changed after the sweep wrote it: its manifest records other bytes"
                }
            ),
        ));
    }
    b.push_str(&kv(&prov));
    if params.iter().any(|p| p == "base") {
        b.push_str("<p class=\"note\">The <code>base</code> column names each point's architecture file as the spec gave it (relative to the spec's folder).</p>\n");
    }
    b.push_str("</div>\n</div>\n</section>\n");

    // The fronts.
    b.push_str("<section id=\"front\">\n<h2>Pareto front</h2>\n<p class=\"note\">Latency against energy per inference, both minimized, within each workload (the sweep CSV does not record its spec's objectives). Points not evaluated are left out.</p>\n");
    let ok_all_rows: Vec<usize> = (0..ok.rows.len()).collect();
    let ok_workloads = distinct(&ok, "workload", &ok_all_rows);
    for w in ok_workloads.iter().take(MAX_FRONT_CHARTS) {
        let mut sub = ok.filtered(|r| text_cell(&ok, r, "workload") == w.as_str());
        // A huge sweep is drawn by its front and its first rows: the front of those is the
        // front of all (every point off the front is dominated by one on it).
        let mut drawn_note = None;
        if sub.rows.len() > MAX_SCATTER_POINTS {
            let front: std::collections::HashSet<usize> =
                front_rows(&sub, &objectives, None, &s.file)?
                    .into_iter()
                    .collect();
            let room = MAX_SCATTER_POINTS.saturating_sub(front.len());
            let n = sub.rows.len();
            let mut others = 0;
            let keep: Vec<usize> = (0..n)
                .filter(|i| {
                    front.contains(i) || {
                        others += 1;
                        others <= room
                    }
                })
                .collect();
            drawn_note = Some(format!(
                "The chart draws {} of {n} rows: every front row and the first others.",
                keep.len()
            ));
            sub.rows = keep.into_iter().map(|i| sub.rows[i].clone()).collect();
        }
        let sub_rows: Vec<usize> = (0..sub.rows.len()).collect();
        let colour = ["pe_kind", "base", "arch"]
            .into_iter()
            .find(|c| distinct(&sub, c, &sub_rows).len() > 1);
        let mut chart = charts::front(&sub, colour, &format!("{w}: energy against latency"))?;
        chart.note = chart.note.or(drawn_note);
        b.push_str(&figure(&chart));
    }
    if ok_workloads.len() > MAX_FRONT_CHARTS {
        b.push_str(&format!(
            "<p class=\"note\">Charts for the first {MAX_FRONT_CHARTS} of {} workloads; the table lists every front.</p>\n",
            ok_workloads.len()
        ));
    }
    if ok.rows.is_empty() {
        b.push_str("<p class=\"note\">No row of the sweep was evaluated: there is no front.</p>\n");
    }
    fn param_show(p: &String) -> (&str, Show) {
        if p == "base" {
            (p.as_str(), Show::Path)
        } else {
            (p.as_str(), Show::Text)
        }
    }
    let mut point_cols: Vec<(&str, Show)> = vec![("point", Show::Int)];
    point_cols.extend(params.iter().map(param_show));
    point_cols.extend([
        ("workload", Show::Text),
        ("arch", Show::Text),
        ("pe_kind", Show::Text),
        ("total_cycles", Show::Int),
        ("latency_us", Show::Scaled(Quantity::TimeUs)),
        ("energy_pj", Show::Scaled(Quantity::EnergyPj)),
        ("area_mm2", Show::Sig),
        ("utilization_pct", Show::Pct),
        ("tops_per_w", Show::Sig),
        ("top1_agreement_pct", Show::Pct),
        ("logit_sqnr_db", Show::Sig),
    ]);
    b.push_str(&format!(
        "<h3>Front rows</h3>\n<p class=\"note\">{} row(s) on the front.</p>\n",
        on_front.len()
    ));
    b.push_str(&table_html("front-rows", &ok, &on_front, &point_cols));
    b.push_str("</section>\n");

    // Every evaluated row, marked when on the front.
    let mut marked = ok.clone();
    marked.headers.push("on_front".into());
    let front_set: std::collections::HashSet<usize> = on_front.iter().copied().collect();
    for (i, r) in marked.rows.iter_mut().enumerate() {
        r.push(if front_set.contains(&i) { "yes" } else { "" }.into());
    }
    let listed: Vec<usize> = (0..marked.rows.len().min(MAX_POINT_ROWS)).collect();
    b.push_str(&format!(
        "<section id=\"points-section\">\n<h2>Evaluated rows</h2>\n<p class=\"note\">{}</p>\n",
        if marked.rows.len() > MAX_POINT_ROWS {
            format!(
                "The first {MAX_POINT_ROWS} of {} rows whose status is ok; {} has them all.",
                marked.rows.len(),
                escape(&s.file)
            )
        } else {
            format!("{} rows whose status is ok.", marked.rows.len())
        }
    ));
    let mut cols = point_cols.clone();
    cols.insert(1, ("on_front", Show::Text));
    b.push_str(&table_html("points", &marked, &listed, &cols));
    b.push_str("</section>\n");

    if !failed.is_empty() {
        let listed: Vec<usize> = failed.iter().copied().take(MAX_FAILED_ROWS).collect();
        b.push_str(&format!(
            "<section id=\"failed-section\">\n<h2>Rows not evaluated</h2>\n<p class=\"note\">{}</p>\n",
            if failed.len() > MAX_FAILED_ROWS {
                format!("The first {MAX_FAILED_ROWS} of {} rows.", failed.len())
            } else {
                format!("{} row(s), with the reason.", failed.len())
            }
        ));
        let mut cols: Vec<(&str, Show)> = vec![("point", Show::Int)];
        cols.extend(params.iter().map(param_show));
        cols.extend([
            ("workload", Show::Text),
            ("status", Show::Text),
            ("error", Show::Text),
        ]);
        b.push_str(&table_html("failed", t, &listed, &cols));
        b.push_str("</section>\n");
    }

    Ok(frame(
        &format!("Sweep {}", s.file),
        &format!("plumsim sweep results: {source}"),
        &b,
        source,
    ))
}

fn text_of(t: &Table, r: usize, col: &str) -> String {
    t.col(col)
        .map_or_else(String::new, |c| t.rows[r][c].clone())
}

fn text_cell<'a>(t: &Table, row: &'a [String], col: &str) -> &'a str {
    t.col(col).map_or("", |c| row[c].as_str())
}
