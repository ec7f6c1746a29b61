//! Sweep throughput: design points per second on ResNet-18 across the SWIS and bit-serial
//! PEs (`scripts/sweeps/bench_1000.toml`). Criterion times every 10th point (100 points) per
//! iteration; `plumsim sweep scripts/sweeps/bench_1000.toml` runs all 1,000 and prints
//! points/s.

use std::path::Path;

use criterion::{Criterion, Throughput};
use plumsim::sweep::Sweep;

pub fn bench_sweep(c: &mut Criterion) {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/sweeps/bench_1000.toml");
    let sweep = Sweep::load(&spec).expect("bench spec loads");
    let jobs: Vec<_> = sweep.jobs(None).into_iter().step_by(10).collect();
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(jobs.len() as u64));
    g.bench_function("resnet18_swis_bitserial_100_points", |b| {
        b.iter(|| {
            let stats = sweep.run(&jobs, None, &|_row| Ok(())).expect("sweep runs");
            assert_eq!(stats.ok, jobs.len());
        })
    });
    g.finish();
}
