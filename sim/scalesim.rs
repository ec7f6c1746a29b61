//! SCALE-Sim compatibility: its topology CSVs as workloads, its config files as
//! architectures, and its `COMPUTE_REPORT.csv` columns as an output format.
//!
//! Conventions (see `../shared/reference/README.md`): no padding, output size
//! ceil((H - F + S) / S), a GEMM row (M, N, K) is an `[M, K] x [K, N]` product.

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

fn cells(line: &str) -> Vec<&str> {
    let mut v: Vec<&str> = line.split(',').map(str::trim).collect();
    while v.last().is_some_and(|c| c.is_empty()) {
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
        let c = cells(line);
        let bad = |message: String| Error::Parse {
            origin: origin.into(),
            line: Some(i + 1),
            column: None,
            message,
        };
        if c.len() != width {
            return Err(bad(format!(
                "row has {} columns, the header has {width}",
                c.len()
            )));
        }
        let mut nums = Vec::with_capacity(width - 1);
        for (j, cell) in c[1..].iter().enumerate() {
            match cell.parse::<i64>() {
                Ok(v) if v >= 1 => nums.push(v),
                _ => {
                    return Err(bad(format!(
                        "column {} (`{}`) must be a whole number >= 1, got `{cell}`",
                        j + 2,
                        cells(header).get(j + 1).unwrap_or(&"?")
                    )))
                }
            }
        }
        let name = c[0].to_string();
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

/// Translate a SCALE-Sim `config.cfg` into plumsim architecture TOML text.
pub fn config_to_arch_toml(text: &str, origin: &str) -> Result<String> {
    let mut kv = std::collections::BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('[') || line.starts_with('#') {
            continue;
        }
        let sep = line.find([':', '=']);
        if let Some(i) = sep {
            kv.insert(
                line[..i].trim().to_ascii_lowercase(),
                line[i + 1..].trim().to_string(),
            );
        }
    }
    let mut p = Vec::new();
    let mut num = |key: &str, default: Option<f64>| -> f64 {
        match kv.get(key).map(|v| v.parse::<f64>()) {
            Some(Ok(v)) if v > 0.0 => v,
            Some(_) => {
                p.push(Problem::new(
                    key,
                    format!("`{}` is not a positive number", kv[key]),
                ));
                1.0
            }
            None => default.unwrap_or_else(|| {
                p.push(Problem::new(key, "is missing"));
                1.0
            }),
        }
    };
    let rows = num("arrayheight", None) as u64;
    let cols = num("arraywidth", None) as u64;
    let ifmap_kb = num("ifmapsramszkb", None);
    let filter_kb = num("filtersramszkb", None);
    let ofmap_kb = num("ofmapsramszkb", None);
    let bandwidth = num("bandwidth", Some(10.0));
    let dataflow = match kv.get("dataflow").map(|s| s.to_ascii_lowercase()) {
        Some(d) if d == "ws" || d == "os" || d == "is" => d,
        other => {
            p.push(
                Problem::new(
                    "Dataflow",
                    format!("`{}` is not a dataflow", other.unwrap_or_default()),
                )
                .with_help("allowed: ws, os, is"),
            );
            "ws".into()
        }
    };
    let ideal = !matches!(kv.get("interfacebandwidth").map(|s| s.to_ascii_uppercase()), Some(ref m) if m == "USER");
    if !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }
    let name = kv
        .get("run_name")
        .cloned()
        .unwrap_or_else(|| "scalesim".into());
    let kib = |kb: f64| (kb * 1024.0).round() as u64;
    Ok(format!(
        r#"# Imported from SCALE-Sim config `{origin}` by `plumsim import scalesim`.
# SCALE-Sim stores one-byte words: int8 weights and activations.
name = "{name}"
clock_mhz = 1000.0

[array]
rows = {rows}
cols = {cols}
dataflow = "{dataflow}"
tile_m = false     # SCALE-Sim streams all of M through every fold

[pe]
kind = "dense"
weight_bits = 8
activation_bits = 8
accumulator_bits = 32
clock_gating = true

[buffers.input]
capacity_bytes = {ib}
word_bits = 8
read_words_per_cycle = "unlimited"    # SCALE-Sim's SRAM serves any demand
write_words_per_cycle = "unlimited"
double_buffered = true

[buffers.weight]
capacity_bytes = {wb}
word_bits = 8
read_words_per_cycle = "unlimited"    # SCALE-Sim's SRAM serves any demand
write_words_per_cycle = "unlimited"
double_buffered = true

[buffers.output]
capacity_bytes = {ob}
word_bits = 8
read_words_per_cycle = "unlimited"    # SCALE-Sim's SRAM serves any demand
write_words_per_cycle = "unlimited"
double_buffered = true

[dram]
type = "lpddr4"
bandwidth_bytes_per_cycle = {bandwidth:?}
# {mode} bandwidth mode in SCALE-Sim{ideal_note}
ideal = {ideal}
"#,
        ib = kib(ifmap_kb),
        wb = kib(filter_kb),
        ob = kib(ofmap_kb),
        mode = if ideal { "CALC" } else { "USER" },
        ideal_note = if ideal {
            ": the array never waits for DRAM"
        } else {
            ": DRAM stalls are modelled"
        },
    ))
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
