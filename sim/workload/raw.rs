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
    pub layers: Vec<RawLayer>,
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
