//! Designs side by side: one row per design with cycles, energy, EDP, weight statistics, ACE
//! and ACEv2, and ratios against a baseline design. Pure: takes finished runs.

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

crate::record! {
    /// One row of a comparison (`compare.csv`).
    #[derive(Debug, Clone)]
    pub struct CompareRow {
        /// The design's label.
        pub design: String = Label,
        pub pe_kind: String = Label,
        pub total_cycles: u64 = Cycles,
        pub latency_us: f64 = Microseconds,
        /// Energy per inference.
        pub energy_uj: f64 = Microjoules,
        /// Energy-delay product.
        pub edp_uj_us: f64 = MicrojouleMicroseconds,
        pub tops_per_w: f64 = TopsPerWatt,
        /// Area of the design.
        pub area_mm2: f64 = SquareMillimetres,
        /// Baseline area over this design's.
        pub area_ratio_vs_baseline: f64 = Number,
        /// Zero-skipping network (`ideal` is an upper bound; blank for PEs without one).
        pub skip_network: String = Label,
        /// Non-zero weights over all, weight layers of the network.
        pub weight_density: f64 = Number,
        pub effectual_bits_per_weight: f64 = Number,
        pub weight_storage_bytes: u64 = Bytes,
        pub quant_rel_error: f64 = Number,
        pub ace_gbit_ops: f64 = GigaBitOps,
        pub ace_v2_gbit_ops: f64 = GigaBitOps,
        /// Share of ACEv2 that is elementwise work (what ACE leaves out), in percent.
        pub elementwise_ace_v2_pct: f64 = Percent,
        /// Baseline cycles over this design's.
        pub speedup_vs_baseline: f64 = Number,
        /// Baseline energy over this design's.
        pub energy_ratio_vs_baseline: f64 = Number,
        pub pe_arith_uj: f64 = Microjoules,
        pub registers_uj: f64 = Microjoules,
        pub operand_mux_uj: f64 = Microjoules,
        pub input_buffer_uj: f64 = Microjoules,
        pub weight_buffer_uj: f64 = Microjoules,
        pub output_buffer_uj: f64 = Microjoules,
        pub dram_uj: f64 = Microjoules,
        pub vector_uj: f64 = Microjoules,
        pub clock_uj: f64 = Microjoules,
        pub leakage_uj: f64 = Microjoules,
    }
}

impl CompareRow {
    /// The energy-breakdown columns, in the breakdown's order (what the energy charts stack):
    /// each component of [`crate::energy::EnergyBreakdown`] in uJ.
    pub fn energy_columns() -> Vec<String> {
        crate::energy::EnergyBreakdown::default()
            .components()
            .iter()
            .map(|(name, _)| format!("{name}_uj"))
            .collect()
    }
}

/// The design with a `rows x cols` array, its buffer ports scaled with the array edge that
/// feeds them (inputs enter along the rows; weights load and partial sums leave along the
/// columns), so the resized array gets the bandwidth per PE the design had.
pub fn resized(arch: &Arch, rows: u32, cols: u32) -> Arch {
    let mut a = arch.clone();
    let scale = |r: Option<f64>, new: u32, old: u32| r.map(|r| r * new as f64 / old as f64);
    let (r0, c0) = (arch.rows, arch.cols);
    for (b, new, old) in [
        (&mut a.input_buffer, rows, r0),
        (&mut a.weight_buffer, cols, c0),
        (&mut a.output_buffer, cols, c0),
    ] {
        b.read_words_per_cycle = scale(b.read_words_per_cycle, new, old);
        b.write_words_per_cycle = scale(b.write_words_per_cycle, new, old);
    }
    a.rows = rows;
    a.cols = cols;
    a
}

/// The design resized ([`resized`]) to fit `budget_mm2`: the largest square n x n whose area
/// fits, then as many more columns as still fit (buffer capacities, PE and vector unit
/// unchanged; the buffers must still hold one tile). Its name gets the new shape. The flag
/// says the buffers, not the budget, stopped the growth (the design is then smaller than the
/// budget allows).
pub fn size_to_area(arch: &Arch, budget_mm2: f64) -> Result<(Arch, bool), String> {
    let max = crate::arch::MAX_ARRAY_DIM as u32;
    let area = |rows: u32, cols: u32| crate::area::area_of(&resized(arch, rows, cols)).total_mm2();
    let fits = |rows: u32, cols: u32| {
        arch.buffers_hold_tiles(rows, cols) && area(rows, cols) <= budget_mm2
    };
    if !fits(1, 1) {
        return Err(format!(
            "`{}` does not fit {budget_mm2} mm^2: a 1x1 array of it takes {:.4} mm^2 (buffers and vector unit included)",
            arch.name,
            area(1, 1)
        ));
    }
    let n = (1..=max).take_while(|&n| fits(n, n)).last().unwrap_or(1);
    let cols = (n..=max).take_while(|&c| fits(n, c)).last().unwrap_or(n);
    let buffer_bound =
        cols < max && !arch.buffers_hold_tiles(n, cols + 1) && area(n, cols + 1) <= budget_mm2;
    let mut a = resized(arch, n, cols);
    a.name = format!("{}@{n}x{cols}", arch.name);
    Ok((a, buffer_bound))
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
                total_cycles: s.cycles.total_cycles,
                latency_us: s.latency_us,
                energy_uj: uj(s.energy_pj),
                edp_uj_us: round6(s.energy_pj / 1e6 * s.latency_us),
                tops_per_w: s.tops_per_w,
                area_mm2: s.area_mm2,
                area_ratio_vs_baseline: round6(base.area_mm2 / s.area_mm2),
                skip_network: s.skip_network.to_string(),
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
                speedup_vs_baseline: round6(
                    base.cycles.total_cycles as f64 / s.cycles.total_cycles as f64,
                ),
                energy_ratio_vs_baseline: round6(base.energy_pj / s.energy_pj),
                pe_arith_uj: uj(s.energy.pe_arith_pj),
                registers_uj: uj(s.energy.registers_pj),
                operand_mux_uj: uj(s.energy.operand_mux_pj),
                input_buffer_uj: uj(s.energy.input_buffer_pj),
                weight_buffer_uj: uj(s.energy.weight_buffer_pj),
                output_buffer_uj: uj(s.energy.output_buffer_pj),
                dram_uj: uj(s.energy.dram_pj),
                vector_uj: uj(s.energy.vector_pj),
                clock_uj: uj(s.energy.clock_pj),
                leakage_uj: uj(s.energy.leakage_pj),
            }
        })
        .collect()
}

/// The comparison as a Markdown table (also readable on a terminal).
pub fn markdown(rows: &[CompareRow], baseline: &str, workload: &str) -> String {
    let mut s = format!("{workload}: speedup and energy ratio against {baseline}\n\n");
    s.push_str("| design | cycles | latency (us) | energy (uJ) | EDP (uJ x us) | TOPS/W | area (mm^2) | skip | density | eff. bits/weight | weights (KiB) | ACE (Gbit-ops) | ACEv2 (Gbit-ops) | speedup | energy ratio |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} | {:.0} | {:.2} | {:.3} | {} | {:.3} | {:.2} | {:.0} | {:.1} | {:.1} | {:.2}x | {:.2}x |\n",
            r.design,
            r.total_cycles,
            r.latency_us,
            r.energy_uj,
            r.edp_uj_us,
            r.tops_per_w,
            r.area_mm2,
            if r.skip_network.is_empty() { "-" } else { &r.skip_network },
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

/// One design of a comparison: its array resized to `area_budget_mm2` when given, then run
/// with every weight layer quantized and its statistics kept, as `plumsim compare` and the
/// Python package's `compare` do. `admit` sees the memory the run would hold, in bytes,
/// before anything is read. Returns the result and, when the budget could not be met because
/// the buffers cannot hold a larger tile, a note saying so.
pub fn evaluate(
    arch: &Arch,
    net: &crate::workload::Network,
    source: &dyn crate::pipeline::TensorSource,
    caches: crate::pipeline::Caches,
    area_budget_mm2: Option<f64>,
    admit: &dyn Fn(&Arch, u128) -> crate::error::Result<()>,
) -> crate::error::Result<(DesignResult, Option<String>)> {
    let (arch, note) = match area_budget_mm2 {
        Some(b) => {
            let (sized, buffer_bound) =
                size_to_area(arch, b).map_err(crate::error::Error::Unsupported)?;
            let note = buffer_bound.then(|| {
                format!(
                    "{} stops at {}x{} PEs ({:.3} mm^2): its buffers cannot hold a larger tile, so it is below the {b} mm^2 budget (give it larger buffers to compare at equal area)",
                    arch.name,
                    sized.rows,
                    sized.cols,
                    crate::area::area_of(&sized).total_mm2()
                )
            });
            (sized, note)
        }
        None => (arch.clone(), None),
    };
    let opts = crate::pipeline::Options {
        all_layers: true,
        stats: true,
    };
    admit(
        &arch,
        crate::pipeline::memory_estimate_bytes(&arch, net, source, opts, caches),
    )?;
    let r = crate::pipeline::run_design(&arch, net, source, caches, opts)?;
    Ok((
        DesignResult {
            label: arch.name.clone(),
            arch,
            run: r.run,
            stats: r.stats,
        },
        note,
    ))
}
