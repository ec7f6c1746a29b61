//! The reference engine's own view of zero activations: which entries of a weight layer's
//! GEMM input are zero, built from the input tensor's flags by walking each output pixel's
//! receptive field (the fast engine's `activations.rs` computes the same independently).

use crate::workload::{Layer, Network, Op};

/// A layer's GEMM input (non-zero flags, or activation magnitudes), per conv group, row
/// (output pixel) and reduction index (input channel, kernel row, kernel column).
pub struct GemmInput<T = bool> {
    rows: usize,
    k: usize,
    flags: Vec<T>,
}

impl<T: Copy> GemmInput<T> {
    /// Entry (row, kk) of group g.
    pub fn get(&self, g: usize, row: usize, kk: usize) -> T {
        self.flags[(g * self.rows + row) * self.k + kk]
    }
}

/// The GEMM input of `layer` from `x`, its input tensor's entries (`[batch][C][H][W]`, or the
/// flattened input of a linear / matmul layer); padding reads `T::default()` (false, 0).
pub fn gemm_input<T: Copy + Default>(
    net: &Network,
    layer: &Layer,
    x: &[T],
) -> Option<GemmInput<T>> {
    let g = layer.gemm(net)?;
    let (rows, k, groups) = (g.m as usize, g.k as usize, g.groups as usize);
    let mut flags = Vec::with_capacity(groups * rows * k);
    match layer.op {
        Op::Conv2d(cv) => {
            let input = &net.tensor(*layer.inputs.first()?).shape;
            let out = &net.tensor(layer.output).shape;
            let (c, h, w) = (input[0] as i64, input[1] as i64, input[2] as i64);
            let (oh, ow) = (out[1] as i64, out[2] as i64);
            let per_group = c / groups as i64;
            let (kh, kw) = (cv.kernel.0 as i64, cv.kernel.1 as i64);
            let (sy, sx) = (cv.stride.0 as i64, cv.stride.1 as i64);
            let (py, px) = (cv.padding.0 as i64, cv.padding.1 as i64);
            let (dy, dx) = (cv.dilation.0 as i64, cv.dilation.1 as i64);
            let batch = net.batch as i64;
            for grp in 0..groups as i64 {
                for b in 0..batch {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            for ci in grp * per_group..(grp + 1) * per_group {
                                for ky in 0..kh {
                                    for kx in 0..kw {
                                        let (iy, ix) =
                                            (oy * sy + ky * dy - py, ox * sx + kx * dx - px);
                                        let inside = (0..h).contains(&iy) && (0..w).contains(&ix);
                                        flags.push(if inside {
                                            x[(((b * c + ci) * h + iy) * w + ix) as usize]
                                        } else {
                                            T::default()
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Linear: a row per sample over the flattened input; matmul: the [M, K] input.
        _ => flags.extend_from_slice(x.get(..rows * k)?),
    }
    Some(GemmInput { rows, k, flags })
}
