//! `report.html`: one self-contained page for a results folder (a run's, a comparison's or a
//! sweep's), with the key figures, charts as inline SVG, sortable tables and where the
//! results came from.
//!
//! Pure: the CLI reads the files; this module checks their text ([`RunResults::parse`],
//! [`CompareResults::parse`], [`SweepResults::parse`]) and renders the page ([`render`]) as
//! a string. The page needs nothing from the network: the styles and the small sorting
//! script are inline, the charts are [`crate::plot`]'s SVG. Every text that comes from a file
//! is escaped ([`format::escape`]). The same inputs give the same bytes.
//!
//! Sorting: clicking a column header sorts its table (again: the other way). The page's
//! address records it as `#sort=COLUMN` (`#sort=-COLUMN`: descending), and a page opened at
//! such an address shows every table that has that column sorted by it: a link to a sorted
//! view.

mod charts;
pub mod format;
mod page;

use serde_json::{Map, Value};

use crate::error::{Error, Problem, Result};
use crate::table::Table;

pub use format::escape;

/// What `plumsim report` was given: the path as the user named it, and the kind of results.
#[derive(Debug, Clone)]
pub struct Report {
    /// The folder (or sweep CSV) as named on the command line.
    pub source: String,
    pub results: Results,
}

/// The results a page is made of.
#[derive(Debug, Clone)]
pub enum Results {
    Run(RunResults),
    Compare(CompareResults),
    Sweep(SweepResults),
}

/// A `plumsim run` folder: `summary.json` and `layers.csv`, maybe `fidelity.csv`.
#[derive(Debug, Clone)]
pub struct RunResults {
    pub summary: Map<String, Value>,
    pub layers: Table,
    pub fidelity: Option<Table>,
    /// Other files of the folder plumsim wrote (listed on the page).
    pub other_files: Vec<String>,
}

/// A `plumsim compare` folder: `compare.csv`.
#[derive(Debug, Clone)]
pub struct CompareResults {
    pub designs: Table,
    /// Other files of the folder plumsim wrote (listed on the page).
    pub other_files: Vec<String>,
}

/// A `plumsim sweep` result CSV, and its shard manifest when it is a shard.
#[derive(Debug, Clone)]
pub struct SweepResults {
    /// The CSV's file name.
    pub file: String,
    pub table: Table,
    /// The manifest's line (`plumsim-sweep-shard v1 ...`) and whether it describes the CSV.
    pub shard: Option<(crate::sweep::ShardManifest, bool)>,
}

/// One file's text and its name in messages.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub text: &'a str,
    pub origin: &'a str,
}

/// The energy components (`pe_arith`, ...) in report order.
pub(crate) fn energy_components() -> Vec<&'static str> {
    crate::energy::EnergyBreakdown::default()
        .components()
        .iter()
        .map(|(n, _)| *n)
        .collect()
}

/// The columns of layers.csv the page reads, each a number.
fn layer_number_columns() -> Vec<String> {
    let mut v: Vec<String> = [
        "gemm_m",
        "gemm_n",
        "gemm_k",
        "groups",
        "folds",
        "macs",
        "compute_cycles",
        "sram_stall_cycles",
        "memory_stall_cycles",
        "vector_exposed_cycles",
        "total_cycles",
        "utilization_pct",
        "energy_pj",
        "dram_read_bytes",
        "dram_write_bytes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(energy_components().iter().map(|c| format!("{c}_pj")));
    v
}

/// The summary.json fields the page reads as numbers.
fn summary_number_fields() -> Vec<String> {
    let mut v: Vec<String> = [
        "array_rows",
        "array_cols",
        "clock_mhz",
        "layers",
        "macs",
        "total_cycles",
        "latency_us",
        "energy_pj",
        "area_mm2",
        "utilization_pct",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(energy_components().iter().map(|c| format!("{c}_pj")));
    v
}

const SUMMARY_TEXT_FIELDS: &[&str] =
    &["plumsim_version", "arch", "workload", "pe_kind", "dataflow"];

const COMPARE_TEXT_COLUMNS: &[&str] = &["design", "pe_kind"];

fn compare_number_columns() -> Vec<String> {
    let mut v: Vec<String> = [
        "total_cycles",
        "latency_us",
        "energy_uj",
        "edp_uj_us",
        "tops_per_w",
        "area_mm2",
        "speedup_vs_baseline",
        "energy_ratio_vs_baseline",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(crate::compare::CompareRow::energy_columns());
    v
}

/// Sweep columns every row has.
const SWEEP_KEY_COLUMNS: &[&str] = &["point", "workload", "status", "error"];
/// Sweep columns that are numbers in every row whose status is ok.
const SWEEP_NUMBER_COLUMNS: &[&str] = &["total_cycles", "latency_us", "energy_pj", "area_mm2"];

/// Whether a CSV header is a sweep result's: `point` first, then its parameters, `workload`,
/// `status` and `error`.
pub fn is_sweep_header(headers: &[String]) -> bool {
    headers.first().map(String::as_str) == Some("point")
        && SWEEP_KEY_COLUMNS
            .iter()
            .all(|c| headers.iter().any(|h| h == c))
}

/// An error about file `origin`: `what` is missing; `expected` says what the file should be.
fn missing(origin: &str, what: Vec<String>, kind: &str, expected: &str) -> Error {
    Error::invalid(
        origin,
        what.into_iter()
            .map(|w| {
                Problem::new(kind, format!("no `{w}`")).with_help(format!("expected {expected}"))
            })
            .collect(),
    )
}

/// Check that `t` has every column of `text` and `numbers`, and that the cells of `numbers`
/// are finite numbers in the rows `check_row` selects.
fn check_table(
    t: &Table,
    origin: &str,
    text: &[&str],
    numbers: &[String],
    expected: &str,
    check_row: &dyn Fn(&[String]) -> bool,
) -> Result<()> {
    let absent: Vec<String> = text
        .iter()
        .map(|s| s.to_string())
        .chain(numbers.iter().cloned())
        .filter(|c| t.col(c).is_none())
        .collect();
    if !absent.is_empty() {
        return Err(missing(origin, absent, "column", expected));
    }
    for (i, r) in t.rows.iter().enumerate() {
        if !check_row(r) {
            continue;
        }
        for c in numbers {
            let j = t.col(c).expect("checked above");
            let cell = r[j].trim();
            if !cell.parse::<f64>().is_ok_and(f64::is_finite) {
                return Err(Error::Parse {
                    origin: origin.to_string(),
                    // The header is line 1.
                    line: Some(i + 2),
                    column: None,
                    message: format!(
                        "column `{c}` holds `{}`, not a number (expected {expected})",
                        cell.chars().take(40).collect::<String>()
                    ),
                });
            }
        }
    }
    Ok(())
}

fn parse_csv(input: Input) -> Result<Table> {
    Table::parse(input.text, input.origin)
}

impl RunResults {
    /// Check a run's files: `summary.json` (an object with the run's names and totals),
    /// `layers.csv` (one row per layer, as many as the summary's `layers`) and, when present,
    /// `fidelity.csv`.
    pub fn parse(
        summary: Input,
        layers: Input,
        fidelity: Option<Input>,
        other_files: Vec<String>,
    ) -> Result<RunResults> {
        let expected_summary = "the summary.json `plumsim run` writes";
        let value: Value = serde_json::from_str(summary.text).map_err(|e| Error::Parse {
            origin: summary.origin.to_string(),
            line: Some(e.line()),
            column: Some(e.column()),
            message: format!("{e} (expected {expected_summary})"),
        })?;
        let Value::Object(map) = value else {
            return Err(Error::Parse {
                origin: summary.origin.to_string(),
                line: None,
                column: None,
                message: format!("is JSON but not an object (expected {expected_summary})"),
            });
        };
        let mut problems = Vec::new();
        for f in SUMMARY_TEXT_FIELDS {
            if !map.get(*f).is_some_and(Value::is_string) {
                problems.push(
                    Problem::new(*f, "missing, or not a string")
                        .with_help(format!("expected {expected_summary}")),
                );
            }
        }
        for f in summary_number_fields() {
            if !map
                .get(&f)
                .and_then(Value::as_f64)
                .is_some_and(f64::is_finite)
            {
                problems.push(
                    Problem::new(f, "missing, or not a number")
                        .with_help(format!("expected {expected_summary}")),
                );
            }
        }
        if !problems.is_empty() {
            return Err(Error::invalid(summary.origin, problems));
        }
        let expected_layers = "the layers.csv `plumsim run` writes, one row per layer";
        let t = parse_csv(layers)?;
        check_table(
            &t,
            layers.origin,
            &["layer", "op", "unit", "scheme"],
            &layer_number_columns(),
            expected_layers,
            &|_| true,
        )?;
        let n = map.get("layers").and_then(Value::as_f64).unwrap_or(0.0);
        if n != t.rows.len() as f64 {
            return Err(Error::invalid(
                layers.origin,
                vec![Problem::new(
                    "rows",
                    format!(
                        "{} layer rows, but {} records {n} layers: the two files are not from one run",
                        t.rows.len(),
                        summary.origin
                    ),
                )
                .with_help("run `plumsim run` again to write both")],
            ));
        }
        let fidelity = match fidelity {
            Some(f) => {
                let ft = parse_csv(f)?;
                check_table(
                    &ft,
                    f.origin,
                    &["layer", "op"],
                    &[],
                    "the fidelity.csv `plumsim run --inputs` writes",
                    &|_| true,
                )?;
                Some(ft)
            }
            None => None,
        };
        Ok(RunResults {
            summary: map,
            layers: t,
            fidelity,
            other_files,
        })
    }
}

impl CompareResults {
    /// Check `compare.csv`: one row per design with its totals and ratios.
    pub fn parse(designs: Input, other_files: Vec<String>) -> Result<CompareResults> {
        let t = parse_csv(designs)?;
        let expected = "the compare.csv `plumsim compare` writes, one row per design";
        check_table(
            &t,
            designs.origin,
            COMPARE_TEXT_COLUMNS,
            &compare_number_columns(),
            expected,
            &|_| true,
        )?;
        if t.rows.is_empty() {
            return Err(Error::invalid(
                designs.origin,
                vec![Problem::new("rows", "none").with_help(format!("expected {expected}"))],
            ));
        }
        Ok(CompareResults {
            designs: t,
            other_files,
        })
    }
}

impl SweepResults {
    /// Check a sweep's result CSV (`point`, the parameters, `workload`, `status`, `error`, the
    /// figures; numbers in every row whose status is ok) and, when given, its shard manifest.
    pub fn parse(file: &str, csv: Input, manifest: Option<Input>) -> Result<SweepResults> {
        let t = parse_csv(csv)?;
        let expected = "the CSV `plumsim sweep` writes: point, the parameters, workload, status, error and the figures";
        if !is_sweep_header(&t.headers) {
            let absent: Vec<String> = std::iter::once("point")
                .chain(SWEEP_KEY_COLUMNS.iter().copied())
                .filter(|c| t.col(c).is_none())
                .map(str::to_string)
                .collect();
            return Err(Error::invalid(
                csv.origin,
                if absent.is_empty() {
                    vec![Problem::new("column", "the first column is not `point`")
                        .with_help(format!("expected {expected}"))]
                } else {
                    absent
                        .into_iter()
                        .map(|c| {
                            Problem::new("column", format!("no `{c}`"))
                                .with_help(format!("expected {expected}"))
                        })
                        .collect()
                },
            ));
        }
        let numbers: Vec<String> = SWEEP_NUMBER_COLUMNS.iter().map(|s| s.to_string()).collect();
        let status = t.col("status").expect("a sweep header has status");
        check_table(&t, csv.origin, &[], &numbers, expected, &|r| {
            r[status] == "ok"
        })?;
        let shard = match manifest {
            Some(m) => {
                let parsed = crate::sweep::ShardManifest::parse(m.text, m.origin)?;
                let describes = parsed.describes(csv.text.as_bytes());
                Some((parsed, describes))
            }
            None => None,
        };
        Ok(SweepResults {
            file: file.to_string(),
            table: t,
            shard,
        })
    }

    /// The parameter columns: those between `point` and `workload`.
    pub fn param_columns(&self) -> Vec<String> {
        let w = self.table.col("workload").unwrap_or(1);
        self.table.headers[1..w].to_vec()
    }
}

impl Results {
    /// `run`, `compare` or `sweep`: the command that wrote the results.
    pub fn kind(&self) -> &'static str {
        match self {
            Results::Run(_) => "run",
            Results::Compare(_) => "compare",
            Results::Sweep(_) => "sweep",
        }
    }
}

/// The page, as HTML text.
pub fn render(report: &Report) -> Result<String> {
    page::render(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCH: &str =
        "name = \"a<b>\"\n[array]\nrows = 2\ncols = 2\ndataflow = \"ws\"\n[pe]\nkind = \"dense\"\n\
         [buffers.input]\ncapacity_bytes = 4096\n[buffers.weight]\ncapacity_bytes = 4096\n\
         [buffers.output]\ncapacity_bytes = 4096\n";

    /// summary.json and layers.csv of a two-layer run whose first layer is named `layer`.
    fn run_files(layer: &str) -> (String, String) {
        let arch = crate::design::parse_arch(ARCH, "t.toml").unwrap();
        let wl = format!(
            r#"{{"name": "w&w", "inputs": {{"x": [2, 3]}},
                "layers": [{{"name": {}, "op": "matmul", "inputs": ["x"], "output": "y", "out_features": 2}},
                           {{"name": "r", "op": "relu", "inputs": ["y"], "output": "z"}}]}}"#,
            serde_json::to_string(layer).unwrap()
        );
        let net = crate::workload::parse_workload(&wl, "w.json").unwrap();
        let run = crate::engine::simulate(&arch, &net).unwrap();
        let summary = crate::report::SummaryFile {
            summary: crate::report::Summary::new(&arch, &run),
            inputs: None,
            fidelity: None,
        };
        let rows = crate::report::layer_rows(&arch, &run, &[None, None], &["int8", ""]);
        (
            serde_json::to_string_pretty(&summary).unwrap(),
            crate::report::to_csv(&rows),
        )
    }

    fn page(summary: &str, layers: &str) -> Result<String> {
        let r = RunResults::parse(
            Input {
                text: summary,
                origin: "d/summary.json",
            },
            Input {
                text: layers,
                origin: "d/layers.csv",
            },
            None,
            Vec::new(),
        )?;
        render(&Report {
            source: "d".into(),
            results: Results::Run(r),
        })
    }

    #[test]
    fn a_layer_name_with_markup_is_text() {
        let (s, l) = run_files("<script>alert(1)</script>");
        let html = page(&s, &l).unwrap();
        assert_eq!(html.matches("<script").count(), 1, "the page's own only");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<title>w&amp;w on a&lt;b&gt;</title>"));
        assert!(!html.contains("a<b>") && !html.contains("w&w"));
        // One table row per layer, the same bytes each time.
        let table = &html[html.find("id=\"layers\"").unwrap()..];
        let table = &table[..table.find("</tbody>").unwrap()];
        assert_eq!(table.matches("<tr data-i=").count(), 2);
        assert_eq!(page(&s, &l).unwrap(), html);
        assert!(html.contains(env!("CARGO_PKG_VERSION")));
        assert!(html.matches("<svg").count() >= 3, "three charts");
    }

    #[test]
    fn files_that_are_not_a_runs_are_refused_naming_them() {
        let (s, l) = run_files("l");
        let e = page("{\"arch\": 1", &l).unwrap_err().to_string();
        assert!(e.starts_with("d/summary.json:1:"), "{e}");
        let e = page("[1]", &l).unwrap_err().to_string();
        assert!(
            e.contains("d/summary.json") && e.contains("not an object"),
            "{e}"
        );
        let e = page(&s.replace("\"latency_us\"", "\"lat\""), &l)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("d/summary.json") && e.contains("latency_us"),
            "{e}"
        );
        let e = page(&s, &l.replacen("energy_pj", "e", 1))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("d/layers.csv") && e.contains("no `energy_pj`"),
            "{e}"
        );
        let bad: String = l.lines().take(2).collect::<Vec<_>>().join("\n") + "\n";
        let e = page(&s, &bad).unwrap_err().to_string();
        assert!(e.contains("not from one run"), "{e}");
        let e = page(&s, "layer\n\"x\n").unwrap_err().to_string();
        assert!(e.contains("d/layers.csv"), "{e}");
    }

    #[test]
    fn sweep_headers_are_told_from_other_csvs() {
        let h = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
        assert!(is_sweep_header(&h(
            "point,array.rows,workload,status,error,energy_pj"
        )));
        assert!(!is_sweep_header(&h("point,latency_us,workload,energy_pj")));
        assert!(!is_sweep_header(&h("layer,point,workload,status,error")));
        let csv =
            "point,array.rows,workload,status,error,total_cycles,latency_us,energy_pj,area_mm2\n\
                   0,4,w,ok,,10,1.5,3e6,0.5\n1,0,w,invalid,\"array.rows: 0 <b>\",,,,\n";
        let s = SweepResults::parse(
            "s.csv",
            Input {
                text: csv,
                origin: "s.csv",
            },
            None,
        )
        .unwrap();
        assert_eq!(s.param_columns(), ["array.rows"]);
        let html = render(&Report {
            source: "s.csv".into(),
            results: Results::Sweep(s),
        })
        .unwrap();
        assert!(html.contains("array.rows: 0 &lt;b&gt;"));
        assert!(html.contains("id=\"front-rows\""));
        let e = SweepResults::parse(
            "s.csv",
            Input {
                text: &csv.replace(",1.5,", ",fast,"),
                origin: "s.csv",
            },
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("s.csv:2") && e.contains("latency_us"), "{e}");
    }

    #[test]
    fn a_huge_sweep_is_drawn_by_its_front_and_its_first_rows() {
        // 6000 points on one workload; the last 10 are the front (energy falls as latency
        // rises among them, and each is faster and cheaper than every other row).
        let mut csv = String::from(
            "point,array.rows,workload,status,error,total_cycles,latency_us,energy_pj,area_mm2\n",
        );
        for i in 0..6000u64 {
            let (lat, e) = if i >= 5990 {
                (100 + (i - 5990), 1000 - (i - 5990))
            } else {
                (200 + i % 7, 2000 + i % 11)
            };
            csv.push_str(&format!("{i},4,w,ok,,{lat},{lat},{e},1\n"));
        }
        let s = SweepResults::parse(
            "s.csv",
            Input {
                text: &csv,
                origin: "s.csv",
            },
            None,
        )
        .unwrap();
        let html = render(&Report {
            source: "s.csv".into(),
            results: Results::Sweep(s),
        })
        .unwrap();
        assert!(
            html.contains("The chart draws 5000 of 6000 rows"),
            "the cap is said"
        );
        let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        assert_eq!(svg.matches("<circle").count(), 5000);
        // The front (the last 10 rows) is drawn and listed.
        let front = &html[html.find("id=\"front-rows\"").unwrap()..];
        let front = &front[..front.find("</tbody>").unwrap()];
        assert_eq!(front.matches("<tr data-i=").count(), 10);
        for id in 5990..6000 {
            assert!(svg.contains(&format!("#{id}")), "front point {id} labelled");
        }
    }
}
