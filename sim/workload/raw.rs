//! The workload JSON as written: every field optional where the format allows, unknown fields
//! rejected. [`super::validate_workload`] turns it into a [`super::Network`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{BatchNormMode, Distribution};
use crate::quant::RawQuant;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: String,
    pub batch: Option<i64>,
    /// How batch-norm layers are executed (see [`BatchNormMode`]).
    pub batch_norm: Option<BatchNormMode>,
    /// Network inputs: tensor name -> shape (`[C, H, W]` for images, `[M, K]` for a GEMM operand).
    pub inputs: BTreeMap<String, Vec<i64>>,
    pub defaults: Option<RawDefaults>,
    /// How raw images become the network input (functional runs with `--inputs`).
    pub input_transform: Option<RawInputTransform>,
    /// What a sequence model's one inference is: a prefill of `seq_len` tokens or a decode
    /// step over a KV cache of `context` tokens (tokens/s and energy per token).
    pub sequence: Option<RawSequence>,
    pub layers: Vec<RawLayer>,
}

/// A transformer's phase as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSequence {
    pub phase: Phase,
    /// Prefill: tokens per sequence processed at once.
    pub seq_len: Option<i64>,
    /// Decode: tokens already in the KV cache.
    pub context: Option<i64>,
    /// The longest sequence the model allows (its position limit); `seq_len` and
    /// `context + 1` must not exceed it.
    pub max_context: Option<i64>,
}

/// Prefill (all prompt tokens at once) or decode (one new token per sequence over a KV cache).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Prefill,
    Decode,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Prefill => "prefill",
            Phase::Decode => "decode",
        }
    }
}

/// The input transform as written: `x = (pixel * scale - mean[c]) / std[c]` after an optional
/// resize of the shorter side and a centre crop.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInputTransform {
    pub scale: Option<f64>,
    pub mean: Option<Vec<f64>>,
    pub std: Option<Vec<f64>>,
    pub resize: Option<i64>,
    pub crop: Option<i64>,
}

/// A layer's parameters besides its weights, as written: tensors in a file (default: the
/// weights' file). `bias` for conv2d/linear/matmul; `prefix` (+ `eps`) for batch_norm, whose
/// tensors are `<prefix>.weight`, `.bias`, `.running_mean`, `.running_var`; `slope` for prelu.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParams {
    pub file: Option<String>,
    pub bias: Option<String>,
    pub prefix: Option<String>,
    pub eps: Option<f64>,
    /// Batch-norm tensor names after the prefix: `pytorch` (weight, bias, running_mean,
    /// running_var) or `keras` (gamma, beta, moving_mean, moving_variance).
    pub names: Option<BnNames>,
    pub slope: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BnNames {
    #[default]
    Pytorch,
    Keras,
}

impl BnNames {
    /// The suffixes of gamma, beta, mean and variance.
    pub fn suffixes(self) -> [&'static str; 4] {
        match self {
            BnNames::Pytorch => ["weight", "bias", "running_mean", "running_var"],
            BnNames::Keras => ["gamma", "beta", "moving_mean", "moving_variance"],
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    pub quant: Option<RawQuant>,
    pub weights: Option<RawWeights>,
    pub activations: Option<RawActivations>,
}

/// An int or an `[h, w]` pair.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum Pair {
    One(i64),
    Two([i64; 2]),
}

impl Pair {
    pub(crate) fn hw(self) -> (i64, i64) {
        match self {
            Pair::One(v) => (v, v),
            Pair::Two([h, w]) => (h, w),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    Conv2d,
    Linear,
    Matmul,
    MaxPool,
    AvgPool,
    BatchNorm,
    Relu,
    Prelu,
    Requantize,
    Add,
    /// Zero-pad channels to `out_channels` (ResNet option-A shortcuts); no weights, no MACs.
    PadChannels,
    Softmax,
    LayerNorm,
    RmsNorm,
    Gelu,
    Silu,
    /// Squared ReLU.
    Relu2,
    /// Elementwise product with broadcasting.
    Mul,
    /// Rotary position embedding over the last axis.
    Rope,
    Concat,
    /// Table lookup: token ids in, rows of the table out.
    Embedding,
    Reshape,
    Transpose,
    Slice,
    /// Elementwise `min(max(x, min), max)` (ReLU6: 0 and 6).
    Clip,
    /// `max(0, min(1, alpha x + beta))`.
    HardSigmoid,
    /// `x * max(0, min(1, x / 6 + 1 / 2))`.
    HardSwish,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// Elementwise difference with broadcasting (or with a constant `scalar`).
    Sub,
    /// Elementwise quotient with broadcasting (or by a constant `scalar`).
    Div,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Conv2d => "conv2d",
            OpKind::Linear => "linear",
            OpKind::Matmul => "matmul",
            OpKind::MaxPool => "max_pool",
            OpKind::AvgPool => "avg_pool",
            OpKind::BatchNorm => "batch_norm",
            OpKind::Relu => "relu",
            OpKind::Prelu => "prelu",
            OpKind::Requantize => "requantize",
            OpKind::Add => "add",
            OpKind::PadChannels => "pad_channels",
            OpKind::Softmax => "softmax",
            OpKind::LayerNorm => "layer_norm",
            OpKind::RmsNorm => "rms_norm",
            OpKind::Gelu => "gelu",
            OpKind::Silu => "silu",
            OpKind::Relu2 => "relu2",
            OpKind::Mul => "mul",
            OpKind::Rope => "rope",
            OpKind::Concat => "concat",
            OpKind::Embedding => "embedding",
            OpKind::Reshape => "reshape",
            OpKind::Transpose => "transpose",
            OpKind::Slice => "slice",
            OpKind::Clip => "clip",
            OpKind::HardSigmoid => "hard_sigmoid",
            OpKind::HardSwish => "hard_swish",
            OpKind::Sigmoid => "sigmoid",
            OpKind::Sub => "sub",
            OpKind::Div => "div",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    pub name: String,
    pub op: OpKind,
    pub inputs: Vec<String>,
    pub output: String,
    pub out_channels: Option<i64>,
    pub kernel: Option<Pair>,
    pub stride: Option<Pair>,
    pub padding: Option<Pair>,
    pub dilation: Option<Pair>,
    pub groups: Option<i64>,
    pub ceil_mode: Option<bool>,
    pub out_features: Option<i64>,
    pub global: Option<bool>,
    /// matmul of two activations: the second operand is stored `[.., N, K]` (as K is in
    /// attention's `Q K^T`).
    pub transpose_b: Option<bool>,
    /// softmax, layer_norm, rms_norm (the last axis only), concat, slice: the axis
    /// (negative counts from the end).
    pub axis: Option<i64>,
    /// reshape: the new per-sample shape (one entry may be -1).
    pub shape: Option<Vec<i64>>,
    /// transpose: the permutation of the axes.
    pub perm: Option<Vec<i64>>,
    /// slice: first index (negative counts from the end), end (exclusive), step.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub step: Option<i64>,
    /// add, sub, mul, div with one input: the constant other operand.
    pub scalar: Option<f64>,
    /// sub, div with a `scalar`: the constant is the left operand (`scalar - x`, `scalar / x`).
    pub scalar_left: Option<bool>,
    /// clip: the bounds (either may be left out: unbounded on that side).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// hard_sigmoid: `alpha x + beta` (default 0.2 and 0.5, as ONNX).
    pub alpha: Option<f64>,
    pub beta: Option<f64>,
    /// embedding: rows of the table (vocabulary) and their width.
    pub num_embeddings: Option<i64>,
    pub embedding_dim: Option<i64>,
    pub quant: Option<RawQuant>,
    pub weights: Option<RawWeights>,
    pub activations: Option<RawActivations>,
    pub params: Option<RawParams>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeights {
    pub synthetic: Option<RawSynthetic>,
    pub file: Option<String>,
    pub tensor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSynthetic {
    pub distribution: Option<Distribution>,
    pub seed: Option<u64>,
    pub scale: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActivations {
    pub zero_density: Option<f64>,
    pub seed: Option<u64>,
    /// A file holding the layer's input activations (zeros are read from it).
    pub file: Option<String>,
    pub tensor: Option<String>,
}
