//! Functional execution: the network run on real inputs twice, as the fp32 reference and as
//! the design's quantized datapath computes it, layer by layer side by side, with the
//! fidelity of every layer and of the network's outputs ([`fidelity`]).
//!
//! The quantized datapath, rule by rule:
//!
//! * **Stored activations.** Every tensor between layers is stored as integer codes of its
//!   producing layer's `activation_bits` (a network input: of its first consumer's) with one
//!   scale per tensor, `scale = max|x| / qmax`, from the [`Calibration`]: the largest |x| the
//!   fp32 reference reached on the calibration inputs. A tensor the reference never made
//!   negative is unsigned (`qmax = 2^b - 1`), else signed symmetric (`qmax = 2^(b-1) - 1`).
//!   Quantization rounds to nearest, ties to even, and saturates at `qmax`.
//! * **The array** (conv2d, linear, matmul) multiplies the integer weight codes by integer
//!   activation codes at the layer's own `activation_bits` (a stored tensor of another width
//!   or scale is requantized first) and sums exactly; the sum is kept in `accumulator_bits`
//!   two's complement, **wrapping** on overflow, as an adder of that width does. Wrapping is
//!   modular, so the result does not depend on the order a PE kind adds in (bit-serial and
//!   SWIS PEs reach the same sum). Sums that did not fit are counted per layer.
//! * **The output stage** scales the sum by `activation scale x filter scale` (the filter's
//!   stored scale, or the least-squares one when batch norm absorbs it, see
//!   [`QuantizedTensor::effective_scale`]), adds the bias, and requantizes to the layer's
//!   `activation_bits` (computed in f64, rounded as above).
//! * **Batch norm** as the workload says: `separate` runs `x * m + a` on the vector unit in its
//!   format (fp16 rounds every operation's result to fp16; fp32 and int units compute in
//!   f32), `folded` applies it to the preceding layer's sums before that layer's
//!   requantization (one rounding), `quantized` rounds `m` and `a` each to a signed
//!   `activation_bits` value with its own per-tensor scale, then computes in the vector
//!   unit's format.
//! * **Elementwise layers** (relu, prelu, add, pools, pad_channels, requantize) dequantize
//!   their inputs, compute in the vector unit's format and requantize the result to their
//!   own `activation_bits`.
//!
//! The fp32 reference runs the same graph in f32 (batch norm separate, whatever the mode).
//! Pure: tensors come in, figures go out; the pipeline loads the parameters.

use std::borrow::Cow;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::quant::QuantizedTensor;
use crate::tech::VectorPrecision;
use crate::workload::{BatchNormMode, Layer, Network, Op};

pub mod fidelity;
pub mod ops;

pub use fidelity::{
    evaluate, evaluate_with, Evaluation, Fidelity, LayerFidelity, NetworkFidelity, Samples,
};

/// A layer's parameters besides its weights, as the kernels use them.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Params {
    #[default]
    None,
    /// One bias per output channel.
    Bias(Vec<f32>),
    /// Batch norm as `x * mul[c] + add[c]` (`mul = gamma / sqrt(var + eps)`,
    /// `add = beta - mean * mul`).
    BatchNorm { mul: Vec<f32>, add: Vec<f32> },
    /// PReLU slopes, one per channel or one for all.
    Slope(Vec<f32>),
}

impl Params {
    /// Batch norm from its four tensors, folded to a multiplier and an offset (in f64).
    pub fn batch_norm(gamma: &[f32], beta: &[f32], mean: &[f32], var: &[f32], eps: f64) -> Params {
        let mul: Vec<f64> = gamma
            .iter()
            .zip(var)
            .map(|(&g, &v)| g as f64 / (v as f64 + eps).sqrt())
            .collect();
        Params::BatchNorm {
            add: beta
                .iter()
                .zip(mean)
                .zip(&mul)
                .map(|((&b, &m), &k)| (b as f64 - m as f64 * k) as f32)
                .collect(),
            mul: mul.iter().map(|&k| k as f32).collect(),
        }
    }
}

/// One weight layer's tensors: the float weights (the reference) and their codes (the
/// datapath).
#[derive(Debug, Clone, Copy)]
pub struct LayerTensors<'a> {
    pub weights: &'a [f32],
    /// The codes (None: a model for the fp32 reference only).
    pub codes: Option<&'a QuantizedTensor>,
}

/// The network with everything functional execution needs.
pub struct Model<'a> {
    pub net: &'a Network,
    /// Per layer: weights and codes (weight layers), parameters.
    pub tensors: Vec<Option<LayerTensors<'a>>>,
    pub params: Vec<Params>,
    /// Filter scales as the datapath applies them, per weight layer.
    scales: Vec<Vec<f64>>,
    pub accumulator_bits: u32,
    pub vector: VectorPrecision,
    /// Consumers per tensor.
    uses: Vec<u32>,
    /// The tensor whose values are the network's output (the last layer's).
    output: usize,
    input: usize,
    /// The input is stored at the width of its first consumer.
    input_bits: u32,
    /// Per layer: its output feeds a folded batch norm (kept exact until that requantizes).
    folded_into: Vec<bool>,
    /// Per layer: what its kernels derive from the weights, once for every sample.
    kernels: Vec<LayerKernels>,
}

/// What an array layer's kernels derive from its weights alone: built once per model (on
/// first use, by whichever sample gets there first) instead of once per sample.
#[derive(Debug, Default)]
struct LayerKernels {
    /// The largest |weight code| (whether the integer sums fit i32).
    max_code: u128,
    /// The convolution's weights packed for [`ops::conv2d_packed`]: the float weights (the
    /// reference), the codes as i32 and as i64 (the two widths of the integer sums).
    float: OnceLock<ops::PackedWeights<f32>>,
    narrow: OnceLock<ops::PackedWeights<i32>>,
    wide: OnceLock<ops::PackedWeights<i64>>,
}

impl<'a> Model<'a> {
    /// Check that functional execution can run `net` and assemble the model. Errors name the
    /// layer: a weight layer without codes, parameters of the wrong length, more than one
    /// network input.
    pub fn new(
        net: &'a Network,
        tensors: Vec<Option<LayerTensors<'a>>>,
        params: Vec<Params>,
        accumulator_bits: u32,
        vector: VectorPrecision,
    ) -> Result<Model<'a>> {
        let inputs: Vec<usize> = (0..net.tensors.len())
            .filter(|&t| net.tensors[t].producer.is_none())
            .collect();
        let [input] = inputs[..] else {
            return Err(Error::Unsupported(format!(
                "functional execution takes a network with one input tensor; `{}` has {}",
                net.name,
                inputs.len()
            )));
        };
        if let Some(l) = net.layers.iter().find(|l| !functional_op(&l.op)) {
            return Err(Error::Unsupported(format!(
                "layer `{}`: functional execution (--inputs) does not model op `{}` yet; it runs the CNN ops (conv2d, linear, matmul with weights, pools, batch_norm, relu, prelu, requantize, add, pad_channels)",
                l.name,
                l.op.kind().as_str()
            )));
        }
        let mut uses = vec![0u32; net.tensors.len()];
        for l in &net.layers {
            for t in &l.inputs {
                uses[t.0 as usize] += 1;
            }
        }
        let mut scales = Vec::with_capacity(net.layers.len());
        for (i, l) in net.layers.iter().enumerate() {
            let channels = out_channels(net, l);
            let bad = |what: String| Error::Internal(format!("layer `{}`: {what}", l.name));
            match (&params[i], l.op) {
                (Params::Bias(b), _) | (Params::Slope(b), Op::Prelu)
                    if !(b.len() == channels
                        || matches!(params[i], Params::Slope(_)) && b.len() == 1) =>
                {
                    return Err(bad(format!(
                        "{} parameters for {channels} channels",
                        b.len()
                    )));
                }
                (Params::BatchNorm { mul, add }, _)
                    if mul.len() != channels || add.len() != channels =>
                {
                    return Err(bad(format!(
                        "{} batch-norm parameters for {channels} channels",
                        mul.len()
                    )));
                }
                _ => {}
            }
            scales.push(match (&tensors[i], l.weight_shape()) {
                (
                    Some(LayerTensors {
                        weights,
                        codes: Some(c),
                    }),
                    Some(_),
                ) => (0..c.filters())
                    .map(|f| c.effective_scale(f, weights))
                    .collect(),
                (Some(_), Some(_)) => Vec::new(),
                (None, Some(_)) => return Err(bad("no weights for a weight layer".into())),
                _ => Vec::new(),
            });
        }
        // The network's output: the one tensor no layer reads.
        let sinks: Vec<&str> = net
            .layers
            .iter()
            .filter(|l| uses[l.output.0 as usize] == 0)
            .map(|l| net.tensor(l.output).name.as_str())
            .collect();
        if sinks.len() > 1 {
            return Err(Error::Unsupported(format!(
                "functional execution compares one network output; `{}` has {} ({})",
                net.name,
                sinks.len(),
                sinks.join(", ")
            )));
        }
        if let Some(l) = net.layers.iter().find(|l| l.quant.activation_bits > 31) {
            return Err(Error::Unsupported(format!(
                "layer `{}`: functional execution stores activations of at most 31 bits (it has {})",
                l.name, l.quant.activation_bits
            )));
        }
        let output = net.layers.last().map_or(input, |l| l.output.0 as usize);
        let input_bits = net
            .layers
            .iter()
            .find(|l| l.inputs.iter().any(|t| t.0 as usize == input))
            .map_or(8, |l| l.quant.activation_bits);
        let folded_into = net
            .layers
            .iter()
            .map(|l| {
                net.batch_norm == BatchNormMode::Folded
                    && l.weight_shape().is_some()
                    && uses[l.output.0 as usize] == 1
                    && net
                        .layers
                        .iter()
                        .any(|c| c.op == Op::BatchNorm && c.inputs.first() == Some(&l.output))
            })
            .collect();
        let kernels = tensors
            .iter()
            .map(|t| LayerKernels {
                max_code: t.and_then(|t| t.codes).map_or(0, |c| {
                    c.codes.iter().map(|c| c.unsigned_abs()).max().unwrap_or(0) as u128
                }),
                ..LayerKernels::default()
            })
            .collect();
        Ok(Model {
            net,
            tensors,
            params,
            scales,
            accumulator_bits,
            vector,
            uses,
            output,
            input,
            input_bits,
            folded_into,
            kernels,
        })
    }

    /// Elements of the network's input, per sample.
    pub fn input_len(&self) -> usize {
        self.net.tensors[self.input].elements() as usize
    }

    /// The network's input shape, per sample.
    pub fn input_shape(&self) -> &[u64] {
        &self.net.tensors[self.input].shape
    }
}

/// Channels of a layer's output (the first dimension), what its parameters index.
fn out_channels(net: &Network, l: &Layer) -> usize {
    match l.op {
        Op::Matmul { n, .. } => n as usize,
        _ => net.tensor(l.output).shape.first().copied().unwrap_or(1) as usize,
    }
}

fn hw(shape: &[u64]) -> (usize, usize) {
    match shape {
        [_, h, w] => (*h as usize, *w as usize),
        _ => (1, 1),
    }
}

/// How a tensor's stored range is chosen from the fp32 reference on the calibration inputs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Calibrate {
    /// The largest |x|: nothing saturates on the calibration inputs.
    #[default]
    Max,
    /// The given percentile (0 < p <= 100) of |x| over every element of every input, from a
    /// 4096-bin histogram up to the maximum (the bin's upper edge); larger values saturate.
    Percentile(f64),
}

/// Histogram bins of the percentile calibration.
const CALIBRATION_BINS: usize = 4096;

impl Calibrate {
    /// `max` or `percentile:P`.
    pub fn parse(s: &str) -> Option<Calibrate> {
        match s {
            "max" => Some(Calibrate::Max),
            _ => s
                .strip_prefix("percentile:")
                .and_then(|p| p.parse::<f64>().ok())
                .filter(|p| p.is_finite() && *p > 0.0 && *p <= 100.0)
                .map(Calibrate::Percentile),
        }
    }

    /// What the reports say.
    pub fn describe(self) -> String {
        match self {
            Calibrate::Max => "per-tensor max |x|".into(),
            Calibrate::Percentile(p) => format!("per-tensor {p}th percentile of |x|"),
        }
    }
}

/// The range of every tensor over the calibration inputs, from the fp32 reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// Largest |x| per tensor.
    pub max_abs: Vec<f32>,
    /// Smallest value per tensor (negative: the tensor is stored signed).
    pub min: Vec<f32>,
    /// The magnitude each tensor's largest code stands for (the maximum, or a percentile).
    pub clip: Vec<f32>,
    pub method: Calibrate,
    /// How many inputs it was taken over.
    pub inputs: usize,
}

impl Calibration {
    fn empty(tensors: usize) -> Self {
        Calibration {
            max_abs: vec![0.0; tensors],
            min: vec![f32::INFINITY; tensors],
            clip: Vec::new(),
            method: Calibrate::Max,
            inputs: 0,
        }
    }

    /// Bin of |x| in tensor `t`'s histogram.
    fn bin(&self, t: usize, x: f32) -> usize {
        let max = self.max_abs[t];
        if max <= 0.0 {
            return 0;
        }
        ((x.abs() / max * CALIBRATION_BINS as f32) as usize).min(CALIBRATION_BINS - 1)
    }

    /// Set the clipping magnitudes by `method`; `histogram(see)` feeds every (tensor, values)
    /// of every calibration input to `see` (a second look at the reference's tensors).
    fn finish(
        mut self,
        method: Calibrate,
        histogram: impl FnOnce(&Calibration) -> Vec<Vec<u64>>,
    ) -> Self {
        self.method = method;
        self.clip = match method {
            Calibrate::Max => self.max_abs.clone(),
            Calibrate::Percentile(p) => {
                let hist = histogram(&self);
                hist.iter()
                    .zip(&self.max_abs)
                    .map(|(h, &max)| {
                        let total: u64 = h.iter().sum();
                        let want = (p / 100.0 * total as f64).ceil() as u64;
                        let mut seen = 0u64;
                        let bin = h
                            .iter()
                            .position(|&c| {
                                seen += c;
                                seen >= want.max(1)
                            })
                            .unwrap_or(CALIBRATION_BINS - 1);
                        max * (bin + 1) as f32 / CALIBRATION_BINS as f32
                    })
                    .collect()
            }
        };
        self
    }

    /// Histograms of |x| per tensor over `inputs`, one more run of the reference.
    fn histograms(&self, model: &Model, inputs: &[Vec<f32>]) -> Vec<Vec<u64>> {
        let n = model.net.tensors.len();
        inputs
            .par_iter()
            .map(|x| {
                let mut h = vec![vec![0u64; CALIBRATION_BINS]; n];
                run_reference(model, x, |t, v| {
                    for &x in v {
                        h[t][self.bin(t, x)] += 1;
                    }
                });
                h
            })
            .reduce(
                || vec![vec![0u64; CALIBRATION_BINS]; n],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(&b) {
                        for (p, q) in x.iter_mut().zip(y) {
                            *p += q;
                        }
                    }
                    a
                },
            )
    }

    /// Tensor `t`'s values `v` seen: its largest |x| and smallest x updated, element by
    /// element in order (held in locals, not re-read from the vectors per element).
    fn see(&mut self, t: usize, v: &[f32]) {
        let (mut max_abs, mut min) = (self.max_abs[t], self.min[t]);
        for &x in v {
            max_abs = max_abs.max(x.abs());
            min = min.min(x);
        }
        self.max_abs[t] = max_abs;
        self.min[t] = min;
    }

    fn merge(mut self, o: &Calibration) -> Self {
        for (a, b) in self.max_abs.iter_mut().zip(&o.max_abs) {
            *a = a.max(*b);
        }
        for (a, b) in self.min.iter_mut().zip(&o.min) {
            *a = a.min(*b);
        }
        self.inputs += o.inputs;
        self
    }

    /// Per-tensor ranges over `inputs` (each a sample of the network's input) by `method`.
    pub fn from_inputs(model: &Model, inputs: &[Vec<f32>], method: Calibrate) -> Calibration {
        Calibration::maxima(model, inputs).finish(method, |c| c.histograms(model, inputs))
    }

    fn maxima(model: &Model, inputs: &[Vec<f32>]) -> Calibration {
        let n = model.net.tensors.len();
        inputs
            .par_iter()
            .map(|x| {
                let mut c = Calibration::empty(n);
                c.inputs = 1;
                run_reference(model, x, |t, v| c.see(t, v));
                c
            })
            .collect::<Vec<_>>()
            .iter()
            .fold(Calibration::empty(n), |a, b| a.merge(b))
    }

    /// How tensor `t` is stored at `bits`.
    pub fn format(&self, t: usize, bits: u32) -> Format {
        let signed = self.min[t] < 0.0;
        let qmax = if signed {
            (1i64 << (bits - 1)) - 1
        } else {
            (1i64 << bits) - 1
        }
        .max(1);
        let max = self.clip[t] as f64;
        Format {
            bits,
            signed,
            scale: if max > 0.0 { max / qmax as f64 } else { 1.0 },
            qmax,
        }
    }
}

/// The fp32 reference of a set of inputs, computed once and shared by every design run on
/// them: the calibration, and (within a memory budget) every tensor of every input, so a
/// design's run does not recompute the reference.
#[derive(Debug, Clone)]
pub struct Reference {
    pub calibration: Calibration,
    /// `[input][tensor]`, when they fit the budget.
    outputs: Option<Vec<Vec<std::sync::Arc<[f32]>>>>,
}

impl Reference {
    /// Calibrate on `inputs` by `method`; keep every tensor when they take at most
    /// `keep_bytes`.
    pub fn new(
        model: &Model,
        inputs: &[Vec<f32>],
        method: Calibrate,
        keep_bytes: u64,
    ) -> Reference {
        let per_input: u64 = model.net.tensors.iter().map(|t| t.elements() * 4).sum();
        let keep = per_input.saturating_mul(inputs.len() as u64) <= keep_bytes;
        if !keep {
            return Reference {
                calibration: Calibration::from_inputs(model, inputs, method),
                outputs: None,
            };
        }
        let n = model.net.tensors.len();
        let runs: Vec<(Calibration, Vec<std::sync::Arc<[f32]>>)> = inputs
            .par_iter()
            .map(|x| {
                let mut c = Calibration::empty(n);
                c.inputs = 1;
                let mut kept: Vec<std::sync::Arc<[f32]>> =
                    vec![std::sync::Arc::from(Vec::new()); n];
                run_reference(model, x, |t, v| {
                    c.see(t, v);
                    kept[t] = std::sync::Arc::from(v);
                });
                (c, kept)
            })
            .collect();
        let maxima = runs
            .iter()
            .fold(Calibration::empty(n), |a, (c, _)| a.merge(c));
        let calibration = maxima.finish(method, |c| {
            // The kept tensors, binned: no second run of the reference.
            let mut h = vec![vec![0u64; CALIBRATION_BINS]; n];
            for (_, kept) in &runs {
                for (t, v) in kept.iter().enumerate() {
                    for &x in v.iter() {
                        h[t][c.bin(t, x)] += 1;
                    }
                }
            }
            h
        });
        Reference {
            calibration,
            outputs: Some(runs.into_iter().map(|(_, k)| k).collect()),
        }
    }

    /// The kept reference values of tensor `t` on input `j`.
    fn output(&self, j: usize, t: usize) -> Option<&[f32]> {
        self.outputs.as_ref().map(|o| &o[j][t][..])
    }
}

/// A stored tensor's integer format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Format {
    pub bits: u32,
    pub signed: bool,
    /// Value of code 1.
    pub scale: f64,
    pub qmax: i64,
}

impl Format {
    /// The code of `v`: round to nearest, ties to even, saturated.
    #[inline]
    pub fn code(&self, v: f64) -> (i32, bool) {
        let q = round_ties_even(v / self.scale);
        let hi = self.qmax as f64;
        let lo = if self.signed { -hi } else { 0.0 };
        let clipped = q > hi || q < lo;
        // Saturated (NaN: code 0, what `as i32` makes of it), then an integer of at most 31
        // bits, converted without the saturating `as` (which keeps the loop scalar).
        let c = if q.is_nan() { 0.0 } else { q.max(lo).min(hi) };
        (small_int(c), clipped)
    }
}

/// `x.round_ties_even()`, bit for bit, without the library call it is on x86-64 without
/// SSE4.1 (`rint`, once per element of every tensor): below 2^52 in magnitude, `|x| + 2^52`
/// lies where doubles are the integers, so the addition itself rounds to nearest, ties to
/// even, and subtracting 2^52 again is exact; the sign is put back (`-0.4` gives `-0.0`, as
/// `rint` does). From 2^52 on every double is an integer; NaN and the infinities fail the
/// comparison and come back unchanged.
#[inline]
fn round_ties_even(x: f64) -> f64 {
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if x.abs() < TWO_52 {
        ((x.abs() + TWO_52) - TWO_52).copysign(x)
    } else {
        x
    }
}

/// `x as i32` for an integer-valued `x` with `|x| < 2^31`: `x + 1.5 * 2^52` is exact and
/// lies where doubles are the integers, its low mantissa bits `x` in two's complement.
#[inline]
fn small_int(x: f64) -> i32 {
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    (x + MAGIC).to_bits().wrapping_sub(MAGIC.to_bits()) as i32
}

/// A tensor of the quantized run: codes in a format, or exact values on the way into a
/// folded batch norm.
#[derive(Debug, Clone)]
enum QTensor {
    Codes { codes: Vec<i32>, format: Format },
    Real(Vec<f64>),
}

impl QTensor {
    /// `f` of every element's value (`code * scale`, or the exact value), in order.
    fn map_values<R>(&self, mut f: impl FnMut(f64) -> R) -> Vec<R> {
        match self {
            QTensor::Codes { codes, format } => {
                codes.iter().map(|&c| f(c as f64 * format.scale)).collect()
            }
            QTensor::Real(v) => v.iter().map(|&x| f(x)).collect(),
        }
    }

    /// The values as the vector unit reads them (f32).
    fn values_f32(&self) -> Vec<f32> {
        self.map_values(|v| v as f32)
    }

    fn len(&self) -> usize {
        match self {
            QTensor::Codes { codes, .. } => codes.len(),
            QTensor::Real(v) => v.len(),
        }
    }
}

/// Tensors held while one sample runs: each dropped after its last consumer.
struct Live<T> {
    slots: Vec<Option<T>>,
    left: Vec<u32>,
}

impl<T> Live<T> {
    fn new(uses: &[u32]) -> Self {
        Live {
            slots: (0..uses.len()).map(|_| None).collect(),
            left: uses.to_vec(),
        }
    }

    fn get(&self, t: usize) -> &T {
        self.slots[t]
            .as_ref()
            .expect("tensors are produced before use")
    }

    /// One consumer is done with `t`; drop it after the last (the output stays).
    fn release(&mut self, t: usize, keep: usize) {
        self.left[t] -= 1;
        if self.left[t] == 0 && t != keep {
            self.slots[t] = None;
        }
    }
}

/// The fp32 reference on one sample; `see(tensor, values)` is called for the input and every
/// layer's output. Returns the network's output.
pub fn run_reference(model: &Model, input: &[f32], mut see: impl FnMut(usize, &[f32])) -> Vec<f32> {
    let net = model.net;
    let mut live: Live<Vec<f32>> = Live::new(&model.uses);
    see(model.input, input);
    live.slots[model.input] = Some(input.to_vec());
    for (i, l) in net.layers.iter().enumerate() {
        let y = reference_layer(model, i, l, &live);
        see(l.output.0 as usize, &y);
        live.slots[l.output.0 as usize] = Some(y);
        for t in &l.inputs {
            live.release(t.0 as usize, model.output);
        }
    }
    live.slots[model.output].take().unwrap_or_default()
}

fn reference_layer<S: AsRef<[f32]>>(
    model: &Model,
    i: usize,
    l: &Layer,
    live: &Live<S>,
) -> Vec<f32> {
    let net = model.net;
    let x = live.get(l.inputs[0].0 as usize).as_ref();
    let in_shape = &net.tensor(l.inputs[0]).shape;
    let out_shape = &net.tensor(l.output).shape;
    let mut y = match l.op {
        Op::Conv2d(c) => {
            let s = ops::ConvShape {
                conv: c,
                in_hw: hw(in_shape),
                out_hw: hw(out_shape),
            };
            let w = model.tensors[i].expect("weight layer").weights;
            let packed = model.kernels[i]
                .float
                .get_or_init(|| ops::PackedWeights::new(w, &c, |v| v));
            ops::conv2d_packed(x, packed, &s, |v| v)
        }
        Op::Linear {
            in_features,
            out_features,
        } => {
            let w = model.tensors[i].expect("weight layer").weights;
            ops::matmul(
                x,
                w,
                in_features as usize,
                out_features as usize,
                |v| v,
                |v| v,
            )
        }
        Op::Matmul { k, n, .. } => {
            let w = model.tensors[i].expect("weight layer").weights;
            ops::matmul(x, w, k as usize, n as usize, |v| v, |v| v)
        }
        _ => {
            let xs: Vec<&[f32]> = l
                .inputs
                .iter()
                .map(|t| live.get(t.0 as usize).as_ref())
                .collect();
            return elementwise(
                model,
                i,
                l,
                &xs,
                VectorPrecision::Fp32,
                BatchNormMode::Separate,
            );
        }
    };
    if let Params::Bias(b) = &model.params[i] {
        add_bias(&l.op, &mut y, b);
    }
    y
}

fn add_bias<T: Copy + std::ops::AddAssign + From<f32>>(op: &Op, y: &mut [T], b: &[f32]) {
    each_filter(op, y.len(), b.len(), |j, f| y[j] += T::from(b[f]));
}

/// An elementwise layer over float inputs, in the vector unit's format.
fn elementwise(
    model: &Model,
    i: usize,
    l: &Layer,
    xs: &[&[f32]],
    fmt: VectorPrecision,
    bn: BatchNormMode,
) -> Vec<f32> {
    // The format chosen once per layer, not once per element.
    match fmt {
        VectorPrecision::Fp16 => elementwise_in(model, i, l, xs, bn, |v| round_to(fmt, v)),
        _ => elementwise_in(model, i, l, xs, bn, |v| v),
    }
}

/// Whether functional execution models `op`.
fn functional_op(op: &Op) -> bool {
    matches!(
        op,
        Op::Conv2d(_)
            | Op::Linear { .. }
            | Op::Matmul { .. }
            | Op::MaxPool(_)
            | Op::AvgPool(_)
            | Op::BatchNorm
            | Op::Relu
            | Op::Prelu
            | Op::Requantize
            | Op::Add
            | Op::PadChannels
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Scalar { .. }
            | Op::Clip { .. }
            | Op::HardSigmoid { .. }
            | Op::HardSwish
            | Op::Sigmoid
            | Op::Reshape
            | Op::Slice { .. }
            | Op::Softmax { .. }
    )
}

/// [`elementwise`] with every operation's result rounded by `r` (the vector unit's format).
fn elementwise_in(
    model: &Model,
    i: usize,
    l: &Layer,
    xs: &[&[f32]],
    bn: BatchNormMode,
    r: impl Fn(f32) -> f32 + Copy,
) -> Vec<f32> {
    let net = model.net;
    let in_shape = &net.tensor(l.inputs[0]).shape;
    let out_shape = &net.tensor(l.output).shape;
    let x = xs[0];
    let channels = in_shape.first().copied().unwrap_or(1) as usize;
    let plane = x.len() / channels.max(1);
    match l.op {
        Op::BatchNorm => match &model.params[i] {
            Params::BatchNorm { mul, add } => {
                let (mul, add) = if bn == BatchNormMode::Quantized {
                    quantized_bn(mul, add, l.quant.activation_bits)
                } else {
                    (mul.clone(), add.clone())
                };
                let mut y = Vec::with_capacity(x.len());
                for (c, xs) in x.chunks(plane.max(1)).enumerate() {
                    let (m, a) = (mul[c], add[c]);
                    y.extend(xs.iter().map(|&v| r(r(v * m) + a)));
                }
                y
            }
            // A batch norm without parameters is the identity (stated in the report).
            _ => x.to_vec(),
        },
        Op::Relu => x.iter().map(|&v| v.max(0.0)).collect(),
        Op::Prelu => {
            let slopes = match &model.params[i] {
                Params::Slope(s) => s.clone(),
                _ => vec![0.25],
            };
            let mut y = Vec::with_capacity(x.len());
            for (c, xs) in x.chunks(plane.max(1)).enumerate() {
                let a = slopes[c % slopes.len()];
                y.extend(xs.iter().map(|&v| if v >= 0.0 { v } else { r(v * a) }));
            }
            y
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div => {
            let b_shape = &net.tensor(l.inputs[1]).shape;
            let f = match l.op {
                Op::Add => |a: f32, b: f32| a + b,
                Op::Sub => |a: f32, b: f32| a - b,
                Op::Mul => |a: f32, b: f32| a * b,
                _ => |a: f32, b: f32| a / b,
            };
            ops::broadcast(x, in_shape, xs[1], b_shape, out_shape, |a, b| r(f(a, b)))
        }
        Op::Scalar { arith, value, left } => {
            let c = value.get();
            x.iter()
                .map(|&v| r(arith.apply(v as f64, c, left) as f32))
                .collect()
        }
        Op::Clip { min, max } => {
            let (lo, hi) = (
                min.map_or(f32::NEG_INFINITY, |v| v.get() as f32),
                max.map_or(f32::INFINITY, |v| v.get() as f32),
            );
            x.iter().map(|&v| v.max(lo).min(hi)).collect()
        }
        Op::HardSigmoid { alpha, beta } => {
            let (a, b) = (alpha.get() as f32, beta.get() as f32);
            x.iter().map(|&v| r(r(a * v) + b).clamp(0.0, 1.0)).collect()
        }
        Op::HardSwish => x
            .iter()
            .map(|&v| r(v * r(r(v / 6.0) + 0.5).clamp(0.0, 1.0)))
            .collect(),
        Op::Sigmoid => x.iter().map(|&v| r(1.0 / (1.0 + (-v).exp()))).collect(),
        Op::Softmax { n } => {
            let mut y = Vec::with_capacity(x.len());
            for row in x.chunks(n.max(1) as usize) {
                let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                let e: Vec<f32> = row.iter().map(|&v| r((v - m).exp())).collect();
                let sum = e.iter().fold(0f32, |a, &b| r(a + b));
                y.extend(e.iter().map(|&v| r(v / sum)));
            }
            y
        }
        // C order is kept: a reshape is the same values.
        Op::Reshape => x.to_vec(),
        Op::Slice { axis, start, step } => {
            ops::slice(x, in_shape, out_shape, axis as usize, start, step)
        }
        Op::MaxPool(p) | Op::AvgPool(p) => {
            let max = matches!(l.op, Op::MaxPool(_));
            let in_hw = hw(in_shape);
            if !max
                && out_shape.get(1..) == Some(&[1, 1])
                && p.kernel == (in_hw.0 as u64, in_hw.1 as u64)
            {
                ops::global_avg(x, channels).into_iter().map(r).collect()
            } else {
                ops::pool(x, channels, in_hw, hw(out_shape), &p, max)
                    .into_iter()
                    .map(r)
                    .collect()
            }
        }
        Op::PadChannels => ops::pad_channels(x, channels, out_shape[0] as usize),
        Op::Requantize => x.to_vec(),
        Op::Conv2d(_) | Op::Linear { .. } | Op::Matmul { .. } => {
            unreachable!("array layers are not elementwise")
        }
        _ => unreachable!("Model::new refuses the ops functional execution does not model"),
    }
}

/// A value rounded to the vector unit's format (fp16 rounds; fp32 and int units keep f32).
fn round_to(fmt: VectorPrecision, v: f32) -> f32 {
    match fmt {
        VectorPrecision::Fp16 => half::f16::from_f32(v).to_f32(),
        _ => v,
    }
}

/// Batch-norm parameters as `batch_norm = "quantized"` holds them: the multipliers as signed
/// `bits`-bit values with one scale, the offsets likewise.
fn quantized_bn(mul: &[f32], add: &[f32], bits: u32) -> (Vec<f32>, Vec<f32>) {
    let q = |v: &[f32]| {
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let qmax = ((1i64 << (bits.max(2) - 1)) - 1) as f64;
        let s = if max > 0.0 { max / qmax } else { 1.0 };
        v.iter()
            .map(|&x| ((x as f64 / s).round_ties_even() * s) as f32)
            .collect::<Vec<f32>>()
    };
    (q(mul), q(add))
}

/// What the quantized run saw at one layer of one sample.
#[derive(Debug, Clone, Default)]
pub struct LayerTally {
    /// Sum of squares of the reference output, and of the quantized output's error.
    pub signal: f64,
    pub noise: f64,
    /// Output elements.
    pub outputs: u64,
    /// Output codes saturated by requantization.
    pub clipped: u64,
    /// Array layers: input activations, zero codes among them, their effectual bits (ones in
    /// the magnitude), and output sums that overflowed the accumulator.
    pub inputs: u64,
    pub zero_inputs: u64,
    pub effectual_bits: u64,
    pub overflows: u64,
}

impl LayerTally {
    fn add(&mut self, o: &LayerTally) {
        self.signal += o.signal;
        self.noise += o.noise;
        self.outputs += o.outputs;
        self.clipped += o.clipped;
        self.inputs += o.inputs;
        self.zero_inputs += o.zero_inputs;
        self.effectual_bits += o.effectual_bits;
        self.overflows += o.overflows;
    }
}

/// One sample through both networks.
#[derive(Debug, Clone)]
pub struct SampleRun {
    /// Per layer.
    pub layers: Vec<LayerTally>,
    /// The network's outputs: the fp32 reference and the quantized datapath's (dequantized).
    pub reference: Vec<f32>,
    pub quantized: Vec<f32>,
    /// Per array layer: the input codes it multiplied (kept only when asked, for timing).
    pub input_codes: Vec<Option<Vec<i32>>>,
}

/// Run one sample through the fp32 reference and the quantized datapath side by side.
/// `keep_codes` keeps each array layer's input codes (what the timing of activation-side PEs
/// reads).
pub fn run_sample(
    model: &Model,
    reference: &Reference,
    j: usize,
    input: &[f32],
    keep_codes: bool,
) -> SampleRun {
    let calib = &reference.calibration;
    let net = model.net;
    let n_layers = net.layers.len();
    // The reference's tensors are borrowed from `reference` when it kept them.
    let mut fp: Live<Cow<[f32]>> = Live::new(&model.uses);
    let mut q: Live<QTensor> = Live::new(&model.uses);
    let mut tallies = vec![LayerTally::default(); n_layers];
    let mut kept: Vec<Option<Vec<i32>>> = vec![None; n_layers];
    fp.slots[model.input] = Some(Cow::Borrowed(input));
    let in_fmt = calib.format(model.input, model.input_bits);
    q.slots[model.input] = Some(QTensor::Codes {
        codes: input.iter().map(|&v| in_fmt.code(v as f64).0).collect(),
        format: in_fmt,
    });
    for (i, l) in net.layers.iter().enumerate() {
        let out_t = l.output.0 as usize;
        let reference: Cow<[f32]> = match reference.output(j, out_t) {
            Some(kept) => Cow::Borrowed(kept),
            None => Cow::Owned(reference_layer(model, i, l, &fp)),
        };
        let out_fmt = calib.format(out_t, l.quant.activation_bits);
        let tally = &mut tallies[i];
        let result: QTensor = if let Some(LayerTensors {
            codes: Some(wcodes),
            ..
        }) = model.tensors[i]
        {
            // The array: integer codes at the layer's activation width.
            let bits = l.quant.activation_bits;
            let in_t = l.inputs[0].0 as usize;
            let a_fmt = calib.format(in_t, bits);
            let requantized: Vec<i32>;
            let codes: &[i32] = match q.get(in_t) {
                QTensor::Codes { codes, format } if *format == a_fmt => codes,
                other => {
                    requantized = other.map_values(|v| a_fmt.code(v).0);
                    &requantized
                }
            };
            let (mut zeros, mut ones) = (0u64, 0u64);
            for &c in codes {
                zeros += (c == 0) as u64;
                ones += c.unsigned_abs().count_ones() as u64;
            }
            tally.inputs += codes.len() as u64;
            tally.zero_inputs += zeros;
            tally.effectual_bits += ones;
            let sums = array_sums(model, i, l, codes, wcodes, a_fmt);
            if keep_codes {
                kept[i] = Some(codes.to_vec());
            }
            // The output stage: the wrapped sum times both scales, plus the bias.
            let scales = &model.scales[i];
            let mut real = vec![0f64; sums.len()];
            let mut overflows = 0u64;
            each_filter(&l.op, sums.len(), scales.len(), |j, f| {
                let s = sums[j];
                let w = wrap_sum(s, model.accumulator_bits);
                overflows += (w != s) as u64;
                real[j] = w as f64 * a_fmt.scale * scales[f];
            });
            tally.overflows += overflows;
            if let Params::Bias(b) = &model.params[i] {
                add_bias(&l.op, &mut real, b);
            }
            if model.folded_into[i] {
                QTensor::Real(real)
            } else {
                requantize(&real, |v| v, out_fmt, tally)
            }
        } else {
            let bn_mode = net.batch_norm;
            match (l.op, q.get(l.inputs[0].0 as usize)) {
                (Op::BatchNorm, QTensor::Real(x)) => {
                    // Folded: the affine on the exact sums, one rounding.
                    match &model.params[i] {
                        Params::BatchNorm { mul, add } => {
                            let plane = (x.len() / mul.len().max(1)).max(1);
                            let mut y = Vec::with_capacity(x.len());
                            for (c, xs) in x.chunks(plane).enumerate() {
                                let (m, a) = (mul[c] as f64, add[c] as f64);
                                y.extend(xs.iter().map(|&v| v * m + a));
                            }
                            requantize(&y, |v| v, out_fmt, tally)
                        }
                        _ => requantize(x, |v| v, out_fmt, tally),
                    }
                }
                _ => {
                    let xs: Vec<Vec<f32>> = l
                        .inputs
                        .iter()
                        .map(|t| q.get(t.0 as usize).values_f32())
                        .collect();
                    let refs: Vec<&[f32]> = xs.iter().map(Vec::as_slice).collect();
                    let y = elementwise(model, i, l, &refs, model.vector, bn_mode);
                    requantize(&y, |v| v as f64, out_fmt, tally)
                }
            }
        };
        let (mut signal, mut noise) = (0f64, 0f64);
        let mut see = |r: f32, g: f64| {
            let r = r as f64;
            signal += r * r;
            noise += (r - g) * (r - g);
        };
        match &result {
            QTensor::Codes { codes, format } => {
                for (&r, &c) in reference.iter().zip(codes) {
                    see(r, c as f64 * format.scale);
                }
            }
            QTensor::Real(v) => {
                for (&r, &g) in reference.iter().zip(v) {
                    see(r, g);
                }
            }
        }
        // The tally's sums start at zero here: adding the layer's sums is adding them in order.
        tally.signal += signal;
        tally.noise += noise;
        tally.outputs += result.len() as u64;
        fp.slots[out_t] = Some(reference);
        q.slots[out_t] = Some(result);
        for t in &l.inputs {
            fp.release(t.0 as usize, model.output);
            q.release(t.0 as usize, model.output);
        }
    }
    let reference = fp.slots[model.output]
        .take()
        .map(Cow::into_owned)
        .unwrap_or_default();
    let quantized = q.slots[model.output]
        .take()
        .map(|t| t.values_f32())
        .unwrap_or_default();
    SampleRun {
        layers: tallies,
        reference,
        quantized,
        input_codes: kept,
    }
}

/// The codes of `v` (each element taken to f64 by `value`) in `fmt`, saturations counted.
/// A plain loop from slice to slice with a local count, which the compiler vectorizes (the
/// division dominates; one per element of every tensor).
fn requantize<X: Copy>(
    v: &[X],
    value: impl Fn(X) -> f64,
    fmt: Format,
    tally: &mut LayerTally,
) -> QTensor {
    let mut codes = vec![0i32; v.len()];
    let mut clipped = 0u64;
    for (c, &x) in codes.iter_mut().zip(v) {
        let (code, clip) = fmt.code(value(x));
        *c = code;
        clipped += clip as u64;
    }
    tally.clipped += clipped;
    QTensor::Codes { codes, format: fmt }
}

/// Exact integer sums of array layer `i`: i32 arithmetic when no sum can leave it, else i64.
fn array_sums(
    model: &Model,
    i: usize,
    l: &Layer,
    a: &[i32],
    w: &QuantizedTensor,
    a_fmt: Format,
) -> Vec<i64> {
    let net = model.net;
    let kernels = &model.kernels[i];
    let max_a = a_fmt.qmax as u128;
    let k = w.filter_len() as u128;
    let narrow = k * max_a * kernels.max_code < (1u128 << 31);
    let in_shape = &net.tensor(l.inputs[0]).shape;
    let out_shape = &net.tensor(l.output).shape;
    macro_rules! run {
        ($t:ty, $packed:ident) => {
            match l.op {
                Op::Conv2d(c) => {
                    let s = ops::ConvShape {
                        conv: c,
                        in_hw: hw(in_shape),
                        out_hw: hw(out_shape),
                    };
                    let packed = kernels
                        .$packed
                        .get_or_init(|| ops::PackedWeights::new(&w.codes, &c, |v| v as $t));
                    ops::conv2d_packed(a, packed, &s, |v| v as $t)
                }
                Op::Linear {
                    in_features,
                    out_features,
                } => ops::matmul(
                    a,
                    &w.codes,
                    in_features as usize,
                    out_features as usize,
                    |v| v as $t,
                    |v| v as $t,
                ),
                Op::Matmul { k, n, .. } => ops::matmul(
                    a,
                    &w.codes,
                    k as usize,
                    n as usize,
                    |v| v as $t,
                    |v| v as $t,
                ),
                _ => unreachable!("array layers only"),
            }
        };
    }
    if narrow {
        run!(i32, narrow).into_iter().map(i64::from).collect()
    } else {
        run!(i64, wide)
    }
}

/// Calls `f(j, filter)` for every element `j < len` of an array layer's output over
/// `filters` filters, in order: a matmul's `[M, N]` has the filter innermost
/// (`j % filters`), every other layer's output is filter-major (`j / (len / filters)`).
/// Counted along rather than divided per element.
fn each_filter(op: &Op, len: usize, filters: usize, mut f: impl FnMut(usize, usize)) {
    let n = filters.max(1);
    match op {
        Op::Matmul { .. } => {
            let mut filter = 0;
            for j in 0..len {
                f(j, filter);
                filter += 1;
                if filter == n {
                    filter = 0;
                }
            }
        }
        _ => {
            let plane = (len / n).max(1);
            let (mut filter, mut left) = (0, plane);
            for j in 0..len {
                f(j, filter);
                left -= 1;
                if left == 0 {
                    filter += 1;
                    left = plane;
                }
            }
        }
    }
}

/// Sum `s` kept in a `bits`-bit two's-complement accumulator (1 <= bits; 64 and more keep
/// it): its low `bits` bits, sign-extended, the one value in `[-2^(bits-1), 2^(bits-1))`
/// congruent to `s` modulo `2^bits`.
#[inline]
fn wrap_sum(s: i64, bits: u32) -> i64 {
    if bits >= 64 {
        return s;
    }
    let shift = 64 - bits;
    (s << shift) >> shift
}

/// Sums kept in a `bits`-bit two's-complement accumulator (wrapping), and how many did not
/// fit.
pub fn wrap(sums: &[i64], bits: u32) -> (Vec<i64>, u64) {
    let mut over = 0u64;
    let v = sums
        .iter()
        .map(|&s| {
            let w = wrap_sum(s, bits);
            over += (w != s) as u64;
            w
        })
        .collect();
    (v, over)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_conversion_equal_the_library_ones() {
        let two_52 = 4_503_599_627_370_496.0f64;
        let mut xs = vec![
            0.0,
            -0.0,
            0.4,
            -0.4,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            two_52 - 0.5,
            two_52 - 1.5,
            two_52,
            -two_52 - 1.0,
            two_52 * 3.0 + 2.0,
            1e300,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        // Ties and their neighbours across the codes' range.
        for i in (-70_000i64..70_000).filter(|&i| i != 0) {
            let t = i as f64 / 2.0;
            // The doubles just above and below `t` in magnitude.
            let (up, down) = (
                f64::from_bits(t.to_bits() + 1),
                f64::from_bits(t.to_bits() - 1),
            );
            xs.extend([t, up, down, i as f64 * 30_001.7]);
        }
        for &x in &xs {
            let want = x.round_ties_even();
            let got = round_ties_even(x);
            assert_eq!(got.to_bits(), want.to_bits(), "{x}");
        }
        assert!(round_ties_even(f64::NAN).is_nan());
        for i in [
            0i64,
            1,
            -1,
            255,
            -255,
            (1 << 31) - 1,
            -(1 << 31) + 1,
            12345,
            -98765,
        ] {
            assert_eq!(small_int(i as f64), i as i32);
        }
        for f in [
            Format {
                bits: 8,
                signed: false,
                scale: 0.037,
                qmax: 255,
            },
            Format {
                bits: 4,
                signed: true,
                scale: 1.3,
                qmax: 7,
            },
        ] {
            for &x in xs.iter().chain(&[f64::NAN]) {
                let q = (x / f.scale).round_ties_even();
                let lo = if f.signed { -f.qmax } else { 0 } as f64;
                let want = (
                    q.clamp(lo, f.qmax as f64) as i32,
                    q > f.qmax as f64 || q < lo,
                );
                assert_eq!(f.code(x), want, "{x} in {f:?}");
            }
        }
    }

    #[test]
    fn wrapping_is_the_modular_reduction() {
        for bits in [8u32, 16, 24, 31, 32, 48, 63, 64] {
            for s in [
                0i64,
                1,
                -1,
                127,
                128,
                -128,
                -129,
                255,
                256,
                40_000,
                -40_000,
                i32::MAX as i64 + 5,
                i32::MIN as i64 - 5,
                i64::MAX,
                i64::MIN,
                0x1234_5678_9abc,
            ] {
                let want = if bits >= 64 {
                    s
                } else {
                    let m = 1i128 << bits;
                    let half = 1i128 << (bits - 1);
                    ((s as i128 + half).rem_euclid(m) - half) as i64
                };
                assert_eq!(wrap_sum(s, bits), want, "{s} in {bits} bits");
            }
        }
        assert_eq!(wrap(&[127, 128, -129], 8), (vec![127, -128, 127], 2));
    }

    #[test]
    fn percentile_calibration_takes_the_bin_that_reaches_the_share() {
        let mut c = Calibration::empty(1);
        c.max_abs = vec![10.0];
        c.min = vec![0.0];
        // One value in the lowest bin, three in the highest.
        let hist = || {
            let mut h = vec![vec![0u64; CALIBRATION_BINS]];
            h[0][0] = 1;
            h[0][CALIBRATION_BINS - 1] = 3;
            h
        };
        let clip = |p: f64| c.clone().finish(Calibrate::Percentile(p), |_| hist()).clip[0];
        // 25 % of 4 values is the first one: the lowest bin's upper edge.
        assert_eq!(clip(25.0), 10.0 / CALIBRATION_BINS as f32);
        assert_eq!(clip(26.0), 10.0);
        assert_eq!(clip(100.0), 10.0);
        assert_eq!(
            c.clone().finish(Calibrate::Max, |_| unreachable!()).clip,
            vec![10.0]
        );
        assert_eq!(c.bin(0, 10.0), CALIBRATION_BINS - 1);
        assert_eq!(c.bin(0, -5.0), CALIBRATION_BINS / 2);
        assert_eq!(
            Calibrate::parse("percentile:99.5"),
            Some(Calibrate::Percentile(99.5))
        );
        assert_eq!(Calibrate::parse("percentile:0"), None);
        assert_eq!(Calibrate::parse("max"), Some(Calibrate::Max));
    }
}
