//! Fidelity figures: how far the quantized datapath is from the fp32 reference, per layer
//! and for the network's outputs, over a set of inputs; every percentage carries its count.

use rayon::prelude::*;

use super::{Calibration, LayerTally, Model, Reference, SampleRun};
use crate::columns::round6;

crate::record! {
    /// One row of `fidelity.csv`: a layer of the quantized datapath against the fp32 reference.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LayerFidelity {
        /// Layer name.
        pub layer: String = Label,
        /// Operator.
        pub op: String = Label,
        /// Width the layer's output is stored at (array layers: also of the activations they multiply).
        pub activation_bits: u32 = Bits,
        /// 10 log10(sum ref^2 / sum (ref - quantized)^2) of the layer's output over all inputs, errors of earlier layers included; blank when the two are equal.
        pub output_sqnr_db: Option<f64> = Decibels,
        /// Output codes saturated by requantization, of all output elements.
        pub output_clipped_fraction: f64 = Number,
        /// Array layers: zero codes among the input activations they multiply.
        pub input_zero_fraction: Option<f64> = Number,
        /// Array layers: mean ones in an input activation's magnitude (the effectual bits a Pragmatic-style PE spends).
        pub input_effectual_bits_mean: Option<f64> = Number,
        /// Array layers: value of activation code 1 (the calibrated scale of the input).
        pub input_scale: Option<f64> = Number,
        /// Array layers: the input is stored signed (the reference made it negative).
        pub input_signed: Option<bool> = Flag,
        /// Array layers: output sums that did not fit the accumulator (wrapped).
        pub accumulator_overflows: u64 = Count,
        /// Inputs the figures are over.
        pub inputs: u64 = Count,
    }
}

crate::record! {
    /// The network's outputs (logits) under the quantized datapath against the fp32 reference.
    #[derive(Debug, Clone, PartialEq)]
    pub struct NetworkFidelity {
        /// Inputs run.
        pub inputs: u64 = Count,
        /// How activation formats were calibrated.
        pub calibration: String = Label,
        /// Inputs whose top-1 class is the same under both networks.
        pub top1_agreements: u64 = Count,
        /// top1_agreements over inputs.
        pub top1_agreement_pct: f64 = Percent,
        /// Output SQNR over all inputs: 10 log10(sum ref^2 / sum (ref - quantized)^2); blank when equal.
        pub logit_sqnr_db: Option<f64> = Decibels,
        /// Inputs with a known label.
        pub labelled_inputs: u64 = Count,
        /// Labelled inputs the fp32 reference classifies correctly.
        pub reference_correct: Option<u64> = Count,
        /// reference_correct over labelled_inputs.
        pub reference_top1_pct: Option<f64> = Percent,
        /// Labelled inputs the quantized datapath classifies correctly.
        pub quantized_correct: Option<u64> = Count,
        /// quantized_correct over labelled_inputs.
        pub quantized_top1_pct: Option<f64> = Percent,
        /// Largest |fp32 - given logits| / max |given logits| over the inputs, when the inputs come with reference logits.
        pub reference_logits_max_rel_error: Option<f64> = Number,
        /// Output sums of all array layers that did not fit the accumulator, over all inputs.
        pub accumulator_overflows: u64 = Count,
    }
}

/// Per-layer rows and the network's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Fidelity {
    pub layers: Vec<LayerFidelity>,
    pub network: NetworkFidelity,
}

/// Real inputs of a functional run, each a sample of the network's input.
#[derive(Debug, Clone, Copy)]
pub struct Samples<'a> {
    pub values: &'a [Vec<f32>],
    /// A class per input, when known.
    pub labels: Option<&'a [u32]>,
    /// The fp32 logits someone else computed for these inputs, when given.
    pub reference_logits: Option<&'a [Vec<f32>]>,
    /// How the stored activation ranges are calibrated on them.
    pub calibration: super::Calibrate,
}

/// A functional run: its figures, the calibration, and the input codes of every array layer
/// over the first `timed` inputs (concatenated, batch first), for timing.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub fidelity: Fidelity,
    pub calibration: Calibration,
    pub input_codes: Vec<Option<Vec<i32>>>,
}

fn sqnr(signal: f64, noise: f64) -> Option<f64> {
    (noise > 0.0).then(|| round6(10.0 * (signal / noise).log10()))
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        round6(100.0 * n as f64 / of as f64)
    }
}

/// The first index of the largest value.
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Calibrate on `samples`, run every sample through both networks (in parallel; reduced in
/// input order) and summarize. The first `timed` samples keep their array layers' input codes.
pub fn evaluate(model: &Model, samples: Samples, timed: usize) -> Evaluation {
    evaluate_with(
        model,
        &Reference::new(model, samples.values, samples.calibration, 0),
        samples,
        timed,
    )
}

/// [`evaluate`] against a reference computed before (shared by every design on the inputs).
pub fn evaluate_with(
    model: &Model,
    reference: &Reference,
    samples: Samples,
    timed: usize,
) -> Evaluation {
    let calibration = reference.calibration.clone();
    let runs: Vec<SampleRun> = samples
        .values
        .par_iter()
        .enumerate()
        .map(|(j, x)| super::run_sample(model, reference, j, x, j < timed))
        .collect();
    let net = model.net;
    let n = runs.len() as u64;
    let mut tallies = vec![LayerTally::default(); net.layers.len()];
    let (mut signal, mut noise, mut agree) = (0f64, 0f64, 0u64);
    let (mut ref_ok, mut q_ok) = (0u64, 0u64);
    let mut max_rel: Option<f64> = None;
    let mut input_codes: Vec<Option<Vec<i32>>> = vec![None; net.layers.len()];
    for (j, r) in runs.iter().enumerate() {
        for (t, o) in tallies.iter_mut().zip(&r.layers) {
            t.add(o);
        }
        for (&a, &b) in r.reference.iter().zip(&r.quantized) {
            signal += (a as f64).powi(2);
            noise += (a as f64 - b as f64).powi(2);
        }
        let (top_ref, top_q) = (argmax(&r.reference), argmax(&r.quantized));
        agree += (top_ref == top_q) as u64;
        if let Some(labels) = samples.labels {
            ref_ok += (top_ref == labels[j] as usize) as u64;
            q_ok += (top_q == labels[j] as usize) as u64;
        }
        if let Some(given) = samples.reference_logits.and_then(|l| l.get(j)) {
            let scale = given.iter().fold(0f64, |m, &v| m.max((v as f64).abs()));
            let err = r
                .reference
                .iter()
                .zip(given)
                .fold(0f64, |m, (&a, &b)| m.max((a as f64 - b as f64).abs()));
            let rel = if scale > 0.0 { err / scale } else { err };
            max_rel = Some(max_rel.map_or(rel, |m: f64| m.max(rel)));
        }
        for (acc, codes) in input_codes.iter_mut().zip(&r.input_codes) {
            if let Some(c) = codes {
                acc.get_or_insert_with(Vec::new).extend_from_slice(c);
            }
        }
    }
    let layers = net
        .layers
        .iter()
        .zip(&tallies)
        .enumerate()
        .map(|(i, (l, t))| {
            let array = model.tensors[i].is_some();
            let ratio = |a: u64, b: u64| {
                if b == 0 {
                    0.0
                } else {
                    round6(a as f64 / b as f64)
                }
            };
            let input_fmt =
                array.then(|| calibration.format(l.inputs[0].0 as usize, l.quant.activation_bits));
            LayerFidelity {
                layer: l.name.clone(),
                op: l.op.kind().as_str().to_string(),
                activation_bits: l.quant.activation_bits,
                output_sqnr_db: sqnr(t.signal, t.noise),
                output_clipped_fraction: ratio(t.clipped, t.outputs),
                input_zero_fraction: array.then(|| ratio(t.zero_inputs, t.inputs)),
                input_effectual_bits_mean: array.then(|| ratio(t.effectual_bits, t.inputs)),
                input_scale: input_fmt.map(|f| f.scale),
                input_signed: input_fmt.map(|f| f.signed),
                accumulator_overflows: t.overflows,
                inputs: n,
            }
        })
        .collect();
    let labelled = samples.labels.map_or(0, |l| l.len() as u64);
    let has_labels = samples.labels.is_some();
    let network = NetworkFidelity {
        inputs: n,
        calibration: format!(
            "{} of the fp32 reference over {} input(s)",
            calibration.method.describe(),
            calibration.inputs
        ),
        top1_agreements: agree,
        top1_agreement_pct: pct(agree, n),
        logit_sqnr_db: sqnr(signal, noise),
        labelled_inputs: labelled,
        reference_correct: has_labels.then_some(ref_ok),
        reference_top1_pct: has_labels.then(|| pct(ref_ok, labelled)),
        quantized_correct: has_labels.then_some(q_ok),
        quantized_top1_pct: has_labels.then(|| pct(q_ok, labelled)),
        reference_logits_max_rel_error: max_rel,
        accumulator_overflows: tallies.iter().map(|t| t.overflows).sum(),
    };
    Evaluation {
        fidelity: Fidelity { layers, network },
        calibration,
        input_codes,
    }
}
