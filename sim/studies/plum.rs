//! PLUM: binary vs ternary vs signed binary (with and without repetition) in PLUM's setting,
//! under buildable zero skipping (Bit-Tactical's window, the shipped designs; lane-private)
//! with the ideal crossbar beside them as an upper bound, the fair int8 design for context,
//! and the per-layer speedup of signed binary over binary under each skip network.

use crate::plot::labels::network_name;
use std::path::Path;

use serde::Serialize;

use super::{b, comparison, plot_both, s, table_of, Files, Runner, Variant};
use crate::compare::markdown;
use crate::energy::{self, EnergyTable};
use crate::error::Result;
use crate::plot::{self, BarOptions};
use crate::report::{round6, to_csv};

/// Designs one run of the study simulates.
pub fn design_count() -> u64 {
    designs().len() as u64
}

/// Binary (the baseline), binary with repetition, ternary, signed binary (window skipping),
/// signed binary with lane-private skipping and with the ideal crossbar (an upper bound),
/// signed binary with repetition, and the fair int8 design.
pub fn designs() -> Vec<Variant> {
    let sb = "signed_binary_pe16.toml";
    vec![
        Variant::shipped("binary_pe16.toml"),
        Variant::new(
            "binary_pe16.toml",
            "binary_pe16_repetition",
            vec![("pe.exploit_repetition", b(true)), ("pe.skip", s("window"))],
        ),
        Variant::shipped("ternary_pe16.toml"),
        Variant::shipped(sb),
        Variant::new(sb, "signed_binary_pe16_lane", vec![("pe.skip", s("lane"))])
            .unset(&["pe.lookahead", "pe.lookaside"]),
        Variant::new(
            sb,
            "signed_binary_pe16_ideal_upper_bound",
            vec![("pe.skip", s("ideal"))],
        )
        .unset(&["pe.lookahead", "pe.lookaside"]),
        Variant::new(
            sb,
            "signed_binary_pe16_repetition",
            vec![("pe.exploit_repetition", b(true))],
        ),
        Variant::shipped("dense_pe16.toml"),
    ]
}

/// Where the signed-binary designs of [`designs`] are: window (shipped), lane, ideal.
const SIGNED_BINARY: [(usize, &str); 3] = [(3, "window"), (4, "lane"), (5, "ideal")];

/// Signed binary over binary on one layer, under the three skip networks.
#[derive(Serialize)]
struct LayerSpeedup {
    layer: String,
    binary_total_cycles: u64,
    signed_binary_window_total_cycles: u64,
    signed_binary_lane_total_cycles: u64,
    signed_binary_ideal_total_cycles: u64,
    /// Speedups of signed binary over binary: window (the shipped design), lane-private,
    /// ideal crossbar (an upper bound).
    speedup_window: f64,
    speedup_lane: f64,
    speedup_ideal: f64,
    binary_energy_pj: f64,
    signed_binary_window_energy_pj: f64,
    energy_ratio_window: f64,
}

/// Run the study on shipped workload `wl`, files named `plum/<stem>*`; with `per_layer`, also
/// the per-layer speedup table and chart. Returns the markdown comparison.
pub fn study(
    files: &mut Files,
    out: &Path,
    r: &Runner,
    wl: &str,
    stem: &str,
    per_layer: bool,
) -> Result<String> {
    let (net, designs) = r.designs(&designs(), wl)?;
    let rows = comparison(
        files,
        &designs,
        &out.join(format!("plum/{stem}")),
        &format!("{}: energy per design", network_name(&net.name)),
    )?;
    if per_layer {
        let bin = &designs[0];
        let energy = |d: &crate::compare::DesignResult| {
            energy::run_energy(&d.arch, &EnergyTable::for_arch(&d.arch), &d.run)
        };
        let (eb, ew) = (energy(bin), energy(&designs[SIGNED_BINARY[0].0]));
        let cycles = |d: usize, i: usize| designs[d].run.layers[i].total_cycles();
        let rows: Vec<LayerSpeedup> = (0..bin.run.layers.len())
            .filter(|&i| bin.run.layers[i].gemm.is_some())
            .map(|i| {
                let bc = cycles(0, i);
                let [w, l, id] = SIGNED_BINARY.map(|(d, _)| cycles(d, i));
                let speedup = |c: u64| round6(bc as f64 / c as f64);
                LayerSpeedup {
                    layer: bin.run.layers[i].name.clone(),
                    binary_total_cycles: bc,
                    signed_binary_window_total_cycles: w,
                    signed_binary_lane_total_cycles: l,
                    signed_binary_ideal_total_cycles: id,
                    speedup_window: speedup(w),
                    speedup_lane: speedup(l),
                    speedup_ideal: speedup(id),
                    binary_energy_pj: round6(eb.layers[i].total_pj()),
                    signed_binary_window_energy_pj: round6(ew.layers[i].total_pj()),
                    energy_ratio_window: round6(eb.layers[i].total_pj() / ew.layers[i].total_pj()),
                }
            })
            .collect();
        files.push((
            out.join(format!("plum/{stem}_per_layer.csv")),
            to_csv(&rows).into_bytes(),
        ));
        let t = table_of(&rows, "per_layer")?;
        let o = BarOptions {
            columns: vec![
                "speedup_window".into(),
                "speedup_lane".into(),
                "speedup_ideal".into(),
            ],
            label: "layer".into(),
            stack: false,
            title: Some(format!(
                "{}: per-layer speedup of signed binary over binary (window, lane-private, ideal upper bound)",
                network_name(&net.name)
            )),
            width: 900,
            beside: None,
        };
        plot_both(
            files,
            &out.join(format!("plum/{stem}_per_layer_speedup")),
            |f| plot::bars(&t, &o, f, "per_layer"),
        )?;
    }
    Ok(markdown(&rows, "binary_pe16", &net.name))
}
