//! The engine's shortcuts equal the long way round: the closed form of a uniform layer (only
//! the distinct fold shapes evaluated) equals evaluating every fold; a SWIS PE's cost from
//! the code set's prefix sums equals its group-by-group cost; and a design that reuses a code
//! set's cached step costs gets the same result as one on a fresh copy of the codes.

mod common;

use plumsim::arch::Arch;
use plumsim::engine::{self, folds, LayerPlan};
use plumsim::pe::swis::SharedPositions;
use plumsim::pe::{PeWeights, ShifterPlacement, SkipNetwork, StepContext, StepCost};
use plumsim::quant::prefix::Derived;
use plumsim::quant::{QuantizedTensor, SwisGroups};
use plumsim::workload::Network;
use proptest::prelude::*;

use common::ArchToml;

/// Both fold loops on the network's one layer.
fn both(
    arch: &Arch,
    net: &Network,
    codes: Option<&QuantizedTensor>,
) -> (folds::FoldSums, folds::FoldSums) {
    let layer = &net.layers[0];
    let gemm = layer.gemm(net).unwrap();
    let plan = LayerPlan::new(arch, layer, gemm, codes).unwrap();
    let m_tile = engine::layer_m_tile(arch, net, layer, &gemm, codes);
    let ft = engine::fold_timing(arch, &plan, m_tile);
    (
        folds::fold_loop(arch, &plan, &ft),
        folds::fold_loop_every_fold(arch, &plan, &ft),
    )
}

/// Small buffers with limited ports, so M-tiles and port stalls take part.
const TIGHT: &str = "[buffers.input]\ncapacity_bytes = 2048\nread_words_per_cycle = 1.0\n\
    [buffers.weight]\ncapacity_bytes = 2048\nread_words_per_cycle = 2.0\n\
    [buffers.output]\ncapacity_bytes = 2048\nread_words_per_cycle = 1.0\nwrite_words_per_cycle = 1.0\n\
    [dram]\nideal = true\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Dense, bit-serial and binary (no repetition) layers: every PE of a chunk costs the
    /// same, and the six fold shapes give what walking every fold gives.
    #[test]
    fn uniform_layers_in_closed_form_equal_every_fold(
        rows in 1u32..7, cols in 1u32..7, lanes in 1u32..5, slots in 1u32..4,
        m in 1u64..40, k in 1u64..90, n in 1u64..40,
        kind in 0usize..3, scope in 0usize..5, tight in any::<bool>(),
    ) {
        let (kind, quant, pe) = [
            ("dense", r#"{"scheme": "int", "weight_bits": 8}"#, String::new()),
            ("bit_serial", r#"{"scheme": "int", "weight_bits": 5}"#, "shifter = \"lane\"".to_string()),
            ("binary", r#"{"scheme": "binary"}"#, "exploit_repetition = false".to_string()),
        ][kind].clone();
        let scope = ["array", "row", "column", "pe", "lane"][scope];
        let pe_extra = format!("lanes = {lanes}\nweights_per_lane = {slots}\n{pe}");
        let array_extra = format!("sync_scope = \"{scope}\"\nschedule = true");
        let arch = ArchToml {
            rows, cols, kind, pe_extra: &pe_extra, array_extra: &array_extra,
            rest: if tight { TIGHT } else { common::BIG_MEMORY },
            ..Default::default()
        }.arch();
        let net = common::gemm_net(m, k, n, quant);
        let codes = common::codes_for(&net, 7);
        let (closed, walked) = both(&arch, &net, codes[0].as_ref());
        prop_assert_eq!(closed, walked);
    }

    /// A SWIS PE's cost from the prefix sums over its groups equals summing them slot by slot,
    /// for any chunk (lanes x slots weights from k0), short last groups included.
    #[test]
    fn swis_prefix_cost_equals_group_by_group(
        lanes in 1u64..9, slots in 1u64..9, k in 1usize..200,
        filters in 1usize..4, seed in any::<u64>(), lane_shifter in any::<bool>(),
    ) {
        let per = k.div_ceil(lanes as usize);
        let mut x = seed | 1;
        let shared: Vec<u8> = (0..filters * per).map(|_| {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            (x % 9) as u8
        }).collect();
        let groups = SwisGroups {
            group_size: lanes as u32,
            groups_per_filter: per as u32,
            shared: shared.clone(),
            masks: vec![0; filters * per],
            metadata_bits_per_group: 7,
        };
        let derived = Derived::default();
        let prefix = derived.group_prefix(&groups, k).expect("small sums fit");
        let cost = SharedPositions {
            shifter: if lane_shifter { ShifterPlacement::Lane } else { ShifterPlacement::Pe },
        };
        let ctx = StepContext { lanes, slots, lane_scope: false, skip: SkipNetwork::Lane };
        let kpp = lanes * slots;
        for f in 0..filters {
            for k0 in (0..k as u64).step_by(kpp as usize) {
                let direct = PeWeights {
                    codes: None,
                    group_bits: Some(&shared[f * per..(f + 1) * per]),
                    group_prefix: None,
                    k: k as u64,
                    k0,
                };
                let summed = PeWeights { group_prefix: Some((prefix, f)), ..direct };
                let (direct, summed) = (&direct, &summed);
                prop_assert_eq!(cost.step(&ctx, direct), cost.step(&ctx, summed), "f {} k0 {}", f, k0);
            }
        }
    }
}

/// Cached step costs are keyed by everything that decides them: designs of different PE
/// shapes on one code set (one tensor, the cache filling as they run, in any order) get what
/// each gets on fresh codes.
#[test]
fn cached_step_costs_follow_the_pe_shape() {
    let net = common::gemm_net(
        13,
        150,
        21,
        r#"{"scheme": "swis", "group_size": 4, "shared_bits": 2}"#,
    );
    let shared = common::codes_for(&net, 3);
    let designs: Vec<Arch> = [
        (4, 1, "array"),
        (4, 3, "row"),
        (4, 2, "pe"),
        (4, 3, "array"),
    ]
    .iter()
    .flat_map(|&(lanes, slots, scope)| {
        [(2, 3), (5, 2)].map(|(rows, cols)| {
            ArchToml {
                rows,
                cols,
                kind: "swis",
                pe_extra: &format!("lanes = {lanes}\nweights_per_lane = {slots}"),
                array_extra: &format!("sync_scope = \"{scope}\""),
                ..Default::default()
            }
            .arch()
        })
    })
    .collect();
    for round in 0..2 {
        for a in &designs {
            let fresh = common::codes_for(&net, 3);
            let cached = engine::simulate_quantized(a, &net, &shared).unwrap();
            assert_eq!(
                cached,
                engine::simulate_quantized(a, &net, &fresh).unwrap(),
                "round {round}"
            );
        }
    }
}
