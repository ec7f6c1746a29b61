//! Design-space sweeps: one spec, thousands of design points, one CSV row per point and
//! workload.
//!
//! This module sits on top of the pipeline: [`Sweep::load`] reads the spec, the base
//! architecture and the workloads (through `io`), [`Sweep::run`] evaluates points in
//! parallel and hands each finished row to a sink; the CLI streams the rows to disk.
//!
//! - `spec`: the spec format, the points (cartesian product, ids, constraints).
//! - `run`: evaluation; float weights are loaded or generated once per workload and layer,
//!   and codes are quantized once per distinct (workload, per-layer scheme), shared by every
//!   point that needs them.
//! - `table`: results as CSV text cells (read, sort, merge, write).
//!
//! Row layout: `point`, one column per axis and tie (named by its path), `workload`,
//! `status` (`ok`, `invalid`, `unsupported`, `error`), `error` (the reason, else empty),
//! then every scalar field of [`Summary`] in declared order (empty unless `ok`).
//!
//! **Partial files** (what a running sweep appends to, `FILE.csv.partial`) have one more,
//! last column, `row_check`. Its header cell carries the file's fingerprint,
//! `row_check (plumsim-sweep-partial v1 spec=<hex> shard=I/N version=X)`: a hash of the
//! sweep as resolved ([`Sweep::spec_hash`]), the shard (`0/1` for the whole sweep) and the
//! plumsim version. Each row's cell is a 64-bit FNV-1a hash (hex) of that header cell and the
//! row's other cells. A resume refuses a partial file of another spec, shard or version
//! ([`Sweep::check_partial`]) and drops the rows whose check fails, to run them again. The
//! check catches edited and damaged rows; it is no signature (anyone can recompute it).
//! Final files carry neither.
//!
//! **Shard manifests**: a sharded sweep writes `FILE.csv.shard` beside its result, one line
//! `plumsim-sweep-shard v1 spec=<hex> shard=I/N version=X rows=R csv=<hex>` (the hash of the
//! CSV's bytes), so that [`check_shard_set`] can tell a missing or duplicated shard.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Problem, Result};
use crate::report::Summary;
use crate::table::{csv_line, Records};
use crate::workload::Network;

pub mod run;
pub mod spec;

pub use crate::table::Table;
pub use run::RunStats;
pub use spec::{parse_spec, Plan, Point, Points, Spec};

/// Outcome of one (point, workload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok = 0,
    /// The point's architecture failed validation.
    Invalid = 1,
    /// Valid, but the engine does not model this combination (e.g. SWIS with
    /// `quant.group_size` != `pe.lanes`).
    Unsupported = 2,
    /// The engine failed on the point for another reason.
    Error = 3,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Invalid => "invalid",
            Status::Unsupported => "unsupported",
            Status::Error => "error",
        }
    }
}

/// A workload of the sweep.
#[derive(Debug, Clone)]
pub struct Workload {
    pub path: PathBuf,
    /// The `workload` column: the network's name.
    pub name: String,
    pub net: Network,
    /// The spec's real inputs, loaded for this network.
    pub inputs: Option<std::sync::Arc<crate::io::InputSet>>,
}

/// One row to compute: `plan.points[point]` on `workloads[workload]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub point: usize,
    pub workload: usize,
}

/// A loaded sweep: the plan, the workloads and the CSV header.
#[derive(Debug, Clone)]
pub struct Sweep {
    pub plan: Plan,
    pub workloads: Vec<Workload>,
    /// Scalar fields of [`Summary`] that become columns, in declared order.
    pub summary_columns: Vec<String>,
    /// With real inputs: the network fidelity columns after them.
    pub fidelity_columns: Vec<String>,
    /// The full header.
    pub headers: Vec<String>,
}

/// Which part of the points a run takes: ids with `id % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// The whole sweep, as a fingerprint names it.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `shard I/N`, or `the whole sweep (no --shard)`.
    pub fn describe(self) -> String {
        if self == Shard::ALL {
            "the whole sweep (no --shard)".into()
        } else {
            format!("shard {self}")
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("`{s}` is not I/N with 0 <= I < N (e.g. 0/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u64, u64) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Sweep {
    /// Read the spec at `spec_path`, its base architecture and its workloads.
    pub fn load(spec_path: &Path) -> Result<Sweep> {
        Self::load_with(spec_path, &crate::io::LoadOptions::default())
    }

    /// [`Sweep::load`] with the shapes of ONNX workloads' inputs.
    pub fn load_with(spec_path: &Path, options: &crate::io::LoadOptions) -> Result<Sweep> {
        let text = crate::io::read_text(spec_path)?;
        let origin = spec_path.display().to_string();
        let dir = spec_path.parent().unwrap_or(Path::new(""));
        let spec = parse_spec(&text, &origin, dir)?;
        let base_texts = spec
            .bases
            .iter()
            .map(|b| {
                crate::io::read_text(b).map_err(|e| match e {
                    Error::Io { path, source } => Error::invalid(
                        &origin,
                        vec![
                            Problem::new("base", format!("cannot read {path}: {source}"))
                                .with_help("the path is relative to the spec file"),
                        ],
                    ),
                    other => other,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let plan = Plan::new(spec, &base_texts)?;
        let mut workloads: Vec<Workload> = Vec::new();
        for (i, path) in plan.spec.workloads.iter().enumerate() {
            let net = crate::io::load_workload_with(path, options).map_err(|e| match e {
                Error::Io { path, source } => Error::invalid(
                    &origin,
                    vec![Problem::new(
                        format!("workloads[{i}]"),
                        format!("cannot read {path}: {source}"),
                    )
                    .with_help("the path is relative to the spec file")],
                ),
                other => other,
            })?;
            if workloads.iter().any(|w| w.name == net.name) {
                return Err(Error::invalid(
                    &origin,
                    vec![Problem::new(
                        "workloads",
                        format!("two workloads are named `{}`", net.name),
                    )
                    .with_help("rows are keyed by (point, workload name)")],
                ));
            }
            let inputs = match &plan.spec.inputs {
                Some(p) => Some(std::sync::Arc::new(crate::io::load_inputs(
                    p,
                    &net,
                    plan.spec.labels.as_deref(),
                )?)),
                None => None,
            };
            workloads.push(Workload {
                path: path.clone(),
                name: net.name.clone(),
                net,
                inputs,
            });
        }
        Sweep::new(plan, workloads)
    }

    /// A sweep over already loaded workloads; checks the objectives name columns.
    pub fn new(plan: Plan, workloads: Vec<Workload>) -> Result<Sweep> {
        let summary_columns = summary_columns();
        let fidelity_columns: Vec<String> = if workloads.iter().any(|w| w.inputs.is_some()) {
            crate::columns::names::<crate::functional::NetworkFidelity>()
                .into_iter()
                .map(String::from)
                .collect()
        } else {
            Vec::new()
        };
        let mut headers = vec!["point".to_string()];
        headers.extend(plan.spec.param_columns());
        headers.extend(["workload", "status", "error"].map(String::from));
        headers.extend(summary_columns.iter().cloned());
        headers.extend(fidelity_columns.iter().cloned());
        let unknown: Vec<Problem> = plan
            .spec
            .objectives
            .iter()
            .filter(|(c, _)| !summary_columns.contains(c) && !fidelity_columns.contains(c))
            .map(|(c, s)| {
                Problem::new(
                    format!("objectives.{}", s.as_str()),
                    format!("no column `{c}`"),
                )
                .with_help(format!(
                    "result columns: {}{}",
                    summary_columns.join(", "),
                    if fidelity_columns.is_empty() {
                        "; with `inputs`, also the fidelity columns (logit_sqnr_db, top1_agreement_pct, ...)".to_string()
                    } else {
                        format!(", {}", fidelity_columns.join(", "))
                    }
                ))
            })
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(&plan.spec.origin, unknown));
        }
        Ok(Sweep {
            plan,
            workloads,
            summary_columns,
            fidelity_columns,
            headers,
        })
    }

    /// Every (point, workload) of the plan, or of one shard, by point then workload.
    pub fn jobs(&self, shard: Option<Shard>) -> Vec<Job> {
        self.plan
            .points
            .ids()
            .enumerate()
            .filter(|&(_, id)| shard.is_none_or(|s| id % s.count == s.index))
            .flat_map(|(i, _)| {
                (0..self.workloads.len()).map(move |w| Job {
                    point: i,
                    workload: w,
                })
            })
            .collect()
    }

    /// The key of a job's row.
    pub fn key(&self, job: &Job) -> (u64, String) {
        (
            self.plan.points.id(job.point),
            self.workloads[job.workload].name.clone(),
        )
    }

    /// The leading cells of a job's row: point, parameters, workload.
    fn lead(&self, job: &Job) -> Vec<String> {
        let p = self.plan.point(job.point);
        let mut v = vec![p.id.to_string()];
        v.extend(p.values.iter().map(spec::value_text));
        v.push(self.workloads[job.workload].name.clone());
        v
    }

    /// A finished row.
    pub fn row(
        &self,
        job: &Job,
        status: Status,
        summary: Option<&Summary>,
        fidelity: Option<&crate::functional::NetworkFidelity>,
        error: &str,
    ) -> Vec<String> {
        let mut v = self.lead(job);
        v.push(status.as_str().to_string());
        v.push(error.to_string());
        let mut cells = |columns: &[String], fields: Option<BTreeMap<String, String>>| {
            v.extend(columns.iter().map(|c| {
                fields
                    .as_ref()
                    .and_then(|f| f.get(c).cloned())
                    .unwrap_or_default()
            }));
        };
        cells(&self.summary_columns, summary.map(scalar_fields));
        cells(&self.fidelity_columns, fidelity.map(scalar_fields));
        v
    }

    /// Check rows of an earlier run (resume) against this sweep: same header, each row's
    /// parameters are those of its point id, and with `shard` every point is in that shard.
    /// Returns the keys already done.
    pub fn check_done(
        &self,
        done: &Table,
        origin: &str,
        shard: Option<Shard>,
    ) -> Result<BTreeSet<(u64, String)>> {
        if done.headers != self.headers {
            return Err(header_differs(origin));
        }
        let rows: Vec<(usize, &[String])> = done
            .rows
            .iter()
            .enumerate()
            .map(|(n, r)| (n + 2, r.as_slice()))
            .collect();
        self.check_rows(&rows, origin, shard)
    }

    /// [`Sweep::check_done`] on rows with their line numbers.
    fn check_rows(
        &self,
        rows: &[(usize, &[String])],
        origin: &str,
        shard: Option<Shard>,
    ) -> Result<BTreeSet<(u64, String)>> {
        let wl = |name: &str| self.workloads.iter().position(|w| w.name == name);
        let mut keys = BTreeSet::new();
        for &(line, r) in rows {
            let bad = |msg: String| {
                Error::invalid(
                    origin,
                    vec![Problem::new(format!("row {line}"), msg).with_help(
                        "the spec or the shard changed since the file was written; start a new sweep",
                    )],
                )
            };
            let id: u64 = r[0]
                .parse()
                .map_err(|_| bad(format!("point `{}` is not a number", r[0])))?;
            if let Some(s) = shard.filter(|s| id % s.count != s.index) {
                return Err(bad(format!(
                    "point {id} is not in shard {s} (its points have id % {} == {})",
                    s.count, s.index
                )));
            }
            let Some(pi) = self.plan.points.index_of(id) else {
                return Err(bad(format!("point {id} is not a point of this sweep")));
            };
            let Some(w) = wl(&r[self.plan.spec.param_columns().len() + 1]) else {
                return Err(bad(format!(
                    "unknown workload `{}`",
                    r[self.plan.spec.param_columns().len() + 1]
                )));
            };
            let job = Job {
                point: pi,
                workload: w,
            };
            if r[..self.lead(&job).len()] != self.lead(&job)[..] {
                return Err(bad(format!(
                    "point {id} has other parameter values than this sweep's"
                )));
            }
            if !keys.insert(self.key(&job)) {
                return Err(bad(format!(
                    "point {id} ({}) appears twice",
                    self.workloads[w].name
                )));
            }
        }
        Ok(keys)
    }

    /// A hash (16 hex digits) of the sweep as resolved: its columns, its base architectures
    /// as parsed, every point (id and typed values; constraints show as the points they
    /// leave out), every workload (name and network as validated) and the real inputs with
    /// their labels and calibration. The objectives are left out (they only choose the front
    /// printed at the end); weight and activation files are named by path, not hashed.
    pub fn spec_hash(&self) -> String {
        use fmt::Write as _;
        let mut h = Fnv::new();
        for c in &self.headers {
            h.field(c);
        }
        let _ = write!(h, "{:?}", self.plan.bases);
        h.field("");
        for i in 0..self.plan.points.len() {
            let p = self.plan.point(i);
            h.field(&p.id.to_string());
            for v in &p.values {
                let _ = write!(h, "{v:?}");
                h.field("");
            }
        }
        let _ = write!(h, "{:?}", self.plan.spec.calibration);
        h.field("");
        for w in &self.workloads {
            h.field(&w.name);
            let _ = write!(h, "{:?}", w.net);
            h.field("");
            if let Some(set) = &w.inputs {
                let _ = write!(h, "{:?} {:?}", set.names, set.labels);
                h.field("");
                for x in set
                    .values
                    .iter()
                    .chain(set.reference_logits.iter().flatten())
                {
                    for f in x {
                        h.bytes(&f.to_bits().to_le_bytes());
                    }
                    h.field("");
                }
            }
        }
        h.hex()
    }

    /// The fingerprint of a run of this sweep: the spec's hash, the shard, this version.
    pub fn fingerprint(&self, shard: Option<Shard>) -> Fingerprint {
        Fingerprint {
            spec: self.spec_hash(),
            shard: shard.unwrap_or(Shard::ALL),
            version: VERSION.to_string(),
        }
    }

    /// The header of a partial file: this sweep's columns, then the check column named
    /// with the fingerprint ([`check_header`]).
    pub fn partial_headers(&self, fp: &Fingerprint) -> Vec<String> {
        let mut h = self.headers.clone();
        h.push(check_header(fp));
        h
    }

    /// Check a partial file's records against this run (fingerprint `expected`): a file of
    /// another spec, shard or plumsim version is refused, naming what differs; rows that
    /// fail their check (edited, damaged, of another width) are dropped, to be run again;
    /// the rest must be rows of this sweep and shard ([`Sweep::check_done`]).
    pub fn check_partial(
        &self,
        rec: &Records,
        origin: &str,
        expected: &Fingerprint,
    ) -> Result<Resumed> {
        let help = "--resume continues a partial file of the same spec, shard and plumsim version; delete the file to start over";
        let Some(found) = rec.headers.last().and_then(|c| parse_check_header(c)) else {
            return Err(Error::invalid(
                origin,
                vec![Problem::new(
                    "header",
                    format!("has no `{CHECK_COLUMN} ({PARTIAL_FORMAT} ...)` fingerprint column"),
                )
                .with_help("it is not a partial file of this plumsim (an older one wrote it, or another program); delete it to start over")],
            ));
        };
        let differs = found.differences(expected);
        if !differs.is_empty() {
            return Err(Error::invalid(
                origin,
                differs.into_iter().map(|p| p.with_help(help)).collect(),
            ));
        }
        if rec.headers[..rec.headers.len() - 1] != self.headers[..] {
            return Err(header_differs(origin));
        }
        let cell = check_header(expected);
        let width = rec.headers.len();
        let wl = self.plan.spec.param_columns().len() + 1;
        let mut kept = Vec::new();
        let mut dropped = Vec::new();
        for (line, r) in &rec.rows {
            if r.len() == width && r[width - 1] == row_check(&cell, &r[..width - 1]) {
                kept.push((*line, &r[..width - 1]));
            } else {
                dropped.push(Dropped {
                    line: *line,
                    point: r.first().cloned().unwrap_or_default(),
                    workload: r.get(wl).cloned(),
                });
            }
        }
        let keys = self.check_rows(&kept, origin, Some(expected.shard))?;
        Ok(Resumed {
            done: Table {
                headers: self.headers.clone(),
                rows: kept.into_iter().map(|(_, r)| r.to_vec()).collect(),
            },
            keys,
            dropped,
        })
    }
}

fn header_differs(origin: &str) -> Error {
    Error::invalid(
        origin,
        vec![Problem::new("header", "the columns differ from this sweep's")
            .with_help("the spec (axes, ties) or plumsim changed since the file was written; start a new sweep")],
    )
}

/// The plumsim version in fingerprints; a partial file of another version is not resumed.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The format words of a partial file's fingerprint.
pub const PARTIAL_FORMAT: &str = "plumsim-sweep-partial v1";
/// The format words of a shard manifest.
pub const SHARD_FORMAT: &str = "plumsim-sweep-shard v1";
/// The name of a partial file's last column (its header cell adds the fingerprint).
pub const CHECK_COLUMN: &str = "row_check";

/// 64-bit FNV-1a: small, deterministic on every platform and run, no dependency.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 = (self.0 ^ u64::from(x)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A field: its bytes, then 0xff (a byte UTF-8 text never holds, so fields cannot run
    /// into each other).
    fn field(&mut self, s: &str) {
        self.bytes(s.as_bytes());
        self.bytes(&[0xff]);
    }

    fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

impl fmt::Write for Fnv {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes());
        Ok(())
    }
}

/// The FNV-1a hash (16 hex digits) of a file's bytes, as a shard manifest records it.
pub fn bytes_hash(bytes: &[u8]) -> String {
    let mut h = Fnv::new();
    h.bytes(bytes);
    h.hex()
}

/// What a partial file or a shard manifest was written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// [`Sweep::spec_hash`].
    pub spec: String,
    /// The shard ([`Shard::ALL`] for the whole sweep).
    pub shard: Shard,
    /// The plumsim version that wrote it.
    pub version: String,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "spec={} shard={} version={}",
            self.spec, self.shard, self.version
        )
    }
}

impl Fingerprint {
    /// `spec=... shard=I/N version=...` and any more `key=value` words (returned).
    fn parse_words(words: &str) -> Option<(Fingerprint, BTreeMap<String, String>)> {
        let mut kv = BTreeMap::new();
        for w in words.split_whitespace() {
            let (k, v) = w.split_once('=')?;
            if kv.insert(k.to_string(), v.to_string()).is_some() {
                return None;
            }
        }
        let fp = Fingerprint {
            spec: kv.remove("spec")?,
            shard: kv.remove("shard")?.parse().ok()?,
            version: kv.remove("version")?,
        };
        Some((fp, kv))
    }

    /// How this (a file's) fingerprint differs from `this` run's, one problem each (version,
    /// shard, spec); empty when they match.
    pub fn differences(&self, this: &Fingerprint) -> Vec<Problem> {
        let mut v = Vec::new();
        if self.version != this.version {
            v.push(Problem::new(
                "version",
                format!(
                    "written by plumsim {}, this is plumsim {}",
                    self.version, this.version
                ),
            ));
        }
        if self.shard != this.shard {
            v.push(Problem::new(
                "shard",
                format!(
                    "written for {}, this run is {}",
                    self.shard.describe(),
                    this.shard.describe()
                ),
            ));
        }
        if self.spec != this.spec {
            v.push(Problem::new(
                "spec",
                format!(
                    "written for another sweep (spec fingerprint {}, this spec's is {}): its axes, ties, constraints, base architectures, workloads or inputs differ",
                    self.spec, this.spec
                ),
            ));
        }
        v
    }
}

/// The header cell of a partial file's check column:
/// `row_check (plumsim-sweep-partial v1 spec=<hex> shard=I/N version=X)`.
pub fn check_header(fp: &Fingerprint) -> String {
    format!("{CHECK_COLUMN} ({PARTIAL_FORMAT} {fp})")
}

fn parse_check_header(cell: &str) -> Option<Fingerprint> {
    let words = cell
        .strip_prefix(CHECK_COLUMN)?
        .strip_prefix(" (")?
        .strip_suffix(')')?
        .strip_prefix(PARTIAL_FORMAT)?;
    match Fingerprint::parse_words(words)? {
        (fp, rest) if rest.is_empty() => Some(fp),
        _ => None,
    }
}

/// The check of one partial row (16 hex digits): FNV-1a over the check column's header cell
/// (so a row is bound to its file's fingerprint) and the row's cells.
pub fn row_check(check_header: &str, cells: &[String]) -> String {
    let mut h = Fnv::new();
    h.field(check_header);
    for c in cells {
        h.field(c);
    }
    h.hex()
}

/// A row as a partial file holds it: the row's cells, then its check, as one CSV line.
pub fn partial_line(check_header: &str, row: &[String]) -> String {
    let mut cells = row.to_vec();
    cells.push(row_check(check_header, row));
    csv_line(&cells)
}

/// The rows a resume keeps from a partial file.
#[derive(Debug, Clone)]
pub struct Resumed {
    /// Rows that passed their check, without it, in file order.
    pub done: Table,
    /// Their (point, workload) keys.
    pub keys: BTreeSet<(u64, String)>,
    /// Rows that failed their check: dropped, to be run again.
    pub dropped: Vec<Dropped>,
}

/// A partial row that failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The line it starts on.
    pub line: usize,
    /// Its `point` cell as found (possibly edited).
    pub point: String,
    /// Its `workload` cell, when the row is that wide.
    pub workload: Option<String>,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.point.parse::<u64>(), &self.workload) {
            (Ok(id), Some(w)) => write!(f, "point {id} ({w}) at line {}", self.line),
            (Ok(id), None) => write!(f, "point {id} at line {}", self.line),
            _ => write!(f, "line {}", self.line),
        }
    }
}

/// `FILE.csv` -> `FILE.csv.shard`, the manifest of a shard's result.
pub fn manifest_path(csv: &Path) -> PathBuf {
    let mut s = csv.as_os_str().to_owned();
    s.push(".shard");
    PathBuf::from(s)
}

/// What a sharded sweep writes beside its CSV: which sweep and shard the file holds, and
/// the hash of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardManifest {
    pub fingerprint: Fingerprint,
    /// Rows in the CSV.
    pub rows: usize,
    /// [`bytes_hash`] of the CSV.
    pub csv: String,
}

impl ShardManifest {
    pub fn new(fingerprint: Fingerprint, csv: &[u8], rows: usize) -> ShardManifest {
        ShardManifest {
            fingerprint,
            rows,
            csv: bytes_hash(csv),
        }
    }

    /// `plumsim-sweep-shard v1 spec=<hex> shard=I/N version=X rows=R csv=<hex>` and a newline.
    pub fn to_text(&self) -> String {
        format!(
            "{SHARD_FORMAT} {} rows={} csv={}\n",
            self.fingerprint, self.rows, self.csv
        )
    }

    /// Parse a manifest; `origin` names the file in messages.
    pub fn parse(text: &str, origin: &str) -> Result<ShardManifest> {
        let parsed = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .strip_prefix(SHARD_FORMAT)
            .filter(|rest| !rest.contains('\n'))
            .and_then(Fingerprint::parse_words)
            .and_then(|(fingerprint, mut kv)| {
                let m = ShardManifest {
                    fingerprint,
                    rows: kv.remove("rows")?.parse().ok()?,
                    csv: kv.remove("csv")?,
                };
                kv.is_empty().then_some(m)
            });
        parsed.ok_or_else(|| Error::Parse {
            origin: origin.to_string(),
            line: Some(1),
            column: None,
            message: format!(
                "not a shard manifest (expected one line `{SHARD_FORMAT} spec=<hex> shard=I/N version=X rows=R csv=<hex>`)"
            ),
        })
    }

    /// True when `csv` is the file this manifest was written with.
    pub fn describes(&self, csv: &[u8]) -> bool {
        bytes_hash(csv) == self.csv
    }
}

/// The shards of the files given to a merge: `files` are (origin, manifest) per file. Either
/// every file has a manifest or none has (then `None`: shards cannot be told, only rows).
/// Manifests must agree on spec, version and shard count and name each shard once. Returns
/// the shard count and the missing shard indices ([`missing_shards`] is the refusal).
pub fn check_shard_set(
    files: &[(String, Option<ShardManifest>)],
) -> Result<Option<(u64, Vec<u64>)>> {
    let with: Vec<(&String, &ShardManifest)> = files
        .iter()
        .filter_map(|(o, m)| m.as_ref().map(|m| (o, m)))
        .collect();
    let Some(&(first_origin, first)) = with.first() else {
        return Ok(None);
    };
    if let Some((o, _)) = files.iter().find(|(_, m)| m.is_none()) {
        return Err(Error::invalid(
            o,
            vec![Problem::new(
                "shard",
                format!("has no shard manifest ({o}.shard), while {first_origin} has one"),
            )
            .with_help("merge the files of one `plumsim sweep --shard I/N` run, each with its manifest beside it")],
        ));
    }
    let count = first.fingerprint.shard.count;
    let mut by_index: BTreeMap<u64, &String> = BTreeMap::new();
    for &(o, m) in &with {
        let fp = &m.fingerprint;
        let mut differs: Vec<Problem> = Vec::new();
        if fp.spec != first.fingerprint.spec {
            differs.push(Problem::new(
                "spec",
                format!("is a shard of another sweep than {first_origin} (spec fingerprint {}, there {})", fp.spec, first.fingerprint.spec),
            ));
        }
        if fp.version != first.fingerprint.version {
            differs.push(Problem::new(
                "version",
                format!(
                    "was written by plumsim {}, {first_origin} by plumsim {}",
                    fp.version, first.fingerprint.version
                ),
            ));
        }
        if fp.shard.count != count {
            differs.push(Problem::new(
                "shard",
                format!(
                    "is shard {} of a split into {}, {first_origin} of a split into {count}",
                    fp.shard, fp.shard.count
                ),
            ));
        }
        if !differs.is_empty() {
            return Err(Error::invalid(
                format!("{o}.shard"),
                differs
                    .into_iter()
                    .map(|p| {
                        p.with_help(
                            "merge shards of one spec, split one way, run by one plumsim version",
                        )
                    })
                    .collect(),
            ));
        }
        if let Some(prev) = by_index.insert(fp.shard.index, o) {
            return Err(Error::invalid(
                o,
                vec![
                    Problem::new("shard", format!("shard {} is also in {prev}", fp.shard))
                        .with_help(
                            "each shard belongs in the merge once; pass each shard file once",
                        ),
                ],
            ));
        }
    }
    let missing: Vec<u64> = (0..count).filter(|i| !by_index.contains_key(i)).collect();
    Ok(Some((count, missing)))
}

/// The refusal of a merge without shards `missing` of `count`.
pub fn missing_shards(count: u64, missing: &[u64]) -> Error {
    let shown = missing
        .iter()
        .take(10)
        .map(|i| format!("{i}/{count}"))
        .collect::<Vec<_>>()
        .join(", ");
    Error::invalid(
        "merge",
        vec![Problem::new(
            "shards",
            format!(
                "{} of {count} shards missing: {shown}{}",
                missing.len(),
                if missing.len() > 10 { ", ..." } else { "" }
            ),
        )
        .with_help("run the missing shards (plumsim sweep SPEC --shard I/N --out ...) and pass their files too, or pass --allow-missing to merge without them")],
    )
}

/// Sort rows by (point id, workload name): the order of every final sweep file.
pub fn sort_rows(t: &mut Table) {
    let w = t.col("workload");
    t.rows.sort_by(|a, b| row_order(a, b, w));
}

fn row_order(a: &[String], b: &[String], w: Option<usize>) -> Ordering {
    let id = |r: &[String]| r.first().and_then(|s| s.parse::<u64>().ok());
    id(a)
        .cmp(&id(b))
        .then_with(|| w.map_or(Ordering::Equal, |w| a[w].cmp(&b[w])))
}

/// Join shard files: identical headers, no (point, workload) twice; rows sorted. `parts`
/// are (origin, table). With `expected` keys, a row outside them is an error, and so are
/// missing rows unless `allow_missing`.
pub fn merge(
    parts: &[(String, Table)],
    expected: Option<&BTreeSet<(u64, String)>>,
    allow_missing: bool,
) -> Result<Table> {
    let Some((first_origin, first)) = parts.first() else {
        return Err(Error::invalid(
            "merge",
            vec![Problem::new("SHARDS", "no shard files")],
        ));
    };
    for (o, t) in parts {
        for c in ["point", "workload"] {
            t.require(c, o, "header")?;
        }
        if t.headers != first.headers {
            let at = t
                .headers
                .iter()
                .zip(&first.headers)
                .position(|(a, b)| a != b)
                .unwrap_or(t.headers.len().min(first.headers.len()));
            return Err(Error::invalid(
                o,
                vec![Problem::new(
                    "header",
                    format!(
                        "column {} is `{}`, in {first_origin} `{}`",
                        at + 1,
                        t.headers.get(at).map_or("(none)", String::as_str),
                        first.headers.get(at).map_or("(none)", String::as_str)
                    ),
                )
                .with_help("merge shards of one spec, run by one plumsim version")],
            ));
        }
    }
    let w = first.col("workload").unwrap_or(0);
    let mut seen: BTreeMap<(u64, String), &str> = BTreeMap::new();
    let mut out = Table {
        headers: first.headers.clone(),
        rows: Vec::new(),
    };
    for (o, t) in parts {
        for (n, r) in t.rows.iter().enumerate() {
            let id: u64 = r[0].parse().map_err(|_| {
                Error::invalid(
                    o,
                    vec![Problem::new(
                        format!("row {}", n + 2),
                        format!("point `{}` is not a number", r[0]),
                    )],
                )
            })?;
            if let Some(prev) = seen.insert((id, r[w].clone()), o) {
                return Err(Error::invalid(
                    o,
                    vec![Problem::new(
                        format!("row {}", n + 2),
                        format!("point {id} ({}) is also in {prev}", r[w]),
                    )
                    .with_help("each point belongs to one shard; pass each shard file once")],
                ));
            }
            out.rows.push(r.clone());
        }
    }
    if let Some(expected) = expected {
        let missing: Vec<String> = expected
            .iter()
            .filter(|k| !seen.contains_key(*k))
            .map(|(id, w)| format!("{id} ({w})"))
            .collect();
        if !missing.is_empty() && !allow_missing {
            let shown = missing
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::invalid(
                "merge",
                vec![Problem::new(
                    "rows",
                    format!(
                        "{} of {} rows missing: {shown}{}",
                        missing.len(),
                        expected.len(),
                        if missing.len() > 10 { ", ..." } else { "" }
                    ),
                )
                .with_help("rerun the shards that did not finish (plumsim sweep SPEC --shard I/N --resume), or pass --allow-missing to merge without them")],
            ));
        }
        if let Some(extra) = seen.keys().find(|k| !expected.contains(*k)) {
            return Err(Error::invalid(
                "merge",
                vec![Problem::new(
                    "rows",
                    format!("point {} ({}) is not a point of the spec", extra.0, extra.1),
                )],
            ));
        }
    }
    sort_rows(&mut out);
    Ok(out)
}

/// A JSON object with its keys in serialization order (serde_json's `Map` sorts them).
struct Ordered(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry()? {
                    v.push(e);
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The scalar fields of a summary, in declared order, as CSV cell text.
fn ordered_scalars<T: serde::Serialize>(s: &T) -> Vec<(String, String)> {
    let json = serde_json::to_string(s).expect("records serialize");
    let Ordered(fields) = serde_json::from_str(&json).expect("summaries are JSON objects");
    fields
        .into_iter()
        .filter_map(|(k, v)| {
            let text = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s,
                _ => return None,
            };
            Some((k, text))
        })
        .collect()
}

fn scalar_fields<T: serde::Serialize>(s: &T) -> BTreeMap<String, String> {
    ordered_scalars(s).into_iter().collect()
}

/// Summary columns (minus `workload`, which leads the row), as [`Summary`] declares them:
/// the same on every shard and whether or not any point is valid.
fn summary_columns() -> Vec<String> {
    crate::columns::names::<Summary>()
        .into_iter()
        .filter(|k| *k != "workload")
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_1a_matches_the_published_test_vectors() {
        let hash = |b: &[u8]| {
            let mut h = Fnv::new();
            h.bytes(b);
            h.0
        };
        assert_eq!(hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn row_checks_bind_cells_and_fingerprint() {
        let fp = Fingerprint {
            spec: "0123456789abcdef".into(),
            shard: Shard { index: 1, count: 3 },
            version: "0.1.0".into(),
        };
        let cell = check_header(&fp);
        assert_eq!(
            cell,
            "row_check (plumsim-sweep-partial v1 spec=0123456789abcdef shard=1/3 version=0.1.0)"
        );
        assert_eq!(parse_check_header(&cell), Some(fp.clone()));
        assert_eq!(parse_check_header("row_check"), None);
        let row = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = row_check(&cell, &row(&["1", "ab", "c"]));
        assert_eq!(a, row_check(&cell, &row(&["1", "ab", "c"])));
        // Cells cannot run into each other, and the fingerprint is part of the check.
        assert_ne!(a, row_check(&cell, &row(&["1", "a", "bc"])));
        let other = check_header(&Fingerprint {
            shard: Shard { index: 2, count: 3 },
            ..fp.clone()
        });
        assert_ne!(a, row_check(&other, &row(&["1", "ab", "c"])));
        let m = ShardManifest::new(fp, b"x,y\n1,2\n", 1);
        assert_eq!(ShardManifest::parse(&m.to_text(), "m").unwrap(), m);
        assert!(m.describes(b"x,y\n1,2\n") && !m.describes(b"x,y\n1,3\n"));
        assert!(ShardManifest::parse("plumsim-sweep-shard v1 spec=1", "m").is_err());
    }
}
