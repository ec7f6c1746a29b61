//! The per-cycle reference engine: a literal simulation of a weight-stationary array, one
//! cycle at a time, for checking the fast engine and for `plumsim run --reference`.
//!
//! Every PE runs a small program ([`program`]) that its kind's file under [`kinds`] builds
//! directly from the codes it holds (a skip-network schedule, a sequence of slots, per-lane
//! digit queues, SWIS shared positions); [`walk`] streams each fold cycle by cycle. Nothing
//! here calls the fast engine's cost models, closed forms, mapping, im2col or scheduling code:
//! the layer's geometry, the GEMM input's zero pattern ([`im2col`]), the filter order and each
//! kind's programs are derived here again, and the property tests hold the two engines equal
//! on random layers. The inputs they share are data and one policy: the codes, the input
//! tensor's zero flags, and the M-tile the memory model chose for the buffers (tiling is the
//! memory model's decision; its own hand-computed tests are in `tests/engine_dense.rs`).
//!
//! [`simulate_layer_traced`] runs the same simulation and reports every buffer access and
//! every lane's state per cycle to a [`TraceSink`] (rendered by `trace.rs`); the counts and
//! cycles it returns do not depend on the sink.

pub mod im2col;
pub mod kinds;
pub mod program;
pub mod walk;

use crate::arch::{Arch, Dataflow, SyncScope};
use crate::engine::events::{NoTrace, TraceSink, WEIGHT_BASE};
use crate::engine::Actions;
use crate::error::{Error, Result};
use crate::quant::QuantizedTensor;
use crate::workload::{Layer, Network};

use kinds::{FilterGroups, RefPe};
use program::Program;
use walk::{run_fold, trace_weight_load, Fold, FoldTrace};

/// Counts of one layer from the reference engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReferenceResult {
    pub folds: u64,
    pub compute_cycles: u64,
    pub actions: Actions,
    pub input_buffer_reads: u64,
    pub weight_buffer_reads: u64,
    pub output_buffer_writes: u64,
    pub output_buffer_reads: u64,
}

/// Most PE-cycles the reference engine will simulate for one layer.
pub const MAX_PE_CYCLES: u64 = 2_000_000_000;

/// Simulate one weight layer cycle by cycle (`None` for layers without weights).
/// Weight-stationary arrays only; the layer's quantized codes must be given.
pub fn simulate_layer(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> Result<Option<ReferenceResult>> {
    simulate_layer_traced(arch, net, layer, codes, &mut NoTrace)
}

/// Bytes one access moves: `bits` rounded up to whole bytes.
fn access_bytes(bits: u32) -> u32 {
    bits.div_ceil(8)
}

/// Filters heaviest first (stable) when the design schedules offline, else in order.
fn filter_order(schedule: bool, work: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..work.len()).collect();
    if schedule {
        order.sort_by(|&a, &b| work[b].cmp(&work[a]));
    }
    order
}

/// [`simulate_layer`], reporting every buffer access and every lane's state per cycle to
/// `sink`. Cycles are compute cycles (memory stalls are not simulated here); the sink is told
/// where each fold (weight load) starts.
pub fn simulate_layer_traced(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
    sink: &mut dyn TraceSink,
) -> Result<Option<ReferenceResult>> {
    let Some(gemm) = layer.gemm(net) else {
        return Ok(None);
    };
    if arch.dataflow != Dataflow::Ws {
        return Err(Error::Unsupported(
            "the reference engine models the weight-stationary dataflow only".into(),
        ));
    }
    let unsupported = |why: String| Error::Unsupported(format!("layer `{}`: {why}", layer.name));
    if layer.is_act_matmul() {
        return Err(unsupported(
            "the reference engine runs weight layers; this matmul multiplies two activations (the fast engine times it)".into(),
        ));
    }
    let Some(q) = codes else {
        return Err(unsupported(
            "the reference engine needs the layer's quantized weights".into(),
        ));
    };
    let kind = kinds::for_kind(arch.pe.kind.as_str()).ok_or_else(|| {
        unsupported(format!(
            "pe.kind = \"{}\" has no reference program (engine/reference/kinds/)",
            arch.pe.kind.as_str()
        ))
    })?;
    let rp = RefPe {
        pe: &arch.pe,
        scheme: &layer.quant.scheme,
        activation_bits: layer.quant.activation_bits,
        lane_scope: arch.sync_scope == SyncScope::Lane,
    };
    // Geometry of the weight-stationary mapping: K over rows in chunks of a PE's weights, N
    // over columns, M streamed.
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let lanes = arch.pe.lanes as u64;
    let kpp = (arch.pe.lanes * arch.pe.weights_per_lane) as usize;
    let (t, n, k) = (gemm.m, gemm.n as usize, gemm.k as usize);
    let chunks = k.div_ceil(kpp);
    let row_folds = chunks.div_ceil(rows);
    let col_folds = n.div_ceil(cols);
    let pe_cycles_est = gemm.groups
        * (row_folds * col_folds) as u64
        * (t + (rows + cols) as u64)
        * (rows * cols) as u64;
    if pe_cycles_est > MAX_PE_CYCLES {
        return Err(Error::Unsupported(format!(
            "layer `{}` is too large for the per-cycle reference engine (about {pe_cycles_est} PE-cycles; limit {MAX_PE_CYCLES})",
            layer.name
        )));
    }
    let m_tile = super::layer_m_tile(arch, net, layer, &gemm, codes);
    // Zero activations, when the PEs skip them: the input tensor's flags (the same data the
    // fast engine takes), seen through this engine's own im2col.
    let mask = if arch.pe.skip_zero_activations {
        super::activations::input_flags(net, layer).and_then(|x| im2col::gemm_input(net, layer, &x))
    } else {
        None
    };
    // Activation magnitudes, when the PEs are serial in the activations' bits (the same data
    // the fast engine takes), through this engine's own im2col.
    let values = if arch.pe.reads_activations() && mask.is_none() {
        super::activations::input_values(net, layer)
            .and_then(|x| im2col::gemm_input(net, layer, &x))
    } else {
        None
    };
    let varying = mask.is_some() || values.is_some();
    let mut res = ReferenceResult::default();
    for g in 0..gemm.groups as usize {
        let filter_codes = |f: usize| q.filter_codes(g * n + f);
        let held_codes = |f: usize, ch: usize| {
            let c = filter_codes(f);
            &c[ch * kpp..((ch + 1) * kpp).min(k)]
        };
        let group_meta = |f: usize| {
            q.groups.as_ref().map(|gr| {
                let per = gr.groups_per_filter as usize;
                let fi = g * n + f;
                FilterGroups {
                    shared: &gr.shared[fi * per..(fi + 1) * per],
                    masks: &gr.masks[fi * per..(fi + 1) * per],
                }
            })
        };
        // Programs per (chunk, filter) and the schedule from their lengths.
        let progs: Vec<Vec<(Program, u64)>> = (0..chunks)
            .map(|ch| {
                (0..n)
                    .map(|f| {
                        let held = held_codes(f, ch);
                        kind.program(&rp, held, ch * kpp, group_meta(f))
                            .map(|p| (p, held.len() as u64))
                    })
                    .collect::<std::result::Result<Vec<_>, String>>()
            })
            .collect::<std::result::Result<_, String>>()
            .map_err(unsupported)?;
        // One step of the PE holding chunk `ch` of filter `f`, at GEMM row `m`, when zero
        // activations are skipped.
        let step_program = |f: usize, ch: usize, m: u64| -> std::result::Result<Program, String> {
            if let Some(v) = &values {
                return kind
                    .activation_program(&rp, held_codes(f, ch), &|i| {
                        v.get(g, m as usize, ch * kpp + i)
                    })
                    .ok_or_else(|| "this kind's steps do not read activation values".into());
            }
            let mask = mask.as_ref().ok_or("skipping needs the activation mask")?;
            kind.pairs_program(&rp, held_codes(f, ch), &|i| {
                mask.get(g, m as usize, ch * kpp + i)
            })
            .ok_or_else(|| "zero-activation skipping is not modelled for this kind".into())
        };
        let mut work = vec![0u64; n];
        for (f, w) in work.iter_mut().enumerate() {
            for (ch, row) in progs.iter().enumerate() {
                *w += match varying {
                    true => (0..t)
                        .map(|m| step_program(f, ch, m).map(|p| p.cycles()))
                        .sum::<std::result::Result<u64, String>>()
                        .map_err(unsupported)?,
                    false => row[f].0.cycles(),
                };
            }
        }
        let order = filter_order(arch.schedule, &work);
        if kind.window_sums(&rp) {
            let held_rows: u64 = (0..chunks).map(|ch| progs[ch][0].1).sum();
            res.actions.window_sum_adds += held_rows * t * col_folds as u64;
        }
        for cf in 0..col_folds {
            for rf in 0..row_folds {
                // The PE grid of this fold: None where no weights are held.
                let grid: Vec<Option<&(Program, u64)>> = (0..rows * cols)
                    .map(|i| {
                        let (r, c) = (i / cols, i % cols);
                        let ch = rf * rows + r;
                        let fi = cf * cols + c;
                        (ch < chunks && fi < n).then(|| &progs[ch][order[fi]])
                    })
                    .collect();
                let col_active: Vec<bool> = (0..cols).map(|c| cf * cols + c < n).collect();
                // M streams through the fold in tiles; each tile reloads the weights.
                let mut m0 = 0;
                while m0 < t {
                    let tile_t = m_tile.min(t - m0);
                    res.folds += 1;
                    let load_start = res.compute_cycles;
                    // Weight load: each row takes one slot (all lanes) per cycle.
                    for _ in 0..arch.rows as u64 * arch.pe.weights_per_lane as u64 {
                        res.compute_cycles += 1;
                    }
                    for pe in grid.iter().flatten() {
                        res.weight_buffer_reads += pe.1;
                    }
                    if sink.enabled() {
                        trace_weight_load(
                            arch,
                            &grid,
                            load_start,
                            |r, c| {
                                let f = order[cf * cols + c] as u64;
                                let ch = (rf * rows + r) as u64;
                                let (k, n, kpp) = (k as u64, n as u64, kpp as u64);
                                // Weight matrix K x N per group, groups one after another.
                                let base = WEIGHT_BASE + g as u64 * k * n;
                                move |j: u64| base + (ch * kpp + j) * n + f
                            },
                            access_bytes(layer.quant.scheme.weight_bits()),
                            sink,
                        );
                    }
                    let mut tr = FoldTrace {
                        sink: &mut *sink,
                        base: res.compute_cycles,
                        group: g as u64,
                        m0,
                        ch0: (rf * rows) as u64,
                        filters: (0..cols)
                            .map(|c| {
                                let fi = cf * cols + c;
                                (fi < n).then(|| order[fi] as u64)
                            })
                            .collect(),
                        k_per_pe: kpp as u64,
                        m: gemm.m,
                        k: k as u64,
                        n: n as u64,
                        input_bytes: access_bytes(layer.quant.activation_bits),
                        psum_bytes: access_bytes(arch.pe.accumulator_bits),
                    };
                    // The skipping programs were all built once above (for the schedule), so
                    // they cannot fail here.
                    let skip = |r: usize, c: usize, m: u64| {
                        step_program(order[cf * cols + c], rf * rows + r, m0 + m)
                            .unwrap_or_else(|_| Program::idle())
                    };
                    let fold = Fold {
                        arch,
                        grid: &grid,
                        t: tile_t,
                        read_psums: rf > 0,
                        col_active: &col_active,
                        skip: varying.then_some(&skip as &dyn Fn(usize, usize, u64) -> Program),
                    };
                    let stream = run_fold(&fold, &mut res, &mut tr);
                    res.compute_cycles += stream;
                    res.actions.idle_lane_cycles += stream * (rows * cols) as u64 * lanes;
                    m0 += tile_t;
                }
            }
        }
    }
    res.actions.idle_lane_cycles -= res.actions.busy_lane_cycles;
    Ok(Some(res))
}
