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
//! thread count to thread count. The Laplace sampler computes its `ln` with a branch-free
//! approximation the compiler vectorizes (`ln_approx`) and calls the library's only when the
//! f32 result could differ (see `laplace_block`), so its weights are the library's bit for
//! bit at a fraction of the cost.

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
    // Laplace(0, b) has std b * sqrt(2).
    let b = std / std::f64::consts::SQRT_2;
    if distribution == Distribution::Laplace {
        // Blocks of `STREAMS` chunks, whose streams can be drawn side by side.
        out.par_chunks_mut(STREAMS * CHUNK)
            .enumerate()
            .for_each(|(blk, block)| laplace_block(seed, blk * STREAMS, b, block));
        return out;
    }
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let mut rng = Xoshiro256StarStar::stream(seed, c as u64);
            match distribution {
                Distribution::Laplace => unreachable!("drawn in blocks above"),
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

/// Laplace(0, `b`) samples into `block`: `-b * sign(u) * ln(1 - 2|u|)` for `u` uniform in
/// (-1/2, 1/2), in f64, rounded to f32, exactly as with the math library's `ln` alone.
///
/// The product is first computed with [`ln_approx`], whose relative error is below 2^-50
/// (the library's `ln` is within one ulp too, so the two products differ by less than 2^-48
/// relatively). When the f32 rounding of the product is the same at both ends of the interval
/// `p * (1 ± 2^-40)` that certainly holds the library's product, it is the library's result
/// (f64 -> f32 rounding is monotone); otherwise, about once in 30,000 weights, the library's
/// `ln` decides.
///
/// `block` holds up to [`STREAMS`] chunks, the first being chunk `first` of the tensor. With
/// AVX2, a block of `STREAMS` whole chunks draws its streams side by side, one per 64-bit
/// lane ([`uniforms_x4`]): the same numbers as one stream after another.
fn laplace_block(seed: u64, first: usize, b: f64, block: &mut [f32]) {
    let stream = |j: usize| Xoshiro256StarStar::stream(seed, (first + j) as u64);
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        if block.len() == STREAMS * CHUNK {
            let mut rngs: [_; STREAMS] = std::array::from_fn(stream);
            // SAFETY: the processor has AVX2 and FMA (checked just above).
            return unsafe { laplace_block_avx2(&mut rngs, b, block) };
        }
        for (j, chunk) in block.chunks_mut(CHUNK).enumerate() {
            // SAFETY: as above.
            unsafe { laplace_chunk_avx2(&mut stream(j), b, chunk) };
        }
        return;
    }
    for (j, chunk) in block.chunks_mut(CHUNK).enumerate() {
        laplace_chunk_portable(&mut stream(j), b, chunk);
    }
}

/// Chunks per block of [`laplace_block`]: four streams, one per 64-bit lane of AVX2.
const STREAMS: usize = 4;

/// Uniforms drawn per stream and step of [`laplace_block_avx2`].
const PIECE: usize = 512;

/// [`laplace_block`] of `STREAMS` whole chunks with AVX2 and FMA: `PIECE` uniforms of each
/// stream at a time, then each chunk's piece as [`laplace_block`] computes it.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn laplace_block_avx2(rngs: &mut [Xoshiro256StarStar; STREAMS], b: f64, block: &mut [f32]) {
    let mut us = [[0.0f64; PIECE]; STREAMS];
    for at in (0..CHUNK).step_by(PIECE) {
        uniforms_x4(rngs, &mut us);
        for (j, u) in us.iter().enumerate() {
            laplace_from::<true>(u, b, &mut block[j * CHUNK + at..j * CHUNK + at + PIECE]);
        }
    }
}

/// The next `PIECE` values of `next_open01() - 0.5` of each of the four streams, into
/// `out[stream]`: xoshiro256** with one stream per 64-bit lane (multiplications by 5 and 9 as
/// shifts and adds, rotations as two shifts), the 52-bit integer taken to f64 exactly by its
/// bits (`2^52 + k`, minus `2^52`), then the same f64 operations as the scalar generator.
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn uniforms_x4(rngs: &mut [Xoshiro256StarStar; STREAMS], out: &mut [[f64; PIECE]; STREAMS]) {
    use std::arch::x86_64::*;
    let lane = |i: usize| {
        _mm256_set_epi64x(
            rngs[3].s[i] as i64,
            rngs[2].s[i] as i64,
            rngs[1].s[i] as i64,
            rngs[0].s[i] as i64,
        )
    };
    let (mut s0, mut s1, mut s2, mut s3) = (lane(0), lane(1), lane(2), lane(3));
    let exponent = _mm256_set1_epi64x(0x4330_0000_0000_0000);
    let two52 = _mm256_set1_pd((1u64 << 52) as f64);
    let half = _mm256_set1_pd(0.5);
    let inv = _mm256_set1_pd(1.0 / (1u64 << 52) as f64);
    for i in (0..PIECE).step_by(4) {
        let mut v = [_mm256_setzero_pd(); 4];
        for vi in v.iter_mut() {
            let x5 = _mm256_add_epi64(_mm256_slli_epi64::<2>(s1), s1);
            let r = _mm256_or_si256(_mm256_slli_epi64::<7>(x5), _mm256_srli_epi64::<57>(x5));
            let result = _mm256_add_epi64(_mm256_slli_epi64::<3>(r), r);
            let t = _mm256_slli_epi64::<17>(s1);
            s2 = _mm256_xor_si256(s2, s0);
            s3 = _mm256_xor_si256(s3, s1);
            s1 = _mm256_xor_si256(s1, s2);
            s0 = _mm256_xor_si256(s0, s3);
            s2 = _mm256_xor_si256(s2, t);
            s3 = _mm256_or_si256(_mm256_slli_epi64::<45>(s3), _mm256_srli_epi64::<19>(s3));
            let k = _mm256_or_si256(_mm256_srli_epi64::<12>(result), exponent);
            let k = _mm256_sub_pd(_mm256_castsi256_pd(k), two52);
            let u = _mm256_mul_pd(_mm256_add_pd(k, half), inv);
            *vi = _mm256_sub_pd(u, half);
        }
        // v[step][stream] -> out[stream][i + step]: a 4 x 4 transpose.
        let t0 = _mm256_unpacklo_pd(v[0], v[1]);
        let t1 = _mm256_unpackhi_pd(v[0], v[1]);
        let t2 = _mm256_unpacklo_pd(v[2], v[3]);
        let t3 = _mm256_unpackhi_pd(v[2], v[3]);
        _mm256_storeu_pd(
            out[0][i..].as_mut_ptr(),
            _mm256_permute2f128_pd::<0x20>(t0, t2),
        );
        _mm256_storeu_pd(
            out[1][i..].as_mut_ptr(),
            _mm256_permute2f128_pd::<0x20>(t1, t3),
        );
        _mm256_storeu_pd(
            out[2][i..].as_mut_ptr(),
            _mm256_permute2f128_pd::<0x31>(t0, t2),
        );
        _mm256_storeu_pd(
            out[3][i..].as_mut_ptr(),
            _mm256_permute2f128_pd::<0x31>(t1, t3),
        );
    }
    let mut back = [[0u64; 4]; 4];
    for (i, s) in [s0, s1, s2, s3].into_iter().enumerate() {
        _mm256_storeu_si256(back[i].as_mut_ptr() as *mut __m256i, s);
    }
    for (j, rng) in rngs.iter_mut().enumerate() {
        rng.s = [back[0][j], back[1][j], back[2][j], back[3][j]];
    }
}

/// One chunk of [`laplace_block`] with [`ln_approx`] compiled for AVX2 and FMA (four f64 per
/// instruction), checked as [`laplace_block`] says.
///
/// # Safety
/// The processor must have AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn laplace_chunk_avx2(rng: &mut Xoshiro256StarStar, b: f64, out: &mut [f32]) {
    laplace_chunk_with::<true>(rng, b, out)
}

/// One chunk of [`laplace_block`] by its definition, the library's `ln` for every weight (where the
/// approximation would not be faster: without AVX2 it is not).
fn laplace_chunk_portable(rng: &mut Xoshiro256StarStar, b: f64, out: &mut [f32]) {
    for w in out.iter_mut() {
        let u = rng.next_open01() - 0.5;
        *w = (-b * u.signum() * (1.0 - 2.0 * u.abs()).ln()) as f32;
    }
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn laplace_chunk_with<const FMA: bool>(rng: &mut Xoshiro256StarStar, b: f64, out: &mut [f32]) {
    let mut us = [0.0f64; CHUNK];
    let us = &mut us[..out.len()];
    for u in us.iter_mut() {
        *u = rng.next_open01() - 0.5;
    }
    laplace_from::<FMA>(us, b, out)
}

/// The Laplace samples of the uniforms `us` (each `next_open01() - 0.5`) into `out`, as
/// [`laplace_block`] says; at most [`CHUNK`] of them.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn laplace_from<const FMA: bool>(us: &[f64], b: f64, out: &mut [f32]) {
    /// Half-width of the interval, relative, that holds the library's product.
    const MARGIN: f64 = 1.0 / (1u64 << 40) as f64;
    // Flags as bytes, so that finding one is a `memchr`.
    let mut unsure = [0u8; CHUNK];
    let unsure = &mut unsure[..out.len()];
    // Branch-free, so the compiler vectorizes it.
    for ((w, &u), unsure) in out.iter_mut().zip(us.iter()).zip(unsure.iter_mut()) {
        let p = -b * u.signum() * ln_approx::<FMA>(1.0 - 2.0 * u.abs());
        let slack = p.abs() * MARGIN;
        let (lo, hi) = ((p - slack) as f32, (p + slack) as f32);
        *w = lo;
        *unsure = (lo != hi) as u8;
    }
    if unsure.contains(&1) {
        for ((w, &u), _) in out
            .iter_mut()
            .zip(us.iter())
            .zip(unsure.iter())
            .filter(|(_, &x)| x != 0)
        {
            *w = (-b * u.signum() * (1.0 - 2.0 * u.abs()).ln()) as f32;
        }
    }
}

/// Natural logarithm of a positive normal `x`, branch-free: fdlibm's `e_log.c` (Sun
/// Microsystems 1993, the algorithm of FreeBSD's and musl's `log`), error below one ulp.
/// `x = 2^k (1 + f)` with `1 + f` in [sqrt(2)/2, sqrt(2)); `s = f / (2 + f)`;
/// `ln(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2)))` with fdlibm's minimax `R`. Not for zero,
/// subnormals, infinities or NaN (the Laplace sampler never passes them).
/// With `FMA`, the polynomial's multiply-adds are fused (only where the processor has them:
/// the library's `fma` is slow); either way the error bound holds.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[inline(always)]
fn ln_approx<const FMA: bool>(x: f64) -> f64 {
    let madd = |a: f64, b: f64, c: f64| if FMA { a.mul_add(b, c) } else { a * b + c };
    // fdlibm's constants, by their bits.
    let ln2_hi = f64::from_bits(0x3fe6_2e42_fee0_0000);
    let ln2_lo = f64::from_bits(0x3dea_39ef_3579_3c76);
    let lg1 = f64::from_bits(0x3fe5_5555_5555_5593);
    let lg2 = f64::from_bits(0x3fd9_9999_9997_fa04);
    let lg3 = f64::from_bits(0x3fd2_4924_9422_9359);
    let lg4 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
    let lg5 = f64::from_bits(0x3fc7_4664_96cb_03de);
    let lg6 = f64::from_bits(0x3fc3_9a09_d078_c69f);
    let lg7 = f64::from_bits(0x3fc2_f112_df3e_5244);
    let bits = x.to_bits();
    let hx = (bits >> 32) as u32;
    // The mantissa's high word, and whether 1.m is at least sqrt(2) (then halve it, k + 1).
    let m_hi = hx & 0x000f_ffff;
    let i = (m_hi + 0x95f64) & 0x10_0000;
    let k = (hx >> 20) as i32 - 1023 + (i >> 20) as i32;
    let m = f64::from_bits((((m_hi | (i ^ 0x3ff0_0000)) as u64) << 32) | (bits & 0xffff_ffff));
    let f = m - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * madd(w, madd(w, lg6, lg4), lg2);
    let t2 = z * madd(w, madd(w, madd(w, lg7, lg5), lg3), lg1);
    let r = t2 + t1;
    let dk = k as f64;
    dk * ln2_hi - ((hfsq - (s * (hfsq + r) + dk * ln2_lo)) - f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition: every weight from the library's `ln`.
    fn laplace_by_definition(seed: u64, n: usize, std: f64) -> Vec<f32> {
        let b = std / std::f64::consts::SQRT_2;
        let mut out = vec![0.0f32; n];
        for (c, chunk) in out.chunks_mut(CHUNK).enumerate() {
            let mut rng = Xoshiro256StarStar::stream(seed, c as u64);
            for w in chunk.iter_mut() {
                let u = rng.next_open01() - 0.5;
                *w = (-b * u.signum() * (1.0 - 2.0 * u.abs()).ln()) as f32;
            }
        }
        out
    }

    #[test]
    fn laplace_weights_equal_the_library_ln_bit_for_bit() {
        // Several shapes (a partial last chunk included), seeds and scales; about 2.4 M
        // weights, so the fallback path runs too (about once in 30,000).
        for (shape, seed, std) in [
            (vec![512u64, 512, 3, 3], 7u64, None),
            (vec![10, 64], 1, Some(0.05)),
            (vec![3, 5, 7, 11], 42, Some(3.0)),
            // One whole block of four chunks, then one whole chunk and a part.
            (vec![5, 4200], 9, None),
        ] {
            let n = shape.iter().product::<u64>() as usize;
            let got = synthetic_weights(&shape, Distribution::Laplace, seed, std);
            let want = laplace_by_definition(seed, n, std.unwrap_or_else(|| he_std(&shape)));
            let same = got
                .iter()
                .zip(&want)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "shape {shape:?}: weights differ from the definition");
        }
    }

    #[test]
    fn ln_approx_is_within_two_ulps_of_the_library() {
        let ulps = |x: f64| {
            let b = x.ln();
            let d = (ln_approx::<false>(x) - b)
                .abs()
                .max((ln_approx::<true>(x) - b).abs());
            d / (b.abs() * f64::EPSILON)
        };
        // Where the Laplace sampler evaluates it: (0, 1), near 1 (the relative error of
        // small logarithms), near sqrt(2)/2 (the reduction's boundary), down to 2^-53.
        let mut rng = Xoshiro256StarStar::from_seed(3);
        let mut worst = 0.0f64;
        for _ in 0..1_000_000 {
            let u = rng.next_open01();
            worst = worst.max(ulps(u));
            worst = worst.max(ulps(1.0 - u * 1e-9));
        }
        for e in 1..=53 {
            let x = 1.0 - (0.5f64).powi(e);
            worst = worst.max(ulps(x)).max(ulps((0.5f64).powi(e)));
        }
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let (up, down) = (
            |x: f64| f64::from_bits(x.to_bits() + 1),
            |x: f64| f64::from_bits(x.to_bits() - 1),
        );
        for x in [r, up(r), down(r), 0.5, up(0.5), down(1.0)] {
            worst = worst.max(ulps(x));
        }
        assert!(worst <= 2.0, "ln_approx is {worst} ulps from ln");
    }
}
