//! The sweep spec: a base architecture, parameter axes over its fields by dotted path, ties,
//! workloads, constraints and objectives; and the design points it spans.
//!
//! Pure: [`parse_spec`] takes the spec text, [`Plan::new`] the base architecture's text. The
//! points are the cartesian product of the axes, first axis outermost (slowest), in file
//! order; a point's id is its index in that product, so ids do not change when constraints
//! change or when the sweep is split into shards.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::design::arch_from_table;
use crate::error::{line_col, toml_error, Error, Problem, Result};
use crate::pareto::Sense;

/// The column (and axis path) of the base file when the spec lists several.
pub const BASE: &str = "base";

/// Most design points one spec may span (the cartesian product of its axes, counted before
/// constraints and before any point is built): a sweep holds every point in memory, so a
/// larger one is refused up front rather than spending minutes and gigabytes first.
pub const MAX_POINTS: u64 = 1_000_000;

/// A TOML table whose entries keep their file order (toml's own `Table` sorts its keys).
#[derive(Debug, Clone, Default)]
pub struct OrderedTable(pub Vec<(String, toml::Value)>);

impl<'de> Deserialize<'de> for OrderedTable {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedTable;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((k, val)) = m.next_entry::<String, toml::Value>()? {
                    v.push((k, val));
                }
                Ok(OrderedTable(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The spec file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    /// Base architecture TOML, relative to the spec file; a list makes `base` the first axis.
    pub base: BaseList,
    /// Workload files, relative to the spec file.
    pub workloads: Vec<String>,
    /// Real inputs (a folder of images or a .npy/.npz file, relative to the spec file): every
    /// point also runs functionally on them and its row carries the fidelity columns.
    pub inputs: Option<String>,
    /// With `inputs`: one class per line (replaces labels from file names).
    pub labels: Option<String>,
    /// With `inputs`: `max` (default) or `percentile:P`, how activations are calibrated.
    pub calibration: Option<String>,
    /// `"dotted.path" = [values]` or `{ from, to, step }` / `{ from, to, factor }`.
    #[serde(default)]
    pub axes: OrderedTable,
    /// `"dotted.path" = "axis.path"`: set a field to the value of an axis in every point.
    #[serde(default)]
    pub tie: OrderedTable,
    #[serde(default)]
    pub constraints: RawConstraints,
    #[serde(default)]
    pub objectives: RawObjectives,
}

/// One base architecture file, or several (an axis over files, e.g. the `*_pe16` family).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BaseList {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConstraints {
    /// Most PEs (`array.rows x array.cols`).
    pub max_pes: Option<i64>,
    /// Most arithmetic lanes in the array (`rows x cols x pe.lanes`).
    pub max_lanes: Option<i64>,
    /// Most on-chip SRAM, bytes (sum of the three buffers' `capacity_bytes`).
    pub max_buffer_bytes: Option<i64>,
    /// Most area of the design, mm^2 (the area model's total, `area_mm2`).
    pub max_area_mm2: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawObjectives {
    #[serde(default)]
    pub minimize: Vec<String>,
    #[serde(default)]
    pub maximize: Vec<String>,
}

/// One parameter axis: a field path and the values it takes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<toml::Value>,
}

/// A field set to the value of an axis in every point.
#[derive(Debug, Clone, PartialEq)]
pub struct Tie {
    pub path: String,
    /// Index into [`Spec::axes`].
    pub axis: usize,
}

/// Budgets a point must meet to be simulated; points over budget are not part of the sweep.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub max_pes: Option<u64>,
    pub max_lanes: Option<u64>,
    pub max_buffer_bytes: Option<u64>,
    pub max_area_mm2: Option<f64>,
}

/// A validated spec (paths resolved against the spec's folder).
#[derive(Debug, Clone)]
pub struct Spec {
    /// The spec file, for messages.
    pub origin: String,
    /// Base architecture files. With a list in the spec, `axes[0]` is the axis `base` whose
    /// values are the paths as written, in the same order.
    pub bases: Vec<PathBuf>,
    pub workloads: Vec<PathBuf>,
    /// Real inputs every point also runs on, and their labels file.
    pub inputs: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub calibration: crate::functional::Calibrate,
    pub axes: Vec<Axis>,
    pub ties: Vec<Tie>,
    pub constraints: Constraints,
    /// Columns to optimize, in order: printed as the Pareto front at the end of a sweep.
    pub objectives: Vec<(String, Sense)>,
}

impl Spec {
    /// Parameter column names: the axis paths, then the tied paths.
    pub fn param_columns(&self) -> Vec<String> {
        self.axes
            .iter()
            .map(|a| a.path.clone())
            .chain(self.ties.iter().map(|t| t.path.clone()))
            .collect()
    }

    /// Number of points of the full cartesian product.
    pub fn product_len(&self) -> u64 {
        self.axes.iter().map(|a| a.values.len() as u64).product()
    }

    /// The parameter values of cartesian point `id` (axes, then ties).
    pub fn values(&self, id: u64) -> Vec<toml::Value> {
        let mut idx = vec![0usize; self.axes.len()];
        let mut rest = id;
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.values.len() as u64;
            idx[i] = (rest % n) as usize;
            rest /= n;
        }
        let mut v: Vec<toml::Value> = self
            .axes
            .iter()
            .zip(&idx)
            .map(|(a, &i)| a.values[i].clone())
            .collect();
        for t in &self.ties {
            v.push(v[t.axis].clone());
        }
        v
    }
}

/// Parse and validate a spec. `origin` names the file in messages; `dir` is its folder.
pub fn parse_spec(text: &str, origin: &str, dir: &Path) -> Result<Spec> {
    let raw: RawSpec = toml::from_str(text).map_err(|e| toml_error(text, origin, &e))?;
    validate_spec(raw, origin, dir)
}

fn axis_field(path: &str) -> String {
    format!("axes.\"{path}\"")
}

fn check_path(problems: &mut Vec<Problem>, field: &str, path: &str) -> bool {
    if path.is_empty()
        || path
            .split('.')
            .any(|s| s.trim().is_empty() || s != s.trim())
    {
        problems.push(
            Problem::new(field, format!("`{path}` is not a field path"))
                .with_help("write the architecture field's dotted path, e.g. \"pe.lanes\""),
        );
        return false;
    }
    true
}

/// Validate a raw spec, reporting every problem at once.
pub fn validate_spec(raw: RawSpec, origin: &str, dir: &Path) -> Result<Spec> {
    let mut problems = Vec::new();
    if raw.labels.is_some() && raw.inputs.is_none() {
        problems.push(
            Problem::new("labels", "is given without inputs")
                .with_help("name the inputs the labels belong to"),
        );
    }
    let calibration = match &raw.calibration {
        None => crate::functional::Calibrate::Max,
        Some(c) => crate::functional::Calibrate::parse(c).unwrap_or_else(|| {
            problems.push(
                Problem::new("calibration", format!("`{c}` is not a calibration"))
                    .with_help("allowed: \"max\" or \"percentile:P\" with 0 < P <= 100"),
            );
            crate::functional::Calibrate::Max
        }),
    };
    if raw.workloads.is_empty() {
        problems.push(
            Problem::new("workloads", "no workloads").with_help("list at least one workload file"),
        );
    }
    let mut axes: Vec<Axis> = Vec::new();
    let written: Vec<String> = match &raw.base {
        BaseList::One(b) => vec![b.clone()],
        BaseList::Many(v) => {
            if v.is_empty() {
                problems.push(
                    Problem::new("base", "no base architecture")
                        .with_help("name one file or a list of files"),
                );
            }
            axes.push(Axis {
                path: BASE.to_string(),
                values: v.iter().map(|b| toml::Value::String(b.clone())).collect(),
            });
            v.clone()
        }
    };
    for (path, value) in &raw.axes.0 {
        if path == BASE {
            problems.push(
                Problem::new(axis_field(path), "`base` is not an architecture field")
                    .with_help("list several base files as base = [\"a.toml\", \"b.toml\"]"),
            );
            continue;
        }
        let field = axis_field(path);
        if !check_path(&mut problems, &field, path) {
            continue;
        }
        match axis_values(value) {
            Ok(values) if values.is_empty() => problems
                .push(Problem::new(&field, "no values").with_help("give at least one value")),
            Ok(values) => axes.push(Axis {
                path: path.clone(),
                values,
            }),
            Err((msg, help)) => problems.push(Problem::new(&field, msg).with_help(help)),
        }
    }
    let mut ties = Vec::new();
    for (path, value) in &raw.tie.0 {
        let field = format!("tie.\"{path}\"");
        if !check_path(&mut problems, &field, path) {
            continue;
        }
        let Some(src) = value.as_str() else {
            problems.push(
                Problem::new(&field, format!("expected an axis path, found {value}"))
                    .with_help("e.g. \"quant.group_size\" = \"pe.lanes\""),
            );
            continue;
        };
        if raw.axes.0.iter().any(|(p, _)| p == path) {
            problems.push(
                Problem::new(&field, "is also an axis")
                    .with_help("a field is either an axis or tied"),
            );
            continue;
        }
        match axes.iter().position(|a| a.path == src) {
            Some(axis) => ties.push(Tie {
                path: path.clone(),
                axis,
            }),
            None => problems.push(
                Problem::new(&field, format!("`{src}` is not an axis")).with_help(format!(
                    "axes: {}",
                    axes.iter()
                        .map(|a| a.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ),
        }
    }
    // Counted from the axis lengths alone (checked: a product past 2^64 is "too many" too),
    // before any point is built.
    let product = axes
        .iter()
        .try_fold(1u64, |acc, a| acc.checked_mul(a.values.len() as u64));
    if product.is_none_or(|p| p > MAX_POINTS) {
        let sizes = axes
            .iter()
            .map(|a| a.values.len().to_string())
            .collect::<Vec<_>>()
            .join(" x ");
        let count = product.map_or_else(|| "more than 2^64".to_string(), |p| p.to_string());
        problems.push(
            Problem::new(
                "axes",
                format!("the axes span {count} points ({sizes}), more than the bound of {MAX_POINTS}"),
            )
            .with_help(format!(
                "at most {MAX_POINTS} points per spec (counted before constraints); split the sweep into several specs, e.g. one per value of the first axis"
            )),
        );
    }
    let max_area_mm2 = raw.constraints.max_area_mm2;
    if let Some(a) = max_area_mm2 {
        if !(a.is_finite() && a > 0.0) {
            problems.push(
                Problem::new("constraints.max_area_mm2", format!("{a} is out of range"))
                    .with_help("allowed: a number of mm^2 > 0"),
            );
        }
    }
    let mut budget = |name: &str, v: Option<i64>| -> Option<u64> {
        match v {
            Some(v) if v <= 0 => {
                problems.push(
                    Problem::new(
                        format!("constraints.{name}"),
                        format!("{v} is out of range"),
                    )
                    .with_help("allowed: a positive integer"),
                );
                None
            }
            Some(v) => Some(v as u64),
            None => None,
        }
    };
    let constraints = Constraints {
        max_pes: budget("max_pes", raw.constraints.max_pes),
        max_lanes: budget("max_lanes", raw.constraints.max_lanes),
        max_buffer_bytes: budget("max_buffer_bytes", raw.constraints.max_buffer_bytes),
        max_area_mm2,
    };
    let mut objectives = Vec::new();
    for (list, sense, name) in [
        (&raw.objectives.minimize, Sense::Minimize, "minimize"),
        (&raw.objectives.maximize, Sense::Maximize, "maximize"),
    ] {
        for col in list {
            if objectives.iter().any(|(c, _)| c == col) {
                problems.push(Problem::new(
                    format!("objectives.{name}"),
                    format!("`{col}` is listed twice"),
                ));
            } else {
                objectives.push((col.clone(), sense));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Error::invalid(origin, problems));
    }
    Ok(Spec {
        origin: origin.to_string(),
        bases: written.iter().map(|b| relative_to(dir, b)).collect(),
        workloads: raw.workloads.iter().map(|w| relative_to(dir, w)).collect(),
        inputs: raw.inputs.as_deref().map(|p| relative_to(dir, p)),
        labels: raw.labels.as_deref().map(|p| relative_to(dir, p)),
        calibration,
        axes,
        ties,
        constraints,
        objectives,
    })
}

/// A path written in the spec, relative to the spec's folder unless absolute.
fn relative_to(dir: &Path, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_absolute() || dir.as_os_str().is_empty() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

type Bad = (String, String);

/// The values of one axis: a list, or a range table.
fn axis_values(v: &toml::Value) -> std::result::Result<Vec<toml::Value>, Bad> {
    match v {
        toml::Value::Array(a) => {
            if let Some(bad) = a.iter().find(|x| matches!(x, toml::Value::Array(_) | toml::Value::Table(_))) {
                return Err((
                    format!("list value {bad} is not a scalar"),
                    "list numbers, strings or booleans".into(),
                ));
            }
            Ok(a.clone())
        }
        toml::Value::Table(t) => range_values(t),
        other => Err((
            format!("expected a list or a range, found {other}"),
            "e.g. [4, 8, 16] or { from = 1, to = 7, step = 1 } or { from = 8, to = 64, factor = 2 }".into(),
        )),
    }
}

fn range_values(t: &toml::Table) -> std::result::Result<Vec<toml::Value>, Bad> {
    let help = || {
        "a range is { from = A, to = B, step = S } (S > 0) or { from = A, to = B, factor = F } (A > 0, F > 1), A <= B, both ends included".to_string()
    };
    if let Some(k) = t
        .keys()
        .find(|k| !["from", "to", "step", "factor"].contains(&k.as_str()))
    {
        return Err((format!("unknown range key `{k}`"), help()));
    }
    let num = |k: &str| -> std::result::Result<Option<(f64, bool)>, Bad> {
        match t.get(k) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) => Ok(Some((*i as f64, true))),
            Some(toml::Value::Float(f)) if f.is_finite() => Ok(Some((*f, false))),
            Some(other) => Err((format!("range `{k}` = {other} is not a number"), help())),
        }
    };
    let (Some((from, fi)), Some((to, ti))) = (num("from")?, num("to")?) else {
        return Err(("a range needs `from` and `to`".into(), help()));
    };
    if to < from {
        return Err((format!("range from {from} to {to} is empty"), help()));
    }
    let max = 100_000usize;
    match (num("step")?, num("factor")?) {
        (Some((step, si)), None) => {
            if step <= 0.0 {
                return Err((format!("range step {step} is not positive"), help()));
            }
            let n = ((to - from) / step + 1e-9).floor() as usize + 1;
            if n > max {
                return Err((format!("range has {n} values"), format!("at most {max}")));
            }
            Ok((0..n)
                .map(|i| {
                    let x = from + i as f64 * step;
                    if fi && ti && si {
                        toml::Value::Integer(x.round() as i64)
                    } else {
                        toml::Value::Float(tidy(x))
                    }
                })
                .collect())
        }
        (None, Some((factor, _))) => {
            if factor <= 1.0 || from <= 0.0 {
                return Err((
                    format!("geometric range from {from} by factor {factor} does not grow"),
                    help(),
                ));
            }
            let mut v = Vec::new();
            let mut x = from;
            while x <= to * (1.0 + 1e-9) {
                v.push(if fi && ti && x.fract() == 0.0 {
                    toml::Value::Integer(x as i64)
                } else {
                    toml::Value::Float(tidy(x))
                });
                x *= factor;
                if v.len() > max {
                    return Err(("range has too many values".into(), format!("at most {max}")));
                }
            }
            Ok(v)
        }
        (Some(_), Some(_)) => Err(("a range has `step` or `factor`, not both".into(), help())),
        (None, None) => Err(("a range needs `step` or `factor`".into(), help())),
    }
}

/// Round away float noise from repeated additions (12 significant digits).
fn tidy(x: f64) -> f64 {
    format!("{x:.12e}").parse().unwrap_or(x)
}

/// Set `path` (dotted) in `table` to `value`, creating missing intermediate tables.
pub fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap_or_default();
    let mut cur = table;
    let mut walked = String::new();
    for p in parts {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(p);
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            other => return Err(format!("`{walked}` is a {}, not a table", other.type_str())),
        };
    }
    cur.insert(last.to_string(), value);
    Ok(())
}

/// Remove `path` (dotted) from `table`, if present.
pub fn remove_path(table: &mut toml::Table, path: &str) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut cur = table;
    for p in parts {
        match cur.get_mut(p) {
            Some(toml::Value::Table(t)) => cur = t,
            _ => return,
        }
    }
    cur.remove(last);
}

fn get_int(table: &toml::Table, path: &str) -> Option<i64> {
    let mut cur = table;
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop()?;
    for p in parts {
        cur = cur.get(p)?.as_table()?;
    }
    cur.get(last)?.as_integer()
}

/// One design point of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Index in the cartesian product of the axes.
    pub id: u64,
    /// Parameter values, aligned with [`Spec::param_columns`].
    pub values: Vec<toml::Value>,
}

/// The ids of the points within the constraints, by increasing id: the whole product
/// without constraints (nothing stored), else the ids that meet them (8 bytes a point). A
/// point's values are made from its id when asked for ([`Plan::point`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Points {
    /// Every id below the bound.
    All(u64),
    /// These ids, increasing.
    Listed(Vec<u64>),
}

impl Points {
    pub fn len(&self) -> usize {
        match self {
            Points::All(n) => *n as usize,
            Points::Listed(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the `i`-th point.
    pub fn id(&self, i: usize) -> u64 {
        match self {
            Points::All(_) => i as u64,
            Points::Listed(v) => v[i],
        }
    }

    /// The index of the point with id `id`, if it is one of them.
    pub fn index_of(&self, id: u64) -> Option<usize> {
        match self {
            Points::All(n) => (id < *n).then_some(id as usize),
            Points::Listed(v) => v.binary_search(&id).ok(),
        }
    }

    /// Every id, increasing.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|i| self.id(i))
    }
}

/// A spec with its base architecture: every design point within the constraints.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: Spec,
    /// The base architectures' tables, aligned with `spec.bases`.
    pub bases: Vec<toml::Table>,
    /// Points within the constraints, by increasing id.
    pub points: Points,
    /// Points of the product left out by the constraints.
    pub excluded: u64,
}

impl Plan {
    /// Check the axes against the base architecture `base_text` and enumerate the points.
    ///
    /// An axis path the architecture does not have, or a value of the wrong type, is an
    /// error of the spec. A value the architecture rejects (out of range, say) is not: that
    /// point is recorded as `invalid` when the sweep runs.
    pub fn new(spec: Spec, base_texts: &[String]) -> Result<Plan> {
        let mut bases = Vec::new();
        for (path, text) in spec.bases.iter().zip(base_texts) {
            let origin = path.display().to_string();
            bases.push(toml::from_str::<toml::Table>(text).map_err(|e| {
                let (line, column) = match e.span() {
                    Some(s) => {
                        let (l, c) = line_col(text, s.start);
                        (Some(l), Some(c))
                    }
                    None => (None, None),
                };
                Error::Parse {
                    origin: origin.clone(),
                    line,
                    column,
                    message: e.message().trim().to_string(),
                }
            })?);
        }
        let mut problems = Vec::new();
        let fields: Vec<(String, String, &Vec<toml::Value>)> = spec
            .axes
            .iter()
            .filter(|a| a.path != BASE)
            .map(|a| (axis_field(&a.path), a.path.clone(), &a.values))
            .chain(spec.ties.iter().map(|t| {
                (
                    format!("tie.\"{}\"", t.path),
                    t.path.clone(),
                    &spec.axes[t.axis].values,
                )
            }))
            .collect();
        'field: for (field, path, values) in fields {
            for (base, base_path) in bases.iter().zip(&spec.bases) {
                for v in values {
                    let mut t = base.clone();
                    if let Err(msg) = set_path(&mut t, &path, v.clone()) {
                        problems.push(
                            Problem::new(&field, msg).with_help(
                                "write the path of an architecture field (arch/README.md)",
                            ),
                        );
                        continue 'field;
                    }
                    if let Err(Error::Parse { message, .. }) =
                        arch_from_table(t, &base_path.display().to_string())
                    {
                        problems.push(
                            Problem::new(&field, format!("value {v}: {message}"))
                                .with_help("axis paths and values follow the architecture fields in arch/README.md"),
                        );
                        continue 'field;
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::invalid(&spec.origin, problems));
        }
        let product = spec.product_len();
        let mut plan = Plan {
            spec,
            bases,
            points: Points::All(product),
            excluded: 0,
        };
        let c = &plan.spec.constraints;
        if *c != Constraints::default() {
            // Each point's table checked against the budgets, in parallel, in id order.
            use rayon::prelude::*;
            let ids: Vec<u64> = (0..product)
                .into_par_iter()
                .filter(|&id| within(c, &plan.table(&plan.spec_point(id))))
                .collect();
            plan.excluded = product - ids.len() as u64;
            plan.points = Points::Listed(ids);
        }
        Ok(plan)
    }

    /// The point with cartesian id `id`.
    fn spec_point(&self, id: u64) -> Point {
        Point {
            id,
            values: self.spec.values(id),
        }
    }

    /// The `i`-th point within the constraints.
    pub fn point(&self, i: usize) -> Point {
        self.spec_point(self.points.id(i))
    }

    /// Index into `bases` of a point's base architecture.
    pub fn base_of(&self, point: &Point) -> usize {
        match self.spec.axes.first() {
            Some(a) if a.path == BASE => a
                .values
                .iter()
                .position(|v| *v == point.values[0])
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// The architecture table of a point: its base with the point's values set.
    pub fn table(&self, point: &Point) -> toml::Table {
        let mut t = self.bases[self.base_of(point)].clone();
        for (c, v) in self.spec.param_columns().iter().zip(&point.values) {
            if c != BASE {
                let _ = set_path(&mut t, c, v.clone());
            }
        }
        t
    }
}

/// True when the architecture table meets the budgets (fields that are missing or not
/// integers are left to validation).
fn within(c: &Constraints, t: &toml::Table) -> bool {
    let rows = get_int(t, "array.rows").unwrap_or(1).max(0) as u64;
    let cols = get_int(t, "array.cols").unwrap_or(1).max(0) as u64;
    let lanes = get_int(t, "pe.lanes").unwrap_or(1).max(0) as u64;
    let pes = rows.saturating_mul(cols);
    let buffers: u64 = ["input", "weight", "output"]
        .iter()
        .map(|b| {
            get_int(t, &format!("buffers.{b}.capacity_bytes"))
                .unwrap_or(0)
                .max(0) as u64
        })
        .sum();
    c.max_pes.is_none_or(|m| pes <= m)
        && c.max_lanes.is_none_or(|m| pes.saturating_mul(lanes) <= m)
        && c.max_buffer_bytes.is_none_or(|m| buffers <= m)
        && c.max_area_mm2.is_none_or(|m| {
            // The area of the design the point describes; a point that is not a valid design
            // stays in the sweep, where its row reports why.
            crate::design::arch_from_table(t.clone(), "")
                .map_or(true, |a| crate::area::area_of(&a).total_mm2() <= m)
        })
}

/// The text of a parameter value in a CSV cell.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}
