//! Engine throughput in simulated cycles per second (criterion's throughput is set to the
//! run's total simulated cycles, so "elements/s" reads as simulated cycles per second).
//!
//! - `scalesim_resnet18/simulate`: SCALE-Sim's ResNet-18 topology on `arch/dense_ws16.toml`.
//! - `scalesim_resnet18/parse_simulate`: the same, parsing the topology CSV each time.
//! - `resnet18_json/load_simulate`: `workloads/resnet18.json` parsed and simulated.
//!
//! - `swis_resnet18/run`: `plumsim run arch/swis_pe16.toml workloads/resnet18.json` end to
//!   end (synthetic weights generated and quantized to SWIS, then simulated), in simulated
//!   cycles per second; `swis_resnet18/simulate` the engine alone on prepared codes (after
//!   the first iteration on the step costs kept with the codes, as a sweep's later designs).
//! - `llama_linear_4096x11008/*`: a dense Llama-2-7B-sized linear layer on the dense and
//!   bit-serial designs (uniform PEs: the closed form over distinct fold shapes).
//! - `engine_vs_reference/*`: one small SWIS layer on the fast engine and on the per-cycle
//!   reference engine, both in simulated cycles per second: their ratio is the fast engine's
//!   speed-up.
//! - `synthetic_resnet18/laplace` and `quantize_resnet18/*` (from `quant_bench.rs`): seeded
//!   weight generation and quantization, in weights per second.
//! - `sweep/*` (from `sweep_bench.rs`): a ResNet-18 sweep over the SWIS / bit-serial family in
//!   design points per second.
//! - `functional/*` (from `functional_bench.rs`): functional runs on real inputs, in inputs
//!   per second (need `../shared`).
//!
//! `cargo bench --bench engine` takes about a minute.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use plumsim::arch::Arch;
use plumsim::pipeline::{self, Caches, CodeCache, DesignRun, Options, Quantized, WeightCache};
use plumsim::quant::QuantizedTensor;
use plumsim::workload::Network;
use plumsim::{engine, io, scalesim, workload};

#[path = "functional_bench.rs"]
mod functional_bench;
#[path = "quant_bench.rs"]
mod quant_bench;
#[path = "sweep_bench.rs"]
mod sweep_bench;

/// SCALE-Sim v2's own `Resnet18.csv` (20 convs + FC), as in
/// `../shared/reference/scalesim/resnet18_ws_16x16/topology.csv`; embedded so the bench does
/// not need `../shared`.
const RESNET18_TOPOLOGY: &str = "\
Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides, 
Conv1,224,224,7,7,3,64,2,
Conv2_1a,56,56,3,3,64,64,1,
Conv2_1b,56,56,3,3,64,64,1,
Conv2_2a,56,56,3,3,64,64,1,
Conv2_2b,56,56,3,3,64,64,1,
Conv3_1a,56,56,3,3,64,128,2,
Conv3_1b,28,28,3,3,128,128,1,
Conv3_s,56,56,1,1,64,128,2,
Conv3_2a,28,28,3,3,128,128,1,
Conv3_2b,28,28,3,3,128,128,1,
Conv4_1a,28,28,3,3,128,256,2,
Conv4_1b,14,14,3,3,256,256,1,
Conv4_s,28,28,1,1,128,256,2,
Conv4_2a,14,14,3,3,256,256,1,
Conv4_2b,14,14,3,3,256,256,1,
Conv5_1a,14,14,3,3,256,512,2,
Conv5_1b,7,7,3,3,512,512,1,
Conv5_s,14,14,1,1,256,512,2,
Conv5_2a,7,7,3,3,512,512,1,
Conv5_2b,7,7,3,3,512,512,1,
FC,1,1,1,1,512,1000,1,
";

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn dense_ws16() -> Arch {
    io::load_arch(&repo("arch/dense_ws16.toml")).expect("arch/dense_ws16.toml")
}

fn parse_topology() -> workload::Network {
    scalesim::parse_topology(RESNET18_TOPOLOGY, "Resnet18.csv", "resnet18").expect("topology")
}

fn bench_scalesim_resnet18(c: &mut Criterion) {
    let arch = dense_ws16();
    let net = parse_topology();
    assert_eq!(net.layers.len(), 21, "SCALE-Sim ResNet-18 has 21 layers");
    let cycles = engine::simulate(&arch, &net)
        .expect("simulate")
        .total_cycles();
    let mut g = c.benchmark_group("scalesim_resnet18");
    g.throughput(Throughput::Elements(cycles));
    g.bench_function("simulate", |b| {
        b.iter(|| engine::simulate(&arch, std::hint::black_box(&net)).expect("simulate"))
    });
    g.bench_function("parse_simulate", |b| {
        b.iter(|| engine::simulate(&arch, &parse_topology()).expect("simulate"))
    });
    g.finish();
}

fn bench_resnet18_json(c: &mut Criterion) {
    let arch = dense_ws16();
    let path = repo("workloads/resnet18.json");
    let load_simulate = || {
        let net = io::load_workload(&path).expect("workloads/resnet18.json");
        engine::simulate(&arch, &net).expect("simulate")
    };
    let cycles = load_simulate().total_cycles();
    let mut g = c.benchmark_group("resnet18_json");
    g.throughput(Throughput::Elements(cycles));
    g.bench_function("load_simulate", |b| b.iter(load_simulate));
    g.finish();
}

/// One design end to end through the pipeline, streaming as `plumsim run` does (caches that
/// keep nothing).
fn design_run(arch: &Arch, net: &Network, path: &Path) -> DesignRun {
    let source = io::FileSource::new(path, None);
    let (w, c) = (WeightCache::with_bound(0), CodeCache::with_bound(0));
    let caches = Caches {
        weights: &w,
        codes: &c,
    };
    pipeline::run_design(arch, net, &source, caches, Options::default()).expect("run")
}

/// The codes of the layers the run of `arch` quantizes (quantized again, as `run --reference`
/// does).
fn design_codes(arch: &Arch, d: &DesignRun, path: &Path) -> Vec<Option<Arc<Quantized>>> {
    let source = io::FileSource::new(path, None);
    let (w, c) = (WeightCache::default(), CodeCache::default());
    let caches = Caches {
        weights: &w,
        codes: &c,
    };
    let which = pipeline::quantized_layers(Some(arch), &d.net, &source, Options::default());
    pipeline::quantize_layers(&d.net, &which, &source, caches).expect("quantize")
}

fn codes_of(q: &[Option<Arc<Quantized>>]) -> Vec<Option<&QuantizedTensor>> {
    q.iter().map(|q| q.as_deref().map(|q| &q.codes)).collect()
}

fn bench_swis_resnet18(c: &mut Criterion) {
    let arch = io::load_arch(&repo("arch/swis_pe16.toml")).expect("arch/swis_pe16.toml");
    let path = repo("workloads/resnet18.json");
    let run = || {
        let net = io::load_workload(&path).expect("workloads/resnet18.json");
        design_run(&arch, &net, &path)
    };
    let prepared = run();
    let cycles = prepared.run.total_cycles();
    let quantized = design_codes(&arch, &prepared, &path);
    let codes = codes_of(&quantized);
    let mut g = c.benchmark_group("swis_resnet18");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cycles));
    g.bench_function("run", |b| b.iter(run));
    g.bench_function("simulate", |b| {
        b.iter(|| engine::simulate_with(&arch, &prepared.net, &codes).expect("simulate"))
    });
    g.finish();
}

fn bench_engine_vs_reference(c: &mut Criterion) {
    // One small SWIS layer: 8x8 array, 8 lanes x 2 slots, 16 filters, K = 256, M = 196.
    let arch_text = std::fs::read_to_string(repo("arch/swis_pe16.toml"))
        .expect("arch/swis_pe16.toml")
        .replace("rows = 16", "rows = 8")
        .replace("cols = 16", "cols = 8")
        .replace("weights_per_lane = 4", "weights_per_lane = 2");
    let arch = plumsim::design::parse_arch(&arch_text, "swis_8x8").expect("arch");
    let net_text = r#"{"name": "small", "inputs": {"x": [64, 14, 14]},
        "layers": [{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y",
                    "out_channels": 16, "kernel": 2, "stride": 1, "padding": 1}]}"#;
    let net = workload::parse_workload(net_text, "small.json").expect("workload");
    let d = design_run(&arch, &net, Path::new("small.json"));
    let layer = &d.net.layers[0];
    let quantized = design_codes(&arch, &d, Path::new("small.json"));
    let all = codes_of(&quantized);
    let codes = all[0];
    let cycles = d.run.layers[0].compute_cycles;
    let mut g = c.benchmark_group("engine_vs_reference");
    g.sample_size(10);
    g.throughput(Throughput::Elements(cycles));
    g.bench_function("fast", |b| {
        b.iter(|| engine::simulate_with(&arch, &d.net, &all).expect("simulate"))
    });
    g.bench_function("reference", |b| {
        b.iter(|| {
            engine::reference::simulate_layer(&arch, &d.net, layer, codes).expect("reference")
        })
    });
    g.finish();
}

/// A dense Llama-2-7B-sized linear layer (K = 4096, N = 11008) at M = 1 and 512 on the dense
/// and bit-serial 16x16 designs: every PE costs the same, so the engine evaluates only the
/// distinct fold shapes (milliseconds, where walking its 176k folds took seconds).
fn bench_dense_llama(c: &mut Criterion) {
    let mut g = c.benchmark_group("llama_linear_4096x11008");
    g.sample_size(10);
    for design in ["dense_ws16", "bitserial_pe16"] {
        let arch = io::load_arch(&repo(&format!("arch/{design}.toml"))).expect("shipped arch");
        for m in [1u64, 512] {
            let text = format!(
                r#"{{"name": "llama_up", "inputs": {{"a": [{m}, 4096]}},
                    "defaults": {{"quant": {{"scheme": "int", "weight_bits": 8}}}},
                    "layers": [{{"name": "up", "op": "matmul", "inputs": ["a"], "output": "u", "out_features": 11008}}]}}"#
            );
            let net = workload::parse_workload(&text, "llama_up.json").expect("workload");
            let cycles = engine::simulate(&arch, &net)
                .expect("simulate")
                .total_cycles();
            g.throughput(Throughput::Elements(cycles));
            g.bench_function(format!("{design}/m{m}"), |b| {
                b.iter(|| engine::simulate(&arch, std::hint::black_box(&net)).expect("simulate"))
            });
        }
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_scalesim_resnet18, bench_resnet18_json, bench_swis_resnet18, bench_engine_vs_reference,
        bench_dense_llama,
        quant_bench::bench_quant, sweep_bench::bench_sweep, functional_bench::bench_functional
}
criterion_main!(benches);
