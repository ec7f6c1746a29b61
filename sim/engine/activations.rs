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

/// Where each entry of a weight layer's GEMM input comes from: GEMM row m (an output pixel of
/// one sample) and reduction index k (input channel, kernel row, kernel column) read one
/// element of the input tensor (`[batch][C][H][W]`, or the flattened input of a linear /
/// matmul layer), or a padding zero outside the image. The GEMM input itself is never built:
/// a fold gathers the rows it streams from the input tensor, so the memory it takes is a
/// tile's, not `M x K`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Im2col {
    m: usize,
    k: usize,
    groups: usize,
    /// `None` for linear and matmul layers: row m, index k reads element `m * K + k`.
    conv: Option<ConvGeometry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ConvGeometry {
    /// Input height and width, output height and width.
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    /// Elements of one sample's input (`C x H x W`) and of one group's channels (`C/g x H x W`).
    sample: usize,
    group: usize,
    stride: (usize, usize),
    padding: (isize, isize),
    /// Per reduction index: (offset of its channel in the group, y and x offset of its tap
    /// from the window's corner).
    taps: Vec<(usize, isize, isize)>,
}

impl Im2col {
    fn of(net: &Network, layer: &Layer) -> Option<Self> {
        let gemm = layer.gemm(net)?;
        let input = net.tensor(*layer.inputs.first()?);
        let (m, k, groups) = (gemm.m as usize, gemm.k as usize, gemm.groups as usize);
        let conv = match layer.op {
            Op::Conv2d(cv) => {
                let o = net.tensor(layer.output);
                let (c, h, w) = (
                    input.shape[0] as usize,
                    input.shape[1] as usize,
                    input.shape[2] as usize,
                );
                let (kh, kw) = (cv.kernel.0 as usize, cv.kernel.1 as usize);
                let (dh, dw) = (cv.dilation.0 as usize, cv.dilation.1 as usize);
                let taps = (0..k)
                    .map(|kk| {
                        let (dy, dx) = ((kk / kw) % kh, kk % kw);
                        (
                            (kk / (kh * kw)) * h * w,
                            (dy * dh) as isize,
                            (dx * dw) as isize,
                        )
                    })
                    .collect();
                Some(ConvGeometry {
                    h,
                    w,
                    oh: o.shape[1] as usize,
                    ow: o.shape[2] as usize,
                    sample: c * h * w,
                    group: c / groups * h * w,
                    stride: (cv.stride.0 as usize, cv.stride.1 as usize),
                    padding: (cv.padding.0 as isize, cv.padding.1 as isize),
                    taps,
                })
            }
            _ => None,
        };
        Some(Im2col { m, k, groups, conv })
    }

    /// Calls `f(i, source)` for reduction indices `k0 + i`, `i < len`, of row `row` of group
    /// `g`: `source` is the input element read, `None` for padding.
    #[inline]
    fn gather(
        &self,
        g: usize,
        row: usize,
        k0: usize,
        len: usize,
        mut f: impl FnMut(usize, Option<usize>),
    ) {
        let Some(cv) = &self.conv else {
            let base = row * self.k + k0;
            (0..len).for_each(|i| f(i, Some(base + i)));
            return;
        };
        let b = row / (cv.oh * cv.ow);
        let (py, px) = ((row / cv.ow) % cv.oh, row % cv.ow);
        let y0 = (py * cv.stride.0) as isize - cv.padding.0;
        let x0 = (px * cv.stride.1) as isize - cv.padding.1;
        let base = b * cv.sample + g * cv.group;
        let (h, w) = (cv.h as isize, cv.w as isize);
        for (i, &(ch, dy, dx)) in cv.taps[k0..k0 + len].iter().enumerate() {
            let (iy, ix) = (y0 + dy, x0 + dx);
            f(
                i,
                (iy >= 0 && ix >= 0 && iy < h && ix < w)
                    .then(|| base + ch + iy as usize * cv.w + ix as usize),
            );
        }
    }
}

/// Non-zero flags of the GEMM input of a layer, per conv group, row and reduction index,
/// gathered row by row from the input tensor's flags packed 64 to a word (8 times smaller
/// than the tensor's `bool`s, and never the `M x K` im2col matrix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationMask {
    pub m: usize,
    pub k: usize,
    pub groups: usize,
    geometry: Im2col,
    /// Bit i % 64 of word i / 64: input element i is non-zero.
    input: Vec<u64>,
}

impl ActivationMask {
    /// Whether activation (row, kk) of group g is non-zero (padding is zero).
    pub fn get(&self, g: usize, row: usize, kk: usize) -> bool {
        let mut v = false;
        self.geometry.gather(g, row, kk, 1, |_, src| {
            v = src.is_some_and(|e| self.input[e / 64] >> (e % 64) & 1 == 1)
        });
        v
    }

    /// Row `row` of group `g` packed per PE chunk of `kpp` reduction indices: chunks
    /// `ch0 .. ch0 + out.len() / words` into `out`, `words = kpp.div_ceil(64)` u64s each, bit
    /// i of a chunk for index `chunk * kpp + i` (0 past the end of K); [`ChunkBits`]' layout.
    pub fn row_chunks(&self, g: usize, row: usize, kpp: usize, ch0: usize, out: &mut [u64]) {
        let words = kpp.div_ceil(64);
        out.fill(0);
        let k0 = ch0 * kpp;
        let len = (out.len() / words * kpp).min(self.k.saturating_sub(k0));
        self.geometry.gather(g, row, k0, len, |i, src| {
            if src.is_some_and(|e| self.input[e / 64] >> (e % 64) & 1 == 1) {
                let (ch, j) = (i / kpp, i % kpp);
                out[ch * words + j / 64] |= 1 << (j % 64);
            }
        });
    }
}

/// The GEMM input of a weight layer as non-zero flags; `None` for layers without a GEMM.
pub fn layer_mask(net: &Network, layer: &Layer) -> Option<ActivationMask> {
    let flags = input_flags(net, layer)?;
    let geometry = Im2col::of(net, layer)?;
    let mut input = vec![0u64; flags.len().div_ceil(64)];
    for (i, &f) in flags.iter().enumerate() {
        input[i / 64] |= (f as u64) << (i % 64);
    }
    Some(ActivationMask {
        m: geometry.m,
        k: geometry.k,
        groups: geometry.groups,
        geometry,
        input,
    })
}

/// The GEMM input of a weight layer as activation magnitudes, per conv group, row and
/// reduction index (0 for zeros and padding), gathered row by row from the input tensor's
/// magnitudes ([`input_values`]; borrowed when a functional run measured them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationValues<'a> {
    pub m: usize,
    pub k: usize,
    pub groups: usize,
    geometry: Im2col,
    input: std::borrow::Cow<'a, [u16]>,
}

impl ActivationValues<'_> {
    /// Magnitudes of one row's reduction indices `k0 .. k0 + out.len()` of group `g`.
    pub fn row_into(&self, g: usize, row: usize, k0: usize, out: &mut [u16]) {
        let len = out.len();
        self.geometry.gather(g, row, k0, len, |i, src| {
            out[i] = src.map_or(0, |e| self.input[e])
        });
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
pub fn layer_values<'a>(net: &Network, layer: &'a Layer) -> Option<ActivationValues<'a>> {
    let input = input_values(net, layer)?;
    let geometry = Im2col::of(net, layer)?;
    Some(ActivationValues {
        m: geometry.m,
        k: geometry.k,
        groups: geometry.groups,
        geometry,
        input,
    })
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

    /// The GEMM input as the engine built it before it streamed rows: the whole im2col
    /// matrix, `(m, k, groups, entries)`, entries row-major per group, `pad` outside the image.
    fn full_im2col<T: Copy>(
        net: &Network,
        layer: &Layer,
        x: &[T],
        pad: T,
    ) -> (usize, usize, usize, Vec<T>) {
        let gemm = layer.gemm(net).unwrap();
        let input = net.tensor(layer.inputs[0]);
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
                            let iy = (py * cv.stride.0 as usize + dy * cv.dilation.0 as usize)
                                as isize
                                - cv.padding.0 as isize;
                            let ix = (px * cv.stride.1 as usize + dx * cv.dilation.1 as usize)
                                as isize
                                - cv.padding.1 as isize;
                            if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < w {
                                out[(g * m + row) * k + kk] =
                                    x[((b * c + ci) * h + iy as usize) * w + ix as usize];
                            }
                        }
                    }
                }
            }
            _ => out.copy_from_slice(&x[..m * k]),
        }
        (m, k, groups, out)
    }

    proptest::proptest! {
        /// Rows gathered from the packed input flags (and magnitudes) equal the whole im2col
        /// matrix of booleans the engine used to build, chunk by chunk, on random convolutions
        /// (groups, strides, dilation, padding, batch) and linear layers.
        #[test]
        fn gathered_rows_equal_the_full_im2col(
            cg in 1u64..4, groups in 1u64..4, ng in 1u64..3, h in 1u64..7, w in 1u64..7,
            kh in 1u64..4, kw in 1u64..4, sy in 1u64..3, sx in 1u64..3, pad in 0u64..3,
            dil in 1u64..3, batch in 1u64..4, zeros in 0.0f64..1.0, kpp in 1usize..70,
            linear in proptest::bool::ANY, seed in 0u64..1000,
        ) {
            let layer = if linear {
                format!(r#"{{"name": "l", "op": "linear", "inputs": ["x"], "output": "y", "out_features": {ng}}}"#)
            } else {
                let (ph, pw) = (pad.min(kh - 1), pad.min(kw - 1));
                if (h + 2 * ph) < dil * (kh - 1) + 1 || (w + 2 * pw) < dil * (kw - 1) + 1 {
                    return Ok(());
                }
                format!(
                    r#"{{"name": "c", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": {}, "kernel": [{kh}, {kw}], "stride": [{sy}, {sx}], "padding": [{ph}, {pw}], "dilation": {dil}, "groups": {groups}}}"#,
                    ng * groups
                )
            };
            let shape = if linear { format!("[{}]", cg * groups * h) } else { format!("[{}, {h}, {w}]", cg * groups) };
            let text = format!(
                r#"{{"name": "t", "batch": {batch}, "inputs": {{"x": {shape}}}, "defaults": {{"activations": {{"zero_density": {zeros}, "seed": {seed}}}}}, "layers": [{layer}]}}"#
            );
            let net = crate::workload::parse_workload(&text, "t.json").unwrap();
            let layer = &net.layers[0];
            let flags = input_flags(&net, layer).unwrap();
            let (m, k, groups, full) = full_im2col(&net, layer, &flags, false);
            let mask = layer_mask(&net, layer).unwrap();
            proptest::prop_assert_eq!((mask.m, mask.k, mask.groups), (m, k, groups));
            let packed = ChunkBits::pack(groups * m, k, kpp, |r, kk| full[r * k + kk]);
            let words = kpp.div_ceil(64);
            let chunks = k.div_ceil(kpp);
            let mut out = vec![0u64; chunks * words];
            for g in 0..groups {
                for row in 0..m {
                    for kk in 0..k {
                        proptest::prop_assert_eq!(mask.get(g, row, kk), full[(g * m + row) * k + kk]);
                    }
                    for ch0 in 0..chunks {
                        let part = &mut out[..(chunks - ch0) * words];
                        mask.row_chunks(g, row, kpp, ch0, part);
                        for ch in ch0..chunks {
                            proptest::prop_assert_eq!(
                                &part[(ch - ch0) * words..(ch - ch0 + 1) * words],
                                packed.get(g * m + row, ch)
                            );
                        }
                    }
                }
            }
            let x = input_values(&net, layer).unwrap();
            let (_, _, _, full) = full_im2col(&net, layer, &x, 0u16);
            let values = layer_values(&net, layer).unwrap();
            let mut row = vec![0u16; k];
            for g in 0..groups {
                for r in 0..m {
                    for k0 in [0, k / 2] {
                        let out = &mut row[..k - k0];
                        values.row_into(g, r, k0, out);
                        let base = (g * m + r) * k + k0;
                        proptest::prop_assert_eq!(&*out, &full[base..base + k - k0]);
                    }
                }
            }
        }
    }
}
