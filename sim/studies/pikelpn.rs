//! PikeLPN: ACE vs ACEv2 and the elementwise energy share at each weight precision, with
//! batch norm separate, folded or quantized.

use crate::plot::labels::network_name;
use std::path::Path;

use serde::Serialize;

use super::{b, energy_bars, int, plot_both, table_of, Files, Runner, Variant};
use crate::compare::compare_rows;
use crate::error::Result;
use crate::plot::{self, BarOptions};
use crate::report::{round6, to_csv};
use crate::workload::BatchNormMode;

/// Designs one run of the study simulates: each design in three batch-norm modes.
pub fn design_count() -> u64 {
    3 * designs().len() as u64
}

/// Dense int8, bit-serial int4, SWIS, binary and signed binary.
pub fn designs() -> Vec<Variant> {
    vec![
        Variant::new(
            "dense_ws16.toml",
            "dense_int8",
            vec![("array.tile_m", b(true))],
        ),
        Variant::new(
            "bitserial_pe16.toml",
            "bitserial_int4",
            vec![("quant.weight_bits", int(4))],
        ),
        Variant::shipped("swis_pe16.toml"),
        Variant::shipped("binary_pe16.toml"),
        Variant::shipped("signed_binary_pe16.toml"),
    ]
}

#[derive(Serialize)]
struct ElementwiseRow {
    design: String,
    batch_norm: String,
    ace_gbit_ops: f64,
    ace_v2_gbit_ops: f64,
    elementwise_ace_v2_pct: f64,
    energy_uj: f64,
    vector_energy_pct: f64,
    vector_exposed_cycles: u64,
    total_cycles: u64,
}

/// Run the study on shipped workload `wl`, files named `pikelpn/<stem>*`.
pub fn study(files: &mut Files, out: &Path, r: &Runner, wl: &str, stem: &str) -> Result<()> {
    let (wp, net) = crate::shipped::workload(wl)?;
    let mut rows = Vec::new();
    let mut breakdown = Vec::new();
    let mut runs = Vec::new();
    for v in designs() {
        let arch = v.arch()?;
        for bn in [
            BatchNormMode::Separate,
            BatchNormMode::Quantized,
            BatchNormMode::Folded,
        ] {
            runs.push((arch.clone(), bn));
        }
    }
    let done = r.grouped(
        &runs,
        |(arch, _)| super::scheme_key(arch),
        |(arch, bn)| {
            let mut n = net.clone();
            n.batch_norm = *bn;
            r.run(arch.clone(), &n, &wp)
        },
    )?;
    for ((_, bn), d) in runs.into_iter().zip(done) {
        let sum = d.summary();
        rows.push(ElementwiseRow {
            design: d.label.clone(),
            batch_norm: format!("{bn:?}").to_lowercase(),
            ace_gbit_ops: round6(sum.ace_bit_ops / 1e9),
            ace_v2_gbit_ops: round6(sum.ace_v2_bit_ops / 1e9),
            elementwise_ace_v2_pct: round6(
                100.0 * (sum.ace_v2_bit_ops - sum.ace_bit_ops) / sum.ace_v2_bit_ops,
            ),
            energy_uj: round6(sum.energy_pj / 1e6),
            vector_energy_pct: round6(100.0 * sum.energy.vector_pj / sum.energy_pj),
            vector_exposed_cycles: sum.cycles.vector_exposed_cycles,
            total_cycles: sum.cycles.total_cycles,
        });
        if bn == BatchNormMode::Separate {
            breakdown.push(d);
        }
    }
    files.push((
        out.join(format!("pikelpn/{stem}_elementwise.csv")),
        to_csv(&rows).into_bytes(),
    ));
    let cmp = compare_rows(&breakdown, 0);
    energy_bars(
        files,
        &cmp,
        &out.join(format!("pikelpn/{stem}_energy_by_precision")),
        &format!(
            "{}: energy breakdown by weight precision (vector = elementwise unit)",
            network_name(&net.name)
        ),
    )?;
    let t = table_of(
        &rows
            .iter()
            .filter(|r| r.batch_norm == "separate")
            .collect::<Vec<_>>(),
        "elementwise",
    )?;
    let o = BarOptions {
        columns: vec!["ace_gbit_ops".into(), "ace_v2_gbit_ops".into()],
        label: "design".into(),
        stack: false,
        title: Some(format!(
            "{}: ACE and ACEv2 (ACEv2 counts elementwise operations)",
            network_name(&net.name)
        )),
        width: 900,
        beside: None,
    };
    plot_both(
        files,
        &out.join(format!("pikelpn/{stem}_ace_vs_acev2")),
        |f| plot::bars(&t, &o, f, "elementwise"),
    )
}
