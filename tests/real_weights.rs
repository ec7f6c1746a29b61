//! Quantizers on real trained weights (ResNet-20, CIFAR-10, akamaster), from
//! `../shared/weights/` next to the repository. Skipped with a note when that folder is
//! missing, except under `CI=true`, where that is a failure.
//! The measured figures print with `cargo test --test real_weights -- --nocapture`.

mod common;

use std::path::PathBuf;

use plumsim::io::weights::load_tensor;
use plumsim::quant::{quantize, stats, QuantStats, Scheme, SharedBits, SignRule};

fn resnet20() -> Option<PathBuf> {
    let shared = common::shared_or_skip("the trained ResNet-20 weights")?;
    Some(shared.join("weights/resnet20_cifar10_akamaster_fp32.npz"))
}

/// The conv/linear tensors of the file (keys not under `aux/`), in file order.
fn tensors(path: &PathBuf) -> Vec<(String, Vec<u64>, Vec<f32>)> {
    let archive = npyz::npz::NpzArchive::open(path).unwrap();
    let mut names: Vec<String> = archive
        .array_names()
        .filter(|n| !n.starts_with("aux/"))
        .map(str::to_string)
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let t = load_tensor(path, &n).unwrap();
            (n, t.shape, t.data)
        })
        .collect()
}

#[test]
fn resnet20_has_the_manifest_tensors() {
    let Some(path) = resnet20() else { return };
    let ts = tensors(&path);
    assert_eq!(ts.len(), 20);
    assert_eq!(ts.iter().map(|t| t.2.len()).sum::<usize>(), 268_336);
    let conv1 = ts.iter().find(|t| t.0 == "conv1.weight").unwrap();
    assert_eq!(conv1.1, vec![16, 3, 3, 3]);
}

#[test]
fn resnet20_signed_binary_density_of_3x3_layers() {
    let Some(path) = resnet20() else { return };
    let scheme = Scheme::SignedBinary {
        threshold: 0.05,
        sign_rule: SignRule::Halves,
        alpha: false,
    };
    let mut all = Vec::new();
    for (name, shape, w) in tensors(&path)
        .into_iter()
        .filter(|t| t.1.len() == 4 && t.1[2..] == [3, 3])
    {
        let s = stats(&w, &quantize(&w, &shape, &scheme));
        println!(
            "signed_binary t0.05 {name:<24} density {:.4} rel_error {:.4}",
            s.density(),
            s.rel_error()
        );
        assert_eq!(s.distinct_max, 1);
        // The RGB stem (3 input channels, 27 weights per filter) measures 0.458; every other
        // 3x3 layer lies in the range.
        if shape[1] > 3 {
            assert!(
                (0.25..0.45).contains(&s.density()),
                "{name}: density {}",
                s.density()
            );
        }
        all.push(s);
    }
    let total = QuantStats::total(&all);
    println!(
        "signed_binary t0.05 all 3x3 layers      density {:.4} rel_error {:.4}",
        total.density(),
        total.rel_error()
    );
    assert_eq!(all.len(), 19);
    assert!(
        (0.25..0.45).contains(&total.density()),
        "all 3x3 layers: density {}",
        total.density()
    );
}

#[test]
fn resnet20_swis_beats_truncation_at_3_bits() {
    let Some(path) = resnet20() else { return };
    let swis = Scheme::Swis {
        base_bits: 8,
        group_size: 8,
        shared: SharedBits::Fixed(3),
    };
    let trunc = Scheme::Truncate {
        base_bits: 8,
        kept_bits: 3,
    };
    let (mut s_all, mut t_all) = (Vec::new(), Vec::new());
    for (name, shape, w) in tensors(&path) {
        let s = stats(&w, &quantize(&w, &shape, &swis));
        let t = stats(&w, &quantize(&w, &shape, &trunc));
        println!(
            "{name:<24} swis B8 G8 N3 rel_error {:.4}  truncate B8 N3 rel_error {:.4}",
            s.rel_error(),
            t.rel_error()
        );
        assert!(s.sq_error < t.sq_error, "{name}");
        s_all.push(s);
        t_all.push(t);
    }
    let (s, t) = (QuantStats::total(&s_all), QuantStats::total(&t_all));
    println!("network: swis rel_error {:.4} (storage {} bits), truncate rel_error {:.4} (storage {} bits)", s.rel_error(), s.storage_bits, t.rel_error(), t.storage_bits);
    assert!(s.rel_error() < t.rel_error());
}
