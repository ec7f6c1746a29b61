//! Seeded synthetic weights: Laplace or Gaussian, reproducible bit for bit from the seed.
//!
//! The generators are written here (SplitMix64 to seed, xoshiro256** to draw; Blackman & Vigna
//! 2018, "Scrambled Linear Pseudorandom Number Generators") so results never depend on a crate's
//! version. The tensor is cut into fixed chunks of [`CHUNK`] weights; chunk `c` draws from its
//! own stream seeded from `(seed, c)`, so chunks are generated in parallel (rayon) and the
//! result does not depend on the thread count or scheduling.
//!
//! Sampling: Laplace by inverse CDF, Gaussian by Marsaglia's polar method, both in f64 and
//! rounded to f32. They use `ln` and `sqrt` of the platform's math library: `sqrt` is exact
//! everywhere; `ln` is the same on a given platform, so results are identical run to run and
//! thread count to thread count.

use rayon::prelude::*;

use crate::workload::Distribution;

/// Weights per independently seeded chunk.
pub const CHUNK: usize = 4096;

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit mixer used to seed other generators.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }
}

/// The SplitMix64 output function: a bijective 64-bit hash.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// xoshiro256** 1.0: a fast 64-bit generator with 256 bits of state.
#[derive(Debug, Clone)]
pub struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// State filled from SplitMix64 seeded with `seed` (never all zero).
    pub fn from_seed(seed: u64) -> Self {
        let mut sm = SplitMix64(seed);
        Xoshiro256StarStar {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
        }
    }

    /// The independent stream number `stream` of `seed` (used per chunk).
    pub fn stream(seed: u64, stream: u64) -> Self {
        Self::from_seed(mix64(seed ^ mix64(stream.wrapping_add(1))))
    }

    /// Next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in the open interval (0, 1): `(k + 0.5) / 2^52` for a 52-bit `k`, computed exactly
    /// (never 0 nor 1).
    pub fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
    }
}

/// He-style standard deviation `sqrt(2 / fan_in)`, fan_in = product of `shape[1..]`
/// (`in/groups * kh * kw` for a conv, `in` for a linear layer).
pub fn he_std(shape: &[u64]) -> f64 {
    let fan_in = shape.iter().skip(1).product::<u64>().max(1);
    (2.0 / fan_in as f64).sqrt()
}

/// Synthetic weights of `shape` (PyTorch layout), drawn from `distribution` with standard
/// deviation `std` (None: [`he_std`]), reproducible bit for bit from `seed`.
pub fn synthetic_weights(
    shape: &[u64],
    distribution: Distribution,
    seed: u64,
    std: Option<f64>,
) -> Vec<f32> {
    let n = shape.iter().product::<u64>() as usize;
    let std = std.unwrap_or_else(|| he_std(shape));
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut rng = Xoshiro256StarStar::stream(seed, c as u64);
            match distribution {
                Distribution::Laplace => {
                    // Laplace(0, b) has std b * sqrt(2).
                    let b = std / std::f64::consts::SQRT_2;
                    for w in chunk.iter_mut() {
                        let u = rng.next_open01() - 0.5;
                        *w = (-b * u.signum() * (1.0 - 2.0 * u.abs()).ln()) as f32;
                    }
                }
                Distribution::Gaussian => {
                    let mut spare: Option<f64> = None;
                    for w in chunk.iter_mut() {
                        let z = match spare.take() {
                            Some(z) => z,
                            None => loop {
                                let u = 2.0 * rng.next_open01() - 1.0;
                                let v = 2.0 * rng.next_open01() - 1.0;
                                let s = u * u + v * v;
                                if s > 0.0 && s < 1.0 {
                                    let f = (-2.0 * s.ln() / s).sqrt();
                                    spare = Some(v * f);
                                    break u * f;
                                }
                            },
                        };
                        *w = (z * std) as f32;
                    }
                }
            }
        });
    out
}
