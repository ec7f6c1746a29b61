//! The studies behind `results/` (`plumsim reproduce`): plumsim held against the PLUM, SWIS
//! and PikeLPN papers, the design families' Pareto fronts, and which design choices move the
//! headline ratios. Each study is data (the designs it runs: shipped files with fields changed
//! by path, see [`Variant`]) and a small post-processing function that turns the finished
//! runs into CSV tables and plots. Every run goes through the one pipeline
//! ([`crate::pipeline::run_design`]) with shared caches ([`Runner`]). Pure: the files are
//! returned, the caller writes them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use serde::Serialize;

use crate::arch::Arch;
use crate::compare::{compare_rows, CompareRow, DesignResult};
use crate::error::{Error, Result};
use crate::io::FileSource;
use crate::pipeline::{self, Caches, CodeCache, Options, WeightCache};
use crate::plot::{self, BarOptions, ImageFormat};
use crate::report::to_csv;
use crate::table::Table;
use crate::workload::Network;

pub mod fidelity;
pub mod pareto;
pub mod pikelpn;
pub mod plum;
pub mod sensitivity;
pub mod swis;
pub mod transformers;

/// Result files: path under the output folder and bytes.
pub type Files = Vec<(PathBuf, Vec<u8>)>;

/// A design of a study: a shipped architecture with fields removed and set by dotted path
/// (the sweep's field-path setter), renamed `label`.
#[derive(Debug, Clone)]
pub struct Variant {
    pub base: &'static str,
    pub label: String,
    pub unset: Vec<&'static str>,
    pub set: Vec<(&'static str, toml::Value)>,
}

impl Variant {
    /// The shipped design unchanged (under its own name).
    pub fn shipped(base: &'static str) -> Variant {
        Variant {
            base,
            label: String::new(),
            unset: Vec::new(),
            set: Vec::new(),
        }
    }

    /// `base` with `set` applied, named `label`.
    pub fn new(base: &'static str, label: &str, set: Vec<(&'static str, toml::Value)>) -> Self {
        Variant {
            base,
            label: label.into(),
            unset: Vec::new(),
            set,
        }
    }

    /// Also remove these fields first.
    pub fn unset(mut self, fields: &[&'static str]) -> Self {
        self.unset.extend_from_slice(fields);
        self
    }

    /// The validated architecture.
    pub fn arch(&self) -> Result<Arch> {
        if self.label.is_empty() && self.set.is_empty() && self.unset.is_empty() {
            return crate::shipped::arch(self.base);
        }
        let text = crate::shipped::arch_text(self.base)?;
        let origin = format!("arch/{} ({})", self.base, self.label);
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| crate::error::toml_error(text, &origin, &e))?;
        table.insert("name".into(), toml::Value::String(self.label.clone()));
        for path in &self.unset {
            crate::sweep::spec::remove_path(&mut table, path);
        }
        for (path, value) in &self.set {
            crate::sweep::spec::set_path(&mut table, path, value.clone())
                .map_err(|e| Error::Internal(format!("{origin}: {path}: {e}")))?;
        }
        crate::design::arch_from_table(table, &origin)
    }
}

pub fn int(v: i64) -> toml::Value {
    toml::Value::Integer(v)
}

pub fn s(v: &str) -> toml::Value {
    toml::Value::String(v.into())
}

pub fn b(v: bool) -> toml::Value {
    toml::Value::Boolean(v)
}

/// Most bytes of fp32 reference tensors a study keeps per network (ResNet-20 on the 20
/// CIFAR-10 images: 56 MB).
const KEEP_REFERENCE_BYTES: u64 = 256 << 20;

/// Studies quantize every layer and report its statistics.
const STUDY: Options = Options {
    all_layers: true,
    stats: true,
};

/// Runs designs through the pipeline, sharing float weights and codes between them.
pub struct Runner<'p> {
    weights: WeightCache,
    codes: CodeCache,
    sources: Mutex<HashMap<PathBuf, Arc<FileSource>>>,
    /// fp32 references of the fidelity study, per (network, calibration).
    references: Mutex<HashMap<(String, String), Arc<crate::functional::Reference>>>,
    /// Functional evaluations of the fidelity study, per everything they depend on (see
    /// [`Runner::functional`]): designs that differ only in their timing share one.
    evaluations: Mutex<HashMap<String, Arc<crate::functional::Evaluation>>>,
    /// Which code sets and float weights each study asks for, for the caches' retention.
    plan: Arc<Plan>,
    progress: &'p (dyn Fn(&str) + Sync),
}

/// The code sets (source key, then scheme) each phase of a run of studies asks for, and the
/// phase running now. The caches drop first the code sets (and a source's float weights) no
/// phase from now on asks for, then those asked for latest (Belady's rule at the grain of a
/// study; within one study, least recently used first).
#[derive(Default)]
struct Plan {
    phases: OnceLock<Vec<HashMap<String, HashSet<String>>>>,
    now: AtomicUsize,
}

impl Plan {
    /// How many phases ahead the set is next asked for; `u64::MAX` when never (or when no
    /// plan was given: plain least-recently-used).
    fn rank(&self, source: &str, scheme: &str) -> u64 {
        self.next_use(|p| p.get(source).is_some_and(|s| s.contains(scheme)))
    }

    /// The same for a source's float weights and activation flags: asked for by any scheme.
    fn source_rank(&self, source: &str) -> u64 {
        self.next_use(|p| p.contains_key(source))
    }

    fn next_use(&self, uses: impl Fn(&HashMap<String, HashSet<String>>) -> bool) -> u64 {
        let Some(phases) = self.phases.get() else {
            return 0;
        };
        let now = self.now.load(Ordering::Relaxed);
        phases
            .iter()
            .skip(now)
            .position(uses)
            .map_or(u64::MAX, |d| d as u64)
    }
}

impl<'p> Runner<'p> {
    /// `progress` is told the label of every design before it runs.
    pub fn new(progress: &'p (dyn Fn(&str) + Sync)) -> Self {
        let plan = Arc::new(Plan::default());
        let (ranks, source_ranks) = (plan.clone(), plan.clone());
        Runner {
            weights: WeightCache::default()
                .with_retention(move |source| source_ranks.source_rank(source)),
            codes: CodeCache::default()
                .with_retention(move |source, scheme| ranks.rank(source, scheme)),
            sources: Mutex::new(HashMap::new()),
            references: Mutex::new(HashMap::new()),
            evaluations: Mutex::new(HashMap::new()),
            plan,
            progress,
        }
    }

    /// Tell the runner which designs each phase will run, by shipped workload (once, before
    /// the first phase): its caches then keep what is needed soonest. A design or
    /// workload that fails to load is left out here (its run reports the error). Only which
    /// sets are kept depends on it, never a result.
    pub fn plan(&self, phases: &[Vec<(&str, Vec<Variant>)>]) {
        let sets = phases
            .iter()
            .map(|phase| {
                let mut sets: HashMap<String, HashSet<String>> = HashMap::new();
                for (wl, designs) in phase {
                    let Ok((wp, net)) = crate::shipped::workload(wl) else {
                        continue;
                    };
                    let source = pipeline::TensorSource::key(&*self.source(&wp));
                    let schemes = sets.entry(source).or_default();
                    for arch in designs.iter().filter_map(|v| v.arch().ok()) {
                        let net = pipeline::design_network(&arch, &net);
                        for l in net.layers.iter().filter(|l| l.weight_shape().is_some()) {
                            schemes.insert(format!("{:?}", l.quant.scheme));
                        }
                    }
                }
                sets
            })
            .collect();
        let _ = self.plan.phases.set(sets);
    }

    /// Phase `i` of the plan starts: what no phase from now on asks for is dropped.
    pub fn enter(&self, i: usize) {
        self.plan.now.store(i, Ordering::Relaxed);
        if self.plan.phases.get().is_some() {
            self.codes.drop_unneeded();
            self.weights.drop_unneeded();
        }
    }

    /// Weights quantized so far, and those of distinct code sets
    /// ([`CodeCache::quantized_weights`]).
    pub fn quantized_weights(&self) -> (u64, u64) {
        self.codes.quantized_weights()
    }

    /// The caches every run of the reproduction shares.
    fn caches(&self) -> Caches<'_> {
        Caches {
            weights: &self.weights,
            codes: &self.codes,
        }
    }

    /// One source per workload file for the whole reproduction (it keeps its files open).
    fn source(&self, wl: &Path) -> Arc<FileSource> {
        self.sources
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(wl.to_path_buf())
            .or_insert_with(|| Arc::new(FileSource::new(wl, None)))
            .clone()
    }

    /// Run `arch` on `net` (the workload at `wl`), with every layer's statistics.
    pub fn run(&self, arch: Arch, net: &Network, wl: &Path) -> Result<DesignResult> {
        (self.progress)(&arch.name);
        let d = pipeline::run_design(&arch, net, &*self.source(wl), self.caches(), STUDY)?;
        Ok(DesignResult {
            label: arch.name.clone(),
            arch,
            run: d.run,
            stats: d.stats,
        })
    }

    /// The fp32 reference of `samples` on `net` (the workload at `wl`), computed once per
    /// network and calibration and shared by every design run on it.
    pub fn reference(
        &self,
        net: &Network,
        wl: &Path,
        samples: crate::functional::Samples,
    ) -> Result<Arc<crate::functional::Reference>> {
        let key = (net.name.clone(), format!("{:?}", samples.calibration));
        let cached = self
            .references
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(r) = cached {
            return Ok(r);
        }
        let r = Arc::new(pipeline::reference_of(
            net,
            &*self.source(wl),
            self.caches(),
            samples,
            KEEP_REFERENCE_BYTES,
        )?);
        self.references
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, r.clone());
        Ok(r)
    }

    /// Run `arch` on `net` functionally on `samples` (its fidelity), timed on the
    /// activations they produce: [`pipeline::run_functional_with`] against the shared reference,
    /// with the evaluation shared too. It depends on the design only through the network
    /// the design runs (its weight formats and activation widths), the accumulator width,
    /// the vector unit's format and how many inputs keep their codes for the timing; the
    /// designs of the fidelity study that differ in their PEs' timing alone (the int8
    /// dense, bit-serial, bit-sparse, Stripes, Pragmatic and Loom designs) evaluate once.
    pub fn functional(
        &self,
        arch: &Arch,
        net: &Network,
        wl: &Path,
        samples: crate::functional::Samples,
    ) -> Result<(DesignResult, crate::functional::Fidelity)> {
        (self.progress)(&arch.name);
        let source = self.source(wl);
        let reference = self.reference(net, wl, samples)?;
        let evaluate = |design_net: &Network, timed: usize| {
            // Like the references, for the one set of inputs the runner is given.
            let key = format!(
                "{} {:?} timed={timed} accumulator_bits={} vector={:?} net={:?}",
                wl.display(),
                samples.calibration,
                arch.pe.accumulator_bits,
                arch.vector.precision,
                design_net
            );
            let cached = self
                .evaluations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned();
            if let Some(e) = cached {
                return Ok((e, Vec::new()));
            }
            let (e, notes) = pipeline::evaluate_design(
                arch,
                design_net,
                &*source,
                self.caches(),
                samples,
                Some(&reference),
                timed,
            )?;
            let e = Arc::new(e);
            self.evaluations
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, e.clone());
            Ok((e, notes))
        };
        let (evaluation, _notes, d) = pipeline::run_functional_with(
            arch,
            net,
            &*source,
            self.caches(),
            samples,
            STUDY,
            evaluate,
        )?;
        Ok((
            DesignResult {
                label: arch.name.clone(),
                arch: arch.clone(),
                run: d.run,
                stats: d.stats,
            },
            evaluation.fidelity.clone(),
        ))
    }

    /// Run a study's design.
    pub fn variant(&self, v: &Variant, net: &Network, wl: &Path) -> Result<DesignResult> {
        self.run(v.arch()?, net, wl)
    }

    /// Run every design on shipped workload `wl` (in parallel, grouped by scheme, collected
    /// in order: the first failing design in the list is the error); returns the network and
    /// the runs.
    pub fn designs(&self, designs: &[Variant], wl: &str) -> Result<(Network, Vec<DesignResult>)> {
        let (wp, net) = crate::shipped::workload(wl)?;
        let runs = self.variants(designs, &net, &wp)?;
        Ok((net, runs))
    }

    /// Run every design on `net` (the workload at `wl`): [`Runner::grouped`] by the scheme
    /// each design quantizes the network with.
    pub fn variants(
        &self,
        designs: &[Variant],
        net: &Network,
        wl: &Path,
    ) -> Result<Vec<DesignResult>> {
        // Each design's architecture built once, for its group and its run.
        let archs: Vec<(usize, Option<Arch>)> = designs
            .iter()
            .enumerate()
            .map(|(i, v)| (i, v.arch().ok()))
            .collect();
        self.grouped(
            &archs,
            |(_, a)| a.as_ref().map(scheme_key).unwrap_or_default(),
            |(i, a)| match a {
                Some(a) => self.run(a.clone(), net, wl),
                // Fails again, with its error.
                None => self.variant(&designs[*i], net, wl),
            },
        )
    }

    /// `run` on every item, grouped by their `group` keys: the groups run in parallel, the
    /// items of a group one after another (each still runs its layers in parallel); the
    /// results are collected in the order given (the first failing item in the list is the
    /// error, whatever the thread count). Designs that quantize a network
    /// the same way then share its code sets through the bounded cache: no other scheme's
    /// designs evict them between two of the group's runs, and no two threads make the same
    /// code set at the same moment. Only the order of the work changes, never a result.
    pub fn grouped<T: Sync, R: Send, K: Ord>(
        &self,
        items: &[T],
        group: impl Fn(&T) -> K,
        run: impl Fn(&T) -> Result<R> + Sync,
    ) -> Result<Vec<R>> {
        let mut groups: std::collections::BTreeMap<K, Vec<usize>> = Default::default();
        for (i, item) in items.iter().enumerate() {
            groups.entry(group(item)).or_default().push(i);
        }
        let groups: Vec<Vec<usize>> = groups.into_values().collect();
        let mut done: Vec<(usize, Result<R>)> = groups
            .par_iter()
            .flat_map_iter(|members| members.iter().map(|&i| (i, run(&items[i]))))
            .collect();
        done.sort_unstable_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }
}

/// What groups designs in [`Runner::variants`]: the scheme the design applies to the network
/// (a design whose architecture fails to load sorts first; its run reports the error).
pub fn scheme_key(arch: &Arch) -> String {
    format!("{:?}", arch.scheme)
}

/// One plot as `<stem>.svg` and `<stem>.png`.
pub fn plot_both(
    files: &mut Files,
    stem: &Path,
    render: impl Fn(ImageFormat) -> plot::PlotResult<plot::Plot>,
) -> Result<()> {
    for (ext, f) in [("svg", ImageFormat::Svg), ("png", ImageFormat::Png)] {
        let path = PathBuf::from(format!("{}.{ext}", stem.display()));
        let p = render(f)?;
        files.push((path, p.bytes));
    }
    Ok(())
}

/// Rows as a results table (for plotting).
pub fn table_of<T: Serialize>(rows: &[T], origin: &str) -> Result<Table> {
    Table::parse(&to_csv(rows), origin)
}

/// Stacked energy breakdown per design, as SVG and PNG.
pub fn energy_bars(files: &mut Files, rows: &[CompareRow], stem: &Path, title: &str) -> Result<()> {
    let t = table_of(rows, "compare")?;
    let o = BarOptions {
        columns: CompareRow::energy_columns(),
        label: "design".into(),
        stack: true,
        title: Some(title.into()),
        width: 1000,
        beside: Some("latency_us".into()),
    };
    plot_both(files, stem, |f| plot::bars(&t, &o, f, "compare"))
}

/// Rows of `designs` against the first, written to `<stem>.csv` with the energy chart
/// `<stem>_energy.svg/png`.
pub fn comparison(
    files: &mut Files,
    designs: &[DesignResult],
    stem: &Path,
    title: &str,
) -> Result<Vec<CompareRow>> {
    let rows = compare_rows(designs, 0);
    files.push((stem.with_extension("csv"), to_csv(&rows).into_bytes()));
    let name = stem
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    energy_bars(
        files,
        &rows,
        &stem.with_file_name(format!("{name}_energy")),
        title,
    )?;
    Ok(rows)
}

/// What a reproduction made.
pub struct Reproduction {
    /// The markdown comparison tables, for the terminal.
    pub report: String,
    pub files: Files,
    /// Parts left out, and why.
    pub notes: Vec<String>,
}

/// One study of [`reproduce`].
#[derive(Debug, Clone, Copy)]
enum Study {
    Plum {
        wl: &'static str,
        stem: &'static str,
        per_layer: bool,
    },
    Pikelpn {
        wl: &'static str,
        stem: &'static str,
    },
    Swis {
        wl: &'static str,
        stem: &'static str,
    },
    Pareto,
    Sensitivity,
    Fidelity,
    Transformers,
}

/// Which studies [`reproduce`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every study but the transformers'.
    All,
    /// Only the quick part: PLUM on synthetic ResNet-18, PikeLPN's elementwise share.
    Reduced,
    /// Only the transformer study (minutes: it quantizes billions of synthetic weights).
    Transformers,
}

/// The studies [`reproduce`] runs, in order, and notes on those it leaves out (see there).
fn studies(selection: Selection, trained: bool, images: bool) -> (Vec<Study>, Vec<String>) {
    if selection == Selection::Transformers {
        return (vec![Study::Transformers], Vec::new());
    }
    let reduced = selection == Selection::Reduced;
    let mut v = vec![
        Study::Plum {
            wl: "resnet18_plum.json",
            stem: "resnet18_plum",
            per_layer: true,
        },
        Study::Pikelpn {
            wl: "resnet18.json",
            stem: "resnet18",
        },
        Study::Pikelpn {
            wl: "mobilenet_v2.json",
            stem: "mobilenet_v2",
        },
    ];
    let mut notes = Vec::new();
    if reduced {
        return (v, notes);
    }
    v.extend([
        Study::Swis {
            wl: "resnet18.json",
            stem: "resnet18",
        },
        Study::Pareto,
        Study::Sensitivity,
    ]);
    if !trained {
        notes.push(format!(
            "{} not present: the trained ResNet-20 parts are skipped",
            crate::shipped::shared_weights_dir().display()
        ));
        return (v, notes);
    }
    v.extend([
        Study::Plum {
            wl: "resnet20_cifar10_plum.json",
            stem: "resnet20_cifar10_plum",
            per_layer: false,
        },
        Study::Swis {
            wl: "resnet20_cifar10.json",
            stem: "resnet20_cifar10",
        },
    ]);
    if images {
        v.push(Study::Fidelity);
    } else {
        notes.push(format!(
            "{} not present: the fidelity study (ResNet-20 on real CIFAR-10 images) is skipped",
            crate::shipped::shared_images_dir().display()
        ));
    }
    (v, notes)
}

impl Study {
    /// The designs it runs, by shipped workload.
    fn designs(self) -> Vec<(&'static str, Vec<Variant>)> {
        match self {
            Study::Plum { wl, .. } => vec![(wl, plum::designs())],
            Study::Pikelpn { wl, .. } => vec![(wl, pikelpn::designs())],
            Study::Swis { wl, .. } => vec![(wl, swis::designs())],
            Study::Pareto => vec![("resnet18.json", pareto::designs())],
            Study::Sensitivity => vec![("resnet18.json", sensitivity::designs())],
            Study::Transformers => transformers::WORKLOADS
                .iter()
                .map(|(wl, _)| (*wl, transformers::designs()))
                .collect(),
            Study::Fidelity => {
                let mut by: Vec<(&'static str, Vec<Variant>)> = Vec::new();
                for d in fidelity::designs() {
                    match by.iter_mut().find(|(wl, _)| *wl == d.workload) {
                        Some((_, v)) => v.push(d.variant),
                        None => by.push((d.workload, vec![d.variant])),
                    }
                }
                by
            }
        }
    }

    /// How many designs it simulates.
    fn design_count(self) -> u64 {
        match self {
            Study::Plum { .. } => plum::design_count(),
            Study::Pikelpn { .. } => pikelpn::design_count(),
            Study::Swis { .. } => swis::design_count(),
            Study::Pareto => pareto::design_count(),
            Study::Sensitivity => sensitivity::design_count(),
            Study::Fidelity => fidelity::design_count(),
            Study::Transformers => transformers::design_count(),
        }
    }

    /// Run it: its files into `files`, its markdown (if any) returned.
    fn run(
        self,
        files: &mut Files,
        out: &Path,
        r: &Runner,
        images: Option<crate::functional::Samples>,
    ) -> Result<Option<String>> {
        Ok(match self {
            Study::Plum {
                wl,
                stem,
                per_layer,
            } => Some(plum::study(files, out, r, wl, stem, per_layer)?),
            Study::Pikelpn { wl, stem } => {
                pikelpn::study(files, out, r, wl, stem)?;
                None
            }
            Study::Swis { wl, stem } => Some(swis::study(files, out, r, wl, stem)?),
            Study::Pareto => {
                pareto::study(files, out, r)?;
                None
            }
            Study::Sensitivity => {
                sensitivity::study(files, out, r)?;
                None
            }
            Study::Transformers => Some(transformers::study(files, out, r)?),
            Study::Fidelity => {
                let samples = images.ok_or_else(|| {
                    Error::Internal("the fidelity study runs only with its images".into())
                })?;
                Some(fidelity::study(files, out, r, samples)?)
            }
        })
    }
}

/// The studies `selection` names into `out` (see [`Selection`]). The trained ResNet-20 parts run when `trained` (the caller
/// has found `../shared/weights`, see [`crate::shipped::shared_weights_dir`]).
/// `images`: the CIFAR-10 test images the fidelity study runs the trained ResNet-20 on (when
/// `../shared/images` is present).
///
/// The runner is told every study's designs first ([`Runner::plan`]), so its code cache keeps
/// the code sets a later study asks for again, soonest first.
pub fn reproduce(
    out: &Path,
    selection: Selection,
    trained: bool,
    images: Option<crate::functional::Samples>,
    runner: &Runner,
) -> Result<Reproduction> {
    let (studies, notes) = studies(selection, trained, images.is_some());
    runner.plan(&studies.iter().map(|s| s.designs()).collect::<Vec<_>>());
    let mut files: Files = Vec::new();
    let mut report = String::new();
    for (i, study) in studies.into_iter().enumerate() {
        runner.enter(i);
        if let Some(md) = study.run(&mut files, out, runner, images)? {
            if !report.is_empty() {
                report.push('\n');
            }
            report.push_str(&md);
        }
    }
    Ok(Reproduction {
        report,
        files,
        notes,
    })
}

/// How many designs [`reproduce`] runs (for a progress bar).
pub fn design_count(selection: Selection, trained: bool, images: bool) -> u64 {
    let (studies, _) = studies(selection, trained, images);
    studies.iter().map(|s| s.design_count()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn grouped_runs_every_item_once_and_keeps_the_given_order() {
        let quiet = |_: &str| {};
        let r = Runner::new(&quiet);
        let items: Vec<u32> = (0..40).map(|i| (i * 7) % 13).collect();
        let ran = Mutex::new(Vec::new());
        let got = r
            .grouped(
                &items,
                |&x| x % 3,
                |&x| {
                    ran.lock().unwrap().push(x);
                    Ok(x * 10)
                },
            )
            .unwrap();
        assert_eq!(got, items.iter().map(|x| x * 10).collect::<Vec<_>>());
        let mut ran = ran.into_inner().unwrap();
        ran.sort_unstable();
        let mut want = items.clone();
        want.sort_unstable();
        assert_eq!(ran, want);
    }

    #[test]
    fn grouped_reports_the_first_failing_item_of_the_list() {
        let quiet = |_: &str| {};
        let r = Runner::new(&quiet);
        // Item 1 (group 1) and item 4 (group 0, which sorts first) fail: item 1 is reported.
        let items = [0u32, 1, 2, 3, 4, 5];
        let err = r
            .grouped(
                &items,
                |&x| x % 2 == 0,
                |&x| match x {
                    1 | 4 => Err(Error::invalid(
                        format!("item {x}"),
                        vec![crate::error::Problem::new("item", "fails")],
                    )),
                    _ => Ok(x),
                },
            )
            .expect_err("two items fail");
        assert!(err.to_string().contains("item 1"), "{err}");
    }
}
