//! The cycle engine: per-layer cycles, utilization, buffer and DRAM traffic, action counts.
//!
//! Pure and deterministic: layers are simulated in parallel (rayon) but collected in
//! topological order, and nothing here depends on the thread count.
//!
//! Weight-stationary layers on any PE kind go through the same fold loop ([`folds`]): every
//! PE of a fold gets a per-step cost from its stationary codes (the PE kind's step cost,
//! [`crate::pe`]), the fold's streaming time follows from the lock-step scope ([`lockstep`]),
//! and the fold's weight load takes `rows x weights_per_lane` cycles. Output- and
//! input-stationary dense layers use the same loop with unit costs. [`mod@reference`]
//! simulates the same folds cycle by cycle.

pub mod activations;
pub mod costs;
pub mod events;
pub mod folds;
pub mod lockstep;
pub mod memory;
pub mod reference;
pub mod systolic;
pub mod vector;

use rayon::prelude::*;

use crate::arch::{Arch, Dataflow};
use crate::error::{Error, Result};
use crate::quant::QuantizedTensor;
use crate::workload::{Gemm, Layer, Network};

use crate::pe::{PeStep, PeWeights, StepContext, StepCost};
use memory::{Footprint, Traffic};
use systolic::FoldTiming;

pub use folds::{schedule_filters, FoldSums};
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

crate::record! {
    /// Action counts of one layer: what the energy model prices.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Actions {
        /// Multiplications (weight_bits x activation_bits), dense PEs only.
        pub mults: u64 = Count,
        /// Additions/subtractions into accumulators (accumulator width).
        pub adds: u64 = Count,
        /// Shift operations (bit-serial shift-accumulate, SWIS shared shifter).
        pub shifts: u64 = Count,
        /// Window-sum additions shared by all filters of a row (binary repetition).
        pub window_sum_adds: u64 = Count,
        /// Lane-cycles doing effectual work.
        pub busy_lane_cycles: u64 = Cycles,
        /// Lane-cycles of the streaming phase spent idle (waiting on lock-step, zero work, or
        /// unused PEs).
        pub idle_lane_cycles: u64 = Cycles,
        /// Weight register reads (one per busy lane-cycle).
        pub weight_reg_reads: u64 = Count,
        /// Operand selections: a lane switching to a new (weight, activation) pair.
        pub operand_selects: u64 = Count,
        /// Activation register writes (one per held weight per step: the activations a PE
        /// receives).
        pub activation_reg_writes: u64 = Count,
        /// Partial-sum register updates (one per PE step).
        pub psum_reg_updates: u64 = Count,
    }
}

impl Actions {
    /// The lanes' actions of `steps` steps of `st`: multiplies, adds, shifts, busy lanes,
    /// weight-register reads and operand selects.
    fn add_lane_work(&mut self, st: &PeStep, steps: u64) {
        self.mults += st.mults * steps;
        self.adds += st.adds * steps;
        self.shifts += st.shifts * steps;
        self.busy_lane_cycles += st.busy_lane_cycles * steps;
        self.weight_reg_reads += st.busy_lane_cycles * steps;
        self.operand_selects += st.selects * steps;
    }

    fn add_step(&mut self, st: &PeStep, steps: u64) {
        self.add_lane_work(st, steps);
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
    /// Which unit ran the layer: `array` (weights stationary), `array_act` (a matmul of two
    /// activations, the second one stationary), `vector`, `dram` (an embedding lookup) or
    /// `view` (no work).
    pub unit: &'static str,
    /// The GEMM for conv/linear/matmul layers; None for elementwise/pooling layers.
    pub gemm: Option<Gemm>,
    pub timing: Option<FoldTiming>,
    pub macs: u64,
    /// Array busy cycles: weight loads, streaming, fill and drain, imbalance included.
    pub compute_cycles: u64,
    /// Of the compute cycles, those lost because lock-step units had unequal work.
    pub imbalance_cycles: u64,
    /// Cycles the array waits for a buffer port (demand above its words per cycle).
    pub sram_stall_cycles: u64,
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

    /// Cycles of the PE array: compute plus buffer-port and memory stalls.
    pub fn array_cycles(&self) -> u64 {
        self.compute_cycles + self.sram_stall_cycles + self.memory_stall_cycles
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
    /// For sequence models: the phase and the tokens one inference makes (the batch's).
    pub sequence: Option<(crate::workload::Phase, u64)>,
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
    pub fn sram_stall_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.sram_stall_cycles).sum()
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
    let refs: Vec<Option<&QuantizedTensor>> = codes.iter().map(Option::as_ref).collect();
    simulate_with(arch, net, &refs)
}

/// [`simulate_quantized`] over borrowed codes (what the pipeline holds).
pub fn simulate_with(
    arch: &Arch,
    net: &Network,
    codes: &[Option<&QuantizedTensor>],
) -> Result<RunResult> {
    let layers = net
        .layers
        .par_iter()
        .enumerate()
        .map(|(i, layer)| simulate_layer(arch, net, layer, codes.get(i).copied().flatten()))
        .collect::<Vec<_>>();
    finish(arch, net, layers)
}

/// The run from every layer's result, in network order: the first failing layer in
/// topological order is the error (whatever the thread count), the counts are checked against
/// their bounds, and the vector cycles that hide behind the array are found (a serial walk in
/// topological order). [`simulate_layer`] gives the layers, one at a time, in any order.
pub fn finish(arch: &Arch, net: &Network, layers: Vec<Result<LayerResult>>) -> Result<RunResult> {
    let mut layers = layers.into_iter().collect::<Result<Vec<_>>>()?;
    check_counts(arch, net, &layers)?;
    let mut work: Vec<VectorWork> = layers.iter().map(|l| l.vector).collect();
    let array: Vec<u64> = layers.iter().map(LayerResult::array_cycles).collect();
    vector::expose(arch, &mut work, &array);
    for (l, w) in layers.iter_mut().zip(work) {
        l.vector = w;
    }
    Ok(RunResult {
        arch_name: arch.name.clone(),
        workload_name: net.name.clone(),
        sequence: net.sequence.zip(net.tokens()).map(|(s, t)| (s.phase, t)),
        layers,
    })
}

/// The largest count a layer may report (cycles, bytes, words, MACs): 2^62, so that sums of
/// a layer's parts and the network's totals below 2^63 never wrap.
pub const MAX_LAYER_COUNT: u64 = 1 << 62;
/// The largest network total (cycles, DRAM bytes, MACs): 2^63.
pub const MAX_NETWORK_COUNT: u128 = 1 << 63;

/// Check every layer's counts and the network's sums against the bounds, exactly (in 128
/// bits), before any 64-bit sum is formed. A safety net: within the workload's and the
/// architecture's bounds a layer stays below about 2^58 (2^48 MACs, at most 2^10 cycles or
/// DRAM-bound cycles per MAC), so only a network summing many such layers could come near;
/// then the run is refused with the layer and the figure, never reported wrapped or saturated.
fn check_counts(arch: &Arch, net: &Network, layers: &[LayerResult]) -> Result<()> {
    let mut totals = [0u128; 4];
    for (layer, r) in net.layers.iter().zip(layers) {
        let t = &r.traffic;
        let parts: [(&str, u64); 12] = [
            ("macs", r.macs),
            ("compute_cycles", r.compute_cycles),
            ("sram_stall_cycles", r.sram_stall_cycles),
            ("memory_stall_cycles", r.memory_stall_cycles),
            ("vector_cycles", r.vector.cycles),
            ("dram_input_read_bytes", t.dram_input_read_bytes),
            ("dram_weight_read_bytes", t.dram_weight_read_bytes),
            ("dram_output_write_bytes", t.dram_output_write_bytes),
            ("dram_psum_write_bytes", t.dram_psum_write_bytes),
            ("dram_psum_read_bytes", t.dram_psum_read_bytes),
            ("input_buffer_reads", t.input_buffer_reads),
            ("weight_buffer_reads", t.weight_buffer_reads),
        ];
        for (what, v) in parts {
            if v > MAX_LAYER_COUNT {
                return Err(count_error(
                    arch,
                    &layer.name,
                    what,
                    v as u128,
                    MAX_LAYER_COUNT as u128,
                ));
            }
        }
        let cycles = r.compute_cycles as u128
            + r.sram_stall_cycles as u128
            + r.memory_stall_cycles as u128
            + r.vector.cycles as u128;
        let dram = (t.dram_read_bytes() as u128) + t.dram_write_bytes() as u128;
        for (acc, v) in
            totals
                .iter_mut()
                .zip([cycles, dram, r.macs as u128, r.output_elements as u128])
        {
            *acc += v;
        }
    }
    for (what, v) in ["total_cycles", "dram_bytes", "macs", "output_elements"]
        .iter()
        .zip(totals)
    {
        if v > MAX_NETWORK_COUNT {
            return Err(count_error(
                arch,
                "(all layers)",
                what,
                v,
                MAX_NETWORK_COUNT,
            ));
        }
    }
    Ok(())
}

fn count_error(arch: &Arch, layer: &str, what: &str, v: u128, bound: u128) -> Error {
    Error::Invalid {
        origin: format!("design `{}`", arch.name),
        problems: vec![crate::error::Problem::new(
            format!("layer `{layer}`"),
            format!(
                "{what} reaches {:.3e}, beyond the 2^{} plumsim can count exactly",
                v as f64,
                bound.trailing_zeros()
            ),
        )
        .with_help(format!(
            "the design is too slow for this layer (DRAM at {} B/cycle, a {}x{} array): \
             raise dram.bandwidth_bytes_per_cycle or the array size, or shrink the layer",
            arch.dram.bandwidth_bytes_per_cycle, arch.rows, arch.cols
        ))],
    }
}

/// True when `layer` needs quantized codes to be timed on `arch` (false for layers the PE
/// cannot run: simulating them reports why).
pub fn needs_codes(arch: &Arch, layer: &Layer) -> bool {
    layer.weight_shape().is_some()
        && arch
            .pe
            .layer_cost(&layer.quant)
            .is_ok_and(|c| c.needs_codes())
}

fn footprint(arch: &Arch, net: &Network, layer: &Layer, q: Option<&QuantizedTensor>) -> Footprint {
    let activation_bits = layer.quant.activation_bits;
    if layer.is_act_matmul() {
        // The first operand streams, the second is the array's stationary operand: both are
        // activations at the layer's width (a decode step's KV cache, read from DRAM).
        let bytes = |t: &crate::workload::TensorId| {
            (net.tensor(*t).elements() * net.batch) as f64 * activation_bits as f64 / 8.0
        };
        return Footprint {
            input_bytes: bytes(&layer.inputs[0]),
            weight_bytes: bytes(&layer.inputs[1]),
            output_bytes: bytes(&layer.output),
            weight_bits: activation_bits,
            activation_bits,
            accumulator_bits: arch.pe.accumulator_bits,
        };
    }
    let weight_bits = layer.quant.scheme.weight_bits();
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
    // A zero-skipping PE's offline index is stored and moved beside the codes: one index per
    // weight the PE's schedule takes (the zeros are skipped offline, not stored twice).
    let indexed = match (arch.pe.layer_cost(&layer.quant), q) {
        (Ok(c), Some(q)) if c.uses_skip_index() => {
            let k = q.shape[1..].iter().product::<u64>() as usize;
            let kpp = arch.pe.k_per_pe() as usize;
            q.codes
                .chunks(k.max(1))
                .map(|f| c.indexed_weights(f, kpp))
                .sum::<u64>()
        }
        _ => 0,
    };
    let weight_bytes = weight_bytes + indexed as f64 * arch.pe.datapath().index_bits as f64 / 8.0;
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
    /// The PE kind's cost model for the layer's scheme.
    pub cost: Box<dyn StepCost>,
    pub codes: Option<&'a QuantizedTensor>,
    /// Filters per conv group (N) and reduction length (K) per filter.
    pub n: u64,
    pub k: u64,
    /// Steps each fold streams (T).
    pub t: u64,
    /// K indices one PE covers, and how many such chunks a filter has.
    pub k_per_pe: u64,
    pub k_chunks: u64,
    /// Widths the buffer ports move for this layer.
    pub port_bits: folds::PortBits,
}

impl<'a> LayerPlan<'a> {
    pub fn new(
        arch: &Arch,
        layer: &Layer,
        gemm: Gemm,
        codes: Option<&'a QuantizedTensor>,
    ) -> Result<Self> {
        let cost = if layer.is_act_matmul() {
            arch.pe.dynamic_cost(layer.quant.activation_bits)
        } else {
            arch.pe.layer_cost(&layer.quant)
        }
        .map_err(|why| Error::Unsupported(format!("layer `{}`: {why}", layer.name)))?;
        if cost.needs_codes() && codes.is_none() {
            return Err(Error::Unsupported(format!(
                "layer `{}`: pe.kind = \"{}\" with scheme `{}` needs the layer's quantized weights",
                layer.name,
                arch.pe.kind.as_str(),
                layer.quant.scheme.name()
            )));
        }
        let k_per_pe = if arch.dataflow == Dataflow::Ws {
            arch.pe.k_per_pe()
        } else {
            1
        };
        let map = systolic::mapping(arch.dataflow, &gemm);
        let index_bits = if cost.uses_skip_index() {
            arch.pe.datapath().index_bits
        } else {
            0
        };
        let stationary_bits = if layer.is_act_matmul() {
            layer.quant.activation_bits
        } else {
            layer.quant.scheme.weight_bits()
        };
        let port_bits = folds::PortBits {
            activation: layer.quant.activation_bits as u64,
            weight: (stationary_bits + index_bits) as u64,
            psum: arch.pe.accumulator_bits as u64,
        };
        Ok(LayerPlan {
            gemm,
            cost,
            codes,
            n: gemm.n,
            k: gemm.k,
            t: map.t,
            k_per_pe,
            k_chunks: gemm.k.div_ceil(k_per_pe),
            port_bits,
        })
    }

    /// What fold (`rf`, `cf`) asks of the buffer ports.
    pub fn fold_demand(&self, arch: &Arch, rf: usize, cf: usize) -> folds::PortDemand {
        let (rows, cols) = (arch.rows as u64, arch.cols as u64);
        // The fold's rows hold whole chunks, but for the layer's last chunk, which may be
        // short.
        let first = rf as u64 * rows;
        let used = self.k_chunks.saturating_sub(first).min(rows);
        let holds_last = used > 0 && first + used == self.k_chunks;
        let held = if holds_last {
            let last = (self.k - (self.k_chunks - 1) * self.k_per_pe).min(self.k_per_pe);
            [(used - 1, self.k_per_pe), (1, last)]
        } else {
            [(used, self.k_per_pe), (0, 0)]
        };
        let cols_active = (self.n - cf as u64 * cols).min(cols);
        folds::PortDemand::of_rows(arch, &held, cols_active, rf > 0, self.port_bits)
    }

    /// What the PE holding chunk `chunk` of filter `filter` (global filter index) holds.
    fn held(&self, arch: &Arch, chunk: u64, filter: usize) -> (StepContext, PeWeights<'a>) {
        let lanes = arch.pe.lanes;
        let w = PeWeights {
            codes: self.codes.map(|q| q.filter_codes(filter)),
            group_bits: self.codes.and_then(|q| q.filter_group_bits(filter)),
            group_prefix: self
                .codes
                .filter(|q| {
                    self.cost.reads_group_prefix()
                        && q.groups.as_ref().is_some_and(|g| g.group_size == lanes)
                })
                .and_then(|q| q.group_prefix())
                .map(|p| (p, filter)),
            k: self.k,
            k0: chunk * self.k_per_pe,
        };
        let ctx = StepContext {
            lanes: arch.pe.lanes as u64,
            slots: arch.pe.weights_per_lane as u64,
            lane_scope: arch.sync_scope == crate::arch::SyncScope::Lane,
            skip: arch.pe.skip,
        };
        (ctx, w)
    }

    /// Cost of the PE holding chunk `chunk` of filter `filter` (global filter index).
    pub fn pe_step(&self, arch: &Arch, chunk: u64, filter: usize) -> PeStep {
        let (ctx, w) = self.held(arch, chunk, filter);
        crate::pe::pe_step(self.cost.as_ref(), &ctx, &w)
    }

    /// Cost of that PE on one step whose activations have magnitudes `acts` (kinds that read
    /// activation values).
    pub fn activation_step(&self, arch: &Arch, chunk: u64, filter: usize, acts: &[u16]) -> PeStep {
        let (ctx, w) = self.held(arch, chunk, filter);
        crate::pe::finish(
            self.cost
                .activation_step(&ctx, &w, acts)
                .expect("kinds that read activations model their steps from them"),
        )
    }

    /// Cycles of each occupied slot of that PE's step (brick lock-step).
    pub fn slot_cycles(&self, arch: &Arch, chunk: u64, filter: usize) -> Vec<u64> {
        let (ctx, w) = self.held(arch, chunk, filter);
        self.cost.slot_cycles(&ctx, &w)
    }
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

/// Output- and input-stationary layers: buffer words from the element counts (an access
/// moves whole words), and the cycles by which the slowest port exceeds the compute time.
fn unit_cost_ports(
    arch: &Arch,
    gemm: &Gemm,
    ft: &FoldTiming,
    fp: &Footprint,
    sums: &mut folds::FoldSums,
) {
    let t = memory::traffic(arch, gemm, ft, fp, sums.compute_cycles);
    let words = |elems: u64, bits: u32, b: &crate::arch::Buffer| {
        (elems * bits as u64).div_ceil(b.word_bits as u64)
    };
    let (ib, wb, ob) = (&arch.input_buffer, &arch.weight_buffer, &arch.output_buffer);
    let w = folds::BufferWords {
        input_read: words(t.input_buffer_reads, fp.activation_bits, ib),
        weight_read: words(t.weight_buffer_reads, fp.weight_bits, wb),
        output_write: words(t.output_buffer_writes, fp.accumulator_bits, ob),
        output_read: words(t.output_buffer_reads, fp.accumulator_bits, ob),
    };
    let need = folds::port_cycles(w.input_read, ib.read_words_per_cycle)
        .max(folds::port_cycles(w.weight_read, wb.read_words_per_cycle))
        .max(folds::port_cycles(w.output_write, ob.write_words_per_cycle))
        .max(folds::port_cycles(w.output_read, ob.read_words_per_cycle));
    sums.sram_stall_cycles = need.saturating_sub(sums.compute_cycles);
    sums.words = w;
}

/// One layer of `net` on `arch`, from its codes when its cost depends on them; its vector
/// time is exposed by [`finish`], which needs every layer.
pub fn simulate_layer(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> Result<LayerResult> {
    let output_elements = net.tensor(layer.output).elements() * net.batch;
    let op = layer.op.kind().as_str();
    let vector = vector::layer_work(arch, net, layer, codes);
    let Some(gemm) = layer.gemm(net) else {
        // Elementwise and pooling layers run on the vector unit, not the array; an
        // embedding reads its rows from DRAM.
        let traffic = match layer.op {
            crate::workload::Op::Embedding { .. } => {
                memory::lookup(arch, output_elements, layer.quant.activation_bits)
            }
            _ => Traffic::default(),
        };
        let unit = match layer.op {
            crate::workload::Op::Embedding { .. } => "dram",
            ref o if o.is_view() || vector.cycles == 0 => "view",
            _ => "vector",
        };
        return Ok(LayerResult {
            name: layer.name.clone(),
            op,
            unit,
            gemm: None,
            timing: None,
            macs: 0,
            compute_cycles: 0,
            imbalance_cycles: 0,
            sram_stall_cycles: 0,
            memory_stall_cycles: traffic.memory_stall_cycles,
            traffic,
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
    // A matmul of two activations: nothing of its stationary operand is known offline, and
    // its streamed operand's zeros and magnitudes are not modelled (full-width steps).
    let dynamic = layer.is_act_matmul();
    let sums = if dynamic {
        folds::fold_loop(arch, &plan, &ft)
    } else if arch.pe.skip_zero_activations {
        let mask = activations::layer_mask(net, layer).expect("weight layers have a GEMM input");
        folds::fold_loop_skipping(arch, &plan, &ft, &mask)
    } else if arch.pe.reads_activations() && arch.dataflow == Dataflow::Ws {
        let values =
            activations::layer_values(net, layer).expect("weight layers have a GEMM input");
        folds::fold_loop_values(arch, &plan, &ft, &values)
    } else {
        folds::fold_loop(arch, &plan, &ft)
    };
    let mut sums = sums;
    if arch.dataflow != Dataflow::Ws {
        unit_cost_ports(arch, &gemm, &ft, &fp, &mut sums);
    }
    let mut traffic = memory::traffic(
        arch,
        &gemm,
        &ft,
        &fp,
        sums.compute_cycles + sums.sram_stall_cycles,
    );
    traffic.words = sums.words;
    Ok(LayerResult {
        name: layer.name.clone(),
        op,
        unit: if dynamic { "array_act" } else { "array" },
        gemm: Some(gemm),
        timing: Some(ft),
        macs: gemm.macs(),
        compute_cycles: sums.compute_cycles,
        imbalance_cycles: sums.imbalance_cycles,
        sram_stall_cycles: sums.sram_stall_cycles,
        memory_stall_cycles: traffic.memory_stall_cycles,
        traffic,
        actions: sums.actions,
        bits: LayerBits {
            weight_bits: fp.weight_bits,
            activation_bits: fp.activation_bits,
            weight_reg_bits: plan.cost.weight_reg_bits(fp.weight_bits),
            weight_storage_bits: fp.weight_bytes * 8.0
                / gemm.k as f64
                / (gemm.n * gemm.groups) as f64,
        },
        vector,
        output_elements,
    })
}
