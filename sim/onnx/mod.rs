//! ONNX import: a model's graph and weights as a plumsim workload (JSON) and the weight tensors
//! it references, in PyTorch layout.
//!
//! The bytes are decoded by prost ([`proto`], the ONNX messages generated from `onnx.proto3`);
//! nothing here reads files: the caller passes the model's bytes and a function that reads an
//! initializer's external data (`io::onnx` does both, and checks the data's path).
//!
//! How the graph becomes layers:
//! - **Constants** are initializers (with data, with external data, or with dims only), `Constant`
//!   and `ConstantOfShape` nodes, and whatever is computed from constants alone (`Shape` of a
//!   tensor whose shape is known, `Gather`, `Cast`, `Slice`, `Concat`, `Reshape`, arithmetic,
//!   `Transpose`, `DequantizeLinear`, ...): those nodes are evaluated here and leave no layer.
//! - **Weights**: `Conv` (groups, pads, strides, dilations, `auto_pad`), `Gemm` (`transB`, `alpha`
//!   folded into the weights, `beta * C` as the bias), `MatMul` with a constant operand (a
//!   `linear` on a vector, a weight `matmul` on a matrix) and the `QLinearConv` /
//!   `QLinearMatMul` ops. An `Add` of a per-channel constant right after a weight layer whose
//!   output nothing else reads becomes that layer's bias. Weights quantized elsewhere
//!   (`DequantizeLinear` of integer codes) run as int-k layers with the file's bit width; the
//!   import checks that plumsim's int-k quantizer gives back the file's codes.
//! - A weight with dims but no values (missing external data, no data, a `ConstantOfShape`
//!   placeholder) gets seeded synthetic weights of its shape, with one warning per tensor; its
//!   layer's other placeholder parameters are left out.
//! - **Elementwise**: `BatchNormalization`, `Relu`, `Clip`, `HardSigmoid`, `HardSwish`, `Sigmoid`,
//!   `Add`/`Sub`/`Mul`/`Div` (broadcasting; a one-element constant operand is the op's
//!   `scalar`), `Sum` (n - 1 adds), pools, `Softmax`, `LayerNormalization`.
//! - **Views** (free): `Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Transpose`, `Slice` (one
//!   `slice` layer per sliced axis, steps kept), `Concat`; `Identity`, `Dropout` and the
//!   activations' `QuantizeLinear`/`DequantizeLinear` are the tensor itself. A zero `Pad` of
//!   the channels is `pad_channels`; of the spatial axes, it joins the padding of the `Conv`
//!   that reads it.
//!
//! The first axis of every activation is the batch. Layer names are the node names (a
//! PyTorch export's `/layer1/layer1.0/conv1/Conv` becomes `layer1.0.conv1/Conv`; an unnamed node
//! is named by its output), made unique.

pub mod proto;
pub mod tensor;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use prost::Message;
use serde_json::{json, Map, Value};

use crate::error::{Error, Problem, Result};
use crate::workload::Network;
use proto::{AttributeProto, ModelProto, NodeProto, TensorProto};
use tensor::{Const, QuantInfo};

/// The newest `ai.onnx` opset plumsim reads (ONNX 1.23.0's).
pub const MAX_OPSET: i64 = 28;
/// The newest IR version plumsim reads (ONNX 1.23.0's).
pub const MAX_IR_VERSION: i64 = 13;

/// Ops that become layers (or views); the error for any other op lists them.
pub const SUPPORTED_OPS: &[&str] = &[
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "ConstantOfShape",
    "Conv",
    "DequantizeLinear",
    "Div",
    "Dropout",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "LayerNormalization",
    "LeakyRelu",
    "MatMul",
    "MaxPool",
    "Mul",
    "Pad",
    "PRelu",
    "QLinearConv",
    "QLinearMatMul",
    "QuantizeLinear",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Size",
    "Slice",
    "Softmax",
    "Squeeze",
    "Sub",
    "Sum",
    "Transpose",
    "Unsqueeze",
];

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The workload's name.
    pub name: String,
    /// The weights file the workload names (relative to the workload), e.g. `model.safetensors`,
    /// or the `.onnx` itself when it is run directly.
    pub weights_file: String,
    /// Shapes of the network inputs, with the batch first (`--input-shape NAME=1,3,224,224`).
    pub input_shapes: BTreeMap<String, Vec<u64>>,
    /// Resolve dynamic dimensions nobody gave as 1 (reading weights only: they do not depend
    /// on the input's shape).
    pub unresolved_as_one: bool,
}

/// An initializer's external data, as the model names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalRef {
    pub tensor: String,
    pub location: String,
    pub offset: u64,
    pub length: Option<u64>,
}

/// Reads an initializer's external data: `Ok(None)` when its file is absent (a shape-only
/// model).
pub type ExternalReader<'a> = dyn FnMut(&ExternalRef) -> Result<Option<Vec<u8>>> + 'a;

/// A weight tensor of the import, PyTorch layout, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<u64>,
    pub data: Vec<f32>,
}

/// What the import made.
#[derive(Debug)]
pub struct Imported {
    /// The workload JSON (one layer per line).
    pub json: String,
    /// The validated network.
    pub network: Network,
    /// The tensors the workload names, by name.
    pub tensors: Vec<Tensor>,
    /// Placeholder weights replaced by synthetic ones, and other things the user should know.
    pub warnings: Vec<String>,
    pub stats: ImportStats,
}

/// Counts for the import's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportStats {
    pub nodes: usize,
    pub folded_nodes: usize,
    pub layers: usize,
    pub weight_layers: usize,
    /// Weights read from the file (weight layers' tensors only, not biases or norms).
    pub file_weights: u64,
    /// Weights of layers whose tensors were placeholders (synthetic).
    pub synthetic_weights: u64,
    pub macs: u64,
}

/// Import an ONNX model from its bytes. `origin` names the file in messages.
pub fn import(
    bytes: &[u8],
    origin: &str,
    options: &ImportOptions,
    external: &mut ExternalReader<'_>,
) -> Result<Imported> {
    let model = ModelProto::decode(bytes).map_err(|e| Error::Parse {
        origin: origin.into(),
        line: None,
        column: None,
        message: format!(
            "not an ONNX model: the protobuf does not decode ({e}) (help: the file may be truncated, or not an .onnx file)"
        ),
    })?;
    let invalid = |path: &str, msg: String, help: &str| {
        let mut pr = Problem::new(path, msg);
        if !help.is_empty() {
            pr = pr.with_help(help);
        }
        Error::invalid(origin, vec![pr])
    };
    let Some(graph) = model.graph.as_ref().filter(|_| model.ir_version > 0) else {
        return Err(invalid(
            "model",
            "is not an ONNX model: it has no ir_version or no graph".into(),
            "export the model with torch.onnx.export, tf2onnx or paddle2onnx",
        ));
    };
    if model.ir_version > MAX_IR_VERSION {
        return Err(invalid(
            "model.ir_version",
            format!(
                "{} is newer than plumsim reads (at most {MAX_IR_VERSION}, ONNX 1.23)",
                model.ir_version
            ),
            "export with an older opset, or convert the model with onnx.version_converter",
        ));
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(if model.opset_import.is_empty() { 1 } else { 0 });
    if !(1..=MAX_OPSET).contains(&opset) {
        return Err(invalid(
            "model.opset_import",
            if opset == 0 {
                "names no ai.onnx opset".to_string()
            } else {
                format!("ai.onnx opset {opset} is unknown")
            },
            &format!("plumsim reads ai.onnx opsets 1 to {MAX_OPSET} (ONNX 1.23)"),
        ));
    }
    let mut l = Lower::new(origin, opset, options);
    // Constants first: initializers.
    for t in &graph.initializer {
        let mut c = l.initializer(t, external)?;
        c.origin = Some(t.name.clone());
        l.vals.insert(t.name.clone(), Val::Const(Rc::new(c)));
    }
    if let Some(s) = graph.sparse_initializer.first() {
        let name = s
            .values
            .as_ref()
            .map(|v| v.name.clone())
            .unwrap_or_default();
        return Err(invalid(
            &format!("initializer `{name}`"),
            "is a sparse initializer, which plumsim does not read".into(),
            "store it dense",
        ));
    }
    l.inputs(graph)?;
    let order = order(graph, &l.vals, origin)?;
    // Consumers per value (graph outputs count as one), for bias folding.
    for node in &graph.node {
        for i in node.input.iter().filter(|i| !i.is_empty()) {
            *l.consumers.entry(i.clone()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *l.consumers.entry(o.name.clone()).or_default() += 1;
    }
    for &i in &order {
        l.node(&graph.node[i])?;
    }
    l.stats.nodes = graph.node.len();
    for o in &graph.output {
        match l.vals.get(&o.name) {
            Some(Val::Act(_)) => {}
            Some(Val::Const(_)) => l.warn(format!(
                "graph output `{}` is a constant: no layer computes it",
                o.name
            )),
            None => {
                return Err(invalid(
                    &format!("graph output `{}`", o.name),
                    "is produced by no node".into(),
                    "",
                ))
            }
        }
    }
    l.finish(options)
}

/// Nodes in an order where each one's inputs exist before it: the file's order among the nodes
/// ready at each step (Kahn's algorithm). A cycle, a value produced twice or an input nobody
/// produces is an error.
fn order(
    graph: &proto::GraphProto,
    vals: &HashMap<String, Val>,
    origin: &str,
) -> Result<Vec<usize>> {
    let err = |node: &NodeProto, msg: String, help: &str| {
        Error::invalid(
            origin,
            vec![Problem::new(node_path(node), msg).with_help(help)],
        )
    };
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (i, n) in graph.node.iter().enumerate() {
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            if vals.contains_key(o.as_str()) || producer.insert(o, i).is_some() {
                return Err(err(
                    n,
                    format!("output `{o}` is already produced by another node, an initializer or a graph input"),
                    "every value of an ONNX graph has one producer",
                ));
            }
        }
    }
    let mut waiting = vec![0usize; graph.node.len()];
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); graph.node.len()];
    for (i, n) in graph.node.iter().enumerate() {
        let mut seen = HashSet::new();
        for inp in n.input.iter().filter(|x| !x.is_empty()) {
            if vals.contains_key(inp.as_str()) {
                continue;
            }
            match producer.get(inp.as_str()) {
                Some(&p) => {
                    if seen.insert(p) {
                        waiting[i] += 1;
                        users[p].push(i);
                    }
                }
                None => {
                    return Err(err(
                        n,
                        format!(
                        "input `{inp}` is produced by no node and is no initializer or graph input"
                    ),
                        "the graph is incomplete",
                    ))
                }
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..graph.node.len()).filter(|&i| waiting[i] == 0).collect();
    let mut out = Vec::with_capacity(graph.node.len());
    while let Some(i) = ready.pop_first() {
        out.push(i);
        for &u in &users[i] {
            waiting[u] -= 1;
            if waiting[u] == 0 {
                ready.insert(u);
            }
        }
    }
    if out.len() < graph.node.len() {
        let stuck: Vec<String> = (0..graph.node.len())
            .filter(|&i| waiting[i] > 0)
            .take(5)
            .map(|i| node_path(&graph.node[i]))
            .collect();
        let first = &graph.node[(0..graph.node.len())
            .find(|&i| waiting[i] > 0)
            .expect("stuck")];
        return Err(err(
            first,
            format!(
                "is on a cycle: {} nodes wait on each other ({}{})",
                graph.node.len() - out.len(),
                stuck.join(", "),
                if graph.node.len() - out.len() > 5 {
                    ", ..."
                } else {
                    ""
                }
            ),
            "an ONNX graph is acyclic",
        ));
    }
    Ok(out)
}

/// `node `NAME` (OpType)`, the place of a node in messages.
fn node_path(n: &NodeProto) -> String {
    let name = if n.name.is_empty() {
        n.output
            .first()
            .map(|o| format!("output {o}"))
            .unwrap_or_default()
    } else {
        n.name.clone()
    };
    format!("node `{name}` ({})", n.op_type)
}

#[derive(Debug, Clone)]
enum Val {
    Const(Rc<Const>),
    Act(Act),
}

/// An activation: the workload tensor holding it, its ONNX shape (batch first), its shape as
/// plumsim's layer gives it (per sample; a `linear` gives `[N, 1, 1]` for ONNX's `[N]`), and a
/// zero padding of its spatial axes waiting for the `Conv` that reads it.
#[derive(Debug, Clone)]
struct Act {
    wl: String,
    shape: Vec<u64>,
    plum: Vec<u64>,
    pad: Option<[u64; 4]>,
    /// The view node whose shape `shape` is while plumsim's tensor keeps `plum` (a reshape
    /// layer of that name is made when a consumer needs the shape).
    view: Option<String>,
}

impl Act {
    fn sample(&self) -> Vec<u64> {
        self.shape[1..].to_vec()
    }
}

struct Lower<'a> {
    origin: &'a str,
    opset: i64,
    options: &'a ImportOptions,
    batch: Option<u64>,
    vals: HashMap<String, Val>,
    inputs: Vec<(String, Vec<u64>)>,
    layers: Vec<Map<String, Value>>,
    names: HashSet<String>,
    /// Workload tensor -> the weight layer that wrote it (bias folding).
    weight_layer: HashMap<String, usize>,
    consumers: HashMap<String, usize>,
    /// Each emitted layer's output and its per-sample shape as plumsim must compute it.
    expected: Vec<(String, Vec<u64>)>,
    tensors: BTreeMap<String, Tensor>,
    warnings: Vec<String>,
    warned: HashSet<String>,
    synthetic_tensors: usize,
    stats: ImportStats,
}

type Attrs<'n> = HashMap<&'n str, &'n AttributeProto>;

impl<'a> Lower<'a> {
    fn new(origin: &'a str, opset: i64, options: &'a ImportOptions) -> Self {
        Lower {
            origin,
            opset,
            options,
            batch: None,
            vals: HashMap::new(),
            inputs: Vec::new(),
            layers: Vec::new(),
            names: HashSet::new(),
            weight_layer: HashMap::new(),
            consumers: HashMap::new(),
            expected: Vec::new(),
            tensors: BTreeMap::new(),
            warnings: Vec::new(),
            warned: HashSet::new(),
            synthetic_tensors: 0,
            stats: ImportStats::default(),
        }
    }

    fn warn(&mut self, w: String) {
        if self.warned.insert(w.clone()) {
            self.warnings.push(w);
        }
    }

    fn err(&self, node: &NodeProto, msg: impl Into<String>, help: impl Into<String>) -> Error {
        let help = help.into();
        let mut pr = Problem::new(node_path(node), msg);
        if !help.is_empty() {
            pr = pr.with_help(help);
        }
        Error::invalid(self.origin, vec![pr])
    }

    fn initializer(&mut self, t: &TensorProto, external: &mut ExternalReader<'_>) -> Result<Const> {
        let weights_err = |message: String| Error::Weights {
            file: self.origin.to_string(),
            tensor: t.name.clone(),
            layer: None,
            message,
        };
        let ext = if t.data_location == proto::tensor_proto::DataLocation::External as i32 {
            let get = |k: &str| {
                t.external_data
                    .iter()
                    .find(|e| e.key == k)
                    .map(|e| e.value.clone())
            };
            let location = get("location").ok_or_else(|| {
                weights_err("its data is external, but it names no location".into())
            })?;
            let num = |k: &str| -> Result<Option<u64>> {
                get(k)
                    .map(|v| {
                        v.parse::<u64>().map_err(|_| {
                            weights_err(format!("external data {k} `{v}` is not a byte count"))
                        })
                    })
                    .transpose()
            };
            let r = ExternalRef {
                tensor: t.name.clone(),
                location,
                offset: num("offset")?.unwrap_or(0),
                length: num("length")?,
            };
            Some(external(&r)?)
        } else {
            None
        };
        tensor::decode(t, ext.as_ref().map(|o| o.as_deref())).map_err(weights_err)
    }

    /// Network inputs: graph inputs that are not initializers, with every dimension resolved.
    fn inputs(&mut self, graph: &proto::GraphProto) -> Result<()> {
        let given = &self.options.input_shapes;
        for name in given.keys() {
            if !graph
                .input
                .iter()
                .any(|i| &i.name == name && !self.vals.contains_key(name))
            {
                let names: Vec<&str> = graph
                    .input
                    .iter()
                    .filter(|i| !self.vals.contains_key(&i.name))
                    .map(|i| i.name.as_str())
                    .collect();
                return Err(Error::invalid(
                    self.origin,
                    vec![Problem::new(
                        format!("--input-shape {name}"),
                        "names no input of the model",
                    )
                    .with_help(format!("its inputs: {}", names.join(", ")))],
                ));
            }
        }
        for vi in &graph.input {
            if self.vals.contains_key(&vi.name) {
                continue;
            }
            let dims: Vec<Option<u64>> = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(proto::type_proto::Value::TensorType(tt)) => {
                    tt.shape
                        .as_ref()
                        .map(|s| {
                            s.dim
                                .iter()
                                .map(|d| match d.value {
                                    Some(
                                        proto::tensor_shape_proto::dimension::Value::DimValue(v),
                                    ) if v > 0 => Some(v as u64),
                                    _ => None,
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
            let shown = |dims: &[Option<u64>]| {
                dims.iter()
                    .map(|d| d.map_or("?".to_string(), |v| v.to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let shape: Vec<u64> = match given.get(&vi.name) {
                Some(g) => {
                    let fits = dims.is_empty()
                        || (g.len() == dims.len()
                            && g.iter().zip(&dims).all(|(&a, d)| d.is_none_or(|d| d == a)));
                    if !fits {
                        return Err(Error::invalid(
                            self.origin,
                            vec![Problem::new(
                                format!("--input-shape {}", vi.name),
                                format!("{g:?} does not fit the model's [{}]", shown(&dims)),
                            )
                            .with_help("give every dimension, equal to the model's fixed ones")],
                        ));
                    }
                    g.clone()
                }
                None if !dims.is_empty() && dims.iter().all(Option::is_some) => {
                    dims.iter().map(|d| d.expect("all some")).collect()
                }
                None if self.options.unresolved_as_one && !dims.is_empty() => {
                    dims.iter().map(|d| d.unwrap_or(1)).collect()
                }
                None => {
                    let example: Vec<String> = dims
                        .iter()
                        .enumerate()
                        .map(|(i, d)| {
                            d.map_or(if i == 0 { "1".into() } else { "N".into() }, |v| {
                                v.to_string()
                            })
                        })
                        .collect();
                    return Err(Error::invalid(
                        self.origin,
                        vec![Problem::new(
                            format!("input `{}`", vi.name),
                            if dims.is_empty() {
                                "has no shape in the model".to_string()
                            } else {
                                format!("has dynamic dimensions: [{}]", shown(&dims))
                            },
                        )
                        .with_help(format!(
                            "give its shape, batch first: --input-shape {}={}",
                            vi.name,
                            example.join(",")
                        ))],
                    ));
                }
            };
            if shape.is_empty() || shape.contains(&0) {
                return Err(Error::invalid(
                    self.origin,
                    vec![Problem::new(
                        format!("input `{}`", vi.name),
                        format!("shape {shape:?} has no batch axis or an empty axis"),
                    )],
                ));
            }
            match self.batch {
                None => self.batch = Some(shape[0]),
                Some(b) if b != shape[0] => {
                    return Err(Error::invalid(
                        self.origin,
                        vec![Problem::new(
                            format!("input `{}`", vi.name),
                            format!("batch {} differs from another input's {b}", shape[0]),
                        )
                        .with_help("the first axis of every input is the batch")],
                    ))
                }
                _ => {}
            }
            let sample = shape[1..].to_vec();
            self.inputs.push((vi.name.clone(), sample.clone()));
            self.vals.insert(
                vi.name.clone(),
                Val::Act(Act {
                    wl: vi.name.clone(),
                    shape,
                    plum: sample,
                    pad: None,
                    view: None,
                }),
            );
        }
        if self.inputs.is_empty() {
            return Err(Error::invalid(
                self.origin,
                vec![Problem::new(
                    "graph.input",
                    "the model has no input that is not an initializer",
                )],
            ));
        }
        Ok(())
    }

    fn val(&self, node: &NodeProto, i: usize) -> Option<&Val> {
        node.input
            .get(i)
            .filter(|s| !s.is_empty())
            .and_then(|s| self.vals.get(s))
    }

    fn act(&self, node: &NodeProto, i: usize) -> Result<Act> {
        match self.val(node, i) {
            Some(Val::Act(a)) => Ok(a.clone()),
            Some(Val::Const(_)) => Err(self.err(
                node,
                format!(
                    "input {i} (`{}`) is a constant where plumsim needs an activation",
                    node.input[i]
                ),
                "only activations flow through layers; a constant operand must be the weights",
            )),
            None => Err(self.err(node, format!("has no input {i}"), "")),
        }
    }

    fn konst(&self, node: &NodeProto, i: usize, what: &str) -> Result<Rc<Const>> {
        match self.val(node, i) {
            Some(Val::Const(c)) => Ok(c.clone()),
            Some(Val::Act(_)) => Err(self.err(
                node,
                format!(
                    "{what} (input {i}, `{}`) is computed at run time",
                    node.input[i]
                ),
                format!(
                    "plumsim needs the {what} as a constant (an initializer or a Constant node)"
                ),
            )),
            None => Err(self.err(node, format!("has no {what} (input {i})"), "")),
        }
    }

    fn opt_konst(&self, node: &NodeProto, i: usize, what: &str) -> Result<Option<Rc<Const>>> {
        match self.val(node, i) {
            None => Ok(None),
            Some(_) => self.konst(node, i, what).map(Some),
        }
    }

    /// The name a constant input is stored under: the initializer or Constant it is.
    fn key_of(&self, node: &NodeProto, i: usize) -> String {
        match self.val(node, i) {
            Some(Val::Const(c)) => c.origin.clone().unwrap_or_else(|| node.input[i].clone()),
            _ => node.input.get(i).cloned().unwrap_or_default(),
        }
    }

    fn ints(&self, node: &NodeProto, i: usize, what: &str) -> Result<Vec<i64>> {
        let c = self.konst(node, i, what)?;
        c.i64s()
            .ok_or_else(|| self.err(node, format!("{what} has no integer values"), ""))
    }

    fn name_for(&mut self, node: &NodeProto) -> String {
        let base = readable(node);
        let mut name = base.clone();
        let mut k = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{base}_{k}");
            k += 1;
        }
        name
    }

    fn aux_name(&mut self, base: &str, what: &str) -> String {
        let stem = format!("{base}.{what}");
        let mut name = stem.clone();
        let mut k = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{stem}_{k}");
            k += 1;
        }
        name
    }

    /// Append a layer; its output tensor is named like it.
    fn emit(
        &mut self,
        name: &str,
        op: &str,
        inputs: &[&str],
        fields: Map<String, Value>,
    ) -> String {
        let mut m = Map::new();
        m.insert("name".into(), json!(name));
        m.insert("op".into(), json!(op));
        m.insert("inputs".into(), json!(inputs));
        m.insert("output".into(), json!(name));
        m.extend(fields);
        self.layers.push(m);
        name.to_string()
    }

    /// A placeholder weight replaced by synthetic weights (one warning per tensor).
    fn synthetic_warning(&mut self, source: &str, layer: &str, shape: &[u64], why: &str) {
        self.synthetic_tensors += 1;
        self.warn(format!(
            "tensor `{source}` (layer `{layer}`, {shape:?}): {why}; synthetic weights of its shape are used"
        ));
    }

    fn set(&mut self, node: &NodeProto, i: usize, v: Val) {
        if let Some(o) = node.output.get(i).filter(|o| !o.is_empty()) {
            self.vals.insert(o.clone(), v);
        }
    }

    fn batch(&self) -> u64 {
        self.batch.unwrap_or(1)
    }

    /// `a` with plumsim's shape equal to ONNX's (a reshape view when they differ).
    fn exact(&mut self, base: &str, a: &Act) -> Act {
        let sample = a.sample();
        if a.plum == sample {
            return a.clone();
        }
        let name = match &a.view {
            Some(v) if !self.names.contains(v) => {
                self.names.insert(v.clone());
                v.clone()
            }
            Some(v) => self.aux_name(v, "view"),
            None => self.aux_name(base, "view"),
        };
        let wl = self.emit(
            &name,
            "reshape",
            &[&a.wl],
            fields(&[("shape", json!(sample))]),
        );
        self.expected.push((wl.clone(), sample.clone()));
        Act {
            wl,
            shape: a.shape.clone(),
            plum: sample,
            pad: None,
            view: None,
        }
    }

    fn no_pad(&self, node: &NodeProto, a: &Act) -> Result<()> {
        if a.pad.is_some() {
            return Err(self.err(
                node,
                "reads a spatially padded tensor (a Pad node), which only a Conv can absorb",
                "plumsim folds a zero Pad of height and width into the Conv that reads it",
            ));
        }
        Ok(())
    }

    /// Store a weight tensor under `key` (or a name derived from the layer when `key` holds a
    /// different tensor); the name the workload references.
    fn store(
        &mut self,
        key: &str,
        layer: &str,
        suffix: &str,
        shape: Vec<u64>,
        data: Vec<f32>,
    ) -> String {
        let mut name = if key.is_empty() {
            format!("{layer}.{suffix}")
        } else {
            key.to_string()
        };
        if let Some(t) = self.tensors.get(&name) {
            if t.shape == shape && t.data == data {
                return name;
            }
            name = format!("{layer}.{suffix}");
            let mut k = 2;
            while self.tensors.contains_key(&name) {
                name = format!("{layer}.{suffix}_{k}");
                k += 1;
            }
        }
        self.tensors.insert(
            name.clone(),
            Tensor {
                name: name.clone(),
                shape,
                data,
            },
        );
        name
    }

    /// The `weights` and `quant` fields of a weight layer from its (PyTorch layout) weights.
    fn weight_fields(
        &mut self,
        node: &NodeProto,
        (layer, source): (&str, &str),
        w: &Const,
        laid_out: LaidOut,
        f: &mut Map<String, Value>,
    ) -> Result<bool> {
        let LaidOut { shape, data, codes } = laid_out;
        let n: u64 = shape.iter().product();
        match data {
            Some(d) if w.missing.is_none() => {
                self.stats.file_weights += n;
                if let (Some(q), Some(codes)) = (&w.quantized, codes) {
                    self.check_codes(node, layer, q, &shape, &d, &codes, f)?;
                }
                let key = self.store(source, layer, "weight", shape, d);
                f.insert("weights".into(), json!({ "tensor": key }));
                Ok(true)
            }
            _ => {
                self.stats.synthetic_weights += n;
                let why = w
                    .missing
                    .clone()
                    .unwrap_or_else(|| "it has no values".into());
                self.synthetic_warning(source, layer, &shape, &why);
                f.insert(
                    "weights".into(),
                    json!({ "synthetic": { "distribution": "laplace" } }),
                );
                Ok(false)
            }
        }
    }

    /// A weight quantized elsewhere runs as int-k with the file's width; plumsim's int-k
    /// quantizer must give back the file's codes (it does when each filter's largest code is
    /// the type's largest, as symmetric exporters make them).
    #[allow(clippy::too_many_arguments)]
    fn check_codes(
        &mut self,
        node: &NodeProto,
        layer: &str,
        q: &QuantInfo,
        shape: &[u64],
        w: &[f32],
        codes: &[i64],
        f: &mut Map<String, Value>,
    ) -> Result<()> {
        if q.zero_points.iter().any(|&z| z != 0) || !q.signed {
            return Err(self.err(
                node,
                "its weights are quantized with a nonzero zero point (or unsigned codes)",
                "plumsim's int-k datapath is symmetric: quantize the weights symmetric int8 (zero point 0), e.g. onnxruntime's quantize_static(..., extra_options={\"WeightSymmetric\": True})",
            ));
        }
        let per_channel = q.axis.is_some() && q.scales.len() > 1;
        let scheme = crate::quant::Scheme::Int {
            bits: q.bits,
            per_channel,
        };
        let mine = crate::quant::quantize(w, shape, &scheme);
        let differ = mine
            .codes
            .iter()
            .zip(codes)
            .filter(|(&a, &b)| a as i64 != b)
            .count();
        if differ > 0 {
            self.warn(format!(
                "layer `{layer}`: plumsim's int{} quantizer ({} scale, max |w| / {}) gives {differ} of {} codes different from the file's (a filter's largest code is below {}); the layer runs plumsim's codes",
                q.bits,
                if per_channel { "per-channel" } else { "per-tensor" },
                (1i64 << (q.bits - 1)) - 1,
                codes.len(),
                (1i64 << (q.bits - 1)) - 1
            ));
        }
        f.insert(
            "quant".into(),
            json!({ "scheme": "int", "weight_bits": q.bits, "per_channel": per_channel }),
        );
        Ok(())
    }

    fn bias_field(
        &mut self,
        layer: &str,
        source: &str,
        b: Option<&Const>,
        n: u64,
        f: &mut Map<String, Value>,
    ) {
        let Some(b) = b else { return };
        match (b.f32s(), &b.missing) {
            (Some(v), None) if v.len() as u64 == n => {
                let key = self.store(source, layer, "bias", vec![n], v);
                f.insert("params".into(), json!({ "bias": key }));
            }
            (Some(v), None) if v.len() == 1 => {
                let key = self.store("", layer, "bias", vec![n], vec![v[0]; n as usize]);
                f.insert("params".into(), json!({ "bias": key }));
            }
            _ => {
                self.warn(format!(
                "tensor `{source}` (bias of layer `{layer}`): {}; the layer runs without a bias",
                b.missing.clone().unwrap_or_else(|| "it has no values".into())
            ))
            }
        }
    }

    fn node(&mut self, node: &NodeProto) -> Result<()> {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(self.unsupported(node));
        }
        let attrs: Attrs = node
            .attribute
            .iter()
            .map(|a| (a.name.as_str(), a))
            .collect();
        // Constant subgraphs are evaluated here.
        let all_const = node
            .input
            .iter()
            .filter(|i| !i.is_empty())
            .all(|i| matches!(self.vals.get(i), Some(Val::Const(_))));
        if node.op_type == "Shape"
            || node.op_type == "Size"
            || node.op_type == "Constant"
            || (all_const && !node.input.is_empty())
        {
            if let Some(mut c) = self.fold(node, &attrs)? {
                self.stats.folded_nodes += 1;
                if node.op_type == "Constant" {
                    c.origin = node.output.first().cloned();
                }
                self.set(node, 0, Val::Const(Rc::new(c)));
                return Ok(());
            }
        }
        self.lower(node, &attrs)
    }

    fn unsupported(&self, node: &NodeProto) -> Error {
        let domain = if node.domain.is_empty() || node.domain == "ai.onnx" {
            String::new()
        } else {
            format!(" of domain `{}`", node.domain)
        };
        self.err(
            node,
            format!(
                "op `{}`{domain} (inputs {:?}) is not supported",
                node.op_type, node.input
            ),
            format!("supported ops (ai.onnx): {}", SUPPORTED_OPS.join(", ")),
        )
    }
}

/// An f32 as JSON, written as its shortest decimal (1e-5, not 0.000010000000656873453).
fn real(v: f32) -> Value {
    json!(v.to_string().parse::<f64>().unwrap_or(v as f64))
}

/// A weight tensor in PyTorch layout: its shape, values and (quantized elsewhere) codes.
struct LaidOut {
    shape: Vec<u64>,
    data: Option<Vec<f32>>,
    codes: Option<Vec<i64>>,
}

/// A fields map from pairs.
fn fields(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// A kernel, stride, padding or dilation: one number when square.
fn pair(h: u64, w: u64) -> Value {
    if h == w {
        json!(h)
    } else {
        json!([h, w])
    }
}

/// The readable name of a node: its name (a PyTorch export's `/a/b.c/Op` as `b.c/Op`, the
/// module's qualified name and the op), else its first output's.
fn readable(node: &NodeProto) -> String {
    let raw = if node.name.is_empty() {
        match node.output.first() {
            Some(o) if !o.is_empty() && o.chars().all(|c| c.is_ascii_digit()) => {
                format!("{}_{o}", node.op_type)
            }
            Some(o) if !o.is_empty() => o.clone(),
            _ => node.op_type.clone(),
        }
    } else {
        node.name.clone()
    };
    if let Some(rest) = raw.strip_prefix('/') {
        // PyTorch writes the module path, each step named within its parent
        // (`/layer1/layer1.0/conv1/Conv`); a step that extends the one before
        // (`features/features.1`) replaces it, so the path joins into the module's qualified
        // name (`layer1.0.conv1`), followed by the op.
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        if let Some((op, path)) = parts.split_last() {
            let mut module: Vec<&str> = Vec::new();
            for p in path {
                match module.last() {
                    Some(last) if p.starts_with(&format!("{last}.")) => {
                        *module.last_mut().expect("non-empty") = p;
                    }
                    _ => module.push(p),
                }
            }
            return if module.is_empty() {
                op.to_string()
            } else {
                format!("{}/{op}", module.join("."))
            };
        }
    }
    raw
}

fn attr_i(a: &Attrs, k: &str, d: i64) -> i64 {
    a.get(k).map_or(d, |x| x.i)
}

fn attr_f(a: &Attrs, k: &str, d: f32) -> f32 {
    a.get(k).map_or(d, |x| x.f)
}

fn attr_ints(a: &Attrs, k: &str) -> Option<Vec<i64>> {
    a.get(k).map(|x| x.ints.clone())
}

fn attr_s(a: &Attrs, k: &str) -> String {
    a.get(k)
        .map(|x| String::from_utf8_lossy(&x.s).into_owned())
        .unwrap_or_default()
}

mod fold;
mod lower;
