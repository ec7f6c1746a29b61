//! Which design choices move the headline ratios most: signed binary over binary and SWIS
//! over bit-serial on ResNet-18 as lock-step scope, scheduling, buffer sizes and SWIS's G and N
//! change.

use std::path::Path;

use serde::Serialize;

use super::{b, int, s, Files, Runner, Variant};
use crate::error::Result;
use crate::report::{round6, to_csv};

/// Architecture fields to change, by dotted path.
type Edits = Vec<(&'static str, toml::Value)>;

/// One setting: (knob, setting, fields changed in every design, fields changed in the SWIS
/// design only; its `pe.` fields also apply to the bit-serial design).
pub struct Setting {
    pub knob: String,
    pub setting: String,
    pub common: Edits,
    pub swis_only: Edits,
}

/// Designs the study simulates: four per setting.
pub fn design_count() -> u64 {
    4 * settings().len() as u64
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
    v
}

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
pub fn study(files: &mut Files, out: &Path, r: &Runner) -> Result<()> {
    let (wp, net) = crate::shipped::workload("resnet18.json")?;
    let mut rows = Vec::new();
    for st in settings() {
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
        let run = |v: Variant| r.variant(&v, &net, &wp).map(|d| d.summary());
        let bin = run(variant("binary_pe16.toml", "binary", &[]))?;
        let sb = run(variant("signed_binary_pe16.toml", "signed_binary", &[]))?;
        let bs = run(variant("bitserial_pe16.toml", "bitserial", &lanes_set))?;
        let sw = run(variant("swis_pe16.toml", "swis", &st.swis_only))?;
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
