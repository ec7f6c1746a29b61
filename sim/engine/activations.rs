//! Zero activations for PEs that skip them: which inputs of a layer are zero, drawn from the
//! layer's declared statistics (`activations.zero_density`, `activations.seed`).
//!
//! Every element of the layer's input tensor is zero with probability `zero_density`,
//! independently, from a seeded xoshiro256** stream per 4096-element chunk (so the pattern
//! is the same on any thread count). A convolution sees its input through im2col: GEMM row m
//! (an output pixel) and reduction index k (input channel, kernel row, kernel column) read one
//! input element, or a padding zero outside the image; so the same element is zero in every
//! window that reads it, and padding is always zero. When the workload names a tensor file
//! with the layer's real input activations, the IO edge reads it and its zeros are used
//! instead (`ActivationStats::nonzero`).

use crate::synth::Xoshiro256StarStar;
use crate::workload::{Layer, Network, Op};

const CHUNK: usize = 4096;

/// Non-zero flags of the GEMM input matrix of a layer, row-major `m x k`, per conv group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationMask {
    pub m: usize,
    pub k: usize,
    pub groups: usize,
    /// `nonzero[(g * m + row) * k + kk]`.
    nonzero: Vec<bool>,
}

impl ActivationMask {
    /// Whether activation (row, kk) of group g is non-zero.
    #[inline]
    pub fn get(&self, g: usize, row: usize, kk: usize) -> bool {
        self.nonzero[(g * self.m + row) * self.k + kk]
    }

    /// Non-zero flags of one row's reduction indices `k0 .. k0 + len` of group `g`.
    pub fn row(&self, g: usize, row: usize, k0: usize, len: usize) -> &[bool] {
        let base = (g * self.m + row) * self.k + k0;
        &self.nonzero[base..base + len]
    }
}

/// The input tensor's non-zero flags (batch included), from the layer's statistics.
fn input_nonzero(elements: usize, zero_density: f64, seed: u64) -> Vec<bool> {
    let mut out = vec![true; elements];
    if zero_density <= 0.0 {
        return out;
    }
    for (c, chunk) in out.chunks_mut(CHUNK).enumerate() {
        let mut rng = Xoshiro256StarStar::stream(seed, c as u64);
        for v in chunk.iter_mut() {
            *v = rng.next_open01() >= zero_density;
        }
    }
    out
}

/// The non-zero flags of a layer's input tensor (batch included): read from its activation
/// file when the workload names one, else drawn from its statistics. What both engines take
/// as given; each maps it to the GEMM's input on its own.
pub fn input_flags<'a>(net: &Network, layer: &'a Layer) -> Option<std::borrow::Cow<'a, [bool]>> {
    let input = net.tensor(*layer.inputs.first()?);
    let act = &layer.activations;
    Some(match &act.nonzero {
        Some(flags) => std::borrow::Cow::Borrowed(&flags[..]),
        None => std::borrow::Cow::Owned(input_nonzero(
            (input.elements() * net.batch) as usize,
            act.zero_density,
            act.seed,
        )),
    })
}

/// The GEMM input of a weight layer as non-zero flags; `None` for layers without a GEMM.
pub fn layer_mask(net: &Network, layer: &Layer) -> Option<ActivationMask> {
    let flags = input_flags(net, layer)?;
    let (m, k, groups, nonzero) = im2col(net, layer, &flags, false)?;
    Some(ActivationMask {
        m,
        k,
        groups,
        nonzero,
    })
}

/// The GEMM input of a weight layer as activation magnitudes, per conv group, row and
/// reduction index (0 for zeros and padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationValues {
    pub m: usize,
    pub k: usize,
    pub groups: usize,
    values: Vec<u16>,
}

impl ActivationValues {
    /// Magnitudes of one row's reduction indices `k0 .. k0 + len` of group `g`.
    pub fn row(&self, g: usize, row: usize, k0: usize, len: usize) -> &[u16] {
        let base = (g * self.m + row) * self.k + k0;
        &self.values[base..base + len]
    }
}

/// The magnitudes of a layer's input activations (batch included): the real ones a
/// functional run measured, else every non-zero activation (from the statistics or file) at
/// full scale, `2^activation_bits - 1`: every bit effectual, the worst case.
pub fn input_values<'a>(net: &Network, layer: &'a Layer) -> Option<std::borrow::Cow<'a, [u16]>> {
    if let Some(v) = &layer.activations.values {
        return Some(std::borrow::Cow::Borrowed(&v[..]));
    }
    let full = ((1u32 << layer.quant.activation_bits.min(16)) - 1) as u16;
    let flags = input_flags(net, layer)?;
    Some(std::borrow::Cow::Owned(
        flags.iter().map(|&f| if f { full } else { 0 }).collect(),
    ))
}

/// The GEMM input of a weight layer as activation magnitudes ([`input_values`]).
pub fn layer_values(net: &Network, layer: &Layer) -> Option<ActivationValues> {
    let x = input_values(net, layer)?;
    let (m, k, groups, values) = im2col(net, layer, &x, 0)?;
    Some(ActivationValues {
        m,
        k,
        groups,
        values,
    })
}

/// A weight layer's GEMM input from its input tensor `x` (`[batch][C][H][W]`, or the
/// flattened input of a linear / matmul layer): `(m, k, groups, entries)`, entries row-major
/// per group, `pad` outside the image.
fn im2col<T: Copy>(
    net: &Network,
    layer: &Layer,
    x: &[T],
    pad: T,
) -> Option<(usize, usize, usize, Vec<T>)> {
    let gemm = layer.gemm(net)?;
    let input = net.tensor(*layer.inputs.first()?);
    let (m, k, groups) = (gemm.m as usize, gemm.k as usize, gemm.groups as usize);
    let mut out = vec![pad; groups * m * k];
    match layer.op {
        Op::Conv2d(cv) => {
            let o = net.tensor(layer.output);
            let (oh, ow) = (o.shape[1] as usize, o.shape[2] as usize);
            let (c, h, w) = (
                input.shape[0] as usize,
                input.shape[1] as usize,
                input.shape[2] as usize,
            );
            let cg = c / groups;
            let (kh, kw) = (cv.kernel.0 as usize, cv.kernel.1 as usize);
            for g in 0..groups {
                for row in 0..m {
                    let b = row / (oh * ow);
                    let (py, px) = ((row / ow) % oh, row % ow);
                    for kk in 0..k {
                        let ci = g * cg + kk / (kh * kw);
                        let (dy, dx) = ((kk / kw) % kh, kk % kw);
                        let iy = (py * cv.stride.0 as usize + dy * cv.dilation.0 as usize) as isize
                            - cv.padding.0 as isize;
                        let ix = (px * cv.stride.1 as usize + dx * cv.dilation.1 as usize) as isize
                            - cv.padding.1 as isize;
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                            out[(g * m + row) * k + kk] =
                                x[((b * c + ci) * h + iy as usize) * w + ix as usize];
                        }
                    }
                }
            }
        }
        // Linear: row = sample, k = flattened input; matmul: the [M, K] input itself.
        _ => out.copy_from_slice(&x[..m * k]),
    }
    Some((m, k, groups, out))
}

/// Flags packed per PE chunk: for each (group, row, chunk) `words` u64s whose bit i says
/// whether reduction index `chunk * kpp + i` is set (0 past the end of K).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkBits {
    pub chunks: usize,
    pub words: usize,
    bits: Vec<u64>,
}

impl ChunkBits {
    /// Pack `rows` rows of `k` flags (`flag(row, kk)`) into chunks of `kpp`.
    pub fn pack(rows: usize, k: usize, kpp: usize, flag: impl Fn(usize, usize) -> bool) -> Self {
        let chunks = k.div_ceil(kpp);
        let words = kpp.div_ceil(64);
        let mut bits = vec![0u64; rows * chunks * words];
        for row in 0..rows {
            for kk in 0..k {
                if flag(row, kk) {
                    let (ch, i) = (kk / kpp, kk % kpp);
                    bits[(row * chunks + ch) * words + i / 64] |= 1 << (i % 64);
                }
            }
        }
        ChunkBits {
            chunks,
            words,
            bits,
        }
    }

    pub fn get(&self, row: usize, chunk: usize) -> &[u64] {
        let b = (row * self.chunks + chunk) * self.words;
        &self.bits[b..b + self.words]
    }
}

/// Set bits in both.
#[inline]
pub fn common(a: &[u64], b: &[u64]) -> u64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x & y).count_ones() as u64)
        .sum()
}

impl ActivationMask {
    /// This mask packed per PE chunk; rows are `g * m + row`.
    pub fn chunk_bits(&self, kpp: usize) -> ChunkBits {
        ChunkBits::pack(self.groups * self.m, self.k, kpp, |r, kk| {
            self.nonzero[r * self.k + kk]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::parse_workload;

    fn conv(zero_density: f64) -> Network {
        let text = format!(
            r#"{{"name": "c", "inputs": {{"x": [2, 4, 4]}}, "defaults": {{"activations": {{"zero_density": {zero_density}, "seed": 3}}}},
                "layers": [{{"name": "conv", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 1,
                             "kernel": 3, "padding": 1}}]}}"#
        );
        parse_workload(&text, "c.json").unwrap()
    }

    #[test]
    fn padding_is_zero_and_no_other_activation_without_zero_density() {
        let net = conv(0.0);
        let m = layer_mask(&net, &net.layers[0]).unwrap();
        assert_eq!((m.m, m.k, m.groups), (16, 18, 1));
        // Output pixel (0, 0): kernel row 0 and column 0 fall in the padding.
        for kk in 0..18 {
            let (dy, dx) = ((kk / 3) % 3, kk % 3);
            assert_eq!(m.get(0, 0, kk), dy > 0 && dx > 0, "k = {kk}");
        }
        // The centre pixel (1, 1) reads only the image.
        assert!((0..18).all(|kk| m.get(0, 5, kk)));
        // Reads inside a 4x4 image per channel: (2 + 3 + 3 + 2)^2 = 100 of 16 x 9; the other
        // 44 per channel are padding.
        let zeros = (0..16)
            .flat_map(|r| (0..18).map(move |kk| (r, kk)))
            .filter(|&(r, kk)| !m.get(0, r, kk))
            .count();
        assert_eq!(zeros, 2 * 44);
    }

    #[test]
    fn an_input_element_is_zero_in_every_window_that_reads_it() {
        let net = conv(0.5);
        let m = layer_mask(&net, &net.layers[0]).unwrap();
        // Input (channel 0, y 1, x 1) is read by outputs (0,0), (1,1) and (2,2) (rows 0, 5,
        // 10) at kernel offsets (2,2), (1,1), (0,0) (k = 8, 4, 0): one value for all three.
        for y in 0..4 {
            for x in 0..4 {
                let mut reads = Vec::new();
                for (row, (oy, ox)) in (0..4)
                    .flat_map(|oy| (0..4).map(move |ox| (oy, ox)))
                    .enumerate()
                {
                    let (dy, dx) = (y + 1 - oy as isize, x + 1 - ox as isize);
                    if (0..3).contains(&dy) && (0..3).contains(&dx) {
                        reads.push(m.get(0, row, (dy * 3 + dx) as usize));
                    }
                }
                assert!(
                    reads.iter().all(|&v| v == reads[0]),
                    "input ({y}, {x}): {reads:?}"
                );
            }
        }
        assert_eq!(m.get(0, 0, 8), m.get(0, 10, 0));
        // About half of the 200 in-image reads are zero, on top of the 88 padding reads.
        let zeros = (0..16)
            .flat_map(|r| (0..18).map(move |kk| (r, kk)))
            .filter(|&(r, kk)| !m.get(0, r, kk))
            .count();
        assert!((88 + 50..88 + 150).contains(&zeros), "{zeros}");
    }
}
