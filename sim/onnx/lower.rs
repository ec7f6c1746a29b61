//! Nodes that become layers: weight layers, elementwise ops, pools and views.

use serde_json::{json, Map, Value};

use super::fold::{broadcast, norm_axis, transpose};
use super::proto::NodeProto;
use super::tensor::{Const, Data};
use super::{
    attr_f, attr_i, attr_ints, attr_s, fields, pair, readable, real, Act, Attrs, ImportOptions,
    Imported, LaidOut, Lower, Val,
};
use crate::error::{Error, Result};
use crate::workload::parse_workload;

/// A 2-D window op's geometry: kernel, stride, symmetric padding, dilation.
struct Window {
    stride: (u64, u64),
    pad: (u64, u64),
    dilation: (u64, u64),
}

impl Lower<'_> {
    pub(super) fn lower(&mut self, node: &NodeProto, a: &Attrs) -> Result<()> {
        match node.op_type.as_str() {
            "Identity" | "Dropout" => {
                let x = self.act(node, 0)?;
                self.set(node, 0, Val::Act(x));
            }
            "QuantizeLinear" | "DequantizeLinear" => {
                let x = self.act(node, 0)?;
                self.warn(
                    "activation QuantizeLinear/DequantizeLinear pairs are the tensor itself: activations are quantized by plumsim, per tensor at each layer's activation_bits (8)".into(),
                );
                self.set(node, 0, Val::Act(x));
            }
            "Conv" => {
                let w = self.konst(node, 1, "weights")?;
                let b = self.opt_konst(node, 2, "bias")?;
                let keys = (self.key_of(node, 1), self.key_of(node, 2));
                self.conv(node, a, &w, b.as_deref(), keys)?;
            }
            "QLinearConv" => {
                // x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
                let w = self.dequantized(node, 3, 4, 5, 0)?;
                let b = self.qlinear_bias(node, &w)?;
                let keys = (self.key_of(node, 3), self.key_of(node, 8));
                self.conv(node, a, &w, b.as_ref(), keys)?;
            }
            "Gemm" => self.gemm(node, a)?,
            "MatMul" => {
                let b = match self.val(node, 1) {
                    Some(Val::Const(c)) => Some(c.clone()),
                    _ => None,
                };
                match b {
                    Some(b) => {
                        let src = self.key_of(node, 1);
                        self.matmul_const(node, &b, false, 1.0, None, src)?
                    }
                    None => self.matmul_acts(node)?,
                }
            }
            "QLinearMatMul" => {
                // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
                let b = self.dequantized(node, 3, 4, 5, 1)?;
                let src = self.key_of(node, 3);
                self.matmul_const(node, &b, false, 1.0, None, src)?;
            }
            "BatchNormalization" => self.batch_norm(node, a)?,
            "Relu" => self.unary(node, "relu", Map::new())?,
            "PRelu" | "LeakyRelu" => {
                let x = self.act(node, 0)?;
                let c = x.shape.get(1).copied().unwrap_or(1);
                let slope = if node.op_type == "LeakyRelu" {
                    vec![attr_f(a, "alpha", 0.01)]
                } else {
                    let s = self.konst(node, 1, "slope")?;
                    match s
                        .f32s()
                        .filter(|v| s.missing.is_none() && (v.len() == 1 || v.len() as u64 == c))
                    {
                        Some(v) => v,
                        None => {
                            return Err(self.err(
                                node,
                                format!("slope of shape {:?}", s.dims),
                                "plumsim's prelu takes one slope, or one per channel",
                            ))
                        }
                    }
                };
                let name = self.name_for(node);
                let key = if node.op_type == "PRelu" {
                    self.key_of(node, 1)
                } else {
                    String::new()
                };
                let n = slope.len() as u64;
                let key = self.store(&key, &name, "slope", vec![n], slope);
                let f = fields(&[("params", json!({ "slope": key }))]);
                self.unary_named(node, &x, &name, "prelu", f)?
            }
            "Sigmoid" => self.unary(node, "sigmoid", Map::new())?,
            "HardSwish" => self.unary(node, "hard_swish", Map::new())?,
            "HardSigmoid" => {
                let f = fields(&[
                    ("alpha", real(attr_f(a, "alpha", 0.2))),
                    ("beta", real(attr_f(a, "beta", 0.5))),
                ]);
                self.unary(node, "hard_sigmoid", f)?
            }
            "Clip" => {
                let (lo, hi) = if self.opset < 11 {
                    (
                        a.get("min").map(|x| x.f as f64),
                        a.get("max").map(|x| x.f as f64),
                    )
                } else {
                    let bound = |l: &Self, i: usize, what: &str| -> Result<Option<f64>> {
                        match l.opt_konst(node, i, what)? {
                            None => Ok(None),
                            Some(c) => c.scalar().map(Some).ok_or_else(|| {
                                l.err(node, format!("{what} is not a single value"), "")
                            }),
                        }
                    };
                    (bound(self, 1, "min")?, bound(self, 2, "max")?)
                };
                let finite = |v: Option<f64>| v.filter(|v| v.abs() < f32::MAX as f64);
                let mut f = Map::new();
                if let Some(v) = finite(lo) {
                    f.insert("min".into(), real(v as f32));
                }
                if let Some(v) = finite(hi) {
                    f.insert("max".into(), real(v as f32));
                }
                self.unary(node, "clip", f)?
            }
            "Add" | "Sub" | "Mul" | "Div" => self.binary(node)?,
            "Sum" => self.sum(node)?,
            "MaxPool" | "AveragePool" => self.pool(node, a)?,
            "GlobalAveragePool" | "GlobalMaxPool" => {
                let x0 = self.act(node, 0)?;
                self.no_pad(node, &x0)?;
                let name = self.name_for(node);
                let x = self.exact(&name, &x0);
                if x.shape.len() != 4 {
                    return Err(self.err(
                        node,
                        format!("input shape {:?} is not [N, C, H, W]", x.shape),
                        "",
                    ));
                }
                let op = if node.op_type == "GlobalMaxPool" {
                    "max_pool"
                } else {
                    "avg_pool"
                };
                let wl = self.emit(&name, op, &[&x.wl], fields(&[("global", json!(true))]));
                let shape = vec![x.shape[0], x.shape[1], 1, 1];
                self.produce(node, wl, shape, None)?;
            }
            "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" => {
                let x = self.act(node, 0)?;
                self.no_pad(node, &x)?;
                let dims = self.view_dims(node, a, &x.shape)?;
                self.same_batch(node, &dims)?;
                let view = readable(node);
                let act = Act {
                    wl: x.wl.clone(),
                    shape: dims,
                    plum: x.plum.clone(),
                    pad: None,
                    view: Some(view),
                };
                self.set(node, 0, Val::Act(act));
            }
            "Transpose" => {
                let x0 = self.act(node, 0)?;
                self.no_pad(node, &x0)?;
                let rank = x0.shape.len();
                let perm: Vec<usize> = match attr_ints(a, "perm") {
                    Some(p) => p.iter().map(|&v| v.max(0) as usize).collect(),
                    None => (0..rank).rev().collect(),
                };
                let mut sorted = perm.clone();
                sorted.sort_unstable();
                if sorted != (0..rank).collect::<Vec<_>>() || perm[0] != 0 {
                    return Err(self.err(
                        node,
                        format!("perm {perm:?} moves the batch axis or is not a permutation"),
                        "the first axis of every activation is the batch and stays first",
                    ));
                }
                let name = self.name_for(node);
                let x = self.exact(&name, &x0);
                let sample_perm: Vec<u64> = perm[1..].iter().map(|&p| p as u64 - 1).collect();
                let wl = self.emit(
                    &name,
                    "transpose",
                    &[&x.wl],
                    fields(&[("perm", json!(sample_perm))]),
                );
                let shape = perm.iter().map(|&p| x.shape[p]).collect();
                self.produce(node, wl, shape, None)?;
            }
            "Slice" => {
                let x0 = self.act(node, 0)?;
                self.no_pad(node, &x0)?;
                let specs = self.slice_specs(node, a, &x0.shape)?;
                if specs.iter().any(|s| s.0 == 0) {
                    return Err(self.err(
                        node,
                        "slices the batch axis",
                        "the first axis of every activation is the batch",
                    ));
                }
                if specs.is_empty() {
                    self.set(node, 0, Val::Act(x0));
                    return Ok(());
                }
                let name = self.name_for(node);
                let mut x = self.exact(&name, &x0);
                for (k, &(axis, start, step, kept)) in specs.iter().enumerate() {
                    let lname = if k == 0 {
                        name.clone()
                    } else {
                        self.aux_name(&name, &format!("axis{axis}"))
                    };
                    let end = start + (kept as i64 - 1) * step + 1;
                    let wl = self.emit(
                        &lname,
                        "slice",
                        &[&x.wl],
                        fields(&[
                            ("axis", json!(axis as i64 - 1)),
                            ("start", json!(start)),
                            ("end", json!(end)),
                            ("step", json!(step)),
                        ]),
                    );
                    let mut shape = x.shape.clone();
                    shape[axis] = kept;
                    x = self.record(wl, shape, None);
                }
                self.set(node, 0, Val::Act(x));
            }
            "Concat" => {
                let mut xs = Vec::new();
                for i in 0..node.input.len() {
                    let x = self.act(node, i)?;
                    self.no_pad(node, &x)?;
                    xs.push(x);
                }
                let rank = xs[0].shape.len();
                let axis = norm_axis(attr_i(a, "axis", 0), rank)
                    .filter(|&ax| ax > 0)
                    .ok_or_else(|| self.err(node, "axis is out of range or the batch axis", ""))?;
                let name = self.name_for(node);
                let xs: Vec<Act> = xs.iter().map(|x| self.exact(&name, x)).collect();
                let names: Vec<&str> = xs.iter().map(|x| x.wl.as_str()).collect();
                let wl = self.emit(
                    &name,
                    "concat",
                    &names,
                    fields(&[("axis", json!(axis as i64 - 1))]),
                );
                let mut shape = xs[0].shape.clone();
                shape[axis] = xs
                    .iter()
                    .map(|x| x.shape.get(axis).copied().unwrap_or(0))
                    .sum();
                self.produce(node, wl, shape, None)?;
            }
            "Pad" => self.pad(node, a)?,
            "Softmax" => {
                let x0 = self.act(node, 0)?;
                self.no_pad(node, &x0)?;
                let rank = x0.shape.len();
                let default = if self.opset < 13 { 1 } else { -1 };
                let axis = norm_axis(attr_i(a, "axis", default), rank)
                    .filter(|&ax| ax > 0)
                    .ok_or_else(|| self.err(node, "axis is out of range or the batch axis", ""))?;
                let name = self.name_for(node);
                let mut x = x0.clone();
                if axis != rank - 1 {
                    if self.opset >= 13 {
                        return Err(self.err(
                            node,
                            format!("softmax over axis {axis} of {:?}, not the last", x0.shape),
                            "plumsim's softmax runs over the last axis: transpose it there first",
                        ));
                    }
                    // Before opset 13 the axes from `axis` on are one row.
                    let mut shape = x0.shape[..axis].to_vec();
                    shape.push(x0.shape[axis..].iter().product());
                    x.shape = shape;
                    x.view = Some(format!("{name}.rows"));
                }
                let x = self.exact(&name, &x);
                let wl = self.emit(&name, "softmax", &[&x.wl], Map::new());
                let act = self.record(wl, x.shape.clone(), None);
                let out = Act {
                    shape: x0.shape.clone(),
                    view: Some(format!("{name}.unrows")),
                    ..act
                };
                self.set(node, 0, Val::Act(out));
            }
            "LayerNormalization" => {
                let x0 = self.act(node, 0)?;
                self.no_pad(node, &x0)?;
                let rank = x0.shape.len();
                let axis = norm_axis(attr_i(a, "axis", -1), rank);
                if axis != Some(rank - 1) {
                    return Err(self.err(
                        node,
                        "normalizes over more than the last axis",
                        "plumsim's layer_norm runs over the last axis",
                    ));
                }
                let name = self.name_for(node);
                let x = self.exact(&name, &x0);
                let wl = self.emit(&name, "layer_norm", &[&x.wl], Map::new());
                self.produce(node, wl, x.shape.clone(), None)?;
            }
            _ => return Err(self.unsupported(node)),
        }
        Ok(())
    }

    fn same_batch(&self, node: &NodeProto, dims: &[u64]) -> Result<()> {
        if dims.contains(&0) {
            return Err(self.err(node, format!("output shape {dims:?} is empty"), ""));
        }
        if dims.first() != Some(&self.batch()) {
            return Err(self.err(
                node,
                format!(
                    "output shape {dims:?} changes the batch axis (batch {})",
                    self.batch()
                ),
                "the first axis of every activation is the batch; plumsim keeps it",
            ));
        }
        Ok(())
    }

    /// Record a layer's output: its ONNX shape and, when plumsim's differs, plumsim's.
    fn record(&mut self, wl: String, shape: Vec<u64>, plum: Option<Vec<u64>>) -> Act {
        let plum = plum.unwrap_or_else(|| shape[1..].to_vec());
        self.expected.push((wl.clone(), plum.clone()));
        Act {
            wl,
            shape,
            plum,
            pad: None,
            view: None,
        }
    }

    fn produce(
        &mut self,
        node: &NodeProto,
        wl: String,
        shape: Vec<u64>,
        plum: Option<Vec<u64>>,
    ) -> Result<Act> {
        self.same_batch(node, &shape)?;
        let act = self.record(wl, shape, plum);
        self.set(node, 0, Val::Act(act.clone()));
        Ok(act)
    }

    fn unary(&mut self, node: &NodeProto, op: &str, f: Map<String, Value>) -> Result<()> {
        let x = self.act(node, 0)?;
        self.unary_of(node, &x, op, f)
    }

    fn unary_of(
        &mut self,
        node: &NodeProto,
        x: &Act,
        op: &str,
        f: Map<String, Value>,
    ) -> Result<()> {
        let name = self.name_for(node);
        self.unary_named(node, x, &name, op, f)
    }

    fn unary_named(
        &mut self,
        node: &NodeProto,
        x: &Act,
        name: &str,
        op: &str,
        f: Map<String, Value>,
    ) -> Result<()> {
        self.no_pad(node, x)?;
        let wl = self.emit(name, op, &[&x.wl], f);
        let act = Act {
            view: x.view.clone(),
            ..self.record(wl, x.shape.clone(), Some(x.plum.clone()))
        };
        self.set(node, 0, Val::Act(act));
        Ok(())
    }

    /// Explicit padding and the window geometry of a Conv or pool over an input of `hw`.
    fn window(
        &self,
        node: &NodeProto,
        a: &Attrs,
        hw: (u64, u64),
        kernel: (u64, u64),
        extra: [u64; 4],
    ) -> Result<Window> {
        let two = |k: &str, d: u64| -> Result<(u64, u64)> {
            match attr_ints(a, k) {
                None => Ok((d, d)),
                Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => {
                    Ok((v[0] as u64, v[1] as u64))
                }
                Some(v) => Err(self.err(
                    node,
                    format!("{k} {v:?} is not two positive numbers"),
                    "plumsim models 2-D convolutions and pools",
                )),
            }
        };
        let stride = two("strides", 1)?;
        let dilation = two("dilations", 1)?;
        let auto = attr_s(a, "auto_pad");
        let mut p = match auto.as_str() {
            "" | "NOTSET" => match attr_ints(a, "pads") {
                None => [0; 4],
                Some(v) if v.len() == 4 && v.iter().all(|&x| x >= 0) => {
                    [v[0] as u64, v[1] as u64, v[2] as u64, v[3] as u64]
                }
                Some(v) => {
                    return Err(self.err(node, format!("pads {v:?} are not four sizes"), ""))
                }
            },
            "VALID" => [0; 4],
            "SAME_UPPER" | "SAME_LOWER" => {
                let total = |len: u64, k: u64, s: u64, d: u64| {
                    let out = len.div_ceil(s);
                    ((out - 1) * s + (k - 1) * d + 1).saturating_sub(len)
                };
                let th = total(hw.0, kernel.0, stride.0, dilation.0);
                let tw = total(hw.1, kernel.1, stride.1, dilation.1);
                let (bh, bw) = if auto == "SAME_UPPER" {
                    (th / 2, tw / 2)
                } else {
                    (th - th / 2, tw - tw / 2)
                };
                [bh, bw, th - bh, tw - bw]
            }
            other => {
                return Err(self.err(
                    node,
                    format!("auto_pad `{other}` is unknown"),
                    "NOTSET, VALID, SAME_UPPER or SAME_LOWER",
                ))
            }
        };
        for i in 0..4 {
            p[i] += extra[i];
        }
        if p[0] != p[2] || p[1] != p[3] {
            return Err(self.err(
                node,
                format!("its padding (top, left, bottom, right) {p:?} is not symmetric"),
                "plumsim's layers pad each side alike; export with symmetric padding (an odd kernel with stride 1, or explicit pads)",
            ));
        }
        Ok(Window {
            stride,
            pad: (p[0], p[1]),
            dilation,
        })
    }

    fn conv(
        &mut self,
        node: &NodeProto,
        a: &Attrs,
        w: &Const,
        b: Option<&Const>,
        (source, bias_key): (String, String),
    ) -> Result<()> {
        let x0 = self.act(node, 0)?;
        if x0.shape.len() != 4 || w.dims.len() != 4 {
            return Err(self.err(
                node,
                format!("input {:?} and weights {:?} are not a 2-D convolution's [N, C, H, W] and [O, C/g, kh, kw]", x0.shape, w.dims),
                "plumsim models 2-D convolutions",
            ));
        }
        if w.dims.contains(&0) {
            return Err(self.err(node, format!("weights {:?} are empty", w.dims), ""));
        }
        let groups = attr_i(a, "group", 1).max(1) as u64;
        let (o, cg, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3]);
        let pad = x0.pad.unwrap_or([0; 4]);
        let (c, h, wd) = (
            x0.shape[1],
            x0.shape[2] - pad[0] - pad[2],
            x0.shape[3] - pad[1] - pad[3],
        );
        if c != cg * groups || o % groups != 0 {
            return Err(self.err(
                node,
                format!(
                    "weights {:?} with group {groups} do not fit {c} input channels",
                    w.dims
                ),
                "",
            ));
        }
        let win = self.window(node, a, (x0.shape[2], x0.shape[3]), (kh, kw), pad)?;
        let out = |len: u64, p: u64, k: u64, s: u64, d: u64| -> Option<u64> {
            let span = d * (k - 1) + 1;
            (len + 2 * p).checked_sub(span).map(|n| n / s + 1)
        };
        let (Some(ho), Some(wo)) = (
            out(h, win.pad.0, kh, win.stride.0, win.dilation.0),
            out(wd, win.pad.1, kw, win.stride.1, win.dilation.1),
        ) else {
            return Err(self.err(
                node,
                format!("kernel {kh}x{kw} is larger than the padded input {h}x{wd}"),
                "",
            ));
        };
        let name = self.name_for(node);
        // The tensor as it is before the Pad that the convolution absorbs.
        let mut unpadded = x0.clone();
        unpadded.shape[2] = h;
        unpadded.shape[3] = wd;
        unpadded.pad = None;
        let x = self.exact(&name, &unpadded);
        let mut f = fields(&[("out_channels", json!(o)), ("kernel", pair(kh, kw))]);
        if win.stride != (1, 1) {
            f.insert("stride".into(), pair(win.stride.0, win.stride.1));
        }
        if win.pad != (0, 0) {
            f.insert("padding".into(), pair(win.pad.0, win.pad.1));
        }
        if win.dilation != (1, 1) {
            f.insert("dilation".into(), pair(win.dilation.0, win.dilation.1));
        }
        if groups > 1 {
            f.insert("groups".into(), json!(groups));
        }
        let codes = w.quantized.as_ref().map(|q| q.codes.clone());
        let laid_out = LaidOut {
            shape: w.dims.clone(),
            data: w.f32s(),
            codes,
        };
        let real = self.weight_fields(node, (&name, &source), w, laid_out, &mut f)?;
        if real {
            self.bias_field(&name, &bias_key, b, o, &mut f);
        }
        let wl = self.emit(&name, "conv2d", &[&x.wl], f);
        self.weight_layer.insert(wl.clone(), self.layers.len() - 1);
        self.stats.weight_layers += 1;
        let shape = vec![x.shape[0], o, ho, wo];
        let _ = c;
        self.produce(node, wl, shape, None)?;
        Ok(())
    }

    fn gemm(&mut self, node: &NodeProto, a: &Attrs) -> Result<()> {
        if attr_i(a, "transA", 0) != 0 {
            return Err(self.err(
                node,
                "transA = 1 transposes the activation",
                "plumsim's linear layers take the activation [batch, K]",
            ));
        }
        let Some(Val::Const(b)) = self.val(node, 1).cloned() else {
            return Err(self.err(
                node,
                "multiplies two activations",
                "a Gemm needs constant weights (B); a product of two activations is a MatMul",
            ));
        };
        let beta = attr_f(a, "beta", 1.0);
        let c = self.opt_konst(node, 2, "bias (C)")?;
        let c = c.map(|c| {
            let mut c = (*c).clone();
            if beta != 1.0 {
                if let Data::F32(v) = &mut c.data {
                    v.iter_mut().for_each(|x| *x *= beta);
                }
            }
            c
        });
        let src = self.key_of(node, 1);
        self.matmul_const(
            node,
            &b,
            attr_i(a, "transB", 0) != 0,
            attr_f(a, "alpha", 1.0),
            c,
            src,
        )
    }

    /// `x [.., K] x B [K, N]` (`B [N, K]` when `trans_b`) times `alpha`, plus `bias`: a linear
    /// layer on a vector, a weight matmul on a matrix (rows beyond two are flattened into M).
    fn matmul_const(
        &mut self,
        node: &NodeProto,
        b: &Const,
        trans_b: bool,
        alpha: f32,
        bias: Option<Const>,
        source: String,
    ) -> Result<()> {
        let x0 = self.act(node, 0)?;
        self.no_pad(node, &x0)?;
        if b.dims.len() != 2 {
            return Err(self.err(
                node,
                format!("weights of shape {:?} are not a matrix", b.dims),
                "plumsim's weight layers multiply by a [K, N] matrix",
            ));
        }
        if b.dims.contains(&0) {
            return Err(self.err(node, format!("weights {:?} are empty", b.dims), ""));
        }
        let (k, n) = if trans_b {
            (b.dims[1], b.dims[0])
        } else {
            (b.dims[0], b.dims[1])
        };
        let sample = x0.sample();
        if sample.last() != Some(&k) {
            return Err(self.err(
                node,
                format!(
                    "input {:?} does not end in K = {k} (weights {:?})",
                    x0.shape, b.dims
                ),
                "",
            ));
        }
        // PyTorch layout: [N, K].
        let data = b.f32s().map(|v| {
            let mut v = if trans_b {
                v
            } else {
                transpose(&v, &b.dims, &[1, 0]).1
            };
            if alpha != 1.0 {
                v.iter_mut().for_each(|x| *x *= alpha);
            }
            v
        });
        let codes = b.quantized.as_ref().filter(|_| alpha == 1.0).map(|q| {
            if trans_b {
                q.codes.clone()
            } else {
                transpose(&q.codes, &b.dims, &[1, 0]).1
            }
        });
        let mut wq = b.clone();
        if alpha != 1.0 {
            wq.quantized = None;
        }
        if let (Some(q), false) = (&mut wq.quantized, trans_b) {
            // The scales ran along N (axis 1 of [K, N]); in [N, K] they run along axis 0.
            if q.axis == Some(1) {
                q.axis = Some(0);
            }
        }
        let name = self.name_for(node);
        let mut f = Map::new();
        let real = self.weight_fields(
            node,
            (&name, &source),
            &wq,
            LaidOut {
                shape: vec![n, k],
                data,
                codes,
            },
            &mut f,
        )?;
        if real {
            let bsrc = self.key_of(node, 2);
            self.bias_field(&name, &bsrc, bias.as_ref(), n, &mut f);
        }
        f.insert("out_features".into(), json!(n));
        let (wl, shape, plum) = if sample.len() == 1 {
            let wl = self.emit(&name, "linear", &[&x0.wl], f);
            (wl, vec![x0.shape[0], n], Some(vec![n, 1, 1]))
        } else {
            let rows: u64 = sample[..sample.len() - 1].iter().product();
            let mut x = x0.clone();
            if sample.len() > 2 {
                x.shape = vec![x0.shape[0], rows, k];
                x.view = Some(format!("{name}.rows"));
            }
            let x = self.exact(&name, &x);
            let wl = self.emit(&name, "matmul", &[&x.wl], f);
            let mut shape = x0.shape.clone();
            *shape.last_mut().expect("rank") = n;
            (wl, shape, Some(vec![rows, n]))
        };
        self.weight_layer.insert(wl.clone(), self.layers.len() - 1);
        self.stats.weight_layers += 1;
        let act = self.produce(node, wl, shape, plum)?;
        if act.plum.len() == 2 && act.shape.len() > 3 {
            let mut act = act;
            act.view = Some(format!("{name}.unrows"));
            self.set(node, 0, Val::Act(act));
        }
        Ok(())
    }

    fn matmul_acts(&mut self, node: &NodeProto) -> Result<()> {
        let (a0, b0) = (self.act(node, 0)?, self.act(node, 1)?);
        self.no_pad(node, &a0)?;
        self.no_pad(node, &b0)?;
        let (sa, sb) = (a0.shape.clone(), b0.shape.clone());
        if sa.len() < 3 || sb.len() < 3 {
            return Err(self.err(
                node,
                format!("operands {sa:?} and {sb:?} are not [N, .., M, K] and [N, .., K, N]"),
                "",
            ));
        }
        let (m, k, k2, n) = (
            sa[sa.len() - 2],
            sa[sa.len() - 1],
            sb[sb.len() - 2],
            sb[sb.len() - 1],
        );
        if k != k2 {
            return Err(self.err(
                node,
                format!("operands {sa:?} and {sb:?} disagree on K"),
                "",
            ));
        }
        let lead = broadcast(&sa[..sa.len() - 2], &sb[..sb.len() - 2]).ok_or_else(|| {
            self.err(
                node,
                format!("leading axes of {sa:?} and {sb:?} do not broadcast"),
                "",
            )
        })?;
        let name = self.name_for(node);
        let a = self.exact(&name, &a0);
        let b = self.exact(&name, &b0);
        let wl = self.emit(&name, "matmul", &[&a.wl, &b.wl], Map::new());
        let mut shape = lead;
        shape.extend([m, n]);
        self.produce(node, wl, shape, None)?;
        Ok(())
    }

    /// A QLinear op's dequantized weights (inputs `q`, `scale`, `zero_point`), with their codes.
    fn dequantized(
        &self,
        node: &NodeProto,
        q: usize,
        s: usize,
        z: usize,
        axis: i64,
    ) -> Result<Const> {
        let codes = self.konst(node, q, "weights")?;
        let scales = self.konst(node, s, "weight scale")?;
        let zps = self.opt_konst(node, z, "weight zero point")?;
        let (Some(c), Some(sc)) = (codes.i64s(), scales.f32s()) else {
            return Err(self.err(node, "its weights or scales have no values", ""));
        };
        super::fold::dequantize(&codes.dims, &c, sc, zps.and_then(|z| z.i64s()), axis)
            .map_err(|m| self.err(node, format!("its weights: {m}"), ""))
    }

    /// QLinearConv's int32 bias in real units: `B * x_scale * w_scale[c]`.
    fn qlinear_bias(&self, node: &NodeProto, w: &Const) -> Result<Option<Const>> {
        let Some(b) = self.opt_konst(node, 8, "bias")? else {
            return Ok(None);
        };
        let xs = self.konst(node, 1, "input scale")?.scalar().unwrap_or(1.0) as f32;
        let ws = &w.quantized.as_ref().expect("dequantized").scales;
        let Some(v) = b.i64s() else { return Ok(None) };
        if ws.len() > 1 && ws.len() != v.len() {
            return Err(self.err(
                node,
                format!(
                    "a bias of {} values for {} weight scales",
                    v.len(),
                    ws.len()
                ),
                "",
            ));
        }
        let real = v
            .iter()
            .enumerate()
            .map(|(i, &q)| q as f32 * xs * ws[if ws.len() > 1 { i } else { 0 }])
            .collect();
        Ok(Some(Const::f32_vec(b.dims.clone(), real)))
    }

    fn batch_norm(&mut self, node: &NodeProto, a: &Attrs) -> Result<()> {
        let x0 = self.act(node, 0)?;
        self.no_pad(node, &x0)?;
        let name = self.name_for(node);
        let x = self.exact(&name, &x0);
        let c = x.shape.get(1).copied().unwrap_or(0);
        let mut parts = Vec::new();
        for (i, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")] {
            parts.push(self.konst(node, i, what)?);
        }
        let values: Option<Vec<Vec<f32>>> = parts
            .iter()
            .map(|p| {
                p.f32s()
                    .filter(|v| v.len() as u64 == c && p.missing.is_none())
            })
            .collect();
        let mut f = Map::new();
        match values {
            Some(v) => {
                let suffixes = ["weight", "bias", "running_mean", "running_var"];
                let mut prefix = name.clone();
                let clash = |l: &Self, p: &str| {
                    suffixes.iter().zip(&v).any(|(s, d)| {
                        l.tensors
                            .get(&format!("{p}.{s}"))
                            .is_some_and(|t| &t.data != d)
                    })
                };
                if clash(self, &prefix) {
                    prefix = format!("{name}.bn");
                }
                for (s, d) in suffixes.iter().zip(v) {
                    let key = format!("{prefix}.{s}");
                    self.tensors.insert(
                        key.clone(),
                        super::Tensor {
                            name: key,
                            shape: vec![c],
                            data: d,
                        },
                    );
                }
                let eps = real(attr_f(a, "epsilon", 1e-5));
                f.insert("params".into(), json!({ "prefix": prefix, "eps": eps }));
            }
            None => {
                let why = parts
                    .iter()
                    .find_map(|p| p.missing.clone())
                    .unwrap_or_else(|| "they do not hold one value per channel".into());
                self.warn(format!("batch norm `{name}`: its parameters are placeholders ({why}); it runs without them (timing is unaffected; functional runs treat it as the identity)"));
            }
        }
        let wl = self.emit(&name, "batch_norm", &[&x.wl], f);
        self.produce(node, wl, x.shape.clone(), None)?;
        Ok(())
    }

    fn binary(&mut self, node: &NodeProto) -> Result<()> {
        let op = node.op_type.to_ascii_lowercase();
        let (v0, v1) = (self.val(node, 0).cloned(), self.val(node, 1).cloned());
        match (v0, v1) {
            (Some(Val::Act(x)), Some(Val::Act(y))) => {
                self.no_pad(node, &x)?;
                self.no_pad(node, &y)?;
                let shape = broadcast(&x.shape, &y.shape).ok_or_else(|| {
                    self.err(
                        node,
                        format!("shapes {:?} and {:?} do not broadcast", x.shape, y.shape),
                        "",
                    )
                })?;
                let name = self.name_for(node);
                let (x, y, plum) = if x.shape == y.shape && x.plum == y.plum {
                    let p = x.plum.clone();
                    (x, y, Some(p))
                } else {
                    (self.exact(&name, &x), self.exact(&name, &y), None)
                };
                let wl = self.emit(&name, &op, &[&x.wl, &y.wl], Map::new());
                self.produce(node, wl, shape, plum)?;
                Ok(())
            }
            (Some(Val::Act(x)), Some(Val::Const(c))) | (Some(Val::Const(c)), Some(Val::Act(x))) => {
                self.no_pad(node, &x)?;
                let left = matches!(self.val(node, 0), Some(Val::Const(_)));
                if let Some(v) = c.scalar().filter(|_| c.missing.is_none()) {
                    let mut f = fields(&[("scalar", real(v as f32))]);
                    if left && (op == "sub" || op == "div") {
                        f.insert("scalar_left".into(), json!(true));
                    }
                    if broadcast(&x.shape, &c.dims).as_ref() != Some(&x.shape) {
                        return Err(self.err(
                            node,
                            format!("the constant {:?} grows the shape {:?}", c.dims, x.shape),
                            "",
                        ));
                    }
                    return self.unary_of(node, &x, &op, f);
                }
                if op == "add" && self.fold_bias(node, &x, &c, left)? {
                    return Ok(());
                }
                Err(self.err(
                    node,
                    format!(
                        "{} a constant of shape {:?} (`{}`) with an activation",
                        node.op_type,
                        c.dims,
                        node.input[if left { 0 } else { 1 }]
                    ),
                    "plumsim's elementwise ops take a one-value constant (a `scalar`), or an Add of one value per channel right after a Conv, Gemm or MatMul (its bias)",
                ))
            }
            _ => Err(self.err(node, "needs two inputs", "")),
        }
    }

    /// `x + c` as the bias of the weight layer that wrote `x`, when nothing else reads `x`, the
    /// layer has no bias and `c` holds one value per output channel along the channel axis.
    fn fold_bias(&mut self, node: &NodeProto, x: &Act, c: &Const, left: bool) -> Result<bool> {
        let Some(&li) = self.weight_layer.get(&x.wl) else {
            return Ok(false);
        };
        let input = &node.input[if left { 1 } else { 0 }];
        if self.consumers.get(input).copied().unwrap_or(0) != 1
            || self.layers[li].contains_key("params")
            || x.view.is_some()
        {
            return Ok(false);
        }
        let rank = x.shape.len();
        let channel_axis = if self.layers[li]["op"] == "conv2d" {
            1
        } else {
            rank - 1
        };
        let n = x.shape[channel_axis];
        if c.dims.len() > rank || c.elements() != n {
            return Ok(false);
        }
        let pad = rank - c.dims.len();
        let along = (0..c.dims.len()).all(|i| c.dims[i] == 1 || pad + i == channel_axis);
        let Some(v) = c.f32s().filter(|_| along && c.missing.is_none()) else {
            return Ok(false);
        };
        let layer = self.layers[li]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let key = self.key_of(node, if left { 0 } else { 1 });
        let key = self.store(&key, &layer, "bias", vec![n], v);
        self.layers[li].insert("params".into(), json!({ "bias": key }));
        self.stats.folded_nodes += 1;
        self.set(node, 0, Val::Act(x.clone()));
        Ok(true)
    }

    fn sum(&mut self, node: &NodeProto) -> Result<()> {
        let mut xs = Vec::new();
        for i in 0..node.input.len() {
            let x = self.act(node, i)?;
            self.no_pad(node, &x)?;
            xs.push(x);
        }
        if xs.len() == 1 {
            self.set(node, 0, Val::Act(xs.remove(0)));
            return Ok(());
        }
        let name = self.name_for(node);
        let mut acc = xs[0].clone();
        for (i, y) in xs.iter().enumerate().skip(1) {
            let lname = if i == xs.len() - 1 {
                name.clone()
            } else {
                self.aux_name(&name, &format!("add{i}"))
            };
            let shape = broadcast(&acc.shape, &y.shape).ok_or_else(|| {
                self.err(
                    node,
                    format!("shapes {:?} and {:?} do not broadcast", acc.shape, y.shape),
                    "",
                )
            })?;
            let (p, q, plum) = if acc.shape == y.shape && acc.plum == y.plum {
                let pl = acc.plum.clone();
                (acc.clone(), y.clone(), Some(pl))
            } else {
                (self.exact(&name, &acc), self.exact(&name, y), None)
            };
            let wl = self.emit(&lname, "add", &[&p.wl, &q.wl], Map::new());
            acc = self.record(wl, shape, plum);
        }
        self.same_batch(node, &acc.shape)?;
        self.set(node, 0, Val::Act(acc));
        Ok(())
    }

    fn pool(&mut self, node: &NodeProto, a: &Attrs) -> Result<()> {
        let x0 = self.act(node, 0)?;
        self.no_pad(node, &x0)?;
        if x0.shape.len() != 4 {
            return Err(self.err(
                node,
                format!("input shape {:?} is not [N, C, H, W]", x0.shape),
                "plumsim models 2-D pools",
            ));
        }
        let kernel = match attr_ints(a, "kernel_shape") {
            Some(k) if k.len() == 2 && k.iter().all(|&v| v >= 1) => (k[0] as u64, k[1] as u64),
            k => {
                return Err(self.err(
                    node,
                    format!("kernel_shape {k:?} is not two positive sizes"),
                    "",
                ))
            }
        };
        let win = self.window(node, a, (x0.shape[2], x0.shape[3]), kernel, [0; 4])?;
        if win.dilation != (1, 1) {
            return Err(self.err(node, "has dilations", "plumsim's pools are not dilated"));
        }
        let ceil = attr_i(a, "ceil_mode", 0) != 0;
        let max = node.op_type == "MaxPool";
        if !max && win.pad != (0, 0) && attr_i(a, "count_include_pad", 0) == 0 {
            self.warn(format!(
                "{}: an average pool over padding that excludes the padding from the count (count_include_pad = 0); plumsim's functional average counts it as PyTorch's default does",
                super::node_path(node)
            ));
        }
        let out = |len: u64, p: u64, k: u64, s: u64| -> Option<u64> {
            let num = (len + 2 * p).checked_sub(k)?;
            let mut o = if ceil { num.div_ceil(s) } else { num / s } + 1;
            // A last window that would start in the padding is dropped (ONNX and PyTorch).
            if ceil && (o - 1) * s >= len + p {
                o -= 1;
            }
            Some(o)
        };
        let (Some(ho), Some(wo)) = (
            out(x0.shape[2], win.pad.0, kernel.0, win.stride.0),
            out(x0.shape[3], win.pad.1, kernel.1, win.stride.1),
        ) else {
            return Err(self.err(node, "its window is larger than the padded input", ""));
        };
        let name = self.name_for(node);
        let x = self.exact(&name, &x0);
        let mut f = fields(&[("kernel", pair(kernel.0, kernel.1))]);
        f.insert("stride".into(), pair(win.stride.0, win.stride.1));
        if win.pad != (0, 0) {
            f.insert("padding".into(), pair(win.pad.0, win.pad.1));
        }
        if ceil {
            f.insert("ceil_mode".into(), json!(true));
        }
        let wl = self.emit(
            &name,
            if max { "max_pool" } else { "avg_pool" },
            &[&x.wl],
            f,
        );
        self.produce(node, wl, vec![x.shape[0], x.shape[1], ho, wo], None)?;
        Ok(())
    }

    fn pad(&mut self, node: &NodeProto, a: &Attrs) -> Result<()> {
        let x0 = self.act(node, 0)?;
        let mode = attr_s(a, "mode");
        if !(mode.is_empty() || mode == "constant") {
            return Err(self.err(
                node,
                format!("mode `{mode}`"),
                "plumsim reads zero padding (mode constant, value 0)",
            ));
        }
        let (pads, value) = if self.opset < 11 {
            (
                attr_ints(a, "pads").unwrap_or_default(),
                attr_f(a, "value", 0.0) as f64,
            )
        } else {
            if self.val(node, 3).is_some() {
                return Err(self.err(node, "names axes", "give pads for every axis"));
            }
            let v = match self.opt_konst(node, 2, "constant value")? {
                Some(c) => c.scalar().unwrap_or(0.0),
                None => 0.0,
            };
            (self.ints(node, 1, "pads")?, v)
        };
        let rank = x0.shape.len();
        if value != 0.0 || pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
            return Err(self.err(
                node,
                format!("pads {pads:?} with value {value}"),
                "plumsim reads zero padding: two non-negative sizes per axis",
            ));
        }
        let (begin, end) = (&pads[..rank], &pads[rank..]);
        if begin[0] != 0 || end[0] != 0 {
            return Err(self.err(node, "pads the batch axis", ""));
        }
        let spatial = rank == 4 && (begin[2] | begin[3] | end[2] | end[3]) != 0;
        let channels = rank >= 2 && (begin[1] | end[1]) != 0;
        let mut shape = x0.shape.clone();
        for i in 0..rank {
            shape[i] += (begin[i] + end[i]) as u64;
        }
        match (channels, spatial) {
            (false, false) => self.set(node, 0, Val::Act(x0)),
            (true, false) if rank == 4 || rank == 2 => {
                let total = begin[1] + end[1];
                if begin[1] != total / 2 {
                    return Err(self.err(
                        node,
                        format!("pads the channels by {} before and {} after", begin[1], end[1]),
                        "plumsim's pad_channels puts half (rounded down) before: pads [c, c] or [c, c + 1]",
                    ));
                }
                self.no_pad(node, &x0)?;
                let name = self.name_for(node);
                let x = self.exact(&name, &x0);
                let wl = self.emit(
                    &name,
                    "pad_channels",
                    &[&x.wl],
                    fields(&[("out_channels", json!(shape[1]))]),
                );
                self.produce(node, wl, shape, None)?;
            }
            (false, true) => {
                let prev = x0.pad.unwrap_or([0; 4]);
                let p = [
                    prev[0] + begin[2] as u64,
                    prev[1] + begin[3] as u64,
                    prev[2] + end[2] as u64,
                    prev[3] + end[3] as u64,
                ];
                self.set(
                    node,
                    0,
                    Val::Act(Act {
                        shape,
                        pad: Some(p),
                        ..x0
                    }),
                );
            }
            _ => {
                return Err(self.err(node, format!("pads {pads:?} of a {rank}-axis tensor"), "plumsim reads zero padding of the channels (pad_channels) or of height and width before a Conv"));
            }
        }
        Ok(())
    }

    pub(super) fn finish(mut self, options: &ImportOptions) -> Result<Imported> {
        let weights = if self.tensors.is_empty() {
            json!({ "synthetic": { "distribution": "laplace", "seed": 1 } })
        } else {
            json!({ "file": options.weights_file })
        };
        let defaults = json!({
            "quant": { "scheme": "int", "weight_bits": 8, "activation_bits": 8 },
            "weights": weights,
        });
        let line = |v: &Value| crate::workload::transformer::one_line(v);
        // Keys in reading order: a layer's name, op, inputs and output first.
        let object = |m: &Map<String, Value>, first: &[&str]| -> Result<String> {
            let keys = first
                .iter()
                .map(|k| k.to_string())
                .filter(|k| m.contains_key(k))
                .chain(m.keys().filter(|k| !first.contains(&k.as_str())).cloned());
            let parts: Vec<String> = keys
                .map(|k| Ok(format!("{}: {}", line(&json!(k))?, line(&m[&k])?)))
                .collect::<Result<_>>()?;
            Ok(format!("{{{}}}", parts.join(", ")))
        };
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|l| object(l, &["name", "op", "inputs", "output"]))
            .collect::<Result<_>>()?;
        let head = [("defaults", line(&defaults)?)];
        let s = crate::workload::transformer::workload_json(
            &options.name,
            self.batch(),
            &head,
            &self.inputs,
            &layers,
        )?;
        if self.layers.is_empty() {
            return Err(Error::invalid(
                self.origin,
                vec![crate::error::Problem::new(
                    "graph",
                    "computes nothing plumsim runs (no layer)",
                )],
            ));
        }
        let network = parse_workload(&s, &format!("the workload imported from {}", self.origin))?;
        // plumsim's shape rules must give what the model says each layer produces.
        for (wl, plum) in &self.expected {
            let got = network
                .tensors
                .iter()
                .find(|t| &t.name == wl)
                .map(|t| t.shape.clone())
                .unwrap_or_default();
            if &got != plum {
                return Err(Error::Unsupported(format!(
                    "{}: layer `{wl}`: the model gives its output shape {plum:?} (per sample), plumsim's rule for its op gives {got:?}",
                    self.origin
                )));
            }
        }
        if self.synthetic_tensors > 0 {
            self.warnings.push(format!(
                "{} weight tensors are synthetic (seeded Laplace, the shapes the model gives): cycles, traffic, energy and area hold; results that depend on weight values (sparsity, repetition, bit density, fidelity) are the synthetic weights'",
                self.synthetic_tensors
            ));
        }
        self.stats.layers = self.layers.len();
        self.stats.macs = network
            .layers
            .iter()
            .filter_map(|l| l.gemm(&network))
            .map(|g| g.macs())
            .sum();
        Ok(Imported {
            json: s,
            network,
            tensors: self.tensors.into_values().collect(),
            warnings: self.warnings,
            stats: self.stats,
        })
    }
}
