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

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Problem, Result};
use crate::report::Summary;
use crate::workload::Network;

pub mod run;
pub mod spec;

pub use crate::table::Table;
pub use run::RunStats;
pub use spec::{parse_spec, Plan, Point, Spec};

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
            let net = crate::io::load_workload(path).map_err(|e| match e {
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
            .iter()
            .enumerate()
            .filter(|(_, p)| shard.is_none_or(|s| p.id % s.count == s.index))
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
            self.plan.points[job.point].id,
            self.workloads[job.workload].name.clone(),
        )
    }

    /// The leading cells of a job's row: point, parameters, workload.
    fn lead(&self, job: &Job) -> Vec<String> {
        let p = &self.plan.points[job.point];
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

    /// Check rows of an earlier run (resume) against this sweep: same header, and each row's
    /// parameters are those of its point id. Returns the keys already done.
    pub fn check_done(&self, done: &Table, origin: &str) -> Result<BTreeSet<(u64, String)>> {
        if done.headers != self.headers {
            return Err(Error::invalid(
                origin,
                vec![Problem::new("header", "the columns differ from this sweep's")
                    .with_help("the spec (axes, ties) or plumsim changed since the file was written; start a new sweep")],
            ));
        }
        let by_id: BTreeMap<u64, (usize, &Point)> = self
            .plan
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, (i, p)))
            .collect();
        let wl = |name: &str| self.workloads.iter().position(|w| w.name == name);
        let mut keys = BTreeSet::new();
        for (n, r) in done.rows.iter().enumerate() {
            let bad = |msg: String| {
                Error::invalid(
                    origin,
                    vec![Problem::new(format!("row {}", n + 2), msg).with_help(
                        "the spec changed since the file was written; start a new sweep",
                    )],
                )
            };
            let id: u64 = r[0]
                .parse()
                .map_err(|_| bad(format!("point `{}` is not a number", r[0])))?;
            let Some(&(pi, _)) = by_id.get(&id) else {
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
/// are (origin, table). With `expected` keys, missing rows are an error too.
pub fn merge(
    parts: &[(String, Table)],
    expected: Option<&BTreeSet<(u64, String)>>,
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
        if !missing.is_empty() {
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
                .with_help("rerun the shards that did not finish (plumsim sweep SPEC --shard I/N --resume)")],
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
