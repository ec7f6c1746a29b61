//! The elementwise (vector) unit: what batch norm, activations, requantization scaling,
//! residual adds and pooling cost in operations and cycles (PikeLPN's point: in
//! low-precision networks these unquantized operations are not free).
//!
//! Operations per element:
//!
//! | layer | multiplies | adds / compares |
//! |---|---|---|
//! | weight layer output (rescale by the filter's scale, unless absorbed by batch norm) | 1 | 0 |
//! | `batch_norm` separate / quantized | 1 | 1 |
//! | `batch_norm` folded | 0 | 0 |
//! | `relu` | 0 | 1 (compare) |
//! | `prelu` | 1 | 1 |
//! | `requantize` | 1 | 1 (round) |
//! | `add` | 0 | 1 |
//! | `max_pool` (per output) | 0 | kh x kw - 1 |
//! | `avg_pool` (per output) | 1 | kh x kw - 1 |
//! | `pad_channels` | 0 | 0 |
//!
//! Operations run in the vector unit's format (`[vector] precision`), except quantized batch
//! norm, which runs in integers of the layer's activation width. The unit processes `lanes`
//! elements per cycle, one operation each: a layer takes ceil(elements / lanes) x ops cycles.
//! With `overlap`, vector cycles hide behind the array: a weight layer's own rescaling, and
//! the elementwise layers that follow it, use up the weight layer's array cycles before any
//! cycle shows; without it, every vector cycle adds to the total.

use crate::arch::{Arch, VectorPrecision};
use crate::quant::QuantizedTensor;
use crate::workload::{BatchNormMode, Layer, Network, Op};

/// Vector-unit work of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VectorWork {
    pub mults: u64,
    /// Adds, subtracts and compares.
    pub adds: u64,
    /// Elements read and written by the unit.
    pub elements_in: u64,
    pub elements_out: u64,
    pub cycles: u64,
    /// Cycles that add to the layer's total (not hidden behind the array).
    pub exposed_cycles: u64,
    /// Format the operations run in (None when the layer does no vector work).
    pub precision: Option<VectorPrecision>,
}

/// Operations per element (multiplies, adds) and the format of one layer.
fn ops(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> (u64, u64, VectorPrecision) {
    let p = arch.vector.precision;
    match layer.op {
        Op::Conv2d(_) | Op::Linear { .. } | Op::Matmul { .. } => {
            let absorbed = codes.is_some_and(|q| q.scale_absorbed);
            (u64::from(!absorbed), 0, p)
        }
        Op::BatchNorm => match net.batch_norm {
            BatchNormMode::Separate => (1, 1, p),
            BatchNormMode::Folded => (0, 0, p),
            BatchNormMode::Quantized => (
                1,
                1,
                VectorPrecision::Int(layer.quant.activation_bits.max(2)),
            ),
        },
        Op::Relu => (0, 1, p),
        Op::Prelu | Op::Requantize => (1, 1, p),
        Op::Add => (0, 1, p),
        Op::MaxPool(pl) => (0, pl.kernel.0 * pl.kernel.1 - 1, p),
        Op::AvgPool(pl) => (1, pl.kernel.0 * pl.kernel.1 - 1, p),
        Op::PadChannels => (0, 0, p),
    }
}

/// Vector work of every layer (exposed cycles not yet decided).
pub fn layer_work(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> VectorWork {
    let out = net.tensor(layer.output).elements() * net.batch;
    let (m, a, precision) = ops(arch, net, layer, codes);
    if m + a == 0 {
        return VectorWork::default();
    }
    let elements_in: u64 = if layer.gemm(net).is_some() {
        out
    } else {
        layer
            .inputs
            .iter()
            .map(|t| net.tensor(*t).elements())
            .sum::<u64>()
            * net.batch
    };
    VectorWork {
        mults: m * out,
        adds: a * out,
        elements_in,
        elements_out: out,
        cycles: out.div_ceil(arch.vector.lanes as u64) * (m + a),
        exposed_cycles: 0,
        precision: Some(precision),
    }
}

/// Decide which vector cycles show, walking the layers in topological order. `array_cycles[i]`
/// is layer i's array time (compute plus memory stalls).
pub fn expose(arch: &Arch, work: &mut [VectorWork], array_cycles: &[u64]) {
    let mut budget = 0u64;
    for (w, &array) in work.iter_mut().zip(array_cycles) {
        if !arch.vector.overlap {
            w.exposed_cycles = w.cycles;
            continue;
        }
        if array > 0 {
            // A weight layer: its own rescaling runs under its array cycles first.
            budget = array;
        }
        let hidden = w.cycles.min(budget);
        budget -= hidden;
        w.exposed_cycles = w.cycles - hidden;
    }
}
