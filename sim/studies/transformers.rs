//! Transformers: int8 against BitNet's absmean ternary, signed binary, SWIS and bit-serial
//! weights on Llama-2-7B and BitNet b1.58 2B4T decode steps and on BERT-base, per token; and
//! the elementwise share (ACE against ACEv2, the vector unit's energy and exposed cycles) of
//! the transformers against the CNNs.
//!
//! Not part of the default `plumsim reproduce` (its two decode steps quantize 6.7 and 2.4
//! billion synthetic weights per design, minutes on two cores): `plumsim reproduce
//! --transformers` runs it alone.

use crate::plot::labels::network_name;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{comparison, Files, Runner, Variant};
use crate::error::Result;
use crate::report::{round6, to_csv};

/// The transformer workloads (file, stem).
pub const WORKLOADS: [(&str, &str); 3] = [
    ("llama2_7b_decode_ctx2048.json", "llama2_7b_decode"),
    ("bitnet_2b4t_decode_ctx2048.json", "bitnet_2b4t_decode"),
    ("bert_base_s128.json", "bert_base_s128"),
];

/// The CNNs the elementwise share is set against.
pub const CNNS: [&str; 2] = ["resnet18.json", "mobilenet_v2.json"];

/// int8 (the baseline, first), absmean ternary, signed binary, SWIS and bit-serial int8.
pub fn designs() -> Vec<Variant> {
    [
        "dense_pe16.toml",
        "ternary_absmean_pe16.toml",
        "signed_binary_pe16.toml",
        "swis_pe16.toml",
        "bitserial_pe16.toml",
    ]
    .into_iter()
    .map(Variant::shipped)
    .collect()
}

/// The designs the elementwise share is measured on.
fn elementwise_designs() -> Vec<Variant> {
    designs().into_iter().take(2).collect()
}

/// Designs one run of the study simulates.
pub fn design_count() -> u64 {
    (WORKLOADS.len() * designs().len()
        + (WORKLOADS.len() + CNNS.len()) * elementwise_designs().len()) as u64
}

#[derive(Serialize)]
struct TokenRow {
    workload: String,
    design: String,
    tokens: u64,
    latency_per_token_us: f64,
    tokens_per_s: f64,
    energy_per_token_uj: f64,
    speedup_vs_int8: f64,
    energy_ratio_vs_int8: f64,
    dram_read_per_token_bytes: u64,
    dram_energy_pct: f64,
    memory_stall_cycles_pct: f64,
    pe_arith_energy_pct: f64,
    buffers_energy_pct: f64,
    vector_energy_pct: f64,
    clock_and_leakage_energy_pct: f64,
}

#[derive(Serialize)]
struct ElementwiseRow {
    workload: String,
    design: String,
    ace_gbit_ops: f64,
    ace_v2_gbit_ops: f64,
    elementwise_ace_v2_pct: f64,
    vector_energy_pct: f64,
    vector_cycles: u64,
    vector_exposed_cycles: u64,
    vector_exposed_cycles_pct: f64,
}

fn pct(part: f64, whole: f64) -> f64 {
    if whole > 0.0 {
        round6(100.0 * part / whole)
    } else {
        0.0
    }
}

/// Run the study: `transformers/<stem>.csv` (+ its energy chart) per workload,
/// `transformers/per_token.csv`, `transformers/elementwise.csv`; the markdown summary.
pub fn study(files: &mut Files, out: &Path, r: &Runner) -> Result<String> {
    let dir = out.join("transformers");
    let mut tokens = Vec::new();
    let mut md = String::from("## Transformers: per token, int8 against low-precision weights\n");
    for (wl, stem) in WORKLOADS {
        let (wp, net) = crate::shipped::workload(wl)?;
        let archs = designs()
            .iter()
            .map(Variant::arch)
            .collect::<Result<Vec<_>>>()?;
        let done = r.grouped(&archs, super::scheme_key, |a| r.run(a.clone(), &net, &wp))?;
        comparison(
            files,
            &done,
            &dir.join(stem),
            &format!(
                "{}: energy by component (vector = elementwise unit)",
                network_name(&net.name)
            ),
        )?;
        let base = done[0].summary();
        let _ = write!(
            md,
            "\n{} ({} token(s) per inference)\n\n| design | latency per token (us) | tokens/s | energy per token (uJ) | speedup | energy ratio | DRAM share of energy |\n|---|---|---|---|---|---|---|\n",
            net.name,
            base.tokens.unwrap_or(1)
        );
        for d in &done {
            let s = d.summary();
            let t = s.tokens.unwrap_or(1).max(1);
            let e = &s.energy;
            let row = TokenRow {
                workload: net.name.clone(),
                design: d.label.clone(),
                tokens: t,
                latency_per_token_us: round6(s.latency_us / t as f64),
                tokens_per_s: s.tokens_per_s.unwrap_or(0.0),
                energy_per_token_uj: round6(s.energy_pj / t as f64 / 1e6),
                speedup_vs_int8: round6(
                    base.cycles.total_cycles as f64 / s.cycles.total_cycles as f64,
                ),
                energy_ratio_vs_int8: round6(base.energy_pj / s.energy_pj),
                dram_read_per_token_bytes: s.dram_read_bytes / t,
                dram_energy_pct: pct(e.dram_pj, s.energy_pj),
                memory_stall_cycles_pct: pct(
                    s.cycles.memory_stall_cycles as f64,
                    s.cycles.total_cycles as f64,
                ),
                pe_arith_energy_pct: pct(e.pe_arith_pj, s.energy_pj),
                buffers_energy_pct: pct(
                    e.input_buffer_pj + e.weight_buffer_pj + e.output_buffer_pj,
                    s.energy_pj,
                ),
                vector_energy_pct: pct(e.vector_pj, s.energy_pj),
                clock_and_leakage_energy_pct: pct(e.clock_pj + e.leakage_pj, s.energy_pj),
            };
            let _ = writeln!(
                md,
                "| {} | {:.1} | {:.2} | {:.1} | {:.2}x | {:.2}x | {:.1} % |",
                row.design,
                row.latency_per_token_us,
                row.tokens_per_s,
                row.energy_per_token_uj,
                row.speedup_vs_int8,
                row.energy_ratio_vs_int8,
                row.dram_energy_pct
            );
            tokens.push(row);
        }
    }
    files.push((dir.join("per_token.csv"), to_csv(&tokens).into_bytes()));

    let mut share = Vec::new();
    let all: Vec<&str> = WORKLOADS.iter().map(|(w, _)| *w).chain(CNNS).collect();
    for wl in all {
        let (wp, net) = crate::shipped::workload(wl)?;
        let archs = elementwise_designs()
            .iter()
            .map(Variant::arch)
            .collect::<Result<Vec<_>>>()?;
        let done = r.grouped(&archs, super::scheme_key, |a| r.run(a.clone(), &net, &wp))?;
        for d in &done {
            let s = d.summary();
            share.push(ElementwiseRow {
                workload: net.name.clone(),
                design: d.label.clone(),
                ace_gbit_ops: round6(s.ace_bit_ops / 1e9),
                ace_v2_gbit_ops: round6(s.ace_v2_bit_ops / 1e9),
                elementwise_ace_v2_pct: pct(s.ace_v2_bit_ops - s.ace_bit_ops, s.ace_v2_bit_ops),
                vector_energy_pct: pct(s.energy.vector_pj, s.energy_pj),
                vector_cycles: s.cycles.vector_cycles,
                vector_exposed_cycles: s.cycles.vector_exposed_cycles,
                vector_exposed_cycles_pct: pct(
                    s.cycles.vector_exposed_cycles as f64,
                    s.cycles.total_cycles as f64,
                ),
            });
        }
    }
    let _ = write!(
        md,
        "\n## Elementwise share: transformers against CNNs\n\n| workload | design | ACE (Gbit-ops) | ACEv2 (Gbit-ops) | elementwise share of ACEv2 | vector energy | exposed vector cycles |\n|---|---|---|---|---|---|---|\n"
    );
    for s in &share {
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {:.1} | {:.1} % | {:.1} % | {:.1} % |",
            s.workload,
            s.design,
            s.ace_gbit_ops,
            s.ace_v2_gbit_ops,
            s.elementwise_ace_v2_pct,
            s.vector_energy_pct,
            s.vector_exposed_cycles_pct
        );
    }
    files.push((dir.join("elementwise.csv"), to_csv(&share).into_bytes()));
    files.push((dir.join("summary.md"), md.clone().into_bytes()));
    Ok(md)
}
