//! Workload description: a DAG of layers over named tensors.
//!
//! [`RawWorkload`] mirrors the JSON file ([`raw`]); [`validate_workload`] ([`validate`]) turns it
//! into a [`Network`]: layers in topological order ([`graph`]), shapes inferred and checked
//! ([`shapes`]), quantization resolved by the one quantization validator
//! ([`crate::quant::resolve_quant`]), or reports every problem with the layer and tensor it
//! concerns. [`transformer`] writes transformer workloads from published model configs. Pure: no
//! file access.

use petgraph::graph::DiGraph;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::quant::spec::{QuantSpec, Scheme};

pub mod graph;
pub mod raw;
pub mod shapes;
pub mod transformer;
pub mod validate;

pub use raw::{
    BnNames, OpKind, Pair, Phase, RawActivations, RawDefaults, RawInputTransform, RawLayer,
    RawParams, RawSequence, RawSynthetic, RawWeights, RawWorkload,
};
pub use validate::validate_workload;

/// Index of a layer in [`Network::layers`] (topological order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerId(pub u32);

/// Index of a tensor in [`Network::tensors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub u32);

/// How batch-norm layers run on the elementwise unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchNormMode {
    /// One multiply and one add per element in the vector unit's format.
    #[default]
    Separate,
    /// Folded into the preceding layer's weights and scales: free.
    Folded,
    /// Parameters quantized to the layer's activation width (QuantNorm-style): integer ops.
    Quantized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    Laplace,
    Gaussian,
}

/// Where a layer's float weights come from.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightSource {
    /// Seeded random weights; `scale` is the standard deviation (None: He-style sqrt(2 / fan_in)).
    Synthetic {
        distribution: Distribution,
        seed: u64,
        scale: Option<f64>,
    },
    /// A named tensor in an .npz/.npy/.safetensors file; the path is as written in the workload.
    File { path: String, tensor: String },
}

/// A layer's input activations as activation-side PE variants see them: statistics to draw
/// a zero pattern from, or a tensor file to read it from.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationStats {
    pub zero_density: f64,
    pub seed: u64,
    /// `(file as written, tensor)`: the real activations, when given.
    pub file: Option<(String, String)>,
    /// Non-zero flags of the input tensor (batch included), once the IO edge has read the
    /// file; the engine uses them instead of the statistics.
    pub nonzero: Option<std::sync::Arc<Vec<bool>>>,
    /// Magnitudes `|code|` of the input activations (batch included), from a functional run
    /// on real inputs: what PEs serial in the activations' bits spend their cycles on.
    pub values: Option<std::sync::Arc<Vec<u16>>>,
}

/// A layer's parameters besides its weights: tensors named in a file (the path as written,
/// relative to the workload). Only functional runs (`--inputs`) read them.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSource {
    pub file: String,
    pub keys: ParamKeys,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamKeys {
    /// A conv/linear/matmul bias, one value per output channel.
    Bias(String),
    /// Batch norm: `<prefix>.` + gamma, beta, mean and variance names, and epsilon.
    BatchNorm {
        prefix: String,
        eps: f64,
        names: BnNames,
    },
    /// PReLU: one slope per channel (or one for all).
    Slope(String),
}

/// How a raw image becomes the network input: resize the shorter side to `resize` (bilinear),
/// crop the centre `crop` x `crop`, then `x = (pixel * scale - mean[c]) / std[c]` per channel
/// (pixels 0..=255).
#[derive(Debug, Clone, PartialEq)]
pub struct InputTransform {
    pub scale: f64,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub resize: Option<u64>,
    pub crop: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv {
    pub in_channels: u64,
    pub out_channels: u64,
    pub kernel: (u64, u64),
    pub stride: (u64, u64),
    pub padding: (u64, u64),
    pub dilation: (u64, u64),
    pub groups: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    pub kernel: (u64, u64),
    pub stride: (u64, u64),
    pub padding: (u64, u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Conv2d(Conv),
    /// Fully connected: the input is flattened to `in_features`.
    Linear {
        in_features: u64,
        out_features: u64,
    },
    /// `[M, K] x [K, N]`.
    Matmul {
        m: u64,
        k: u64,
        n: u64,
    },
    /// Two activation tensors multiplied per head on the array (attention's `Q K^T` and
    /// `P V`): neither operand has weights.
    ActMatmul(ActMatmul),
    MaxPool(Pool),
    AvgPool(Pool),
    BatchNorm,
    Relu,
    Prelu,
    Requantize,
    Add,
    PadChannels,
    /// Softmax over rows of `n` elements (the last axis).
    Softmax {
        n: u64,
    },
    /// Layer norm over rows of `n` elements (the last axis).
    LayerNorm {
        n: u64,
    },
    /// RMS norm over rows of `n` elements (the last axis).
    RmsNorm {
        n: u64,
    },
    Gelu,
    Silu,
    Relu2,
    Mul,
    Rope,
    /// Views: the data stays where it is (the producers write their parts in place).
    Concat,
    Reshape,
    Transpose,
    /// Every `step`-th index of `axis` (of the per-sample shape) from `start`.
    Slice {
        axis: u32,
        start: u64,
        step: u64,
    },
    /// `min(max(x, min), max)`; an absent bound is no bound.
    Clip {
        min: Option<Real>,
        max: Option<Real>,
    },
    /// `max(0, min(1, alpha x + beta))`.
    HardSigmoid {
        alpha: Real,
        beta: Real,
    },
    /// `x * max(0, min(1, x / 6 + 1 / 2))`.
    HardSwish,
    Sigmoid,
    /// Elementwise difference and quotient of two tensors, with broadcasting.
    Sub,
    Div,
    /// One tensor and a constant: `x + c`, `x - c` (or `c - x`), `x * c`, `x / c` (or `c / x`).
    Scalar {
        arith: Arith,
        value: Real,
        left: bool,
    },
    /// A lookup of rows of `dim` elements in a `vocab`-row table held in DRAM.
    Embedding {
        vocab: u64,
        dim: u64,
    },
}

/// An f64 held by its bits, so ops carrying constants stay `Eq` (they are compared, never
/// ordered or hashed by value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Real(u64);

impl Real {
    pub fn new(v: f64) -> Self {
        Real(v.to_bits())
    }

    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// The arithmetic of an elementwise op with a constant operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

impl Arith {
    /// `x op c` (or `c op x` when `left`).
    pub fn apply(self, x: f64, c: f64, left: bool) -> f64 {
        let (a, b) = if left { (c, x) } else { (x, c) };
        match self {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
        }
    }
}

/// `[H, M, K] x [H_kv, K, N]` (or `[H_kv, N, K]` with `transpose_b`): each query head `h`
/// multiplies with head `h / (H / H_kv)` of the second operand (grouped-query attention when
/// `H_kv < H`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActMatmul {
    pub heads: u64,
    pub kv_heads: u64,
    pub m: u64,
    pub k: u64,
    pub n: u64,
    pub transpose_b: bool,
}

/// A sequence model's inference: which phase, and the tokens it processes and attends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sequence {
    pub phase: Phase,
    /// Prefill: prompt tokens per sequence. Decode: 1.
    pub new_tokens: u64,
    /// Decode: tokens in the KV cache before the step (prefill: 0).
    pub context: u64,
    pub max_context: Option<u64>,
}

impl Op {
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Conv2d(_) => OpKind::Conv2d,
            Op::Linear { .. } => OpKind::Linear,
            Op::Matmul { .. } => OpKind::Matmul,
            Op::MaxPool(_) => OpKind::MaxPool,
            Op::AvgPool(_) => OpKind::AvgPool,
            Op::BatchNorm => OpKind::BatchNorm,
            Op::Relu => OpKind::Relu,
            Op::Prelu => OpKind::Prelu,
            Op::Requantize => OpKind::Requantize,
            Op::Add => OpKind::Add,
            Op::PadChannels => OpKind::PadChannels,
            Op::ActMatmul(_) => OpKind::Matmul,
            Op::Softmax { .. } => OpKind::Softmax,
            Op::LayerNorm { .. } => OpKind::LayerNorm,
            Op::RmsNorm { .. } => OpKind::RmsNorm,
            Op::Gelu => OpKind::Gelu,
            Op::Silu => OpKind::Silu,
            Op::Relu2 => OpKind::Relu2,
            Op::Mul => OpKind::Mul,
            Op::Rope => OpKind::Rope,
            Op::Concat => OpKind::Concat,
            Op::Reshape => OpKind::Reshape,
            Op::Transpose => OpKind::Transpose,
            Op::Slice { .. } => OpKind::Slice,
            Op::Clip { .. } => OpKind::Clip,
            Op::HardSigmoid { .. } => OpKind::HardSigmoid,
            Op::HardSwish => OpKind::HardSwish,
            Op::Sigmoid => OpKind::Sigmoid,
            Op::Sub => OpKind::Sub,
            Op::Div => OpKind::Div,
            Op::Scalar { arith, .. } => match arith {
                Arith::Add => OpKind::Add,
                Arith::Sub => OpKind::Sub,
                Arith::Mul => OpKind::Mul,
                Arith::Div => OpKind::Div,
            },
            Op::Embedding { .. } => OpKind::Embedding,
        }
    }

    /// Ops that only change how a tensor is viewed: no operations, no traffic.
    pub fn is_view(&self) -> bool {
        matches!(
            self,
            Op::Concat | Op::Reshape | Op::Transpose | Op::Slice { .. }
        )
    }
}

/// A GEMM a weight layer lowers to: `groups` independent `[M,K] x [K,N]` products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Gemm {
    pub m: u64,
    pub n: u64,
    pub k: u64,
    pub groups: u64,
}

impl Gemm {
    pub fn macs(&self) -> u64 {
        self.m * self.n * self.k * self.groups
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    /// Per-sample shape: `[C, H, W]` or `[M, K]` etc.
    pub shape: Vec<u64>,
    pub producer: Option<LayerId>,
}

impl Tensor {
    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    pub id: LayerId,
    pub name: String,
    pub op: Op,
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
    /// Resolved quantization (weight layers use the scheme; all layers use activation_bits).
    pub quant: QuantSpec,
    /// True when the layer's own `quant` names a scheme (a network- or design-wide default
    /// scheme does not replace it).
    pub own_scheme: bool,
    /// Weight source for conv/linear/matmul layers.
    pub weights: Option<WeightSource>,
    pub activations: ActivationStats,
    /// Bias, batch-norm or PReLU parameters, when the workload names them.
    pub params: Option<ParamSource>,
}

impl Layer {
    /// The GEMM this layer lowers to, for conv/linear/matmul (batch folded into M).
    pub fn gemm(&self, net: &Network) -> Option<Gemm> {
        let out = &net.tensors[self.output.0 as usize];
        let batch = net.batch;
        match self.op {
            Op::Conv2d(c) => Some(Gemm {
                m: batch * out.shape[1] * out.shape[2],
                n: c.out_channels / c.groups,
                k: c.kernel.0 * c.kernel.1 * (c.in_channels / c.groups),
                groups: c.groups,
            }),
            Op::Linear {
                in_features,
                out_features,
            } => Some(Gemm {
                m: batch,
                n: out_features,
                k: in_features,
                groups: 1,
            }),
            Op::Matmul { m, k, n } => Some(Gemm {
                m: batch * m,
                n,
                k,
                groups: 1,
            }),
            // One GEMM per sample and KV head: the query heads sharing a KV head stream
            // through it together, so its operand is loaded once for all of them.
            Op::ActMatmul(a) => Some(Gemm {
                m: a.heads / a.kv_heads * a.m,
                n: a.n,
                k: a.k,
                groups: batch * a.kv_heads,
            }),
            _ => None,
        }
    }

    /// The label of what the layer's array operands are: the weight scheme's, `act int8`
    /// for a matmul of two activations, empty for layers without a GEMM.
    pub fn scheme_label(&self) -> String {
        match self.op {
            Op::ActMatmul(_) => format!("act int{}", self.quant.activation_bits),
            _ if self.weight_shape().is_some() => self.quant.scheme.label(),
            _ => String::new(),
        }
    }

    /// True for a matmul of two activations (no weights; the array's stationary operand is
    /// the second input).
    pub fn is_act_matmul(&self) -> bool {
        matches!(self.op, Op::ActMatmul(_))
    }

    /// PyTorch-layout shape of the weight tensor, for weight layers.
    pub fn weight_shape(&self) -> Option<Vec<u64>> {
        match self.op {
            Op::Conv2d(c) => Some(vec![
                c.out_channels,
                c.in_channels / c.groups,
                c.kernel.0,
                c.kernel.1,
            ]),
            Op::Linear {
                in_features,
                out_features,
            } => Some(vec![out_features, in_features]),
            Op::Matmul { k, n, .. } => Some(vec![n, k]),
            _ => None,
        }
    }
}

/// A validated network: layers in topological order over shaped tensors.
#[derive(Debug, Clone)]
pub struct Network {
    pub name: String,
    pub batch: u64,
    pub batch_norm: BatchNormMode,
    /// How images become the network input (None: identity on pixels 0..=255 scaled by 1/255).
    pub input_transform: Option<InputTransform>,
    /// Prefill or decode, for sequence models (tokens/s and energy per token).
    pub sequence: Option<Sequence>,
    pub tensors: Vec<Tensor>,
    pub layers: Vec<Layer>,
    /// Producer -> consumer edges, labelled by the tensor between them.
    pub graph: DiGraph<LayerId, TensorId>,
}

impl Network {
    /// Tokens one inference processes (the whole batch), for sequence models.
    pub fn tokens(&self) -> Option<u64> {
        self.sequence.map(|s| s.new_tokens * self.batch)
    }

    pub fn tensor(&self, id: TensorId) -> &Tensor {
        &self.tensors[id.0 as usize]
    }

    pub fn layer_by_name(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// The network with `scheme` on every weight layer that does not name its own scheme:
    /// how a design's native weight format (the architecture's `[quant]`) or `--scheme`
    /// replaces the workload's default, while per-layer choices (e.g. an 8-bit stem) stay.
    pub fn with_default_scheme(&self, scheme: &Scheme) -> Network {
        let mut net = self.clone();
        for l in &mut net.layers {
            if !l.own_scheme && l.weight_shape().is_some() {
                l.quant.scheme = *scheme;
            }
        }
        net
    }
}

pub const DEFAULT_SEED: u64 = 0x5eed;

/// The largest value of any one dimension plumsim accepts: a tensor axis, a channel or
/// feature count, a kernel, stride, padding or dilation (2^24 = 16,777,216).
pub const MAX_DIM: u64 = 1 << 24;
/// The most elements one tensor may hold, batch included: 2^32.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 32;
/// The most weights one layer may hold: 2^30 (its float weights and codes are held in memory,
/// about 8 bytes per weight).
pub const MAX_LAYER_WEIGHTS: u64 = 1 << 30;
/// The most MACs one layer (all its batch) may need: 2^48, about 2.8e14. Cycle, traffic and
/// action counts multiply them by lane, bit and buffer factors (at most 2^10 per MAC) and
/// must fit in 64 bits with room for the network's sums.
pub const MAX_LAYER_MACS: u64 = 1 << 48;
/// The most MACs a whole network may need: 2^52, about 4.5e15.
pub const MAX_NETWORK_MACS: u64 = 1 << 52;

/// `n` as a power of two when it is one, else in scientific notation (for bound messages).
pub(crate) fn magnitude(n: u128) -> String {
    if n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else if n < 1_000_000 {
        n.to_string()
    } else {
        format!("{:.3e}", n as f64)
    }
}

/// Parse and validate workload JSON. `origin` names the file in messages.
/// NumPy broadcasting of two shapes (aligned from the last axis; a size of 1 repeats), or None.
pub fn broadcast_shapes(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    shapes::broadcast(a, b)
}

/// For each element of a tensor of shape `out` (C order), the flat index of the element of a
/// tensor of shape `src` that broadcasts to it.
pub fn broadcast_index(src: &[u64], out: &[u64]) -> Vec<usize> {
    let pad = out.len() - src.len();
    // `src`'s stride along each output axis: 0 where it is broadcast.
    let mut strides = vec![0usize; out.len()];
    let mut acc = 1usize;
    for i in (0..src.len()).rev() {
        if src[i] != 1 {
            strides[pad + i] = acc;
        }
        acc *= src[i] as usize;
    }
    let n: usize = out.iter().map(|&d| d as usize).product();
    let mut idx = vec![0u64; out.len()];
    let mut at = 0usize;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(at);
        // Advance like an odometer, moving the source offset with it.
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            at += strides[d];
            if idx[d] < out[d] {
                break;
            }
            at -= strides[d] * out[d] as usize;
            idx[d] = 0;
        }
    }
    v
}

pub fn parse_workload(text: &str, origin: &str) -> Result<Network> {
    let raw: RawWorkload = serde_json::from_str(text).map_err(|e| Error::Parse {
        origin: origin.to_string(),
        line: Some(e.line()),
        column: Some(e.column()),
        message: strip_json_position(&e.to_string()),
    })?;
    validate_workload(raw, origin)
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// FNV-1a of a seed and a name: a per-layer seed that does not depend on layer order.
pub fn derive_seed(base: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ base;
    for b in name.bytes().chain(base.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
