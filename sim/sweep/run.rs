//! Evaluating design points: validate each point's architecture, quantize once per distinct
//! set of codes, simulate in parallel, hand every finished row to a sink.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use crate::arch::{arch_from_table, Arch};
use crate::engine::{needs_codes, simulate_quantized};
use crate::error::{Error, Result};
use crate::quant::{quantize, QuantizedTensor};
use crate::report::Summary;
use crate::workload::{Layer, Network, WeightSource};

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

/// Everything that decides a layer's codes: the workload and, per layer, the scheme of the
/// layers that need codes on this architecture.
type CodesKey = (usize, Vec<Option<String>>);

fn wanted(arch: &Arch, l: &Layer) -> bool {
    needs_codes(arch, l) || matches!(l.weights, Some(WeightSource::File { .. }))
}

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
    net: Network,
}

impl Sweep {
    /// Evaluate `jobs`, calling `sink` with each finished row (from worker threads, in no
    /// particular order). With `stop_after = Some(k)` only the first k jobs claimed are run
    /// (a stand-in for a killed sweep). Runs on the current rayon pool.
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
        let emit =
            |job: &Job, status: Status, summary: Option<&Summary>, error: &str| -> Result<()> {
                counts[status as usize].fetch_add(1, Ordering::Relaxed);
                sink(self.row(job, status, summary, error))
            };

        // Each point's architecture, validated once for all its workloads.
        let mut point_ids: Vec<usize> = jobs.iter().map(|j| j.point).collect();
        point_ids.sort_unstable();
        point_ids.dedup();
        let archs: BTreeMap<usize, std::result::Result<Arc<Arch>, String>> = point_ids
            .par_iter()
            .map(|&p| {
                let point = &self.plan.points[p];
                let base = &self.plan.spec.bases[self.plan.base_of(point)];
                let origin = format!("{} (point {})", base.display(), point.id);
                let arch = arch_from_table(self.plan.table(point), &origin)
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
        for (i, job) in jobs.iter().enumerate() {
            match &archs[&job.point] {
                Err(msg) => invalid.push((job, msg)),
                Ok(arch) => {
                    let wl = &self.workloads[job.workload];
                    let net = match &arch.scheme {
                        Some(s) => wl.net.with_default_scheme(s),
                        None => wl.net.clone(),
                    };
                    let key: CodesKey = (
                        job.workload,
                        net.layers
                            .iter()
                            .map(|l| wanted(arch, l).then(|| format!("{:?}", l.quant.scheme)))
                            .collect(),
                    );
                    first_job.entry(key.clone()).or_insert(i);
                    groups.entry(key).or_default().push(Ready {
                        job: i,
                        arch: arch.clone(),
                        net,
                    });
                }
            }
        }
        invalid.par_iter().try_for_each(|(job, msg)| {
            if claim() {
                emit(job, Status::Invalid, None, msg)
            } else {
                Ok(())
            }
        })?;

        // Float weights per (workload, layer), loaded or generated once for every scheme.
        let weights: Vec<Vec<OnceLock<Arc<Vec<f32>>>>> = self
            .workloads
            .iter()
            .map(|w| w.net.layers.iter().map(|_| OnceLock::new()).collect())
            .collect();
        let float_weights = |wl: usize, li: usize, layer: &Layer| -> Result<Arc<Vec<f32>>> {
            let cell = &weights[wl][li];
            if let Some(w) = cell.get() {
                return Ok(w.clone());
            }
            let w = Arc::new(crate::io::weights::layer_weights(
                layer,
                None,
                &self.workloads[wl].path,
            )?);
            Ok(cell.get_or_init(|| w).clone())
        };

        let mut order: Vec<(usize, CodesKey)> =
            first_job.into_iter().map(|(k, i)| (i, k)).collect();
        order.sort();
        // Groups run in parallel too (quantizing one while simulating another); only the
        // groups in flight hold their codes.
        let quantized = AtomicUsize::new(0);
        order.par_iter().try_for_each(|(_, key)| -> Result<()> {
            let group = &groups[key];
            if stop_after.is_some_and(|k| claimed.load(Ordering::Relaxed) >= k) {
                return Ok(());
            }
            let lead = &group[0];
            let wl = key.0;
            let codes: Vec<Option<QuantizedTensor>> = if key.1.iter().any(Option::is_some) {
                quantized.fetch_add(1, Ordering::Relaxed);
                lead.net
                    .layers
                    .par_iter()
                    .enumerate()
                    .map(|(li, l)| match (&key.1[li], l.weight_shape()) {
                        (Some(_), Some(shape)) => {
                            let w = float_weights(wl, li, l)?;
                            Ok(Some(quantize(&w, &shape, &l.quant.scheme)))
                        }
                        _ => Ok(None),
                    })
                    .collect::<Vec<_>>()
                    .into_iter()
                    // The first failing layer in order, whatever the thread count.
                    .collect::<Result<_>>()?
            } else {
                Vec::new()
            };
            group.par_iter().try_for_each(|r| {
                if !claim() {
                    return Ok(());
                }
                let job = &jobs[r.job];
                match simulate_quantized(&r.arch, &r.net, &codes) {
                    Ok(run) => emit(job, Status::Ok, Some(&Summary::new(&r.arch, &run)), ""),
                    Err(e @ Error::Unsupported(_)) => {
                        emit(job, Status::Unsupported, None, &one_line(&e))
                    }
                    Err(e) => emit(job, Status::Error, None, &one_line(&e)),
                }
            })
        })?;
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
