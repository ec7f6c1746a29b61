//! Validation: a [`RawWorkload`] becomes a [`Network`] or every problem is reported, with the
//! layer and tensor it concerns.

use std::collections::HashMap;

use petgraph::graph::{DiGraph, NodeIndex};

use super::graph::stable_toposort;
use super::raw::{Phase, RawInputTransform, RawParams, RawSequence, RawWeights, RawWorkload};
use super::shapes::infer;
use super::{
    derive_seed, ActivationStats, Distribution, InputTransform, Layer, LayerId, Network, Op,
    ParamKeys, ParamSource, Sequence, Tensor, TensorId, WeightSource, DEFAULT_SEED,
};
use super::{
    magnitude, MAX_DIM, MAX_LAYER_MACS, MAX_LAYER_WEIGHTS, MAX_NETWORK_MACS, MAX_TENSOR_ELEMENTS,
};
use crate::error::{Error, Problem, Result};
use crate::quant::resolve_quant;

/// A tensor beyond the size bounds: a dimension above [`MAX_DIM`] or more than
/// [`MAX_TENSOR_ELEMENTS`] elements, batch included (counted exactly).
fn tensor_bound(shape: &[u64], batch: u64, path: &str) -> Option<Problem> {
    let elements: u128 = shape.iter().map(|&d| d as u128).product::<u128>() * batch as u128;
    if shape.iter().any(|&d| d > MAX_DIM) || elements > MAX_TENSOR_ELEMENTS as u128 {
        return Some(
            Problem::new(
                path,
                format!(
                    "the shape {shape:?} x batch {batch} ({} elements) exceeds what plumsim can represent",
                    magnitude(elements)
                ),
            )
            .with_help(format!(
                "allowed: each dimension at most {MAX_DIM} (2^24) and at most {} elements per tensor, batch included",
                magnitude(MAX_TENSOR_ELEMENTS as u128)
            )),
        );
    }
    None
}

/// A weight layer beyond the bounds: more than [`MAX_LAYER_WEIGHTS`] weights or
/// [`MAX_LAYER_MACS`] MACs (both counted exactly, before any 64-bit product is formed).
fn layer_bound(op: &Op, out: &[u64], batch: u64, path: &str) -> Option<Problem> {
    let (weights, m, k, n): (u128, u128, u128, u128) = match *op {
        Op::Conv2d(c) => {
            let k = c.kernel.0 as u128 * c.kernel.1 as u128 * (c.in_channels / c.groups) as u128;
            (
                c.out_channels as u128 * k,
                batch as u128 * out[1] as u128 * out[2] as u128,
                k,
                c.out_channels as u128,
            )
        }
        Op::Linear {
            in_features,
            out_features,
        } => (
            in_features as u128 * out_features as u128,
            batch as u128,
            in_features as u128,
            out_features as u128,
        ),
        Op::Matmul { m, k, n } => (
            k as u128 * n as u128,
            batch as u128 * m as u128,
            k as u128,
            n as u128,
        ),
        // No weights; every head of every sample is its own product.
        Op::ActMatmul(a) => (
            0,
            batch as u128 * a.heads as u128 * a.m as u128,
            a.k as u128,
            a.n as u128,
        ),
        _ => return None,
    };
    if weights > MAX_LAYER_WEIGHTS as u128 {
        return Some(
            Problem::new(
                path,
                format!(
                    "{} weights exceed what plumsim can hold",
                    magnitude(weights)
                ),
            )
            .with_help(format!(
                "allowed: at most {} weights per layer",
                magnitude(MAX_LAYER_WEIGHTS as u128)
            )),
        );
    }
    // Grouped layers: N above is all groups' filters, K one group's inputs.
    let macs = m * k * n;
    if macs > MAX_LAYER_MACS as u128 {
        return Some(
            Problem::new(
                path,
                format!(
                    "M x K x N = {m} x {k} x {n} = {} MACs exceeds the {} MAC count plumsim bounds a layer to",
                    magnitude(macs),
                    magnitude(MAX_LAYER_MACS as u128)
                ),
            )
            .with_help("a smaller batch, input or layer"),
        );
    }
    None
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
        if shape.is_empty() || shape.iter().any(|&d| d < 1 || d as u64 > MAX_DIM) {
            p.push(
                Problem::new(&path, format!("shape {shape:?} is not allowed")).with_help(format!(
                    "allowed: one or more dimensions, each from 1 to {MAX_DIM} (2^24)"
                )),
            );
        } else if let Some(problem) = tensor_bound(
            &shape.iter().map(|&d| d as u64).collect::<Vec<_>>(),
            batch,
            &path,
        ) {
            p.push(problem);
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
    let mut failed: std::collections::HashSet<TensorId> = std::collections::HashSet::new();
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
        // A layer downstream of one whose shape could not be inferred is not checked: its
        // input shapes are unknown, and the first problem is the one to fix.
        let upstream_failed = inputs.iter().any(|t| failed.contains(t));
        let inferred = if upstream_failed {
            None
        } else {
            infer(l, &in_shapes, &path, &mut p)
        }
        .and_then(|(op, shape)| {
            let problem = tensor_bound(&shape, batch, &path)
                .or_else(|| layer_bound(&op, &shape, batch, &path));
            match problem {
                None => Some((op, shape)),
                Some(problem) => {
                    p.push(problem);
                    None
                }
            }
        });
        let out = by_name[&l.output];
        if inferred.is_none() {
            failed.insert(out);
        }
        let (op, out_shape) = inferred.unwrap_or((Op::Relu, vec![1]));
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
        let params = resolve_params(l.params.as_ref(), &op, &default_weights, &path, &mut p);
        layers.push(Layer {
            params,
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
                values: None,
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
    let input_transform = raw
        .input_transform
        .as_ref()
        .and_then(|t| resolve_transform(t, &tensors_in(&raw), &mut p));
    if !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }
    let sequence = raw
        .sequence
        .as_ref()
        .and_then(|s| resolve_sequence(s, &layers, &tensors, &mut p));
    if !p.is_empty() {
        return Err(Error::invalid(origin, p));
    }
    let net = Network {
        name: raw.name,
        input_transform,
        sequence,
        batch,
        batch_norm: raw.batch_norm.unwrap_or_default(),
        tensors,
        layers,
        graph: g,
    };
    // Every layer is within MAX_LAYER_MACS, so each product below fits; the sum is exact.
    let macs: u128 = net
        .layers
        .iter()
        .filter_map(|l| l.gemm(&net))
        .map(|g| g.m as u128 * g.k as u128 * g.n as u128 * g.groups as u128)
        .sum();
    if macs > MAX_NETWORK_MACS as u128 {
        return Err(Error::invalid(
            origin,
            vec![Problem::new(
                "layers",
                format!(
                    "the network needs {} MACs, beyond the {} plumsim bounds a network to",
                    magnitude(macs),
                    magnitude(MAX_NETWORK_MACS as u128)
                ),
            )
            .with_help("a smaller batch or fewer layers")],
        ));
    }
    Ok(net)
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

/// The workload's `sequence`: the phase's token counts in range, and no attention longer
/// than `max_context` (a matmul of two activations reduces over, or produces, one entry per
/// key: its key length is N for `Q K^T` (`transpose_b`) and K for `P V`).
fn resolve_sequence(
    s: &RawSequence,
    layers: &[Layer],
    tensors: &[Tensor],
    p: &mut Vec<Problem>,
) -> Option<Sequence> {
    let before = p.len();
    let tokens = |key: &str, v: Option<i64>, min: i64, p: &mut Vec<Problem>| match v {
        Some(v) if v >= min && v as u64 <= MAX_DIM => Some(v as u64),
        Some(v) => {
            p.push(
                Problem::new(format!("sequence.{key}"), format!("{v} is out of range"))
                    .with_help(format!("allowed: {min} to {MAX_DIM} (2^24) tokens")),
            );
            None
        }
        None => None,
    };
    let max_context = tokens("max_context", s.max_context, 1, p);
    let (new_tokens, context) = match s.phase {
        Phase::Prefill => {
            if s.context.is_some() {
                p.push(
                    Problem::new("sequence.context", "is not read in prefill")
                        .with_help("prefill states seq_len; decode states context"),
                );
            }
            let seq = tokens("seq_len", s.seq_len, 1, p);
            if s.seq_len.is_none() {
                p.push(
                    Problem::new("sequence.seq_len", "is required for prefill")
                        .with_help("the prompt's tokens per sequence, e.g. 512"),
                );
            }
            (seq.unwrap_or(1), 0)
        }
        Phase::Decode => {
            if s.seq_len.is_some() {
                p.push(
                    Problem::new("sequence.seq_len", "is not read in decode").with_help(
                        "a decode step makes one token per sequence over `context` cached tokens",
                    ),
                );
            }
            let ctx = tokens("context", s.context, 0, p);
            if s.context.is_none() {
                p.push(
                    Problem::new("sequence.context", "is required for decode")
                        .with_help("the tokens already in the KV cache, e.g. 2048"),
                );
            }
            (1, ctx.unwrap_or(0))
        }
    };
    if let Some(max) = max_context {
        let longest = context + new_tokens;
        if longest > max {
            p.push(
                Problem::new(
                    "sequence",
                    format!(
                        "{} + {new_tokens} tokens exceed max_context = {max}",
                        context
                    ),
                )
                .with_help("the model's position limit bounds the KV cache and the prompt"),
            );
        }
        for l in layers {
            if let Op::ActMatmul(a) = l.op {
                let keys = if a.transpose_b { a.n } else { a.k };
                if keys > max {
                    let shapes: Vec<String> = l
                        .inputs
                        .iter()
                        .map(|t| {
                            let t = &tensors[t.0 as usize];
                            format!("`{}` {:?}", t.name, t.shape)
                        })
                        .collect();
                    p.push(
                        Problem::new(
                            format!("layer `{}`", l.name),
                            format!(
                                "attends to {keys} keys ({}), more than sequence.max_context = {max}",
                                shapes.join(", ")
                            ),
                        )
                        .with_help("a KV cache no longer than the model's position limit"),
                    );
                }
            }
        }
    }
    (p.len() == before).then_some(Sequence {
        phase: s.phase,
        new_tokens,
        context,
        max_context,
    })
}

fn tensors_in(raw: &RawWorkload) -> Vec<Vec<i64>> {
    raw.inputs.values().cloned().collect()
}

/// A layer's `params`: which keys its op allows, the file they come from.
fn resolve_params(
    raw: Option<&RawParams>,
    op: &Op,
    default_weights: &RawWeights,
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<ParamSource> {
    let r = raw?;
    let path = format!("{path}.params");
    let allowed: &[&str] = match op {
        Op::Conv2d(_) | Op::Linear { .. } | Op::Matmul { .. } => &["bias"],
        Op::BatchNorm => &["prefix", "eps", "names"],
        Op::Prelu => &["slope"],
        _ => &[],
    };
    let given: Vec<&str> = [
        ("bias", r.bias.is_some()),
        ("prefix", r.prefix.is_some()),
        ("eps", r.eps.is_some()),
        ("names", r.names.is_some()),
        ("slope", r.slope.is_some()),
    ]
    .into_iter()
    .filter(|(_, g)| *g)
    .map(|(k, _)| k)
    .collect();
    let wrong: Vec<&str> = given
        .iter()
        .copied()
        .filter(|k| !allowed.contains(k))
        .collect();
    if !wrong.is_empty() {
        p.push(
            Problem::new(
                &path,
                format!(
                    "{} not allowed on op `{}`",
                    wrong.join(", "),
                    op.kind().as_str()
                ),
            )
            .with_help(if allowed.is_empty() {
                "this op takes no parameters".to_string()
            } else {
                format!("allowed here: {}", allowed.join(", "))
            }),
        );
        return None;
    }
    let Some(file) = r.file.clone().or(default_weights.file.clone()) else {
        p.push(
            Problem::new(format!("{path}.file"), "no file holds these parameters")
                .with_help("set params.file here or weights.file in defaults.weights"),
        );
        return None;
    };
    let keys = match op {
        Op::BatchNorm => {
            let eps = r.eps.unwrap_or(1e-5);
            if !(eps.is_finite() && eps > 0.0 && eps < 1.0) {
                p.push(
                    Problem::new(format!("{path}.eps"), format!("{eps} is out of range"))
                        .with_help("allowed: 0 < eps < 1 (PyTorch's default is 1e-5)"),
                );
            }
            ParamKeys::BatchNorm {
                prefix: r.prefix.clone().or_else(|| {
                    p.push(
                        Problem::new(format!("{path}.prefix"), "missing")
                            .with_help("name the tensors' prefix, e.g. \"aux/bn1\" for aux/bn1.weight, .bias, .running_mean, .running_var"),
                    );
                    None
                })?,
                eps,
                names: r.names.unwrap_or_default(),
            }
        }
        Op::Prelu => ParamKeys::Slope(r.slope.clone().or_else(|| {
            p.push(
                Problem::new(format!("{path}.slope"), "missing").with_help("name the slope tensor"),
            );
            None
        })?),
        _ => ParamKeys::Bias(r.bias.clone().or_else(|| {
            p.push(
                Problem::new(format!("{path}.bias"), "missing").with_help("name the bias tensor"),
            );
            None
        })?),
    };
    Some(ParamSource { file, keys })
}

fn resolve_transform(
    t: &RawInputTransform,
    inputs: &[Vec<i64>],
    p: &mut Vec<Problem>,
) -> Option<InputTransform> {
    let before = p.len();
    let channels = match inputs {
        [shape] if shape.len() == 3 => shape[0].max(1) as usize,
        _ => {
            p.push(
                Problem::new(
                    "input_transform",
                    "needs exactly one network input of shape [C, H, W]",
                )
                .with_help("an image transform applies to one image input"),
            );
            return None;
        }
    };
    let scale = t.scale.unwrap_or(1.0 / 255.0);
    if !(scale.is_finite() && scale > 0.0) {
        p.push(
            Problem::new("input_transform.scale", format!("{scale} is out of range")).with_help(
                "allowed: a finite factor > 0 on pixel values 0..=255 (1/255 maps them to 0..1)",
            ),
        );
    }
    let per_channel = |key: &str, v: &Option<Vec<f64>>, default: f64, p: &mut Vec<Problem>| {
        let v = v.clone().unwrap_or_else(|| vec![default; channels]);
        if v.len() != channels {
            p.push(
                Problem::new(
                    format!("input_transform.{key}"),
                    format!("{} values for {channels} channels", v.len()),
                )
                .with_help("give one value per input channel"),
            );
        }
        if v.iter()
            .any(|x| !x.is_finite() || (key == "std" && *x <= 0.0))
        {
            p.push(
                Problem::new(
                    format!("input_transform.{key}"),
                    format!("{v:?} is not allowed"),
                )
                .with_help(if key == "std" {
                    "allowed: finite values > 0"
                } else {
                    "allowed: finite values"
                }),
            );
        }
        v
    };
    let mean = per_channel("mean", &t.mean, 0.0, p);
    let std = per_channel("std", &t.std, 1.0, p);
    let size = |key: &str, v: Option<i64>, p: &mut Vec<Problem>| match v {
        Some(v) if !(1..=65536).contains(&v) => {
            p.push(
                Problem::new(
                    format!("input_transform.{key}"),
                    format!("{v} is out of range"),
                )
                .with_help("allowed: 1..=65536 pixels"),
            );
            None
        }
        v => v.map(|v| v as u64),
    };
    let resize = size("resize", t.resize, p);
    let crop = size("crop", t.crop, p);
    if let Some(c) = crop {
        let (h, w) = (inputs[0][1], inputs[0][2]);
        if (c as i64, c as i64) != (h, w) {
            p.push(
                Problem::new(
                    "input_transform.crop",
                    format!("{c} x {c} does not match the input's {h} x {w}"),
                )
                .with_help("the crop gives the network input: make it equal the input's H and W"),
            );
        }
    }
    (p.len() == before).then_some(InputTransform {
        scale,
        mean,
        std,
        resize,
        crop,
    })
}
