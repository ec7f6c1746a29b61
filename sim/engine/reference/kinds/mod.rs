//! The reference engine's own program per PE kind, one file each, written from the kinds'
//! descriptions (arch/README.md), not from the fast engine's cost code: the differential tests
//! hold the two equal. [`for_kind`] finds a kind's programs by its `[pe] kind` name; a
//! registered kind without a file here is reported, not silently skipped.

use crate::pe::{Pe, ShifterPlacement, SkipNetwork};
use crate::quant::{Code, Scheme};

use super::program::{Program, ShiftRule};

mod binary;
mod bit_serial;
mod bit_sparse;
mod dense;
mod loom;
mod pragmatic;
mod signed_binary;
mod swis;
mod ternary;

/// SWIS metadata of one filter: N_g and the position mask of each of its groups.
#[derive(Debug, Clone, Copy)]
pub struct FilterGroups<'a> {
    pub shared: &'a [u8],
    pub masks: &'a [u16],
}

/// What the reference engine needs to know to run one PE of a layer.
pub struct RefPe<'a> {
    pub pe: &'a Pe,
    pub scheme: &'a Scheme,
    /// The layer's activation bits (what an activation-serial PE streams).
    pub activation_bits: u32,
    /// Lanes walk their own slots (`sync_scope = "lane"`).
    pub lane_scope: bool,
}

/// A kind's programs.
pub trait RefKind: Sync {
    /// The `[pe] kind` name.
    fn name(&self) -> &'static str;
    /// The program of one step of the PE holding `held` (its codes, K offsets `k0 ..` of a
    /// filter), or why the PE cannot run the layer.
    fn program(
        &self,
        p: &RefPe,
        held: &[Code],
        k0: usize,
        groups: Option<FilterGroups>,
    ) -> Result<Program, String>;
    /// One step when zero activations are skipped: `active(i)` says held pair i's activation
    /// is non-zero. `None`: not modelled.
    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[Code],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program>;
    /// One step of a PE serial in the activations' bits: `acts(i)` is the magnitude of the
    /// activation paired with held weight i (0 for zero or padding). `None`: the step does not
    /// depend on activation values.
    fn activation_program(
        &self,
        _p: &RefPe,
        _held: &[Code],
        _acts: &dyn Fn(usize) -> u16,
    ) -> Option<Program> {
        None
    }
    /// One window sum per row and step shared by the fold's filters (binary repetition).
    fn window_sums(&self, _p: &RefPe) -> bool {
        false
    }
}

static KINDS: &[&dyn RefKind] = &[
    &dense::Dense,
    &binary::Binary,
    &ternary::Ternary,
    &signed_binary::SignedBinary,
    &bit_serial::BitSerial,
    &bit_sparse::BitSparse,
    &swis::Swis,
    &pragmatic::Pragmatic,
    &loom::Loom,
];

/// The reference programs of kind `name`.
pub fn for_kind(name: &str) -> Option<&'static dyn RefKind> {
    KINDS.iter().find(|k| k.name() == name).copied()
}

/// The shift rule of a PE whose shifters sit at `placement`.
pub(super) fn shift_rule(placement: ShifterPlacement) -> ShiftRule {
    match placement {
        ShifterPlacement::Lane => ShiftRule::PerBusyLane,
        ShifterPlacement::Pe => ShiftRule::PerCycle,
    }
}

/// The skip network's schedule for the held positions with work (`work[i]`: held weight i,
/// slot i / lanes, lane i % lanes): per cycle, the lanes that do work. Written from the rule
/// in arch/README.md ("Zero skipping"), on a slot x lane grid.
pub(super) fn schedule(pe: &Pe, work: &[bool]) -> Vec<u64> {
    let lanes = pe.lanes as usize;
    let slots = work.len().div_ceil(lanes);
    let mut pending: Vec<Vec<bool>> = (0..slots)
        .map(|s| {
            (0..lanes)
                .map(|l| work.get(s * lanes + l).copied().unwrap_or(false))
                .collect()
        })
        .collect();
    let left = |p: &Vec<Vec<bool>>| p.iter().flatten().filter(|&&x| x).count();
    let mut batches = Vec::new();
    match pe.skip {
        SkipNetwork::Ideal => {
            // Any lane takes any position: fill the lanes in order.
            let mut n = left(&pending);
            while n > 0 {
                let take = n.min(lanes);
                batches.push(if take == 64 {
                    u64::MAX
                } else {
                    (1u64 << take) - 1
                });
                n -= take;
            }
        }
        SkipNetwork::Lane => {
            let queue: Vec<usize> = (0..lanes)
                .map(|l| (0..slots).filter(|&s| pending[s][l]).count())
                .collect();
            let longest = queue.iter().copied().max().unwrap_or(0);
            for cycle in 0..longest {
                let mut busy = 0u64;
                for (l, &q) in queue.iter().enumerate() {
                    if q > cycle {
                        busy |= 1 << l;
                    }
                }
                batches.push(busy);
            }
        }
        SkipNetwork::Window {
            lookahead,
            lookaside,
        } => {
            while left(&pending) > 0 {
                let front = (0..slots)
                    .find(|&s| pending[s].iter().any(|&x| x))
                    .expect("work is left");
                let mut busy = 0u64;
                for l in 0..lanes {
                    let own = (front..=front + lookahead as usize)
                        .take_while(|&s| s < slots)
                        .find(|&s| pending[s][l]);
                    let taken = match own {
                        Some(s) => Some((s, l)),
                        None if front + 1 < slots => (1..=(lookaside as usize).min(lanes - 1))
                            .map(|j| (front + 1, (l + j) % lanes))
                            .find(|&(s, other)| pending[s][other]),
                        None => None,
                    };
                    if let Some((s, other)) = taken {
                        pending[s][other] = false;
                        busy |= 1 << l;
                    }
                }
                batches.push(busy);
            }
        }
    }
    batches
}

/// The schedule of `work` as a program of parallel adds (zero-weight skipping).
pub(super) fn skipping(p: &RefPe, work: &[bool]) -> Program {
    Program::Scheduled {
        batches: schedule(p.pe, work),
        bits: 1,
        mults: false,
        shifts: ShiftRule::None,
    }
}

/// Of two lists of positions a PE may accumulate instead of each other, the one its network
/// serves in fewer cycles; on a tie the one with fewer positions, then the first.
pub(super) fn cheaper(p: &RefPe, a: &[bool], b: &[bool]) -> Program {
    let cost = |w: &[bool]| (schedule(p.pe, w).len(), w.iter().filter(|&&x| x).count());
    if cost(b) < cost(a) {
        skipping(p, b)
    } else {
        skipping(p, a)
    }
}

/// Pairs whose activation is non-zero (and, with `nonzero_weights`, whose weight is) through
/// the skip network, `bits` cycles per batch; `mults`: dense MACs; `shifts`: serial PEs.
pub(super) fn pairs(
    p: &RefPe,
    held: &[Code],
    active: &dyn Fn(usize) -> bool,
    nonzero_weights: bool,
    bits: u64,
    mults: bool,
    shifts: ShiftRule,
) -> Program {
    let work: Vec<bool> = held
        .iter()
        .enumerate()
        .map(|(i, &w)| active(i) && (!nonzero_weights || w != 0))
        .collect();
    Program::Scheduled {
        batches: schedule(p.pe, &work),
        bits,
        mults,
        shifts,
    }
}

/// Bits written out to the highest one of `a` (0 for 0), counted bit by bit.
pub(super) fn precision(a: u16) -> u64 {
    let mut n = 0;
    let mut x = a;
    while x != 0 {
        n += 1;
        x >>= 1;
    }
    n
}

/// Slots of `lanes` held weights, each lasting `len(slot activations)` cycles with every lane
/// of the slot busy and adding each cycle: the program of a serial PE whose slots stream the
/// precision their activations need.
pub(super) fn precision_slots(
    p: &RefPe,
    n_held: usize,
    acts: &dyn Fn(usize) -> u16,
    len: &dyn Fn(&[u16]) -> u64,
    shifts: ShiftRule,
) -> Program {
    let lanes = p.pe.lanes as usize;
    let slots: Vec<Vec<u16>> = (0..n_held.div_ceil(lanes))
        .map(|s| {
            (s * lanes..((s + 1) * lanes).min(n_held))
                .map(acts)
                .collect()
        })
        .collect();
    let lens: Vec<u64> = slots.iter().map(|s| len(s)).collect();
    Program::Slots {
        work: slots
            .iter()
            .zip(&lens)
            .map(|(s, &l)| vec![l; s.len()])
            .collect(),
        adds: slots
            .iter()
            .zip(&lens)
            .map(|(s, &l)| vec![super::program::first(l); s.len()])
            .collect(),
        len: lens,
        mults: false,
        shifts_per_cycle: shifts,
    }
}

/// Held weight i keeps its lane busy `work[i]` cycles, adding and shifting each of them (one
/// cycle per effectual digit or one-bit): lanes advance slot by slot, a slot lasting its
/// busiest lane, or, at lane scope, each lane walks its own queue.
pub(super) fn per_weight_work(p: &RefPe, work: Vec<u64>) -> Program {
    let lanes = p.pe.lanes as usize;
    if p.lane_scope {
        let mut queues = vec![0u64; lanes.min(work.len())];
        for (i, w) in work.iter().enumerate() {
            queues[i % lanes] += w;
        }
        return Program::Lanes { queues };
    }
    let slots: Vec<Vec<u64>> = work.chunks(lanes).map(<[u64]>::to_vec).collect();
    Program::Slots {
        len: slots
            .iter()
            .map(|s| s.iter().copied().max().unwrap_or(0))
            .collect(),
        adds: slots
            .iter()
            .map(|s| s.iter().map(|&w| super::program::first(w)).collect())
            .collect(),
        work: slots,
        mults: false,
        shifts_per_cycle: ShiftRule::PerBusyLane,
    }
}
