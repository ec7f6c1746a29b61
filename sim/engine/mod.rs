//! The cycle engine: per-layer cycles, utilization, buffer and DRAM traffic, action counts.
//!
//! Pure and deterministic: layers are simulated in parallel (rayon) but collected in
//! topological order, and nothing here depends on the thread count.
//!
//! Weight-stationary layers on any PE kind go through the same fold loop: every PE of a
//! fold gets a per-step cost from its stationary codes ([`pe`]), the fold's streaming time
//! follows from the lock-step scope ([`lockstep`]), and the fold's weight load takes
//! `rows x weights_per_lane` cycles. Output- and input-stationary dense layers use the same
//! loop with unit costs. [`reference`] simulates the same folds cycle by cycle.

pub mod activations;
pub mod lockstep;
pub mod memory;
pub mod pe;
pub mod reference;
pub mod systolic;
pub mod vector;

use rayon::prelude::*;

use crate::arch::{Arch, Dataflow};
use crate::error::{Error, Result};
use crate::quant::QuantizedTensor;
use crate::workload::{Gemm, Layer, Network};

use lockstep::StepCosts;
use memory::{Footprint, Traffic};
use pe::{CostModel, PeStep, PeWeights};
use systolic::FoldTiming;
use vector::VectorWork;

/// Operand widths of a layer as the energy model prices them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LayerBits {
    /// Bits of a weight code (ACE's weight bits).
    pub weight_bits: u32,
    pub activation_bits: u32,
    /// Bits a PE reads from its weight register per busy lane-cycle: the code for parallel
    /// datapaths, one bit (or one shared position) for serial ones.
    pub weight_reg_bits: u32,
    /// Stored bits per weight moved from the weight buffer: codes, scales and SWIS metadata.
    pub weight_storage_bits: f64,
}

/// Action counts of one layer: what the energy model prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    /// Multiplications (weight_bits x activation_bits), dense PEs only.
    pub mults: u64,
    /// Additions/subtractions into accumulators (accumulator width).
    pub adds: u64,
    /// Shift operations (bit-serial shift-accumulate, SWIS shared shifter).
    pub shifts: u64,
    /// Window-sum additions shared by all filters of a row (binary repetition).
    pub window_sum_adds: u64,
    /// Lane-cycles doing effectual work, and lane-cycles of the streaming phase spent idle
    /// (waiting on lock-step, zero work, or unused PEs).
    pub busy_lane_cycles: u64,
    pub idle_lane_cycles: u64,
    /// PE register traffic: weight register reads (one per busy lane-cycle), activation
    /// register writes (one per held weight per step: the activations a PE receives),
    /// partial-sum register updates (one per PE step).
    pub weight_reg_reads: u64,
    pub activation_reg_writes: u64,
    pub psum_reg_updates: u64,
}

impl Actions {
    fn add_step(&mut self, st: &PeStep, steps: u64) {
        self.mults += st.mults * steps;
        self.adds += st.adds * steps;
        self.shifts += st.shifts * steps;
        self.busy_lane_cycles += st.busy_lane_cycles * steps;
        self.weight_reg_reads += st.busy_lane_cycles * steps;
        if st.held > 0 {
            self.activation_reg_writes += st.held * steps;
            self.psum_reg_updates += steps;
        }
    }
}

/// What the engine computed for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerResult {
    pub name: String,
    pub op: &'static str,
    /// The GEMM for conv/linear/matmul layers; None for elementwise/pooling layers.
    pub gemm: Option<Gemm>,
    pub timing: Option<FoldTiming>,
    pub macs: u64,
    /// Array busy cycles: weight loads, streaming, fill and drain, imbalance included.
    pub compute_cycles: u64,
    /// Of the compute cycles, those lost because lock-step units had unequal work.
    pub imbalance_cycles: u64,
    /// Cycles the array waits for DRAM.
    pub memory_stall_cycles: u64,
    pub traffic: Traffic,
    pub actions: Actions,
    pub bits: LayerBits,
    /// Elementwise-unit work: the layer's own operations (or a weight layer's rescaling).
    pub vector: VectorWork,
    /// Elements the layer produces.
    pub output_elements: u64,
}

impl LayerResult {
    /// Array cycles (compute and memory stalls) plus the vector cycles that do not hide.
    pub fn total_cycles(&self) -> u64 {
        self.array_cycles() + self.vector.exposed_cycles
    }

    /// Cycles of the PE array: compute plus memory stalls.
    pub fn array_cycles(&self) -> u64 {
        self.compute_cycles + self.memory_stall_cycles
    }

    /// Fraction of the array's lane-cycles doing effectual work over the layer's total
    /// cycles (for dense PEs: MACs / (cycles x PEs x lanes), SCALE-Sim's overall utilization).
    pub fn utilization(&self, arch: &Arch) -> f64 {
        let total = self.total_cycles();
        if total == 0 {
            0.0
        } else {
            self.actions.busy_lane_cycles as f64
                / (total as f64 * arch.pes() as f64 * arch.pe.lanes as f64)
        }
    }
}

/// A whole run: one architecture on one network.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub arch_name: String,
    pub workload_name: String,
    pub layers: Vec<LayerResult>,
}

impl RunResult {
    pub fn total_cycles(&self) -> u64 {
        self.layers.iter().map(LayerResult::total_cycles).sum()
    }
    pub fn compute_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.compute_cycles).sum()
    }
    pub fn imbalance_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.imbalance_cycles).sum()
    }
    pub fn memory_stall_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.memory_stall_cycles).sum()
    }
    pub fn vector_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.vector.cycles).sum()
    }
    pub fn vector_exposed_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.vector.exposed_cycles).sum()
    }
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }
    pub fn utilization(&self, arch: &Arch) -> f64 {
        let total = self.total_cycles();
        if total == 0 {
            0.0
        } else {
            let busy: u64 = self.layers.iter().map(|l| l.actions.busy_lane_cycles).sum();
            busy as f64 / (total as f64 * arch.pes() as f64 * arch.pe.lanes as f64)
        }
    }
    pub fn latency_us(&self, arch: &Arch) -> f64 {
        self.total_cycles() as f64 / arch.clock_mhz
    }
}

/// Simulate every layer of `net` on `arch` without weight codes: for PE kinds whose cost
/// does not depend on weight values (dense, bit-serial, binary without repetition).
pub fn simulate(arch: &Arch, net: &Network) -> Result<RunResult> {
    simulate_quantized(arch, net, &[])
}

/// Simulate every layer; `codes[i]` holds layer i's quantized weights (may be empty when
/// no layer's cost depends on code values).
pub fn simulate_quantized(
    arch: &Arch,
    net: &Network,
    codes: &[Option<QuantizedTensor>],
) -> Result<RunResult> {
    let mut layers = net
        .layers
        .par_iter()
        .enumerate()
        .map(|(i, layer)| simulate_layer(arch, net, layer, codes.get(i).and_then(Option::as_ref)))
        .collect::<Vec<_>>()
        .into_iter()
        // The first failing layer in topological order, whatever the thread count.
        .collect::<Result<Vec<_>>>()?;
    // Which vector cycles hide behind the array: a serial walk in topological order.
    let mut work: Vec<VectorWork> = layers.iter().map(|l| l.vector).collect();
    let array: Vec<u64> = layers.iter().map(LayerResult::array_cycles).collect();
    vector::expose(arch, &mut work, &array);
    for (l, w) in layers.iter_mut().zip(work) {
        l.vector = w;
    }
    Ok(RunResult {
        arch_name: arch.name.clone(),
        workload_name: net.name.clone(),
        layers,
    })
}

/// True when layer `i` of `net` needs quantized codes to be timed on `arch`.
pub fn needs_codes(arch: &Arch, layer: &Layer) -> bool {
    layer.weight_shape().is_some() && CostModel::new(arch, &layer.quant.scheme).needs_codes()
}

fn footprint(arch: &Arch, net: &Network, layer: &Layer, q: Option<&QuantizedTensor>) -> Footprint {
    let weight_bits = layer.quant.scheme.weight_bits();
    let activation_bits = layer.quant.activation_bits;
    let input_elems: u64 = layer
        .inputs
        .iter()
        .map(|t| net.tensor(*t).elements())
        .sum::<u64>()
        * net.batch;
    let output_elems = net.tensor(layer.output).elements() * net.batch;
    let weight_bytes = match q {
        // Codes, scales and SWIS shift metadata, as stored.
        Some(q) => q.storage_bits as f64 / 8.0,
        // The same accounting without the codes (codes, scales, metadata).
        None => layer.weight_shape().map_or(0.0, |sh| {
            crate::quant::storage_bits_for(&layer.quant.scheme, &sh) as f64 / 8.0
        }),
    };
    Footprint {
        input_bytes: input_elems as f64 * activation_bits as f64 / 8.0,
        weight_bytes,
        output_bytes: output_elems as f64 * activation_bits as f64 / 8.0,
        weight_bits,
        activation_bits,
        accumulator_bits: arch.pe.accumulator_bits,
    }
}

/// Everything the fold loop needs about one weight layer.
pub struct LayerPlan<'a> {
    pub gemm: Gemm,
    pub model: CostModel,
    pub codes: Option<&'a QuantizedTensor>,
    /// Filters per conv group (N) and reduction length (K) per filter.
    pub n: u64,
    pub k: u64,
    /// Steps each fold streams (T).
    pub t: u64,
    /// K indices one PE covers, and how many such chunks a filter has.
    pub k_per_pe: u64,
    pub k_chunks: u64,
}

impl<'a> LayerPlan<'a> {
    pub fn new(
        arch: &Arch,
        layer: &Layer,
        gemm: Gemm,
        codes: Option<&'a QuantizedTensor>,
    ) -> Result<Self> {
        let model = CostModel::new(arch, &layer.quant.scheme);
        if model.needs_codes() && codes.is_none() {
            return Err(Error::Unsupported(format!(
                "layer `{}`: pe.kind = \"{}\" with scheme `{}` needs the layer's quantized weights",
                layer.name,
                arch.pe.kind.as_str(),
                layer.quant.scheme.name()
            )));
        }
        if let (CostModel::SwisGroups, Some(q)) = (model, codes) {
            if let Some(g) = pe::swis_group_mismatch(q, arch.pe.lanes) {
                return Err(Error::Unsupported(format!(
                    "layer `{}`: SWIS group_size {g} differs from pe.lanes = {}; a SWIS PE processes one group per slot, one lane per weight",
                    layer.name, arch.pe.lanes
                )));
            }
        }
        let k_per_pe = if arch.dataflow == Dataflow::Ws {
            arch.pe.k_per_pe()
        } else {
            1
        };
        let map = systolic::mapping(arch.dataflow, &gemm);
        Ok(LayerPlan {
            gemm,
            model,
            codes,
            n: gemm.n,
            k: gemm.k,
            t: map.t,
            k_per_pe,
            k_chunks: gemm.k.div_ceil(k_per_pe),
        })
    }

    /// Cost of the PE holding chunk `chunk` of filter `filter` (global filter index).
    pub fn pe_step(&self, arch: &Arch, chunk: u64, filter: usize) -> PeStep {
        let w = PeWeights {
            codes: self.codes.map(|q| q.filter_codes(filter)),
            group_bits: self.codes.and_then(|q| pe::filter_group_bits(q, filter)),
            k: self.k,
            k0: chunk * self.k_per_pe,
        };
        pe::pe_step(
            self.model,
            arch.pe.lanes as u64,
            arch.pe.weights_per_lane as u64,
            arch.sync_scope,
            &w,
        )
    }
}

/// Filter order within a conv group: by total work, heaviest first (stable), when the
/// architecture schedules offline; identity otherwise.
pub fn schedule_filters(arch: &Arch, work: &[u64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..work.len()).collect();
    if arch.schedule {
        order.sort_by_key(|&f| std::cmp::Reverse(work[f]));
    }
    order
}

/// Cycles and actions of a weight-stationary (or unit-cost) layer, fold by fold.
pub struct FoldSums {
    pub compute_cycles: u64,
    pub imbalance_cycles: u64,
    pub actions: Actions,
}

fn fold_loop(arch: &Arch, plan: &LayerPlan, ft: &FoldTiming) -> FoldSums {
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let t = plan.t;
    let load = arch.rows as u64
        * if arch.dataflow == Dataflow::Ws {
            arch.pe.weights_per_lane as u64
        } else {
            1
        };
    let mut sums = FoldSums {
        compute_cycles: 0,
        imbalance_cycles: 0,
        actions: Actions::default(),
    };
    if arch.dataflow != Dataflow::Ws {
        // Output/input stationary dense: every PE costs one cycle per step. An
        // input-stationary fold first loads its inputs (R cycles); output-stationary folds
        // have no separate load.
        let fold = systolic::fold_cycles(arch.dataflow, arch.rows as u64, arch.cols as u64, t);
        let load = if arch.dataflow == Dataflow::Is {
            arch.rows as u64
        } else {
            0
        };
        let stream = fold - load;
        sums.compute_cycles = ft.folds * (load + stream);
        let macs = plan.gemm.macs();
        sums.actions.mults = macs;
        sums.actions.adds = macs;
        sums.actions.busy_lane_cycles = macs;
        sums.actions.weight_reg_reads = macs;
        sums.actions.activation_reg_writes = macs;
        sums.actions.psum_reg_updates = macs;
        sums.actions.idle_lane_cycles = ft.folds * stream * arch.pes() - macs;
        return sums;
    }
    let n_per_group = plan.n as usize;
    let chunks = plan.k_chunks as usize;
    for g in 0..plan.gemm.groups as usize {
        // Per (chunk, filter) step cost, and each filter's total work for scheduling. When
        // the cost does not depend on code values, every filter's chunk costs the same.
        let per_filter = plan.model.needs_codes();
        let mut cost = vec![
            0u64;
            if per_filter {
                chunks * n_per_group
            } else {
                chunks
            }
        ];
        let mut work = vec![0u64; n_per_group];
        let mut held_rows = vec![0u64; chunks];
        if per_filter {
            for f in 0..n_per_group {
                let filter = g * n_per_group + f;
                for ch in 0..chunks {
                    let st = plan.pe_step(arch, ch as u64, filter);
                    cost[ch * n_per_group + f] = st.cycles;
                    work[f] += st.cycles;
                    held_rows[ch] = st.held;
                    sums.actions.add_step(&st, t);
                }
            }
        } else {
            for ch in 0..chunks {
                let st = plan.pe_step(arch, ch as u64, g * n_per_group);
                cost[ch] = st.cycles;
                held_rows[ch] = st.held;
                sums.actions.add_step(&st, t * n_per_group as u64);
            }
            work.fill(cost.iter().sum());
        }
        let cost_of = |ch: usize, f: usize| {
            if per_filter {
                cost[ch * n_per_group + f]
            } else {
                cost[ch]
            }
        };
        if matches!(plan.model, CostModel::Binary { repetition: true }) {
            // One window sum per row and step, shared by the fold's filters.
            sums.actions.window_sum_adds += held_rows.iter().sum::<u64>() * t * ft.col_folds;
        }
        let order = schedule_filters(arch, &work);
        // M streams in tiles: full ones of m_tile rows and possibly one shorter last tile.
        let tiles: Vec<(u64, u64)> = {
            let (full, rest) = (t / ft.m_tile, t % ft.m_tile);
            let mut v = vec![(ft.m_tile, full)];
            if rest > 0 {
                v.push((rest, 1));
            }
            v
        };
        let mut s = StepCosts {
            rows,
            cols,
            s: vec![1; rows * cols],
        };
        for cf in 0..ft.col_folds as usize {
            for rf in 0..ft.row_folds as usize {
                let mut active_sum = 0u64;
                let mut active = 0u64;
                for r in 0..rows {
                    let ch = rf * rows + r;
                    for c in 0..cols {
                        let fi = cf * cols + c;
                        let v = if ch < chunks && fi < n_per_group {
                            let v = cost_of(ch, order[fi]);
                            active_sum += v;
                            active += 1;
                            v
                        } else {
                            1
                        };
                        s.s[r * cols + c] = v;
                    }
                }
                for &(tile_t, count) in &tiles {
                    let stream = lockstep::stream_cycles(arch.sync_scope, &s, tile_t);
                    // Balanced: every active PE at the fold's mean cost.
                    let wave = tile_t + rows as u64 + cols as u64 - 2;
                    let balanced =
                        (wave as f64 * active_sum as f64 / active.max(1) as f64).round() as u64;
                    sums.imbalance_cycles += count * stream.saturating_sub(balanced);
                    sums.compute_cycles += count * (load + stream);
                    sums.actions.idle_lane_cycles +=
                        count * stream * arch.pes() * arch.pe.lanes as u64;
                }
            }
        }
    }
    sums.actions.idle_lane_cycles -= sums
        .actions
        .busy_lane_cycles
        .min(sums.actions.idle_lane_cycles);
    sums
}

/// Fold structure of a layer on `arch` (K chunks of `k_per_pe` on rows for ws).
/// Per-step cost and actions of a PE that skips zero activations: `items` pairs remain
/// (non-zero activation, and non-zero weight for zero-skipping kinds) of `held`.
pub fn skipping_step(model: CostModel, lanes: u64, held: u64, items: u64) -> PeStep {
    let bits = match model {
        CostModel::Serial { bits } => bits as u64,
        _ => 1,
    };
    let mut st = PeStep {
        held,
        cycles: (items.div_ceil(lanes) * bits).max(1),
        ..PeStep::default()
    };
    st.adds = items * bits;
    st.busy_lane_cycles = items * bits;
    match model {
        CostModel::Dense => st.mults = items,
        CostModel::Serial { .. } => st.shifts = items * bits,
        _ => {}
    }
    st
}

/// The fold loop when PEs skip zero activations: a PE's cost changes from step to step, so
/// each fold's streaming time is evaluated step by step (`lockstep::stream_cycles_varying`).
fn fold_loop_skipping(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    mask: &activations::ActivationMask,
) -> FoldSums {
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let lanes = arch.pe.lanes as u64;
    let load = arch.rows as u64 * arch.pe.weights_per_lane as u64;
    let (n, k, kpp, chunks) = (
        plan.n as usize,
        plan.k as usize,
        plan.k_per_pe as usize,
        plan.k_chunks as usize,
    );
    let m_total = plan.t as usize;
    let acts = mask.chunk_bits(kpp);
    let weight_matters = matches!(plan.model, CostModel::ZeroSkip { .. });
    let mut sums = FoldSums {
        compute_cycles: 0,
        imbalance_cycles: 0,
        actions: Actions::default(),
    };
    for g in 0..plan.gemm.groups as usize {
        // Weights that take part: non-zero codes for zero-skipping kinds, every held one else.
        let wbits = activations::ChunkBits::pack(n, k, kpp, |f, kk| {
            !weight_matters
                || plan
                    .codes
                    .is_none_or(|q| q.filter_codes(g * n + f)[kk] != 0)
        });
        let held = |ch: usize| (k - ch * kpp).min(kpp) as u64;
        // Step cost of every (chunk, filter, step), computed once.
        let mut cost = vec![0u32; chunks * n * m_total];
        let mut work = vec![0u64; n];
        for ch in 0..chunks {
            for f in 0..n {
                let w = wbits.get(f, ch);
                for m in 0..m_total {
                    let items = activations::common(w, acts.get(g * m_total + m, ch));
                    let st = skipping_step(plan.model, lanes, held(ch), items);
                    cost[(ch * n + f) * m_total + m] = st.cycles as u32;
                    work[f] += st.cycles;
                    sums.actions.add_step(&st, 1);
                }
            }
        }
        let order = schedule_filters(arch, &work);
        for cf in 0..ft.col_folds as usize {
            for rf in 0..ft.row_folds as usize {
                let pe = |r: usize, c: usize| -> Option<(usize, usize)> {
                    let (ch, fi) = (rf * rows + r, cf * cols + c);
                    (ch < chunks && fi < n).then(|| (ch, order[fi]))
                };
                let mut m0 = 0usize;
                while m0 < m_total {
                    let tile = (ft.m_tile as usize).min(m_total - m0);
                    let cost = |r: usize, c: usize, m: u64| {
                        pe(r, c).map_or(1, |(ch, f)| {
                            cost[(ch * n + f) * m_total + m0 + m as usize] as u64
                        })
                    };
                    let stream = lockstep::stream_cycles_varying(
                        arch.sync_scope,
                        rows,
                        cols,
                        tile as u64,
                        &cost,
                    );
                    let (mut active_sum, mut active) = (0u64, 0u64);
                    for r in 0..rows {
                        for c in 0..cols {
                            if pe(r, c).is_some() {
                                active += tile as u64;
                                active_sum += (0..tile as u64).map(|m| cost(r, c, m)).sum::<u64>();
                            }
                        }
                    }
                    let wave = tile as u64 + rows as u64 + cols as u64 - 2;
                    let balanced =
                        (wave as f64 * active_sum as f64 / active.max(1) as f64).round() as u64;
                    sums.imbalance_cycles += stream.saturating_sub(balanced);
                    sums.compute_cycles += load + stream;
                    sums.actions.idle_lane_cycles += stream * arch.pes() * lanes;
                    m0 += tile;
                }
            }
        }
    }
    sums.actions.idle_lane_cycles -= sums
        .actions
        .busy_lane_cycles
        .min(sums.actions.idle_lane_cycles);
    sums
}

/// Fold structure of a layer on `arch`: K in chunks of a PE's K indices on the rows (ws),
/// and M streamed in tiles of `m_tile` rows.
pub fn fold_timing(arch: &Arch, plan: &LayerPlan, m_tile: u64) -> FoldTiming {
    let (r, c) = (arch.rows as u64, arch.cols as u64);
    let chunked = Gemm {
        k: plan.k_chunks,
        ..plan.gemm
    };
    let mut ft = systolic::fold_timing(arch.dataflow, r, c, &chunked);
    if arch.dataflow == Dataflow::Ws {
        ft.m_tile = m_tile;
        ft.m_tiles = plan.gemm.m.div_ceil(m_tile);
        ft.folds *= ft.m_tiles;
    }
    ft
}

/// The M-tile the buffers allow for a weight layer (see [`memory::m_tile`]).
pub fn layer_m_tile(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    gemm: &Gemm,
    codes: Option<&QuantizedTensor>,
) -> u64 {
    memory::m_tile(arch, gemm, &footprint(arch, net, layer, codes))
}

fn simulate_layer(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> Result<LayerResult> {
    let output_elements = net.tensor(layer.output).elements() * net.batch;
    let op = layer.op.kind().as_str();
    let vector = vector::layer_work(arch, net, layer, codes);
    let Some(gemm) = layer.gemm(net) else {
        // Elementwise and pooling layers run on the vector unit, not the array.
        return Ok(LayerResult {
            name: layer.name.clone(),
            op,
            gemm: None,
            timing: None,
            macs: 0,
            compute_cycles: 0,
            imbalance_cycles: 0,
            memory_stall_cycles: 0,
            traffic: Traffic::default(),
            actions: Actions::default(),
            bits: LayerBits {
                activation_bits: layer.quant.activation_bits,
                ..LayerBits::default()
            },
            vector,
            output_elements,
        });
    };
    let plan = LayerPlan::new(arch, layer, gemm, codes)?;
    let fp = footprint(arch, net, layer, codes);
    let ft = fold_timing(arch, &plan, memory::m_tile(arch, &gemm, &fp));
    let sums = if arch.pe.skip_zero_activations {
        let mask = activations::layer_mask(net, layer).expect("weight layers have a GEMM input");
        fold_loop_skipping(arch, &plan, &ft, &mask)
    } else {
        fold_loop(arch, &plan, &ft)
    };
    let traffic = memory::traffic(arch, &gemm, &ft, &fp, sums.compute_cycles);
    Ok(LayerResult {
        name: layer.name.clone(),
        op,
        gemm: Some(gemm),
        timing: Some(ft),
        macs: gemm.macs(),
        compute_cycles: sums.compute_cycles,
        imbalance_cycles: sums.imbalance_cycles,
        memory_stall_cycles: traffic.memory_stall_cycles,
        traffic,
        actions: sums.actions,
        bits: LayerBits {
            weight_bits: fp.weight_bits,
            activation_bits: fp.activation_bits,
            weight_reg_bits: match plan.model {
                CostModel::Dense | CostModel::Binary { .. } | CostModel::ZeroSkip { .. } => {
                    fp.weight_bits
                }
                CostModel::Serial { .. }
                | CostModel::BitSparse { .. }
                | CostModel::SwisGroups
                | CostModel::FixedBits { .. } => 1,
            },
            weight_storage_bits: fp.weight_bytes * 8.0
                / gemm.k as f64
                / (gemm.n * gemm.groups) as f64,
        },
        vector,
        output_elements,
    })
}
