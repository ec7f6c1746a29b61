//! Weight files: .npz / .npy / .safetensors round trips, dtypes, and errors that name the
//! file, the tensor and the layer.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use npyz::WriterBuilder;
use plumsim::io::weights::{load_tensor, network_weights, LoadedTensor, WeightLoader};
use plumsim::synth::synthetic_weights;
use plumsim::workload::{derive_seed, parse_workload, Distribution, DEFAULT_SEED};

fn ramp(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (i as f32 - n as f32 / 2.0) * 0.125)
        .collect()
}

/// An .npz with f32, f16, i8, u8, f64 tensors, a Fortran-order one and a bool one.
fn write_npz(path: &Path) {
    let mut npz = npyz::npz::NpzWriter::create(path).unwrap();
    let opts = || npyz::zip::write::FileOptions::default();
    macro_rules! put {
        ($name:expr, $t:ty, $shape:expr, $data:expr, $order:expr) => {{
            let mut w = npz
                .array::<$t>($name, opts())
                .unwrap()
                .default_dtype()
                .shape($shape)
                .order($order)
                .begin_nd()
                .unwrap();
            w.extend($data).unwrap();
            w.finish().unwrap();
        }};
    }
    put!(
        "conv1.weight",
        f32,
        &[4, 3, 3, 3],
        ramp(108),
        npyz::Order::C
    );
    put!(
        "half",
        half::f16,
        &[2, 3],
        ramp(6).into_iter().map(half::f16::from_f32),
        npyz::Order::C
    );
    put!(
        "int8",
        i8,
        &[2, 3],
        [-128i8, -1, 0, 1, 2, 127],
        npyz::Order::C
    );
    put!("uint8", u8, &[3, 2], [0u8, 1, 2, 3, 4, 255], npyz::Order::C);
    put!(
        "double",
        f64,
        &[2, 2],
        [0.5f64, -1.5, 2.25, 1e-3],
        npyz::Order::C
    );
    put!("fortran", f32, &[2, 3], ramp(6), npyz::Order::Fortran);
    put!("flags", bool, &[2], [true, false], npyz::Order::C);
    npz.zip_writer().finish().unwrap();
}

fn tmp_npz() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.npz");
    write_npz(&p);
    (dir, p)
}

#[test]
fn npz_round_trip_f32() {
    let (_d, p) = tmp_npz();
    let t = load_tensor(&p, "conv1.weight").unwrap();
    assert_eq!(
        t,
        LoadedTensor {
            shape: vec![4, 3, 3, 3],
            data: ramp(108)
        }
    );
}

#[test]
fn npz_f16_integer_and_f64_dtypes_load_as_f32() {
    let (_d, p) = tmp_npz();
    let mut l = WeightLoader::new();
    assert_eq!(l.load(&p, "half", None).unwrap().data, ramp(6)); // multiples of 1/8 are exact in f16
    assert_eq!(
        l.load(&p, "int8", None).unwrap().data,
        vec![-128.0, -1.0, 0.0, 1.0, 2.0, 127.0]
    );
    let u = l.load(&p, "uint8", None).unwrap();
    assert_eq!(
        (u.shape, u.data),
        (vec![3, 2], vec![0.0, 1.0, 2.0, 3.0, 4.0, 255.0])
    );
    assert_eq!(
        l.load(&p, "double", None).unwrap().data,
        vec![0.5, -1.5, 2.25, 1e-3f64 as f32]
    );
}

fn err_of(r: plumsim::Result<Vec<f32>>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn npz_errors_name_file_tensor_and_layer() {
    let (_d, p) = tmp_npz();
    let file = p.display().to_string();
    let mut l = WeightLoader::new();
    let e = err_of(l.load_shaped(&p, "conv9.weight", "conv9", &[4, 3, 3, 3]));
    assert!(
        e.starts_with(&format!(
            "{file}: tensor `conv9.weight` (layer `conv9`): no tensor `conv9.weight` in the file"
        )),
        "{e}"
    );
    assert!(e.contains("conv1.weight"), "lists the tensors it has: {e}");
    let e = err_of(l.load_shaped(&p, "conv1.weight", "conv1", &[8, 3, 3, 3]));
    assert!(e.starts_with(&format!("{file}: tensor `conv1.weight` (layer `conv1`): shape [4, 3, 3, 3] does not match the layer's weight shape [8, 3, 3, 3]")), "{e}");
    // Fortran (column-major) arrays are reordered to C order: element (i, j) of a 2 x 3
    // array is stored at i + 2 j.
    let f = ramp(6);
    let got = l.load_shaped(&p, "fortran", "fc", &[2, 3]).unwrap();
    assert_eq!(got, vec![f[0], f[2], f[4], f[1], f[3], f[5]]);
    let e = err_of(l.load_shaped(&p, "flags", "fc", &[2]));
    assert!(
        e.starts_with(&format!(
            "{file}: tensor `flags` (layer `fc`): unsupported dtype `|b1`"
        )),
        "{e}"
    );
}

#[test]
fn missing_file_and_unknown_extension_are_weight_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nope.npz");
    let e = load_tensor(&p, "a").unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}: tensor `a`: cannot open as .npz", p.display())),
        "{e}"
    );
    let p = dir.path().join("w.pt");
    let e = load_tensor(&p, "a").unwrap_err().to_string();
    assert!(
        e.contains("unknown weight file type `.pt` (help: use .npz, .npy, .safetensors or .onnx)"),
        "{e}"
    );
}

#[test]
fn npy_file_holds_one_array() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.npy");
    let f = BufWriter::new(std::fs::File::create(&p).unwrap());
    let mut w = npyz::WriteOptions::<i16>::new()
        .default_dtype()
        .shape(&[2, 2])
        .writer(f)
        .begin_nd()
        .unwrap();
    w.extend([-300i16, 5, 0, 7]).unwrap();
    w.finish().unwrap();
    let t = load_tensor(&p, "any").unwrap();
    assert_eq!((t.shape, t.data), (vec![2, 2], vec![-300.0, 5.0, 0.0, 7.0]));
}

#[test]
fn safetensors_f32_f16_bf16_and_errors() {
    use safetensors::tensor::TensorView;
    use safetensors::Dtype;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.safetensors");
    let f32s: Vec<u8> = ramp(6).iter().flat_map(|x| x.to_le_bytes()).collect();
    let f16s: Vec<u8> = ramp(6)
        .iter()
        .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
        .collect();
    let bf16s: Vec<u8> = ramp(6)
        .iter()
        .flat_map(|&x| half::bf16::from_f32(x).to_le_bytes())
        .collect();
    let bools = vec![1u8, 0];
    let views = vec![
        ("a", TensorView::new(Dtype::F32, vec![2, 3], &f32s).unwrap()),
        ("b", TensorView::new(Dtype::F16, vec![3, 2], &f16s).unwrap()),
        ("c", TensorView::new(Dtype::BF16, vec![6], &bf16s).unwrap()),
        ("d", TensorView::new(Dtype::BOOL, vec![2], &bools).unwrap()),
    ];
    safetensors::serialize_to_file(views, &None, &p).unwrap();
    let mut l = WeightLoader::new();
    assert_eq!(
        l.load(&p, "a", None).unwrap(),
        LoadedTensor {
            shape: vec![2, 3],
            data: ramp(6)
        }
    );
    assert_eq!(l.load(&p, "b", None).unwrap().data, ramp(6));
    assert_eq!(l.load(&p, "c", None).unwrap().data, ramp(6));
    let file = p.display().to_string();
    let e = err_of(l.load_shaped(&p, "zz", "fc", &[2]));
    assert!(e.starts_with(&format!("{file}: tensor `zz` (layer `fc`): no tensor `zz` in the file (help: it holds 4 tensors, e.g. a, b, c, d)")), "{e}");
    let e = err_of(l.load_shaped(&p, "d", "fc", &[2]));
    assert!(
        e.starts_with(&format!(
            "{file}: tensor `d` (layer `fc`): unsupported dtype `BOOL`"
        )),
        "{e}"
    );
}

const NET: &str = r#"{
  "name": "tiny",
  "inputs": {"x": [3, 8, 8]},
  "layers": [
    {"name": "conv1", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 4, "kernel": 3,
     "weights": {"file": "w.npz", "tensor": "conv1.weight"}},
    {"name": "relu1", "op": "relu", "inputs": ["y"], "output": "z"},
    {"name": "fc", "op": "linear", "inputs": ["z"], "output": "o", "out_features": 10}
  ]
}"#;

#[test]
fn layer_weights_resolve_files_relative_to_the_workload_and_synthesize_the_rest() {
    let (dir, _p) = tmp_npz();
    let wl = dir.path().join("tiny.json");
    std::fs::write(&wl, NET).unwrap();
    let net = parse_workload(NET, "tiny.json").unwrap();
    let w = network_weights(&net, None, &wl).unwrap();
    assert_eq!(w[0].as_deref(), Some(&ramp(108)[..]));
    assert_eq!(w[1], None);
    let fc_seed = derive_seed(DEFAULT_SEED, "fc");
    assert_eq!(
        w[2].as_deref(),
        Some(&synthetic_weights(&[10, 144], Distribution::Laplace, fc_seed, None)[..])
    );
    // A workload elsewhere does not find w.npz next to itself.
    let e = network_weights(&net, None, Path::new("/nonexistent/tiny.json"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/nonexistent/w.npz: tensor `conv1.weight` (layer `conv1`): cannot open"),
        "{e}"
    );
}

#[test]
fn weights_override_reads_every_layer_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other.npz");
    let mut npz = npyz::npz::NpzWriter::create(&p).unwrap();
    for (name, shape, n) in [
        ("conv1.weight", [4u64, 3, 3, 3].to_vec(), 108),
        ("fc.weight", vec![10, 144], 1440),
    ] {
        let mut w = npz
            .array::<f32>(name, Default::default())
            .unwrap()
            .default_dtype()
            .shape(&shape)
            .begin_nd()
            .unwrap();
        w.extend(ramp(n)).unwrap();
        w.finish().unwrap();
    }
    npz.zip_writer().finish().unwrap();
    let net = parse_workload(NET, "tiny.json").unwrap();
    let w = network_weights(&net, Some(&p), Path::new("tiny.json")).unwrap();
    assert_eq!(w[0].as_deref(), Some(&ramp(108)[..]));
    // fc is synthetic in the workload: with --weights it reads `fc`, else `fc.weight`.
    assert_eq!(w[2].as_deref(), Some(&ramp(1440)[..]));
}
