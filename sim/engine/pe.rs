//! What one PE costs per step: the cycles it needs to reduce its stationary weights with
//! one activation vector, and the actions it performs doing so.
//!
//! A PE holds `lanes x weights_per_lane` consecutive reduction (K) indices of one filter:
//! slot `s`, lane `l` holds K offset `s * lanes + l`. Weight-side costs are constant over a
//! fold's steps (the weights stay put), which is what lets the fast engine use closed forms.
//! `reference.rs` re-derives the same numbers cycle by cycle, independently.

use crate::arch::{Arch, BitEncoding, PeKind, SerialOperand, SyncScope};
use crate::quant::{QuantizedTensor, Scheme};

/// How a PE kind prices the codes of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostModel {
    /// One cycle per occupied slot; every held weight is a multiply-accumulate.
    Dense,
    /// add/sub per weight, one cycle per occupied slot (binary PE, native binary codes).
    Binary { repetition: bool },
    /// Zero skipping over the PE's compacted non-zero list: ceil(nnz / lanes) cycles.
    ZeroSkip { repetition: bool },
    /// `bits` cycles per occupied slot: a bit-serial datapath (or a PE running a scheme it
    /// has no native support for, one bit plane per cycle).
    Serial { bits: u32 },
    /// One cycle per effectual (non-zero) digit of each weight.
    BitSparse { encoding: BitEncoding },
    /// SWIS: a slot is one group of `lanes` weights sharing N_g positions: N_g cycles.
    SwisGroups,
    /// Fixed number of kept bits per slot (truncation baseline on a SWIS PE).
    FixedBits { bits: u32 },
}

impl CostModel {
    /// The model for running a layer quantized with `scheme` on `arch`'s PEs.
    pub fn new(arch: &Arch, scheme: &Scheme) -> CostModel {
        let pe = &arch.pe;
        let bits = scheme.weight_bits();
        match (pe.kind, scheme) {
            (PeKind::Dense, _) => CostModel::Dense,
            (PeKind::Binary, Scheme::Binary) => CostModel::Binary {
                repetition: pe.exploit_repetition,
            },
            (
                PeKind::Ternary,
                Scheme::Binary | Scheme::Ternary { .. } | Scheme::SignedBinary { .. },
            ) => CostModel::ZeroSkip { repetition: false },
            (PeKind::SignedBinary, Scheme::SignedBinary { .. }) => CostModel::ZeroSkip {
                repetition: pe.exploit_repetition,
            },
            (PeKind::BitSerial, _) => CostModel::Serial {
                bits: match pe.serial_operand {
                    SerialOperand::Weight => bits,
                    SerialOperand::Activation => pe.activation_bits,
                },
            },
            (PeKind::BitSparse, _) => CostModel::BitSparse {
                encoding: pe.encoding,
            },
            (PeKind::Swis, Scheme::Swis { .. }) => CostModel::SwisGroups,
            (PeKind::Swis, Scheme::Truncate { kept_bits, .. }) => {
                CostModel::FixedBits { bits: *kept_bits }
            }
            // A scheme the PE has no native support for runs one bit plane per cycle.
            _ => CostModel::Serial { bits },
        }
    }

    /// True when the per-step cost depends on code values (not only on how many are held).
    pub fn needs_codes(&self) -> bool {
        matches!(
            self,
            CostModel::Binary { repetition: true }
                | CostModel::ZeroSkip { .. }
                | CostModel::BitSparse { .. }
                | CostModel::SwisGroups
                | CostModel::FixedBits { .. }
        )
    }
}

/// Non-zero digits of `v` in canonical signed-digit form (no two adjacent non-zero digits).
pub fn csd_digits(v: i32) -> u32 {
    let x = v.unsigned_abs() as u64;
    // The non-adjacent form has a non-zero digit wherever x and 3x differ, one position up.
    ((x ^ (3 * x)) >> 1).count_ones()
}

/// Effectual digits of a weight code under an encoding.
pub fn effectual_digits(code: i32, encoding: BitEncoding) -> u32 {
    match encoding {
        BitEncoding::Binary => code.unsigned_abs().count_ones(),
        BitEncoding::Csd => csd_digits(code),
    }
}

/// Per-step cost and actions of one PE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PeStep {
    /// Cycles the PE needs per step (at least 1: a PE always passes its operands on).
    pub cycles: u64,
    /// Weights held (valid K indices).
    pub held: u64,
    /// Multiplications per step (dense MACs).
    pub mults: u64,
    /// Additions/subtractions into the accumulator per step.
    pub adds: u64,
    /// Shifter operations per step (SWIS shared shifter, bit-serial shift-accumulate).
    pub shifts: u64,
    /// Lane-cycles doing effectual work per step.
    pub busy_lane_cycles: u64,
}

/// The codes a PE holds, as a slice of one filter's codes from K offset `k0`.
pub struct PeWeights<'a> {
    /// The filter's codes (all K), or None when the cost model does not need values.
    pub codes: Option<&'a [i32]>,
    /// SWIS N_g of the filter's groups (group = `lanes` consecutive weights), if any.
    pub group_bits: Option<&'a [u8]>,
    /// Filter length (K).
    pub k: u64,
    /// First K index the PE holds.
    pub k0: u64,
}

/// Cost of one PE per step.
pub fn pe_step(
    model: CostModel,
    lanes: u64,
    slots: u64,
    scope: SyncScope,
    w: &PeWeights,
) -> PeStep {
    let held = w.k.saturating_sub(w.k0).min(lanes * slots);
    let occupied_slots = held.div_ceil(lanes);
    let code = |i: u64| w.codes.map_or(1, |c| c[(w.k0 + i) as usize]);
    let mut st = PeStep {
        held,
        ..PeStep::default()
    };
    match model {
        CostModel::Dense => {
            st.cycles = occupied_slots;
            st.mults = held;
            st.adds = held;
            st.busy_lane_cycles = held;
        }
        CostModel::Binary { repetition } => {
            if repetition {
                // y = 2 * sum(a at +1) - window_sum: only the rarer sign is accumulated; the
                // window sum is shared by every filter of the row (counted once per row).
                let plus = (0..held).filter(|&i| code(i) > 0).count() as u64;
                let work = plus.min(held - plus);
                st.cycles = work.div_ceil(lanes);
                st.adds = work;
                st.busy_lane_cycles = work;
            } else {
                st.cycles = occupied_slots;
                st.adds = held;
                st.busy_lane_cycles = held;
            }
        }
        CostModel::ZeroSkip { repetition } => {
            let nnz = (0..held).filter(|&i| code(i) != 0).count() as u64;
            // With repetition, a one-sign filter may sum its zero positions instead and
            // subtract from the shared window sum, whichever list is shorter.
            let work = if repetition { nnz.min(held - nnz) } else { nnz };
            st.cycles = work.div_ceil(lanes);
            st.adds = work;
            st.busy_lane_cycles = work;
        }
        CostModel::Serial { bits } => {
            st.cycles = occupied_slots * bits as u64;
            st.adds = held * bits as u64;
            st.shifts = held * bits as u64;
            st.busy_lane_cycles = held * bits as u64;
        }
        CostModel::BitSparse { encoding } => {
            let digits = |i: u64| effectual_digits(code(i), encoding) as u64;
            let total: u64 = (0..held).map(digits).sum();
            st.cycles = if scope == SyncScope::Lane {
                // Each lane walks its own slots.
                (0..lanes.min(held))
                    .map(|l| (l..held).step_by(lanes as usize).map(digits).sum::<u64>())
                    .max()
                    .unwrap_or(0)
            } else {
                // Lanes advance slot by slot together: a slot costs its slowest lane.
                (0..occupied_slots)
                    .map(|s| {
                        (s * lanes..((s + 1) * lanes).min(held))
                            .map(digits)
                            .max()
                            .unwrap_or(0)
                    })
                    .sum()
            };
            st.adds = total;
            st.shifts = total;
            st.busy_lane_cycles = total;
        }
        CostModel::SwisGroups => {
            let groups = w.group_bits.expect("SWIS cost needs group metadata");
            let g0 = (w.k0 / lanes) as usize;
            let mut cycles = 0;
            for s in 0..occupied_slots as usize {
                let n_g = groups[g0 + s] as u64;
                let in_slot = (held - s as u64 * lanes).min(lanes);
                cycles += n_g;
                st.busy_lane_cycles += n_g * in_slot;
                st.shifts += n_g;
            }
            // Each set bit of a kept position is one add of the shifted activation.
            st.adds = (0..held)
                .map(|i| code(i).unsigned_abs().count_ones() as u64)
                .sum();
            st.cycles = cycles;
        }
        CostModel::FixedBits { bits } => {
            st.cycles = occupied_slots * bits as u64;
            st.adds = (0..held)
                .map(|i| code(i).unsigned_abs().count_ones() as u64)
                .sum();
            st.shifts = occupied_slots * bits as u64;
            st.busy_lane_cycles = held * bits as u64;
        }
    }
    st.cycles = st.cycles.max(1);
    st
}

/// Per-filter group N_g slice for SWIS cost, when the layer's groups match the PE's lanes.
pub fn filter_group_bits(q: &QuantizedTensor, filter: usize) -> Option<&[u8]> {
    let g = q.groups.as_ref()?;
    let per = g.groups_per_filter as usize;
    Some(&g.shared[filter * per..(filter + 1) * per])
}

/// The SWIS group size of a layer when it differs from the PE's lanes (a SWIS PE processes
/// one group per slot, one lane per weight).
pub fn swis_group_mismatch(q: &QuantizedTensor, lanes: u32) -> Option<u32> {
    match q.scheme {
        Scheme::Swis { group_size, .. } if group_size != lanes => Some(group_size),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Non-zero digits of the non-adjacent form, built digit by digit.
    fn naf_nonzeros(mut x: i64) -> u32 {
        let mut n = 0;
        while x != 0 {
            if x & 1 == 1 {
                let d = 2 - (x & 3); // +1 or -1
                x -= d;
                n += 1;
            }
            x >>= 1;
        }
        n
    }

    #[test]
    fn csd_digits_match_naf() {
        for v in -40000..40000 {
            assert_eq!(csd_digits(v), naf_nonzeros((v as i64).abs()), "v = {v}");
        }
        assert_eq!(csd_digits(7), 2); // 8 - 1
        assert_eq!(csd_digits(0b1011_1011), 4);
    }
}
