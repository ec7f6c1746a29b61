//! SCALE-Sim compatibility: its topology CSVs as workloads, its config files as
//! architectures, and its `COMPUTE_REPORT.csv` columns as an output format.
//!
//! Conventions (see `../shared/reference/README.md`): no padding, output size
//! ceil((H - F + S) / S), a GEMM row (M, N, K) is an `[M, K] x [K, N]` product.

pub mod memory;
pub mod reports;

use serde_json::{json, Value};

use crate::arch::Arch;
use crate::engine::{systolic, RunResult};
use crate::error::{Error, Problem, Result};
use crate::workload::{validate_workload, Network, RawWorkload};

/// One row of a SCALE-Sim topology file.
#[derive(Debug, Clone, PartialEq)]
pub enum TopoRow {
    Conv {
        name: String,
        ifmap_h: i64,
        ifmap_w: i64,
        filter_h: i64,
        filter_w: i64,
        channels: i64,
        filters: i64,
        stride: i64,
    },
    Gemm {
        name: String,
        m: i64,
        n: i64,
        k: i64,
    },
}

/// The largest size a topology cell may give (2^32 - 1): every tensor holds at most 2^32
/// elements, so no single dimension is larger, and sizes stay far from overflowing.
pub const MAX_TOPOLOGY_VALUE: i64 = (1 << 32) - 1;

fn cells(line: &str) -> Vec<&str> {
    cells_at(line).into_iter().map(|(_, c)| c).collect()
}

/// The cells of a CSV line with their 1-based byte columns; trailing empty cells dropped.
fn cells_at(line: &str) -> Vec<(usize, &str)> {
    let mut v = Vec::new();
    let mut start = 0;
    for cell in line.split(',') {
        let trimmed = cell.trim_start();
        let column = start + (cell.len() - trimmed.len()) + 1;
        v.push((column, trimmed.trim_end()));
        start += cell.len() + 1;
    }
    while v.last().is_some_and(|(_, c)| c.is_empty()) {
        v.pop();
    }
    v
}

/// Parse a SCALE-Sim topology CSV (conv form with 8 columns or GEMM form with 4).
pub fn parse_topology_rows(text: &str, origin: &str) -> Result<Vec<TopoRow>> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(Error::Parse {
            origin: origin.into(),
            line: Some(1),
            column: None,
            message: "empty topology file".into(),
        });
    };
    let width = cells(header).len();
    if width != 8 && width != 4 {
        return Err(Error::Parse {
            origin: origin.into(),
            line: Some(1),
            column: None,
            message: format!(
                "header has {width} columns; expected 8 (name, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride) or 4 (name, M, N, K)"
            ),
        });
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let c = cells_at(line);
        let bad = |column: Option<usize>, message: String| Error::Parse {
            origin: origin.into(),
            line: Some(i + 1),
            column,
            message,
        };
        if c.len() != width {
            return Err(bad(
                None,
                format!("row has {} columns, the header has {width}", c.len()),
            ));
        }
        let mut nums = Vec::with_capacity(width - 1);
        for (j, (column, cell)) in c[1..].iter().enumerate() {
            match cell.parse::<i64>() {
                Ok(v) if (1..=MAX_TOPOLOGY_VALUE).contains(&v) => nums.push(v),
                _ => {
                    return Err(bad(
                        Some(*column),
                        format!(
                            "column {} (`{}`) must be a whole number from 1 to {MAX_TOPOLOGY_VALUE}, got `{cell}`",
                            j + 2,
                            cells(header).get(j + 1).unwrap_or(&"?")
                        ),
                    ))
                }
            }
        }
        let name = c[0].1.to_string();
        rows.push(if width == 8 {
            TopoRow::Conv {
                name,
                ifmap_h: nums[0],
                ifmap_w: nums[1],
                filter_h: nums[2],
                filter_w: nums[3],
                channels: nums[4],
                filters: nums[5],
                stride: nums[6],
            }
        } else {
            TopoRow::Gemm {
                name,
                m: nums[0],
                n: nums[1],
                k: nums[2],
            }
        });
    }
    Ok(rows)
}

impl TopoRow {
    /// The layer as SCALE-Sim's memory model sees it.
    pub fn conv_shape(&self) -> memory::ConvShape {
        let u = |v: i64| v as u64;
        match *self {
            TopoRow::Gemm { m, n, k, .. } => memory::ConvShape::gemm(u(m), u(n), u(k)),
            TopoRow::Conv {
                ifmap_h,
                ifmap_w,
                filter_h,
                filter_w,
                channels,
                filters,
                stride,
                ..
            } => memory::ConvShape::topology(
                u(ifmap_h),
                u(ifmap_w),
                u(filter_h),
                u(filter_w),
                u(channels),
                u(filters),
                u(stride),
            ),
        }
    }
}

/// The plumsim workload JSON equivalent of a topology: one independent layer per row.
pub fn topology_json(rows: &[TopoRow], name: &str) -> Value {
    let mut inputs = serde_json::Map::new();
    let mut layers = Vec::new();
    for row in rows {
        match row {
            TopoRow::Conv {
                name,
                ifmap_h,
                ifmap_w,
                filter_h,
                filter_w,
                channels,
                filters,
                stride,
            } => {
                let input = format!("{name}.ifmap");
                inputs.insert(input.clone(), json!([channels, ifmap_h, ifmap_w]));
                layers.push(json!({
                    "name": name, "op": "conv2d", "inputs": [input], "output": name,
                    "out_channels": filters, "kernel": [filter_h, filter_w],
                    "stride": stride, "padding": 0, "ceil_mode": true,
                }));
            }
            TopoRow::Gemm { name, m, n, k } => {
                let input = format!("{name}.a");
                inputs.insert(input.clone(), json!([m, k]));
                layers.push(json!({
                    "name": name, "op": "matmul", "inputs": [input], "output": name,
                    "out_features": n,
                }));
            }
        }
    }
    json!({
        "name": name,
        "inputs": inputs,
        "defaults": {"quant": {"scheme": "int", "weight_bits": 8, "activation_bits": 8}},
        "layers": layers,
    })
}

/// Load a SCALE-Sim topology CSV as a validated network.
pub fn parse_topology(text: &str, origin: &str, name: &str) -> Result<Network> {
    let rows = parse_topology_rows(text, origin)?;
    let raw: RawWorkload =
        serde_json::from_value(topology_json(&rows, name)).map_err(|e| Error::Parse {
            origin: origin.into(),
            line: None,
            column: None,
            message: e.to_string(),
        })?;
    validate_workload(raw, origin)
}

/// One `key: value` line of a SCALE-Sim config.
#[derive(Debug, Clone)]
struct CfgEntry {
    section: String,
    /// As written (messages).
    key: String,
    value: String,
    line: usize,
}

impl CfgEntry {
    fn label(&self) -> String {
        format!("{} (line {})", self.key, self.line)
    }
}

/// A SCALE-Sim `config.cfg` translated into plumsim architecture TOML.
#[derive(Debug, Clone)]
pub struct ImportedConfig {
    /// The architecture TOML text.
    pub toml: String,
    /// What was not carried over, each naming the cfg file, its line and key: keys plumsim
    /// does not model (they were ignored) and lines that are not `key: value`.
    pub warnings: Vec<String>,
    origin: String,
    fields: Vec<FieldOrigin>,
}

/// Which cfg key an architecture field was written from.
#[derive(Debug, Clone)]
struct FieldOrigin {
    /// The field's path in the architecture (`array.rows`).
    path: &'static str,
    /// Its 1-based line in the TOML text.
    toml_line: usize,
    /// The cfg key as written (or its usual spelling when it was missing and defaulted).
    key: String,
    /// Its line in the cfg file (None when defaulted).
    cfg_line: Option<usize>,
}

impl FieldOrigin {
    fn label(&self) -> String {
        match self.cfg_line {
            Some(l) => format!("{} (line {l})", self.key),
            None => self.key.clone(),
        }
    }
}

impl ImportedConfig {
    /// An error of the imported architecture (`design::parse_arch` on [`Self::toml`]) pointed
    /// at the cfg file and the key each field came from, rather than at the generated text.
    pub fn locate(&self, e: Error) -> Error {
        let note = |path: &str| format!("as `{path}` in the imported architecture");
        match e {
            Error::Invalid { problems, .. } => Error::Invalid {
                origin: self.origin.clone(),
                problems: problems
                    .into_iter()
                    .map(|p| {
                        let field = self.fields.iter().find(|f| {
                            p.path == f.path
                                || p.path.starts_with(&format!("{}.", f.path))
                                || p.path.starts_with(&format!("{}[", f.path))
                        });
                        match field {
                            Some(f) => Problem {
                                path: f.label(),
                                message: format!("{} ({})", p.message, note(&p.path)),
                                help: p.help,
                            },
                            None => Problem {
                                path: format!("{} (in the imported architecture)", p.path),
                                ..p
                            },
                        }
                    })
                    .collect(),
            },
            Error::Parse { line, message, .. } => {
                match line.and_then(|l| self.fields.iter().find(|f| f.toml_line == l)) {
                    Some(f) => Error::Parse {
                        origin: self.origin.clone(),
                        line: f.cfg_line,
                        column: None,
                        message: format!("{}: {message} ({})", f.key, note(f.path)),
                    },
                    None => Error::Internal(format!(
                        "the architecture imported from {} does not parse: {message}",
                        self.origin
                    )),
                }
            }
            other => other,
        }
    }
}

/// Keys read from a SCALE-Sim config, lower-cased, with their usual spelling.
const MODELLED: [(&str, &str); 9] = [
    ("run_name", "run_name"),
    ("arrayheight", "ArrayHeight"),
    ("arraywidth", "ArrayWidth"),
    ("ifmapsramszkb", "IfmapSramSzkB"),
    ("filtersramszkb", "FilterSramSzkB"),
    ("ofmapsramszkb", "OfmapSramSzkB"),
    ("bandwidth", "Bandwidth"),
    ("dataflow", "Dataflow"),
    ("interfacebandwidth", "InterfaceBandwidth"),
];

/// Keys that change nothing plumsim computes: the operands' start addresses in SCALE-Sim's
/// address traces.
const HARMLESS: [&str; 3] = ["ifmapoffset", "filteroffset", "ofmapoffset"];

/// Translate a SCALE-Sim `config.cfg` into plumsim architecture TOML text; see
/// [`import_config`] (its warnings are dropped here).
pub fn config_to_arch_toml(text: &str, origin: &str) -> Result<String> {
    Ok(import_config(text, origin)?.toml)
}

/// Translate a SCALE-Sim `config.cfg` (configparser syntax: `[section]`, `key: value` or
/// `key = value`, `#`/`;` comments; keys case-insensitive) into plumsim architecture TOML.
///
/// Sizes are whole numbers as SCALE-Sim reads them (`int()`): `ArrayHeight: 16.7` is an
/// error, not 16. Every error names the cfg file, the key and its line. Keys plumsim does not
/// model (`MemoryBanks` other than 1, v3's `[sparsity]` and `[layout]` keys, Ramulator
/// settings, anything unknown) are returned as warnings by name.
pub fn import_config(text: &str, origin: &str) -> Result<ImportedConfig> {
    let mut p = Vec::new();
    let mut warnings = Vec::new();
    let mut section = String::new();
    let mut entries: std::collections::BTreeMap<String, CfgEntry> = Default::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let n = i + 1;
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some(sep) = line.find([':', '=']) else {
            warnings.push(format!(
                "{origin}:{n}: `{}` is neither a [section] nor `key: value`; ignored",
                printable(line)
            ));
            continue;
        };
        let entry = CfgEntry {
            section: section.clone(),
            key: line[..sep].trim().to_string(),
            value: line[sep + 1..].trim().to_string(),
            line: n,
        };
        let lower = entry.key.to_ascii_lowercase();
        if let Some(first) = entries.get(&lower) {
            p.push(
                Problem::new(
                    entry.label(),
                    format!("is given twice (first on line {})", first.line),
                )
                .with_help("give each key once"),
            );
            continue;
        }
        entries.insert(lower, entry);
    }
    for (lower, e) in &entries {
        if MODELLED.iter().any(|(k, _)| k == lower) || HARMLESS.contains(&lower.as_str()) {
            continue;
        }
        let place = if e.section.is_empty() {
            String::new()
        } else {
            format!("[{}] ", printable(&e.section))
        };
        let why = if lower == "memorybanks" {
            if e.value == "1" {
                continue;
            }
            "plumsim models one bank per buffer"
        } else {
            "plumsim does not model it"
        };
        warnings.push(format!(
            "{origin}:{}: {place}`{}` = `{}` is ignored: {why}",
            e.line,
            printable(&e.key),
            printable(&e.value)
        ));
    }
    warnings.sort_by_key(|w| {
        w.strip_prefix(&format!("{origin}:"))
            .and_then(|r| r.split(':').next())
            .and_then(|l| l.parse::<usize>().ok())
    });
    let get = |key: &str| entries.get(key);
    let spelling = |key: &str| {
        MODELLED
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, s)| *s)
            .to_string()
    };
    // A whole number in lo..=hi, as SCALE-Sim's int() reads it.
    let int = |p: &mut Vec<Problem>, key: &str, lo: i64, hi: i64, unit: &str| -> u64 {
        let Some(e) = get(key) else {
            p.push(Problem::new(spelling(key), "is missing"));
            return 1;
        };
        match e.value.parse::<i64>() {
            Ok(v) if (lo..=hi).contains(&v) => v as u64,
            Ok(v) => {
                p.push(
                    Problem::new(e.label(), format!("{v} is out of range"))
                        .with_help(format!("allowed: {lo}..={hi}{unit}")),
                );
                1
            }
            Err(_) => {
                p.push(
                    Problem::new(
                        e.label(),
                        format!("`{}` is not a whole number", printable(&e.value)),
                    )
                    .with_help(format!(
                        "SCALE-Sim reads it as an integer: allowed: {lo}..={hi}{unit}"
                    )),
                );
                1
            }
        }
    };
    let max_kb = crate::arch::MAX_CAPACITY_BYTES / 1024;
    let dim = crate::arch::MAX_ARRAY_DIM;
    let rows = int(&mut p, "arrayheight", 1, dim, " PEs");
    let cols = int(&mut p, "arraywidth", 1, dim, " PEs");
    let ifmap_kb = int(&mut p, "ifmapsramszkb", 1, max_kb, " KiB");
    let filter_kb = int(&mut p, "filtersramszkb", 1, max_kb, " KiB");
    let ofmap_kb = int(&mut p, "ofmapsramszkb", 1, max_kb, " KiB");
    let bandwidth = match get("bandwidth") {
        None => 10.0,
        Some(e) => match e.value.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => v,
            _ => {
                p.push(
                    Problem::new(
                        e.label(),
                        format!("`{}` is not a positive number", printable(&e.value)),
                    )
                    .with_help("bytes per cycle"),
                );
                1.0
            }
        },
    };
    let dataflow = match get("dataflow") {
        Some(e) if ["ws", "os", "is"].contains(&e.value.to_ascii_lowercase().as_str()) => {
            e.value.to_ascii_lowercase()
        }
        other => {
            p.push(
                Problem::new(
                    other.map_or("Dataflow".into(), CfgEntry::label),
                    match other {
                        Some(e) => format!("`{}` is not a dataflow", printable(&e.value)),
                        None => "is missing".into(),
                    },
                )
                .with_help("allowed: ws, os, is"),
            );
            "ws".into()
        }
    };
    let ideal = match get("interfacebandwidth") {
        None => true,
        Some(e) => match e.value.to_ascii_uppercase().as_str() {
            "CALC" => true,
            "USER" => false,
            _ => {
                p.push(
                    Problem::new(
                        e.label(),
                        format!("`{}` is not a bandwidth mode", printable(&e.value)),
                    )
                    .with_help("allowed: CALC (ideal DRAM), USER (Bandwidth bytes per cycle)"),
                );
                true
            }
        },
    };
    let name = match get("run_name") {
        None => "scalesim".to_string(),
        Some(e) => {
            let v = e.value.as_str();
            if v.is_empty()
                || v == "."
                || v == ".."
                || v.chars().any(|c| c == '/' || c == '\\' || c.is_control())
            {
                p.push(
                    Problem::new(
                        e.label(),
                        format!("`{}` cannot name the written files", printable(v)),
                    )
                    .with_help("a name without `/`, `\\` or control characters, not `.` or `..`"),
                );
            }
            v.to_string()
        }
    };
    if !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }

    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = |out: &mut Vec<String>, line: String, path: &'static str, key: &str| {
        out.push(line);
        let e = get(key);
        fields.push(FieldOrigin {
            path,
            toml_line: out.len(),
            key: e.map_or_else(|| spelling(key), |e| e.key.clone()),
            cfg_line: e.map(|e| e.line),
        });
    };
    let text_lines =
        |out: &mut Vec<String>, text: &str| out.extend(text.lines().map(str::to_string));
    text_lines(
        &mut out,
        &format!(
            "# Imported from SCALE-Sim config `{}` by `plumsim import scalesim`.\n\
             # SCALE-Sim stores one-byte words: int8 weights and activations.",
            printable(origin)
        ),
    );
    field(
        &mut out,
        format!("name = {}", toml::Value::String(name)),
        "name",
        "run_name",
    );
    text_lines(&mut out, "clock_mhz = 1000.0\n\n[array]");
    field(
        &mut out,
        format!("rows = {rows}"),
        "array.rows",
        "arrayheight",
    );
    field(
        &mut out,
        format!("cols = {cols}"),
        "array.cols",
        "arraywidth",
    );
    field(
        &mut out,
        format!("dataflow = \"{dataflow}\""),
        "array.dataflow",
        "dataflow",
    );
    text_lines(
        &mut out,
        "tile_m = false     # SCALE-Sim streams all of M through every fold\n\n\
         [pe]\n\
         kind = \"dense\"\n\
         weight_bits = 8\n\
         activation_bits = 8\n\
         accumulator_bits = 32\n\
         clock_gating = true",
    );
    for (buffer, kb, path, key) in [
        ("input", ifmap_kb, "buffers.input", "ifmapsramszkb"),
        ("weight", filter_kb, "buffers.weight", "filtersramszkb"),
        ("output", ofmap_kb, "buffers.output", "ofmapsramszkb"),
    ] {
        text_lines(&mut out, &format!("\n[buffers.{buffer}]"));
        field(
            &mut out,
            format!("capacity_bytes = {}", kb * 1024),
            path,
            key,
        );
        text_lines(
            &mut out,
            "word_bits = 8\n\
             read_words_per_cycle = \"unlimited\"    # SCALE-Sim's SRAM serves any demand\n\
             write_words_per_cycle = \"unlimited\"\n\
             double_buffered = true",
        );
    }
    text_lines(&mut out, "\n[dram]\ntype = \"lpddr4\"");
    field(
        &mut out,
        format!("bandwidth_bytes_per_cycle = {bandwidth:?}"),
        "dram.bandwidth_bytes_per_cycle",
        "bandwidth",
    );
    out.push(format!(
        "# {} bandwidth mode in SCALE-Sim{}",
        if ideal { "CALC" } else { "USER" },
        if ideal {
            ": the array never waits for DRAM"
        } else {
            ": DRAM stalls are modelled"
        }
    ));
    field(
        &mut out,
        format!("ideal = {ideal}"),
        "dram.ideal",
        "interfacebandwidth",
    );
    let mut toml = out.join("\n");
    toml.push('\n');
    Ok(ImportedConfig {
        toml,
        warnings,
        origin: origin.to_string(),
        fields,
    })
}

/// `s` with control characters shown as `?`, safe inside a message or a TOML comment.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// One row of SCALE-Sim's `COMPUTE_REPORT.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputeRow {
    pub layer_id: usize,
    /// SCALE-Sim reports the 0-based stamp of the last cycle: plumsim's cycles minus one.
    pub total_cycles: u64,
    pub stall_cycles: u64,
    pub overall_util_pct: f64,
    pub mapping_efficiency_pct: f64,
    pub compute_util_pct: f64,
}

/// SCALE-Sim `COMPUTE_REPORT.csv` rows for the array layers of a run.
pub fn compute_report(arch: &Arch, run: &RunResult) -> Vec<ComputeRow> {
    let (r, c) = (arch.rows as u64, arch.cols as u64);
    run.layers
        .iter()
        .filter_map(|l| Some((l, l.timing?)))
        .enumerate()
        .map(|(i, (l, ft))| {
            let total = l.total_cycles().saturating_sub(1);
            ComputeRow {
                layer_id: i,
                total_cycles: total,
                stall_cycles: l.memory_stall_cycles,
                overall_util_pct: 100.0 * l.macs as f64 / (total as f64 * (r * c) as f64),
                mapping_efficiency_pct: 100.0 * ft.mapping_efficiency,
                compute_util_pct: 100.0 * systolic::scalesim_compute_util(arch.dataflow, r, c, &ft),
            }
        })
        .collect()
}

/// Render rows in SCALE-Sim's exact CSV layout (header spacing, trailing commas).
pub fn compute_report_csv(rows: &[ComputeRow]) -> String {
    let mut s = String::from(
        "LayerID, Total Cycles, Stall Cycles, Overall Util %, Mapping Efficiency %, Compute Util %,\n",
    );
    for r in rows {
        s.push_str(&format!(
            "{}, {}, {}, {:?}, {:?}, {:?},\n",
            r.layer_id,
            r.total_cycles,
            r.stall_cycles,
            r.overall_util_pct,
            r.mapping_efficiency_pct,
            r.compute_util_pct
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "[general]\nrun_name = t\n\n[architecture_presets]\nArrayHeight:    16\nArrayWidth:     16\nIfmapSramSzkB:   64\nFilterSramSzkB:  64\nOfmapSramSzkB:   64\nIfmapOffset:    0\nFilterOffset:   10000000\nOfmapOffset:    20000000\nBandwidth : 10\nDataflow : os\nMemoryBanks:   1\n\n[run_presets]\nInterfaceBandwidth: USER\n";

    fn problems(e: Error) -> Vec<Problem> {
        match e {
            Error::Invalid { origin, problems } => {
                assert_eq!(origin, "c.cfg");
                problems
            }
            other => panic!("not Invalid: {other}"),
        }
    }

    #[test]
    fn a_plain_config_imports_without_warnings() {
        let c = import_config(CFG, "c.cfg").unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        assert!(c
            .toml
            .contains("\nrows = 16\ncols = 16\ndataflow = \"os\"\n"));
        assert!(c.toml.contains("name = \"t\"\n"));
        assert!(c.toml.contains("capacity_bytes = 65536\n"));
        assert!(c.toml.contains("ideal = false\n"));
        assert_eq!(config_to_arch_toml(CFG, "c.cfg").unwrap(), c.toml);
    }

    #[test]
    fn fractional_and_huge_sizes_are_errors_at_their_key_and_line() {
        let cfg = CFG
            .replace("ArrayHeight:    16", "ArrayHeight: 16.7")
            .replace("ArrayWidth:     16", "ArrayWidth: 1e20")
            .replace("OfmapSramSzkB:   64", "OfmapSramSzkB: 9223372036854775807");
        let p = problems(import_config(&cfg, "c.cfg").unwrap_err());
        let shown: Vec<String> = p.iter().map(Problem::to_string).collect();
        assert_eq!(p.len(), 3, "{shown:?}");
        assert!(
            shown[0].starts_with("ArrayHeight (line 5): `16.7` is not a whole number"),
            "{shown:?}"
        );
        assert!(
            shown[1].starts_with("ArrayWidth (line 6): `1e20` is not a whole number"),
            "{shown:?}"
        );
        assert!(
            shown[2].starts_with("OfmapSramSzkB (line 9): 9223372036854775807 is out of range"),
            "{shown:?}"
        );
        let missing = CFG.replace("ArrayWidth:     16\n", "");
        let p = problems(import_config(&missing, "c.cfg").unwrap_err());
        assert_eq!(p[0].to_string(), "ArrayWidth: is missing");
    }

    #[test]
    fn bad_modes_names_and_repeated_keys_are_errors() {
        let cfg = CFG
            .replace("USER", "FAST")
            .replace("run_name = t", "run_name = ../../x")
            .replace("Bandwidth : 10", "Bandwidth : inf\nbandwidth = 4");
        let p = problems(import_config(&cfg, "c.cfg").unwrap_err());
        let shown: Vec<String> = p.iter().map(Problem::to_string).collect();
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("bandwidth (line 14): is given twice (first on line 13)")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.starts_with("Bandwidth (line 13): `inf` is not a positive number")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s
                    .starts_with("InterfaceBandwidth (line 19): `FAST` is not a bandwidth mode")),
            "{shown:?}"
        );
        assert!(
            shown.iter().any(
                |s| s.starts_with("run_name (line 2): `../../x` cannot name the written files")
            ),
            "{shown:?}"
        );
    }

    #[test]
    fn keys_it_does_not_model_are_warnings_by_name() {
        let cfg = CFG.replace("MemoryBanks:   1", "MemoryBanks:   4")
            + "UseRamulatorTrace: True\n\n[sparsity]\nSparsitySupport : true\nSparseRep : ellpack_block\n\n[layout]\nIfmapSRAMBankNum: 8\nnot a key\n";
        let c = import_config(&cfg, "c.cfg").unwrap();
        assert_eq!(
            c.warnings,
            vec![
                "c.cfg:15: [architecture_presets] `MemoryBanks` = `4` is ignored: plumsim models one bank per buffer",
                "c.cfg:19: [run_presets] `UseRamulatorTrace` = `True` is ignored: plumsim does not model it",
                "c.cfg:22: [sparsity] `SparsitySupport` = `true` is ignored: plumsim does not model it",
                "c.cfg:23: [sparsity] `SparseRep` = `ellpack_block` is ignored: plumsim does not model it",
                "c.cfg:26: [layout] `IfmapSRAMBankNum` = `8` is ignored: plumsim does not model it",
                "c.cfg:27: `not a key` is neither a [section] nor `key: value`; ignored",
            ]
        );
    }

    #[test]
    fn errors_of_the_generated_architecture_point_at_the_cfg_key() {
        let c = import_config(CFG, "c.cfg").unwrap();
        let e = c.locate(Error::invalid(
            "<imported architecture>",
            vec![
                Problem::new(
                    "buffers.output.capacity_bytes",
                    "1024 bytes cannot hold one tile",
                )
                .with_help("allowed: >= 2048 bytes"),
                Problem::new("pe.kind", "made up"),
            ],
        ));
        let s = e.to_string();
        assert!(s.starts_with("c.cfg: 2 problems:"), "{s}");
        assert!(s.contains("  - OfmapSramSzkB (line 9): 1024 bytes cannot hold one tile (as `buffers.output.capacity_bytes` in the imported architecture) (help: allowed: >= 2048 bytes)"), "{s}");
        assert!(
            s.contains("  - pe.kind (in the imported architecture): made up"),
            "{s}"
        );
        // A syntax error on the generated `rows = ...` line points at ArrayHeight's line.
        let rows_line = c
            .toml
            .lines()
            .position(|l| l.starts_with("rows = "))
            .unwrap()
            + 1;
        let e = c.locate(Error::Parse {
            origin: "<imported architecture>".into(),
            line: Some(rows_line),
            column: Some(8),
            message: "number too large to fit in target type".into(),
        });
        assert_eq!(
            e.to_string(),
            "c.cfg:5: ArrayHeight: number too large to fit in target type (as `array.rows` in the imported architecture)"
        );
    }

    #[test]
    fn topology_cells_are_bounded_without_overflow() {
        let conv = "Layer, IFMAP H, IFMAP W, Filter H, Filter W, Channels, Num Filter, Stride,\nc1, 9223372036854775807, 8, 3, 3, 3, 4, 1,\n";
        let e = parse_topology_rows(conv, "t.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv:2:5: column 2 (`IFMAP H`) must be a whole number from 1 to 4294967295, got `9223372036854775807`"
        );
        let gemm = "Layer, M, N, K,\ng1, 4, 99999999999999999999999, 4,\n";
        let e = parse_topology(gemm, "g.csv", "g").unwrap_err().to_string();
        assert!(e.starts_with("g.csv:2:8: column 3 (`N`)"), "{e}");
        let ok = "Layer, M, N, K,\ng1, 4294967295, 1, 1,\n";
        assert_eq!(parse_topology_rows(ok, "g.csv").unwrap().len(), 1);
    }
}
