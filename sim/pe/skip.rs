//! The zero-skipping network: which held weight (or weight-activation pair) a lane can take in
//! a cycle, so how many cycles a PE needs for the work it has left after skipping zeros.
//!
//! A PE's held positions form a grid of `weights_per_lane` slots (time) by `lanes`: position
//! `i` is slot `i / lanes`, lane `i % lanes`. The positions with work (non-zero weights, or
//! pairs whose weight and activation are both non-zero) are a bit set. Three networks:
//!
//! - `ideal`: a full crossbar; any lane takes any position, so ceil(work / lanes) cycles. An
//!   upper bound on what skipping buys, kept as a labelled option.
//! - `lane`: each lane skips only its own zeros; it walks its own slots through a
//!   `weights_per_lane`:1 multiplexer, and the PE waits for its slowest lane.
//! - `window` (Bit-Tactical's lookahead/lookaside, Delmas Lascorz et al., ASPLOS 2019): in each
//!   cycle the *front* is the first slot with work left; lane `l` takes, in this order, the
//!   first position with work among its own slots front .. front + `lookahead`, else among
//!   slot front + 1 of lanes l + 1 .. l + `lookaside` (modulo lanes). Lanes choose in lane
//!   order; a position is taken once. Every cycle clears the front slot, so a PE never needs
//!   more cycles than it has occupied slots. A cycle's choice is among
//!   min(lookahead + 1, slots) + min(lookaside, lanes - 1) positions (what the stored index
//!   encodes); as the front moves, a lane's multiplexer reaches all its own slots and every
//!   slot but the first of each lookaside lane.
//!
//! The per-cycle reference engine schedules the same rule on its own
//! (`engine/reference/kinds/mod.rs`); the differential tests hold the two equal.

use serde::Deserialize;

use super::PeWeights;

/// The zero-skipping network of a PE (`pe.skip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipNetwork {
    Ideal,
    Lane,
    Window { lookahead: u32, lookaside: u32 },
}

/// `pe.skip` as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    Ideal,
    Lane,
    Window,
}

/// Bit-Tactical's T<2,5> design point: lookahead 2, lookaside 5 (an 8-input multiplexer).
pub const DEFAULT_LOOKAHEAD: u32 = 2;
pub const DEFAULT_LOOKASIDE: u32 = 5;

impl SkipNetwork {
    pub fn name(self) -> &'static str {
        match self {
            SkipNetwork::Ideal => "ideal",
            SkipNetwork::Lane => "lane",
            SkipNetwork::Window { .. } => "window",
        }
    }

    /// Inputs of a lane's operand multiplexer: every position it may take in some cycle. A
    /// window's front moves, so a lane reaches all its own slots and, for each lookaside
    /// lane, every slot but the first (slot front + 1 for any front).
    pub fn mux_inputs(self, lanes: u32, slots: u32) -> u32 {
        match self {
            SkipNetwork::Window { lookaside, .. } => {
                (slots + lookaside.min(lanes - 1) * (slots - 1)).min(lanes * slots)
            }
            other => other.reach(lanes, slots),
        }
    }

    /// Positions a lane chooses among in one cycle (what its stored index encodes).
    pub fn reach(self, lanes: u32, slots: u32) -> u32 {
        match self {
            SkipNetwork::Ideal => lanes * slots,
            SkipNetwork::Lane => slots,
            SkipNetwork::Window {
                lookahead,
                lookaside,
            } => (lookahead + 1).min(slots) + lookaside.min(lanes - 1),
        }
    }

    /// Cycles a PE of `lanes` x `slots` needs for the positions set in `work` (bit i of word
    /// i / 64 is position i).
    pub fn cycles(self, lanes: u64, slots: u64, work: &[u64]) -> u64 {
        match self {
            SkipNetwork::Ideal => {
                let n: u64 = work.iter().map(|w| w.count_ones() as u64).sum();
                n.div_ceil(lanes)
            }
            // One lane: every position is its own.
            SkipNetwork::Lane if lanes == 1 => work.iter().map(|w| w.count_ones() as u64).sum(),
            SkipNetwork::Lane => {
                let mut per_lane = [0u64; 64];
                for s in 0..slots {
                    let mut m = slot_lanes(work, s, lanes);
                    while m != 0 {
                        per_lane[m.trailing_zeros() as usize] += 1;
                        m &= m - 1;
                    }
                }
                per_lane[..lanes as usize]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(0)
            }
            SkipNetwork::Window {
                lookahead,
                lookaside,
            } => window_cycles(lanes, slots, lookahead as u64, lookaside as u64, work),
        }
    }
}

/// The lanes with work in slot `s` (bit `l` = position `s * lanes + l`), `lanes <= 64`: the
/// slot's bits of `work`, which may straddle two words. Positions are split into lanes and
/// slots by shifts, not by a division per position.
#[inline]
fn slot_lanes(work: &[u64], s: u64, lanes: u64) -> u64 {
    let start = s * lanes;
    let (word, bit) = ((start / 64) as usize, start % 64);
    let lo = work.get(word).copied().unwrap_or(0) >> bit;
    let hi = if bit > 0 && lanes > 64 - bit {
        work.get(word + 1).copied().unwrap_or(0) << (64 - bit)
    } else {
        0
    };
    let mask = if lanes >= 64 {
        u64::MAX
    } else {
        (1u64 << lanes) - 1
    };
    (lo | hi) & mask
}

/// The window schedule over per-lane slot masks (slots <= 64, lanes <= 64). The positions
/// set in `work` lie below `lanes * slots`.
///
/// Slot-major and bit-parallel: `slot[s]` holds the lanes with work left in slot s. In a
/// cycle the lanes with work in the front slot take it, whatever the others do (only slot
/// front + 1 is ever taken from another lane). A lane without it takes its own slot front + 1
/// when that is still there at its turn, else the first of its later window slots. Only
/// lanes with nothing of their own in the window look aside, and only they are walked in
/// lane order: a lane whose slot front + 1 a lower lane took, and that has nothing later in
/// its window, becomes one of them. At lane `l`'s turn the slot front + 1 positions left are
/// those of front-slot lanes and of lanes above `l` (a lane below `l` without the front slot
/// has taken its own by then). `tests::window_cycles_equals_the_lane_by_lane_rule` holds
/// this to the rule written lane by lane.
fn window_cycles(lanes: u64, slots: u64, ahead: u64, aside: u64, work: &[u64]) -> u64 {
    // A PE's slot array on the stack, no larger than needed for the common few slots.
    if slots <= 8 {
        window_in::<8>(lanes, slots, ahead, aside, work)
    } else {
        window_in::<64>(lanes, slots, ahead, aside, work)
    }
}

fn window_in<const S: usize>(lanes: u64, slots: u64, ahead: u64, aside: u64, work: &[u64]) -> u64 {
    let n = lanes as usize;
    let slots_n = slots as usize;
    let mut slot = [0u64; S];
    let slot = &mut slot[..slots_n];
    for (s, m) in slot.iter_mut().enumerate() {
        *m = slot_lanes(work, s as u64, lanes);
    }
    let all = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    // Lanes above `l`.
    let above = |l: usize| {
        if l + 1 >= 64 {
            0
        } else {
            all & !((2u64 << l) - 1)
        }
    };
    // `x` rotated right by `r` within the n lanes (1 <= r <= n; r = n is no rotation).
    let rotate = |x: u64, r: usize| {
        (x.checked_shr(r as u32).unwrap_or(0) | x.checked_shl((n - r) as u32).unwrap_or(0)) & all
    };
    let aside = aside.min(lanes - 1) as usize;
    let aside_mask = if aside >= 64 {
        u64::MAX
    } else {
        (1u64 << aside) - 1
    };
    let mut cycles = 0;
    let mut first = 0;
    loop {
        // The front: the first slot any lane still has work in.
        let Some(front) = (first..slots_n).find(|&s| slot[s] != 0) else {
            return cycles;
        };
        first = front;
        cycles += 1;
        let last = (front + ahead as usize).min(slots_n - 1);
        if front + 1 >= slots_n || aside == 0 {
            // Nothing to look aside to: every lane takes its first position in its window.
            let mut need = all;
            for m in &mut slot[front..=last] {
                let t = *m & need;
                *m &= !t;
                need &= !t;
            }
            continue;
        }
        let front_lanes = slot[front];
        let next = slot[front + 1];
        // Lanes with work in the window's slots after front + 1.
        let later = slot[(front + 2).min(last + 1)..=last]
            .iter()
            .fold(0, |a, &m| a | m);
        let own_next = ahead >= 1;
        let mut avail = next;
        // Lanes with nothing of their own in the window, in lane order.
        let mut pending = all & !front_lanes & !later & if own_next { !next } else { all };
        while pending != 0 {
            let l = pending.trailing_zeros() as usize;
            pending &= pending - 1;
            let eligible = if own_next {
                avail & (front_lanes | above(l))
            } else {
                avail
            };
            let cand = rotate(eligible, l + 1) & aside_mask;
            if cand == 0 {
                continue;
            }
            let mut o = l + 1 + cand.trailing_zeros() as usize;
            if o >= n {
                o -= n;
            }
            avail &= !(1u64 << o);
            // A lane above whose own slot front + 1 was taken, with nothing later: it looks
            // aside at its turn.
            let bit = 1u64 << o;
            if own_next && front_lanes & bit == 0 && later & bit == 0 {
                pending |= bit;
            }
        }
        let stolen = next & !avail;
        let took_next = if own_next {
            next & !front_lanes & !stolen
        } else {
            0
        };
        slot[front] = 0;
        slot[front + 1] &= !(stolen | took_next);
        let mut need = all & !front_lanes & !took_next;
        for m in &mut slot[(front + 2).min(last + 1)..=last] {
            let t = *m & need;
            *m &= !t;
            need &= !t;
        }
    }
}

/// The held positions of a PE holding `held <= 64` weights whose code satisfies `keep`, as
/// one word: [`PeWeights::positions`] without its allocation, for the step costs that build
/// such sets for every PE of a layer.
#[inline]
pub fn held_mask(w: &PeWeights, held: u64, keep: impl Fn(i32) -> bool) -> u64 {
    debug_assert!(held <= 64, "one word holds 64 positions");
    match w.codes {
        Some(codes) => {
            let k0 = w.k0 as usize;
            let mut m = 0u64;
            for (i, &c) in codes[k0..k0 + held as usize].iter().enumerate() {
                m |= (keep(c.into()) as u64) << i;
            }
            m
        }
        // Without values every code reads 1.
        None if keep(1) => all_held(held),
        None => 0,
    }
}

/// Every held position of a PE holding `held <= 64` weights, as one word.
#[inline]
pub fn all_held(held: u64) -> u64 {
    if held >= 64 {
        u64::MAX
    } else {
        (1u64 << held) - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rule lane by lane, as first written (the oracle of the fast form).
    /// The window schedule over per-lane slot masks (slots <= 64, lanes <= 64). The positions
    /// set in `work` lie below `lanes * slots`.
    fn window_cycles_by_lane(lanes: u64, slots: u64, ahead: u64, aside: u64, work: &[u64]) -> u64 {
        // Each lane's slots with work left (bit s = slot s).
        let mut rem = [0u64; 64];
        for s in 0..slots {
            let mut m = slot_lanes(work, s, lanes);
            while m != 0 {
                rem[m.trailing_zeros() as usize] |= 1 << s;
                m &= m - 1;
            }
        }
        let n = lanes as usize;
        let rem = &mut rem[..n];
        let own_window = |f: u64| -> u64 {
            let width = (ahead + 1).min(slots - f.min(slots));
            if width >= 64 {
                u64::MAX << f
            } else {
                ((1u64 << width) - 1) << f
            }
        };
        let aside = aside.min(lanes - 1) as usize;
        let mut cycles = 0;
        loop {
            // The front: the first slot any lane still has work in.
            let any = rem.iter().fold(0, |a, &m| a | m);
            if any == 0 {
                return cycles;
            }
            let front = any.trailing_zeros() as u64;
            cycles += 1;
            let win = own_window(front);
            // Slot front + 1, where a lane with nothing of its own looks aside (none past the end).
            let next = if front + 1 < slots {
                1u64 << (front + 1)
            } else {
                0
            };
            for l in 0..n {
                let own = rem[l] & win;
                if own != 0 {
                    rem[l] &= !(own & own.wrapping_neg());
                    continue;
                }
                if next == 0 {
                    continue;
                }
                // Lanes l + 1 .. l + aside, modulo lanes, in order (counted, not divided).
                let mut other = l;
                for _ in 0..aside {
                    other += 1;
                    if other == n {
                        other = 0;
                    }
                    if rem[other] & next != 0 {
                        rem[other] &= !next;
                        break;
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn window_cycles_equals_the_lane_by_lane_rule(
            lanes in 1u64..=16,
            slots in 1u64..=8,
            ahead in 0u64..=8,
            aside in 0u64..=16,
            bits in proptest::collection::vec(any::<u64>(), 2),
            density in 0u32..4,
        ) {
            let total = lanes * slots;
            // Dense, half and sparse patterns: AND-ing random words thins the work out.
            let mut work = vec![bits[0], 0];
            for i in 0..density {
                work[0] &= bits[1].rotate_left(7 * (i + 1));
            }
            if total < 64 {
                work[0] &= (1u64 << total) - 1;
            }
            work[1] = if total > 64 { bits[1] & (u64::MAX >> (128 - total)) } else { 0 };
            prop_assert_eq!(
                window_cycles(lanes, slots, ahead, aside, &work),
                window_cycles_by_lane(lanes, slots, ahead, aside, &work)
            );
        }
    }

    fn bits(positions: &[u64]) -> Vec<u64> {
        let mut w = vec![0u64; 1];
        for &p in positions {
            w[0] |= 1 << p;
        }
        w
    }

    #[test]
    fn hand_computed_schedules() {
        // 4 lanes x 4 slots; lane 0 holds work in all four slots (positions 0, 4, 8, 12),
        // lane 1 one (position 1).
        let w = bits(&[0, 4, 8, 12, 1]);
        assert_eq!(SkipNetwork::Ideal.cycles(4, 4, &w), 2);
        assert_eq!(SkipNetwork::Lane.cycles(4, 4, &w), 4);
        // Window <1, 1>: cycle 1 front 0: lane 0 takes (0,0), lane 1 takes (0,1), lane 3 finds
        // nothing of its own and takes slot 1 of lane 0 (lookaside 1 from lane 3 is lane 0).
        // Cycle 2 front 2: lane 0 takes (2,0); lane 3 takes (3,0). Done.
        let win = SkipNetwork::Window {
            lookahead: 1,
            lookaside: 1,
        };
        assert_eq!(win.cycles(4, 4, &w), 2);
        // Without lookaside the window is lane-private with a shorter reach.
        let la = SkipNetwork::Window {
            lookahead: 3,
            lookaside: 0,
        };
        assert_eq!(la.cycles(4, 4, &w), 4);
        assert_eq!(win.reach(4, 4), 3);
        assert_eq!(SkipNetwork::Ideal.reach(8, 4), 32);
        assert_eq!(SkipNetwork::Lane.reach(8, 4), 4);
        let t25 = SkipNetwork::Window {
            lookahead: 2,
            lookaside: 5,
        };
        assert_eq!(t25.reach(8, 4), 8);
        // Its multiplexer: 4 own slots and slots 1..3 of 5 neighbours.
        assert_eq!(t25.mux_inputs(8, 4), 19);
        // A window without lookaside still reaches every own slot, like a non-skipping lane.
        let none = SkipNetwork::Window {
            lookahead: 0,
            lookaside: 0,
        };
        assert_eq!((none.reach(8, 4), none.mux_inputs(8, 4)), (1, 4));
        assert_eq!(SkipNetwork::Ideal.cycles(4, 4, &[0]), 0);
    }

    /// The window rule as the module's doc states it, position by position (division per
    /// position, lookaside lanes walked modulo lanes): what the shifted and counted version
    /// must equal.
    fn window_by_definition(lanes: u64, slots: u64, ahead: u64, aside: u64, work: &[u64]) -> u64 {
        let mut rem = vec![0u64; lanes as usize];
        for i in 0..lanes * slots {
            if work[(i / 64) as usize] >> (i % 64) & 1 == 1 {
                rem[(i % lanes) as usize] |= 1 << (i / lanes);
            }
        }
        let mut cycles = 0;
        while let Some(front) = rem
            .iter()
            .filter(|&&m| m != 0)
            .map(|m| m.trailing_zeros() as u64)
            .min()
        {
            cycles += 1;
            let last = (front + ahead).min(slots - 1);
            for l in 0..lanes as usize {
                if let Some(s) = (front..=last).find(|&s| rem[l] >> s & 1 == 1) {
                    rem[l] &= !(1 << s);
                    continue;
                }
                if front + 1 >= slots {
                    continue;
                }
                for j in 1..=aside.min(lanes - 1) as usize {
                    let o = (l + j) % lanes as usize;
                    if rem[o] >> (front + 1) & 1 == 1 {
                        rem[o] &= !(1 << (front + 1));
                        break;
                    }
                }
            }
        }
        cycles
    }

    #[test]
    fn one_word_masks_are_the_positions() {
        let codes: Vec<crate::quant::Code> = (0..100).map(|i| (i * 7 % 5) as i16 - 2).collect();
        for (lanes, slots) in [(8u64, 4u64), (4, 4), (16, 4), (8, 8), (3, 5)] {
            let ctx = crate::pe::StepContext {
                lanes,
                slots,
                lane_scope: false,
                skip: SkipNetwork::Lane,
            };
            for k0 in [0u64, 5, 64, 90] {
                for codes in [Some(&codes[..]), None] {
                    let w = PeWeights {
                        codes,
                        group_bits: None,
                        group_prefix: None,
                        k: 100,
                        k0,
                    };
                    let held = w.held(&ctx);
                    for keep in [|c: i32| c != 0, |c: i32| c > 0, |c: i32| c == 0] {
                        assert_eq!(vec![held_mask(&w, held, keep)], w.positions(&ctx, keep));
                    }
                    assert_eq!(vec![all_held(held)], w.positions(&ctx, |_| true));
                }
            }
        }
    }

    proptest::proptest! {
        /// The window and lane networks equal their definitions, over one word and over
        /// several (PEs of more than 64 positions, slots straddling words).
        #[test]
        fn networks_equal_their_definitions(
            lanes in 1u64..20, slots in 1u64..12,
            words in proptest::collection::vec(proptest::num::u64::ANY, 4),
            ahead in 0u32..5, aside in 0u32..8,
        ) {
            let n = lanes * slots;
            let w: Vec<u64> = (0..n.div_ceil(64) as usize)
                .map(|i| {
                    let left = n - 64 * i as u64;
                    if left >= 64 { words[i] } else { words[i] & ((1 << left) - 1) }
                })
                .collect();
            let win = SkipNetwork::Window { lookahead: ahead, lookaside: aside };
            proptest::prop_assert_eq!(
                win.cycles(lanes, slots, &w),
                window_by_definition(lanes, slots, ahead as u64, aside as u64, &w)
            );
            let mut per_lane = vec![0u64; lanes as usize];
            for i in 0..n {
                per_lane[(i % lanes) as usize] += w[(i / 64) as usize] >> (i % 64) & 1;
            }
            proptest::prop_assert_eq!(
                SkipNetwork::Lane.cycles(lanes, slots, &w),
                per_lane.iter().copied().max().unwrap_or(0)
            );
        }
    }

    proptest::proptest! {
        /// Invariants of the three networks on random work: the crossbar is the lower bound;
        /// a window clears its front slot every cycle, so never needs more cycles than there
        /// are occupied slots; a window reaching all of a lane's slots without lookaside is
        /// the lane-private network.
        #[test]
        fn networks_are_ordered(
            lanes in 1u64..9, slots in 1u64..9, words in proptest::collection::vec(proptest::num::u64::ANY, 1),
            ahead in 0u32..5, aside in 0u32..8,
        ) {
            let n = lanes * slots;
            let w: Vec<u64> = words.iter().map(|x| if n >= 64 { *x } else { x & ((1 << n) - 1) }).collect();
            let count = w[0].count_ones() as u64;
            let occupied = (0..slots).filter(|s| (0..lanes).any(|l| w[0] >> (s * lanes + l) & 1 == 1)).count() as u64;
            let ideal = SkipNetwork::Ideal.cycles(lanes, slots, &w);
            let lane = SkipNetwork::Lane.cycles(lanes, slots, &w);
            let win = SkipNetwork::Window { lookahead: ahead, lookaside: aside }.cycles(lanes, slots, &w);
            proptest::prop_assert_eq!(ideal, count.div_ceil(lanes));
            proptest::prop_assert!(ideal <= lane && lane <= slots);
            proptest::prop_assert!(ideal <= win && win <= occupied, "ideal {} window {} occupied {}", ideal, win, occupied);
            let full = SkipNetwork::Window { lookahead: slots as u32 - 1, lookaside: 0 };
            proptest::prop_assert_eq!(full.cycles(lanes, slots, &w), lane);
            proptest::prop_assert_eq!(win == 0, count == 0);
        }
    }
}
