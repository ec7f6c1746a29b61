//! Sweep throughput: design points per second on ResNet-18 across the SWIS and bit-serial
//! PEs (`scripts/sweeps/bench_1000.toml`): every 10th point (100 points) per iteration, and
//! all 1,000 (what `plumsim sweep scripts/sweeps/bench_1000.toml` runs; target: 250 points/s
//! on 2 cores). Each iteration quantizes its codes afresh.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use plumsim::sweep::Sweep;

pub fn bench_sweep(c: &mut Criterion) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sweeps/bench_1000.toml");
    let sweep = Sweep::load(&spec).expect("bench spec loads");
    let all = sweep.jobs(None);
    let tenth: Vec<_> = all.iter().copied().step_by(10).collect();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    for (name, jobs) in [
        ("resnet18_swis_bitserial_100_points", &tenth),
        ("resnet18_swis_bitserial_1000_points", &all),
    ] {
        g.throughput(Throughput::Elements(jobs.len() as u64));
        if jobs.len() > 100 {
            g.measurement_time(Duration::from_secs(20));
        }
        g.bench_function(name, |b| {
            b.iter(|| {
                let stats = sweep.run(jobs, None, &|_row| Ok(())).expect("sweep runs");
                assert_eq!(stats.ok, jobs.len());
            })
        });
    }
    g.finish();
}
