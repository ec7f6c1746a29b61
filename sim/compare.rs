//! Designs side by side: one row per design with cycles, energy, EDP, weight statistics, ACE
//! and ACEv2, and ratios against a baseline design. Pure: takes finished runs.

use serde::Serialize;

use crate::arch::Arch;
use crate::energy::{self, EnergyTable};
use crate::engine::RunResult;
use crate::quant::QuantStats;
use crate::report::{round6, Summary};

/// One design's finished run, with the statistics of its quantized weights.
pub struct DesignResult {
    /// Label in the table (the architecture name unless a variant is named otherwise).
    pub label: String,
    pub arch: Arch,
    pub run: RunResult,
    /// Per-layer quantization statistics (layers without weights: None).
    pub stats: Vec<Option<QuantStats>>,
}

impl DesignResult {
    pub fn summary(&self) -> Summary {
        let e = energy::run_energy(&self.arch, &EnergyTable::for_arch(&self.arch), &self.run).total;
        Summary::with_energy(&self.arch, &self.run, &e)
    }

    pub fn weight_stats(&self) -> QuantStats {
        let s: Vec<QuantStats> = self.stats.iter().flatten().cloned().collect();
        QuantStats::total(&s)
    }
}

/// One row of a comparison (`compare.csv`).
#[derive(Debug, Clone, Serialize)]
pub struct CompareRow {
    pub design: String,
    pub pe_kind: String,
    pub total_cycles: u64,
    pub latency_us: f64,
    pub energy_uj: f64,
    pub edp_uj_us: f64,
    pub tops_per_w: f64,
    pub weight_density: f64,
    pub effectual_bits_per_weight: f64,
    pub weight_storage_bytes: u64,
    pub quant_rel_error: f64,
    pub ace_gbit_ops: f64,
    pub ace_v2_gbit_ops: f64,
    /// Share of ACEv2 that is elementwise work (what ACE leaves out), in percent.
    pub elementwise_ace_v2_pct: f64,
    pub speedup_vs_baseline: f64,
    pub energy_ratio_vs_baseline: f64,
    pub pe_arith_uj: f64,
    pub registers_uj: f64,
    pub input_buffer_uj: f64,
    pub weight_buffer_uj: f64,
    pub output_buffer_uj: f64,
    pub dram_uj: f64,
    pub vector_uj: f64,
    pub leakage_uj: f64,
}

impl CompareRow {
    /// The energy-breakdown columns, in report order (what the energy charts stack).
    pub const ENERGY_COLUMNS: [&'static str; 8] = [
        "pe_arith_uj",
        "registers_uj",
        "input_buffer_uj",
        "weight_buffer_uj",
        "output_buffer_uj",
        "dram_uj",
        "vector_uj",
        "leakage_uj",
    ];
}

/// Rows for `designs`, with speedup and energy ratio against `designs[baseline]`.
pub fn compare_rows(designs: &[DesignResult], baseline: usize) -> Vec<CompareRow> {
    let summaries: Vec<Summary> = designs.iter().map(DesignResult::summary).collect();
    let base = &summaries[baseline];
    let uj = |pj: f64| round6(pj / 1e6);
    designs
        .iter()
        .zip(&summaries)
        .map(|(d, s)| {
            let q = d.weight_stats();
            CompareRow {
                design: d.label.clone(),
                pe_kind: d.arch.pe.kind.as_str().to_string(),
                total_cycles: s.total_cycles,
                latency_us: s.latency_us,
                energy_uj: uj(s.energy_pj),
                edp_uj_us: round6(s.energy_pj / 1e6 * s.latency_us),
                tops_per_w: s.tops_per_w,
                weight_density: round6(q.density()),
                effectual_bits_per_weight: round6(q.effectual_bits_per_weight()),
                weight_storage_bytes: q.storage_bits.div_ceil(8),
                quant_rel_error: round6(q.rel_error()),
                ace_gbit_ops: round6(s.ace_bit_ops / 1e9),
                ace_v2_gbit_ops: round6(s.ace_v2_bit_ops / 1e9),
                elementwise_ace_v2_pct: if s.ace_v2_bit_ops > 0.0 {
                    round6(100.0 * (s.ace_v2_bit_ops - s.ace_bit_ops) / s.ace_v2_bit_ops)
                } else {
                    0.0
                },
                speedup_vs_baseline: round6(base.total_cycles as f64 / s.total_cycles as f64),
                energy_ratio_vs_baseline: round6(base.energy_pj / s.energy_pj),
                pe_arith_uj: uj(s.pe_arith_pj),
                registers_uj: uj(s.registers_pj),
                input_buffer_uj: uj(s.input_buffer_pj),
                weight_buffer_uj: uj(s.weight_buffer_pj),
                output_buffer_uj: uj(s.output_buffer_pj),
                dram_uj: uj(s.dram_pj),
                vector_uj: uj(s.vector_pj),
                leakage_uj: uj(s.leakage_pj),
            }
        })
        .collect()
}

/// The comparison as a Markdown table (also readable on a terminal).
pub fn markdown(rows: &[CompareRow], baseline: &str, workload: &str) -> String {
    let mut s = format!("{workload}: speedup and energy ratio against {baseline}\n\n");
    s.push_str("| design | cycles | latency (us) | energy (uJ) | EDP (uJ x us) | TOPS/W | density | eff. bits/weight | weights (KiB) | ACE (Gbit-ops) | ACEv2 (Gbit-ops) | speedup | energy ratio |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.3} | {:.2} | {:.0} | {:.1} | {:.1} | {:.2}x | {:.2}x |\n",
            r.design,
            r.total_cycles,
            r.latency_us,
            r.energy_uj,
            r.edp_uj_us,
            r.tops_per_w,
            r.weight_density,
            r.effectual_bits_per_weight,
            r.weight_storage_bytes as f64 / 1024.0,
            r.ace_gbit_ops,
            r.ace_v2_gbit_ops,
            r.speedup_vs_baseline,
            r.energy_ratio_vs_baseline
        ));
    }
    s
}
