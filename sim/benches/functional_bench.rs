//! Functional runs (`plumsim run ... --inputs`): the fp32 reference and the quantized datapath
//! on real inputs, then the timing, in inputs per second.
//!
//! - `functional/resnet20_cifar10_20_images`: the trained ResNet-20 on the 20 CIFAR-10 test
//!   images, `arch/dense_pe16.toml` (needs `../shared`; skipped with a note without it).
//! - `functional/resnet18_one_image`: ResNet-18 (synthetic weights) on one 224x224 photo,
//!   `arch/swis_pe16.toml`: weights generated and quantized, the image decoded, resized and
//!   cropped, both networks run and the design timed (needs `../shared/images`).

use criterion::{Criterion, Throughput};

use plumsim::functional::Samples;
use plumsim::io;
use plumsim::pipeline::{self, Caches, CodeCache, Options, WeightCache};

fn repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn one_run(arch: &str, workload: &str, inputs: &std::path::Path) -> usize {
    let arch = io::load_arch(&repo(arch)).expect("arch");
    let wl = repo(workload);
    let net = io::load_workload(&wl).expect("workload");
    let set = io::load_inputs(inputs, &net, None).expect("inputs");
    let source = io::FileSource::new(&wl, None);
    let (w, c) = (WeightCache::default(), CodeCache::default());
    let samples = Samples {
        values: &set.values,
        labels: set.labels.as_deref(),
        reference_logits: None,
        calibration: plumsim::functional::Calibrate::Max,
    };
    let caches = Caches {
        weights: &w,
        codes: &c,
    };
    let opts = Options {
        all_layers: false,
        stats: true,
    };
    pipeline::run_functional(&arch, &net, &source, caches, samples, None, opts)
        .expect("functional run");
    set.values.len()
}

pub fn bench_functional(c: &mut Criterion) {
    let shared = repo("../shared/images");
    if !shared.is_dir() {
        eprintln!("functional benches skipped: {} is absent", shared.display());
        return;
    }
    let mut g = c.benchmark_group("functional");
    g.sample_size(10);
    let cifar = shared.join("cifar10");
    if io::shared_weights_present() {
        g.throughput(Throughput::Elements(20));
        g.bench_function("resnet20_cifar10_20_images", |b| {
            b.iter(|| {
                one_run(
                    "arch/dense_pe16.toml",
                    "workloads/resnet20_cifar10.json",
                    &cifar,
                )
            })
        });
    }
    let one = tempfile_dir_with(&shared.join("imagenet/imagenet_00_243.jpg"));
    g.throughput(Throughput::Elements(1));
    g.bench_function("resnet18_one_image", |b| {
        b.iter(|| one_run("arch/swis_pe16.toml", "workloads/resnet18.json", &one))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&one);
}

/// A folder holding one copy of `image` (inputs are folders or tensor files).
fn tempfile_dir_with(image: &std::path::Path) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("plumsim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::copy(image, dir.join(image.file_name().expect("a file"))).expect("copy the image");
    dir
}
