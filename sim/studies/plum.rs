//! PLUM: binary vs ternary vs signed binary (with and without repetition) in PLUM's setting,
//! and the per-layer speedup of signed binary over binary.

use std::path::Path;

use serde::Serialize;

use super::{b, comparison, plot_both, table_of, Files, Runner, Variant};
use crate::compare::markdown;
use crate::energy::{self, EnergyTable};
use crate::error::Result;
use crate::plot::{self, BarOptions};
use crate::report::{round6, to_csv};

/// Designs one run of the study simulates.
pub fn design_count() -> u64 {
    designs().len() as u64
}

/// Binary, binary with repetition, ternary, signed binary, signed binary with repetition.
pub fn designs() -> Vec<Variant> {
    let rep = || vec![("pe.exploit_repetition", b(true))];
    vec![
        Variant::shipped("binary_pe16.toml"),
        Variant::new("binary_pe16.toml", "binary_pe16_repetition", rep()),
        Variant::shipped("ternary_pe16.toml"),
        Variant::shipped("signed_binary_pe16.toml"),
        Variant::new(
            "signed_binary_pe16.toml",
            "signed_binary_pe16_repetition",
            rep(),
        ),
    ]
}

#[derive(Serialize)]
struct LayerSpeedup {
    layer: String,
    binary_total_cycles: u64,
    signed_binary_total_cycles: u64,
    speedup: f64,
    binary_energy_pj: f64,
    signed_binary_energy_pj: f64,
    energy_ratio: f64,
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
        &format!("{}: energy per design", net.name),
    )?;
    if per_layer {
        let (b, s) = (&designs[0], &designs[3]);
        let eb = energy::run_energy(&b.arch, &EnergyTable::for_arch(&b.arch), &b.run);
        let es = energy::run_energy(&s.arch, &EnergyTable::for_arch(&s.arch), &s.run);
        let rows: Vec<LayerSpeedup> = b
            .run
            .layers
            .iter()
            .zip(&s.run.layers)
            .zip(eb.layers.iter().zip(&es.layers))
            .filter(|((lb, _), _)| lb.gemm.is_some())
            .map(|((lb, ls), (e1, e2))| LayerSpeedup {
                layer: lb.name.clone(),
                binary_total_cycles: lb.total_cycles(),
                signed_binary_total_cycles: ls.total_cycles(),
                speedup: round6(lb.total_cycles() as f64 / ls.total_cycles() as f64),
                binary_energy_pj: round6(e1.total_pj()),
                signed_binary_energy_pj: round6(e2.total_pj()),
                energy_ratio: round6(e1.total_pj() / e2.total_pj()),
            })
            .collect();
        files.push((
            out.join(format!("plum/{stem}_per_layer.csv")),
            to_csv(&rows).into_bytes(),
        ));
        let t = table_of(&rows, "per_layer")?;
        let o = BarOptions {
            columns: vec!["speedup".into()],
            label: "layer".into(),
            stack: false,
            title: Some(format!(
                "{}: per-layer speedup of signed binary over binary",
                net.name
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
