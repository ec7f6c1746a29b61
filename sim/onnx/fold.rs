//! Nodes evaluated at import: constants and whatever is computed from constants alone (the
//! shape subgraphs exporters write, weight transposes, dequantization of weights).

use super::proto::NodeProto;
use super::tensor::{self, Const, Data, QuantInfo};
use super::{attr_i, attr_ints, Attrs, Lower, Val};
use crate::error::Result;
use crate::workload::MAX_TENSOR_ELEMENTS;

/// The largest `ConstantOfShape` fill kept as values (shape computations); a larger one is a
/// weight placeholder and keeps only its dims.
const MAX_FILL_VALUES: u64 = 1 << 16;

/// Values as f64 and whether they are floats (ints stay exact to 2^53, enough for shapes).
struct Vals {
    dims: Vec<u64>,
    v: Vec<f64>,
    float: bool,
}

impl Vals {
    fn of(c: &Const) -> Option<Vals> {
        let (v, float) = match &c.data {
            Data::F32(v) => (v.iter().map(|&x| x as f64).collect(), true),
            Data::I64(v) => (v.iter().map(|&x| x as f64).collect(), false),
            Data::Missing => return None,
        };
        Some(Vals {
            dims: c.dims.clone(),
            v,
            float,
        })
    }

    fn into_const(self) -> Const {
        if self.float {
            Const::f32_vec(self.dims, self.v.iter().map(|&x| x as f32).collect())
        } else {
            Const::i64_vec(self.dims, self.v.iter().map(|&x| x as i64).collect())
        }
    }
}

/// Strides of C-order `dims`.
fn strides(dims: &[u64]) -> Vec<usize> {
    let mut s = vec![1usize; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1] as usize;
    }
    s
}

/// `axis` (negative from the end) into `0..rank`.
pub(super) fn norm_axis(axis: i64, rank: usize) -> Option<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    (0..r).contains(&a).then_some(a as usize)
}

/// NumPy broadcasting of two shapes.
pub(super) fn broadcast(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    crate::workload::broadcast_shapes(a, b)
}

/// The values of `x` permuted by `perm` (C order).
pub(super) fn transpose<T: Copy>(x: &[T], dims: &[u64], perm: &[usize]) -> (Vec<u64>, Vec<T>) {
    let out: Vec<u64> = perm.iter().map(|&p| dims[p]).collect();
    let st = strides(dims);
    let n = x.len();
    let mut y = Vec::with_capacity(n);
    let mut idx = vec![0u64; out.len()];
    for _ in 0..n {
        let at: usize = idx
            .iter()
            .zip(perm)
            .map(|(&i, &p)| i as usize * st[p])
            .sum();
        y.push(x[at]);
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    (out, y)
}

/// ONNX Reshape's target: 0 copies the input's size (unless `allowzero`), -1 is inferred.
pub(super) fn reshape_target(
    input: &[u64],
    target: &[i64],
    allowzero: bool,
) -> std::result::Result<Vec<u64>, String> {
    let n: u64 = input.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, &t) in target.iter().enumerate() {
        match t {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*input.get(i).ok_or_else(|| {
                format!("target {target:?} copies axis {i}, which the input {input:?} lacks")
            })?),
            t if t >= 0 => out.push(t as u64),
            _ => return Err(format!("target {target:?} is not a shape")),
        }
    }
    let known: u64 = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || n % known != 0 {
            return Err(format!("cannot reshape {input:?} to {target:?}"));
        }
        out[i] = n / known;
    } else if known != n {
        return Err(format!(
            "cannot reshape {input:?} ({n} elements) to {target:?}"
        ));
    }
    Ok(out)
}

impl Lower<'_> {
    /// Evaluate `node` if its op can be evaluated on constants; None when it cannot (then it is
    /// lowered to layers, or refused there).
    pub(super) fn fold(&mut self, node: &NodeProto, a: &Attrs) -> Result<Option<Const>> {
        let op = node.op_type.as_str();
        let c = |l: &Self, i: usize| -> Option<std::rc::Rc<Const>> {
            match l.val(node, i) {
                Some(Val::Const(c)) => Some(c.clone()),
                _ => None,
            }
        };
        let unknown = |l: &Self| {
            l.err(
                node,
                "computes from a constant whose values the model does not hold (a shape-only tensor)",
                "plumsim evaluates constant subgraphs at import; give the model with its data",
            )
        };
        let mut out: Const = match op {
            "Constant" => {
                if let Some(t) = a.get("value").and_then(|x| x.t.as_ref()) {
                    tensor::decode(t, None)
                        .map_err(|m| self.err(node, format!("its value {m}"), ""))?
                } else if let Some(x) = a.get("value_float") {
                    Const::f32_vec(vec![], vec![x.f])
                } else if let Some(x) = a.get("value_floats") {
                    Const::f32_vec(vec![x.floats.len() as u64], x.floats.clone())
                } else if let Some(x) = a.get("value_int") {
                    Const::i64_vec(vec![], vec![x.i])
                } else if let Some(x) = a.get("value_ints") {
                    Const::i64_vec(vec![x.ints.len() as u64], x.ints.clone())
                } else {
                    return Err(self.err(
                        node,
                        "has no value plumsim reads (value, value_float(s), value_int(s))",
                        "",
                    ));
                }
            }
            "Shape" | "Size" => {
                let dims = match self.val(node, 0) {
                    Some(Val::Act(x)) => x.shape.clone(),
                    Some(Val::Const(k)) => k.dims.clone(),
                    None => return Err(self.err(node, "has no input", "")),
                };
                if op == "Size" {
                    Const::i64_vec(vec![], vec![dims.iter().product::<u64>() as i64])
                } else {
                    let r = dims.len() as i64;
                    let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                    let s = clampi(attr_i(a, "start", 0));
                    let e = clampi(attr_i(a, "end", r));
                    let v: Vec<i64> = dims[s..e.max(s)].iter().map(|&d| d as i64).collect();
                    Const::i64_vec(vec![v.len() as u64], v)
                }
            }
            "ConstantOfShape" => {
                let dims: Vec<u64> = self
                    .ints(node, 0, "shape")?
                    .iter()
                    .map(|&d| d.max(0) as u64)
                    .collect();
                let n = tensor::element_count(&dims.iter().map(|&d| d as i64).collect::<Vec<_>>())
                    .map_err(|m| self.err(node, m, ""))?;
                let value = match a.get("value").and_then(|x| x.t.as_ref()) {
                    Some(t) => tensor::decode(t, None)
                        .map_err(|m| self.err(node, format!("its value {m}"), ""))?,
                    None => Const::f32_vec(vec![1], vec![0.0]),
                };
                let fill = value.scalar().unwrap_or(0.0);
                let float = matches!(value.data, Data::F32(_));
                let mut out = if n <= MAX_FILL_VALUES {
                    Vals {
                        dims: dims.clone(),
                        v: vec![fill; n as usize],
                        float,
                    }
                    .into_const()
                } else {
                    Const::missing(dims.clone(), String::new())
                };
                if n > 1 {
                    out.missing = Some(format!(
                        "it is a ConstantOfShape placeholder (every value {fill})"
                    ));
                }
                out
            }
            "Identity" | "Dropout" => match c(self, 0) {
                Some(k) => (*k).clone(),
                None => return Ok(None),
            },
            "Cast" => {
                let k = c(self, 0).expect("all inputs constant");
                let to = attr_i(a, "to", 1);
                use super::proto::tensor_proto::DataType as T;
                let float = [T::Float, T::Float16, T::Double, T::Bfloat16]
                    .iter()
                    .any(|&t| t as i32 as i64 == to);
                match Vals::of(&k) {
                    Some(mut v) => {
                        if !float {
                            v.v.iter_mut().for_each(|x| *x = x.trunc());
                        }
                        v.float = float;
                        let mut out = v.into_const();
                        out.missing = k.missing.clone();
                        out
                    }
                    None => (*k).clone(),
                }
            }
            "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze" => {
                let k = c(self, 0).expect("all inputs constant");
                let dims = self.view_dims(node, a, &k.dims)?;
                let mut out = (*k).clone();
                out.dims = dims;
                out
            }
            "Transpose" => {
                let k = c(self, 0).expect("all inputs constant");
                let rank = k.dims.len();
                let perm: Vec<usize> = match attr_ints(a, "perm") {
                    Some(p) => p.iter().map(|&x| x as usize).collect(),
                    None => (0..rank).rev().collect(),
                };
                let mut sorted = perm.clone();
                sorted.sort_unstable();
                if sorted != (0..rank).collect::<Vec<_>>() {
                    return Err(self.err(
                        node,
                        format!("perm {perm:?} is not a permutation of {rank} axes"),
                        "",
                    ));
                }
                let mut out = (*k).clone();
                match &k.data {
                    Data::F32(v) => {
                        let (d, y) = transpose(v, &k.dims, &perm);
                        out.dims = d;
                        out.data = Data::F32(y);
                    }
                    Data::I64(v) => {
                        let (d, y) = transpose(v, &k.dims, &perm);
                        out.dims = d;
                        out.data = Data::I64(y);
                    }
                    Data::Missing => out.dims = perm.iter().map(|&p| k.dims[p]).collect(),
                }
                if let Some(q) = &k.quantized {
                    if q.axis.is_some() && q.scales.len() > 1 {
                        // Per-channel codes stay with their axis only when it does not move.
                        out.quantized = None;
                    } else {
                        let (_, codes) = transpose(&q.codes, &k.dims, &perm);
                        out.quantized = Some(QuantInfo { codes, ..q.clone() });
                    }
                }
                out
            }
            "Concat" => {
                let parts: Vec<std::rc::Rc<Const>> =
                    (0..node.input.len()).filter_map(|i| c(self, i)).collect();
                if parts.is_empty() {
                    return Err(self.err(node, "has no inputs", ""));
                }
                let vals: Option<Vec<Vals>> = parts.iter().map(|p| Vals::of(p)).collect();
                let Some(vals) = vals else {
                    return Err(unknown(self));
                };
                let rank = vals.first().map_or(0, |v| v.dims.len());
                let axis = norm_axis(attr_i(a, "axis", 0), rank)
                    .ok_or_else(|| self.err(node, "axis is out of range", ""))?;
                let outer: usize = vals[0].dims[..axis].iter().map(|&d| d as usize).product();
                let mut dims = vals[0].dims.clone();
                dims[axis] = vals
                    .iter()
                    .map(|v| v.dims.get(axis).copied().unwrap_or(0))
                    .sum();
                for v in &vals {
                    if v.dims.len() != rank
                        || v.dims[..axis] != dims[..axis]
                        || v.dims[axis + 1..] != dims[axis + 1..]
                    {
                        return Err(self.err(
                            node,
                            "inputs' shapes differ off the concatenation axis",
                            "",
                        ));
                    }
                }
                let mut y = Vec::new();
                for o in 0..outer {
                    for v in &vals {
                        let chunk = v.v.len() / outer.max(1);
                        y.extend_from_slice(&v.v[o * chunk..(o + 1) * chunk]);
                    }
                }
                Vals {
                    dims,
                    v: y,
                    float: vals.iter().any(|v| v.float),
                }
                .into_const()
            }
            "Gather" => {
                let data = c(self, 0).expect("all inputs constant");
                let idx = c(self, 1).expect("all inputs constant");
                let (Some(d), Some(ix)) = (Vals::of(&data), idx.i64s()) else {
                    return Err(unknown(self));
                };
                let rank = d.dims.len();
                let axis = norm_axis(attr_i(a, "axis", 0), rank)
                    .ok_or_else(|| self.err(node, "axis is out of range", ""))?;
                let len = d.dims[axis] as i64;
                let outer: usize = d.dims[..axis].iter().map(|&x| x as usize).product();
                let inner: usize = d.dims[axis + 1..].iter().map(|&x| x as usize).product();
                let mut y = Vec::new();
                for o in 0..outer {
                    for &i in &ix {
                        let i = if i < 0 { i + len } else { i };
                        if !(0..len).contains(&i) {
                            return Err(self.err(
                                node,
                                format!("index {i} is outside axis {axis} of length {len}"),
                                "",
                            ));
                        }
                        let at = (o * len as usize + i as usize) * inner;
                        y.extend_from_slice(&d.v[at..at + inner]);
                    }
                }
                let mut dims = d.dims[..axis].to_vec();
                dims.extend(&idx.dims);
                dims.extend(&d.dims[axis + 1..]);
                Vals {
                    dims,
                    v: y,
                    float: d.float,
                }
                .into_const()
            }
            "Slice" => {
                let data = c(self, 0).expect("all inputs constant");
                let Some(d) = Vals::of(&data) else {
                    return Err(unknown(self));
                };
                let specs = self.slice_specs(node, a, &d.dims)?;
                let mut cur = d;
                for (axis, start, step, kept) in specs {
                    let outer: usize = cur.dims[..axis].iter().map(|&x| x as usize).product();
                    let inner: usize = cur.dims[axis + 1..].iter().map(|&x| x as usize).product();
                    let len = cur.dims[axis] as i64;
                    let mut y = Vec::new();
                    for o in 0..outer {
                        for k in 0..kept as i64 {
                            let i = start + k * step;
                            let at = (o * len as usize + i as usize) * inner;
                            y.extend_from_slice(&cur.v[at..at + inner]);
                        }
                    }
                    cur.dims[axis] = kept;
                    cur.v = y;
                }
                cur.into_const()
            }
            "Add" | "Sub" | "Mul" | "Div" => {
                let x = c(self, 0).expect("all inputs constant");
                let y = c(self, 1).expect("all inputs constant");
                let dims = broadcast(&x.dims, &y.dims).ok_or_else(|| {
                    self.err(
                        node,
                        format!("shapes {:?} and {:?} do not broadcast", x.dims, y.dims),
                        "",
                    )
                })?;
                match (Vals::of(&x), Vals::of(&y)) {
                    (Some(p), Some(q)) => {
                        let float = p.float || q.float;
                        let f = |u: f64, w: f64| match op {
                            "Add" => u + w,
                            "Sub" => u - w,
                            "Mul" => u * w,
                            _ if float => u / w,
                            _ if w == 0.0 => 0.0,
                            _ => (u / w).floor(),
                        };
                        let idx_p = crate::workload::broadcast_index(&p.dims, &dims);
                        let idx_q = crate::workload::broadcast_index(&q.dims, &dims);
                        let v: Vec<f64> = idx_p
                            .iter()
                            .zip(&idx_q)
                            .map(|(&i, &j)| f(p.v[i], q.v[j]))
                            .collect();
                        Vals { dims, v, float }.into_const()
                    }
                    _ => {
                        let mut out = Const::missing(dims, String::new());
                        out.missing = x.missing.clone().or_else(|| y.missing.clone());
                        out
                    }
                }
            }
            "DequantizeLinear" => {
                let x = c(self, 0).expect("all inputs constant");
                let s = c(self, 1).expect("all inputs constant");
                let zp = c(self, 2);
                let (Some(codes), Some(scales)) = (x.i64s(), s.f32s()) else {
                    return Err(unknown(self));
                };
                let zps = zp.as_ref().and_then(|z| z.i64s());
                dequantize(&x.dims, &codes, scales, zps, attr_i(a, "axis", 1)).map_err(|m| {
                    self.err(
                        node,
                        m,
                        "one scale (and zero point) per tensor, or one per channel of `axis`",
                    )
                })?
            }
            _ => return Ok(None),
        };
        if !matches!(
            op,
            "Identity" | "Dropout" | "Cast" | "Reshape" | "Flatten" | "Squeeze" | "Unsqueeze"
        ) {
            out.origin = None;
        }
        if out.elements() > MAX_TENSOR_ELEMENTS {
            return Err(self.err(
                node,
                format!("makes a constant of {} elements", out.elements()),
                "",
            ));
        }
        Ok(Some(out))
    }

    /// The output dims of a view op (Reshape, Flatten, Squeeze, Unsqueeze) of a tensor `dims`.
    pub(super) fn view_dims(&self, node: &NodeProto, a: &Attrs, dims: &[u64]) -> Result<Vec<u64>> {
        let rank = dims.len();
        match node.op_type.as_str() {
            "Reshape" => {
                let target = match attr_ints(a, "shape") {
                    Some(s) if self.opset < 5 => s,
                    _ => self.ints(node, 1, "shape")?,
                };
                reshape_target(dims, &target, attr_i(a, "allowzero", 0) != 0)
                    .map_err(|m| self.err(node, m, ""))
            }
            "Flatten" => {
                let axis = attr_i(a, "axis", 1);
                let ax = if axis < 0 { axis + rank as i64 } else { axis };
                if !(0..=rank as i64).contains(&ax) {
                    return Err(self.err(
                        node,
                        format!("axis {axis} is out of range for rank {rank}"),
                        "",
                    ));
                }
                let ax = ax as usize;
                Ok(vec![
                    dims[..ax].iter().product(),
                    dims[ax..].iter().product(),
                ])
            }
            op => {
                let axes: Option<Vec<i64>> = match attr_ints(a, "axes") {
                    Some(x) => Some(x),
                    None if node.input.len() > 1 && !node.input[1].is_empty() => {
                        Some(self.ints(node, 1, "axes")?)
                    }
                    None => None,
                };
                if op == "Squeeze" {
                    let axes: Vec<usize> = match axes {
                        Some(x) => x
                            .iter()
                            .map(|&v| norm_axis(v, rank))
                            .collect::<Option<_>>()
                            .ok_or_else(|| self.err(node, "an axis is out of range", ""))?,
                        None => (0..rank).filter(|&i| dims[i] == 1).collect(),
                    };
                    if axes.iter().any(|&i| dims[i] != 1) {
                        return Err(self.err(
                            node,
                            format!("squeezes an axis of {dims:?} that is not 1"),
                            "",
                        ));
                    }
                    Ok((0..rank)
                        .filter(|i| !axes.contains(i))
                        .map(|i| dims[i])
                        .collect())
                } else {
                    let axes = axes.ok_or_else(|| self.err(node, "names no axes", ""))?;
                    let out_rank = rank + axes.len();
                    let mut ins: Vec<usize> = axes
                        .iter()
                        .map(|&v| norm_axis(v, out_rank))
                        .collect::<Option<_>>()
                        .ok_or_else(|| self.err(node, "an axis is out of range", ""))?;
                    ins.sort_unstable();
                    let mut out = Vec::with_capacity(out_rank);
                    let mut it = dims.iter();
                    for i in 0..out_rank {
                        if ins.contains(&i) {
                            out.push(1);
                        } else {
                            out.push(*it.next().ok_or_else(|| self.err(node, "axes repeat", ""))?);
                        }
                    }
                    Ok(out)
                }
            }
        }
    }

    /// A Slice's (axis, start, step, kept) per sliced axis, on a tensor of `dims`, with ONNX's
    /// clamping; an axis kept whole is left out.
    pub(super) fn slice_specs(
        &self,
        node: &NodeProto,
        a: &Attrs,
        dims: &[u64],
    ) -> Result<Vec<(usize, i64, i64, u64)>> {
        let rank = dims.len();
        let (starts, ends, axes, steps) = if self.opset < 10 {
            (
                attr_ints(a, "starts").unwrap_or_default(),
                attr_ints(a, "ends").unwrap_or_default(),
                attr_ints(a, "axes"),
                None,
            )
        } else {
            let opt = |i: usize, what: &str| -> Result<Option<Vec<i64>>> {
                match self.val(node, i) {
                    None => Ok(None),
                    Some(_) => self.ints(node, i, what).map(Some),
                }
            };
            (
                self.ints(node, 1, "starts")?,
                self.ints(node, 2, "ends")?,
                opt(3, "axes")?,
                opt(4, "steps")?,
            )
        };
        let axes: Vec<i64> = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
        let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
        if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(self.err(node, "starts, ends, axes and steps differ in length", ""));
        }
        let mut out = Vec::new();
        for i in 0..starts.len() {
            let axis = norm_axis(axes[i], rank)
                .ok_or_else(|| self.err(node, format!("axis {} is out of range", axes[i]), ""))?;
            let len = dims[axis] as i64;
            let step = steps[i];
            if step <= 0 {
                return Err(self.err(
                    node,
                    format!("step {step} on axis {axis}"),
                    "plumsim slices forward only (step 1 or more)",
                ));
            }
            let at = |v: i64| (if v < 0 { v.saturating_add(len) } else { v }).clamp(0, len);
            let (s, e) = (at(starts[i]), at(ends[i]));
            let kept = if e > s {
                ((e - s) as u64).div_ceil(step as u64)
            } else {
                0
            };
            if kept == 0 {
                return Err(self.err(node, format!("slice of axis {axis} is empty"), ""));
            }
            if s == 0 && step == 1 && kept == len as u64 {
                continue;
            }
            out.push((axis, s, step, kept));
        }
        Ok(out)
    }
}

/// Integer codes of shape `dims` as `scale[c] * (q - zero_point[c])`, one scale for the
/// tensor or one per channel of `axis`, with the codes (less their zero points) kept. The
/// codes' width and signedness come from their range.
pub(super) fn dequantize(
    dims: &[u64],
    codes: &[i64],
    scales: Vec<f32>,
    zero_points: Option<Vec<i64>>,
    axis: i64,
) -> std::result::Result<Const, String> {
    let zps = zero_points.unwrap_or_else(|| vec![0; scales.len()]);
    let axis = match scales.len() {
        1 => None,
        _ => norm_axis(axis, dims.len()).filter(|&ax| dims[ax] as usize == scales.len()),
    };
    if scales.is_empty() || zps.len() != scales.len() || (scales.len() > 1 && axis.is_none()) {
        return Err(format!(
            "{} scales and {} zero points for codes {dims:?}",
            scales.len(),
            zps.len()
        ));
    }
    let inner: usize = axis.map_or(1, |ax| dims[ax + 1..].iter().map(|&d| d as usize).product());
    let channel = |i: usize| axis.map_or(0, |ax| (i / inner) % dims[ax] as usize);
    let centred: Vec<i64> = codes
        .iter()
        .enumerate()
        .map(|(i, &q)| q - zps[channel(i)])
        .collect();
    let w = centred
        .iter()
        .enumerate()
        .map(|(i, &q)| scales[channel(i)] * q as f32)
        .collect();
    let (lo, hi) = codes
        .iter()
        .fold((0i64, 0i64), |(l, h), &c| (l.min(c), h.max(c)));
    let signed = lo < 0 || hi <= 127;
    let bits = match (signed, lo, hi) {
        (true, -128..=0, 0..=127) | (false, _, 0..=255) => 8,
        (true, -32768..=0, 0..=32767) | (false, _, _) if hi <= 65535 => 16,
        _ => 32,
    };
    let mut out = Const::f32_vec(dims.to_vec(), w);
    out.quantized = Some(QuantInfo {
        codes: centred,
        scales,
        zero_points: zps,
        axis,
        bits,
        signed,
    });
    Ok(out)
}
