//! Results as plain data: flat CSV rows, a JSON summary, and a terminal table.
//!
//! Every numeric column carries its unit in its name. Rendering is pure (strings out); the
//! CLI writes them.

use serde::Serialize;

pub use crate::columns::round6;
use crate::engine::Actions;

use crate::arch::Arch;
use crate::area::AreaBreakdown;
use crate::energy::{self, EnergyBreakdown, EnergyTable};
use crate::engine::{LayerResult, RunResult};
use crate::quant::QuantStats;

crate::record! {
    /// Where a layer's (or a network's) cycles go.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Cycles {
        /// Array cycles: weight loads, streaming, fill and drain.
        pub compute_cycles: u64 = Cycles,
        /// Of the compute cycles, those lost to lock-step.
        pub imbalance_cycles: u64 = Cycles,
        /// Cycles the array waits for a buffer port.
        pub sram_stall_cycles: u64 = Cycles,
        /// Cycles the array waits for DRAM.
        pub memory_stall_cycles: u64 = Cycles,
        /// Cycles of the elementwise unit.
        pub vector_cycles: u64 = Cycles,
        /// Vector cycles that do not hide behind the array.
        pub vector_exposed_cycles: u64 = Cycles,
        /// compute + buffer-port stall + memory stall + exposed vector cycles.
        pub total_cycles: u64 = Cycles,
    }
}

impl Cycles {
    /// The cycles of one layer.
    pub fn of_layer(l: &LayerResult) -> Cycles {
        Cycles {
            compute_cycles: l.compute_cycles,
            imbalance_cycles: l.imbalance_cycles,
            sram_stall_cycles: l.sram_stall_cycles,
            memory_stall_cycles: l.memory_stall_cycles,
            vector_cycles: l.vector.cycles,
            vector_exposed_cycles: l.vector.exposed_cycles,
            total_cycles: l.total_cycles(),
        }
    }

    /// The cycles of a run, summed over its layers.
    pub fn of_run(run: &RunResult) -> Cycles {
        Cycles {
            compute_cycles: run.compute_cycles(),
            imbalance_cycles: run.imbalance_cycles(),
            sram_stall_cycles: run.sram_stall_cycles(),
            memory_stall_cycles: run.memory_stall_cycles(),
            vector_cycles: run.vector_cycles(),
            vector_exposed_cycles: run.vector_exposed_cycles(),
            total_cycles: run.total_cycles(),
        }
    }
}

crate::record! {
    /// One row of `layers.csv`.
    #[derive(Debug, Clone)]
    pub struct LayerRow {
        /// Layer name.
        pub layer: String = Label,
        /// Operator.
        pub op: String = Label,
        /// The unit that ran it: array (weights stationary), array_act (two activations),
        /// vector, dram (embedding lookup), view (no work).
        pub unit: String = Label,
        /// GEMM M (batch x output pixels).
        pub gemm_m: u64 = Count,
        /// GEMM N per group (filters).
        pub gemm_n: u64 = Count,
        /// GEMM K (reduction length).
        pub gemm_k: u64 = Count,
        /// Convolution groups.
        pub groups: u64 = Count,
        /// Folds (M-tiles included).
        pub folds: u64 = Count,
        /// Multiply-accumulates of the layer.
        pub macs: u64 = Count,
        /// Where the cycles go.
        flatten pub cycles: Cycles,
        /// Effectual lane-cycles over all lane-cycles.
        pub utilization_pct: f64 = Percent,
        /// Share of the PEs a fold maps work to.
        pub mapping_efficiency_pct: f64 = Percent,
        /// Energy of the layer (the components below summed).
        pub energy_pj: f64 = Picojoules,
        /// The energy by component.
        flatten pub energy: EnergyBreakdown,
        /// ACE: MACs x weight bits x activation bits.
        pub ace_bit_ops: f64 = BitOps,
        /// ACEv2: ACE plus elementwise operations by operand width.
        pub ace_v2_bit_ops: f64 = BitOps,
        /// Weight scheme (empty for layers without weights).
        pub scheme: String = Label,
        /// Non-zero weights over all (blank when not quantized).
        pub weight_density: Option<f64> = Number,
        /// Non-zero weight bits per weight.
        pub effectual_bits_per_weight: Option<f64> = Number,
        /// Distinct weight values per filter, mean.
        pub distinct_values_per_filter: Option<f64> = Number,
        /// Relative L2 error of the quantized weights.
        pub quant_rel_error: Option<f64> = Number,
        /// Stored bits: codes, scales, metadata.
        pub weight_storage_bits: Option<u64> = Bits,
        /// Input buffer reads (elements).
        pub input_buffer_reads: u64 = Count,
        /// Weight buffer reads (elements).
        pub weight_buffer_reads: u64 = Count,
        /// Output buffer reads (partial sums).
        pub output_buffer_reads: u64 = Count,
        /// Output buffer writes (partial sums).
        pub output_buffer_writes: u64 = Count,
        /// Input buffer reads in words of its `word_bits`.
        pub input_buffer_read_words: u64 = Count,
        /// Weight buffer reads in words.
        pub weight_buffer_read_words: u64 = Count,
        /// Output buffer partial-sum reads in words.
        pub output_buffer_read_words: u64 = Count,
        /// Output buffer partial-sum writes in words.
        pub output_buffer_write_words: u64 = Count,
        /// DRAM bytes read for inputs.
        pub dram_input_read_bytes: u64 = Bytes,
        /// DRAM bytes read for weights.
        pub dram_weight_read_bytes: u64 = Bytes,
        /// DRAM bytes written for outputs.
        pub dram_output_write_bytes: u64 = Bytes,
        /// DRAM bytes of spilled partial sums read back.
        pub dram_psum_read_bytes: u64 = Bytes,
        /// DRAM bytes of partial sums spilled.
        pub dram_psum_write_bytes: u64 = Bytes,
        /// DRAM bytes read.
        pub dram_read_bytes: u64 = Bytes,
        /// DRAM bytes written.
        pub dram_write_bytes: u64 = Bytes,
        /// Elements the layer produces.
        pub output_elements: u64 = Count,
        /// The action counts the energy model prices.
        flatten pub actions: Actions,
        /// Elementwise multiplies.
        pub vector_mults: u64 = Count,
        /// Elementwise adds (and compares).
        pub vector_adds: u64 = Count,
        /// Of those, the exponentials (each counted once).
        pub vector_exps: u64 = Count,
        /// Of those, the divisions: reciprocals and reciprocal square roots.
        pub vector_divides: u64 = Count,
    }
}

impl LayerRow {
    pub fn new(
        arch: &Arch,
        l: &LayerResult,
        e: &EnergyBreakdown,
        q: Option<&QuantStats>,
        scheme: &str,
    ) -> Self {
        let g = l.gemm;
        let t = &l.traffic;
        let a = &l.actions;
        LayerRow {
            layer: l.name.clone(),
            op: l.op.to_string(),
            unit: l.unit.to_string(),
            gemm_m: g.map_or(0, |g| g.m),
            gemm_n: g.map_or(0, |g| g.n),
            gemm_k: g.map_or(0, |g| g.k),
            groups: g.map_or(0, |g| g.groups),
            folds: l.timing.map_or(0, |t| t.folds),
            macs: l.macs,
            cycles: Cycles::of_layer(l),
            utilization_pct: round6(100.0 * l.utilization(arch)),
            mapping_efficiency_pct: round6(l.timing.map_or(0.0, |t| 100.0 * t.mapping_efficiency)),
            energy_pj: round6(e.total_pj()),
            energy: e.rounded(),
            ace_bit_ops: energy::ace(l),
            ace_v2_bit_ops: energy::ace_v2(l),
            scheme: if g.is_some() {
                scheme.to_string()
            } else {
                String::new()
            },
            weight_density: q.map(|q| round6(q.density())),
            effectual_bits_per_weight: q.map(|q| round6(q.effectual_bits_per_weight())),
            distinct_values_per_filter: q.map(|q| round6(q.distinct_per_filter_mean())),
            quant_rel_error: q.map(|q| round6(q.rel_error())),
            weight_storage_bits: q.map(|q| q.storage_bits),
            input_buffer_reads: t.input_buffer_reads,
            weight_buffer_reads: t.weight_buffer_reads,
            output_buffer_reads: t.output_buffer_reads,
            output_buffer_writes: t.output_buffer_writes,
            input_buffer_read_words: t.words.input_read,
            weight_buffer_read_words: t.words.weight_read,
            output_buffer_read_words: t.words.output_read,
            output_buffer_write_words: t.words.output_write,
            dram_input_read_bytes: t.dram_input_read_bytes,
            dram_weight_read_bytes: t.dram_weight_read_bytes,
            dram_output_write_bytes: t.dram_output_write_bytes,
            dram_psum_read_bytes: t.dram_psum_read_bytes,
            dram_psum_write_bytes: t.dram_psum_write_bytes,
            dram_read_bytes: t.dram_read_bytes(),
            dram_write_bytes: t.dram_write_bytes(),
            output_elements: l.output_elements,
            actions: *a,
            vector_mults: l.vector.mults,
            vector_adds: l.vector.adds,
            vector_exps: l.vector.exps,
            vector_divides: l.vector.divides,
        }
    }
}

crate::record! {
    /// `summary.json`: the run's totals and the setting that produced them.
    #[derive(Debug, Clone)]
    pub struct Summary {
        /// plumsim version that produced the run.
        pub plumsim_version: &'static str = Label,
        /// Architecture name.
        pub arch: String = Label,
        /// Workload name.
        pub workload: String = Label,
        /// PE rows.
        pub array_rows: u32 = Count,
        /// PE columns.
        pub array_cols: u32 = Count,
        /// ws, os or is.
        pub dataflow: &'static str = Label,
        /// PE kind.
        pub pe_kind: &'static str = Label,
        /// Lock-step scope.
        pub sync_scope: &'static str = Label,
        /// Offline filter scheduling.
        pub schedule: bool = Flag,
        /// Clock.
        pub clock_mhz: f64 = Megahertz,
        /// Zero-skipping network (`ideal` is an upper bound; blank for PEs without one).
        pub skip_network: &'static str = Label,
        /// Idle lanes' clocks gated.
        pub clock_gating: bool = Flag,
        /// Area of the design (the components below summed).
        pub area_mm2: f64 = SquareMillimetres,
        /// The area by component.
        flatten pub area: AreaBreakdown,
        /// Layers of the network.
        pub layers: usize = Count,
        /// Multiply-accumulates.
        pub macs: u64 = Count,
        /// Where the cycles go.
        flatten pub cycles: Cycles,
        /// Total cycles at the clock.
        pub latency_us: f64 = Microseconds,
        /// Effectual lane-cycles over all.
        pub utilization_pct: f64 = Percent,
        /// DRAM bytes read.
        pub dram_read_bytes: u64 = Bytes,
        /// DRAM bytes written.
        pub dram_write_bytes: u64 = Bytes,
        /// Energy per inference (the whole batch); its components follow.
        pub energy_pj: f64 = Picojoules,
        /// The energy by component.
        flatten pub energy: EnergyBreakdown,
        /// Energy-delay product: energy x latency.
        pub edp_pj_us: f64 = PicojouleMicroseconds,
        /// Effective throughput per watt: 2 x MACs per joule, in tera-operations (= 2 MACs / pJ).
        pub tops_per_w: f64 = TopsPerWatt,
        /// ACE: MACs x weight bits x activation bits.
        pub ace_bit_ops: f64 = BitOps,
        /// ACEv2: ACE plus elementwise operations by operand width.
        pub ace_v2_bit_ops: f64 = BitOps,
        /// Sequence models: prefill or decode (blank otherwise).
        pub phase: &'static str = Label,
        /// Tokens one inference makes: prefill's prompt tokens, decode's one per sequence
        /// (the batch's).
        pub tokens: Option<u64> = Count,
        /// Tokens per second at the clock.
        pub tokens_per_s: Option<f64> = PerSecond,
        /// Energy per token.
        pub energy_per_token_pj: Option<f64> = Picojoules,
    }
}

impl Summary {
    /// Totals of a run with the architecture's energy table.
    pub fn new(arch: &Arch, run: &RunResult) -> Self {
        let table = EnergyTable::for_arch(arch);
        let e = energy::run_energy(arch, &table, run).total;
        Self::with_energy(arch, run, &e)
    }

    /// Totals of a run with a given network energy breakdown.
    pub fn with_energy(arch: &Arch, run: &RunResult, e: &EnergyBreakdown) -> Self {
        let energy_pj = e.total_pj();
        let latency_us = run.latency_us(arch);
        let area = crate::area::area_of(arch);
        Summary {
            plumsim_version: env!("CARGO_PKG_VERSION"),
            arch: arch.name.clone(),
            workload: run.workload_name.clone(),
            array_rows: arch.rows,
            array_cols: arch.cols,
            dataflow: arch.dataflow.as_str(),
            pe_kind: arch.pe.kind.as_str(),
            sync_scope: arch.sync_scope.as_str(),
            schedule: arch.schedule,
            clock_mhz: arch.clock_mhz,
            skip_network: if arch.pe.has_skip_network() {
                arch.pe.skip.name()
            } else {
                ""
            },
            clock_gating: arch.pe.clock_gating,
            area_mm2: round6(area.total_mm2()),
            area: area.rounded(),
            layers: run.layers.len(),
            macs: run.macs(),
            cycles: Cycles::of_run(run),
            latency_us: round6(latency_us),
            utilization_pct: round6(100.0 * run.utilization(arch)),
            dram_read_bytes: run.layers.iter().map(|l| l.traffic.dram_read_bytes()).sum(),
            dram_write_bytes: run
                .layers
                .iter()
                .map(|l| l.traffic.dram_write_bytes())
                .sum(),
            energy_pj: round6(energy_pj),
            energy: e.rounded(),
            edp_pj_us: round6(energy_pj * latency_us),
            tops_per_w: if energy_pj > 0.0 {
                round6(2.0 * run.macs() as f64 / energy_pj)
            } else {
                0.0
            },
            ace_bit_ops: run.layers.iter().map(energy::ace).sum(),
            ace_v2_bit_ops: run.layers.iter().map(energy::ace_v2).sum(),
            phase: run.sequence.map_or("", |(p, _)| p.as_str()),
            tokens: run.sequence.map(|(_, t)| t),
            tokens_per_s: run
                .sequence
                .filter(|_| latency_us > 0.0)
                .map(|(_, t)| round6(t as f64 / (latency_us * 1e-6))),
            energy_per_token_pj: run
                .sequence
                .map(|(_, t)| round6(energy_pj / t.max(1) as f64)),
        }
    }
}

/// One row per layer; `stats[i]` (may be empty) and `schemes[i]` describe layer i's weights.
pub fn layer_rows(
    arch: &Arch,
    run: &RunResult,
    stats: &[Option<QuantStats>],
    schemes: &[&str],
) -> Vec<LayerRow> {
    let energy = energy::run_energy(arch, &EnergyTable::for_arch(arch), run);
    run.layers
        .iter()
        .zip(&energy.layers)
        .enumerate()
        .map(|(i, (l, e))| {
            LayerRow::new(
                arch,
                l,
                e,
                stats.get(i).and_then(Option::as_ref),
                schemes.get(i).copied().unwrap_or(""),
            )
        })
        .collect()
}

/// CSV text of rows (header from the struct's field names).
pub fn to_csv<T: Serialize>(rows: &[T]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).expect("plain structs serialize to CSV");
    }
    String::from_utf8(w.into_inner().expect("in-memory writer")).expect("CSV is UTF-8")
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

fn human(n: u64) -> String {
    crate::units::grouped(n)
}

/// How the terminal table is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStyle {
    /// Every column (GEMM shape, folds, each stall, weight statistics, buffer and DRAM
    /// traffic) instead of the default's about 120 characters.
    pub wide: bool,
    /// Bold header and totals (ANSI); the CLI sets it for a terminal without `NO_COLOR`.
    pub color: bool,
}

/// Longest layer name the default table prints in full; longer ones keep their start and end.
const NAME_COLUMNS: usize = 24;

/// `name` in at most `width` characters. A dotted (or slashed) path has its leading parts
/// cut to their first letter, from the first on, numbers kept whole
/// (`encoder.layer.0.attention.self.query` -> `e.l.0.a.self.query`), so the block index and
/// the last part stay; what is still too long keeps its start and end around `~`.
fn fit(name: &str, width: usize) -> String {
    let len = |s: &str| s.chars().count();
    if len(name) <= width {
        return name.to_string();
    }
    let mut parts: Vec<String> = name.split_inclusive(['.', '/']).map(String::from).collect();
    for i in 0..parts.len().saturating_sub(1) {
        if parts.concat().chars().count() <= width {
            break;
        }
        let p = &parts[i];
        let (body, sep) = p.split_at(p.len() - 1);
        if body.chars().count() > 1 && !body.chars().all(|c| c.is_ascii_digit()) {
            let first: String = body.chars().take(1).collect();
            parts[i] = format!("{first}{sep}");
        }
    }
    let short = parts.concat();
    let chars: Vec<char> = short.chars().collect();
    if chars.len() <= width {
        return short;
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut s: String = chars[..head].iter().collect();
    s.push('~');
    s.extend(&chars[chars.len() - tail..]);
    s
}

/// The cycles a layer's row shows: the layer's total, or for a layer on the vector unit
/// whose work hides behind the array, the vector unit's cycles (marked `*`).
fn shown_cycles(r: &LayerRow) -> String {
    if r.cycles.total_cycles == 0 && r.cycles.vector_cycles > 0 {
        format!("{}*", human(r.cycles.vector_cycles))
    } else {
        human(r.cycles.total_cycles)
    }
}

/// The per-layer terminal table and the totals lines. The default fits about 120 columns:
/// layer, op, cycles (the layer's total) and their split (array compute, stalls for buffer
/// ports and DRAM, the vector unit's), utilization, energy and its share of the run's;
/// [`TableStyle::wide`] gives every column.
pub fn table(arch: &Arch, run: &RunResult, rows: &[LayerRow], style: TableStyle) -> String {
    let (bold, plain) = if style.color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    let sum = Summary::new(arch, run);
    let longest = rows
        .iter()
        .map(|r| r.layer.chars().count())
        .max()
        .unwrap_or(5);
    let name_w = if style.wide {
        longest.max(5)
    } else {
        longest.clamp(5, NAME_COLUMNS)
    };
    let share = |e: f64| {
        if sum.energy_pj > 0.0 {
            format!("{:.1}", 100.0 * e / sum.energy_pj)
        } else {
            "-".to_string()
        }
    };
    let mut s = String::new();
    if style.wide {
        s.push_str(&format!(
            "{bold}{:<name_w$} {:<10} {:<9} {:>22} {:>7} {:>11} {:>13} {:>11} {:>11} {:>11} {:>11} {:>11} {:>7} {:>10} {:>6} {:>14} {:>7} {:>6} {:>13} {:>13}{plain}\n",
            "layer",
            "op",
            "unit",
            "gemm MxNxK (groups)",
            "folds",
            "cycles",
            "compute",
            "imbalance",
            "port_stall",
            "dram_stall",
            "vector",
            "vec_exposed",
            "util%",
            "energy",
            "share%",
            "scheme",
            "density",
            "eff_b",
            "sram_rd_elem",
            "dram_bytes"
        ));
        for r in rows {
            let gemm = if r.folds > 0 {
                if r.groups > 1 {
                    format!("{}x{}x{} ({})", r.gemm_m, r.gemm_n, r.gemm_k, r.groups)
                } else {
                    format!("{}x{}x{}", r.gemm_m, r.gemm_n, r.gemm_k)
                }
            } else {
                format!("{} elements", human(r.output_elements))
            };
            s.push_str(&format!(
                "{:<name_w$} {:<10} {:<9} {:>22} {:>7} {:>11} {:>13} {:>11} {:>11} {:>11} {:>11} {:>11} {:>7.2} {:>10} {:>6} {:>14} {:>7} {:>6} {:>13} {:>13}\n",
                r.layer,
                r.op,
                r.unit,
                gemm,
                r.folds,
                human(r.cycles.total_cycles),
                human(r.cycles.compute_cycles),
                human(r.cycles.imbalance_cycles),
                human(r.cycles.sram_stall_cycles),
                human(r.cycles.memory_stall_cycles),
                human(r.cycles.vector_cycles),
                human(r.cycles.vector_exposed_cycles),
                r.utilization_pct,
                crate::units::energy_pj(r.energy_pj),
                share(r.energy_pj),
                r.scheme,
                opt(r.weight_density, 3),
                opt(r.effectual_bits_per_weight, 2),
                human(r.input_buffer_reads + r.weight_buffer_reads + r.output_buffer_reads),
                human(r.dram_read_bytes + r.dram_write_bytes),
            ));
        }
    } else {
        s.push_str(&format!(
            "{bold}{:<name_w$} {:<10} {:>11} {:>11} {:>10} {:>10} {:>11} {:>7} {:>10} {:>6}{plain}\n",
            "layer", "op", "cycles", "compute", "port_stall", "dram_stall", "vector", "util%", "energy", "share%"
        ));
        for r in rows {
            s.push_str(&format!(
                "{:<name_w$} {:<10} {:>11} {:>11} {:>10} {:>10} {:>11} {:>7.2} {:>10} {:>6}\n",
                fit(&r.layer, name_w),
                fit(&r.op, 10),
                shown_cycles(r),
                human(r.cycles.compute_cycles),
                human(r.cycles.sram_stall_cycles),
                human(r.cycles.memory_stall_cycles),
                human(r.cycles.vector_cycles),
                r.utilization_pct,
                crate::units::energy_pj(r.energy_pj),
                share(r.energy_pj),
            ));
        }
        if rows
            .iter()
            .any(|r| r.cycles.total_cycles == 0 && r.cycles.vector_cycles > 0)
        {
            s.push_str("* the vector unit's cycles, hidden behind the array's work (they add nothing to the total)\n");
        }
    }
    s.push_str(&format!(
        "\n{bold}total: {} cycles = {} at {} MHz; energy {}{plain} ({} per MAC); utilization {:.2} %; area {:.3} mm^2\n",
        human(sum.cycles.total_cycles),
        crate::units::time_us(sum.latency_us),
        sum.clock_mhz,
        crate::units::energy_pj(sum.energy_pj),
        if sum.macs > 0 {
            crate::units::energy_pj(sum.energy_pj / sum.macs as f64)
        } else {
            "-".to_string()
        },
        sum.utilization_pct,
        sum.area_mm2,
    ));
    s.push_str(&format!(
        "cycles: {} compute (of which {} lock-step imbalance) + {} buffer-port stall + {} DRAM stall\n        + {} exposed vector ({} vector-unit cycles in all)\n",
        human(sum.cycles.compute_cycles),
        human(sum.cycles.imbalance_cycles),
        human(sum.cycles.sram_stall_cycles),
        human(sum.cycles.memory_stall_cycles),
        human(sum.cycles.vector_exposed_cycles),
        human(sum.cycles.vector_cycles),
    ));
    s.push_str(&format!(
        "work: {} MACs; DRAM {} B read, {} B written\n",
        human(sum.macs),
        human(sum.dram_read_bytes),
        human(sum.dram_write_bytes),
    ));
    if let (Some(t), Some(rate), Some(e)) = (sum.tokens, sum.tokens_per_s, sum.energy_per_token_pj)
    {
        s.push_str(&format!(
            "{}: {} token(s) per inference, {:.1} tokens/s, {} per token\n",
            sum.phase,
            human(t),
            rate,
            crate::units::energy_pj(e)
        ));
    }
    s
}

/// The terminal lines of a functional run: agreement, output SQNR and accuracy, each
/// percentage with its count.
pub fn fidelity_lines(f: &crate::functional::NetworkFidelity) -> String {
    let mut s = format!(
        "fidelity on {} input(s): top-1 agreement with fp32 {}/{} ({:.1} %), logit SQNR {}",
        f.inputs,
        f.top1_agreements,
        f.inputs,
        f.top1_agreement_pct,
        f.logit_sqnr_db
            .map_or_else(|| "exact".to_string(), |d| format!("{d:.2} dB"))
    );
    if let (Some(r), Some(q)) = (f.reference_correct, f.quantized_correct) {
        s += &format!(
            "; top-1 vs labels: fp32 {r}/{n}, quantized {q}/{n}",
            n = f.labelled_inputs
        );
    }
    if f.accumulator_overflows > 0 {
        s += &format!(
            "; {} accumulator overflows (wrapped)",
            f.accumulator_overflows
        );
    }
    if let Some(e) = f.reference_logits_max_rel_error {
        s += &format!("; fp32 logits within {e:.2e} (relative) of the given ones");
    }
    s + "\n" + &format!("calibration: {}\n", f.calibration)
}

/// `summary.json` as written: the summary, and with `--inputs` where they came from and the
/// network's fidelity.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryFile {
    #[serde(flatten)]
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fidelity: Option<crate::functional::NetworkFidelity>,
}

/// The last guard before results are written: no figure of `summary` (its JSON) is null,
/// which is how a NaN or an infinity serializes, and no number in `rows` is NaN or infinite
/// (label columns, such as a layer named `inf`, are text). The bounds on inputs keep every
/// figure finite; a breach is a plumsim bug, an internal error, and nothing is written.
pub fn check_finite(summary: &Summary, rows: &[LayerRow]) -> crate::error::Result<()> {
    use crate::columns::{Record, Unit};
    let internal = |m: String| crate::error::Error::Internal(m);
    let json = serde_json::to_value(summary).map_err(|e| internal(format!("summary: {e}")))?;
    if let serde_json::Value::Object(m) = &json {
        // serde_json spells a non-finite float `null`; so is a figure that does not apply
        // (the sequence fields of a CNN), checked here by value instead.
        let optional = [
            ("tokens_per_s", summary.tokens_per_s),
            ("energy_per_token_pj", summary.energy_per_token_pj),
        ];
        if let Some((k, _)) = optional
            .iter()
            .find(|(_, v)| v.is_some_and(|x| !x.is_finite()))
        {
            return Err(internal(format!(
                "summary field `{k}` is not a finite number"
            )));
        }
        let blank = |k: &str| k == "tokens" || optional.iter().any(|(o, v)| *o == k && v.is_none());
        if let Some((k, _)) = m.iter().find(|(k, v)| v.is_null() && !blank(k)) {
            return Err(internal(format!(
                "summary field `{k}` is not a finite number"
            )));
        }
    }
    // Through the CSV writer, which spells a NaN `NaN` and an infinity `inf`.
    let text = to_csv(rows);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let numeric: Vec<bool> = LayerRow::columns()
        .iter()
        .map(|c| !matches!(c.unit, Unit::Label | Unit::Flag))
        .collect();
    let header: Vec<String> = r
        .headers()
        .map(|h| h.iter().map(str::to_string).collect())
        .unwrap_or_default();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| internal(format!("layers.csv: {e}")))?;
        for (j, cell) in rec.iter().enumerate() {
            let c = cell.trim_start_matches(['+', '-']).to_ascii_lowercase();
            if numeric.get(j) == Some(&true) && (c == "nan" || c == "inf" || c == "infinity") {
                return Err(internal(format!(
                    "layers.csv row {} column `{}` is not a finite number",
                    i + 1,
                    header.get(j).map_or("?", String::as_str)
                )));
            }
        }
    }
    Ok(())
}

/// What one run reports, as `plumsim run` writes it and the Python package returns it: the
/// per-layer rows, the summary and, with real inputs, the per-layer fidelity.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub rows: Vec<LayerRow>,
    pub summary: SummaryFile,
    pub fidelity_layers: Option<Vec<crate::functional::LayerFidelity>>,
}

impl RunReport {
    /// The report of `sim`, a simulation of `arch`; `inputs` names where real inputs came
    /// from. Fails (an internal error) when a figure is not finite.
    pub fn new(
        arch: &Arch,
        sim: &crate::pipeline::Simulation,
        inputs: Option<String>,
    ) -> crate::error::Result<RunReport> {
        let d = &sim.design;
        let labels: Vec<String> = d.net.layers.iter().map(|l| l.scheme_label()).collect();
        let label_refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let rows = layer_rows(arch, &d.run, &d.stats, &label_refs);
        let summary = Summary::new(arch, &d.run);
        check_finite(&summary, &rows)?;
        Ok(RunReport {
            rows,
            summary: SummaryFile {
                summary,
                inputs,
                fidelity: sim.fidelity.as_ref().map(|f| f.network.clone()),
            },
            fidelity_layers: sim.fidelity.as_ref().map(|f| f.layers.clone()),
        })
    }

    /// `layers.csv`.
    pub fn layers_csv(&self) -> String {
        to_csv(&self.rows)
    }

    /// `summary.json` (pretty, with a final newline).
    pub fn summary_json(&self) -> String {
        serde_json::to_string_pretty(&self.summary).expect("the summary serializes") + "\n"
    }

    /// `fidelity.csv`, with real inputs.
    pub fn fidelity_csv(&self) -> Option<String> {
        self.fidelity_layers.as_ref().map(|l| to_csv(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_guard_refuses_non_finite_figures_but_not_labels_that_look_like_them() {
        let arch = crate::design::parse_arch(
            "name = \"t\"\n[array]\nrows = 2\ncols = 2\ndataflow = \"ws\"\n[pe]\nkind = \"dense\"\n\
             [buffers.input]\ncapacity_bytes = 4096\n[buffers.weight]\ncapacity_bytes = 4096\n\
             [buffers.output]\ncapacity_bytes = 4096\n",
            "t.toml",
        )
        .unwrap();
        let net = crate::workload::parse_workload(
            r#"{"name": "w", "inputs": {"x": [2, 3]},
                "layers": [{"name": "inf", "op": "matmul", "inputs": ["x"], "output": "y", "out_features": 2}]}"#,
            "w.json",
        )
        .unwrap();
        let run = crate::engine::simulate(&arch, &net).unwrap();
        let summary = Summary::new(&arch, &run);
        let mut rows = layer_rows(&arch, &run, &[None], &["int8"]);
        check_finite(&summary, &rows).unwrap();
        rows[0].energy_pj = f64::NAN;
        let e = check_finite(&summary, &rows).unwrap_err().to_string();
        assert!(e.contains("energy_pj"), "{e}");
        rows[0].energy_pj = f64::INFINITY;
        assert!(check_finite(&summary, &rows).is_err());
        // A CNN's sequence fields are blank, not a failure; a sequence model's must be finite.
        rows[0].energy_pj = 1.0;
        assert_eq!(summary.energy_per_token_pj, None);
        let mut seq = summary.clone();
        seq.energy_per_token_pj = Some(f64::NAN);
        let e = check_finite(&seq, &rows).unwrap_err().to_string();
        assert!(e.contains("energy_per_token_pj"), "{e}");
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    const ARCH: &str =
        "name = \"t\"\n[array]\nrows = 4\ncols = 4\ndataflow = \"ws\"\n[pe]\nkind = \"dense\"\n\
        [buffers.input]\ncapacity_bytes = 65536\n[buffers.weight]\ncapacity_bytes = 65536\n\
        [buffers.output]\ncapacity_bytes = 65536\n[dram]\nideal = true\n";

    /// A convolution, its batch norm (elementwise, hidden behind the array) and a layer with
    /// a name longer than the default table prints.
    fn table_of(style: TableStyle) -> (String, Vec<LayerRow>) {
        let net = crate::workload::parse_workload(
            r#"{"name": "n", "inputs": {"x": [8, 6, 6]}, "layers": [
                {"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "c", "out_channels": 8, "kernel": 3, "padding": 1},
                {"name": "bn", "op": "batch_norm", "inputs": ["c"], "output": "b"},
                {"name": "a_very_long_layer_name_of_a_transformer_block", "op": "relu", "inputs": ["b"], "output": "r"}]}"#,
            "n.json",
        )
        .unwrap();
        let arch = crate::design::parse_arch(ARCH, "t.toml").unwrap();
        let run = crate::engine::simulate(&arch, &net).unwrap();
        let rows = layer_rows(&arch, &run, &vec![None; 3], &["int8"; 3]);
        (table(&arch, &run, &rows, style), rows)
    }

    #[test]
    fn default_table_fits_120_columns_and_shows_vector_cycles() {
        let (t, rows) = table_of(TableStyle::default());
        assert!(t.lines().all(|l| l.chars().count() <= 120), "{t}");
        assert!(!t.contains('\x1b'), "no colour unless asked: {t}");
        // The batch norm adds nothing to the total but its vector cycles are shown, marked.
        let bn = &rows[1];
        assert_eq!(bn.cycles.total_cycles, 0);
        assert!(bn.cycles.vector_cycles > 0);
        let line = t.lines().find(|l| l.starts_with("bn ")).unwrap();
        assert!(
            line.contains(&format!("{}*", human(bn.cycles.vector_cycles))),
            "{line}"
        );
        assert!(t.contains("* the vector unit's cycles"));
        // The long name keeps its start and end.
        assert!(t.contains("a_very_long_~ormer_block"), "{t}");
        // The total line has energy and latency, in units that suit them.
        let total = t.lines().find(|l| l.starts_with("total: ")).unwrap();
        let sum_pj: f64 = rows.iter().map(|r| r.energy_pj).sum();
        assert!(total.contains(&crate::units::energy_pj(sum_pj)), "{total}");
        assert!(total.contains(" us at 1000 MHz") || total.contains(" ns at 1000 MHz"));
    }

    #[test]
    fn wide_table_has_every_column_and_colour_is_bold() {
        let (t, _) = table_of(TableStyle {
            wide: true,
            color: true,
        });
        let header = t.lines().next().unwrap();
        for c in [
            "gemm MxNxK",
            "folds",
            "imbalance",
            "vec_exposed",
            "density",
            "dram_bytes",
        ] {
            assert!(header.contains(c), "{c}: {header}");
        }
        assert!(header.starts_with("\x1b[1m") && header.ends_with("\x1b[0m"));
        assert!(t.contains("a_very_long_layer_name_of_a_transformer_block"));
    }

    #[test]
    fn names_are_shortened_in_the_middle() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(
            fit("encoder.layer.11.attention.self.query", 24),
            "e.l.11.a.self.query"
        );
        assert_eq!(fit("embeddings.word_embeddings", 24), "e.word_embeddings");
        assert_eq!(fit("blocks/0/mlp/fc1", 12), "b/0/mlp/fc1");
        assert_eq!(fit("blocks/0/mlp/fc1", 10), "b/0/m/fc1");
        assert_eq!(fit("abcdefgh", 5), "ab~gh");
        assert_eq!(fit("abcdefgh", 6), "abc~gh");
    }
}
