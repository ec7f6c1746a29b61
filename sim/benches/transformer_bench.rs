//! Transformers end to end, as `plumsim run` runs them (synthetic weights generated,
//! quantized and simulated, layer by layer through the streaming pipeline), in simulated
//! cycles per second (criterion's throughput is the run's total cycles):
//!
//! - `llama2_7b_decode/ternary_absmean_pe16`: one Llama-2-7B decode step at context 2048, all
//!   32 blocks and the LM head (6.7 billion weights quantized to absmean ternary); target
//!   under 60 s and 2 GiB on 2 cores.
//! - `llama2_7b_decode/swis_pe16`: the same step on SWIS (groups of 8 sharing 3 bit
//!   positions); target under 120 s.
//! - `bert_base_s128/{dense,ternary_absmean}_pe16`: BERT-base at S = 128; target under 2 s.
//!
//! `cargo bench --bench transformer` (about 20 minutes: criterion's least sample size is 10,
//! one run each); `cargo bench --bench transformer -- bert` for BERT alone. Peak memory is measured
//! by `scripts/bench.sh`, on the command a user types.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use plumsim::pipeline::{self, Caches, CodeCache, Options, WeightCache};
use plumsim::{arch::Arch, io};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// One run as `plumsim run` makes it: nothing cached across iterations, the quantized layers'
/// statistics computed (layers.csv reports them).
fn run(arch: &Arch, workload: &Path) -> u64 {
    let net = io::load_workload(workload).expect("shipped workload");
    let source = io::FileSource::new(workload, None);
    let (w, c) = (WeightCache::with_bound(0), CodeCache::with_bound(0));
    let caches = Caches {
        weights: &w,
        codes: &c,
    };
    let opts = Options {
        all_layers: false,
        stats: true,
    };
    pipeline::run_design(arch, &net, &source, caches, opts)
        .expect("run")
        .run
        .total_cycles()
}

fn bench(c: &mut Criterion, group: &str, workload: &str, designs: &[&str], secs: u64) {
    let path = repo(&format!("workloads/{workload}"));
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    // One run per sample (flat sampling: a decode step is most of a minute).
    g.sampling_mode(SamplingMode::Flat);
    g.warm_up_time(Duration::from_millis(1));
    g.measurement_time(Duration::from_secs(secs));
    for design in designs {
        let arch = io::load_arch(&repo(&format!("arch/{design}.toml"))).expect("shipped arch");
        g.throughput(Throughput::Elements(run(&arch, &path)));
        g.bench_function(*design, |b| b.iter(|| run(&arch, &path)));
    }
    g.finish();
}

fn bench_transformers(c: &mut Criterion) {
    io::tune_allocator();
    bench(
        c,
        "bert_base_s128",
        "bert_base_s128.json",
        &["dense_pe16", "ternary_absmean_pe16"],
        10,
    );
    bench(
        c,
        "llama2_7b_decode",
        "llama2_7b_decode_ctx2048.json",
        &["ternary_absmean_pe16", "swis_pe16"],
        1,
    );
}

criterion_group!(benches, bench_transformers);
criterion_main!(benches);
