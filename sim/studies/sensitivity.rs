//! Which design choices move the headline ratios most: signed binary over binary and SWIS
//! over bit-serial on ResNet-18 as lock-step scope, scheduling, buffer sizes, SWIS's G and N,
//! the skip network, the shifters, clock gating, the buffer ports and leakage change.

use std::path::Path;

use serde::Serialize;

use super::{b, int, s, Files, Runner, Variant};
use crate::error::Result;
use crate::report::{round6, to_csv};

/// Architecture fields to change, by dotted path.
type Edits = Vec<(&'static str, toml::Value)>;

/// One setting: (knob, setting, fields changed in every design, fields changed in the SWIS
/// design only (its `pe.` fields also apply to the bit-serial design), fields changed in the
/// signed-binary design only).
pub struct Setting {
    pub knob: String,
    pub setting: String,
    pub common: Edits,
    pub swis_only: Edits,
    pub signed_binary_only: Edits,
}

/// Designs the study simulates: four per setting.
pub fn design_count() -> u64 {
    designs().len() as u64
}

/// Every setting of the study.
pub fn settings() -> Vec<Setting> {
    let mut v = Vec::new();
    let mut push = |knob: &str, setting: &str, common: Edits, swis_only: Edits| {
        v.push(Setting {
            knob: knob.into(),
            setting: setting.into(),
            common,
            swis_only,
            signed_binary_only: Vec::new(),
        })
    };
    push("baseline", "shipped *_pe16", vec![], vec![]);
    for scope in ["lane", "pe", "row", "column", "array"] {
        let e = vec![("array.sync_scope", s(scope))];
        push("sync_scope", scope, e.clone(), e);
    }
    let e = vec![("array.schedule", b(false))];
    push("schedule", "off", e.clone(), e);
    for kib in [16i64, 64, 256] {
        let e = vec![
            ("buffers.input.capacity_bytes", int(kib * 1024)),
            ("buffers.weight.capacity_bytes", int(kib * 1024)),
            ("buffers.output.capacity_bytes", int(kib * 1024)),
        ];
        push("buffers", &format!("3 x {kib} KiB"), e.clone(), e);
    }
    for (g, n) in [(4i64, 3i64), (16, 3), (8, 2), (8, 4)] {
        push(
            "swis G, N",
            &format!("G = {g}, N = {n}"),
            vec![],
            vec![
                ("pe.lanes", int(g)),
                ("quant.group_size", int(g)),
                ("quant.shared_bits", int(n)),
            ],
        );
    }
    push(
        "shifters",
        "one per lane (bit-serial and SWIS)",
        vec![],
        vec![("pe.shifter", s("lane"))],
    );
    push(
        "clock_gating",
        "off",
        vec![("pe.clock_gating", b(false))],
        vec![],
    );
    let unlimited: Edits = PORTS.iter().map(|f| (*f, s("unlimited"))).collect();
    push("buffer ports", "unlimited (ideal)", unlimited, vec![]);
    push(
        "leakage",
        "x 10 (200 mW/mm^2)",
        vec![
            ("energy.logic_leakage_mw_per_mm2", toml::Value::Float(200.0)),
            ("energy.sram_leakage_mw_per_mm2", toml::Value::Float(200.0)),
        ],
        vec![],
    );
    for (name, edits) in [
        ("lane", vec![("pe.skip", s("lane"))]),
        ("ideal (upper bound)", vec![("pe.skip", s("ideal"))]),
    ] {
        v.push(Setting {
            knob: "skip network (signed binary)".into(),
            setting: name.into(),
            common: Vec::new(),
            swis_only: Vec::new(),
            signed_binary_only: edits,
        });
    }
    v
}

/// The port fields of the three buffers.
const PORTS: [&str; 6] = [
    "buffers.input.read_words_per_cycle",
    "buffers.input.write_words_per_cycle",
    "buffers.weight.read_words_per_cycle",
    "buffers.weight.write_words_per_cycle",
    "buffers.output.read_words_per_cycle",
    "buffers.output.write_words_per_cycle",
];

#[derive(Serialize)]
struct Sensitivity {
    knob: String,
    setting: String,
    signed_binary_speedup_vs_binary: f64,
    signed_binary_energy_ratio_vs_binary: f64,
    swis_speedup_vs_bitserial: f64,
    swis_energy_ratio_vs_bitserial: f64,
}

/// Run the study, file `sensitivity/resnet18.csv`.
/// The designs of the study, four per setting of [`settings`]: binary, signed binary,
/// bit-serial, SWIS.
pub fn designs() -> Vec<Variant> {
    let settings = settings();
    let mut designs = Vec::with_capacity(4 * settings.len());
    for st in &settings {
        let variant = |file: &'static str, label: &str, extra: &[(&'static str, toml::Value)]| {
            let mut set = st.common.clone();
            set.extend_from_slice(extra);
            Variant::new(file, label, set)
        };
        let lanes_set: Edits = st
            .swis_only
            .iter()
            .filter(|(k, _)| k.starts_with("pe."))
            .cloned()
            .collect();
        designs.push(variant("binary_pe16.toml", "binary", &[]));
        designs.push(
            variant(
                "signed_binary_pe16.toml",
                "signed_binary",
                &st.signed_binary_only,
            )
            .unset(if st.signed_binary_only.is_empty() {
                &[]
            } else {
                &["pe.lookahead", "pe.lookaside"]
            }),
        );
        designs.push(variant("bitserial_pe16.toml", "bitserial", &lanes_set));
        designs.push(variant("swis_pe16.toml", "swis", &st.swis_only));
    }
    designs
}

pub fn study(files: &mut Files, out: &Path, r: &Runner) -> Result<()> {
    let (wp, net) = crate::shipped::workload("resnet18.json")?;
    let settings = settings();
    let designs = designs();
    let runs = r.variants(&designs, &net, &wp)?;
    let mut rows = Vec::with_capacity(settings.len());
    for (st, four) in settings.into_iter().zip(runs.chunks_exact(4)) {
        let [bin, sb, bs, sw] = [0, 1, 2, 3].map(|i| four[i].summary());
        rows.push(Sensitivity {
            knob: st.knob,
            setting: st.setting,
            signed_binary_speedup_vs_binary: round6(
                bin.cycles.total_cycles as f64 / sb.cycles.total_cycles as f64,
            ),
            signed_binary_energy_ratio_vs_binary: round6(bin.energy_pj / sb.energy_pj),
            swis_speedup_vs_bitserial: round6(
                bs.cycles.total_cycles as f64 / sw.cycles.total_cycles as f64,
            ),
            swis_energy_ratio_vs_bitserial: round6(bs.energy_pj / sw.energy_pj),
        });
    }
    files.push((
        out.join("sensitivity/resnet18.csv"),
        to_csv(&rows).into_bytes(),
    ));
    Ok(())
}
