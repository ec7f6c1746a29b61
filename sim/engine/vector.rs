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
//! | matmul of two activations (rescale by both operands' scales) | 1 | 0 |
//! | `gelu` (I-BERT's i-GELU) | 2 | 8 |
//! | `silu` (x / (1 + exp(-x)): i-exp, an add, a reciprocal, a multiply) | 8 | 8 |
//! | `relu2` (compare, square) | 1 | 1 |
//! | `mul` | 1 | 0 |
//! | `sub` | 0 | 1 |
//! | `div` (a reciprocal and a multiply) | 5 | 2 |
//! | `add`, `sub`, `mul` with a constant `scalar` | as above | |
//! | `div` by a constant `scalar` (its reciprocal made offline) | 1 | 0 |
//! | `clip` (a compare per bound) | 0 | 2 |
//! | `hard_sigmoid` (`alpha x + beta`, two compares) | 1 | 3 |
//! | `hard_swish` (hard sigmoid with constant `alpha`, `beta`, then `x *`) | 2 | 3 |
//! | `sigmoid` (i-exp, an add, a reciprocal) | 7 | 8 |
//! | `rope` (x cos + rotate(x) sin) | 2 | 1 |
//! | `softmax`, per element: subtract the row's max, i-exp, sum, scale by 1 / sum | 4 | 8 |
//! | `softmax`, per row: the reciprocal of the sum | 4 | 2 |
//! | `layer_norm`, per element: sum, subtract the mean, square, sum, normalize, gamma, beta | 3 | 4 |
//! | `layer_norm`, per row: mean, variance, + eps, 1 / sqrt | 8 | 3 |
//! | `rms_norm`, per element: square, sum, normalize, gamma | 3 | 1 |
//! | `rms_norm`, per row: mean, + eps, 1 / sqrt | 7 | 3 |
//! | `embedding`, `concat`, `reshape`, `transpose`, `slice` | 0 | 0 |
//!
//! Special functions are counted as the multiplies and adds of the integer algorithms a
//! low-precision vector unit runs (and also counted on their own, `exps` and `divides`):
//! - **exp**: I-BERT's i-exp (Kim et al., "I-BERT: Integer-only BERT Quantization", ICML 2021,
//!   Algorithm 2): clip (1 compare), `q = floor(x / -ln2)` (1 multiply by a constant),
//!   `r = x + q ln2` (1 multiply, 1 add), the second-order polynomial `(r + b) r + c`
//!   (1 multiply, 2 adds), the shift by `q` (1): **3 multiplies, 5 adds**.
//! - **GELU**: I-BERT's i-GELU (Algorithm 3): sign, |x|, clip (3), the erf polynomial
//!   (1 multiply, 2 adds), the sign back (1), `1 + erf` (1), `x (1 + erf)` (1 multiply), the
//!   halving shift (1): **2 multiplies, 8 adds**.
//! - **reciprocal** and **1 / sqrt**: Newton-Raphson from a seed table (Oberman & Flynn,
//!   "Division Algorithms and Implementations", IEEE Trans. Computers 46(8), 1997), two
//!   iterations to 8-bit-plus accuracy: `y (2 - x y)` is 2 multiplies and 1 add per iteration,
//!   `y (1.5 - 0.5 x y^2)` 3 multiplies and 1 add: **4 multiplies, 2 adds** and
//!   **6 multiplies, 2 adds**.
//!
//! A weight layer quantized with `ternary_absmean` takes its input as BitNet b1.58 does, 8-bit
//! per token at run time: per row of the GEMM input one compare per element (the absmax)
//! and a reciprocal.
//!
//! Row operations (softmax and the norms run over the last axis) take `ceil(n / lanes)`
//! cycles per element operation and one cycle per per-row operation, for each row.
//!
//! Operations run in the vector unit's format (`[vector] precision`), except quantized batch
//! norm, which runs in integers of the layer's activation width. The unit processes `lanes`
//! elements per cycle, one operation each: a layer takes ceil(elements / lanes) x ops cycles.
//! With `overlap`, vector cycles hide behind the array: a weight layer's own rescaling, and
//! the elementwise layers that follow it, use up the weight layer's array cycles before any
//! cycle shows; without it, every vector cycle adds to the total.

use crate::arch::{Arch, VectorPrecision};
use crate::quant::QuantizedTensor;
use crate::workload::{Arith, BatchNormMode, Layer, Network, Op};

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
    /// Of the operations above, exponentials (softmax, SiLU) and divisions (reciprocals and
    /// reciprocal square roots), each counted once.
    pub exps: u64,
    pub divides: u64,
}

/// A layer's vector operations: per element, and per row of `row` elements.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct OpCounts {
    mults: u64,
    adds: u64,
    row_mults: u64,
    row_adds: u64,
    /// Row length (1 for elementwise ops).
    row: u64,
    exps: u64,
    row_divides: u64,
    divides: u64,
}

impl OpCounts {
    fn each(mults: u64, adds: u64) -> Self {
        OpCounts {
            mults,
            adds,
            row: 1,
            ..Default::default()
        }
    }
}

/// Multiplies and adds of the special functions (see the module docs).
const EXP: (u64, u64) = (3, 5);
const RECIPROCAL: (u64, u64) = (4, 2);
const RSQRT: (u64, u64) = (6, 2);

/// Operations of one layer and the format they run in.
fn ops(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> (OpCounts, VectorPrecision) {
    let p = arch.vector.precision;
    let each = OpCounts::each;
    let c = match layer.op {
        Op::Conv2d(_) | Op::Linear { .. } | Op::Matmul { .. } => {
            let absorbed = codes.is_some_and(|q| q.scale_absorbed);
            each(u64::from(!absorbed), 0)
        }
        Op::ActMatmul(_) => each(1, 0),
        Op::BatchNorm => match net.batch_norm {
            BatchNormMode::Separate => each(1, 1),
            BatchNormMode::Folded => each(0, 0),
            BatchNormMode::Quantized => {
                return (
                    each(1, 1),
                    VectorPrecision::Int(layer.quant.activation_bits.max(2)),
                )
            }
        },
        Op::Relu => each(0, 1),
        Op::Prelu | Op::Requantize => each(1, 1),
        Op::Add => each(0, 1),
        Op::MaxPool(pl) => each(0, pl.kernel.0 * pl.kernel.1 - 1),
        Op::AvgPool(pl) => each(1, pl.kernel.0 * pl.kernel.1 - 1),
        Op::PadChannels | Op::Embedding { .. } => each(0, 0),
        Op::Concat | Op::Reshape | Op::Transpose | Op::Slice { .. } => each(0, 0),
        Op::Clip { min, max } => each(0, min.is_some() as u64 + max.is_some() as u64),
        Op::HardSigmoid { .. } => each(1, 3),
        Op::HardSwish => each(2, 3),
        Op::Sigmoid => OpCounts {
            exps: 1,
            divides: 1,
            ..each(EXP.0 + RECIPROCAL.0, EXP.1 + RECIPROCAL.1 + 1)
        },
        Op::Sub => each(0, 1),
        Op::Div => OpCounts {
            divides: 1,
            ..each(RECIPROCAL.0 + 1, RECIPROCAL.1)
        },
        // A constant divisor is its reciprocal, made once offline: one multiply. A constant
        // dividend (`c / x`) needs the reciprocal of every element.
        Op::Scalar { arith, left, .. } => match arith {
            Arith::Add | Arith::Sub => each(0, 1),
            Arith::Mul => each(1, 0),
            Arith::Div if !left => each(1, 0),
            Arith::Div => OpCounts {
                divides: 1,
                ..each(RECIPROCAL.0 + 1, RECIPROCAL.1)
            },
        },
        Op::Gelu => each(2, 8),
        Op::Silu => OpCounts {
            exps: 1,
            divides: 1,
            ..each(EXP.0 + RECIPROCAL.0 + 1, EXP.1 + RECIPROCAL.1 + 1)
        },
        Op::Relu2 => each(1, 1),
        Op::Mul => each(1, 0),
        Op::Rope => each(2, 1),
        Op::Softmax { n } => OpCounts {
            mults: EXP.0 + 1,
            adds: EXP.1 + 3,
            row_mults: RECIPROCAL.0,
            row_adds: RECIPROCAL.1,
            row: n,
            exps: 1,
            row_divides: 1,
            divides: 0,
        },
        Op::LayerNorm { n } => OpCounts {
            mults: 3,
            adds: 4,
            row_mults: 2 + RSQRT.0,
            row_adds: 1 + RSQRT.1,
            row: n,
            row_divides: 1,
            ..Default::default()
        },
        Op::RmsNorm { n } => OpCounts {
            mults: 3,
            adds: 1,
            row_mults: 1 + RSQRT.0,
            row_adds: 1 + RSQRT.1,
            row: n,
            row_divides: 1,
            ..Default::default()
        },
    };
    (c, p)
}

/// Vector work of every layer (exposed cycles not yet decided).
pub fn layer_work(
    arch: &Arch,
    net: &Network,
    layer: &Layer,
    codes: Option<&QuantizedTensor>,
) -> VectorWork {
    let out = net.tensor(layer.output).elements() * net.batch;
    let (c, precision) = ops(arch, net, layer, codes);
    if c.mults + c.adds + c.row_mults + c.row_adds == 0 {
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
    let lanes = arch.vector.lanes as u64;
    let rows = out / c.row.max(1);
    let cycles = if c.row <= 1 {
        out.div_ceil(lanes) * (c.mults + c.adds)
    } else {
        rows * (c.row.div_ceil(lanes) * (c.mults + c.adds) + c.row_mults + c.row_adds)
    };
    let mut w = VectorWork {
        mults: c.mults * out + c.row_mults * rows,
        adds: c.adds * out + c.row_adds * rows,
        elements_in,
        elements_out: out,
        cycles,
        exposed_cycles: 0,
        precision: Some(precision),
        exps: c.exps * out,
        divides: c.divides * out + c.row_divides * rows,
    };
    if let Some(t) = per_token_quantization(net, layer) {
        w.adds += t.adds;
        w.mults += t.mults;
        w.divides += t.divides;
        w.elements_in += t.elements_in;
        w.cycles += t.cycles_per_lanes(lanes);
    }
    w
}

/// The input of a weight layer quantized per token at run time (BitNet b1.58's 8-bit
/// absmax activations, `ternary_absmean`): each row of the GEMM input finds its largest
/// magnitude (one compare per element) and the reciprocal of it (per row); the multiply and
/// rounding that follow take the place of the static requantization the previous layer's
/// rescale already pays for.
struct PerToken {
    rows: u64,
    row: u64,
    adds: u64,
    mults: u64,
    divides: u64,
    elements_in: u64,
}

impl PerToken {
    fn cycles_per_lanes(&self, lanes: u64) -> u64 {
        self.rows * (self.row.div_ceil(lanes) + RECIPROCAL.0 + RECIPROCAL.1)
    }
}

fn per_token_quantization(net: &Network, layer: &Layer) -> Option<PerToken> {
    if layer.quant.scheme != crate::quant::Scheme::TernaryAbsmean || layer.weight_shape().is_none()
    {
        return None;
    }
    let g = layer.gemm(net)?;
    let elements = net.tensor(layer.inputs[0]).elements() * net.batch;
    let rows = g.m.max(1);
    let row = elements.div_ceil(rows);
    Some(PerToken {
        rows,
        row,
        adds: rows * row + rows * RECIPROCAL.1,
        mults: rows * RECIPROCAL.0,
        divides: rows,
        elements_in: rows * row,
    })
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
