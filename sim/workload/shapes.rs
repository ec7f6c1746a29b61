//! Shape inference: each layer's operator and output shape from its input shapes, with every
//! rule a layer can break reported under its path.

use super::raw::{OpKind, Pair, RawLayer};
use super::{Conv, Op, Pool, MAX_DIM};
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
        OpKind::BatchNorm => Some((Op::BatchNorm, x.clone())),
        OpKind::Relu => Some((Op::Relu, x.clone())),
        OpKind::Prelu => Some((Op::Prelu, x.clone())),
        OpKind::Requantize => Some((Op::Requantize, x.clone())),
    }
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
