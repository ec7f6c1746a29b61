//! Fold-level timing of a systolic array (dense PEs): how a GEMM maps onto R x C PEs.
//!
//! SCALE-Sim's rules (see `../shared/reference/README.md`): the dataflow decides which GEMM
//! dimensions are spread over rows (Sr) and columns (Sc) and which streams in time (T).

use crate::arch::Dataflow;
use crate::workload::Gemm;

/// Spatial/temporal assignment of a GEMM's dimensions for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// Dimension spread over array rows.
    pub sr: u64,
    /// Dimension spread over array columns.
    pub sc: u64,
    /// Dimension streamed in time (steps per fold).
    pub t: u64,
}

pub fn mapping(dataflow: Dataflow, g: &Gemm) -> Mapping {
    match dataflow {
        Dataflow::Os => Mapping {
            sr: g.m,
            sc: g.n,
            t: g.k,
        },
        Dataflow::Ws => Mapping {
            sr: g.k,
            sc: g.n,
            t: g.m,
        },
        Dataflow::Is => Mapping {
            sr: g.k,
            sc: g.m,
            t: g.n,
        },
    }
}

/// Cycles one fold takes when each of its `t` steps costs one cycle: fill, stream, drain.
///
/// ws/is: R cycles to load the stationary operand, then `t` skewed steps and R + C - 2
/// cycles of skew/drain: 2R + C + T - 2. os: T + R + C - 2 (operands enter skewed from two
/// edges; results leave after the last wavefront).
pub fn fold_cycles(dataflow: Dataflow, rows: u64, cols: u64, t: u64) -> u64 {
    match dataflow {
        Dataflow::Ws | Dataflow::Is => 2 * rows + cols + t - 2,
        Dataflow::Os => t + rows + cols - 2,
    }
}

/// Fold count and dense compute timing of a (grouped) GEMM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FoldTiming {
    pub map: Mapping,
    /// Folds along rows (per group).
    pub row_folds: u64,
    /// Folds along columns (per group).
    pub col_folds: u64,
    /// Rows of M a weight-stationary fold streams, and how many such M-tiles there are
    /// (`m_tile = M`, one tile, without M-tiling).
    pub m_tile: u64,
    pub m_tiles: u64,
    /// All folds (weight loads), over all groups and M-tiles.
    pub folds: u64,
    /// Cycles of one fold.
    pub fold_cycles: u64,
    /// Mean over folds of used PEs / all PEs.
    pub mapping_efficiency: f64,
}

pub fn fold_timing(dataflow: Dataflow, rows: u64, cols: u64, g: &Gemm) -> FoldTiming {
    let map = mapping(dataflow, g);
    let row_folds = map.sr.div_ceil(rows);
    let col_folds = map.sc.div_ceil(cols);
    let folds = g.groups * row_folds * col_folds;
    let t = map.t;
    // Sum over folds of used rows x used cols is Sr x Sc (per group).
    let mapping_efficiency =
        (map.sr * map.sc) as f64 / (row_folds * col_folds) as f64 / (rows * cols) as f64;
    FoldTiming {
        map,
        row_folds,
        col_folds,
        m_tile: if dataflow == Dataflow::Ws { g.m } else { 1 },
        m_tiles: 1,
        folds,
        fold_cycles: fold_cycles(dataflow, rows, cols, t),
        mapping_efficiency,
    }
}

/// SCALE-Sim's `Compute Util %` (as a fraction), which divides by a fold length one
/// column-skew longer than the real one for ws/is (2R + 2C + T - 3): reproduced for the
/// compatibility report only.
pub fn scalesim_compute_util(dataflow: Dataflow, rows: u64, cols: u64, ft: &FoldTiming) -> f64 {
    let t = ft.map.t;
    let l_prime = match dataflow {
        Dataflow::Os => t + rows + cols - 2,
        Dataflow::Ws | Dataflow::Is => 2 * rows + 2 * cols + t - 3,
    };
    ft.mapping_efficiency * t as f64 / l_prime as f64
}
