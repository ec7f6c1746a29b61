//! `signed_binary`: PLUM's signed binarization (Kuhar et al.): each filter {0,+1} or {0,-1},
//! zero skipping as `ternary`, one sign per filter applied with the scale once per output.
//! With `exploit_repetition` a one-sign filter may sum its zero positions instead and subtract
//! them from the shared window sum, whichever list is shorter.

use super::bit_serial::Serial;
use super::ternary::{skipping_datapath, ZeroSkip};
use super::{Datapath, Kind, KindDoc, Pe, PeOption, StepCost};
use crate::quant::{QuantSpec, Scheme};

pub struct SignedBinary;

impl Kind for SignedBinary {
    fn name(&self) -> &'static str {
        "signed_binary"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[
            KindDoc {
                config: "`signed_binary`",
                cycles_per_step: "the skip network's cycles for the non-zero weights, as ternary; a filter has one sign, applied with the scale once per output",
                per_step: "nnz adds",
            },
            KindDoc {
                config: "`signed_binary`, `exploit_repetition`",
                cycles_per_step: "the skip network's cycles for the cheaper of the non-zero and the zero positions (ideal: ceil(min(nnz, held - nnz) / lanes)): a one-sign filter may sum its zero positions and subtract them from the shared window sum",
                per_step: "as left",
            },
        ]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::ExploitRepetition, PeOption::Skip]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, quant: &QuantSpec) -> Result<Box<dyn StepCost>, String> {
        Ok(match &quant.scheme {
            Scheme::SignedBinary { .. } => Box::new(ZeroSkip {
                repetition: pe.exploit_repetition,
            }),
            other => Serial::fallback(other),
        })
    }

    fn datapath(&self, pe: &Pe) -> Datapath {
        // The filter's sign: one bit per PE.
        Datapath {
            extra_register_bits: 1,
            ..skipping_datapath(pe)
        }
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("signed_binary_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &[
            "exploit_repetition = false\nskip = \"ideal\"",
            "exploit_repetition = false\nskip = \"lane\"",
            "exploit_repetition = false\nskip = \"window\"",
            "exploit_repetition = true\nskip = \"ideal\"",
            "exploit_repetition = true\nskip = \"window\"\nlookahead = 1\nlookaside = 3",
        ]
    }
}
