//! The reference engine's own program per PE kind, one file each, written from the kinds'
//! descriptions (arch/README.md), not from the fast engine's cost code: the differential tests
//! hold the two equal. [`for_kind`] finds a kind's programs by its `[pe] kind` name; a
//! registered kind without a file here is reported, not silently skipped.

use crate::pe::Pe;
use crate::quant::Scheme;

use super::program::Program;

mod binary;
mod bit_serial;
mod bit_sparse;
mod dense;
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
        held: &[i32],
        k0: usize,
        groups: Option<FilterGroups>,
    ) -> Result<Program, String>;
    /// One step when zero activations are skipped: `active(i)` says held pair i's activation
    /// is non-zero. `None`: not modelled.
    fn pairs_program(
        &self,
        p: &RefPe,
        held: &[i32],
        active: &dyn Fn(usize) -> bool,
    ) -> Option<Program>;
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
];

/// The reference programs of kind `name`.
pub fn for_kind(name: &str) -> Option<&'static dyn RefKind> {
    KINDS.iter().find(|k| k.name() == name).copied()
}

/// A compacted list of `items` pairs, `lanes` at a time, `bits` cycles per batch.
pub(super) fn pairs(lanes: usize, items: usize, bits: u64, mults: bool, shifts: bool) -> Program {
    Program::Pairs {
        items: items as u64,
        lanes: lanes as u64,
        bits,
        mults,
        shifts,
    }
}

/// Held pairs whose activation is non-zero (and, with `nonzero_weights`, whose weight is).
pub(super) fn count_active(
    held: &[i32],
    active: &dyn Fn(usize) -> bool,
    nonzero_weights: bool,
) -> usize {
    held.iter()
        .enumerate()
        .filter(|&(i, &w)| active(i) && (!nonzero_weights || w != 0))
        .count()
}
