//! The kernels of functional execution, one sample at a time: convolution and the fully
//! connected products over floats (the fp32 reference) and over integer codes (the array's
//! datapath, exact sums), pools, and the channel padding of option-A shortcuts.
//!
//! Tensors are row-major per sample: `[C, H, W]` for images, `[M, K]` for GEMM operands.
//! Every kernel is a pure function of its operands; the convolution splits its output
//! channels across threads, each channel summed in a fixed order, so results do not depend on
//! the thread count.

use rayon::prelude::*;

use crate::workload::{Conv, Pool};

/// The arithmetic a kernel runs in: f32 for the reference, i32 or i64 for integer codes.
pub trait Num:
    Copy + Default + Send + Sync + PartialEq + std::ops::AddAssign + std::ops::Mul<Output = Self>
{
    /// Sums are exact (integers): the order products are added in does not matter.
    const EXACT: bool;
}
impl Num for f32 {
    const EXACT: bool = false;
}
impl Num for i32 {
    const EXACT: bool = true;
}
impl Num for i64 {
    const EXACT: bool = true;
}

/// Geometry of a convolution over one sample.
#[derive(Debug, Clone, Copy)]
pub struct ConvShape {
    pub conv: Conv,
    /// Input height and width.
    pub in_hw: (usize, usize),
    /// Output height and width.
    pub out_hw: (usize, usize),
}

/// Direct convolution: `x` `[C, H, W]` (converted by `lift_x`), weights `[O, C/groups, kh,
/// kw]`, out `[O, OH, OW]` in `T`. Zero padding. The weights are rearranged by
/// [`PackedWeights::new`] and the products run by [`conv2d_packed`]: callers that convolve
/// many inputs with the same weights pack them once and call that instead.
pub fn conv2d<X: Copy + Sync, W: Copy + Sync, T: Num>(
    x: &[X],
    w: &[W],
    s: &ConvShape,
    lift_x: impl Fn(X) -> T + Sync,
    lift_w: impl Fn(W) -> T + Sync,
) -> Vec<T> {
    conv2d_packed(x, &PackedWeights::new(w, &s.conv, lift_w), s, lift_x)
}

/// Output channels one register block of [`conv2d_packed`] sums (a group with fewer is
/// padded to [`SMALL_BLOCK`]).
const BLOCK: usize = 16;
const SMALL_BLOCK: usize = 4;

/// A convolution's weights rearranged for [`conv2d_packed`]: `[group][ky][kx][ci][co]`, each
/// group's output channels padded with zero weights to a whole number of blocks, so a block
/// of output channels reads its weights of one input channel as one contiguous run. Packing
/// depends on the weights only: it is done once per layer, not once per input.
#[derive(Debug, Clone)]
pub struct PackedWeights<T> {
    w: Vec<T>,
    conv: Conv,
    /// Output channels per group after padding (a multiple of `block`).
    cout_g_padded: usize,
    /// Output channels per register block: [`BLOCK`], or [`SMALL_BLOCK`] for narrow groups.
    block: usize,
}

impl<T: Num> PackedWeights<T> {
    /// Pack `w` `[O, C/groups, kh, kw]` (converted by `lift`) for convolution `c`.
    pub fn new<W: Copy>(w: &[W], c: &Conv, lift: impl Fn(W) -> T) -> Self {
        let groups = c.groups as usize;
        let cin_g = c.in_channels as usize / groups.max(1);
        let cout_g = c.out_channels as usize / groups.max(1);
        let (kh, kw) = (c.kernel.0 as usize, c.kernel.1 as usize);
        let block = if cout_g <= SMALL_BLOCK {
            SMALL_BLOCK
        } else {
            BLOCK
        };
        let cout_g_padded = cout_g.div_ceil(block) * block;
        let mut wt = vec![T::default(); groups * kh * kw * cin_g * cout_g_padded];
        for g in 0..groups {
            for co in 0..cout_g {
                for ci in 0..cin_g {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let src = (((g * cout_g + co) * cin_g + ci) * kh + ky) * kw + kx;
                            let dst = (((g * kh + ky) * kw + kx) * cin_g + ci) * cout_g_padded + co;
                            wt[dst] = lift(w[src]);
                        }
                    }
                }
            }
        }
        PackedWeights {
            w: wt,
            conv: *c,
            cout_g_padded,
            block,
        }
    }
}

/// The geometry [`conv_row`] reads: the input zero-padded to `[hp][wp][cin]` so that no
/// window leaves it, and the convolution's sizes.
struct Frame {
    wp: usize,
    cin: usize,
    cin_g: usize,
    cout: usize,
    cout_g: usize,
    ow: usize,
    kernel: (usize, usize),
    stride: (usize, usize),
    dilation: (usize, usize),
}

/// [`conv2d`] with weights packed before. For each output row, each group and each block of
/// output channels, `P` output pixels side by side are summed at once in a register tile (a
/// block of weights loaded once serves `P` pixels). Every sum runs over the window in the
/// same order as the textbook loop (`ky`, `kx`, then the input channel) and an input that is
/// zero for all `P` pixels of the tile is skipped. With `P = 1` (used for `f32`) that is
/// exactly the skip of a zero activation, so float sums are the ones a per-pixel loop makes;
/// integer sums are exact, so the wider tile (`P = 4`) changes nothing but the speed. Rows of
/// output pixels run in parallel, each computed alone, so results do not depend on the
/// thread count.
pub fn conv2d_packed<X: Copy + Sync, T: Num>(
    x: &[X],
    w: &PackedWeights<T>,
    s: &ConvShape,
    lift_x: impl Fn(X) -> T + Sync,
) -> Vec<T> {
    let c = w.conv;
    debug_assert_eq!(c, s.conv, "weights packed for another convolution");
    let (h, wd) = s.in_hw;
    let (oh, ow) = s.out_hw;
    let groups = c.groups as usize;
    let cin = c.in_channels as usize;
    let cout = c.out_channels as usize;
    let (kh, kw) = (c.kernel.0 as usize, c.kernel.1 as usize);
    let (sh, sw) = (c.stride.0 as usize, c.stride.1 as usize);
    let (ph, pw) = (c.padding.0 as usize, c.padding.1 as usize);
    let (dh, dw) = (c.dilation.0 as usize, c.dilation.1 as usize);
    let zero = T::default();
    if oh * ow * cout == 0 {
        return vec![zero; cout * oh * ow];
    }
    let tile = if T::EXACT { 4 } else { 1 };
    // Wide enough for the last tile of a row (it may run past `ow`) and high enough for the
    // last row's window; rows and columns past the input are zeros, as is the padding.
    let ow_tiled = ow.div_ceil(tile) * tile;
    let wp = (wd + pw).max((ow_tiled - 1) * sw + (kw - 1) * dw + 1);
    let hp = (h + ph).max((oh - 1) * sh + (kh - 1) * dh + 1);
    let mut xp = vec![zero; hp * wp * cin];
    for ch in 0..cin {
        let plane = &x[ch * h * wd..(ch + 1) * h * wd];
        for y in 0..h {
            for (xi, &v) in plane[y * wd..(y + 1) * wd].iter().enumerate() {
                xp[((y + ph) * wp + xi + pw) * cin + ch] = lift_x(v);
            }
        }
    }
    let f = Frame {
        wp,
        cin,
        cin_g: cin / groups,
        cout,
        cout_g: cout / groups,
        ow,
        kernel: (kh, kw),
        stride: (sh, sw),
        dilation: (dh, dw),
    };
    let mut out_t = vec![zero; oh * ow * cout];
    // A task of at least ~32k products: the rows of small feature maps are too little work
    // to hand to another thread one by one.
    let per_row = ow * cout * kh * kw * f.cin_g;
    let min_rows = (1usize << 15).div_ceil(per_row.max(1));
    out_t
        .par_chunks_mut(ow * cout)
        .with_min_len(min_rows)
        .enumerate()
        .for_each(|(oy, row)| match (tile, w.block) {
            (1, BLOCK) => conv_row_best::<T, 1, BLOCK>(&xp, w, &f, oy, row),
            (1, _) => conv_row_best::<T, 1, SMALL_BLOCK>(&xp, w, &f, oy, row),
            (_, BLOCK) => conv_row_best::<T, 4, BLOCK>(&xp, w, &f, oy, row),
            _ => conv_row_best::<T, 4, SMALL_BLOCK>(&xp, w, &f, oy, row),
        });
    let mut out = vec![zero; cout * oh * ow];
    for i in 0..oh * ow {
        for o in 0..cout {
            out[o * oh * ow + i] = out_t[i * cout + o];
        }
    }
    out
}

/// [`conv_row`] compiled for AVX2 when the processor has it (eight 32-bit lanes, and a
/// 32-bit multiply that SSE2 lacks), else for the baseline. The same operations in the same
/// order either way (nothing is fused into a multiply-add), so the results are equal.
fn conv_row_best<T: Num, const P: usize, const CO: usize>(
    xp: &[T],
    w: &PackedWeights<T>,
    f: &Frame,
    oy: usize,
    row: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        unsafe { conv_row_avx2::<T, P, CO>(xp, w, f, oy, row) };
        return;
    }
    conv_row::<T, P, CO>(xp, w, f, oy, row)
}

/// [`conv_row`] with AVX2.
///
/// # Safety
/// The processor must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn conv_row_avx2<T: Num, const P: usize, const CO: usize>(
    xp: &[T],
    w: &PackedWeights<T>,
    f: &Frame,
    oy: usize,
    row: &mut [T],
) {
    conv_row::<T, P, CO>(xp, w, f, oy, row)
}

/// Output row `oy` (`row`: `[ow][cout]`) of [`conv2d_packed`], in tiles of `P` pixels by
/// `CO` output channels.
#[inline(always)]
fn conv_row<T: Num, const P: usize, const CO: usize>(
    xp: &[T],
    w: &PackedWeights<T>,
    f: &Frame,
    oy: usize,
    row: &mut [T],
) {
    let zero = T::default();
    let (kh, kw) = f.kernel;
    let (sh, sw) = f.stride;
    let (dh, dw) = f.dilation;
    let cin_g = f.cin_g;
    let cgp = w.cout_g_padded;
    let groups = f.cin / cin_g.max(1);
    for g in 0..groups {
        for cb in (0..f.cout_g).step_by(CO) {
            for ox0 in (0..f.ow).step_by(P) {
                let mut acc = [[zero; CO]; P];
                for ky in 0..kh {
                    let y = oy * sh + ky * dh;
                    for kx in 0..kw {
                        let taps = &w.w[((g * kh + ky) * kw + kx) * cin_g * cgp..][..cin_g * cgp];
                        let xs: [&[T]; P] = std::array::from_fn(|p| {
                            let at = (y * f.wp + (ox0 + p) * sw + kx * dw) * f.cin + g * cin_g;
                            &xp[at..at + cin_g]
                        });
                        for (ci, wr) in taps.chunks_exact(cgp).enumerate() {
                            let a: [T; P] = std::array::from_fn(|p| xs[p][ci]);
                            if a.iter().all(|&v| v == zero) {
                                continue;
                            }
                            let wv: &[T; CO] =
                                wr[cb..cb + CO].try_into().expect("blocks are CO channels");
                            for (accp, &ap) in acc.iter_mut().zip(&a) {
                                for (o, &wc) in accp.iter_mut().zip(wv) {
                                    *o += ap * wc;
                                }
                            }
                        }
                    }
                }
                let channels = CO.min(f.cout_g - cb);
                for (p, accp) in acc.iter().enumerate().take(f.ow - ox0) {
                    let at = (ox0 + p) * f.cout + g * f.cout_g + cb;
                    row[at..at + channels].copy_from_slice(&accp[..channels]);
                }
            }
        }
    }
}

/// `rows` products of `[K]` inputs with `[N, K]` weights: out `[rows, N]`.
pub fn matmul<X: Copy + Sync, W: Copy + Sync, T: Num>(
    x: &[X],
    w: &[W],
    k: usize,
    n: usize,
    lift_x: impl Fn(X) -> T + Sync,
    lift_w: impl Fn(W) -> T + Sync,
) -> Vec<T> {
    let rows = x.len().checked_div(k).unwrap_or(0);
    let mut out = vec![T::default(); rows * n];
    out.par_chunks_mut(n.max(1)).enumerate().for_each(|(r, o)| {
        let xr = &x[r * k..(r + 1) * k];
        for (j, oj) in o.iter_mut().enumerate() {
            let wr = &w[j * k..(j + 1) * k];
            let mut acc = T::default();
            for (&a, &b) in xr.iter().zip(wr) {
                acc += lift_x(a) * lift_w(b);
            }
            *oj = acc;
        }
    });
    out
}

/// PyTorch's pooling windows: for output `o`, input rows `start..end` with
/// `start = o * stride - pad` clipped to the input; `end_padded` is the window's end clipped
/// to the padded input (the average pool's divisor with `count_include_pad`).
fn window(o: usize, k: usize, s: usize, pad: usize, len: usize) -> (usize, usize, usize) {
    let start = (o * s) as isize - pad as isize;
    let end_padded = (start + k as isize).min((len + pad) as isize);
    let count = (end_padded - start) as usize;
    let lo = (start.max(0) as usize).min(len);
    let hi = (start + k as isize).min(len as isize).max(0) as usize;
    (lo, hi.max(lo), count)
}

/// Max or average pooling of `x` `[C, H, W]` into `[C, OH, OW]` (PyTorch semantics: padding
/// is -inf for max and counts as zeros in the average's divisor; windows that run past the
/// padded input with `ceil_mode` are clipped).
pub fn pool(
    x: &[f32],
    c: usize,
    in_hw: (usize, usize),
    out_hw: (usize, usize),
    p: &Pool,
    max: bool,
) -> Vec<f32> {
    let (h, w) = in_hw;
    let (oh, ow) = out_hw;
    let mut out = vec![0f32; c * oh * ow];
    for ch in 0..c {
        let xin = &x[ch * h * w..(ch + 1) * h * w];
        for oy in 0..oh {
            let (y0, y1, cy) = window(
                oy,
                p.kernel.0 as usize,
                p.stride.0 as usize,
                p.padding.0 as usize,
                h,
            );
            for ox in 0..ow {
                let (x0, x1, cx) = window(
                    ox,
                    p.kernel.1 as usize,
                    p.stride.1 as usize,
                    p.padding.1 as usize,
                    w,
                );
                let v = if max {
                    let mut m = f32::NEG_INFINITY;
                    for row in xin[y0 * w..y1 * w].chunks(w) {
                        for &v in &row[x0..x1] {
                            m = m.max(v);
                        }
                    }
                    m
                } else {
                    let mut s = 0f64;
                    for row in xin[y0 * w..y1 * w].chunks(w) {
                        for &v in &row[x0..x1] {
                            s += v as f64;
                        }
                    }
                    (s / (cy * cx).max(1) as f64) as f32
                };
                out[(ch * oh + oy) * ow + ox] = v;
            }
        }
    }
    out
}

/// The mean of each channel of `x` `[C, H*W]`.
pub fn global_avg(x: &[f32], c: usize) -> Vec<f32> {
    let hw = x.len() / c.max(1);
    (0..c)
        .map(|ch| {
            let s: f64 = x[ch * hw..(ch + 1) * hw].iter().map(|&v| v as f64).sum();
            (s / hw.max(1) as f64) as f32
        })
        .collect()
}

/// Channels `[C, H, W]` zero-padded to `out` channels: `(out - C) / 2` before, the rest
/// after (the option-A shortcut `F.pad(x, (0, 0, 0, 0, p, p))`).
pub fn pad_channels<T: Copy + Default>(x: &[T], c: usize, out: usize) -> Vec<T> {
    let plane = x.len() / c.max(1);
    let before = (out - c) / 2;
    let mut v = vec![T::default(); out * plane];
    v[before * plane..(before + c) * plane].copy_from_slice(x);
    v
}

/// `f(a, b)` elementwise over `a` (shape `sa`) and `b` (shape `sb`) broadcast to `out`
/// (NumPy's rule: shapes aligned from the last axis, a size of 1 repeated); C order.
pub fn broadcast(
    a: &[f32],
    sa: &[u64],
    b: &[f32],
    sb: &[u64],
    out: &[u64],
    f: impl Fn(f32, f32) -> f32,
) -> Vec<f32> {
    if sa == sb {
        return a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect();
    }
    let (ia, ib) = (
        crate::workload::broadcast_index(sa, out),
        crate::workload::broadcast_index(sb, out),
    );
    ia.iter().zip(&ib).map(|(&i, &j)| f(a[i], b[j])).collect()
}

/// Every `step`-th index of `axis` from `start`, of `x` (shape `shape`, C order), giving
/// `out` elements along it.
pub fn slice<T: Copy>(
    x: &[T],
    shape: &[u64],
    out: &[u64],
    axis: usize,
    start: u64,
    step: u64,
) -> Vec<T> {
    let outer: usize = shape[..axis].iter().map(|&d| d as usize).product();
    let inner: usize = shape[axis + 1..].iter().map(|&d| d as usize).product();
    let (len, kept) = (shape[axis] as usize, out[axis] as usize);
    let mut y = Vec::with_capacity(outer * kept * inner);
    for o in 0..outer {
        for k in 0..kept {
            let at = (o * len + start as usize + k * step as usize) * inner;
            y.extend_from_slice(&x[at..at + inner]);
        }
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(cin: u64, cout: u64, k: u64, s: u64, p: u64, groups: u64) -> Conv {
        Conv {
            in_channels: cin,
            out_channels: cout,
            kernel: (k, k),
            stride: (s, s),
            padding: (p, p),
            dilation: (1, 1),
            groups,
        }
    }

    /// `conv2d` on `x` `[cin, h, h]` with some integer-valued weights, checked against
    /// [`naive`] in f32 and in both integer widths.
    fn check(c: Conv, h: usize) {
        let (k, s, p, d) = (c.kernel.0, c.stride.0, c.padding.0, c.dilation.0);
        let o = (h + 2 * p as usize - (d * (k - 1)) as usize - 1) / s as usize + 1;
        let sh = ConvShape {
            conv: c,
            in_hw: (h, h),
            out_hw: (o, o),
        };
        let cin = c.in_channels as usize;
        // Some zeros (skipped), some negative values.
        let x: Vec<f32> = (0..cin * h * h)
            .map(|i| ((i * 7) % 5) as f32 - 2.0)
            .collect();
        let w: Vec<f32> = (0..(c.out_channels * c.in_channels / c.groups * k * k) as usize)
            .map(|i| ((i * 3) % 7) as f32 - 3.0)
            .collect();
        let fast = conv2d(&x, &w, &sh, |v| v, |v| v);
        assert_eq!(fast, naive(&x, &w, &sh), "{c:?} on {h}x{h}");
        let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
        let wi: Vec<i16> = w.iter().map(|&v| v as i16).collect();
        let wide: Vec<i64> = conv2d(&xi, &wi, &sh, |v| v as i64, |v| v as i64);
        assert_eq!(wide.iter().map(|&v| v as f32).collect::<Vec<_>>(), fast);
        let packed = PackedWeights::new(&wi, &c, |v| v as i32);
        let narrow: Vec<i32> = conv2d_packed(&xi, &packed, &sh, |v| v);
        assert_eq!(narrow.iter().map(|&v| v as f32).collect::<Vec<_>>(), fast);
    }

    /// The textbook definition, one output at a time.
    fn naive(x: &[f32], w: &[f32], s: &ConvShape) -> Vec<f32> {
        let c = s.conv;
        let (h, wd) = s.in_hw;
        let (oh, ow) = s.out_hw;
        let cin_g = (c.in_channels / c.groups) as usize;
        let cout_g = (c.out_channels / c.groups) as usize;
        let k = c.kernel.0 as usize;
        let mut out = vec![0f32; c.out_channels as usize * oh * ow];
        for o in 0..c.out_channels as usize {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0f32;
                    for ci in 0..cin_g {
                        let cin = (o / cout_g) * cin_g + ci;
                        for ky in 0..k {
                            for kx in 0..k {
                                let iy = (oy * c.stride.0 as usize + ky * c.dilation.0 as usize)
                                    as isize
                                    - c.padding.0 as isize;
                                let ix = (ox * c.stride.1 as usize + kx * c.dilation.1 as usize)
                                    as isize
                                    - c.padding.1 as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                acc += x[(cin * h + iy as usize) * wd + ix as usize]
                                    * w[((o * cin_g + ci) * k + ky) * k + kx];
                            }
                        }
                    }
                    out[(o * oh + oy) * ow + ox] = acc;
                }
            }
        }
        out
    }

    #[test]
    fn conv_equals_the_definition() {
        // Integers in floats: every sum is exact, so the orders may differ.
        for &(cin, cout, k, s, p, g, h) in &[
            (3u64, 4u64, 3u64, 1u64, 1u64, 1u64, 5usize),
            (4, 4, 3, 2, 1, 2, 7),
            (4, 4, 3, 2, 0, 4, 6),
            (2, 3, 1, 2, 0, 1, 5),
        ] {
            let c = conv(cin, cout, k, s, p, g);
            let o = (h + 2 * p as usize - k as usize) / s as usize + 1;
            let sh = ConvShape {
                conv: c,
                in_hw: (h, h),
                out_hw: (o, o),
            };
            let x: Vec<f32> = (0..cin as usize * h * h)
                .map(|i| ((i * 7) % 5) as f32 - 2.0)
                .collect();
            let w: Vec<f32> = (0..(cout * cin / g * k * k) as usize)
                .map(|i| ((i * 3) % 7) as f32 - 3.0)
                .collect();
            let fast = conv2d(&x, &w, &sh, |v| v, |v| v);
            assert_eq!(fast, naive(&x, &w, &sh), "{c:?} on {h}x{h}");
            let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
            let wi: Vec<i32> = w.iter().map(|&v| v as i32).collect();
            let int: Vec<i64> = conv2d(&xi, &wi, &sh, |v| v as i64, |v| v as i64);
            assert_eq!(int.iter().map(|&v| v as f32).collect::<Vec<_>>(), fast);
        }
    }

    #[test]
    fn register_tiles_cover_every_block_and_edge() {
        // Output channels over one block of 16 and not a multiple of it, groups of 5 (small
        // blocks), rows not a multiple of the 4-pixel tile, strides, dilation, no padding.
        check(conv(3, 20, 3, 1, 1, 1), 7);
        check(conv(8, 40, 3, 2, 1, 1), 9);
        check(conv(10, 10, 3, 1, 1, 2), 6);
        check(conv(6, 6, 3, 1, 1, 6), 5);
        check(conv(16, 32, 1, 2, 0, 1), 8);
        let mut dilated = conv(4, 17, 3, 1, 2, 1);
        dilated.dilation = (2, 2);
        check(dilated, 9);
        check(conv(5, 33, 3, 3, 0, 1), 11);
    }

    #[test]
    fn pools_follow_pytorch() {
        // 1x4x4, values 0..16; 3x3/2 max pool with padding 1 -> 2x2.
        let x: Vec<f32> = (0..16).map(|v| v as f32).collect();
        let p = Pool {
            kernel: (3, 3),
            stride: (2, 2),
            padding: (1, 1),
        };
        assert_eq!(
            pool(&x, 1, (4, 4), (2, 2), &p, true),
            vec![5.0, 7.0, 13.0, 15.0]
        );
        // Average with count_include_pad: the top-left window holds 0,1,4,5 over 9 cells.
        let avg = pool(&x, 1, (4, 4), (2, 2), &p, false);
        assert!((avg[0] - 10.0 / 9.0).abs() < 1e-6, "{avg:?}");
        // Kernel 1, stride 2: the option-A subsampling x[::2, ::2].
        let sub = Pool {
            kernel: (1, 1),
            stride: (2, 2),
            padding: (0, 0),
        };
        assert_eq!(
            pool(&x, 1, (4, 4), (2, 2), &sub, true),
            vec![0.0, 2.0, 8.0, 10.0]
        );
        assert_eq!(global_avg(&x, 2), vec![3.5, 11.5]);
        assert_eq!(pad_channels(&[1, 2], 2, 6), vec![0, 0, 1, 2, 0, 0]);
    }

    #[test]
    fn broadcasting_repeats_size_one_axes_from_the_last_axis() {
        // [3, 1] + [2] -> [3, 2]; [1, 3, 1] * [2, 1, 2] -> [2, 3, 2].
        let y = broadcast(
            &[1., 2., 3.],
            &[3, 1],
            &[10., 20.],
            &[2],
            &[3, 2],
            |a, b| a + b,
        );
        assert_eq!(y, [11., 21., 12., 22., 13., 23.]);
        let y = broadcast(
            &[1., 2., 3.],
            &[1, 3, 1],
            &[1., 10., 100., 1000.],
            &[2, 1, 2],
            &[2, 3, 2],
            |a, b| a * b,
        );
        assert_eq!(
            y,
            [1., 10., 2., 20., 3., 30., 100., 1000., 200., 2000., 300., 3000.]
        );
    }
}
