//! Fidelity: the trained ResNet-20 run on real CIFAR-10 images under every weight format the
//! shipped designs use, post-training (no retraining): the quantized datapath against the
//! fp32 network (top-1 agreement, logit SQNR, accuracy against the labels), beside each
//! design's cycles, energy and area, and the energy-vs-fidelity front.
//!
//! Binary, ternary and signed binary run in PLUM's setting (stem and classifier at int8,
//! `resnet20_cifar10_plum.json`), the others on `resnet20_cifar10.json`. SWIS against the
//! truncation baseline by N is SWIS's accuracy claim (shared positions beat the top N
//! consecutive bits at 4 bits and below).

use std::path::Path;

use serde::Serialize;

use super::{int, plot_both, s, table_of, Files, Runner, Variant};
use crate::error::Result;
use crate::functional::{Calibrate, Samples};
use crate::pareto::{front, Sense};
use crate::plot::{self, ScatterOptions};
use crate::report::{round6, to_csv};

/// A design of the study: the variant, the workload it runs, and the activation width of
/// every layer when the study narrows it (a workload's setting, not the architecture's).
pub struct Design {
    pub variant: Variant,
    pub workload: &'static str,
    pub activation_bits: Option<u32>,
    /// A calibration other than the inputs' default (per-tensor max).
    pub calibration: Option<Calibrate>,
}

/// The designs and the workload each runs.
pub fn designs() -> Vec<Design> {
    raw_designs()
        .into_iter()
        .map(|(variant, workload)| {
            let activation_bits = variant.label.contains("_a4").then_some(4);
            let calibration = variant
                .label
                .ends_with("_p99.5")
                .then_some(Calibrate::Percentile(99.5));
            Design {
                variant,
                workload,
                activation_bits,
                calibration,
            }
        })
        .collect()
}

fn raw_designs() -> Vec<(Variant, &'static str)> {
    let full = "resnet20_cifar10.json";
    let plum = "resnet20_cifar10_plum.json";
    let sw = "swis_pe16.toml";
    let dense = "dense_pe16.toml";
    let mut v = vec![
        (Variant::shipped(dense), full),
        (
            Variant::new(
                dense,
                "dense_pe16_int6",
                vec![("quant.weight_bits", int(6))],
            ),
            full,
        ),
        (
            Variant::new(
                dense,
                "dense_pe16_int4",
                vec![("quant.weight_bits", int(4))],
            ),
            full,
        ),
        (
            Variant::new(
                dense,
                "dense_pe16_int4_a4",
                vec![("quant.weight_bits", int(4))],
            ),
            full,
        ),
        (
            Variant::new(
                dense,
                "dense_pe16_int4_a4_p99.5",
                vec![("quant.weight_bits", int(4))],
            ),
            full,
        ),
    ];
    for n in 1..=4 {
        v.push((
            Variant::new(
                sw,
                &format!("swis_g8_n{n}"),
                vec![("quant.shared_bits", int(n))],
            ),
            full,
        ));
        v.push((
            Variant::new(
                sw,
                &format!("truncate_n{n}"),
                vec![
                    ("quant.scheme", s("truncate")),
                    ("quant.shared_bits", int(n)),
                ],
            )
            .unset(&["quant.group_size"]),
            full,
        ));
    }
    v.push((Variant::shipped("bitserial_pe16.toml"), full));
    v.push((
        Variant::new(
            "bitserial_pe16.toml",
            "stripes_pe16",
            vec![("pe.serial_operand", s("activation"))],
        ),
        full,
    ));
    v.push((
        Variant::new(
            "bitserial_pe16.toml",
            "stripes_pe16_dynamic",
            vec![
                ("pe.serial_operand", s("activation")),
                ("pe.dynamic_precision", super::b(true)),
            ],
        ),
        full,
    ));
    v.push((Variant::shipped("pragmatic_pe16.toml"), full));
    v.push((Variant::shipped("loom_pe16.toml"), full));
    v.push((Variant::shipped("bitsparse_pe16.toml"), full));
    for base in [
        "binary_pe16.toml",
        "ternary_pe16.toml",
        "signed_binary_pe16.toml",
    ] {
        v.push((Variant::shipped(base), plum));
    }
    v
}

/// Designs one run of the study simulates (each twice: on the real inputs and without).
pub fn design_count() -> u64 {
    2 * designs().len() as u64
}

/// One design on the real inputs.
#[derive(Debug, Clone, Serialize)]
struct Row {
    design: String,
    workload: String,
    pe_kind: String,
    /// The weight format of the layers the design's scheme reaches.
    weights: String,
    activation_bits: u32,
    /// How the stored activations were calibrated.
    calibration: String,
    inputs: u64,
    top1_agreements: u64,
    top1_agreement_pct: f64,
    quantized_correct: u64,
    quantized_top1_pct: f64,
    reference_correct: u64,
    logit_sqnr_db: Option<f64>,
    /// Mean over the array layers of their output SQNR (errors of earlier layers included).
    array_layer_sqnr_mean_db: f64,
    /// Timed on the activations of the real inputs (the first `batch`).
    total_cycles: u64,
    /// Timed without them (zero_density statistics; activation-serial PEs at full scale).
    total_cycles_without_inputs: u64,
    /// total_cycles_without_inputs over total_cycles.
    real_activation_speedup: f64,
    energy_uj: f64,
    area_mm2: f64,
    /// On the front of energy (minimized) against logit SQNR (maximized).
    on_front: bool,
}

/// Run the study on `inputs` (the CIFAR-10 images), files `fidelity/resnet20_cifar10_*`.
/// Returns the markdown table.
pub fn study(files: &mut Files, out: &Path, r: &Runner, inputs: Samples) -> Result<String> {
    let mut rows = Vec::new();
    for design in designs() {
        let (wp, mut net) = crate::shipped::workload(design.workload)?;
        if let Some(bits) = design.activation_bits {
            for l in &mut net.layers {
                l.quant.activation_bits = bits;
            }
        }
        let arch = design.variant.arch()?;
        let samples = Samples {
            calibration: design.calibration.unwrap_or(inputs.calibration),
            ..inputs
        };
        let (d, fid) = r.functional(&arch, &net, &wp, samples)?;
        let without = r
            .run(arch.clone(), &net, &wp)?
            .summary()
            .cycles
            .total_cycles;
        let net = crate::pipeline::design_network(&arch, &net);
        let sm = d.summary();
        let n = &fid.network;
        let array: Vec<f64> = fid
            .layers
            .iter()
            .filter(|l| l.input_scale.is_some())
            .filter_map(|l| l.output_sqnr_db)
            .collect();
        let middle = net
            .layers
            .iter()
            .find(|l| !l.own_scheme && l.weight_shape().is_some());
        rows.push(Row {
            design: d.label.clone(),
            workload: net.name.clone(),
            pe_kind: d.arch.pe.kind.as_str().into(),
            weights: middle.map_or_else(String::new, |l| l.quant.scheme.label()),
            activation_bits: middle.map_or(8, |l| l.quant.activation_bits),
            calibration: samples.calibration.describe(),
            inputs: n.inputs,
            top1_agreements: n.top1_agreements,
            top1_agreement_pct: n.top1_agreement_pct,
            quantized_correct: n.quantized_correct.unwrap_or(0),
            quantized_top1_pct: n.quantized_top1_pct.unwrap_or(0.0),
            reference_correct: n.reference_correct.unwrap_or(0),
            logit_sqnr_db: n.logit_sqnr_db,
            array_layer_sqnr_mean_db: round6(array.iter().sum::<f64>() / array.len().max(1) as f64),
            total_cycles: sm.cycles.total_cycles,
            total_cycles_without_inputs: without,
            real_activation_speedup: round6(without as f64 / sm.cycles.total_cycles.max(1) as f64),
            energy_uj: round6(sm.energy_pj / 1e6),
            area_mm2: sm.area_mm2,
            on_front: false,
        });
    }
    let objs: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| vec![r.energy_uj, r.logit_sqnr_db.unwrap_or(f64::INFINITY)])
        .collect();
    for i in front(&objs, &[Sense::Minimize, Sense::Maximize]) {
        rows[i].on_front = true;
    }
    files.push((
        out.join("fidelity/resnet20_cifar10_fidelity.csv"),
        to_csv(&rows).into_bytes(),
    ));
    let t = table_of(&rows, "fidelity")?;
    let o = ScatterOptions {
        x: "logit_sqnr_db".into(),
        y: "energy_uj".into(),
        color_by: Some("pe_kind".into()),
        pareto: Some((Sense::Maximize, Sense::Minimize)),
        also: Vec::new(),
        group_by: None,
        label: Some("design".into()),
        label_all: true,
        log_x: false,
        log_y: false,
        title: Some(format!(
            "ResNet-20 (CIFAR-10) on {} images: energy vs logit SQNR against FP32 (post-training)",
            inputs.values.len()
        )),
        size: (1000, 700),
    };
    plot_both(
        files,
        &out.join("fidelity/resnet20_cifar10_energy_vs_sqnr"),
        |f| plot::scatter(&t, &o, f, "fidelity"),
    )?;
    let mut md = format!(
        "### resnet20_cifar10 on {} real CIFAR-10 images (post-training, fp32 reference {}/{} correct)\n\n| design | weights | agreement with fp32 | top-1 vs labels | logit SQNR (dB) | cycles (real activations) | cycles (without inputs) | energy (uJ) |\n|---|---|---|---|---|---|---|---|\n",
        inputs.values.len(),
        rows.first().map_or(0, |r| r.reference_correct),
        inputs.values.len()
    );
    for r in &rows {
        md.push_str(&format!(
            "| {} | {} (a{}) | {}/{} | {}/{} | {} | {} | {} | {:.3} |\n",
            r.design,
            r.weights,
            r.activation_bits,
            r.top1_agreements,
            r.inputs,
            r.quantized_correct,
            r.inputs,
            r.logit_sqnr_db
                .map_or("exact".into(), |d| format!("{d:.2}")),
            r.total_cycles,
            r.total_cycles_without_inputs,
            r.energy_uj
        ));
    }
    Ok(md)
}
