//! Zero-activation skipping in simulated cycles per second (criterion's throughput is the
//! run's total simulated cycles, so "elements/s" reads as simulated cycles per second).
//!
//! - `skipping_resnet18/dense_ws16`: `arch/dense_ws16.toml` with `skip_zero_activations =
//!   true` on `workloads/resnet18.json` (only padding zeros, the shipped statistics), the
//!   engine alone (dense PEs need no codes); `dense_ws16_half_zeros`: every layer's input
//!   half zeros (`activations.zero_density = 0.5`).
//! - `skipping_resnet18/bitserial_pe16_batch4`: `arch/bitserial_pe16.toml` with skipping on
//!   the same network at batch 4.
//!
//! `cargo bench --bench skipping` takes about half a minute.

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use plumsim::arch::Arch;
use plumsim::workload::Network;
use plumsim::{engine, io};

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A shipped design with `skip_zero_activations = true`.
fn skipping(file: &str) -> Arch {
    let text = std::fs::read_to_string(repo(file))
        .expect("shipped design")
        .replacen("[pe]", "[pe]\nskip_zero_activations = true", 1);
    plumsim::design::parse_arch(&text, file).expect("arch")
}

fn resnet18() -> Network {
    io::load_workload(&repo("workloads/resnet18.json")).expect("workloads/resnet18.json")
}

fn bench_skipping(c: &mut Criterion) {
    let dense = skipping("arch/dense_ws16.toml");
    let serial = skipping("arch/bitserial_pe16.toml");
    let net = resnet18();
    let mut half = net.clone();
    for l in &mut half.layers {
        l.activations.zero_density = 0.5;
    }
    let mut batch4 = net.clone();
    batch4.batch = 4;
    let mut g = c.benchmark_group("skipping_resnet18");
    g.sample_size(10);
    for (name, arch, net) in [
        ("dense_ws16", &dense, &net),
        ("dense_ws16_half_zeros", &dense, &half),
        ("bitserial_pe16_batch4", &serial, &batch4),
    ] {
        let cycles = engine::simulate(arch, net)
            .expect("simulate")
            .total_cycles();
        g.throughput(Throughput::Elements(cycles));
        g.bench_function(name, |b| {
            b.iter(|| engine::simulate(arch, std::hint::black_box(net)).expect("simulate"))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_skipping
}
criterion_main!(benches);
