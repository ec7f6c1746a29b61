//! The cycle engine: per-layer cycles, utilization, buffer and DRAM traffic.
//!
//! Pure and deterministic: layers are simulated in parallel (rayon) but collected in
//! topological order, and nothing here depends on the thread count.

pub mod memory;
pub mod systolic;

use rayon::prelude::*;

use crate::arch::{Arch, PeKind};
use crate::error::{Error, Result};
use crate::workload::{Layer, Network, Op};

use memory::{Footprint, Traffic};
use systolic::FoldTiming;

/// What the engine computed for one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerResult {
    pub name: String,
    pub op: &'static str,
    /// The GEMM for conv/linear/matmul layers; None for elementwise/pooling layers.
    pub gemm: Option<crate::workload::Gemm>,
    pub timing: Option<FoldTiming>,
    pub macs: u64,
    /// Array busy cycles, fill and drain included.
    pub compute_cycles: u64,
    /// Cycles the array waits for DRAM.
    pub memory_stall_cycles: u64,
    pub traffic: Traffic,
    /// Elements the layer produces (for elementwise and pooling layers).
    pub output_elements: u64,
}

impl LayerResult {
    pub fn total_cycles(&self) -> u64 {
        self.compute_cycles + self.memory_stall_cycles
    }

    /// Fraction of PE-cycles doing a useful MAC over the layer's total cycles.
    pub fn utilization(&self, arch: &Arch) -> f64 {
        let total = self.total_cycles();
        if total == 0 {
            0.0
        } else {
            self.macs as f64 / (total as f64 * arch.pes() as f64)
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
    pub fn memory_stall_cycles(&self) -> u64 {
        self.layers.iter().map(|l| l.memory_stall_cycles).sum()
    }
    pub fn macs(&self) -> u64 {
        self.layers.iter().map(|l| l.macs).sum()
    }
    pub fn utilization(&self, arch: &Arch) -> f64 {
        let total = self.total_cycles();
        if total == 0 {
            0.0
        } else {
            self.macs() as f64 / (total as f64 * arch.pes() as f64)
        }
    }
    pub fn latency_us(&self, arch: &Arch) -> f64 {
        self.total_cycles() as f64 / arch.clock_mhz
    }
}

/// Simulate every layer of `net` on `arch`.
pub fn simulate(arch: &Arch, net: &Network) -> Result<RunResult> {
    if arch.pe.kind != PeKind::Dense {
        return Err(Error::Unsupported(format!(
            "pe.kind = \"{}\" is not modelled by this engine yet; use \"dense\"",
            arch.pe.kind.as_str()
        )));
    }
    let layers = net
        .layers
        .par_iter()
        .map(|layer| simulate_layer(arch, net, layer))
        .collect::<Result<Vec<_>>>()?;
    Ok(RunResult {
        arch_name: arch.name.clone(),
        workload_name: net.name.clone(),
        layers,
    })
}

fn footprint(arch: &Arch, net: &Network, layer: &Layer) -> Footprint {
    let weight_bits = layer.quant.scheme.weight_bits();
    let activation_bits = layer.quant.activation_bits;
    let input_elems: u64 = layer
        .inputs
        .iter()
        .map(|t| net.tensor(*t).elements())
        .sum::<u64>()
        * net.batch;
    let output_elems = net.tensor(layer.output).elements() * net.batch;
    let weight_elems: u64 = layer.weight_shape().map_or(0, |s| s.iter().product());
    Footprint {
        input_bytes: input_elems as f64 * activation_bits as f64 / 8.0,
        weight_bytes: weight_elems as f64 * weight_bits as f64 / 8.0,
        output_bytes: output_elems as f64 * activation_bits as f64 / 8.0,
        weight_bits,
        activation_bits,
        accumulator_bits: arch.pe.accumulator_bits,
    }
}

fn simulate_layer(arch: &Arch, net: &Network, layer: &Layer) -> Result<LayerResult> {
    let output_elements = net.tensor(layer.output).elements() * net.batch;
    let op = layer.op.kind().as_str();
    let Some(gemm) = layer.gemm(net) else {
        // Elementwise and pooling layers do not use the array (see the elementwise unit).
        return Ok(LayerResult {
            name: layer.name.clone(),
            op,
            gemm: None,
            timing: None,
            macs: 0,
            compute_cycles: 0,
            memory_stall_cycles: 0,
            traffic: Traffic::default(),
            output_elements,
        });
    };
    debug_assert!(matches!(
        layer.op,
        Op::Conv2d(_) | Op::Linear { .. } | Op::Matmul { .. }
    ));
    let fp = footprint(arch, net, layer);
    let (r, c) = (arch.rows as u64, arch.cols as u64);
    let ft = systolic::fold_timing(arch.dataflow, r, c, &gemm);
    let compute_cycles = ft.folds * ft.fold_cycles;
    let traffic = memory::traffic(arch, &gemm, &ft, &fp, compute_cycles);
    Ok(LayerResult {
        name: layer.name.clone(),
        op,
        gemm: Some(gemm),
        timing: Some(ft),
        macs: gemm.macs(),
        compute_cycles,
        memory_stall_cycles: traffic.memory_stall_cycles,
        traffic,
        output_elements,
    })
}
