//! Quantization throughput on ResNet-18-sized synthetic weights (11.7 M weights), reported in
//! weights per second.

use criterion::{Criterion, Throughput};
use plumsim::quant::{quantize_many, Scheme, SharedBits, SignRule};
use plumsim::synth::synthetic_weights;
use plumsim::workload::Distribution;

/// Weight shapes of ResNet-18 (ImageNet): conv1, four stages with 1x1 downsampling, fc.
fn resnet18_shapes() -> Vec<Vec<u64>> {
    let mut shapes = vec![vec![64, 3, 7, 7]];
    shapes.extend((0..4).map(|_| vec![64, 64, 3, 3]));
    for (c, p) in [(128u64, 64u64), (256, 128), (512, 256)] {
        shapes.push(vec![c, p, 3, 3]);
        shapes.extend((0..3).map(|_| vec![c, c, 3, 3]));
        shapes.push(vec![c, p, 1, 1]);
    }
    shapes.push(vec![1000, 512]);
    shapes
}

/// Criterion benchmarks of SWIS (fixed and variable N), truncation, int8 and signed binary.
pub fn bench_quant(c: &mut Criterion) {
    let shapes = resnet18_shapes();
    let weights: Vec<Vec<f32>> = shapes
        .iter()
        .enumerate()
        .map(|(i, s)| synthetic_weights(s, Distribution::Laplace, i as u64, None))
        .collect();
    let tensors: Vec<(&[f32], &[u64])> = weights
        .iter()
        .zip(&shapes)
        .map(|(w, s)| (&w[..], &s[..]))
        .collect();
    let n: usize = weights.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("synthetic_resnet18");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    g.bench_function("laplace", |b| {
        b.iter(|| {
            shapes
                .iter()
                .enumerate()
                .map(|(i, s)| synthetic_weights(s, Distribution::Laplace, i as u64, None).len())
                .sum::<usize>()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("quantize_resnet18");
    g.throughput(Throughput::Elements(n as u64));
    g.sample_size(10);
    let schemes = [
        (
            "swis_b8_g8_n3",
            Scheme::Swis {
                base_bits: 8,
                group_size: 8,
                shared: SharedBits::Fixed(3),
            },
        ),
        (
            "swis_b8_g8_nmax4",
            Scheme::Swis {
                base_bits: 8,
                group_size: 8,
                shared: SharedBits::Variable {
                    max: 4,
                    error_bound: 0.01,
                },
            },
        ),
        (
            "truncate_b8_n3",
            Scheme::Truncate {
                base_bits: 8,
                kept_bits: 3,
            },
        ),
        (
            "int8_per_channel",
            Scheme::Int {
                bits: 8,
                per_channel: true,
            },
        ),
        (
            "signed_binary",
            Scheme::SignedBinary {
                threshold: 0.05,
                sign_rule: SignRule::Halves,
                alpha: false,
            },
        ),
    ];
    for (name, scheme) in schemes {
        g.bench_function(name, |b| b.iter(|| quantize_many(&tensors, &scheme)));
    }
    g.finish();
}
