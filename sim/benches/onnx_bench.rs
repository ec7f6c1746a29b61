//! Importing the shared ONNX models (`../shared/onnx`, skipped when absent): decode, fold,
//! lower and validate, as `plumsim import onnx` and `plumsim run ARCH MODEL.onnx` do.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

/// A model to import: its name, its file and its inputs' shapes.
type Model = (&'static str, PathBuf, Vec<(&'static str, Vec<u64>)>);

fn models() -> Vec<Model> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/onnx");
    [
        (
            "resnet20",
            "resnet20_cifar10_akamaster.onnx",
            vec![("input", vec![1, 3, 32, 32])],
        ),
        ("zigzag_resnet18", "zigzag_resnet18_shapes.onnx", vec![]),
        (
            "zigzag_mobilenetv2",
            "zigzag_mobilenetv2_shapes.onnx",
            vec![],
        ),
        ("light_resnet50", "onnx_light_resnet50_shapes.onnx", vec![]),
        (
            "ppocr_cls",
            "ppocr_mobile_v2_cls.onnx",
            vec![("x", vec![1, 3, 48, 192])],
        ),
    ]
    .into_iter()
    .map(|(n, f, s)| (n, dir.join(f), s))
    .filter(|(_, p, _)| p.is_file())
    .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("onnx_import");
    for (name, path, shapes) in models() {
        let options = plumsim::onnx::ImportOptions {
            name: name.into(),
            weights_file: "w.safetensors".into(),
            input_shapes: shapes
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            unresolved_as_one: false,
        };
        g.bench_function(name, |b| {
            b.iter(|| plumsim::io::onnx::import_file(&path, &options).expect("imports"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
