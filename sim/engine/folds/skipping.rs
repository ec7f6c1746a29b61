//! The fold loop when a PE's step cost changes from step to step: zero activations skipped
//! ([`fold_loop_skipping`]) or step costs from the activations' magnitudes
//! ([`fold_loop_values`]). The GEMM input is gathered tile by tile from the input tensor
//! (packed bits, or magnitudes), so the memory a layer takes is bounded by an M-tile of a
//! fold, never by `M x K x N`.
//!
//! Two evaluations, both exact:
//! - when a step's cost does not depend on the filter (no zero weights skipped; or a kind
//!   whose cost ignores code values), it is evaluated once per (chunk, GEMM row) and every
//!   column fold with the same number of active filters streams alike: the fold's time
//!   comes from [`lockstep::stream_cycles_rows`], and filters need no scheduling (all have
//!   the same work);
//! - otherwise per (chunk, filter, row), a first pass summing each filter's work for the
//!   schedule (when the architecture schedules), then fold by fold and tile by tile with
//!   [`lockstep::stream_cycles_varying`].

use crate::arch::Arch;
use crate::pe::PeStep;

use super::super::activations::{self, ActivationMask, ActivationValues};
use super::super::lockstep;
use super::super::systolic::FoldTiming;
use super::super::LayerPlan;
use super::{holder, schedule_filters, FoldSums, Tally};

/// Per-step cost and actions of a PE that skips zero activations: the pairs set in both `w`
/// and `a` remain (non-zero activation, and non-zero weight for kinds that skip zero weights)
/// of `held`; the skip network serves them.
fn skipping_step(arch: &Arch, plan: &LayerPlan, held: u64, w: &[u64], a: &[u64]) -> PeStep {
    let lanes = arch.pe.lanes as u64;
    let items = activations::common(w, a);
    let batches = match arch.pe.skip {
        crate::pe::SkipNetwork::Ideal => items.div_ceil(lanes),
        net if w.len() == 1 => net.cycles(lanes, arch.pe.weights_per_lane as u64, &[w[0] & a[0]]),
        net => {
            // At most 64 lanes x 64 slots: 64 words.
            let mut both = [0u64; 64];
            for ((b, x), y) in both.iter_mut().zip(w).zip(a) {
                *b = x & y;
            }
            net.cycles(lanes, arch.pe.weights_per_lane as u64, &both[..w.len()])
        }
    };
    plan.cost
        .skipping_step(batches, held, items)
        .expect("validation admits skip_zero_activations only on kinds that model it")
}

/// `fill(group, row, first chunk, out)`.
type Fill<'a, T> = dyn Fn(usize, usize, usize, &mut [T]) + 'a;
/// `step(group, chunk, filter, activations)`.
type Step<'a, T> = dyn Fn(usize, usize, usize, &[T]) -> PeStep + 'a;

/// How a layer's activations reach the fold loop: `fill(g, m, ch0, out)` writes GEMM row m
/// of group g for chunks `ch0 ..` into `out`, `stride` entries per chunk; `step(g, ch, f,
/// acts)` is the cost of the PE holding chunk `ch` of filter `f` on those entries of one row.
struct Activations<'a, T> {
    stride: usize,
    fill: &'a Fill<'a, T>,
    step: &'a Step<'a, T>,
    /// Whether the step depends on the filter (else filter 0 stands for all).
    per_filter: bool,
}

/// The fold loop when PEs skip zero activations: a PE's cost changes from step to step.
pub fn fold_loop_skipping(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    mask: &ActivationMask,
) -> FoldSums {
    skipping_with(arch, plan, ft, mask, STORED_COSTS)
}

fn skipping_with(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    mask: &ActivationMask,
    store_limit: usize,
) -> FoldSums {
    let (n, k, kpp) = (plan.n as usize, plan.k as usize, plan.k_per_pe as usize);
    let per_filter = plan.cost.skips_zero_weights() && plan.codes.is_some();
    // Weights that take part, per group: non-zero codes for kinds that skip them, every held
    // one else (then one row of flags stands for every filter).
    let wbits: Vec<activations::ChunkBits> = (0..plan.gemm.groups as usize)
        .map(|g| {
            activations::ChunkBits::pack(if per_filter { n } else { 1 }, k, kpp, |f, kk| {
                !per_filter
                    || plan
                        .codes
                        .is_none_or(|q| q.filter_codes(g * n + f)[kk] != 0)
            })
        })
        .collect();
    let held = |ch: usize| (k - ch * kpp).min(kpp) as u64;
    let fill = |g: usize, m: usize, ch0: usize, out: &mut [u64]| {
        mask.row_chunks(g, m, kpp, ch0, out);
    };
    let step = |g: usize, ch: usize, f: usize, a: &[u64]| {
        skipping_step(arch, plan, held(ch), wbits[g].get(f, ch), a)
    };
    let acts = Activations {
        stride: kpp.div_ceil(64),
        fill: &fill,
        step: &step,
        per_filter,
    };
    fold_loop_varying(arch, plan, ft, &acts, store_limit)
}

/// The fold loop of PEs serial in the activations' bits: each step's cost from the
/// magnitudes of the activations it pairs with the held weights.
pub fn fold_loop_values(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    values: &ActivationValues,
) -> FoldSums {
    values_with(arch, plan, ft, values, STORED_COSTS)
}

fn values_with(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    values: &ActivationValues,
    store_limit: usize,
) -> FoldSums {
    let (k, kpp) = (plan.k as usize, plan.k_per_pe as usize);
    let n = plan.n as usize;
    let fill = |g: usize, m: usize, ch0: usize, out: &mut [u16]| {
        let k0 = ch0 * kpp;
        let len = out.len().min(k - k0);
        out[len..].fill(0);
        values.row_into(g, m, k0, &mut out[..len]);
    };
    let step = |g: usize, ch: usize, f: usize, a: &[u16]| {
        let len = (k - ch * kpp).min(kpp);
        plan.activation_step(arch, ch as u64, g * n + f, &a[..len])
    };
    let acts = Activations {
        stride: kpp,
        fill: &fill,
        step: &step,
        per_filter: plan.cost.needs_codes(),
    };
    fold_loop_varying(arch, plan, ft, &acts, store_limit)
}

/// The M-tiles a fold streams: `(first row, rows)`.
fn m_tiles(ft: &FoldTiming, m_total: usize) -> impl Iterator<Item = (usize, usize)> {
    let tile = (ft.m_tile as usize).max(1);
    (0..m_total)
        .step_by(tile)
        .map(move |m0| (m0, tile.min(m_total - m0)))
}

/// Costs the per-filter loop keeps between its passes (4 bytes each): 16 MiB per layer in
/// flight; a larger layer evaluates its steps twice instead.
const STORED_COSTS: usize = 1 << 22;

fn fold_loop_varying<T: Copy + Default>(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    acts: &Activations<T>,
    store_limit: usize,
) -> FoldSums {
    if acts.per_filter {
        per_filter_loop(arch, plan, ft, acts, store_limit)
    } else {
        per_row_loop(arch, plan, ft, acts)
    }
}

/// Step costs that depend on (chunk, row) alone: each evaluated once, counted for every
/// filter; a row fold's tile streams alike in every column fold with as many filters.
fn per_row_loop<T: Copy + Default>(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    acts: &Activations<T>,
) -> FoldSums {
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let (n, chunks) = (plan.n as usize, plan.k_chunks as usize);
    let m_total = plan.t as usize;
    let mut tally = Tally::new(arch);
    // Column folds by their number of active filters: (filters, how many folds, one of them).
    let mut widths: Vec<(usize, u64, usize)> = Vec::new();
    for cf in 0..ft.col_folds as usize {
        let ca = (n - cf * cols).min(cols);
        match widths.iter_mut().find(|w| w.0 == ca) {
            Some(w) => w.1 += 1,
            None => widths.push((ca, 1, cf)),
        }
    }
    let mut row = vec![T::default(); rows * acts.stride];
    let mut a: Vec<u32> = Vec::new();
    for g in 0..plan.gemm.groups as usize {
        for rf in 0..ft.row_folds as usize {
            let ch0 = rf * rows;
            let held = chunks.saturating_sub(ch0).min(rows);
            let demands: Vec<_> = widths
                .iter()
                .map(|&(_, _, cf)| plan.fold_demand(arch, rf, cf))
                .collect();
            for (m0, tile) in m_tiles(ft, m_total) {
                // a[r * tile + m]: the cost of row r's PEs at step m of the tile (1 where the
                // row holds nothing).
                a.clear();
                a.resize(rows * tile, 1);
                let mut row_sum = 0u64;
                for m in 0..tile {
                    let row = &mut row[..held * acts.stride];
                    (acts.fill)(g, m0 + m, ch0, row);
                    for r in 0..held {
                        let st = (acts.step)(
                            g,
                            ch0 + r,
                            0,
                            &row[r * acts.stride..(r + 1) * acts.stride],
                        );
                        tally.sums.actions.add_step(&st, n as u64);
                        let c = st.cycles as u32;
                        a[r * tile + m] = c;
                        row_sum += c as u64;
                    }
                }
                for (&(ca, count, _), demand) in widths.iter().zip(&demands) {
                    let stream = lockstep::stream_cycles_rows(
                        arch.sync_scope,
                        rows,
                        cols,
                        ca,
                        tile as u64,
                        &a,
                    );
                    let active = (held * ca * tile) as u64;
                    tally.tiles(
                        count,
                        tile as u64,
                        stream,
                        (row_sum * ca as u64, active),
                        demand,
                    );
                }
            }
        }
    }
    tally.finish()
}

/// Step costs that depend on the filter too: each filter's work summed first (when filters
/// are scheduled), then each fold's tile PE by PE, from the costs the first pass kept when
/// a group's fit in `store_limit` entries, else evaluated again tile by tile.
fn per_filter_loop<T: Copy + Default>(
    arch: &Arch,
    plan: &LayerPlan,
    ft: &FoldTiming,
    acts: &Activations<T>,
    store_limit: usize,
) -> FoldSums {
    let (rows, cols) = (arch.rows as usize, arch.cols as usize);
    let (n, chunks) = (plan.n as usize, plan.k_chunks as usize);
    let m_total = plan.t as usize;
    let stride = acts.stride;
    let mut tally = Tally::new(arch);
    let mut row = vec![T::default(); chunks * stride];
    let mut stored: Vec<u32> = Vec::new();
    for g in 0..plan.gemm.groups as usize {
        // Actions are counted in the first pass when there is one, else fold by fold.
        let mut work = vec![0u64; n];
        // The first pass keeps the costs it finds when they fit in `store_limit` entries.
        let keep = arch.schedule && chunks * n * m_total <= store_limit;
        stored.clear();
        if keep {
            stored.resize(chunks * n * m_total, 0);
        }
        if arch.schedule {
            for m in 0..m_total {
                (acts.fill)(g, m, 0, &mut row);
                for ch in 0..chunks {
                    let a = &row[ch * stride..(ch + 1) * stride];
                    for (f, w) in work.iter_mut().enumerate() {
                        let st = (acts.step)(g, ch, f, a);
                        *w += st.cycles;
                        tally.sums.actions.add_step(&st, 1);
                        if keep {
                            stored[(ch * n + f) * m_total + m] = st.cycles as u32;
                        }
                    }
                }
            }
        }
        let order = schedule_filters(arch, &work);
        let mut tile_acts: Vec<T> = Vec::new();
        let mut cost: Vec<u32> = Vec::new();
        for rf in 0..ft.row_folds as usize {
            let ch0 = rf * rows;
            let held = chunks.saturating_sub(ch0).min(rows);
            for (m0, tile) in m_tiles(ft, m_total) {
                // The tile's activations of the row fold's chunks: [m][r][stride].
                tile_acts.clear();
                if !keep {
                    tile_acts.resize(tile * held * stride, T::default());
                    for (m, out) in tile_acts.chunks_mut(held * stride).enumerate() {
                        (acts.fill)(g, m0 + m, ch0, out);
                    }
                }
                for cf in 0..ft.col_folds as usize {
                    let pe = |r: usize, c: usize| holder(arch, plan, &order, (rf, cf), (r, c));
                    // cost[(r * cols + c) * tile + m], 1 where the PE holds nothing.
                    cost.clear();
                    cost.resize(rows * cols * tile, 1);
                    let (mut active_sum, mut active) = (0u64, 0u64);
                    for r in 0..rows {
                        for c in 0..cols {
                            let Some((ch, f)) = pe(r, c) else { continue };
                            active += tile as u64;
                            let at = (r * cols + c) * tile;
                            for m in 0..tile {
                                let c = if keep {
                                    stored[(ch * n + f) * m_total + m0 + m]
                                } else {
                                    let a = &tile_acts[(m * held + r) * stride..][..stride];
                                    let st = (acts.step)(g, ch, f, a);
                                    if !arch.schedule {
                                        tally.sums.actions.add_step(&st, 1);
                                    }
                                    st.cycles as u32
                                };
                                cost[at + m] = c;
                                active_sum += c as u64;
                            }
                        }
                    }
                    let stream = lockstep::stream_cycles_varying(
                        arch.sync_scope,
                        rows,
                        cols,
                        tile as u64,
                        &|r, c, m| cost[(r * cols + c) * tile + m as usize] as u64,
                    );
                    let demand = plan.fold_demand(arch, rf, cf);
                    tally.tiles(1, tile as u64, stream, (active_sum, active), &demand);
                }
            }
        }
    }
    tally.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fold_timing;
    use crate::workload::{parse_workload, Distribution, Gemm, Network};

    /// The step-by-step loop as it was before it streamed tiles: every (chunk, filter, row)
    /// cost stored, filters scheduled on their summed work, each fold's tile evaluated PE by
    /// PE. The oracle the tiled loops are held to.
    fn stored_loop(
        arch: &Arch,
        plan: &LayerPlan,
        ft: &FoldTiming,
        step: &dyn Fn(usize, usize, usize, usize) -> PeStep,
    ) -> FoldSums {
        let (rows, cols) = (arch.rows as usize, arch.cols as usize);
        let (n, chunks) = (plan.n as usize, plan.k_chunks as usize);
        let m_total = plan.t as usize;
        let mut tally = Tally::new(arch);
        for g in 0..plan.gemm.groups as usize {
            let mut cost = vec![0u32; chunks * n * m_total];
            let mut work = vec![0u64; n];
            for ch in 0..chunks {
                for f in 0..n {
                    for m in 0..m_total {
                        let st = step(g, ch, f, m);
                        cost[(ch * n + f) * m_total + m] = st.cycles as u32;
                        work[f] += st.cycles;
                        tally.sums.actions.add_step(&st, 1);
                    }
                }
            }
            let order = schedule_filters(arch, &work);
            for cf in 0..ft.col_folds as usize {
                for rf in 0..ft.row_folds as usize {
                    let pe = |r: usize, c: usize| holder(arch, plan, &order, (rf, cf), (r, c));
                    let demand = plan.fold_demand(arch, rf, cf);
                    let mut m0 = 0usize;
                    while m0 < m_total {
                        let tile = (ft.m_tile as usize).min(m_total - m0);
                        let cost = |r: usize, c: usize, m: u64| {
                            pe(r, c).map_or(1, |(ch, f)| {
                                cost[(ch * n + f) * m_total + m0 + m as usize] as u64
                            })
                        };
                        let stream = lockstep::stream_cycles_varying(
                            arch.sync_scope,
                            rows,
                            cols,
                            tile as u64,
                            &cost,
                        );
                        let (mut active_sum, mut active) = (0u64, 0u64);
                        for r in 0..rows {
                            for c in 0..cols {
                                if pe(r, c).is_some() {
                                    active += tile as u64;
                                    active_sum +=
                                        (0..tile as u64).map(|m| cost(r, c, m)).sum::<u64>();
                                }
                            }
                        }
                        tally.tiles(1, tile as u64, stream, (active_sum, active), &demand);
                        m0 += tile;
                    }
                }
            }
        }
        tally.finish()
    }

    fn stored_skipping(
        arch: &Arch,
        plan: &LayerPlan,
        ft: &FoldTiming,
        mask: &ActivationMask,
    ) -> FoldSums {
        let (n, k, kpp) = (plan.n as usize, plan.k as usize, plan.k_per_pe as usize);
        let m_total = plan.t as usize;
        let acts = activations::ChunkBits::pack(mask.groups * mask.m, k, kpp, |r, kk| {
            mask.get(r / mask.m, r % mask.m, kk)
        });
        let weight_matters = plan.cost.skips_zero_weights();
        let wbits: Vec<activations::ChunkBits> = (0..plan.gemm.groups as usize)
            .map(|g| {
                activations::ChunkBits::pack(n, k, kpp, |f, kk| {
                    !weight_matters
                        || plan
                            .codes
                            .is_none_or(|q| q.filter_codes(g * n + f)[kk] != 0)
                })
            })
            .collect();
        let held = |ch: usize| (k - ch * kpp).min(kpp) as u64;
        stored_loop(arch, plan, ft, &|g, ch, f, m| {
            skipping_step(
                arch,
                plan,
                held(ch),
                wbits[g].get(f, ch),
                acts.get(g * m_total + m, ch),
            )
        })
    }

    fn stored_values(
        arch: &Arch,
        plan: &LayerPlan,
        ft: &FoldTiming,
        values: &ActivationValues,
    ) -> FoldSums {
        let (k, kpp, n) = (plan.k as usize, plan.k_per_pe as usize, plan.n as usize);
        stored_loop(arch, plan, ft, &|g, ch, f, m| {
            let mut row = vec![0u16; (k - ch * kpp).min(kpp)];
            values.row_into(g, m, ch * kpp, &mut row);
            plan.activation_step(arch, ch as u64, g * n + f, &row)
        })
    }

    fn same(a: &FoldSums, b: &FoldSums) -> bool {
        (
            a.compute_cycles,
            a.imbalance_cycles,
            a.sram_stall_cycles,
            a.words,
            a.actions,
        ) == (
            b.compute_cycles,
            b.imbalance_cycles,
            b.sram_stall_cycles,
            b.words,
            b.actions,
        )
    }

    const KINDS: [&str; 12] = [
        "kind = \"dense\"\nskip_zero_activations = true",
        "kind = \"dense\"\nskip_zero_activations = true\nskip = \"ideal\"",
        "kind = \"bit_serial\"\nskip_zero_activations = true\nskip = \"window\"",
        "kind = \"bit_serial\"\nskip_zero_activations = true\nserial_operand = \"activation\"",
        "kind = \"binary\"\nskip_zero_activations = true",
        "kind = \"ternary\"\nskip_zero_activations = true\nskip = \"window\"\nlookahead = 1\nlookaside = 2",
        "kind = \"ternary\"\nskip_zero_activations = true\nskip = \"ideal\"",
        "kind = \"signed_binary\"\nskip_zero_activations = true\nskip = \"lane\"",
        "kind = \"pragmatic\"",
        "kind = \"loom\"",
        "kind = \"bit_serial\"\nserial_operand = \"activation\"\ndynamic_precision = true",
        "kind = \"loom\"\nshifter = \"lane\"",
    ];
    const SCHEMES: [&str; 5] = [
        r#"{"scheme": "int", "weight_bits": 8}"#,
        r#"{"scheme": "int", "weight_bits": 3}"#,
        r#"{"scheme": "ternary"}"#,
        r#"{"scheme": "binary"}"#,
        r#"{"scheme": "signed_binary"}"#,
    ];
    const SCOPES: [&str; 5] = ["array", "row", "column", "pe", "lane"];

    fn network(conv: bool, dims: [u64; 6], quant: &str, zeros: f64, batch: u64) -> Option<Network> {
        let [c, hw, n, groups, stride, pad] = dims;
        let layer = if conv {
            format!(
                r#"{{"name": "c", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": {}, "kernel": 3, "stride": {stride}, "padding": {pad}, "groups": {groups}}}"#,
                n * groups
            )
        } else {
            format!(
                r#"{{"name": "mm", "op": "matmul", "inputs": ["x"], "output": "y", "out_features": {n}}}"#
            )
        };
        let shape = if conv {
            format!("[{}, {hw}, {}]", c * groups, hw + 1)
        } else {
            format!("[{hw}, {}]", c * 9)
        };
        let text = format!(
            r#"{{"name": "t", "batch": {batch}, "inputs": {{"x": {shape}}}, "defaults": {{"quant": {quant}, "activations": {{"zero_density": {zeros}, "seed": 5}}}}, "layers": [{layer}]}}"#
        );
        parse_workload(&text, "t.json").ok()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]
        /// The tiled loops (once per (chunk, row) when the filter does not matter, else per
        /// PE with a scheduling pass first) equal the loop that stored every step's cost, on
        /// every kind that skips zero activations or reads their magnitudes: random arrays,
        /// lock-step scopes, schedules, skip networks, M-tiles, port rates, grouped and
        /// strided convolutions with padding, batches and matmuls.
        #[test]
        fn tiled_loops_equal_the_stored_loop(
            rows in 1u32..6, cols in 1u32..6, lanes in 1u32..4, wpl in 1u32..3,
            kind in 0usize..12, scheme in 0usize..5, scope in 0usize..5,
            schedule in proptest::bool::ANY, conv in proptest::bool::ANY,
            c in 1u64..4, hw in 1u64..6, n in 1u64..12, groups in 1u64..3, stride in 1u64..3,
            pad in 0u64..2, batch in 1u64..3, zeros in 0.0f64..0.95, tile_seed in 0u64..1000,
            port in 0u32..3, seed in 0u64..1000, real_values in proptest::bool::ANY,
        ) {
            let rate = ["\"unlimited\"", "2.0", "0.5"][port as usize];
            let text = format!(
                "name = \"t\"\n[array]\nrows = {rows}\ncols = {cols}\ndataflow = \"ws\"\nsync_scope = \"{}\"\nschedule = {schedule}\n\
                 [pe]\n{}\nlanes = {lanes}\nweights_per_lane = {wpl}\n\
                 [buffers.input]\ncapacity_bytes = 1048576\nread_words_per_cycle = {rate}\n\
                 [buffers.weight]\ncapacity_bytes = 1048576\nread_words_per_cycle = {rate}\n\
                 [buffers.output]\ncapacity_bytes = 1048576\nread_words_per_cycle = {rate}\nwrite_words_per_cycle = {rate}\n[dram]\nideal = true\n",
                SCOPES[scope], KINDS[kind]
            );
            let Ok(arch) = crate::design::parse_arch(&text, "t.toml") else { return Ok(()) };
            let Some(mut net) = network(conv, [c, hw, n, groups, stride, pad], SCHEMES[scheme], zeros, batch) else {
                return Ok(());
            };
            let shape = net.layers[0].weight_shape().unwrap();
            let w = crate::synth::synthetic_weights(&shape, Distribution::Laplace, seed, None);
            let codes = crate::quant::quantize(&w, &shape, &net.layers[0].quant.scheme);
            if real_values {
                let layer = &net.layers[0];
                let elements = (net.tensor(layer.inputs[0]).elements() * net.batch) as usize;
                let top = 1u64 << layer.quant.activation_bits;
                let mut x = seed | 1;
                let values: Vec<u16> = (0..elements)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        if (x >> 40) % 100 < (zeros * 100.0) as u64 { 0 } else { (x % top) as u16 }
                    })
                    .collect();
                net.layers[0].activations.values = Some(std::sync::Arc::new(values));
            }
            let layer = &net.layers[0];
            let gemm: Gemm = layer.gemm(&net).unwrap();
            let Ok(plan) = LayerPlan::new(&arch, layer, gemm, Some(&codes)) else { return Ok(()) };
            let ft = fold_timing(&arch, &plan, 1 + tile_seed % gemm.m);
            if arch.pe.skip_zero_activations {
                let mask = activations::layer_mask(&net, layer).unwrap();
                let old = stored_skipping(&arch, &plan, &ft, &mask);
                for limit in [0, usize::MAX] {
                    let new = skipping_with(&arch, &plan, &ft, &mask, limit);
                    proptest::prop_assert!(same(&new, &old), "{}\n{:?} {:?}", text, new.actions, old.actions);
                }
            } else if arch.pe.reads_activations() {
                let values = activations::layer_values(&net, layer).unwrap();
                let old = stored_values(&arch, &plan, &ft, &values);
                for limit in [0, usize::MAX] {
                    let new = values_with(&arch, &plan, &ft, &values, limit);
                    proptest::prop_assert!(same(&new, &old), "{}\n{:?} {:?}", text, new.actions, old.actions);
                }
            }
        }
    }
}
