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
}
impl Num for f32 {}
impl Num for i32 {}
impl Num for i64 {}

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
/// kw]`, out `[O, OH, OW]` in `T`. Zero padding. Computed channels-last: for each output
/// pixel, every input activation of its window is multiplied into all the output channels of
/// its group at once (a zero activation adds nothing and is skipped); rows of output pixels
/// run in parallel, each summed in a fixed order.
pub fn conv2d<X: Copy + Sync, W: Copy + Sync, T: Num>(
    x: &[X],
    w: &[W],
    s: &ConvShape,
    lift_x: impl Fn(X) -> T + Sync,
    lift_w: impl Fn(W) -> T + Sync,
) -> Vec<T> {
    let c = s.conv;
    let (h, wd) = s.in_hw;
    let (oh, ow) = s.out_hw;
    let groups = c.groups as usize;
    let cin = c.in_channels as usize;
    let cout = c.out_channels as usize;
    let cin_g = cin / groups;
    let cout_g = cout / groups;
    let (kh, kw) = (c.kernel.0 as usize, c.kernel.1 as usize);
    let (sh, sw) = (c.stride.0 as isize, c.stride.1 as isize);
    let (ph, pw) = (c.padding.0 as isize, c.padding.1 as isize);
    let (dh, dw) = (c.dilation.0 as isize, c.dilation.1 as isize);
    let zero = T::default();
    if oh * ow * cout == 0 {
        return vec![zero; cout * oh * ow];
    }
    // Weights as [group][ky][kx][ci][co], the input as [H][W][C].
    let mut wt = vec![zero; w.len()];
    for g in 0..groups {
        for co in 0..cout_g {
            for ci in 0..cin_g {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let src = (((g * cout_g + co) * cin_g + ci) * kh + ky) * kw + kx;
                        let dst = (((g * kh + ky) * kw + kx) * cin_g + ci) * cout_g + co;
                        wt[dst] = lift_w(w[src]);
                    }
                }
            }
        }
    }
    let mut xt = vec![zero; cin * h * wd];
    for ch in 0..cin {
        for i in 0..h * wd {
            xt[i * cin + ch] = lift_x(x[ch * h * wd + i]);
        }
    }
    let mut out_t = vec![zero; oh * ow * cout];
    out_t
        .par_chunks_mut(ow * cout)
        .enumerate()
        .for_each(|(oy, row)| {
            for ox in 0..ow {
                let acc = &mut row[ox * cout..(ox + 1) * cout];
                for ky in 0..kh {
                    let iy = oy as isize * sh + ky as isize * dh - ph;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for kx in 0..kw {
                        let ix = ox as isize * sw + kx as isize * dw - pw;
                        if ix < 0 || ix >= wd as isize {
                            continue;
                        }
                        let xp = &xt[(iy as usize * wd + ix as usize) * cin..][..cin];
                        for g in 0..groups {
                            let acc_g = &mut acc[g * cout_g..(g + 1) * cout_g];
                            let base = ((g * kh + ky) * kw + kx) * cin_g;
                            for ci in 0..cin_g {
                                let a = xp[g * cin_g + ci];
                                if a == zero {
                                    continue;
                                }
                                let wr = &wt[(base + ci) * cout_g..][..cout_g];
                                for (o, &wv) in acc_g.iter_mut().zip(wr) {
                                    *o += a * wv;
                                }
                            }
                        }
                    }
                }
            }
        });
    let mut out = vec![zero; cout * oh * ow];
    for i in 0..oh * ow {
        for o in 0..cout {
            out[o * oh * ow + i] = out_t[i * cout + o];
        }
    }
    out
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
                                let iy =
                                    (oy * c.stride.0 as usize + ky) as isize - c.padding.0 as isize;
                                let ix =
                                    (ox * c.stride.1 as usize + kx) as isize - c.padding.1 as isize;
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
}
