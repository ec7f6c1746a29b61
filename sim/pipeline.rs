//! One pipeline for every entry point: a validated design and network, plus where their
//! tensors come from, in; a simulated run with its quantized weights and statistics out.
//!
//! `plumsim run`, `compare`, `sweep`, `reproduce` and `quantize` (and the Python and ONNX
//! entry points to come) all go through [`run_design`] (or, without an architecture,
//! [`quantize_layers`]), and `plumsim validate` runs [`check_design`]: every check `run` makes,
//! without simulating. The steps:
//!
//! 1. the design's native weight scheme replaces the workload's default
//!    ([`Network::with_default_scheme`]);
//! 2. when the PEs skip zero activations, the layers' activation files are read
//!    ([`TensorSource::activations`]);
//! 3. layer by layer (several in flight, one per worker thread or so), the weights of a
//!    layer that needs them are loaded or generated ([`TensorSource::weights`]), quantized
//!    with its scheme, summarized on request and simulated, then dropped unless a cache keeps
//!    them: peak memory is set by the largest layers in flight and the caches' bounds, not by
//!    the network;
//! 4. the engine finishes the network (counts checked, vector time hidden behind the array).
//!
//! Tensors come through a [`TensorSource`] (files: `io::FileSource`; tests and
//! bindings may hold them in memory: [`MemorySource`]) and are shared between designs through
//! caches passed in ([`WeightCache`] for float weights and activations, [`CodeCache`] for
//! quantized codes), so a sweep decides how long codes live. Each cache holds at most its byte
//! bound ([`WEIGHT_CACHE_BYTES`] and [`CODE_CACHE_BYTES`] by default, or
//! [`WeightCache::with_bound`]), evicting the least recently used tensors; a tensor evicted and
//! asked for again is recomputed, equal to the one evicted. A cached tensor is keyed by its
//! source, layer, origin and shape, so a hit is the tensor a miss would have read. Nothing here
//! reads a file itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::arch::Arch;
use crate::engine::{self, RunResult};
use crate::error::{Error, Problem, Result};
use crate::quant::{quantize, stats, QuantStats, QuantizedTensor, Scheme};
use crate::workload::{Layer, Network, WeightSource};

/// Where a network's tensors come from.
pub trait TensorSource: Sync {
    /// The float weights of weight layer `layer` (PyTorch layout), checked against its shape.
    fn weights(&self, layer: &Layer) -> Result<Vec<f32>>;
    /// Non-zero flags of `layer`'s input activations (batch included), when the workload names
    /// a tensor for them; checked against the layer's input size. `None` when none is named.
    fn activations(&self, net: &Network, layer: &Layer) -> Result<Option<Vec<bool>>>;
    /// A parameter tensor (bias, batch norm, PReLU slope) of `layer`: tensor `tensor` of
    /// `file` (as the workload writes it), flattened; the caller checks its length.
    fn param(&self, layer: &Layer, file: &str, tensor: &str) -> Result<Vec<f32>>;
    /// Names the source in cache keys: sources with one key give the same tensors.
    fn key(&self) -> String;
    /// Every weight layer reads from one file given for the whole run (`--weights FILE`).
    fn overrides_weights(&self) -> bool {
        false
    }
}

/// A value computed once per key and shared by whoever asks, while it fits in the cache's
/// bound; a failed computation is not kept. Two threads asking for a missing key at the same
/// moment may both compute it (the work is pure, so the values are equal) and the first is
/// kept: nothing blocks inside a rayon task, which could deadlock a worker on its own key.
/// Callers that would race warm the cache first (the sweep loads each workload's weights once
/// before its points run).
///
/// Bounded: each kept value counts its bytes; when the kept values exceed `bound`, values are
/// dropped from the cache (whoever holds one keeps it alive), the newest too when it alone is
/// larger than the bound: the least recently asked-for first, or, with a `rank`, the highest
/// ranked first and the least recently asked-for among equals. Which values are dropped
/// depends on timing, never what a caller gets: a dropped value is computed again, equal.
struct Memo<K, V> {
    inner: Mutex<MemoInner<K, V>>,
    bound: u64,
    rank: Option<Rank<K>>,
}

/// Orders a cache's values for dropping: higher goes first (see [`CodeCache::with_retention`]).
type Rank<K> = Box<dyn Fn(&K) -> u64 + Send + Sync>;

struct MemoInner<K, V> {
    cells: HashMap<K, Cell<V>>,
    /// Bytes of the values kept.
    held: u64,
    /// Counts requests: a cell's `used` is the last one that asked for it.
    clock: u64,
}

struct Cell<V> {
    value: Arc<OnceLock<V>>,
    /// Bytes counted for the value, 0 until it is computed.
    bytes: u64,
    used: u64,
}

impl<K: std::hash::Hash + Eq + Clone, V: Clone> Memo<K, V> {
    fn new(bound: u64) -> Self {
        Memo {
            inner: Mutex::new(MemoInner {
                cells: HashMap::new(),
                held: 0,
                clock: 0,
            }),
            bound,
            rank: None,
        }
    }

    /// Drop every kept value its rank puts at `u64::MAX` (never asked for again); nothing
    /// without a rank.
    fn drop_unneeded(&self) {
        let Some(rank) = &self.rank else {
            return;
        };
        let mut m = self.lock();
        let m = &mut *m;
        let dead: Vec<K> = m
            .cells
            .iter()
            .filter(|(k, c)| c.bytes > 0 && rank(k) == u64::MAX)
            .map(|(k, _)| k.clone())
            .collect();
        for k in dead {
            if let Some(c) = m.cells.remove(&k) {
                m.held -= c.bytes;
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoInner<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key`, computed by `make` when the cache does not hold it; `bytes` is what
    /// a value costs the cache.
    fn get_or_try(
        &self,
        key: K,
        bytes: impl Fn(&V) -> u64,
        make: impl FnOnce() -> Result<V>,
    ) -> Result<V> {
        let cell = {
            let mut m = self.lock();
            m.clock += 1;
            let now = m.clock;
            let c = m.cells.entry(key.clone()).or_insert_with(|| Cell {
                value: Arc::default(),
                bytes: 0,
                used: now,
            });
            c.used = now;
            c.value.clone()
        };
        if let Some(v) = cell.get() {
            return Ok(v.clone());
        }
        let v = make()?;
        let v = cell.get_or_init(|| v).clone();
        let mut m = self.lock();
        let m = &mut *m;
        if let Some(c) = m
            .cells
            .get_mut(&key)
            .filter(|c| Arc::ptr_eq(&c.value, &cell))
        {
            if c.bytes == 0 {
                c.bytes = bytes(&v).max(1);
                m.held += c.bytes;
            }
        }
        while m.held > self.bound {
            let rank = |k: &K| self.rank.as_ref().map_or(0, |r| r(k));
            let Some(oldest) = m
                .cells
                .iter()
                .filter(|(_, c)| c.bytes > 0)
                .max_by_key(|(k, c)| (rank(k), std::cmp::Reverse(c.used)))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(c) = m.cells.remove(&oldest) {
                m.held -= c.bytes;
            }
        }
        Ok(v)
    }
}

/// The default bound of a [`WeightCache`]: 64 MiB of float weights and activation flags.
pub const WEIGHT_CACHE_BYTES: u64 = 64 << 20;
/// The default bound of a [`CodeCache`]: 128 MiB of quantized layers' codes, scales and
/// group metadata (a code set keeps no float weights: its statistics, when asked for, come
/// from the floats it was just made from or read again, so the two caches together hold at
/// most `WEIGHT_CACHE_BYTES + CODE_CACHE_BYTES`).
/// The tables derived from a code set on first use (`QuantizedTensor::derived`: prefix
/// sums, step costs) grow after it is counted and are not in the bound.
pub const CODE_CACHE_BYTES: u64 = 128 << 20;

/// A cached tensor: its source, its layer, where the layer's tensor comes from, and its shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TensorKey {
    source: String,
    layer: String,
    origin: String,
    shape: Vec<u64>,
}

/// Float weights and activation flags, per tensor (source, layer, origin and shape).
pub struct WeightCache {
    weights: Memo<TensorKey, Arc<Vec<f32>>>,
    activations: Memo<TensorKey, Option<Arc<Vec<bool>>>>,
}

impl WeightCache {
    /// A cache that keeps at most `bytes` (0: keeps nothing, every request computes).
    pub fn with_bound(bytes: u64) -> Self {
        WeightCache {
            weights: Memo::new(bytes),
            activations: Memo::new(bytes),
        }
    }
}

impl WeightCache {
    /// The most bytes it keeps.
    pub fn bound(&self) -> u64 {
        self.weights.bound
    }

    /// Drops tensors by `rank(source)` when over the bound, highest first (as
    /// [`CodeCache::with_retention`]; `source` is the [`TensorSource::key`]).
    pub fn with_retention(mut self, rank: impl Fn(&str) -> u64 + Send + Sync + 'static) -> Self {
        let rank = Arc::new(rank);
        let r = rank.clone();
        self.weights.rank = Some(Box::new(move |t: &TensorKey| r(&t.source)));
        self.activations.rank = Some(Box::new(move |t: &TensorKey| rank(&t.source)));
        self
    }

    /// Drop the tensors its retention ranks `u64::MAX` (never asked for again).
    pub fn drop_unneeded(&self) {
        self.weights.drop_unneeded();
        self.activations.drop_unneeded();
    }
}

impl Default for WeightCache {
    /// Bounded by [`WEIGHT_CACHE_BYTES`].
    fn default() -> Self {
        Self::with_bound(WEIGHT_CACHE_BYTES)
    }
}

/// Quantized weights, per (tensor, scheme).
pub struct CodeCache {
    codes: Memo<(TensorKey, String), Arc<Quantized>>,
    /// Every code set it made: the weights of each made, and of each distinct one.
    made: Mutex<Made>,
}

#[derive(Default)]
struct Made {
    weights: u64,
    /// Weights per distinct code set, by a hash of its key (a count, so a few bytes each).
    distinct: HashMap<u64, u64>,
}

impl CodeCache {
    /// A cache that keeps at most `bytes` (0: keeps nothing, every request computes).
    pub fn with_bound(bytes: u64) -> Self {
        CodeCache {
            codes: Memo::new(bytes),
            made: Mutex::default(),
        }
    }

    /// Drop the code sets its retention ranks `u64::MAX` (never asked for again).
    pub fn drop_unneeded(&self) {
        self.codes.drop_unneeded();
    }

    /// Weights quantized through it so far, and how many of them were of distinct code sets
    /// (a set dropped and asked for again is quantized again): what its bound costs.
    pub fn quantized_weights(&self) -> (u64, u64) {
        let m = self.made.lock().unwrap_or_else(|e| e.into_inner());
        (m.weights, m.distinct.values().sum())
    }
}

impl CodeCache {
    /// The most bytes it keeps.
    pub fn bound(&self) -> u64 {
        self.codes.bound
    }

    /// Drops code sets by `rank(source, scheme)` when over the bound, highest first (the
    /// least recently asked-for among equals), instead of least recently asked-for first.
    /// `source` is the [`TensorSource::key`] of the tensors, `scheme` the `Debug` form of the
    /// layer's scheme. A caller that knows which code sets it asks for next (the studies do)
    /// ranks them by how far away that is, so the cache keeps those needed soonest. Which
    /// sets are kept never changes a result.
    pub fn with_retention(
        mut self,
        rank: impl Fn(&str, &str) -> u64 + Send + Sync + 'static,
    ) -> Self {
        self.codes.rank = Some(Box::new(move |(t, scheme): &(TensorKey, String)| {
            rank(&t.source, scheme)
        }));
        self
    }
}

impl Default for CodeCache {
    /// Bounded by [`CODE_CACHE_BYTES`].
    fn default() -> Self {
        Self::with_bound(CODE_CACHE_BYTES)
    }
}

/// The caches one call uses; a fresh pair when nothing is to be shared.
#[derive(Clone, Copy)]
pub struct Caches<'a> {
    pub weights: &'a WeightCache,
    pub codes: &'a CodeCache,
}

/// One layer's quantized weights and, once a caller has asked for them ([`layer_stats`]),
/// their statistics (computed from the float weights, which it does not keep:
/// [`layer_weights`] gives them, through the cache).
pub struct Quantized {
    pub codes: QuantizedTensor,
    stats: OnceLock<QuantStats>,
}

impl Quantized {
    /// Bytes it holds: codes, scales and group metadata.
    pub fn bytes(&self) -> u64 {
        let c = &self.codes;
        let groups = c.groups.as_ref().map_or(0, |g| g.shared.len() * 3);
        (std::mem::size_of_val(&c.codes[..]) + c.scales.len() * 4 + groups) as u64
    }

    /// Density, effectual bits, distinct values, error and storage of the layer's codes, when
    /// computed ([`layer_stats`], [`quantize_layers_with_stats`]).
    pub fn stats(&self) -> Option<&QuantStats> {
        self.stats.get()
    }
}

/// The statistics of `q`, the quantized weights of `layer`: kept with it once computed;
/// computed from `weights` when given (the floats it was just quantized from), else from the
/// layer's floats read again through the cache. Two threads that compute them at once compute
/// equal values; the first is kept.
pub fn layer_stats(
    layer: &Layer,
    source: &dyn TensorSource,
    caches: Caches,
    q: &Quantized,
    weights: Option<&[f32]>,
) -> Result<QuantStats> {
    if let Some(s) = q.stats.get() {
        return Ok(*s);
    }
    let s = match weights {
        Some(w) => stats(w, &q.codes),
        None => stats(&layer_weights(layer, source, caches.weights)?, &q.codes),
    };
    Ok(*q.stats.get_or_init(|| s))
}

/// What a run quantizes and reports besides the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Quantize every weight layer (their statistics; codes for the reference engine), not
    /// only those whose timing needs codes or whose weights are read from files.
    pub all_layers: bool,
    /// Summarize the quantized layers ([`QuantStats`]).
    pub stats: bool,
}

/// One design on one network, end to end.
pub struct DesignRun {
    /// The network as simulated: the design's native scheme applied, activation flags read.
    pub net: Network,
    /// The statistics of the layers the run quantized, when asked for. The codes themselves
    /// are not kept (the run streams layer by layer); [`quantize_layers`] with the same
    /// caches gives them, from the cache while it holds them.
    pub stats: Vec<Option<QuantStats>>,
    pub run: RunResult,
}

/// The network a design runs: its native scheme on every weight layer that does not name one.
pub fn design_network(arch: &Arch, net: &Network) -> Network {
    match &arch.scheme {
        Some(s) => net.with_default_scheme(s),
        None => net.clone(),
    }
}

/// Which layers a run of `arch` on `net` (already [`design_network`]) quantizes: every weight
/// layer with `all_layers`; else those whose timing needs codes, whose weights come from a
/// file, or all when the source overrides every layer's weights.
pub fn quantized_layers(
    arch: Option<&Arch>,
    net: &Network,
    source: &dyn TensorSource,
    opts: Options,
) -> Vec<bool> {
    net.layers
        .iter()
        .map(|l| {
            l.weight_shape().is_some()
                && (opts.all_layers
                    || source.overrides_weights()
                    || arch.is_some_and(|a| engine::needs_codes(a, l))
                    || matches!(l.weights, Some(WeightSource::File { .. })))
        })
        .collect()
}

fn weight_key(source: &dyn TensorSource, l: &Layer) -> TensorKey {
    TensorKey {
        source: source.key(),
        layer: l.name.clone(),
        origin: format!("{:?}", l.weights),
        shape: l.weight_shape().unwrap_or_default(),
    }
}

/// The float weights of `layer`, through the cache.
pub fn layer_weights(
    layer: &Layer,
    source: &dyn TensorSource,
    cache: &WeightCache,
) -> Result<Arc<Vec<f32>>> {
    cache.weights.get_or_try(
        weight_key(source, layer),
        |w| w.len() as u64 * 4,
        || source.weights(layer).map(Arc::new),
    )
}

/// A layer's float weights, shared.
type Floats = Arc<Vec<f32>>;

/// The quantized weights of `layer`, through the cache, and the float weights they were made
/// from when this call made them (for their statistics, without reading them again).
fn quantized_layer(
    layer: &Layer,
    source: &dyn TensorSource,
    caches: Caches,
) -> Result<(Arc<Quantized>, Option<Floats>)> {
    let scheme: &Scheme = &layer.quant.scheme;
    let key = (weight_key(source, layer), format!("{scheme:?}"));
    let id = {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        key.hash(&mut h);
        h.finish()
    };
    let mut fresh = None;
    let q = caches.codes.codes.get_or_try(
        key,
        |q| q.bytes(),
        || {
            let shape = layer.weight_shape().expect("quantized layers have weights");
            let weights = layer_weights(layer, source, caches.weights)?;
            let codes = quantize(&weights, &shape, scheme);
            let mut made = caches.codes.made.lock().unwrap_or_else(|e| e.into_inner());
            made.weights += weights.len() as u64;
            made.distinct.insert(id, weights.len() as u64);
            drop(made);
            fresh = Some(weights);
            Ok(Arc::new(Quantized {
                codes,
                stats: OnceLock::new(),
            }))
        },
    )?;
    Ok((q, fresh))
}

/// Quantize the layers `which` selects (in parallel, collected in order; the first failing
/// layer in network order is the error, whatever the thread count).
pub fn quantize_layers(
    net: &Network,
    which: &[bool],
    source: &dyn TensorSource,
    caches: Caches,
) -> Result<Vec<Option<Arc<Quantized>>>> {
    quantize_layers_and(net, which, source, caches, false)
}

/// [`quantize_layers`] with every quantized layer's statistics ([`Quantized::stats`]).
pub fn quantize_layers_with_stats(
    net: &Network,
    which: &[bool],
    source: &dyn TensorSource,
    caches: Caches,
) -> Result<Vec<Option<Arc<Quantized>>>> {
    quantize_layers_and(net, which, source, caches, true)
}

fn quantize_layers_and(
    net: &Network,
    which: &[bool],
    source: &dyn TensorSource,
    caches: Caches,
    with_stats: bool,
) -> Result<Vec<Option<Arc<Quantized>>>> {
    let sizes = size_problems(None, net);
    if !sizes.is_empty() {
        return Err(Error::invalid(format!("workload `{}`", net.name), sizes));
    }
    let layer = |l: &Layer| -> Result<Arc<Quantized>> {
        let (q, fresh) = quantized_layer(l, source, caches)?;
        if with_stats {
            layer_stats(l, source, caches, &q, fresh.as_deref().map(Vec::as_slice))?;
        }
        Ok(q)
    };
    net.layers
        .par_iter()
        .zip(which.par_iter())
        .map(|(l, &want)| want.then(|| layer(l)).transpose())
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// Read the activation flags of the layers that name a file, into `net` (for PEs that skip
/// zero activations).
fn read_activations(
    net: &mut Network,
    source: &dyn TensorSource,
    cache: &WeightCache,
) -> Result<()> {
    for i in 0..net.layers.len() {
        let layer = &net.layers[i];
        // Flags a functional run has set come from the real inputs and stay.
        let Some((file, tensor)) = layer
            .activations
            .file
            .as_ref()
            .filter(|_| layer.activations.nonzero.is_none())
        else {
            continue;
        };
        // The input's shape and the batch decide the flags' length.
        let mut shape: Vec<u64> = layer
            .inputs
            .first()
            .map(|t| net.tensor(*t).shape.clone())
            .unwrap_or_default();
        shape.push(net.batch);
        let key = TensorKey {
            source: source.key(),
            layer: layer.name.clone(),
            origin: format!("{:?}", (file, tensor)),
            shape,
        };
        let flags = cache.activations.get_or_try(
            key,
            |f| f.as_ref().map_or(0, |f| f.len() as u64),
            || Ok(source.activations(net, layer)?.map(Arc::new)),
        )?;
        net.layers[i].activations.nonzero = flags;
    }
    Ok(())
}

/// Every layer the design cannot run, as problems under the layer's path (`validate` reports
/// them; `run` fails on the first as unsupported).
pub fn compatibility(arch: &Arch, net: &Network) -> Vec<Problem> {
    net.layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.weight_shape().is_some() || l.is_act_matmul())
        .filter_map(|(i, l)| {
            let cost = if l.is_act_matmul() {
                arch.pe.dynamic_cost(l.quant.activation_bits)
            } else {
                arch.pe.layer_cost(&l.quant)
            };
            cost.err().map(|why| {
                Problem::new(
                    format!("layers[{i}] ({})", l.name),
                    format!(
                        "pe.kind = \"{}\" cannot run scheme `{}`: {why}",
                        arch.pe.kind.as_str(),
                        l.scheme_label()
                    ),
                )
            })
        })
        .collect()
}

/// Most (K chunk, filter, step) costs of one convolution group of a layer whose PEs skip zero
/// activations (2^28, 1 GiB): the engine keeps one per combination.
pub const MAX_SKIPPING_COSTS: u64 = 1 << 28;
/// Most GEMM input flags (groups x M x K) of a layer whose PEs skip zero activations (2^30,
/// 1 GiB): the engine holds the layer's im2col pattern of zero activations.
pub const MAX_SKIPPING_MASK: u64 = 1 << 30;

fn product(dims: impl IntoIterator<Item = u64>) -> Option<u64> {
    dims.into_iter().try_fold(1u64, |acc, d| acc.checked_mul(d))
}

/// Every size of `net` (on `arch`, when given) beyond what the engine can count or hold,
/// checked before anything is allocated.
pub fn size_problems(arch: Option<&Arch>, net: &Network) -> Vec<Problem> {
    let mut p = Vec::new();
    let too_big = |p: &mut Vec<Problem>, path: &str, what: String, limit: u64, why: &str| {
        p.push(
            Problem::new(path, format!("{what} is too large"))
                .with_help(format!("at most {limit} ({why})")),
        );
    };
    // Tensor, weight and MAC counts are bounded by the workload's validation
    // (`workload::MAX_*`); what depends on the design is checked here.
    for (i, l) in net.layers.iter().enumerate() {
        let path = format!("layers[{i}] ({})", l.name);
        let Some(g) = l.gemm(net).filter(|_| !l.is_act_matmul()) else {
            continue;
        };
        if let Some(a) = arch.filter(|a| a.pe.skip_zero_activations || a.pe.reads_activations()) {
            let chunks = g.k.div_ceil(a.pe.k_per_pe());
            let costs = product([chunks, g.n, g.m]);
            if costs.is_none_or(|c| c > MAX_SKIPPING_COSTS) {
                too_big(
                    &mut p,
                    &path,
                    format!(
                        "with per-activation step costs (zero skipping or activation-serial PEs), the step costs ({chunks} K chunks x {} filters x {} steps per group)",
                        g.n, g.m
                    ),
                    MAX_SKIPPING_COSTS,
                    "the engine keeps one per combination; use a smaller batch",
                );
            }
            let mask = product([g.groups, g.m, g.k]);
            if mask.is_none_or(|c| c > MAX_SKIPPING_MASK) {
                too_big(
                    &mut p,
                    &path,
                    format!(
                        "with per-activation step costs (zero skipping or activation-serial PEs), the im2col input ({} groups x {} rows x {} reduction indices)",
                        g.groups, g.m, g.k
                    ),
                    MAX_SKIPPING_MASK,
                    "the engine holds one flag or value per entry; use a smaller batch",
                );
            }
        }
    }
    p
}

/// Bytes of float weights and codes a layer holds while it is quantized and simulated (6
/// per weight: f32 and 16-bit codes), for the layers `which` quantizes.
fn quantized_bytes(net: &Network, which: &[bool]) -> Vec<u128> {
    net.layers
        .iter()
        .zip(which)
        .map(|(l, &q)| {
            let weights = l
                .weight_shape()
                .filter(|_| q)
                .map_or(0, |s| s.iter().map(|&d| d as u128).product::<u128>());
            weights * 6
        })
        .collect()
}

/// Bytes of quantized layers held at once: [`run_design`] runs its layers in windows of
/// consecutive layers that hold at most this much together (or one larger layer alone).
pub const LAYERS_IN_FLIGHT_BYTES: u128 = 16 << 20;

/// Consecutive windows of layers, in order, each holding at most [`LAYERS_IN_FLIGHT_BYTES`]
/// (`bytes` per layer) or a single layer.
fn windows(bytes: &[u128]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut held) = (0, 0u128);
    for (i, &b) in bytes.iter().enumerate() {
        if i > start && held + b > LAYERS_IN_FLIGHT_BYTES {
            out.push(start..i);
            (start, held) = (i, 0);
        }
        held += b;
    }
    if start < bytes.len() {
        out.push(start..bytes.len());
    }
    out
}

/// Bytes a run of `arch` on `net` holds at its peak, an estimate from above. The run streams
/// layer by layer in windows ([`LAYERS_IN_FLIGHT_BYTES`]), so what counts is the window that
/// holds most: each of its layers with its float weights and 16-bit codes (6 bytes per
/// weight) and, for PEs with per-activation step costs, its im2col flags or magnitudes (2
/// bytes per entry) and step costs (8 bytes each); plus what the caches may keep, at most
/// their bounds and never more than the network's tensors. The edge compares it with the
/// machine's free memory before anything is spent.
pub fn memory_estimate_bytes(
    arch: &Arch,
    net: &Network,
    source: &dyn TensorSource,
    opts: Options,
    caches: Caches,
) -> u128 {
    let net = design_network(arch, net);
    let which = quantized_layers(Some(arch), &net, source, opts);
    let per_activation = arch.pe.skip_zero_activations || arch.pe.reads_activations();
    let weight_bytes = quantized_bytes(&net, &which);
    let layers: Vec<u128> = net
        .layers
        .iter()
        .zip(&weight_bytes)
        .map(|(l, &w)| {
            let acts = match l.gemm(&net) {
                Some(g) if per_activation => {
                    let chunks = g.k.div_ceil(arch.pe.k_per_pe()) as u128;
                    g.groups as u128 * g.m as u128 * g.k as u128 * 2
                        + chunks * g.n as u128 * g.m as u128 * 8
                }
                _ => 0,
            };
            w + acts
        })
        .collect();
    let weights: u128 = weight_bytes.iter().sum();
    let kept = weights.min(caches.weights.bound() as u128 + caches.codes.bound() as u128);
    let in_flight = windows(&weight_bytes)
        .into_iter()
        .map(|w| layers[w].iter().sum::<u128>())
        .max()
        .unwrap_or(0);
    in_flight + kept
}

/// Every check [`run_design`] makes, without quantizing or simulating: the sizes fit, the
/// design can run every layer, and every tensor the run would read exists with the right
/// shape, dtype and finite values. Every problem is reported at once (the tensors are not read
/// when a size is out of bounds). `origin` names the pair in the error.
pub fn check_design(
    arch: &Arch,
    net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    opts: Options,
    origin: &str,
) -> Result<()> {
    let net = design_network(arch, net);
    let sizes = size_problems(Some(arch), &net);
    let mut problems = compatibility(arch, &net);
    let sizes_ok = sizes.is_empty();
    problems.extend(sizes);
    if sizes_ok {
        let path = |i: usize, l: &Layer| format!("layers[{i}] ({})", l.name);
        if arch.pe.skip_zero_activations || arch.pe.reads_activations() {
            for (i, l) in net.layers.iter().enumerate() {
                if l.activations.file.is_some() {
                    if let Err(e) = source.activations(&net, l) {
                        problems.push(Problem::new(
                            format!("{}.activations", path(i, l)),
                            e.to_string(),
                        ));
                    }
                }
            }
        }
        let which = quantized_layers(Some(arch), &net, source, opts);
        for (i, l) in net.layers.iter().enumerate().filter(|(i, _)| which[*i]) {
            if let Err(e) = layer_weights(l, source, caches.weights) {
                problems.push(Problem::new(
                    format!("{}.weights", path(i, l)),
                    e.to_string(),
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(origin, problems))
    }
}

/// Load (or generate) the float weights of the layers `which` selects into the cache, in
/// parallel; a layer that fails is left out (whoever needs it reports the error).
pub fn load_weights(net: &Network, which: &[bool], source: &dyn TensorSource, cache: &WeightCache) {
    net.layers
        .par_iter()
        .zip(which.par_iter())
        .filter(|(_, &w)| w)
        .for_each(|(l, _)| {
            let _ = layer_weights(l, source, cache);
        });
}

/// Run `arch` on `net` end to end (see the module docs).
pub fn run_design(
    arch: &Arch,
    net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    opts: Options,
) -> Result<DesignRun> {
    let mut net = design_network(arch, net);
    let sizes = size_problems(Some(arch), &net);
    if !sizes.is_empty() {
        return Err(Error::invalid(format!("workload `{}`", net.name), sizes));
    }
    // What the design cannot run is refused before anything is read or quantized.
    if let Some(p) = compatibility(arch, &net).first() {
        return Err(Error::Unsupported(format!(
            "design `{}` on workload `{}`: {}: {}",
            arch.name, net.name, p.path, p.message
        )));
    }
    if arch.pe.skip_zero_activations || arch.pe.reads_activations() {
        read_activations(&mut net, source, caches.weights)?;
    }
    let which = quantized_layers(Some(arch), &net, source, opts);
    // Layer by layer: its weights read or generated, quantized, summarized and simulated,
    // then dropped (unless the caches keep them). The layers of a window run in parallel,
    // each with its own parallel quantization inside, windows one after another; results are
    // collected in network order.
    let run_layer = |(layer, &want): (&Layer, &bool)| {
        let (q, fresh) = match want
            .then(|| quantized_layer(layer, source, caches))
            .transpose()
        {
            Ok(Some((q, fresh))) => (Some(q), fresh),
            Ok(None) => (None, None),
            Err(e) => return (Err(e), None),
        };
        // The statistics (when asked for) beside the simulation, from the floats the codes
        // were just made from.
        let (result, stats) = rayon::join(
            || engine::simulate_layer(arch, &net, layer, q.as_deref().map(|q| &q.codes)),
            || {
                q.as_deref()
                    .filter(|_| opts.stats)
                    .map(|q| {
                        layer_stats(
                            layer,
                            source,
                            caches,
                            q,
                            fresh.as_deref().map(Vec::as_slice),
                        )
                    })
                    .transpose()
            },
        );
        match stats {
            Ok(s) => (result, s),
            Err(e) => (Err(e), None),
        }
    };
    let mut results = Vec::with_capacity(net.layers.len());
    let mut stats = Vec::with_capacity(net.layers.len());
    for w in windows(&quantized_bytes(&net, &which)) {
        let layers: Vec<_> = net.layers[w.clone()]
            .par_iter()
            .zip(which[w].par_iter())
            .map(run_layer)
            .collect();
        let failed = layers.iter().any(|(r, _)| r.is_err());
        for (r, s) in layers {
            results.push(r);
            stats.push(s);
        }
        // The first failing layer in network order is the run's error: later windows would
        // not change it.
        if failed {
            break;
        }
    }
    let run = engine::finish(arch, &net, results)?;
    Ok(DesignRun { net, stats, run })
}

/// Tensors held in memory, by layer name (tests, bindings). Activations are not given.
#[derive(Debug, Clone)]
pub struct MemorySource {
    /// Float weights per layer name, PyTorch layout.
    weights: HashMap<String, Vec<f32>>,
    /// Parameter tensors by tensor name (whatever file the workload names).
    params: HashMap<String, Vec<f32>>,
    /// A name for messages.
    name: String,
    /// Unique per source made: two sources never share cache entries.
    id: u64,
}

impl MemorySource {
    /// The same source with parameter tensors (bias, batch norm, slopes) by tensor name.
    pub fn with_params(mut self, params: HashMap<String, Vec<f32>>) -> Self {
        self.params = params;
        self
    }

    /// A source of `weights` (per layer name) called `name` in messages.
    pub fn new(name: &str, weights: HashMap<String, Vec<f32>>) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        MemorySource {
            weights,
            params: HashMap::new(),
            name: name.to_string(),
            id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }
}

impl TensorSource for MemorySource {
    fn weights(&self, layer: &Layer) -> Result<Vec<f32>> {
        let err = |message: String| Error::Weights {
            file: format!("<memory {}>", self.name),
            tensor: layer.name.clone(),
            layer: Some(layer.name.clone()),
            message,
        };
        let w = self
            .weights
            .get(&layer.name)
            .ok_or_else(|| err("no weights given for this weight layer".into()))?;
        let shape = layer.weight_shape().unwrap_or_default();
        let n: u64 = shape.iter().product();
        if w.len() as u64 != n {
            return Err(err(format!(
                "{} weights given, the layer's shape {shape:?} holds {n}",
                w.len()
            )));
        }
        Ok(w.clone())
    }

    fn activations(&self, _net: &Network, _layer: &Layer) -> Result<Option<Vec<bool>>> {
        Ok(None)
    }

    fn param(&self, layer: &Layer, file: &str, tensor: &str) -> Result<Vec<f32>> {
        self.params
            .get(tensor)
            .cloned()
            .ok_or_else(|| Error::Weights {
                file: format!("<memory {}> ({file})", self.name),
                tensor: tensor.to_string(),
                layer: Some(layer.name.clone()),
                message: "no such parameter tensor given".into(),
            })
    }

    fn key(&self) -> String {
        format!("memory #{} ({})", self.id, self.name)
    }

    fn overrides_weights(&self) -> bool {
        true
    }
}

/// A functional run: the fidelity of the design's datapath on real inputs, and the timing
/// with the activations those inputs produce.
pub struct FunctionalRun {
    pub evaluation: crate::functional::Evaluation,
    pub design: DesignRun,
    /// What the run assumed where the workload was silent (e.g. batch norms without
    /// parameters, run as the identity).
    pub notes: Vec<String>,
}

/// The parameters of every layer that names them, read through `source` and checked against
/// the layer's channels.
fn layer_params(
    net: &Network,
    source: &dyn TensorSource,
    notes: &mut Vec<String>,
) -> Result<Vec<crate::functional::Params>> {
    use crate::functional::Params;
    use crate::workload::{Op, ParamKeys};
    let mut out = Vec::with_capacity(net.layers.len());
    let mut identity_bn = Vec::new();
    let mut default_slope = Vec::new();
    for l in &net.layers {
        let channels = match l.op {
            Op::Matmul { n, .. } => n,
            _ => net.tensor(l.output).shape.first().copied().unwrap_or(1),
        } as usize;
        let Some(src) = &l.params else {
            if l.op == Op::BatchNorm {
                identity_bn.push(l.name.clone());
            }
            if l.op == Op::Prelu {
                default_slope.push(l.name.clone());
            }
            out.push(Params::None);
            continue;
        };
        let read = |tensor: &str, allow_one: bool| -> Result<Vec<f32>> {
            let v = source.param(l, &src.file, tensor)?;
            if v.len() == channels || (allow_one && v.len() == 1) {
                Ok(v)
            } else {
                Err(Error::Weights {
                    file: src.file.clone(),
                    tensor: tensor.to_string(),
                    layer: Some(l.name.clone()),
                    message: format!(
                        "{} values, but the layer has {channels} channels (one value per channel)",
                        v.len()
                    ),
                })
            }
        };
        out.push(match &src.keys {
            ParamKeys::Bias(t) => Params::Bias(read(t, false)?),
            ParamKeys::Slope(t) => Params::Slope(read(t, true)?),
            ParamKeys::BatchNorm { prefix, eps, names } => {
                let [g, b, m, v] = names.suffixes();
                let get = |s: &str| read(&format!("{prefix}.{s}"), false);
                let var = get(v)?;
                if let Some(v) = var.iter().find(|v| **v < 0.0) {
                    return Err(Error::Weights {
                        file: src.file.clone(),
                        tensor: format!("{prefix}.{v}"),
                        layer: Some(l.name.clone()),
                        message: format!("variance {v} is negative"),
                    });
                }
                Params::batch_norm(&get(g)?, &get(b)?, &get(m)?, &var, *eps)
            }
        });
    }
    let listed = |v: &[String]| {
        format!(
            "{}{}",
            v[..v.len().min(3)].join(", "),
            if v.len() > 3 { ", ..." } else { "" }
        )
    };
    if !identity_bn.is_empty() {
        notes.push(format!(
            "{} batch_norm layer(s) name no params and run as the identity ({})",
            identity_bn.len(),
            listed(&identity_bn)
        ));
    }
    if !default_slope.is_empty() {
        notes.push(format!(
            "{} prelu layer(s) name no params and run with slope 0.25, PyTorch's initial value ({})",
            default_slope.len(),
            listed(&default_slope)
        ));
    }
    Ok(out)
}

/// The fp32 reference of `samples` on `net` (its float weights and parameters through
/// `source`), computed once for every design run on them; every tensor is kept when they take
/// at most `keep_bytes` (0: only the calibration).
pub fn reference_of(
    net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    samples: crate::functional::Samples,
    keep_bytes: u64,
) -> Result<crate::functional::Reference> {
    use crate::functional::{LayerTensors, Model, Reference};
    let weights: Vec<Option<Arc<Vec<f32>>>> = net
        .layers
        .iter()
        .map(|l| {
            l.weight_shape()
                .map(|_| layer_weights(l, source, caches.weights))
                .transpose()
        })
        .collect::<Result<_>>()?;
    let params = layer_params(net, source, &mut Vec::new())?;
    let tensors = weights
        .iter()
        .map(|w| {
            w.as_deref().map(|w| LayerTensors {
                weights: w,
                codes: None,
            })
        })
        .collect();
    let model = Model::new(net, tensors, params, 32, crate::tech::VectorPrecision::Fp32)?;
    Ok(Reference::new(
        &model,
        samples.values,
        samples.calibration,
        keep_bytes,
    ))
}

/// The functional run of `arch` on its network `design_net` ([`design_network`]) over
/// `samples`: every weight layer quantized (through the caches), against `reference` when
/// given (else computed here); the first `timed` inputs keep their activations. Returns the
/// evaluation and what was assumed where the workload was silent.
pub fn evaluate_design(
    arch: &Arch,
    design_net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    samples: crate::functional::Samples,
    reference: Option<&crate::functional::Reference>,
    timed: usize,
) -> Result<(crate::functional::Evaluation, Vec<String>)> {
    use crate::functional::{evaluate, evaluate_with, LayerTensors, Model};
    let mut notes = Vec::new();
    let which: Vec<bool> = design_net
        .layers
        .iter()
        .map(|l| l.weight_shape().is_some())
        .collect();
    let quantized = quantize_layers(design_net, &which, source, caches)?;
    let floats = design_net
        .layers
        .iter()
        .zip(&which)
        .map(|(l, &w)| {
            w.then(|| layer_weights(l, source, caches.weights))
                .transpose()
        })
        .collect::<Result<Vec<_>>>()?;
    let params = layer_params(design_net, source, &mut notes)?;
    let tensors: Vec<Option<LayerTensors>> = quantized
        .iter()
        .zip(&floats)
        .map(|(q, w)| {
            q.as_deref().zip(w.as_deref()).map(|(q, w)| LayerTensors {
                weights: w,
                codes: Some(&q.codes),
            })
        })
        .collect();
    let model = Model::new(
        design_net,
        tensors,
        params,
        arch.pe.accumulator_bits,
        arch.vector.precision,
    )?;
    let ev = match reference {
        Some(r) => evaluate_with(&model, r, samples, timed),
        None => evaluate(&model, samples, timed),
    };
    Ok((ev, notes))
}

/// The network with the activations an evaluation measured (zero flags and magnitudes of
/// every array layer's input over the timed inputs), for the timing of PEs that skip zeros or
/// are serial in the activations' bits.
pub fn with_activations(net: &mut Network, ev: &crate::functional::Evaluation) {
    for (l, codes) in net.layers.iter_mut().zip(&ev.input_codes) {
        if let Some(c) = codes {
            l.activations.nonzero = Some(Arc::new(c.iter().map(|&v| v != 0).collect()));
            l.activations.values = Some(Arc::new(
                c.iter()
                    .map(|&v| v.unsigned_abs().min(u16::MAX as u32) as u16)
                    .collect(),
            ));
        }
    }
}

/// The inputs a design's timing takes from a functional run: the first `batch` when its PEs
/// skip zero activations or are serial in their bits, else none.
pub fn timed_inputs(arch: &Arch, net: &Network) -> usize {
    if arch.pe.skip_zero_activations || arch.pe.reads_activations() {
        net.batch as usize
    } else {
        0
    }
}

/// Run `arch` on `net` functionally on `samples` (see [`crate::functional`]), then time it
/// with the activations the first `batch` inputs produce (the zeros a zero-skipping PE
/// skips, the values an activation-serial PE streams). Every weight layer is quantized.
/// `reference`: the fp32 reference of these samples on this network ([`reference_of`]) when
/// the caller shares one between designs; else it is computed here.
pub fn run_functional(
    arch: &Arch,
    net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    samples: crate::functional::Samples,
    reference: Option<&crate::functional::Reference>,
    opts: Options,
) -> Result<FunctionalRun> {
    let (evaluation, notes, design) = run_functional_with(
        arch,
        net,
        source,
        caches,
        samples,
        opts,
        |design_net, timed| {
            evaluate_design(arch, design_net, source, caches, samples, reference, timed)
        },
    )?;
    Ok(FunctionalRun {
        evaluation,
        design,
        notes,
    })
}

/// [`run_functional`] with the evaluation given by `evaluate` (of the design's network and
/// the number of inputs that keep their activations), for callers that share evaluations
/// between designs (a study's runner): the same checks, then the timing on the activations
/// the evaluation produced.
pub fn run_functional_with<E: std::borrow::Borrow<crate::functional::Evaluation>>(
    arch: &Arch,
    net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    samples: crate::functional::Samples,
    opts: Options,
    evaluate: impl FnOnce(&Network, usize) -> Result<(E, Vec<String>)>,
) -> Result<(E, Vec<String>, DesignRun)> {
    let mut design_net = design_network(arch, net);
    let sizes = size_problems(Some(arch), &design_net);
    if !sizes.is_empty() {
        return Err(Error::invalid(format!("workload `{}`", net.name), sizes));
    }
    if let Some(p) = compatibility(arch, &design_net).first() {
        return Err(Error::Unsupported(p.to_string()));
    }
    let timed = timed_inputs(arch, &design_net);
    if samples.values.len() < timed {
        return Err(Error::Unsupported(format!(
            "the workload's batch is {timed}: timing this design on real activations needs at least {timed} inputs, {} given",
            samples.values.len()
        )));
    }
    let (evaluation, notes) = evaluate(&design_net, timed)?;
    with_activations(&mut design_net, evaluation.borrow());
    let design = run_design(arch, &design_net, source, caches, opts)?;
    Ok((evaluation, notes, design))
}

/// One design on one network, as `plumsim run` and the Python package's `run` do it.
pub struct Simulation {
    pub design: DesignRun,
    /// With real inputs: the network's and each layer's fidelity.
    pub fidelity: Option<crate::functional::Fidelity>,
    /// What the functional run assumed where the workload was silent.
    pub notes: Vec<String>,
}

/// The caches of one run: unbounded when the run's weights and codes are asked for again
/// (`keep`: with real inputs the functional run and the timing share them; the reference
/// engine and the traces quantize the layers again), else bounded to nothing, so the run
/// streams layer by layer.
pub fn one_run_caches(keep: bool) -> (WeightCache, CodeCache) {
    if keep {
        (WeightCache::default(), CodeCache::default())
    } else {
        (WeightCache::with_bound(0), CodeCache::with_bound(0))
    }
}

/// Simulate `arch` on `net` once, with real inputs when `samples` are given (the caches then
/// must keep what they hold: [`one_run_caches`]). `admit` sees the memory the run would
/// hold, in bytes, before anything is read (the IO edge compares it with the machine's free
/// memory). `opts.stats` should be true to report statistics.
pub fn simulate(
    arch: &Arch,
    net: &Network,
    source: &dyn TensorSource,
    caches: Caches,
    samples: Option<crate::functional::Samples>,
    opts: Options,
    admit: &dyn Fn(u128) -> Result<()>,
) -> Result<Simulation> {
    admit(memory_estimate_bytes(arch, net, source, opts, caches))?;
    match samples {
        None => Ok(Simulation {
            design: run_design(arch, net, source, caches, opts)?,
            fidelity: None,
            notes: Vec::new(),
        }),
        Some(samples) => {
            let f = run_functional(arch, net, source, caches, samples, None, opts)?;
            Ok(Simulation {
                design: f.design,
                fidelity: Some(f.evaluation.fidelity),
                notes: f.notes,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell as Counter;

    #[test]
    fn a_code_cache_counts_the_weights_it_quantizes_and_the_distinct_ones() {
        let text = r#"{"name": "c", "inputs": {"x": [2, 4, 4]},
            "layers": [{"name": "a", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 3, "kernel": 3},
                       {"name": "b", "op": "conv2d", "inputs": ["y"], "output": "z", "out_channels": 5, "kernel": 1}]}"#;
        let net = crate::workload::parse_workload(text, "c.json").unwrap();
        let weights: HashMap<String, Vec<f32>> = [("a", 3 * 2 * 9), ("b", 5 * 3)]
            .into_iter()
            .map(|(n, len)| (n.to_string(), (0..len).map(|i| i as f32 - 7.0).collect()))
            .collect();
        let source = MemorySource::new("m", weights);
        let all = [true, true];
        // Kept: the second request is a hit. Bound 0: every request quantizes again.
        for (bound, made) in [(CODE_CACHE_BYTES, 69), (0, 138)] {
            let (w, c) = (WeightCache::default(), CodeCache::with_bound(bound));
            let caches = Caches {
                weights: &w,
                codes: &c,
            };
            for _ in 0..2 {
                quantize_layers(&net, &all, &source, caches).unwrap();
            }
            assert_eq!(c.quantized_weights(), (made, 69), "bound {bound}");
        }
    }

    #[test]
    fn statistics_asked_for_after_the_codes_were_made_read_the_weights_again() {
        let text = r#"{"name": "c", "inputs": {"x": [2, 4, 4]},
            "layers": [{"name": "a", "op": "conv2d", "inputs": ["x"], "output": "y", "out_channels": 3, "kernel": 3}]}"#;
        let net = crate::workload::parse_workload(text, "c.json").unwrap();
        let w: Vec<f32> = (0..54).map(|i| (i as f32 * 0.37).sin()).collect();
        let source = MemorySource::new("m", [("a".to_string(), w.clone())].into());
        // Weights not kept: the statistics must read them again.
        let (wc, cc) = (WeightCache::with_bound(0), CodeCache::default());
        let caches = Caches {
            weights: &wc,
            codes: &cc,
        };
        let first = quantize_layers(&net, &[true], &source, caches).unwrap();
        let q = first[0].as_ref().unwrap();
        assert!(q.stats().is_none(), "not asked for");
        let again = quantize_layers_with_stats(&net, &[true], &source, caches).unwrap();
        let q2 = again[0].as_ref().unwrap();
        assert!(Arc::ptr_eq(q, q2), "the cached codes");
        assert_eq!(q2.stats(), Some(&stats(&w, &q2.codes)));
        assert_eq!(cc.quantized_weights(), (54, 54), "quantized once");
    }

    #[test]
    fn windows_hold_at_most_the_bound_or_one_larger_layer() {
        let b = LAYERS_IN_FLIGHT_BYTES;
        assert_eq!(windows(&[]), Vec::<std::ops::Range<usize>>::new());
        // Layers that need no codes (0 bytes) all run together.
        assert_eq!(windows(&[0, 0, 0]), vec![0..3]);
        // Up to the bound together; a layer that would pass it starts the next window.
        assert_eq!(windows(&[b / 2, b / 2, 1, 0]), vec![0..2, 2..4]);
        // A layer larger than the bound runs alone, and so does the next when they'd pass it.
        assert_eq!(windows(&[1, 3 * b, b, 0, 0]), vec![0..1, 1..2, 2..5]);
        assert_eq!(windows(&[3 * b]), vec![0..1]);
    }

    /// A memo of `bound` bytes whose values cost their own value in bytes; `calls` counts
    /// computations.
    fn ask(m: &Memo<u32, u64>, key: u32, bytes: u64, calls: &Counter<u32>) -> u64 {
        m.get_or_try(
            key,
            |&v| v,
            || {
                calls.set(calls.get() + 1);
                Ok(bytes)
            },
        )
        .expect("computes")
    }

    #[test]
    fn a_memo_keeps_values_within_its_bound_and_drops_the_least_recently_asked() {
        let calls = Counter::new(0);
        let m = Memo::new(100);
        assert_eq!(ask(&m, 1, 40, &calls), 40);
        assert_eq!(ask(&m, 2, 40, &calls), 40);
        assert_eq!(ask(&m, 1, 40, &calls), 40);
        assert_eq!(
            calls.get(),
            2,
            "both fit: the second request for 1 is a hit"
        );
        // 3 makes 120 bytes: 2, asked for least recently, goes.
        ask(&m, 3, 40, &calls);
        assert_eq!(m.lock().held, 80);
        ask(&m, 1, 40, &calls);
        assert_eq!(calls.get(), 3, "1 stayed");
        ask(&m, 2, 40, &calls);
        assert_eq!(calls.get(), 4, "2 was dropped and is computed again");
        // A value larger than the bound is returned but not kept.
        assert_eq!(ask(&m, 4, 500, &calls), 500);
        ask(&m, 4, 500, &calls);
        assert_eq!(calls.get(), 6);
        assert!(m.lock().held <= 100);
    }

    #[test]
    fn a_ranked_memo_drops_the_highest_ranked_first_then_the_least_recently_asked() {
        let calls = Counter::new(0);
        let mut m = Memo::new(100);
        // Odd keys are needed again soon (rank 0), even keys not (rank 1).
        m.rank = Some(Box::new(|k: &u32| (k % 2 == 0) as u64));
        ask(&m, 1, 40, &calls);
        ask(&m, 2, 40, &calls);
        // 3 makes 120 bytes: 2 goes though 1 was asked for less recently.
        ask(&m, 3, 40, &calls);
        ask(&m, 1, 40, &calls);
        ask(&m, 3, 40, &calls);
        assert_eq!(calls.get(), 3, "1 and 3 stayed");
        // Both kept values rank 0: 5 (rank 0) drops 1, the least recently asked.
        ask(&m, 5, 40, &calls);
        ask(&m, 3, 40, &calls);
        assert_eq!(calls.get(), 4, "3 stayed");
        ask(&m, 1, 40, &calls);
        assert_eq!(calls.get(), 5, "1 was dropped");
        // Ranked never needed again (u64::MAX): dropped at once, without waiting for the bound.
        m.rank = Some(Box::new(|k: &u32| if *k == 3 { u64::MAX } else { 0 }));
        m.drop_unneeded();
        assert_eq!(m.lock().held, 40, "only 1 is left");
        ask(&m, 1, 40, &calls);
        assert_eq!(calls.get(), 5, "1 stayed");
    }

    #[test]
    fn a_memo_of_bound_zero_keeps_nothing() {
        let calls = Counter::new(0);
        let m = Memo::new(0);
        for _ in 0..3 {
            assert_eq!(ask(&m, 7, 1, &calls), 1);
        }
        assert_eq!(calls.get(), 3);
        assert_eq!(m.lock().held, 0);
    }

    #[test]
    fn a_failed_computation_is_not_kept() {
        let m: Memo<u32, u64> = Memo::new(100);
        let err = m.get_or_try(1, |&v| v, || Err(Error::Internal("no".into())));
        assert!(err.is_err());
        let calls = Counter::new(0);
        assert_eq!(ask(&m, 1, 5, &calls), 5);
        assert_eq!(calls.get(), 1);
    }
}
