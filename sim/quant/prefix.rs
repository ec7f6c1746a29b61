//! Summaries derived from a code set once and shared by every design that runs it.
//!
//! A sweep runs hundreds of designs on the same codes (the pipeline's `CodeCache` hands each
//! the same tensor). What a PE kind's step cost reads from the codes is summarized here on
//! first use and kept with the tensor ([`Derived`]), so each design pays O(1) per PE instead
//! of a pass over the codes it holds:
//!
//! - [`GroupPrefix`]: per filter, prefix sums over its SWIS groups of N_g and of N_g x (the
//!   group's length): a SWIS PE's cycles and busy lane-cycles for any run of groups are two
//!   differences.
//! - [`Derived::memo`]: anything else computed from the codes for a key (the engine keeps its
//!   per-(chunk, filter) step-cost tables there, one per PE configuration), a bounded number
//!   of entries per tensor.
//!
//! The summaries are caches: a tensor compares, clones and prints as if they were absent.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use super::SwisGroups;

/// Most memo entries one tensor keeps (the oldest goes first).
pub const MAX_MEMO_ENTRIES: usize = 24;

type Entry = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

/// What has been derived from one tensor's codes so far.
#[derive(Default)]
pub struct Derived {
    groups: OnceLock<Option<GroupPrefix>>,
    memo: Mutex<Vec<(String, Entry)>>,
}

impl Derived {
    /// The prefix sums over `groups` (built on first use); `None` when a filter's sums would
    /// not fit 32 bits (then costs are computed group by group).
    pub fn group_prefix(&self, groups: &SwisGroups, filter_len: usize) -> Option<&GroupPrefix> {
        self.groups
            .get_or_init(|| GroupPrefix::new(groups, filter_len))
            .as_ref()
    }

    /// The value derived for `key`, built by `build` the first time it is asked for (other
    /// threads asking meanwhile wait for it rather than build it again).
    pub fn memo<T: Any + Send + Sync>(&self, key: &str, build: impl FnOnce() -> T) -> Arc<T> {
        let cell: Entry = {
            let mut m = self.memo.lock().unwrap_or_else(|e| e.into_inner());
            match m.iter().find(|(k, _)| k == key) {
                Some((_, c)) => c.clone(),
                None => {
                    if m.len() >= MAX_MEMO_ENTRIES {
                        m.remove(0);
                    }
                    let c: Entry = Arc::default();
                    m.push((key.to_string(), c.clone()));
                    c
                }
            }
        };
        let v = cell.get_or_init(|| Arc::new(build()) as Arc<dyn Any + Send + Sync>);
        v.clone()
            .downcast::<T>()
            .expect("a memo key names one type of value")
    }
}

impl Clone for Derived {
    /// A clone starts without summaries (they are rebuilt on use, equal by construction).
    fn clone(&self) -> Self {
        Derived::default()
    }
}

impl PartialEq for Derived {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Derived")
    }
}

/// Per filter, prefix sums over its groups (`groups_per_filter + 1` entries each): `ng[j]` is
/// the sum of N_g over the filter's groups `0..j`, `busy[j]` the sum of N_g x group length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupPrefix {
    per: usize,
    ng: Vec<u32>,
    busy: Vec<u32>,
}

impl GroupPrefix {
    fn new(g: &SwisGroups, filter_len: usize) -> Option<GroupPrefix> {
        let per = g.groups_per_filter as usize;
        let gs = g.group_size as usize;
        // Every sum is at most filter_len x 16 (N_g <= 16 bit positions).
        if (filter_len as u64).saturating_mul(16) > u32::MAX as u64 || per == 0 {
            return None;
        }
        let filters = g.shared.len() / per;
        // Per filter `per + 1` sums from 0, filters in parallel.
        let mut ng = vec![0u32; filters * (per + 1)];
        let mut busy = vec![0u32; filters * (per + 1)];
        ng.par_chunks_mut(per + 1)
            .zip(busy.par_chunks_mut(per + 1))
            .zip(g.shared[..filters * per].par_chunks(per))
            .with_min_len(16)
            .for_each(|((ng, busy), shared)| {
                let (mut a, mut b) = (0u32, 0u32);
                for (j, &n) in shared.iter().enumerate() {
                    let len = (filter_len - j * gs).min(gs) as u32;
                    a += n as u32;
                    b += n as u32 * len;
                    ng[j + 1] = a;
                    busy[j + 1] = b;
                }
            });
        Some(GroupPrefix { per, ng, busy })
    }

    /// (sum of N_g, sum of N_g x length) over groups `g0..g1` of filter `f`.
    pub fn range(&self, f: usize, g0: usize, g1: usize) -> (u64, u64) {
        let at = f * (self.per + 1);
        (
            (self.ng[at + g1] - self.ng[at + g0]) as u64,
            (self.busy[at + g1] - self.busy[at + g0]) as u64,
        )
    }
}
