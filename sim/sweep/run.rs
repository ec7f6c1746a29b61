//! Evaluating design points: a window of points at a time, validate each point's
//! architecture, then run every valid point through the one pipeline
//! ([`crate::pipeline::run_design`]) in parallel, handing every finished row to a sink. What
//! a sweep holds does not grow with its number of points: a point is made from its id when
//! its window comes (see [`super::spec::Points`]).
//!
//! Float weights and activation tensors are read or generated once per workload and layer for
//! the whole sweep. Points are grouped by the codes they need (workload, and the scheme of
//! every layer they quantize); a group's codes are quantized once, before its points run, and
//! kept for the next windows while the key is among the last few in use
//! (`CODE_SETS_KEPT`), so the engine's step costs kept with the codes serve every point of
//! the same PE shape.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use crate::arch::Arch;
use crate::design::arch_from_table;
use crate::error::{Error, Result};
use crate::io::FileSource;
use crate::pipeline::{self, Caches, CodeCache, Options, WeightCache};
use crate::report::Summary;
use crate::workload::Network;

use super::{Job, Status, Sweep};

/// Counts of one run of [`Sweep::run`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Rows handed to the sink.
    pub rows: usize,
    pub ok: usize,
    /// Points whose architecture failed validation.
    pub invalid: usize,
    /// Points the engine does not support (`unsupported`) or failed on (`error`).
    pub failed: usize,
    /// Distinct sets of quantized codes computed.
    pub quantized: usize,
    /// True when `stop_after` cut the run short.
    pub stopped: bool,
}

/// Everything that decides a point's codes: the workload and, per layer, the scheme of the
/// layers it quantizes; with real inputs also what else decides its functional run (the
/// accumulator width and the vector unit's format).
type CodesKey = (usize, Vec<Option<String>>, String);

/// Most bytes of fp32 reference tensors a sweep keeps per workload (so no point re-runs the
/// reference); beyond it each point recomputes them.
const KEEP_REFERENCE_BYTES: u64 = 512 << 20;

/// A sweep run quantizes only what timing needs: no statistics.
const OPTIONS: Options = Options {
    all_layers: false,
    stats: false,
};

/// One line per problem for a CSV cell.
fn one_line(e: &Error) -> String {
    match e {
        Error::Invalid { problems, .. } => problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string().replace('\n', "; "),
    }
}

struct Ready {
    job: usize,
    arch: Arc<Arch>,
    /// The network as this point runs it (its native scheme applied), shared by every point
    /// of the workload with the same native scheme.
    net: Arc<Network>,
    which: Vec<bool>,
}

/// Jobs validated, grouped and run together: points are taken a window at a time, so what a
/// sweep holds (validated architectures, groups) does not grow with its number of points.
const WINDOW: usize = 1024;

/// Code sets (one per codes key) kept across windows, most recent first: a key whose points
/// span several windows quantizes once, and the step costs the engine keeps with its codes
/// serve all of them.
const CODE_SETS_KEPT: usize = 4;

impl Sweep {
    /// Evaluate `jobs`, calling `sink` with each finished row (from worker threads, in no
    /// particular order). With `stop_after = Some(k)` only the first k jobs claimed are run
    /// (a stand-in for a killed sweep). Runs on the current rayon pool.
    ///
    /// Jobs are taken in windows of `WINDOW`: each window's points are validated, grouped
    /// by the codes they need and run (groups in parallel), then the next window follows.
    pub fn run(
        &self,
        jobs: &[Job],
        stop_after: Option<usize>,
        sink: &(dyn Fn(Vec<String>) -> Result<()> + Sync),
    ) -> Result<RunStats> {
        let claimed = AtomicUsize::new(0);
        let claim = || {
            let n = claimed.fetch_add(1, Ordering::Relaxed);
            stop_after.is_none_or(|k| n < k)
        };
        let counts: [AtomicUsize; 4] = Default::default();
        let emit = |job: &Job,
                    status: Status,
                    summary: Option<&Summary>,
                    fidelity: Option<&crate::functional::NetworkFidelity>,
                    error: &str|
         -> Result<()> {
            counts[status as usize].fetch_add(1, Ordering::Relaxed);
            sink(self.row(job, status, summary, fidelity, error))
        };
        let sources: Vec<FileSource> = self
            .workloads
            .iter()
            .map(|w| FileSource::new(&w.path, None))
            .collect();
        // The network with a design's native scheme applied, built once per (workload,
        // scheme) rather than cloned for every point.
        let mut nets: Vec<Vec<(Option<crate::quant::Scheme>, Arc<Network>)>> =
            vec![Vec::new(); self.workloads.len()];
        // Float weights once per workload and layer (the cache keeps them for the sweep).
        let weights = WeightCache::default();
        let mut loaded: BTreeMap<usize, Vec<bool>> = BTreeMap::new();
        // The fp32 reference of each workload with real inputs, once for all its points.
        let mut references: BTreeMap<
            usize,
            std::result::Result<crate::functional::Reference, String>,
        > = BTreeMap::new();
        let mut code_sets: Vec<(CodesKey, Arc<CodeCache>)> = Vec::new();
        let quantized = AtomicUsize::new(0);

        for (w, window) in jobs.chunks(WINDOW).enumerate() {
            if stop_after.is_some_and(|k| claimed.load(Ordering::Relaxed) >= k) {
                break;
            }
            let base = w * WINDOW;
            // Each point's architecture, validated once for all its workloads.
            let mut point_ids: Vec<usize> = window.iter().map(|j| j.point).collect();
            point_ids.sort_unstable();
            point_ids.dedup();
            let archs: BTreeMap<usize, std::result::Result<Arc<Arch>, String>> = point_ids
                .par_iter()
                .map(|&p| {
                    let point = self.plan.point(p);
                    let base = &self.plan.spec.bases[self.plan.base_of(&point)];
                    let origin = format!("{} (point {})", base.display(), point.id);
                    let arch = arch_from_table(self.plan.table(&point), &origin)
                        .map(Arc::new)
                        .map_err(|e| one_line(&e));
                    (p, arch)
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect();

            // Invalid points are rows at once; valid ones are grouped by the codes they need.
            let mut groups: BTreeMap<CodesKey, Vec<Ready>> = BTreeMap::new();
            let mut first_job: BTreeMap<CodesKey, usize> = BTreeMap::new();
            let mut invalid = Vec::new();
            for (i, job) in window.iter().enumerate() {
                match &archs[&job.point] {
                    Err(msg) => invalid.push((job, msg)),
                    Ok(arch) => {
                        let built = &mut nets[job.workload];
                        let net = match built.iter().find(|(s, _)| *s == arch.scheme) {
                            Some((_, n)) => n.clone(),
                            None => {
                                let n = Arc::new(pipeline::design_network(
                                    arch,
                                    &self.workloads[job.workload].net,
                                ));
                                built.push((arch.scheme, n.clone()));
                                n
                            }
                        };
                        let functional = self.workloads[job.workload].inputs.is_some();
                        let which = pipeline::quantized_layers(
                            Some(arch),
                            &net,
                            &sources[job.workload],
                            Options {
                                all_layers: functional,
                                ..OPTIONS
                            },
                        );
                        let key: CodesKey = (
                            job.workload,
                            net.layers
                                .iter()
                                .zip(&which)
                                .map(|(l, &w)| w.then(|| format!("{:?}", l.quant.scheme)))
                                .collect(),
                            if functional {
                                format!(
                                    "{} {}",
                                    arch.pe.accumulator_bits,
                                    arch.vector.precision.label()
                                )
                            } else {
                                String::new()
                            },
                        );
                        first_job.entry(key.clone()).or_insert(base + i);
                        groups.entry(key).or_default().push(Ready {
                            job: base + i,
                            arch: arch.clone(),
                            net,
                            which,
                        });
                    }
                }
            }
            invalid.par_iter().try_for_each(|(job, msg)| {
                if claim() {
                    emit(job, Status::Invalid, None, None, msg)
                } else {
                    Ok(())
                }
            })?;

            // Float weights the window's groups need and no earlier window loaded, before the
            // groups (which would race for them) run.
            let mut need: BTreeMap<usize, Vec<bool>> = BTreeMap::new();
            for (key, group) in &groups {
                let n = group[0].which.len();
                let e = need.entry(key.0).or_insert_with(|| vec![false; n]);
                for (a, &b) in e.iter_mut().zip(&group[0].which) {
                    *a |= b;
                }
            }
            for (&wl, which) in &need {
                let done = loaded.entry(wl).or_insert_with(|| vec![false; which.len()]);
                let new: Vec<bool> = which
                    .iter()
                    .zip(done.iter())
                    .map(|(&a, &b)| a && !b)
                    .collect();
                if new.iter().any(|&x| x) {
                    pipeline::load_weights(&self.workloads[wl].net, &new, &sources[wl], &weights);
                    for (d, &x) in done.iter_mut().zip(&new) {
                        *d |= x;
                    }
                }
                if let (Some(set), false) =
                    (&self.workloads[wl].inputs, references.contains_key(&wl))
                {
                    let codes = CodeCache::default();
                    let caches = Caches {
                        weights: &weights,
                        codes: &codes,
                    };
                    let r = pipeline::reference_of(
                        &self.workloads[wl].net,
                        &sources[wl],
                        caches,
                        samples(set, self.plan.spec.calibration),
                        KEEP_REFERENCE_BYTES,
                    )
                    .map_err(|e| one_line(&e));
                    references.insert(wl, r);
                }
            }
            let mut order: Vec<(usize, CodesKey)> =
                first_job.into_iter().map(|(k, i)| (i, k)).collect();
            order.sort();
            // Each key's code set: one kept from an earlier window, else made when its group
            // runs. Only the window's last few keys keep theirs for the next window; the others
            // are dropped when their group is done, so only the groups in flight hold codes.
            let keep_from = order.len().saturating_sub(CODE_SETS_KEPT);
            let slots: Vec<Mutex<Option<Arc<CodeCache>>>> = order
                .iter()
                .map(|(_, key)| {
                    Mutex::new(
                        code_sets
                            .iter()
                            .position(|(k, _)| k == key)
                            .map(|at| code_sets.remove(at).1),
                    )
                })
                .collect();
            code_sets.clear();
            // Groups run in parallel too (quantizing one while simulating another).
            order.par_iter().enumerate().try_for_each(|(i, (_, key))| -> Result<()> {
                let kept = slots[i].lock().unwrap_or_else(|e| e.into_inner()).take();
                let (codes, new) = match kept {
                    Some(c) => (c, false),
                    None => (Arc::new(CodeCache::default()), true),
                };
                let done = (|| -> Result<()> {
                    let group = &groups[key];
                    if stop_after.is_some_and(|k| claimed.load(Ordering::Relaxed) >= k) {
                        return Ok(());
                    }
                    let source = &sources[key.0];
                    let caches = Caches {
                        weights: &weights,
                        codes: &codes,
                    };
                    let lead = &group[0];
                    // Quantize the group's layers once; a failure (a missing weight file, say) is
                    // the failure of each of its points, reported by the pipeline below.
                    if lead.which.iter().any(|&w| w)
                        && pipeline::quantize_layers(&lead.net, &lead.which, source, caches).is_ok()
                        && new
                    {
                        quantized.fetch_add(1, Ordering::Relaxed);
                    }
                    // With real inputs: the group's functional run, once for all its points (they
                    // share the codes, the accumulator and the vector format); its activations
                    // time the points whose PEs read them.
                    let functional = match (&self.workloads[key.0].inputs, references.get(&key.0)) {
                        (Some(set), Some(reference)) => Some(reference.clone().and_then(|reference| {
                            // The first `batch` inputs time the points that read activations; with
                            // fewer inputs those points fail (below), the others run.
                            let batch = lead.net.batch as usize;
                            let batch = if set.values.len() >= batch { batch } else { 0 };
                            let (ev, _) = pipeline::evaluate_design(
                                &lead.arch,
                                &lead.net,
                                source,
                                caches,
                                samples(set, self.plan.spec.calibration),
                                Some(&reference),
                                batch,
                            )
                            .map_err(|e| one_line(&e))?;
                            let mut net = self.workloads[key.0].net.clone();
                            pipeline::with_activations(&mut net, &ev);
                            Ok((ev.fidelity.network, net))
                        })),
                        _ => None,
                    };
                    group.par_iter().try_for_each(|r| {
                        if !claim() {
                            return Ok(());
                        }
                        let job = &jobs[r.job];
                        let (net, fidelity) = match &functional {
                            None => (&self.workloads[job.workload].net, None),
                            Some(Ok((f, net))) => (net, Some(f)),
                            Some(Err(msg)) => return emit(job, Status::Error, None, None, msg),
                        };
                        let need = pipeline::timed_inputs(&r.arch, net);
                        let given = self.workloads[job.workload]
                            .inputs
                            .as_ref()
                            .map_or(0, |s| s.values.len());
                        if fidelity.is_some() && need > given {
                            let msg = format!(
                                "the workload's batch is {need}: timing this design on real activations needs at least {need} inputs, {given} given"
                            );
                            return emit(job, Status::Unsupported, None, None, &msg);
                        }
                        match pipeline::run_design(&r.arch, net, source, caches, OPTIONS) {
                            Ok(d) => {
                                let summary = Summary::new(&r.arch, &d.run);
                                // The same last guard as `run`: never a NaN or infinite figure.
                                match crate::report::check_finite(&summary, &[]) {
                                    Ok(()) => emit(job, Status::Ok, Some(&summary), fidelity, ""),
                                    Err(e) => emit(job, Status::Error, None, None, &one_line(&e)),
                                }
                            }
                            Err(e @ Error::Unsupported(_)) => {
                                emit(job, Status::Unsupported, None, None, &one_line(&e))
                            }
                            Err(e) => emit(job, Status::Error, None, None, &one_line(&e)),
                        }
                    })
                })();
                if i >= keep_from {
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(codes);
                }
                done
            })?;
            code_sets = order
                .iter()
                .zip(slots)
                .filter_map(|((_, k), s)| {
                    s.into_inner()
                        .unwrap_or_else(|e| e.into_inner())
                        .map(|c| (k.clone(), c))
                })
                .collect();
        }
        let ok = counts[Status::Ok as usize].load(Ordering::Relaxed);
        let invalid = counts[Status::Invalid as usize].load(Ordering::Relaxed);
        let failed = counts[Status::Unsupported as usize].load(Ordering::Relaxed)
            + counts[Status::Error as usize].load(Ordering::Relaxed);
        Ok(RunStats {
            rows: ok + invalid + failed,
            ok,
            invalid,
            failed,
            quantized: quantized.into_inner(),
            stopped: stop_after.is_some_and(|k| jobs.len() > k),
        })
    }
}

/// The inputs of a workload as the functional run takes them.
fn samples(
    set: &crate::io::InputSet,
    calibration: crate::functional::Calibrate,
) -> crate::functional::Samples<'_> {
    crate::functional::Samples {
        values: &set.values,
        labels: set.labels.as_deref(),
        reference_logits: set.reference_logits.as_deref(),
        calibration,
    }
}
