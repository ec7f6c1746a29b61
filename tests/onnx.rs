//! ONNX import (`plumsim import onnx`, `.onnx` workloads): models built here with the ONNX
//! messages (every lowering, checked against hand computations), bad input, and the real
//! files in `../shared/onnx` (MACs and layer shapes against the hand-built workloads, the
//! trained ResNet-20's logits, the exporters' own test outputs; skipped without `../shared`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plumsim::onnx::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use prost::Message;

// ---- building models ----

fn f32_tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn i64_tensor(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Int64 as i32,
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs,
        ..Default::default()
    }
}

/// An attribute of `kind`, its value set by `set`.
fn attr(name: &str, kind: AttributeType, set: impl FnOnce(&mut AttributeProto)) -> AttributeProto {
    let mut a = AttributeProto {
        name: name.into(),
        r#type: kind as i32,
        ..Default::default()
    };
    set(&mut a);
    a
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    attr(name, AttributeType::Ints, |a| a.ints = v.to_vec())
}

fn int(name: &str, v: i64) -> AttributeProto {
    attr(name, AttributeType::Int, |a| a.i = v)
}

fn float(name: &str, v: f32) -> AttributeProto {
    attr(name, AttributeType::Float, |a| a.f = v)
}

fn tensor_attr(name: &str, t: TensorProto) -> AttributeProto {
    attr(name, AttributeType::Tensor, |a| a.t = Some(t))
}

/// A float tensor value: fixed sizes, or `None` for a named dynamic dimension.
fn value(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|d| tensor_shape_proto::Dimension {
                            value: Some(match d {
                                Some(v) => tensor_shape_proto::dimension::Value::DimValue(*v),
                                None => tensor_shape_proto::dimension::Value::DimParam("N".into()),
                            }),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn model(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    output: &str,
    opset: i64,
) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        producer_name: "plumsim-test".into(),
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            initializer: inits,
            input: inputs,
            output: vec![value(output, &[])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn write(dir: &Path, name: &str, m: &ModelProto) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, m.encode_to_vec()).unwrap();
    p
}

fn imported(path: &Path, shapes: &[(&str, &[u64])]) -> plumsim::onnx::Imported {
    let options = plumsim::onnx::ImportOptions {
        name: "m".into(),
        weights_file: "m.safetensors".into(),
        input_shapes: shapes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect(),
        unresolved_as_one: false,
    };
    plumsim::io::onnx::import_file(path, &options).unwrap()
}

fn ops(i: &plumsim::onnx::Imported) -> Vec<&'static str> {
    i.network
        .layers
        .iter()
        .map(|l| l.op.kind().as_str())
        .collect()
}

/// Deterministic values in [-1, 1).
fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let h = (i as u32)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed.wrapping_mul(40_503));
            ((h >> 8) % 2000) as f32 / 1000.0 - 1.0
        })
        .collect()
}

/// An npz of `input` and `logits` (the output to check the fp32 path against).
fn inputs_npz(
    path: &Path,
    input_shape: &[u64],
    input: &[f32],
    logits_shape: &[u64],
    logits: &[f32],
) {
    let t = |name: &str, shape: &[u64], data: &[f32]| plumsim::onnx::Tensor {
        name: name.into(),
        shape: shape.to_vec(),
        data: data.to_vec(),
    };
    let bytes = plumsim::io::onnx::npz_bytes(&[
        t("input", input_shape, input),
        t("logits", logits_shape, logits),
    ])
    .unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn fidelity(out: &Path) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(&common::read(&out.join("summary.json"))).unwrap();
    v["fidelity"].clone()
}

fn dense() -> String {
    common::path_str(&common::root().join("arch/dense_pe16.toml"))
}

// ---- models built here ----

/// Pad -> Conv (fp16 weights from an external file) -> Add(bias) -> Clip(0, 6) ->
/// Slice(::2 on W) -> HardSwish -> GlobalAveragePool -> Flatten -> Gemm(transB = 0) -> Softmax,
/// checked against the same network computed here by hand.
#[test]
fn every_lowering_runs_and_the_fp32_path_equals_a_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let (c, h, w, o) = (2usize, 4usize, 4usize, 3usize);
    let x = values(2 * c * h * w, 1);
    // Conv weights held as fp16 in an external file beside the model.
    let cw: Vec<f32> = values(o * c * 9, 2)
        .iter()
        .map(|&v| half::f16::from_f32(v).to_f32())
        .collect();
    let bytes: Vec<u8> = cw
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_bits().to_le_bytes())
        .collect();
    std::fs::write(
        dir.path().join("w.bin"),
        [vec![0u8; 16], bytes.clone()].concat(),
    )
    .unwrap();
    let conv_w = TensorProto {
        name: "conv.weight".into(),
        dims: vec![o as i64, c as i64, 3, 3],
        data_type: DataType::Float16 as i32,
        data_location: 1,
        external_data: vec![
            StringStringEntryProto {
                key: "location".into(),
                value: "w.bin".into(),
            },
            StringStringEntryProto {
                key: "offset".into(),
                value: "16".into(),
            },
            StringStringEntryProto {
                key: "length".into(),
                value: bytes.len().to_string(),
            },
        ],
        ..Default::default()
    };
    let bias = [0.5f32, -0.25, 4.0];
    let fc = values(o * 2, 3); // [K = 3, N = 2] (transB = 0)
    let fc_b = [0.1f32, -0.2];
    let nodes = vec![
        node("Pad", "pad", &["x", "pads"], &["xp"], vec![]),
        node(
            "Conv",
            "conv",
            &["xp", "conv.weight"],
            &["c"],
            vec![ints("kernel_shape", &[3, 3])],
        ),
        node("Add", "bias", &["c", "conv.bias"], &["cb"], vec![]),
        node(
            "Constant",
            "lo",
            &[],
            &["lo"],
            vec![tensor_attr("value", f32_tensor("", &[], &[0.0]))],
        ),
        node(
            "Constant",
            "hi",
            &[],
            &["hi"],
            vec![tensor_attr("value", f32_tensor("", &[], &[6.0]))],
        ),
        node("Clip", "relu6", &["cb", "lo", "hi"], &["r"], vec![]),
        node(
            "Slice",
            "every_other_column",
            &["r", "st", "en", "ax", "sp"],
            &["s"],
            vec![],
        ),
        node("HardSwish", "hswish", &["s"], &["hs"], vec![]),
        node("GlobalAveragePool", "gap", &["hs"], &["g"], vec![]),
        node("Flatten", "flatten", &["g"], &["f"], vec![]),
        node("Gemm", "fc", &["f", "fc.weight", "fc.bias"], &["l"], vec![]),
        node("Softmax", "softmax", &["l"], &["y"], vec![int("axis", -1)]),
    ];
    let inits = vec![
        i64_tensor("pads", &[8], &[0, 0, 1, 1, 0, 0, 1, 1]),
        conv_w,
        f32_tensor("conv.bias", &[1, o as i64, 1, 1], &bias),
        i64_tensor("st", &[1], &[0]),
        i64_tensor("en", &[1], &[i64::MAX]),
        i64_tensor("ax", &[1], &[3]),
        i64_tensor("sp", &[1], &[2]),
        f32_tensor("fc.weight", &[o as i64, 2], &fc),
        f32_tensor("fc.bias", &[2], &fc_b),
    ];
    let m = model(
        nodes,
        inits,
        vec![value(
            "x",
            &[None, Some(c as i64), Some(h as i64), Some(w as i64)],
        )],
        "y",
        13,
    );
    let path = write(dir.path(), "m.onnx", &m);
    let imp = imported(&path, &[("x", &[1, 2, 4, 4])]);
    assert_eq!(
        ops(&imp),
        [
            "conv2d",
            "clip",
            "slice",
            "hard_swish",
            "avg_pool",
            "linear",
            "reshape",
            "softmax"
        ],
        "{}",
        imp.json
    );
    assert!(
        imp.json.contains("\"padding\": 1"),
        "the Pad joins the Conv: {}",
        imp.json
    );
    assert!(
        imp.json.contains("\"bias\": \"conv.bias\""),
        "the Add is the Conv's bias: {}",
        imp.json
    );
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    assert_eq!(imp.stats.file_weights, (o * c * 9 + o * 2) as u64);
    assert_eq!(imp.stats.macs, (o * c * 9 * h * w + o * 2) as u64);
    // The weights as stored: the conv's fp16 values, the Gemm's [K, N] as PyTorch's [N, K].
    let t = |name: &str| imp.tensors.iter().find(|t| t.name == name).unwrap().clone();
    assert_eq!(t("conv.weight").data, cw);
    assert_eq!(t("fc.weight").shape, [2, 3]);
    assert_eq!(
        t("fc.weight").data,
        [fc[0], fc[2], fc[4], fc[1], fc[3], fc[5]]
    );

    // By hand, per sample.
    let forward = |x: &[f32]| -> Vec<f32> {
        let mut pooled = vec![0f32; o];
        for oc in 0..o {
            for i in 0..h {
                for j in (0..w).step_by(2) {
                    let mut acc = 0f32;
                    for ic in 0..c {
                        for di in 0..3 {
                            for dj in 0..3 {
                                let (y, z) = (i as i64 + di - 1, j as i64 + dj - 1);
                                if (0..h as i64).contains(&y) && (0..w as i64).contains(&z) {
                                    acc += x[(ic * h + y as usize) * w + z as usize]
                                        * cw[((oc * c + ic) * 3 + di as usize) * 3 + dj as usize];
                                }
                            }
                        }
                    }
                    let r = (acc + bias[oc]).clamp(0.0, 6.0);
                    let hs = r * (r / 6.0 + 0.5).clamp(0.0, 1.0);
                    pooled[oc] += hs / (h * w / 2) as f32;
                }
            }
        }
        let logits: Vec<f32> = (0..2)
            .map(|n| fc_b[n] + (0..o).map(|k| pooled[k] * fc[k * 2 + n]).sum::<f32>())
            .collect();
        let m = logits.iter().fold(f32::MIN, |a, &b| a.max(b));
        let e: Vec<f32> = logits.iter().map(|&v| (v - m).exp()).collect();
        let s: f32 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let want: Vec<f32> = x.chunks(c * h * w).flat_map(forward).collect();
    let npz = dir.path().join("inputs.npz");
    inputs_npz(&npz, &[2, 2, 4, 4], &x, &[2, 2], &want);
    let out = dir.path().join("run");
    let o = common::plumsim(&[
        "run",
        &dense(),
        &common::path_str(&path),
        "--input-shape",
        "x=1,2,4,4",
        "--inputs",
        &common::path_str(&npz),
        "--out",
        &common::path_str(&out),
    ]);
    common::ok(&o, "run on the .onnx");
    let f = fidelity(&out);
    let rel = f["reference_logits_max_rel_error"].as_f64().unwrap();
    assert!(
        rel < 1e-5,
        "fp32 path {rel} (relative) from the hand computation: {f}"
    );
}

/// Exporters' shape subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) are
/// evaluated at import; a MatMul with a constant operand on a matrix is a weight matmul, on a
/// vector a linear; Sum of three is two adds; scalars and broadcasting on the vector unit.
#[test]
fn shape_subgraphs_fold_and_matmuls_lower_by_rank() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = vec![
        node("Shape", "shape", &["x"], &["sh"], vec![]),
        node(
            "Gather",
            "batch",
            &["sh", "zero"],
            &["b0"],
            vec![int("axis", 0)],
        ),
        node("Unsqueeze", "b1", &["b0", "axes0"], &["b1"], vec![]),
        node(
            "Concat",
            "target",
            &["b1", "rest"],
            &["t"],
            vec![int("axis", 0)],
        ),
        node("Reshape", "rows", &["x", "t"], &["xr"], vec![]),
        node("MatMul", "proj", &["xr", "wq"], &["q"], vec![]),
        node("Sigmoid", "gate", &["q"], &["g"], vec![]),
        node("Mul", "scaled", &["g", "half"], &["gs"], vec![]),
        node("Sub", "one_minus", &["one", "gs"], &["om"], vec![]),
        node("Sum", "sum3", &["gs", "om", "q"], &["s3"], vec![]),
        node("Div", "ratio", &["s3", "s3"], &["d0"], vec![]),
        node("LayerNormalization", "ln", &["d0", "gamma"], &["d"], vec![]),
        node(
            "Transpose",
            "t",
            &["d"],
            &["dt"],
            vec![ints("perm", &[0, 2, 1])],
        ),
        node("MatMul", "scores", &["d", "dt"], &["a"], vec![]),
        node("Flatten", "flat", &["a"], &["af"], vec![]),
        node("MatMul", "head", &["af", "wh"], &["y"], vec![]),
    ];
    let inits = vec![
        i64_tensor("zero", &[], &[0]),
        i64_tensor("axes0", &[1], &[0]),
        i64_tensor("rest", &[2], &[6, 2]),
        f32_tensor("wq", &[2, 4], &values(8, 5)),
        f32_tensor("half", &[], &[0.5]),
        f32_tensor("one", &[1], &[1.0]),
        f32_tensor("wh", &[36, 3], &values(108, 6)),
        f32_tensor("gamma", &[4], &[1.0; 4]),
        f32_tensor("gamma", &[4], &[1.0; 4]),
    ];
    let m = model(
        nodes,
        inits,
        vec![value("x", &[Some(1), Some(3), Some(4)])],
        "y",
        17,
    );
    let path = write(dir.path(), "m.onnx", &m);
    let imp = imported(&path, &[]);
    assert_eq!(
        ops(&imp),
        [
            "reshape",
            "matmul",
            "sigmoid",
            "mul",
            "sub",
            "add",
            "add",
            "div",
            "layer_norm",
            "transpose",
            "matmul",
            "linear"
        ],
        "{}",
        imp.json
    );
    assert_eq!(
        imp.stats.folded_nodes, 4,
        "Shape, Gather, Unsqueeze and Concat"
    );
    assert!(
        imp.json.contains("\"scalar_left\": true"),
        "1 - x keeps its order: {}",
        imp.json
    );
    // proj 6x4x2, scores 6x6x4 (two activations), head 36 -> 3.
    assert_eq!(imp.stats.macs, 6 * 4 * 2 + 6 * 6 * 4 + 36 * 3);
    let o = common::plumsim(&[
        "run",
        &dense(),
        &common::path_str(&path),
        "--out",
        &common::path_str(&dir.path().join("r")),
    ]);
    common::ok(&o, "run");
}

/// Weights quantized elsewhere (QDQ: DequantizeLinear of int8 codes, one scale per output
/// channel) run as int8 layers, and plumsim's quantizer gives back the file's codes; codes
/// whose filter maximum is not 127 are re-derived, with a warning.
#[test]
fn int8_weights_quantized_elsewhere_run_as_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (o, c) = (4usize, 3usize);
    let mut codes: Vec<i64> = values(o * c * 9, 9)
        .iter()
        .map(|&v| (v * 127.0).round() as i64)
        .collect();
    for f in 0..o {
        codes[f * c * 9] = if f % 2 == 0 { 127 } else { -127 };
    }
    let scales = [0.01f32, 0.02, 0.005, 0.03];
    let run = |codes: &[i64], name: &str| {
        let q = TensorProto {
            name: "wq".into(),
            dims: vec![o as i64, c as i64, 3, 3],
            data_type: DataType::Int8 as i32,
            int32_data: codes.iter().map(|&v| v as i32).collect(),
            ..Default::default()
        };
        let zp = TensorProto {
            name: "zp".into(),
            dims: vec![o as i64],
            data_type: DataType::Int8 as i32,
            int32_data: vec![0; o],
            ..Default::default()
        };
        let nodes = vec![
            node(
                "DequantizeLinear",
                "dq",
                &["wq", "ws", "zp"],
                &["w"],
                vec![int("axis", 0)],
            ),
            node("QuantizeLinear", "qx", &["x", "xs"], &["xq"], vec![]),
            node("DequantizeLinear", "dqx", &["xq", "xs"], &["xd"], vec![]),
            node(
                "Conv",
                "conv",
                &["xd", "w"],
                &["y"],
                vec![ints("pads", &[1, 1, 1, 1])],
            ),
        ];
        let inits = vec![
            q,
            f32_tensor("ws", &[o as i64], &scales),
            zp,
            f32_tensor("xs", &[], &[0.1]),
        ];
        let m = model(
            nodes,
            inits,
            vec![value("x", &[Some(1), Some(c as i64), Some(5), Some(5)])],
            "y",
            13,
        );
        imported(&write(dir.path(), name, &m), &[])
    };
    let imp = run(&codes, "qdq.onnx");
    let conv = &imp.network.layers[0];
    assert_eq!(
        conv.quant.scheme,
        plumsim::quant::Scheme::Int {
            bits: 8,
            per_channel: true
        },
        "{}",
        imp.json
    );
    let w = &imp
        .tensors
        .iter()
        .find(|t| t.name == "w" || t.name == "wq" || t.name.contains("weight"))
        .unwrap();
    let q = plumsim::quant::quantize(&w.data, &w.shape, &conv.quant.scheme);
    let got: Vec<i64> = q.codes.iter().map(|&v| v as i64).collect();
    assert_eq!(got, codes, "plumsim's int8 codes are the file's");
    assert!(
        !imp.warnings.iter().any(|w| w.contains("codes different")),
        "{:?}",
        imp.warnings
    );
    assert!(
        imp.warnings
            .iter()
            .any(|w| w.contains("QuantizeLinear/DequantizeLinear")),
        "{:?}",
        imp.warnings
    );
    // The QLinear form: the weights and the int32 bias in real units (B x_scale w_scale).
    let q = TensorProto {
        name: "wq".into(),
        dims: vec![o as i64, c as i64, 3, 3],
        data_type: DataType::Int8 as i32,
        int32_data: codes.iter().map(|&v| v as i32).collect(),
        ..Default::default()
    };
    let b = TensorProto {
        name: "b".into(),
        dims: vec![o as i64],
        data_type: DataType::Int32 as i32,
        int32_data: vec![100, -200, 300, 0],
        ..Default::default()
    };
    let u8_zero = |name: &str| TensorProto {
        name: name.into(),
        dims: vec![],
        data_type: DataType::Uint8 as i32,
        int32_data: vec![0],
        ..Default::default()
    };
    let nodes = vec![
        node("QuantizeLinear", "qx", &["x", "xs", "xz"], &["xq"], vec![]),
        node(
            "QLinearConv",
            "qconv",
            &["xq", "xs", "xz", "wq", "ws", "", "ys", "yz", "b"],
            &["yq"],
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node(
            "DequantizeLinear",
            "dqy",
            &["yq", "ys", "yz"],
            &["y"],
            vec![],
        ),
    ];
    let inits = vec![
        q,
        b,
        f32_tensor("ws", &[o as i64], &scales),
        f32_tensor("xs", &[], &[0.1]),
        f32_tensor("ys", &[], &[0.2]),
        u8_zero("xz"),
        u8_zero("yz"),
    ];
    let m = model(
        nodes,
        inits,
        vec![value("x", &[Some(1), Some(c as i64), Some(5), Some(5)])],
        "y",
        13,
    );
    let imp = imported(&write(dir.path(), "qlinear.onnx", &m), &[]);
    assert_eq!(ops(&imp), ["conv2d"], "{}", imp.json);
    assert_eq!(
        imp.network.layers[0].quant.scheme,
        plumsim::quant::Scheme::Int {
            bits: 8,
            per_channel: true
        }
    );
    let t = |name: &str| {
        imp.tensors
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .data
            .clone()
    };
    let w: Vec<f32> = codes
        .iter()
        .enumerate()
        .map(|(i, &q)| scales[i / (c * 9)] * q as f32)
        .collect();
    assert_eq!(t("wq"), w);
    let bias: Vec<f32> = [100f32, -200.0, 300.0, 0.0]
        .iter()
        .zip(scales)
        .map(|(b, s)| b * 0.1 * s)
        .collect();
    assert_eq!(t("b"), bias);
    // A filter whose largest code is 100: plumsim's max-abs scale re-derives its codes.
    let mut small = codes.clone();
    for v in &mut small[..c * 9] {
        *v = (*v * 100) / 127;
    }
    let imp = run(&small, "qdq_small.onnx");
    assert!(
        imp.warnings
            .iter()
            .any(|w| w.contains("codes different from the file's")),
        "{:?}",
        imp.warnings
    );
}

/// `validate`, `compare` and `sweep` take the `.onnx` as `run` does.
#[test]
fn validate_compare_and_sweep_take_onnx_files() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = vec![
        node(
            "Conv",
            "c1",
            &["x", "w1"],
            &["a"],
            vec![ints("pads", &[1, 1, 1, 1])],
        ),
        node("PRelu", "r1", &["a", "slope"], &["b0"], vec![]),
        node(
            "LeakyRelu",
            "r2",
            &["b0"],
            &["b"],
            vec![float("alpha", 0.1)],
        ),
        node(
            "Conv",
            "c2",
            &["b", "w2"],
            &["y"],
            vec![ints("strides", &[2, 2])],
        ),
    ];
    let inits = vec![
        f32_tensor("slope", &[8, 1, 1], &[0.25; 8]),
        f32_tensor("w1", &[8, 3, 3, 3], &values(216, 11)),
        f32_tensor("w2", &[8, 8, 1, 1], &values(64, 12)),
    ];
    let m = model(
        nodes,
        inits,
        vec![value("x", &[None, Some(3), Some(8), Some(8)])],
        "y",
        13,
    );
    let path = common::path_str(&write(dir.path(), "net.onnx", &m));
    let o = common::plumsim(&["validate", &dense(), &path, "--input-shape", "x=2,3,8,8"]);
    common::ok(&o, "validate");
    // Imported with .npz weights, the JSON runs as the .onnx does.
    let imp_dir = dir.path().join("imp");
    let o = common::plumsim(&[
        "import",
        "onnx",
        &path,
        "--input-shape",
        "x=2,3,8,8",
        "--weights-format",
        "npz",
        "--out",
        &common::path_str(&imp_dir),
    ]);
    common::ok(&o, "import --weights-format npz");
    assert!(
        common::stdout(&o).contains("2 of them weight layers: 280 weights from the model"),
        "{}",
        common::stdout(&o)
    );
    let summary = |w: &Path, extra: &[&str], out: &str| -> serde_json::Value {
        let out = dir.path().join(out);
        let mut args = vec!["run".to_string(), dense(), common::path_str(w)];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--out".into(), common::path_str(&out)]);
        common::ok(
            &common::plumsim(&args.iter().map(String::as_str).collect::<Vec<_>>()),
            "run",
        );
        serde_json::from_str(&common::read(&out.join("summary.json"))).unwrap()
    };
    let json = common::read(&imp_dir.join("net.json"));
    assert_eq!(
        json.matches("\"op\": \"prelu\"").count(),
        2,
        "PRelu and LeakyRelu: {json}"
    );
    let a = summary(&imp_dir.join("net.json"), &[], "a");
    let b = summary(Path::new(&path), &["--input-shape", "x=2,3,8,8"], "b");
    assert_eq!(a["total_cycles"], b["total_cycles"]);
    assert_eq!(a["energy_pj"], b["energy_pj"]);
    let out = dir.path().join("cmp");
    let o = common::plumsim(&[
        "compare",
        &path,
        "--input-shape",
        "x=2,3,8,8",
        "--out",
        &common::path_str(&out),
    ]);
    common::ok(&o, "compare");
    let spec = common::write_spec(
        dir.path(),
        "s.toml",
        &format!(
            "base = \"{}\"\nworkloads = [\"net.onnx\"]\n[axes]\n\"array.rows\" = [8, 16]\n",
            dense()
        ),
    );
    let o = common::sweep(
        &spec,
        &dir.path().join("s.csv"),
        &["--input-shape", "x=2,3,8,8"],
    );
    common::ok(&o, "sweep");
    let rows = common::rows(&common::read(&dir.path().join("s.csv")));
    assert_eq!(rows.len(), 2);
    // Batch 2: 2 x (8*8*8*27 + 4*4*8*8) MACs.
    assert_eq!(
        rows[0]["macs"],
        (2 * (8 * 8 * 8 * 27 + 4 * 4 * 8 * 8)).to_string()
    );
}

// ---- bad input ----

fn fails(args: &[&str], out: &Path, expect: &[&str]) {
    let o = common::plumsim(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", common::stderr(&o));
    let e = common::stderr(&o);
    for x in expect {
        assert!(e.contains(x), "{args:?}: `{x}` not in: {e}");
    }
    assert!(!out.exists(), "{args:?} wrote {}", out.display());
}

#[test]
fn bad_models_exit_2_naming_the_file_and_the_node_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("out");
    let good = || {
        model(
            vec![node("Conv", "conv", &["x", "w"], &["y"], vec![])],
            vec![f32_tensor("w", &[2, 1, 1, 1], &[1.0, 2.0])],
            vec![value("x", &[Some(1), Some(1), Some(2), Some(2)])],
            "y",
            13,
        )
    };
    let import = |p: &Path| -> Vec<String> {
        vec![
            "import".into(),
            "onnx".into(),
            common::path_str(p),
            "--out".into(),
            common::path_str(&out),
        ]
    };
    let check = |p: &Path, expect: &[&str]| {
        let args = import(p);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails(&args, &out, expect);
        // The direct path gives the same error.
        let o = common::plumsim(&[
            "run",
            &dense(),
            &common::path_str(p),
            "--out",
            &common::path_str(&out),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", common::stderr(&o));
        assert!(!out.exists());
    };
    // Truncated, and not ONNX at all.
    let bytes = good().encode_to_vec();
    let p = d.join("truncated.onnx");
    std::fs::write(&p, &bytes[..bytes.len() - 7]).unwrap();
    check(&p, &["truncated.onnx", "not an ONNX model"]);
    let p = d.join("text.onnx");
    std::fs::write(&p, "{\"name\": \"a workload\"}").unwrap();
    check(&p, &["text.onnx", "not an ONNX model"]);
    // An opset plumsim does not know.
    let mut m = good();
    m.opset_import[0].version = 99;
    check(
        &write(d, "opset.onnx", &m),
        &["opset.onnx", "opset 99 is unknown", "opsets 1 to 28"],
    );
    // A cycle.
    let mut m = good();
    let g = m.graph.as_mut().unwrap();
    g.node = vec![
        node("Relu", "a", &["x", "c"], &["b"], vec![]),
        node("Relu", "b2", &["b"], &["c"], vec![]),
        node("Relu", "out", &["c"], &["y"], vec![]),
    ];
    check(
        &write(d, "cycle.onnx", &m),
        &["cycle.onnx", "node `a` (Relu)", "cycle"],
    );
    // Data that disagrees with the dims.
    let mut m = good();
    m.graph.as_mut().unwrap().initializer[0]
        .raw_data
        .truncate(4);
    check(
        &write(d, "short.onnx", &m),
        &["short.onnx", "tensor `w`", "holds 4 bytes", "need 8"],
    );
    // External data outside the model's folder.
    let mut m = good();
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.raw_data.clear();
    t.data_location = 1;
    t.external_data = vec![StringStringEntryProto {
        key: "location".into(),
        value: "../w.bin".into(),
    }];
    std::fs::write(dir.path().parent().unwrap().join("w.bin"), [0u8; 8]).ok();
    check(
        &write(d, "escape.onnx", &m),
        &["escape.onnx", "tensor `w`", "leaves the model's folder"],
    );
    // An op plumsim does not model: named with its inputs and the supported list.
    let mut m = good();
    m.graph.as_mut().unwrap().node[0] = node("LSTM", "rnn", &["x", "w"], &["y"], vec![]);
    check(
        &write(d, "lstm.onnx", &m),
        &[
            "node `rnn` (LSTM)",
            "\"x\"",
            "supported ops",
            "Conv",
            "MatMul",
        ],
    );
    // A dynamic dimension nobody resolved, then resolved.
    let mut m = good();
    m.graph.as_mut().unwrap().input[0] = value("x", &[None, Some(1), Some(2), Some(2)]);
    let p = write(d, "dynamic.onnx", &m);
    check(&p, &["input `x`", "dynamic", "--input-shape x=1,1,2,2"]);
    let mut args = import(&p);
    args.extend(["--input-shape".into(), "x=3,1,2,2".into()]);
    let o = common::plumsim(&args.iter().map(String::as_str).collect::<Vec<_>>());
    common::ok(&o, "import with --input-shape");
    assert!(common::read(&out.join("dynamic.json")).contains("\"batch\": 3"));
}

// ---- the shared models ----

fn shared_model(shared: &Path, file: &str, shapes: &[(&str, &[u64])]) -> plumsim::onnx::Imported {
    imported(&shared.join("onnx").join(file), shapes)
}

/// Weight layers' GEMMs (M, N, K, groups) in network order.
fn gemms(net: &plumsim::workload::Network) -> Vec<(u64, u64, u64, u64)> {
    net.layers
        .iter()
        .filter_map(|l| l.gemm(net))
        .map(|g| (g.m, g.n, g.k, g.groups))
        .collect()
}

fn hand_built(name: &str) -> plumsim::workload::Network {
    plumsim::io::load_workload(&common::root().join("workloads").join(name)).unwrap()
}

#[test]
fn zigzag_resnet18_and_mobilenetv2_equal_the_hand_built_workloads() {
    let Some(shared) = common::shared_or_skip("the ZigZag ONNX exports in ../shared/onnx") else {
        return;
    };
    for (file, hand, layers) in [
        ("zigzag_resnet18_shapes.onnx", "resnet18.json", 21),
        ("zigzag_mobilenetv2_shapes.onnx", "mobilenet_v2.json", 53),
    ] {
        let imp = shared_model(&shared, file, &[]);
        let h = hand_built(hand);
        assert_eq!(
            gemms(&imp.network),
            gemms(&h),
            "{file}: every weight layer's GEMM"
        );
        assert_eq!(imp.stats.weight_layers, layers, "{file}");
        assert_eq!(
            imp.stats.macs,
            h.layers
                .iter()
                .filter_map(|l| l.gemm(&h))
                .map(|g| g.macs())
                .sum::<u64>()
        );
        // The weights are not shipped: every weight tensor is synthetic, each said once.
        assert_eq!(imp.stats.file_weights, 0);
        let synthetic = imp
            .warnings
            .iter()
            .filter(|w| w.contains("synthetic weights of its shape"))
            .count();
        assert_eq!(synthetic, layers, "{file}: {:?}", imp.warnings);
    }
    let imp = shared_model(&shared, "zigzag_resnet18_shapes.onnx", &[]);
    assert_eq!(imp.stats.macs, 1_814_073_344);
    assert_eq!(imp.network.layers[0].name, "conv1/Conv");
    assert!(
        imp.network
            .layers
            .iter()
            .any(|l| l.name == "layer1.0.conv1/Conv"),
        "PyTorch's qualified names"
    );
}

/// ResNet-50's MACs, derived here from its definition (He et al. 2016, torchvision's layout:
/// stride on the 3x3 of each bottleneck), and equal on the ONNX model zoo's export.
#[test]
fn onnx_resnet50_gives_the_macs_of_its_definition() {
    let Some(shared) = common::shared_or_skip("onnx's light ResNet-50 in ../shared/onnx") else {
        return;
    };
    let mut macs = 112 * 112 * 64 * 3 * 49u64;
    let (mut hw, mut cin) = (56u64, 64u64);
    for (stage, (blocks, width)) in [(3u64, 64u64), (4, 128), (6, 256), (3, 512)]
        .into_iter()
        .enumerate()
    {
        for b in 0..blocks {
            let stride = if b == 0 && stage > 0 { 2 } else { 1 };
            let out_hw = hw / stride;
            macs += hw * hw * width * cin; // 1x1 reduce
            macs += out_hw * out_hw * width * width * 9; // 3x3
            macs += out_hw * out_hw * 4 * width * width; // 1x1 expand
            if b == 0 {
                macs += out_hw * out_hw * 4 * width * cin; // projection shortcut
            }
            cin = 4 * width;
            hw = out_hw;
        }
    }
    macs += 2048 * 1000;
    let imp = shared_model(&shared, "onnx_light_resnet50_shapes.onnx", &[]);
    assert_eq!(imp.stats.macs, macs);
    assert_eq!(macs, 4_089_184_256);
    assert_eq!(imp.stats.weight_layers, 54);
    assert_eq!(
        ops(&imp).iter().filter(|&&o| o == "add").count(),
        16,
        "each Sum of two is one add"
    );
}

#[test]
fn paddleocr_classifier_imports_its_constant_node_weights() {
    let Some(shared) = common::shared_or_skip("the PaddleOCR classifier in ../shared/onnx") else {
        return;
    };
    let imp = shared_model(
        &shared,
        "ppocr_mobile_v2_cls.onnx",
        &[("x", &[1, 3, 48, 192])],
    );
    let convs: Vec<&plumsim::workload::Layer> = imp
        .network
        .layers
        .iter()
        .filter(|l| l.op.kind().as_str() == "conv2d")
        .collect();
    assert_eq!(convs.len(), 53);
    let conv_weights: u64 = convs
        .iter()
        .map(|l| l.weight_shape().unwrap().iter().product::<u64>())
        .sum();
    assert_eq!(conv_weights, 123_672);
    // Every Constant value is imported: conv and fc weights, batch norms, biases, and the
    // scalars (hard-swish's 3 and 6, the clip bounds) as layer fields.
    assert_eq!(imp.stats.file_weights, 123_672 + 400);
    assert_eq!(imp.stats.synthetic_weights, 0);
    assert!(imp.warnings.is_empty(), "{:?}", imp.warnings);
    let held: usize = imp.tensors.iter().map(|t| t.data.len()).sum();
    assert!(
        held > 123_672 + 400,
        "with batch-norm and bias tensors: {held}"
    );
    // Squeeze-excite biases (Conv then Add of a reshaped constant) become the convs' biases.
    assert!(
        imp.json.contains("\"bias\": \"conv2_se_1_offset\""),
        "{}",
        &imp.json[..2000]
    );
}

#[test]
fn resnet20_onnx_reproduces_the_reference_logits_and_the_hand_built_workload() {
    let Some(shared) = common::shared_or_skip("the trained ResNet-20 ONNX and CIFAR-10 inputs")
    else {
        return;
    };
    let model = shared.join("onnx/resnet20_cifar10_akamaster.onnx");
    let imp = imported(&model, &[("input", &[1, 3, 32, 32])]);
    let hand = hand_built("resnet20_cifar10.json");
    assert_eq!(gemms(&imp.network), gemms(&hand));
    assert_eq!(imp.stats.file_weights, 268_336);
    let dir = tempfile::tempdir().unwrap();
    let summary = |workload: &Path, extra: &[&str], out: &str| -> serde_json::Value {
        let out = dir.path().join(out);
        let mut args = vec!["run".to_string(), dense(), common::path_str(workload)];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--out".into(), common::path_str(&out)]);
        let o = common::plumsim(&args.iter().map(String::as_str).collect::<Vec<_>>());
        common::ok(&o, "run");
        serde_json::from_str(&common::read(&out.join("summary.json"))).unwrap()
    };
    let reference = common::path_str(&shared.join("images/cifar10/resnet20_fp32_reference.npz"));
    let s = summary(
        &model,
        &["--input-shape", "input=1,3,32,32", "--inputs", &reference],
        "onnx",
    );
    let f = &s["fidelity"];
    assert!(
        f["reference_logits_max_rel_error"].as_f64().unwrap() < 1e-5,
        "{f}"
    );
    assert_eq!(f["reference_correct"], 20);
    // The same cycles and energy as the hand-built workload (the option-A shortcut's strided
    // Slice and channel Pad are views there as here).
    let h = summary(
        &common::root().join("workloads/resnet20_cifar10.json"),
        &[],
        "hand",
    );
    let o = summary(&model, &["--input-shape", "input=1,3,32,32"], "onnx_timing");
    for k in ["total_cycles", "macs", "energy_pj"] {
        assert_eq!(o[k], h[k], "{k}");
    }
}

#[test]
fn pytorch_single_layer_exports_keep_their_weights_and_outputs() {
    let Some(shared) = common::shared_or_skip("the PyTorch single-layer exports in ../shared/onnx")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // The depthwise convolution: its own test input gives its own test output.
    let base = shared.join("onnx/pytorch_test_Conv2d_depthwise_with_multiplier");
    let pb = |p: &Path| {
        let t = TensorProto::decode(std::fs::read(p).unwrap().as_slice()).unwrap();
        let data: Vec<f32> = t
            .raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (t.dims.iter().map(|&d| d as u64).collect::<Vec<u64>>(), data)
    };
    let (xs, x) = pb(&base.join("test_data_set_0/input_0.pb"));
    let (ys, y) = pb(&base.join("test_data_set_0/output_0.pb"));
    assert_eq!(
        (xs.as_slice(), ys.as_slice()),
        (&[2u64, 4, 6, 6][..], &[2u64, 8, 4, 4][..])
    );
    let npz = dir.path().join("dw.npz");
    inputs_npz(&npz, &xs, &x, &[2, 128], &y);
    let out = dir.path().join("dw");
    let o = common::plumsim(&[
        "run",
        &dense(),
        &common::path_str(&base.join("model.onnx")),
        "--inputs",
        &common::path_str(&npz),
        "--out",
        &common::path_str(&out),
    ]);
    common::ok(&o, "depthwise run");
    let f = fidelity(&out);
    assert!(
        f["reference_logits_max_rel_error"].as_f64().unwrap() < 1e-6,
        "{f}"
    );
    let imp = imported(&base.join("model.onnx"), &[]);
    assert_eq!(imp.json.matches("\"groups\": 4").count(), 1, "{}", imp.json);
    // The linear layer: its weights as written, and a forward pass computed here.
    let path = shared.join("onnx/pytorch_test_Linear/model.onnx");
    let m = ModelProto::decode(std::fs::read(&path).unwrap().as_slice()).unwrap();
    let g = m.graph.unwrap();
    let raw = |name: &str| -> Vec<f32> {
        let t = g.initializer.iter().find(|t| t.name == name).unwrap();
        if t.raw_data.is_empty() {
            t.float_data.clone()
        } else {
            t.raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        }
    };
    let (w, b) = (raw("1"), raw("2"));
    let out = dir.path().join("lin");
    let o = common::plumsim(&[
        "import",
        "onnx",
        &common::path_str(&path),
        "--out",
        &common::path_str(&out),
    ]);
    common::ok(&o, "import");
    let st = std::fs::read(out.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&st).unwrap();
    let t = st.tensor("1").unwrap();
    assert_eq!(t.shape(), [8, 10]);
    let stored: Vec<f32> = t
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        stored, w,
        "the Gemm's weights (transB = 1: PyTorch's layout already)"
    );
    let x = values(40, 21);
    let want: Vec<f32> = x
        .chunks(10)
        .flat_map(|r| {
            (0..8)
                .map(|n| b[n] + (0..10).map(|k| r[k] * w[n * 10 + k]).sum::<f32>())
                .collect::<Vec<_>>()
        })
        .collect();
    let npz = dir.path().join("lin.npz");
    inputs_npz(&npz, &[4, 10], &x, &[4, 8], &want);
    let o = common::plumsim(&[
        "run",
        &dense(),
        &common::path_str(&out.join("model.json")),
        "--inputs",
        &common::path_str(&npz),
        "--out",
        &common::path_str(&dir.path().join("linrun")),
    ]);
    common::ok(&o, "run the imported JSON");
    let f = fidelity(&dir.path().join("linrun"));
    assert!(
        f["reference_logits_max_rel_error"].as_f64().unwrap() < 1e-6,
        "{f}"
    );
}

/// Seeded byte mutations of models (flips, truncations, repeated and zeroed runs): every
/// import returns a result, never a panic.
#[test]
fn mutated_models_never_panic() {
    let mut models: Vec<(String, Vec<u8>)> = Vec::new();
    let tiny = model(
        vec![
            node("Pad", "pad", &["x", "pads"], &["xp"], vec![]),
            node(
                "Conv",
                "conv",
                &["xp", "w"],
                &["c"],
                vec![ints("strides", &[2, 2])],
            ),
            node("Add", "b", &["c", "bias"], &["cb"], vec![]),
            node(
                "Clip",
                "clip",
                &["cb"],
                &["r"],
                vec![float("min", 0.0), float("max", 6.0)],
            ),
            node("Shape", "sh", &["r"], &["s"], vec![]),
            node("Slice", "sl", &["s", "st", "en"], &["s2"], vec![]),
            node("Concat", "cat", &["s2", "m1"], &["t"], vec![int("axis", 0)]),
            node("Reshape", "rs", &["r", "t"], &["f"], vec![]),
            node("Gemm", "fc", &["f", "fw"], &["y"], vec![int("transB", 1)]),
        ],
        vec![
            i64_tensor("pads", &[8], &[0, 0, 1, 1, 0, 0, 1, 1]),
            f32_tensor("w", &[4, 2, 3, 3], &values(72, 31)),
            f32_tensor("bias", &[1, 4, 1, 1], &values(4, 32)),
            i64_tensor("st", &[1], &[0]),
            i64_tensor("en", &[1], &[1]),
            i64_tensor("m1", &[1], &[-1]),
            f32_tensor("fw", &[3, 16], &values(48, 33)),
        ],
        vec![value("x", &[Some(1), Some(2), Some(4), Some(4)])],
        "y",
        13,
    );
    models.push(("tiny".into(), tiny.encode_to_vec()));
    if let Some(shared) = common::shared() {
        for f in [
            "resnet20_cifar10_akamaster.onnx",
            "ppocr_mobile_v2_cls.onnx",
            "zigzag_resnet18_shapes.onnx",
        ] {
            models.push((
                f.into(),
                std::fs::read(shared.join("onnx").join(f)).unwrap(),
            ));
        }
    }
    let options = plumsim::onnx::ImportOptions {
        name: "m".into(),
        weights_file: "m.onnx".into(),
        input_shapes: BTreeMap::new(),
        unresolved_as_one: true,
    };
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    let (mut ok, mut refused) = (0, 0);
    for (name, bytes) in &models {
        let rounds = if name == "tiny" { 1500 } else { 150 };
        for round in 0..rounds {
            let mut b = bytes.clone();
            for _ in 0..1 + next(3) {
                let at = next(b.len());
                match next(4) {
                    0 => b[at] ^= 1 << next(8),
                    1 => b.truncate(at.max(1)),
                    2 => {
                        let end = (at + 1 + next(16)).min(b.len());
                        let run = b[at..end].to_vec();
                        b.splice(at..at, run);
                    }
                    _ => {
                        let end = (at + 1 + next(8)).min(b.len());
                        b[at..end]
                            .iter_mut()
                            .for_each(|x| *x = if next(2) == 0 { 0 } else { 0xff });
                    }
                }
            }
            let r = std::panic::catch_unwind(|| {
                plumsim::onnx::import(&b, "fuzz.onnx", &options, &mut |_| Ok(None)).map(|_| ())
            });
            match r {
                Ok(Ok(())) => ok += 1,
                Ok(Err(e)) => {
                    assert!(
                        e.is_user_error() || matches!(e, plumsim::Error::Unsupported(_)),
                        "{name} round {round}: {e}"
                    );
                    refused += 1
                }
                Err(_) => panic!("{name} round {round}: the import panicked"),
            }
        }
    }
    assert!(ok > 0 && refused > 0, "{ok} imported, {refused} refused");
}
