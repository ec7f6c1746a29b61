//! Workload description: a DAG of layers over named tensors.
//!
//! [`RawWorkload`] mirrors the JSON file; [`validate_workload`] turns it into a [`Network`]
//! (layers in topological order, shapes inferred and checked, quantization resolved) or
//! reports every problem with the layer and tensor it concerns. Pure: no file access.

use std::collections::{BTreeMap, HashMap};

use petgraph::graph::{DiGraph, NodeIndex};
use serde::Deserialize;

use crate::error::{Error, Problem, Result};
use crate::quant::spec::{QuantSpec, Scheme, SharedBits, SignRule};

// ---------------------------------------------------------------- raw (file mirror)

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
    pub layers: Vec<RawLayer>,
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
    fn hw(self) -> (i64, i64) {
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuant {
    pub scheme: Option<String>,
    pub weight_bits: Option<i64>,
    pub activation_bits: Option<i64>,
    pub per_channel: Option<bool>,
    pub threshold: Option<f64>,
    pub sign_rule: Option<SignRule>,
    pub alpha: Option<bool>,
    pub group_size: Option<i64>,
    pub shared_bits: Option<i64>,
    pub max_shared_bits: Option<i64>,
    pub error_bound: Option<f64>,
}

impl RawQuant {
    /// Field-by-field: `self` where set, else `base`.
    fn over(&self, base: &RawQuant) -> RawQuant {
        RawQuant {
            scheme: self.scheme.clone().or_else(|| base.scheme.clone()),
            weight_bits: self.weight_bits.or(base.weight_bits),
            activation_bits: self.activation_bits.or(base.activation_bits),
            per_channel: self.per_channel.or(base.per_channel),
            threshold: self.threshold.or(base.threshold),
            sign_rule: self.sign_rule.or(base.sign_rule),
            alpha: self.alpha.or(base.alpha),
            group_size: self.group_size.or(base.group_size),
            shared_bits: self.shared_bits.or(base.shared_bits),
            max_shared_bits: self.max_shared_bits.or(base.max_shared_bits),
            error_bound: self.error_bound.or(base.error_bound),
        }
    }
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

// ---------------------------------------------------------------- validated model

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
    MaxPool(Pool),
    AvgPool(Pool),
    BatchNorm,
    Relu,
    Prelu,
    Requantize,
    Add,
    PadChannels,
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
        }
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
            _ => None,
        }
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
    pub tensors: Vec<Tensor>,
    pub layers: Vec<Layer>,
    /// Producer -> consumer edges, labelled by the tensor between them.
    pub graph: DiGraph<LayerId, TensorId>,
}

impl Network {
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

/// Parse and validate workload JSON. `origin` names the file in messages.
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

/// Resolve a raw `quant` table (already merged over its defaults) into a [`QuantSpec`],
/// pushing a problem under `path` for every out-of-range field.
pub fn resolve_quant(q: &RawQuant, path: &str, p: &mut Vec<Problem>) -> QuantSpec {
    let scheme_name = q.scheme.as_deref().unwrap_or("int");
    let bits =
        |p: &mut Vec<Problem>, field: &str, v: Option<i64>, default: i64, lo: i64, hi: i64| {
            let v = v.unwrap_or(default);
            if v < lo || v > hi {
                p.push(
                    Problem::new(format!("{path}.{field}"), format!("{v} is out of range"))
                        .with_help(format!("allowed for scheme `{scheme_name}`: {lo}..={hi}")),
                );
                default as u32
            } else {
                v as u32
            }
        };
    let activation_bits = bits(p, "activation_bits", q.activation_bits, 8, 1, 32);
    let unit = |p: &mut Vec<Problem>, field: &str, v: Option<f64>, default: f64| {
        let v = v.unwrap_or(default);
        if !(v.is_finite() && (0.0..1.0).contains(&v)) {
            p.push(
                Problem::new(format!("{path}.{field}"), format!("{v} is out of range"))
                    .with_help("allowed: 0 <= value < 1"),
            );
            default
        } else {
            v
        }
    };
    let scheme = match scheme_name {
        "int" => Scheme::Int {
            bits: bits(p, "weight_bits", q.weight_bits, 8, 2, 16),
            per_channel: q.per_channel.unwrap_or(true),
        },
        "binary" => Scheme::Binary,
        "ternary" => Scheme::Ternary {
            threshold_factor: q.threshold.unwrap_or(0.7),
        },
        "signed_binary" => Scheme::SignedBinary {
            threshold: unit(p, "threshold", q.threshold, 0.05),
            sign_rule: q.sign_rule.unwrap_or(SignRule::Halves),
            alpha: q.alpha.unwrap_or(false),
        },
        "swis" => {
            let base_bits = bits(p, "weight_bits", q.weight_bits, 8, 2, 16);
            let group_size = bits(p, "group_size", q.group_size, 8, 1, 1024);
            let shared = match (q.shared_bits, q.max_shared_bits) {
                (Some(_), Some(_)) => {
                    p.push(
                        Problem::new(format!("{path}.shared_bits"), "both shared_bits and max_shared_bits are set")
                            .with_help("set shared_bits for fixed-N SWIS, or max_shared_bits (+ error_bound) for variable-N"),
                    );
                    SharedBits::Fixed(3)
                }
                (_, Some(max)) => SharedBits::Variable {
                    max: bits(p, "max_shared_bits", Some(max), 3, 1, base_bits as i64 - 1),
                    error_bound: unit(p, "error_bound", q.error_bound, 0.01),
                },
                (n, None) => {
                    SharedBits::Fixed(bits(p, "shared_bits", n, 3, 1, base_bits as i64 - 1))
                }
            };
            Scheme::Swis {
                base_bits,
                group_size,
                shared,
            }
        }
        "truncate" => {
            let base_bits = bits(p, "weight_bits", q.weight_bits, 8, 2, 16);
            Scheme::Truncate {
                base_bits,
                kept_bits: bits(p, "shared_bits", q.shared_bits, 3, 1, base_bits as i64 - 1),
            }
        }
        other => {
            p.push(
                Problem::new(
                    format!("{path}.scheme"),
                    format!("unknown scheme `{other}`"),
                )
                .with_help("allowed: int, binary, ternary, signed_binary, swis, truncate"),
            );
            Scheme::Int {
                bits: 8,
                per_channel: true,
            }
        }
    };
    QuantSpec {
        scheme,
        activation_bits,
    }
}

/// Validate a raw workload into a [`Network`], reporting every problem at once.
pub fn validate_workload(raw: RawWorkload, origin: &str) -> Result<Network> {
    let mut p: Vec<Problem> = Vec::new();
    if raw.name.trim().is_empty() {
        p.push(Problem::new("name", "must not be empty"));
    }
    let batch = match raw.batch.unwrap_or(1) {
        b if (1..=1 << 20).contains(&b) => b as u64,
        b => {
            p.push(
                Problem::new("batch", format!("{b} is out of range"))
                    .with_help("allowed: 1..=1048576"),
            );
            1
        }
    };
    if raw.layers.is_empty() {
        p.push(
            Problem::new("layers", "no layers").with_help("a workload needs at least one layer"),
        );
    }
    let defaults = raw.defaults.clone().unwrap_or_default();
    let default_quant = defaults.quant.clone().unwrap_or_default();
    // The defaults are checked once, under their own path; a layer reports only what its own
    // `quant` gets wrong.
    resolve_quant(&default_quant, "defaults.quant", &mut p);
    let default_weights = defaults.weights.clone().unwrap_or_default();
    let default_acts = defaults.activations.clone().unwrap_or_default();

    // Tensor table: network inputs first, then layer outputs.
    let mut tensors: Vec<Tensor> = Vec::new();
    let mut by_name: HashMap<String, TensorId> = HashMap::new();
    for (name, shape) in &raw.inputs {
        let path = format!("inputs.{name}");
        if shape.is_empty() || shape.iter().any(|&d| d < 1) {
            p.push(
                Problem::new(&path, format!("shape {shape:?} is not allowed"))
                    .with_help("allowed: one or more dimensions, each >= 1"),
            );
        }
        by_name.insert(name.clone(), TensorId(tensors.len() as u32));
        tensors.push(Tensor {
            name: name.clone(),
            shape: shape.iter().map(|&d| d.max(1) as u64).collect(),
            producer: None,
        });
    }
    let n_inputs = tensors.len();
    // Layer names unique; each output tensor produced once.
    let mut layer_names: HashMap<&str, usize> = HashMap::new();
    for (i, l) in raw.layers.iter().enumerate() {
        let path = format!("layers[{i}] ({})", l.name);
        if l.name.trim().is_empty() {
            p.push(Problem::new(
                format!("layers[{i}].name"),
                "must not be empty",
            ));
        }
        if let Some(j) = layer_names.insert(l.name.as_str(), i) {
            p.push(Problem::new(
                &path,
                format!(
                    "layer name `{}` is used again (first at layers[{j}])",
                    l.name
                ),
            ));
        }
        if by_name.contains_key(&l.output) {
            p.push(
                Problem::new(
                    format!("{path}.output"),
                    format!(
                        "tensor `{}` is already produced (by another layer or as a network input)",
                        l.output
                    ),
                )
                .with_help("every tensor has exactly one producer"),
            );
            continue;
        }
        by_name.insert(l.output.clone(), TensorId(tensors.len() as u32));
        tensors.push(Tensor {
            name: l.output.clone(),
            shape: Vec::new(),
            producer: None,
        });
    }
    // Graph over raw layer indices: edge producer -> consumer.
    let mut graph: DiGraph<usize, TensorId> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..raw.layers.len()).map(|i| graph.add_node(i)).collect();
    let mut producer_of: HashMap<TensorId, usize> = HashMap::new();
    for (i, l) in raw.layers.iter().enumerate() {
        if let Some(&t) = by_name.get(&l.output) {
            if t.0 as usize >= n_inputs {
                producer_of.entry(t).or_insert(i);
            }
        }
    }
    let mut dangling = false;
    for (i, l) in raw.layers.iter().enumerate() {
        let path = format!("layers[{i}] ({})", l.name);
        for (j, t) in l.inputs.iter().enumerate() {
            match by_name.get(t) {
                None => {
                    dangling = true;
                    p.push(
                        Problem::new(
                            format!("{path}.inputs[{j}]"),
                            format!(
                                "tensor `{t}` is not produced by any layer nor a network input"
                            ),
                        )
                        .with_help("name a network input or another layer's output"),
                    );
                }
                Some(&tid) => {
                    if let Some(&src) = producer_of.get(&tid) {
                        graph.add_edge(nodes[src], nodes[i], tid);
                    }
                }
            }
        }
    }
    let order = match stable_toposort(&graph) {
        Ok(order) => order,
        Err(stuck) => {
            let members: Vec<String> = stuck
                .into_iter()
                .map(|i| format!("`{}`", raw.layers[i].name))
                .collect();
            p.push(
                Problem::new("layers", format!("the layer graph has a cycle through {}", members.join(", ")))
                    .with_help("a workload must be a DAG: no layer may consume its own output, directly or indirectly"),
            );
            return Err(Error::invalid(origin, p));
        }
    };
    if dangling || !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }

    // Walk in topological order, inferring shapes.
    let mut layers: Vec<Layer> = Vec::with_capacity(raw.layers.len());
    let mut new_id: HashMap<usize, LayerId> = HashMap::new();
    for &i in &order {
        let l = &raw.layers[i];
        let path = format!("layers[{i}] ({})", l.name);
        let id = LayerId(layers.len() as u32);
        new_id.insert(i, id);
        let inputs: Vec<TensorId> = l.inputs.iter().map(|t| by_name[t]).collect();
        let in_shapes: Vec<Vec<u64>> = inputs
            .iter()
            .map(|t| tensors[t.0 as usize].shape.clone())
            .collect();
        let (op, out_shape) = match infer(l, &in_shapes, &path, &mut p) {
            Some(x) => x,
            None => (Op::Relu, vec![1]),
        };
        let out = by_name[&l.output];
        tensors[out.0 as usize].shape = out_shape;
        tensors[out.0 as usize].producer = Some(id);

        let mut layer_problems = Vec::new();
        let quant = resolve_quant(
            &l.quant.clone().unwrap_or_default().over(&default_quant),
            &format!("{path}.quant"),
            &mut layer_problems,
        );
        if l.quant.is_some() {
            p.extend(layer_problems);
        }
        let is_weight_layer = matches!(op, Op::Conv2d(_) | Op::Linear { .. } | Op::Matmul { .. });
        let weights = if is_weight_layer {
            resolve_weights(l.weights.as_ref(), &default_weights, &l.name, &path, &mut p)
        } else {
            if l.weights.is_some() {
                p.push(Problem::new(
                    format!("{path}.weights"),
                    format!("op `{}` has no weights", l.op.as_str()),
                ));
            }
            None
        };
        let acts = l.activations.clone().unwrap_or_default();
        let zero_density = acts
            .zero_density
            .or(default_acts.zero_density)
            .unwrap_or(0.0);
        if !(zero_density.is_finite() && (0.0..1.0).contains(&zero_density)) {
            p.push(
                Problem::new(
                    format!("{path}.activations.zero_density"),
                    format!("{zero_density} is out of range"),
                )
                .with_help("allowed: 0 <= zero_density < 1"),
            );
        }
        let act_seed = acts
            .seed
            .unwrap_or_else(|| derive_seed(default_acts.seed.unwrap_or(DEFAULT_SEED), &l.name));
        layers.push(Layer {
            id,
            name: l.name.clone(),
            op,
            inputs,
            output: out,
            quant,
            own_scheme: l.quant.as_ref().is_some_and(|q| q.scheme.is_some()),
            weights,
            activations: ActivationStats {
                zero_density,
                seed: act_seed,
                file: match (acts.file.clone().or(default_acts.file.clone()), acts.tensor.clone()) {
                    (Some(f), Some(t)) => Some((f, t)),
                    (None, None) => None,
                    (f, _) => {
                        p.push(
                            Problem::new(format!("{path}.activations"), format!("{} is given without {}", if f.is_some() { "file" } else { "tensor" }, if f.is_some() { "tensor" } else { "file" }))
                                .with_help("name both the file and the tensor holding the layer's input activations"),
                        );
                        None
                    }
                },
                nonzero: None,
            },
        });
    }
    if !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }
    let mut g: DiGraph<LayerId, TensorId> = DiGraph::new();
    let gn: Vec<NodeIndex> = layers.iter().map(|l| g.add_node(l.id)).collect();
    for e in graph.raw_edges() {
        let a = new_id[&graph[e.source()]];
        let b = new_id[&graph[e.target()]];
        g.add_edge(gn[a.0 as usize], gn[b.0 as usize], e.weight);
    }
    Ok(Network {
        name: raw.name,
        batch,
        batch_norm: raw.batch_norm.unwrap_or_default(),
        tensors,
        layers,
        graph: g,
    })
}

/// Kahn's algorithm, always taking the ready layer that comes first in the file, so a file
/// already in topological order keeps its order. `Err` lists the layers on or behind a cycle.
fn stable_toposort(
    graph: &DiGraph<usize, TensorId>,
) -> std::result::Result<Vec<usize>, Vec<usize>> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = graph.node_count();
    let mut indegree = vec![0usize; n];
    for e in graph.raw_edges() {
        indegree[e.target().index()] += 1;
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(graph[NodeIndex::new(i)]);
        for next in graph.neighbors(NodeIndex::new(i)) {
            indegree[next.index()] -= 1;
            if indegree[next.index()] == 0 {
                ready.push(Reverse(next.index()));
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err((0..n)
            .filter(|&i| indegree[i] > 0)
            .map(|i| graph[NodeIndex::new(i)])
            .collect())
    }
}

fn resolve_weights(
    layer: Option<&RawWeights>,
    default: &RawWeights,
    name: &str,
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<WeightSource> {
    let l = layer.cloned().unwrap_or_default();
    // A layer that names a file or a synthetic source replaces the default kind entirely.
    let (synthetic, file, tensor) = if l.synthetic.is_some() {
        (l.synthetic, None, None)
    } else if l.file.is_some() || l.tensor.is_some() {
        (
            None,
            l.file.or(default.file.clone()),
            l.tensor.or(default.tensor.clone()),
        )
    } else {
        (
            default.synthetic.clone(),
            default.file.clone(),
            default.tensor.clone(),
        )
    };
    match (synthetic, file, tensor) {
        (_, Some(path_), Some(tensor)) => Some(WeightSource::File {
            path: path_,
            tensor,
        }),
        (_, Some(_), None) => {
            p.push(
                Problem::new(
                    format!("{path}.weights.tensor"),
                    "a weight file is given but no tensor name",
                )
                .with_help(
                    "name the tensor in the file, e.g. \"tensor\": \"layer1.0.conv1.weight\"",
                ),
            );
            None
        }
        (_, None, Some(t)) => {
            p.push(
                Problem::new(
                    format!("{path}.weights.file"),
                    format!("tensor `{t}` is named but no file is given"),
                )
                .with_help("set weights.file here or in defaults.weights, or pass --weights FILE"),
            );
            None
        }
        (s, None, None) => {
            let s = s.unwrap_or_default();
            if let Some(scale) = s.scale {
                if !(scale.is_finite() && scale > 0.0) {
                    p.push(
                        Problem::new(
                            format!("{path}.weights.synthetic.scale"),
                            format!("{scale} is out of range"),
                        )
                        .with_help("allowed: a standard deviation > 0"),
                    );
                }
            }
            Some(WeightSource::Synthetic {
                distribution: s.distribution.unwrap_or(Distribution::Laplace),
                seed: derive_seed(s.seed.unwrap_or(DEFAULT_SEED), name),
                scale: s.scale,
            })
        }
    }
}

fn positive_pair(
    v: Option<Pair>,
    default: i64,
    field: &str,
    path: &str,
    min: i64,
    p: &mut Vec<Problem>,
) -> (u64, u64) {
    let (h, w) = v.map(Pair::hw).unwrap_or((default, default));
    if h < min || w < min {
        p.push(
            Problem::new(
                format!("{path}.{field}"),
                format!("[{h}, {w}] is out of range"),
            )
            .with_help(format!("allowed: each value >= {min}")),
        );
        return (default.max(min) as u64, default.max(min) as u64);
    }
    (h as u64, w as u64)
}

/// Output size along one axis (PyTorch rule; `ceil` as in ceil_mode and SCALE-Sim).
fn out_dim(
    input: u64,
    kernel: u64,
    stride: u64,
    pad: u64,
    dilation: u64,
    ceil: bool,
) -> Option<u64> {
    let span = dilation * (kernel - 1) + 1;
    let padded = input + 2 * pad;
    if padded < span {
        return None;
    }
    let num = padded - span;
    Some(
        if ceil {
            num.div_ceil(stride)
        } else {
            num / stride
        } + 1,
    )
}

fn infer(
    l: &RawLayer,
    ins: &[Vec<u64>],
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<(Op, Vec<u64>)> {
    let want_inputs = if l.op == OpKind::Add { 2 } else { 1 };
    if ins.len() != want_inputs {
        p.push(Problem::new(
            format!("{path}.inputs"),
            format!(
                "op `{}` takes {want_inputs} input tensor(s), got {}",
                l.op.as_str(),
                ins.len()
            ),
        ));
        return None;
    }
    let x = &ins[0];
    let rank3 = |p: &mut Vec<Problem>| {
        if x.len() != 3 {
            p.push(Problem::new(
                format!("{path}.inputs[0]"),
                format!(
                    "tensor `{}` has shape {x:?}; op `{}` needs [C, H, W]",
                    l.inputs[0],
                    l.op.as_str()
                ),
            ));
            false
        } else {
            true
        }
    };
    let ceil = l.ceil_mode.unwrap_or(false);
    match l.op {
        OpKind::Conv2d => {
            if !rank3(p) {
                return None;
            }
            let (c, h, w) = (x[0], x[1], x[2]);
            let groups = l.groups.unwrap_or(1);
            let out_channels = match l.out_channels {
                Some(v) if v >= 1 => v as u64,
                other => {
                    p.push(Problem::new(
                        format!("{path}.out_channels"),
                        format!(
                            "{} is required and must be >= 1",
                            other.map_or("missing".into(), |v| v.to_string())
                        ),
                    ));
                    return None;
                }
            };
            if groups < 1 || c % groups as u64 != 0 || out_channels % groups as u64 != 0 {
                p.push(Problem::new(format!("{path}.groups"), format!("{groups} does not divide input channels {c} and out_channels {out_channels}")).with_help("allowed: a divisor of both channel counts (groups = channels for depthwise)"));
                return None;
            }
            let Some(kernel) = l.kernel else {
                p.push(
                    Problem::new(format!("{path}.kernel"), "is required for conv2d")
                        .with_help("e.g. \"kernel\": 3 or [3, 3]"),
                );
                return None;
            };
            let kernel = positive_pair(Some(kernel), 1, "kernel", path, 1, p);
            let stride = positive_pair(l.stride, 1, "stride", path, 1, p);
            let padding = positive_pair(l.padding, 0, "padding", path, 0, p);
            let dilation = positive_pair(l.dilation, 1, "dilation", path, 1, p);
            let oh = out_dim(h, kernel.0, stride.0, padding.0, dilation.0, ceil);
            let ow = out_dim(w, kernel.1, stride.1, padding.1, dilation.1, ceil);
            let (Some(oh), Some(ow)) = (oh, ow) else {
                p.push(Problem::new(path, format!("kernel {kernel:?} (dilation {dilation:?}) is larger than input `{}` {h}x{w} with padding {padding:?}", l.inputs[0])));
                return None;
            };
            Some((
                Op::Conv2d(Conv {
                    in_channels: c,
                    out_channels,
                    kernel,
                    stride,
                    padding,
                    dilation,
                    groups: groups as u64,
                }),
                vec![out_channels, oh, ow],
            ))
        }
        OpKind::Linear => {
            let in_features: u64 = x.iter().product();
            match l.out_features {
                Some(n) if n >= 1 => Some((
                    Op::Linear {
                        in_features,
                        out_features: n as u64,
                    },
                    vec![n as u64, 1, 1],
                )),
                other => {
                    p.push(Problem::new(
                        format!("{path}.out_features"),
                        format!(
                            "{} is required and must be >= 1",
                            other.map_or("missing".into(), |v| v.to_string())
                        ),
                    ));
                    None
                }
            }
        }
        OpKind::Matmul => {
            if x.len() != 2 {
                p.push(Problem::new(
                    format!("{path}.inputs[0]"),
                    format!(
                        "tensor `{}` has shape {x:?}; matmul needs [M, K]",
                        l.inputs[0]
                    ),
                ));
                return None;
            }
            match l.out_features {
                Some(n) if n >= 1 => Some((
                    Op::Matmul {
                        m: x[0],
                        k: x[1],
                        n: n as u64,
                    },
                    vec![x[0], n as u64],
                )),
                other => {
                    p.push(Problem::new(
                        format!("{path}.out_features"),
                        format!(
                            "{} is required (N of the GEMM) and must be >= 1",
                            other.map_or("missing".into(), |v| v.to_string())
                        ),
                    ));
                    None
                }
            }
        }
        OpKind::MaxPool | OpKind::AvgPool => {
            if !rank3(p) {
                return None;
            }
            let (c, h, w) = (x[0], x[1], x[2]);
            let pool = if l.global.unwrap_or(false) {
                Pool {
                    kernel: (h, w),
                    stride: (1, 1),
                    padding: (0, 0),
                }
            } else {
                let Some(kernel) = l.kernel else {
                    p.push(Problem::new(
                        format!("{path}.kernel"),
                        "is required for pooling unless \"global\": true",
                    ));
                    return None;
                };
                let kernel = positive_pair(Some(kernel), 1, "kernel", path, 1, p);
                let stride = positive_pair(
                    l.stride
                        .or(Some(Pair::Two([kernel.0 as i64, kernel.1 as i64]))),
                    1,
                    "stride",
                    path,
                    1,
                    p,
                );
                let padding = positive_pair(l.padding, 0, "padding", path, 0, p);
                Pool {
                    kernel,
                    stride,
                    padding,
                }
            };
            let oh = out_dim(h, pool.kernel.0, pool.stride.0, pool.padding.0, 1, ceil);
            let ow = out_dim(w, pool.kernel.1, pool.stride.1, pool.padding.1, 1, ceil);
            let (Some(oh), Some(ow)) = (oh, ow) else {
                p.push(Problem::new(
                    path,
                    format!(
                        "pooling window {:?} is larger than input `{}` {h}x{w}",
                        pool.kernel, l.inputs[0]
                    ),
                ));
                return None;
            };
            let op = if l.op == OpKind::MaxPool {
                Op::MaxPool(pool)
            } else {
                Op::AvgPool(pool)
            };
            Some((op, vec![c, oh, ow]))
        }
        OpKind::Add => {
            if ins[0] != ins[1] {
                p.push(Problem::new(
                    format!("{path}.inputs"),
                    format!(
                        "residual add needs equal shapes: `{}` is {:?}, `{}` is {:?}",
                        l.inputs[0], ins[0], l.inputs[1], ins[1]
                    ),
                ));
                return None;
            }
            Some((Op::Add, x.clone()))
        }
        OpKind::PadChannels => {
            if !rank3(p) {
                return None;
            }
            match l.out_channels {
                Some(oc) if oc >= x[0] as i64 => {
                    Some((Op::PadChannels, vec![oc as u64, x[1], x[2]]))
                }
                other => {
                    p.push(
                        Problem::new(
                            format!("{path}.out_channels"),
                            format!(
                                "{} is not allowed",
                                other.map_or("missing".into(), |v| v.to_string())
                            ),
                        )
                        .with_help(format!(
                            "pad_channels needs out_channels >= the input's {} channels",
                            x[0]
                        )),
                    );
                    None
                }
            }
        }
        OpKind::BatchNorm => Some((Op::BatchNorm, x.clone())),
        OpKind::Relu => Some((Op::Relu, x.clone())),
        OpKind::Prelu => Some((Op::Prelu, x.clone())),
        OpKind::Requantize => Some((Op::Requantize, x.clone())),
    }
}
