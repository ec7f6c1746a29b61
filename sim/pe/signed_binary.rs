//! `signed_binary`: PLUM's signed binarization (Kuhar et al.): each filter {0,+1} or {0,-1},
//! zero skipping as `ternary`, one sign per filter applied with the scale once per output.
//! With `exploit_repetition` a one-sign filter may sum its zero positions instead and subtract
//! them from the shared window sum, whichever list is shorter.

use super::bit_serial::Serial;
use super::ternary::ZeroSkip;
use super::{Kind, KindDoc, Pe, PeOption, StepCost};
use crate::quant::Scheme;

pub struct SignedBinary;

impl Kind for SignedBinary {
    fn name(&self) -> &'static str {
        "signed_binary"
    }

    fn doc(&self) -> &'static [KindDoc] {
        &[
            KindDoc {
                config: "`signed_binary`",
                cycles_per_step: "ceil(nnz / lanes), as ternary; a filter has one sign, applied with the scale once per output",
                per_step: "nnz adds",
            },
            KindDoc {
                config: "`signed_binary`, `exploit_repetition`",
                cycles_per_step: "ceil(min(nnz, held - nnz) / lanes): a one-sign filter may sum its zero positions and subtract from the shared window sum",
                per_step: "as left",
            },
        ]
    }

    fn options(&self) -> &'static [PeOption] {
        &[PeOption::ExploitRepetition]
    }

    fn skips_zero_activations(&self) -> bool {
        true
    }

    fn layer_cost(&self, pe: &Pe, scheme: &Scheme) -> Result<Box<dyn StepCost>, String> {
        Ok(match scheme {
            Scheme::SignedBinary { .. } => Box::new(ZeroSkip {
                repetition: pe.exploit_repetition,
            }),
            other => Serial::fallback(other),
        })
    }

    fn compare_design(&self) -> Option<&'static str> {
        Some("signed_binary_pe16.toml")
    }

    fn test_configs(&self) -> &'static [&'static str] {
        &["exploit_repetition = false", "exploit_repetition = true"]
    }
}
