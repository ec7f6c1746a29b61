//! Shape inference: each layer's operator and output shape from its input shapes, with every
//! rule a layer can break reported under its path.

use super::raw::{OpKind, Pair, RawLayer};
use super::{ActMatmul, Arith, Conv, Op, Pool, Real, MAX_DIM};
use crate::error::Problem;

/// A count field (channels, features): 1 to [`MAX_DIM`], else a problem and `None`.
fn count(v: Option<i64>, field: &str, path: &str, what: &str, p: &mut Vec<Problem>) -> Option<u64> {
    match v {
        Some(v) if v >= 1 && v as u64 <= MAX_DIM => Some(v as u64),
        other => {
            let message = other.map_or("is required".to_string(), |v| {
                format!("{v} is out of range")
            });
            p.push(
                Problem::new(format!("{path}.{field}"), message)
                    .with_help(format!("allowed: 1 to {MAX_DIM} (2^24){what}")),
            );
            None
        }
    }
}

pub(crate) fn positive_pair(
    v: Option<Pair>,
    default: i64,
    field: &str,
    path: &str,
    min: i64,
    p: &mut Vec<Problem>,
) -> (u64, u64) {
    let (h, w) = v.map(Pair::hw).unwrap_or((default, default));
    let max = MAX_DIM as i64;
    if h < min || w < min || h > max || w > max {
        p.push(
            Problem::new(
                format!("{path}.{field}"),
                format!("[{h}, {w}] is out of range"),
            )
            .with_help(format!("allowed: each value from {min} to {max} (2^24)")),
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

pub(crate) fn infer(
    l: &RawLayer,
    ins: &[Vec<u64>],
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<(Op, Vec<u64>)> {
    let (lo, hi, what) = match l.op {
        OpKind::Add | OpKind::Mul | OpKind::Sub | OpKind::Div if l.scalar.is_some() => {
            (1, 1, "1 (with `scalar`, the constant operand)")
        }
        OpKind::Add | OpKind::Mul | OpKind::Sub | OpKind::Div => {
            (2, 2, "2 (or 1 with a constant `scalar`)")
        }
        OpKind::Matmul => (1, 2, "1 (weights) or 2 (two activations)"),
        OpKind::Concat => (2, usize::MAX, "2 or more"),
        _ => (1, 1, "1"),
    };
    if ins.len() < lo || ins.len() > hi {
        p.push(Problem::new(
            format!("{path}.inputs"),
            format!(
                "op `{}` takes {what} input tensor(s), got {}",
                l.op.as_str(),
                ins.len()
            ),
        ));
        return None;
    }
    unused_fields(l, path, p);
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
            let out_channels = count(l.out_channels, "out_channels", path, "", p)?;
            if groups < 1
                || groups as u64 > MAX_DIM
                || c % groups as u64 != 0
                || out_channels % groups as u64 != 0
            {
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
            // Input shapes are bounded (MAX_TENSOR_ELEMENTS), so the product fits.
            let in_features: u64 = x.iter().product();
            let n = count(l.out_features, "out_features", path, "", p)?;
            Some((
                Op::Linear {
                    in_features,
                    out_features: n,
                },
                vec![n, 1, 1],
            ))
        }
        OpKind::Matmul if ins.len() == 2 => act_matmul(l, ins, path, p),
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
            let n = count(l.out_features, "out_features", path, " (N of the GEMM)", p)?;
            Some((
                Op::Matmul {
                    m: x[0],
                    k: x[1],
                    n,
                },
                vec![x[0], n],
            ))
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
            if pool.padding.0 * 2 > pool.kernel.0 || pool.padding.1 * 2 > pool.kernel.1 {
                p.push(
                    Problem::new(
                        format!("{path}.padding"),
                        format!(
                            "{:?} is more than half the pooling window {:?}",
                            pool.padding, pool.kernel
                        ),
                    )
                    .with_help("allowed: padding <= kernel / 2 on each axis (PyTorch's rule)"),
                );
                return None;
            }
            // PyTorch: with ceil_mode the last window must start inside the input or its
            // left padding.
            let pool_dim = |i: u64, k: u64, s: u64, pad: u64| {
                out_dim(i, k, s, pad, 1, ceil).map(|o| {
                    if ceil && o > 1 && (o - 1) * s >= i + pad {
                        o - 1
                    } else {
                        o
                    }
                })
            };
            let oh = pool_dim(h, pool.kernel.0, pool.stride.0, pool.padding.0);
            let ow = pool_dim(w, pool.kernel.1, pool.stride.1, pool.padding.1);
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
        OpKind::Add | OpKind::Sub | OpKind::Mul | OpKind::Div if l.scalar.is_some() => {
            let value = l.scalar.unwrap_or_default();
            if !value.is_finite() {
                p.push(Problem::new(
                    format!("{path}.scalar"),
                    format!("{value} is not a finite number"),
                ));
                return None;
            }
            let arith = match l.op {
                OpKind::Add => Arith::Add,
                OpKind::Sub => Arith::Sub,
                OpKind::Mul => Arith::Mul,
                _ => Arith::Div,
            };
            Some((
                Op::Scalar {
                    arith,
                    value: Real::new(value),
                    left: l.scalar_left.unwrap_or(false),
                },
                x.clone(),
            ))
        }
        OpKind::PadChannels => {
            if !rank3(p) {
                return None;
            }
            match l.out_channels {
                Some(oc) if oc >= x[0] as i64 && oc as u64 <= MAX_DIM => {
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
                            "pad_channels needs out_channels from the input's {} channels to {MAX_DIM} (2^24)",
                            x[0]
                        )),
                    );
                    None
                }
            }
        }
        OpKind::Softmax | OpKind::LayerNorm | OpKind::RmsNorm => {
            let axis = axis_index(l.axis.unwrap_or(-1), x, &l.inputs[0], path, p)?;
            if axis + 1 != x.len() {
                p.push(
                    Problem::new(
                        format!("{path}.axis"),
                        format!(
                            "op `{}` runs over the last axis only; axis {axis} of `{}` {x:?} is not the last",
                            l.op.as_str(),
                            l.inputs[0]
                        ),
                    )
                    .with_help("transpose the axis to the end first, or leave `axis` out"),
                );
                return None;
            }
            let n = x[axis];
            let op = match l.op {
                OpKind::Softmax => Op::Softmax { n },
                OpKind::LayerNorm => Op::LayerNorm { n },
                _ => Op::RmsNorm { n },
            };
            Some((op, x.clone()))
        }
        OpKind::Gelu => Some((Op::Gelu, x.clone())),
        OpKind::Silu => Some((Op::Silu, x.clone())),
        OpKind::Relu2 => Some((Op::Relu2, x.clone())),
        OpKind::Rope => {
            if x.last().is_some_and(|d| d % 2 == 1) {
                p.push(Problem::new(
                    format!("{path}.inputs[0]"),
                    format!(
                        "rope rotates pairs of the last axis; `{}` {x:?} has an odd last axis",
                        l.inputs[0]
                    ),
                ));
                return None;
            }
            Some((Op::Rope, x.clone()))
        }
        OpKind::Add | OpKind::Sub | OpKind::Mul | OpKind::Div => {
            let Some(shape) = broadcast(&ins[0], &ins[1]) else {
                p.push(
                    Problem::new(
                        format!("{path}.inputs"),
                        format!(
                            "shapes do not broadcast: `{}` is {:?}, `{}` is {:?}",
                            l.inputs[0], ins[0], l.inputs[1], ins[1]
                        ),
                    )
                    .with_help("aligned from the last axis, each pair of sizes must be equal or one of them 1"),
                );
                return None;
            };
            let op = match l.op {
                OpKind::Add => Op::Add,
                OpKind::Sub => Op::Sub,
                OpKind::Mul => Op::Mul,
                _ => Op::Div,
            };
            Some((op, shape))
        }
        OpKind::Concat => concat(l, ins, path, p),
        OpKind::Reshape => reshape(l, x, path, p),
        OpKind::Transpose => transpose(l, x, path, p),
        OpKind::Slice => slice(l, x, path, p),
        OpKind::Embedding => {
            let vocab = count(
                l.num_embeddings,
                "num_embeddings",
                path,
                " (rows of the table)",
                p,
            );
            let dim = count(
                l.embedding_dim,
                "embedding_dim",
                path,
                " (width of a row)",
                p,
            );
            let mut shape = x.clone();
            shape.push(dim?);
            Some((
                Op::Embedding {
                    vocab: vocab?,
                    dim: dim?,
                },
                shape,
            ))
        }
        OpKind::BatchNorm => Some((Op::BatchNorm, x.clone())),
        OpKind::Clip => {
            let bound = |v: Option<f64>, field: &str, p: &mut Vec<Problem>| match v {
                Some(v) if !v.is_finite() => {
                    p.push(Problem::new(
                        format!("{path}.{field}"),
                        format!("{v} is not a finite number"),
                    ));
                    Err(())
                }
                v => Ok(v.map(Real::new)),
            };
            let (min, max) = (bound(l.min, "min", p), bound(l.max, "max", p));
            let (Ok(min), Ok(max)) = (min, max) else {
                return None;
            };
            if let (Some(a), Some(b)) = (min, max) {
                if a.get() > b.get() {
                    p.push(
                        Problem::new(
                            format!("{path}.min"),
                            format!("{} is above max {}", a.get(), b.get()),
                        )
                        .with_help("clip needs min <= max"),
                    );
                    return None;
                }
            }
            Some((Op::Clip { min, max }, x.clone()))
        }
        OpKind::HardSigmoid => {
            let (alpha, beta) = (l.alpha.unwrap_or(0.2), l.beta.unwrap_or(0.5));
            if !alpha.is_finite() || !beta.is_finite() {
                p.push(Problem::new(
                    path,
                    format!("alpha {alpha} and beta {beta} must be finite numbers"),
                ));
                return None;
            }
            Some((
                Op::HardSigmoid {
                    alpha: Real::new(alpha),
                    beta: Real::new(beta),
                },
                x.clone(),
            ))
        }
        OpKind::HardSwish => Some((Op::HardSwish, x.clone())),
        OpKind::Sigmoid => Some((Op::Sigmoid, x.clone())),
        OpKind::Relu => Some((Op::Relu, x.clone())),
        OpKind::Prelu => Some((Op::Prelu, x.clone())),
        OpKind::Requantize => Some((Op::Requantize, x.clone())),
    }
}

/// Fields only some ops read, given to an op that does not: an error, not silently ignored.
fn unused_fields(l: &RawLayer, path: &str, p: &mut Vec<Problem>) {
    use OpKind::*;
    let two_acts = l.op == Matmul && l.inputs.len() == 2;
    let arith = matches!(l.op, Add | Sub | Mul | Div);
    let fields: [(&str, bool, bool); 15] = [
        ("scalar", l.scalar.is_some(), arith),
        (
            "scalar_left",
            l.scalar_left.is_some(),
            matches!(l.op, Sub | Div) && l.scalar.is_some(),
        ),
        ("min", l.min.is_some(), l.op == Clip),
        ("max", l.max.is_some(), l.op == Clip),
        ("alpha", l.alpha.is_some(), l.op == HardSigmoid),
        ("beta", l.beta.is_some(), l.op == HardSigmoid),
        ("transpose_b", l.transpose_b.is_some(), two_acts),
        (
            "axis",
            l.axis.is_some(),
            matches!(l.op, Softmax | LayerNorm | RmsNorm | Concat | Slice),
        ),
        ("shape", l.shape.is_some(), l.op == Reshape),
        ("perm", l.perm.is_some(), l.op == Transpose),
        ("start", l.start.is_some(), l.op == Slice),
        ("end", l.end.is_some(), l.op == Slice),
        ("step", l.step.is_some(), l.op == Slice),
        (
            "num_embeddings",
            l.num_embeddings.is_some(),
            l.op == Embedding,
        ),
        (
            "embedding_dim",
            l.embedding_dim.is_some(),
            l.op == Embedding,
        ),
    ];
    for (field, given, read) in fields {
        if given && !read {
            p.push(Problem::new(
                format!("{path}.{field}"),
                format!(
                    "is not read by op `{}`{}",
                    l.op.as_str(),
                    if field == "transpose_b" {
                        " with one input (a weight matmul stores its weights [N, K])"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    if two_acts && l.out_features.is_some() {
        p.push(
            Problem::new(
                format!("{path}.out_features"),
                "is not read by a matmul of two activations (N is the second operand's)",
            )
            .with_help("leave it out"),
        );
    }
}

/// `axis` (negative from the end) as an index into `shape`, or a problem naming the tensor.
fn axis_index(
    axis: i64,
    shape: &[u64],
    tensor: &str,
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<usize> {
    let rank = shape.len() as i64;
    let i = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&i) {
        p.push(
            Problem::new(
                format!("{path}.axis"),
                format!("axis {axis} does not exist: tensor `{tensor}` {shape:?} has {rank} axes"),
            )
            .with_help(format!("allowed: -{rank} to {}", rank - 1)),
        );
        return None;
    }
    Some(i as usize)
}

/// NumPy broadcasting of two shapes (aligned from the last axis), or None.
pub(crate) fn broadcast(a: &[u64], b: &[u64]) -> Option<Vec<u64>> {
    let rank = a.len().max(b.len());
    let at = |s: &[u64], i: usize| {
        let pad = rank - s.len();
        if i < pad {
            1
        } else {
            s[i - pad]
        }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// `[H, M, K] x [H_kv, K, N]` (`[H_kv, N, K]` with `transpose_b`); rank-2 operands are one head.
fn act_matmul(
    l: &RawLayer,
    ins: &[Vec<u64>],
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<(Op, Vec<u64>)> {
    let (a, b) = (&ins[0], &ins[1]);
    let (na, nb) = (&l.inputs[0], &l.inputs[1]);
    let transpose_b = l.transpose_b.unwrap_or(false);
    for (j, (t, s)) in [(na, a), (nb, b)].into_iter().enumerate() {
        if !(2..=3).contains(&s.len()) {
            p.push(Problem::new(
                format!("{path}.inputs[{j}]"),
                format!("tensor `{t}` has shape {s:?}; a matmul of two activations needs [M, K] or [heads, M, K] operands"),
            ));
            return None;
        }
    }
    let split = |s: &Vec<u64>| {
        if s.len() == 3 {
            (s[0], s[1], s[2])
        } else {
            (1, s[0], s[1])
        }
    };
    let (heads, m, k) = split(a);
    let (kv_heads, b0, b1) = split(b);
    let (kb, n) = if transpose_b { (b1, b0) } else { (b0, b1) };
    if heads % kv_heads != 0 {
        p.push(
            Problem::new(
                format!("{path}.inputs"),
                format!("mismatched head counts: `{na}` {a:?} has {heads} heads, `{nb}` {b:?} has {kv_heads}"),
            )
            .with_help("the first operand's heads must be a multiple of the second's (grouped-query attention shares each key/value head among heads / kv_heads query heads)"),
        );
        return None;
    }
    if k != kb {
        p.push(
            Problem::new(
                format!("{path}.inputs"),
                format!(
                    "the reduction lengths differ: `{na}` {a:?} has K = {k}, `{nb}` {b:?} has K = {kb}{}",
                    if transpose_b { " (transpose_b: it is stored [.., N, K])" } else { " (it is stored [.., K, N])" }
                ),
            )
            .with_help("Q K^T needs \"transpose_b\": true with K stored [heads, tokens, head_dim]"),
        );
        return None;
    }
    let out = if a.len() == 3 || b.len() == 3 {
        vec![heads, m, n]
    } else {
        vec![m, n]
    };
    Some((
        Op::ActMatmul(ActMatmul {
            heads,
            kv_heads,
            m,
            k,
            n,
            transpose_b,
        }),
        out,
    ))
}

fn concat(
    l: &RawLayer,
    ins: &[Vec<u64>],
    path: &str,
    p: &mut Vec<Problem>,
) -> Option<(Op, Vec<u64>)> {
    let Some(axis) = l.axis else {
        p.push(
            Problem::new(format!("{path}.axis"), "is required for concat").with_help(
                "e.g. \"axis\": 1 to append tokens to a [heads, tokens, head_dim] KV cache",
            ),
        );
        return None;
    };
    let first = &ins[0];
    let i = axis_index(axis, first, &l.inputs[0], path, p)?;
    let mut out = first.clone();
    for (j, s) in ins.iter().enumerate().skip(1) {
        let same_rest = s.len() == first.len()
            && s.iter()
                .zip(first)
                .enumerate()
                .all(|(d, (x, y))| d == i || x == y);
        if !same_rest {
            p.push(Problem::new(
                format!("{path}.inputs[{j}]"),
                format!(
                    "concat along axis {axis} needs every other axis equal: `{}` is {first:?}, `{}` is {s:?}",
                    l.inputs[0], l.inputs[j]
                ),
            ));
            return None;
        }
        out[i] += s[i];
    }
    Some((Op::Concat, out))
}

fn reshape(l: &RawLayer, x: &[u64], path: &str, p: &mut Vec<Problem>) -> Option<(Op, Vec<u64>)> {
    let Some(shape) = &l.shape else {
        p.push(
            Problem::new(format!("{path}.shape"), "is required for reshape")
                .with_help("the new per-sample shape, e.g. [128, 12, 64]; one entry may be -1"),
        );
        return None;
    };
    let elements: u64 = x.iter().product();
    let bad = |p: &mut Vec<Problem>, why: String| {
        p.push(
            Problem::new(format!("{path}.shape"), format!("{shape:?} {why}"))
                .with_help(format!("a shape of {elements} elements (`{}` is {x:?}); each entry >= 1, or one -1 for the rest", l.inputs[0])),
        );
        None
    };
    let wild = shape.iter().filter(|&&d| d == -1).count();
    if shape.is_empty()
        || wild > 1
        || shape
            .iter()
            .any(|&d| d == 0 || d < -1 || (d > 0 && d as u64 > MAX_DIM))
    {
        return bad(p, "is not a shape".into());
    }
    let known: u64 = shape
        .iter()
        .filter(|&&d| d > 0)
        .map(|&d| d as u64)
        .product();
    let out: Vec<u64> = shape
        .iter()
        .map(|&d| {
            if d == -1 {
                elements / known.max(1)
            } else {
                d as u64
            }
        })
        .collect();
    if out.iter().product::<u64>() != elements || out.contains(&0) {
        return bad(p, format!("does not hold the input's {elements} elements"));
    }
    Some((Op::Reshape, out))
}

fn transpose(l: &RawLayer, x: &[u64], path: &str, p: &mut Vec<Problem>) -> Option<(Op, Vec<u64>)> {
    let rank = x.len();
    let mut sorted: Vec<i64> = l.perm.clone().unwrap_or_default();
    sorted.sort_unstable();
    if l.perm.is_none() || sorted != (0..rank as i64).collect::<Vec<_>>() {
        p.push(
            Problem::new(
                format!("{path}.perm"),
                match &l.perm {
                    None => "is required for transpose".to_string(),
                    Some(perm) => format!(
                        "{perm:?} is not a permutation of the {rank} axes of `{}` {x:?}",
                        l.inputs[0]
                    ),
                },
            )
            .with_help(format!(
                "each of 0..{} exactly once, e.g. [1, 0, 2]",
                rank.saturating_sub(1)
            )),
        );
        return None;
    }
    let perm = l.perm.as_ref().expect("checked");
    Some((Op::Transpose, perm.iter().map(|&a| x[a as usize]).collect()))
}

fn slice(l: &RawLayer, x: &[u64], path: &str, p: &mut Vec<Problem>) -> Option<(Op, Vec<u64>)> {
    let i = axis_index(l.axis.unwrap_or(0), x, &l.inputs[0], path, p)?;
    let len = x[i] as i64;
    let step = l.step.unwrap_or(1);
    if !(1..=MAX_DIM as i64).contains(&step) {
        p.push(
            Problem::new(format!("{path}.step"), format!("{step} is out of range"))
                .with_help("allowed: 1 or more"),
        );
        return None;
    }
    let at = |v: i64| (if v < 0 { v + len } else { v }).clamp(0, len);
    let (start, end) = (at(l.start.unwrap_or(0)), at(l.end.unwrap_or(len)));
    if start >= end {
        p.push(
            Problem::new(
                path,
                format!(
                    "slice {:?}..{:?} of axis {i} (length {len}) of `{}` is empty",
                    l.start, l.end, l.inputs[0]
                ),
            )
            .with_help("start and end count from 0 (negative: from the end), end exclusive"),
        );
        return None;
    }
    let mut out = x.to_vec();
    out[i] = ((end - start) as u64).div_ceil(step as u64);
    Some((
        Op::Slice {
            axis: i as u32,
            start: start as u64,
            step: step as u64,
        },
        out,
    ))
}

#[cfg(test)]
mod tests {
    use crate::workload::parse_workload;

    fn pool(h: u64, kernel: u64, stride: u64, padding: u64) -> Result<Vec<u64>, String> {
        let text = format!(
            r#"{{"name": "p", "inputs": {{"x": [1, {h}, {h}]}},
                "layers": [{{"name": "p", "op": "max_pool", "inputs": ["x"], "output": "y",
                             "kernel": {kernel}, "stride": {stride}, "padding": {padding}, "ceil_mode": true}}]}}"#
        );
        parse_workload(&text, "p.json")
            .map(|n| n.tensors.last().unwrap().shape.clone())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn pools_follow_pytorchs_ceil_mode_and_padding_rules() {
        // torch.nn.MaxPool2d(1, 2, ceil_mode=True) on 4x4 gives 2x2: a third window would
        // start at row 4, past the input.
        assert_eq!(pool(4, 1, 2, 0).unwrap(), vec![1, 2, 2]);
        // 5x5, kernel 2, stride 2: 3x3 (the last window starts at 4, inside).
        assert_eq!(pool(5, 2, 2, 0).unwrap(), vec![1, 3, 3]);
        // 6x6, kernel 3, stride 2, padding 1: ceil gives 4, the last window starting at input
        // row 3 * 2 - 1 = 5, inside: kept (PyTorch: 4x4).
        assert_eq!(pool(6, 3, 2, 1).unwrap(), vec![1, 4, 4]);
        let e = pool(8, 3, 1, 2).unwrap_err();
        assert!(e.contains("more than half the pooling window"), "{e}");
    }
}
