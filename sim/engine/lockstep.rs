//! Streaming time of one fold under lock-step synchronization, in closed form.
//!
//! In a weight-stationary fold, PE (r, c) performs steps m = 0..T, each costing `s[r][c]`
//! cycles (constant over m: its weights do not change). Step m of PE (r, c) needs step m of
//! its left neighbour (the activation) and of the PE above (the partial sum). How the PEs
//! synchronize decides the fold's streaming time:
//!
//! - `array`: global wavefront steps g = 0..T+R+C-2; PE (r, c) is active in step g when
//!   0 <= g - r - c < T, and a step costs the most expensive active PE.
//! - `row`: row r has its own steps j = 0..T+C-1 (PE (r, c) active when 0 <= j - c < T);
//!   step j of row r waits for step j of row r-1.
//! - `column`: the same with rows and columns exchanged.
//! - `pe` / `lane`: every PE steps on its own, waiting only for its inputs.
//! - `brick`: the array's wavefront steps as `array`, each slot of a step synchronized: a
//!   step costs, summed over slots, the most expensive active PE's slot (at least 1 cycle)
//!   ([`brick_cycles`]).
//!
//! `reference.rs` obtains the same numbers by simulating every cycle; the property tests
//! hold the two equal.

use crate::arch::SyncScope;

/// Per-PE step costs of a fold, row-major `rows x cols`, every entry >= 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCosts {
    pub rows: usize,
    pub cols: usize,
    pub s: Vec<u64>,
}

impl StepCosts {
    pub fn at(&self, r: usize, c: usize) -> u64 {
        self.s[r * self.cols + c]
    }

    fn transposed(&self) -> StepCosts {
        let mut s = vec![0; self.s.len()];
        for r in 0..self.rows {
            for c in 0..self.cols {
                s[c * self.rows + r] = self.at(r, c);
            }
        }
        StepCosts {
            rows: self.cols,
            cols: self.rows,
            s,
        }
    }
}

/// Cycles from the first step's start to the last step's end of a fold with `t` steps.
pub fn stream_cycles(scope: SyncScope, costs: &StepCosts, t: u64) -> u64 {
    if t == 0 {
        return 0;
    }
    match scope {
        // Brick costs are per slot (see `brick_cycles`); with one slot per PE they are these.
        SyncScope::Array | SyncScope::Brick => array_cycles(costs, t),
        SyncScope::Row => band_cycles(costs, t),
        SyncScope::Column => band_cycles(&costs.transposed(), t),
        SyncScope::Pe | SyncScope::Lane => pe_cycles(costs, t),
    }
}

/// Per-PE, per-slot costs of a fold for brick lock-step: row-major `rows x cols`, `slots`
/// entries each (0 past a PE's occupied slots and for PEs holding nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrickCosts {
    pub rows: usize,
    pub cols: usize,
    pub slots: usize,
    pub s: Vec<u64>,
}

/// Brick lock-step: wavefront steps g = 0..T+R+C-2 as `array`; step g costs
/// max(1, sum over slots of the most expensive slot among the active anti-diagonals). The
/// steps where every diagonal is active cost the same and are added at once; the others
/// (fill and drain, at most 2 (R + C) of them) one by one.
pub fn brick_cycles(costs: &BrickCosts, t: u64) -> u64 {
    if t == 0 {
        return 0;
    }
    let (rows, cols, slots) = (costs.rows, costs.cols, costs.slots);
    let diags = rows + cols - 1;
    // d[diag * slots + s]: the most expensive slot s on the diagonal.
    let mut d = vec![0u64; diags * slots];
    for r in 0..rows {
        for c in 0..cols {
            for s in 0..slots {
                let v = costs.s[(r * cols + c) * slots + s];
                let e = &mut d[(r + c) * slots + s];
                *e = (*e).max(v);
            }
        }
    }
    let window = |lo: usize, hi: usize| -> u64 {
        let sum: u64 = (0..slots)
            .map(|s| (lo..=hi).map(|i| d[i * slots + s]).max().unwrap_or(0))
            .sum();
        sum.max(1)
    };
    let n = diags as u64;
    let steps = n + t - 1;
    let mut total = 0u64;
    let mut g = 0u64;
    while g < steps {
        let lo = g.saturating_sub(t - 1) as usize;
        let hi = g.min(n - 1) as usize;
        if lo == 0 && hi == diags - 1 {
            // Every diagonal active until g = t - 1.
            total += window(0, diags - 1) * (t - g);
            g = t;
            continue;
        }
        total += window(lo, hi);
        g += 1;
    }
    total
}

/// Sum over wavefront steps of the most expensive active anti-diagonal.
fn array_cycles(costs: &StepCosts, t: u64) -> u64 {
    let (rows, cols) = (costs.rows, costs.cols);
    let diags = rows + cols - 1;
    let mut d = vec![0u64; diags];
    for r in 0..rows {
        for c in 0..cols {
            d[r + c] = d[r + c].max(costs.at(r, c));
        }
    }
    // Step g covers diagonals [max(0, g - t + 1), min(g, diags - 1)].
    diagonal_cycles(&d, t)
}

/// Array lock-step from the most expensive PE of each anti-diagonal (`d[r + c]`): the sum
/// over wavefront steps of the most expensive active diagonal. With at least as many steps
/// as diagonals (the usual case) the fill steps see prefix maxima, the middle ones the
/// global maximum and the drain steps suffix maxima: O(diagonals), no allocation.
pub fn diagonal_cycles(d: &[u64], t: u64) -> u64 {
    let n = d.len();
    if t == 0 || n == 0 {
        return 0;
    }
    if t == 1 {
        // Each step holds one diagonal.
        return d.iter().sum();
    }
    if t < n as u64 {
        return window_max_sum(d, t);
    }
    let mut sum = 0u64;
    let mut prefix = 0u64;
    for &x in &d[..n - 1] {
        prefix = prefix.max(x);
        sum += prefix;
    }
    let global = prefix.max(d[n - 1]);
    sum += global * (t - n as u64 + 1);
    let mut suffix = 0u64;
    for &x in d[1..].iter().rev() {
        suffix = suffix.max(x);
        sum += suffix;
    }
    sum
}

/// Sum over g = 0 .. len(d) + t - 1 of max(d[lo..=hi]) with lo = max(0, g - t + 1),
/// hi = min(g, len - 1): a window of width t sliding over d.
fn window_max_sum(d: &[u64], t: u64) -> u64 {
    let n = d.len() as u64;
    let steps = n + t - 1;
    let mut deque: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let global = d.iter().copied().max().unwrap_or(0);
    let mut sum = 0u64;
    let mut next = 0usize; // next index of d to enter the window
    let mut g = 0u64;
    while g < steps {
        let lo = g.saturating_sub(t - 1) as usize;
        let hi = g.min(n - 1) as usize;
        if lo == 0 && hi == n as usize - 1 {
            // The window holds every diagonal until g = t - 1: add those steps at once.
            let until = t - 1; // last g with lo == 0
            while next <= hi {
                next += 1;
            }
            deque.clear();
            sum += global * (until - g + 1);
            g = until + 1;
            // Rebuild the deque for the window [1, n-1] that follows.
            for i in 1..n as usize {
                while deque.back().is_some_and(|&b| d[b] <= d[i]) {
                    deque.pop_back();
                }
                deque.push_back(i);
            }
            continue;
        }
        while next <= hi {
            while deque.back().is_some_and(|&b| d[b] <= d[next]) {
                deque.pop_back();
            }
            deque.push_back(next);
            next += 1;
        }
        while deque.front().is_some_and(|&f| f < lo) {
            deque.pop_front();
        }
        sum += d[*deque.front().expect("window is never empty")];
        g += 1;
    }
    sum
}

/// Row lock-step: longest path through (row, local step) with right/down moves, where a
/// node weighs the row's most expensive active PE. The middle steps, where every PE of
/// every row is active, are collapsed in closed form.
#[allow(clippy::needless_range_loop)] // rows index several parallel vectors
fn band_cycles(costs: &StepCosts, t: u64) -> u64 {
    let (rows, cols) = (costs.rows, costs.cols);
    let steps = t + cols as u64 - 1; // local steps per row
                                     // Active PEs of a row at local step j: c in [max(0, j - t + 1), min(j, cols - 1)].
    let row_max: Vec<u64> = (0..rows)
        .map(|r| (0..cols).map(|c| costs.at(r, c)).max().unwrap())
        .collect();
    let weight = |r: usize, j: u64| -> u64 {
        let lo = j.saturating_sub(t - 1) as usize;
        let hi = j.min(cols as u64 - 1) as usize;
        if lo == 0 && hi == cols - 1 {
            row_max[r]
        } else {
            (lo..=hi).map(|c| costs.at(r, c)).max().unwrap()
        }
    };
    const NONE: i128 = i128::MIN / 4;
    // f[r] = longest path ending at (r, j) for the current j.
    let mut f = vec![NONE; rows];
    let advance = |f: &mut Vec<i128>, j: u64| {
        let mut above = NONE;
        for r in 0..rows {
            let left = f[r];
            let start = if r == 0 && j == 0 { 0 } else { NONE };
            let best = left.max(above).max(start);
            f[r] = if best == NONE {
                NONE
            } else {
                best + weight(r, j) as i128
            };
            above = f[r];
        }
    };
    // Plateau: steps cols-1 ..= t-1 have every PE active (exists when t >= cols).
    let plateau = if t >= cols as u64 {
        Some((cols as u64 - 1, t - 1))
    } else {
        None
    };
    let mut j = 0;
    while j < steps {
        if let Some((p0, p1)) = plateau {
            if j == p0 {
                let len = (p1 - p0 + 1) as i128;
                // Enter at row r' from step p0 - 1 (or start at row 0 when p0 == 0) and end at
                // row r: every row of r'..=r gets one node, and the len - 1 nodes left over go
                // to the costliest of those rows.
                let entry: Vec<i128> = if p0 == 0 {
                    (0..rows).map(|r| if r == 0 { 0 } else { NONE }).collect()
                } else {
                    f.clone()
                };
                let mut next = vec![NONE; rows];
                for r_end in 0..rows {
                    let mut best = NONE;
                    let mut max_s = 0u64;
                    let mut rows_sum: i128 = 0;
                    for r_start in (0..=r_end).rev() {
                        max_s = max_s.max(row_max[r_start]);
                        rows_sum += row_max[r_start] as i128;
                        if entry[r_start] != NONE {
                            best = best.max(entry[r_start] + (len - 1) * max_s as i128 + rows_sum);
                        }
                    }
                    next[r_end] = best;
                }
                f = next;
                j = p1 + 1;
                continue;
            }
        }
        advance(&mut f, j);
        j += 1;
    }
    f[rows - 1] as u64
}

/// Independent PEs: the longest node-weighted path through (r, c, m) with unit moves; with
/// costs constant in m, it spends all T - 1 extra steps at the costliest PE on its (r, c)
/// path, so it is the best over PEs v of (heaviest path through v) + (T - 1) * s(v).
fn pe_cycles(costs: &StepCosts, t: u64) -> u64 {
    let (rows, cols) = (costs.rows, costs.cols);
    let mut lin = vec![0u64; rows * cols];
    let mut lout = vec![0u64; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            let up = if r > 0 { lin[(r - 1) * cols + c] } else { 0 };
            let left = if c > 0 { lin[r * cols + c - 1] } else { 0 };
            lin[r * cols + c] = up.max(left) + costs.at(r, c);
        }
    }
    for r in (0..rows).rev() {
        for c in (0..cols).rev() {
            let down = if r + 1 < rows {
                lout[(r + 1) * cols + c]
            } else {
                0
            };
            let right = if c + 1 < cols {
                lout[r * cols + c + 1]
            } else {
                0
            };
            lout[r * cols + c] = down.max(right) + costs.at(r, c);
        }
    }
    (0..rows * cols)
        .map(|i| lin[i] + lout[i] - costs.s[i] + (t - 1) * costs.s[i])
        .max()
        .unwrap()
}

/// Streaming time when a PE's step cost also depends on the step (zero activations are
/// skipped, so the work of PE (r, c) in step m is `cost(r, c, m)`, at least 1). The same
/// rules as [`stream_cycles`], evaluated step by step: O(rows x cols x t).
pub fn stream_cycles_varying(
    scope: SyncScope,
    rows: usize,
    cols: usize,
    t: u64,
    cost: &dyn Fn(usize, usize, u64) -> u64,
) -> u64 {
    if t == 0 {
        return 0;
    }
    match scope {
        // Validation keeps brick lock-step away from zero-activation skipping.
        // Step g costs the most expensive PE (r, c) at m = g - r - c: each PE's steps are
        // laid onto the wavefront steps they fall in.
        SyncScope::Array | SyncScope::Brick => {
            let mut step = vec![0u64; t as usize + rows + cols - 2];
            for r in 0..rows {
                for c in 0..cols {
                    for (m, s) in step[r + c..r + c + t as usize].iter_mut().enumerate() {
                        *s = (*s).max(cost(r, c, m as u64));
                    }
                }
            }
            step.iter().sum()
        }
        SyncScope::Row => band_varying(rows, cols, t, &|r, c, m| cost(r, c, m)),
        SyncScope::Column => band_varying(cols, rows, t, &|c, r, m| cost(r, c, m)),
        SyncScope::Pe | SyncScope::Lane => {
            // F(r, c, m) = max(F(r, c-1, m), F(r-1, c, m), F(r, c, m-1)) + cost, in place over m.
            let mut f = vec![0u64; rows * cols];
            for m in 0..t {
                for r in 0..rows {
                    for c in 0..cols {
                        let left = if c > 0 { f[r * cols + c - 1] } else { 0 };
                        let up = if r > 0 { f[(r - 1) * cols + c] } else { 0 };
                        let own = f[r * cols + c];
                        f[r * cols + c] = own.max(left).max(up) + cost(r, c, m);
                    }
                }
            }
            f[rows * cols - 1]
        }
    }
}

/// Domains (rows, or columns via the swapped closure) with their own steps j; member i of a
/// domain works on m = j - i; step j of domain d waits for step j of domain d - 1.
fn band_varying(
    domains: usize,
    members: usize,
    t: u64,
    cost: &dyn Fn(usize, usize, u64) -> u64,
) -> u64 {
    let mut f = vec![0u64; domains];
    for j in 0..t + members as u64 - 1 {
        let mut above = 0;
        for (d, fd) in f.iter_mut().enumerate() {
            let lo = j.saturating_sub(t - 1) as usize;
            let hi = j.min(members as u64 - 1) as usize;
            let w = (lo..=hi)
                .map(|i| cost(d, i, j - i as u64))
                .max()
                .unwrap_or(0);
            *fd = (*fd).max(above) + w;
            above = *fd;
        }
    }
    f[domains - 1]
}

/// Streaming time of a fold whose PEs' step costs depend on the row and the step alone: PE
/// (r, c) costs `a[r * t + m]` in step m when c < `cols_active` (every active column holds a
/// filter and the cost is the same whichever: zero activations skipped without zero weights,
/// or activation magnitudes), and 1 beyond (columns that hold nothing); every entry >= 1.
/// Equal to [`stream_cycles_varying`] on those costs, in O(rows x (t + cols)) instead of
/// O(rows x cols x t). With ca = `cols_active`:
///
/// - `array`: row r's PEs active in wavefront step g are at steps m in [g - r - ca + 1,
///   g - r]: a sliding maximum of width ca over the row's costs, then the maximum over rows;
///   the last cols - ca steps hold only empty columns and cost 1.
/// - `row`: the same sliding maxima are the rows' own step weights (1 once only empty
///   columns are active).
/// - `column`: every active column's step j weighs `D[j]`, the most expensive `a[r][j - r]`; a
///   longest path through (column, step) takes every step once and its ca - 1 moves between
///   active columns at the heaviest step: sum D + (ca - 1) max D, plus 1 per empty column.
/// - `pe` / `lane`: every node costs at least 1 and every path through (r, c, m) has the
///   same number of nodes, so a longest path stays in the active columns until the last
///   (r, m) and its ca - 1 column moves repeat its heaviest (r, m): the best over v of the
///   heaviest 2-D path through v plus (ca - 1) a(v), plus cols - ca.
pub fn stream_cycles_rows(
    scope: SyncScope,
    rows: usize,
    cols: usize,
    cols_active: usize,
    t: u64,
    a: &[u32],
) -> u64 {
    if t == 0 {
        return 0;
    }
    let (tn, ca) = (t as usize, cols_active);
    assert!((1..=cols).contains(&ca) && a.len() == rows * tn);
    let at = |r: usize, m: usize| a[r * tn + m] as u64;
    let tail = (cols - ca) as u64;
    match scope {
        SyncScope::Array | SyncScope::Brick => {
            let mut step = vec![0u64; tn + rows + ca - 2];
            let mut win = Vec::with_capacity(tn + ca - 1);
            for r in 0..rows {
                window_max(&a[r * tn..(r + 1) * tn], ca, &mut win);
                for (s, &v) in step[r..r + win.len()].iter_mut().zip(&win) {
                    *s = (*s).max(v);
                }
            }
            step.iter().sum::<u64>() + tail
        }
        SyncScope::Row => {
            let span = tn + ca - 1;
            let mut wins = Vec::with_capacity(rows * span);
            let mut win = Vec::with_capacity(span);
            for r in 0..rows {
                window_max(&a[r * tn..(r + 1) * tn], ca, &mut win);
                wins.extend_from_slice(&win);
            }
            let mut f = vec![0u64; rows];
            for j in 0..tn + cols - 1 {
                let mut above = 0;
                for (r, fr) in f.iter_mut().enumerate() {
                    let w = if j < span { wins[r * span + j] } else { 1 };
                    *fr = (*fr).max(above) + w;
                    above = *fr;
                }
            }
            f[rows - 1]
        }
        SyncScope::Column => {
            let (mut sum, mut max) = (0u64, 0u64);
            for j in 0..tn + rows - 1 {
                let (lo, hi) = (j.saturating_sub(tn - 1), j.min(rows - 1));
                let d = (lo..=hi).map(|r| at(r, j - r)).max().unwrap_or(0);
                sum += d;
                max = max.max(d);
            }
            sum + (ca as u64 - 1) * max + tail
        }
        SyncScope::Pe | SyncScope::Lane => {
            // Heaviest paths into (r, m) from (0, 0), and out of it to (rows - 1, t - 1).
            let mut lin = vec![0u64; rows * tn];
            for r in 0..rows {
                for m in 0..tn {
                    let up = if r > 0 { lin[(r - 1) * tn + m] } else { 0 };
                    let left = if m > 0 { lin[r * tn + m - 1] } else { 0 };
                    lin[r * tn + m] = up.max(left) + at(r, m);
                }
            }
            let mut lout = vec![0u64; tn];
            let mut best = 0u64;
            for r in (0..rows).rev() {
                for m in (0..tn).rev() {
                    let right = if m + 1 < tn { lout[m + 1] } else { 0 };
                    let v = at(r, m);
                    lout[m] = lout[m].max(right) + v;
                    best = best.max(lin[r * tn + m] + lout[m] - v + (ca as u64 - 1) * v);
                }
            }
            best + tail
        }
    }
}

/// `out[j]` = max of `x[max(0, j - w + 1) ..= min(j, len - 1)]` for j in 0 .. len + w - 1: a
/// window of width `w` sliding over `x` and off both ends.
fn window_max(x: &[u32], w: usize, out: &mut Vec<u64>) {
    out.clear();
    let mut deque = std::collections::VecDeque::with_capacity(w.min(x.len()) + 1);
    for j in 0..x.len() + w - 1 {
        if j < x.len() {
            while deque.back().is_some_and(|&b: &usize| x[b] <= x[j]) {
                deque.pop_back();
            }
            deque.push_back(j);
        }
        while deque.front().is_some_and(|&f| f + w <= j) {
            deque.pop_front();
        }
        out.push(x[*deque.front().expect("the window holds an index")] as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(rows: usize, cols: usize, v: u64) -> StepCosts {
        StepCosts {
            rows,
            cols,
            s: vec![v; rows * cols],
        }
    }

    #[test]
    fn unit_costs_give_the_dense_wavefront_in_every_scope() {
        for scope in [
            SyncScope::Array,
            SyncScope::Row,
            SyncScope::Column,
            SyncScope::Pe,
        ] {
            for (r, c, t) in [(1, 1, 1), (2, 3, 5), (4, 4, 2), (3, 2, 10), (16, 16, 100)] {
                assert_eq!(
                    stream_cycles(scope, &uniform(r, c, 1), t),
                    t + r as u64 + c as u64 - 2,
                    "{scope:?} {r}x{c} t={t}"
                );
            }
        }
    }

    /// A small seeded generator (a 64-bit LCG's high bits) for the random cases.
    fn lcg(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        }
    }

    #[test]
    fn step_by_step_equals_closed_form_for_constant_costs() {
        // Costs constant over m: the step-by-step evaluation must equal the closed forms.
        let mut next = lcg(12345u64);
        for _ in 0..300 {
            let (rows, cols) = (1 + next() as usize % 5, 1 + next() as usize % 5);
            let t = 1 + next() % 12;
            let s: Vec<u64> = (0..rows * cols).map(|_| 1 + next() % 4).collect();
            let costs = StepCosts {
                rows,
                cols,
                s: s.clone(),
            };
            for scope in [
                SyncScope::Array,
                SyncScope::Row,
                SyncScope::Column,
                SyncScope::Pe,
            ] {
                let varying =
                    stream_cycles_varying(scope, rows, cols, t, &|r, c, _| s[r * cols + c]);
                assert_eq!(
                    varying,
                    stream_cycles(scope, &costs, t),
                    "{scope:?} {rows}x{cols} t={t} {s:?}"
                );
            }
        }
    }

    #[test]
    fn diagonal_cycles_equal_the_sliding_window() {
        let mut next = lcg(99u64);
        for _ in 0..2000 {
            let n = 1 + next() as usize % 12;
            let t = 1 + next() % 20;
            let d: Vec<u64> = (0..n).map(|_| 1 + next() % 9).collect();
            assert_eq!(diagonal_cycles(&d, t), window_max_sum(&d, t), "{d:?} t={t}");
        }
    }

    #[test]
    fn one_slow_pe_by_hand() {
        // 2x2, PE (0,1) costs 3, others 1, T = 4.
        let s = StepCosts {
            rows: 2,
            cols: 2,
            s: vec![1, 3, 1, 1],
        };
        // array: diagonals d = [1, 3, 1]; steps g = 0..5 windows: [0], [0,1], [0..2], [0..2], [1..2], [2]
        // -> 1 + 3 + 3 + 3 + 3 + 1 = 14.
        assert_eq!(stream_cycles(SyncScope::Array, &s, 4), 14);
        // pe: best v = (0,1): path (0,0)->(0,1)->(1,1) = 1 + 3 + 1 = 5, plus 3 x 3 = 14.
        assert_eq!(stream_cycles(SyncScope::Pe, &s, 4), 14);
        // row: row 0 weights over j = 0..4: [1, 3, 3, 3, 3], row 1: [1, 1, 1, 1, 1]:
        // longest path = 1 + 3 + 3 + 3 + 3 + 1 = 14.
        assert_eq!(stream_cycles(SyncScope::Row, &s, 4), 14);
    }

    #[test]
    fn decoupled_pes_beat_array_lockstep_when_slow_pes_are_apart() {
        // Slow PEs on different diagonals and rows: (0,0) and (1,1) cost 2 on a 2x2, T = 3.
        let s = StepCosts {
            rows: 2,
            cols: 2,
            s: vec![2, 1, 1, 2],
        };
        // array: d = [2, 1, 2]; five steps g = 0..=4 with windows [0], [0,1], [0..2], [1,2],
        // [2]: every window holds a 2 -> 10.
        assert_eq!(stream_cycles(SyncScope::Array, &s, 3), 10);
        // pe: path (0,0),(0,1),(1,1) weighs 2 + 1 + 2 = 5, plus (3 - 1) x 2 at a slow PE = 9.
        assert_eq!(stream_cycles(SyncScope::Pe, &s, 3), 9);
    }

    /// The array scope's step-by-step form as it was: every wavefront step scans every PE.
    fn array_varying_by_steps(
        rows: usize,
        cols: usize,
        t: u64,
        cost: &dyn Fn(usize, usize, u64) -> u64,
    ) -> u64 {
        let mut sum = 0;
        for g in 0..t + (rows + cols) as u64 - 2 {
            let mut step = 0;
            for r in 0..rows {
                for c in 0..cols {
                    if let Some(m) = g.checked_sub((r + c) as u64).filter(|&m| m < t) {
                        step = step.max(cost(r, c, m));
                    }
                }
            }
            sum += step;
        }
        sum
    }

    proptest::proptest! {
        /// Costs that depend on the row and the step (1 in the columns past `cols_active`):
        /// the closed forms of `stream_cycles_rows` equal the step-by-step evaluation in every
        /// scope, and the array scope's per-PE form equals the per-step scan it replaced.
        #[test]
        fn row_costs_closed_forms_equal_step_by_step(
            rows in 1usize..7, cols in 1usize..7, ca_seed in 0usize..64, t in 1u64..20,
            seed in proptest::num::u64::ANY, spread in 1u64..9,
        ) {
            let ca = 1 + ca_seed % cols;
            let mut x = seed | 1;
            let a: Vec<u32> = (0..rows * t as usize)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (1 + x % spread) as u32
                })
                .collect();
            let cost = |r: usize, c: usize, m: u64| {
                if c < ca { a[r * t as usize + m as usize] as u64 } else { 1 }
            };
            for scope in [SyncScope::Array, SyncScope::Row, SyncScope::Column, SyncScope::Pe, SyncScope::Lane] {
                proptest::prop_assert_eq!(
                    stream_cycles_rows(scope, rows, cols, ca, t, &a),
                    stream_cycles_varying(scope, rows, cols, t, &cost),
                    "{:?} {}x{} ca={} t={} {:?}", scope, rows, cols, ca, t, a
                );
            }
            // Fully varying costs for the array scope's two forms.
            let full = |r: usize, c: usize, m: u64| 1 + (r as u64 * 7 + c as u64 * 3 + m * 5 + seed) % spread;
            proptest::prop_assert_eq!(
                stream_cycles_varying(SyncScope::Array, rows, cols, t, &full),
                array_varying_by_steps(rows, cols, t, &full)
            );
        }
    }
}
