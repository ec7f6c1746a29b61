//! `plumsim._plumsim`: the Python package's native core, a thin edge over the plumsim
//! library. Every simulation goes through the library's one pipeline
//! (`pipeline::simulate`, `compare::evaluate`, `Sweep::run`), with the GIL released while
//! it computes; the Python layer (`plumsim/__init__.py`) adds the conveniences.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use plumsim::columns::{Column, Record, Unit};
use plumsim::pipeline::{self, Caches, CodeCache, Options, WeightCache};
use plumsim::sweep::spec::{set_path, Axis, Constraints, Plan, Spec, BASE};
use plumsim::sweep::{Job, Sweep, Workload as SweepWorkload};
use plumsim::{compare, design, functional, io, report, shipped, workload, Error};

create_exception!(
    _plumsim,
    InputError,
    PyException,
    "Bad input: `file` names the input, `place` the field, line or tensor, `message` what is wrong; `problems` lists every (place, message, help). str() is what the CLI prints."
);
create_exception!(
    _plumsim,
    UnsupportedError,
    InputError,
    "Valid input that plumsim does not model for this combination (the CLI's exit code 2)."
);

/// A library error as the Python exception the package documents.
fn py_err(e: Error) -> PyErr {
    let text = match &e {
        Error::Io { path, source } => format!("{path}: {source}"),
        other => other.to_string(),
    };
    type Problems = Vec<(String, String, Option<String>)>;
    let (file, place, message, problems): (Option<String>, Option<String>, String, Problems) =
        match e {
            Error::Parse {
                origin,
                line,
                column,
                message,
            } => {
                let place = match (line, column) {
                    (Some(l), Some(c)) => Some(format!("line {l}, column {c}")),
                    (Some(l), None) => Some(format!("line {l}")),
                    _ => None,
                };
                let problems = vec![(place.clone().unwrap_or_default(), message.clone(), None)];
                (Some(origin), place, message, problems)
            }
            Error::Invalid { origin, problems } => {
                let first = problems.first().cloned();
                (
                    Some(origin),
                    first.as_ref().map(|p| p.path.clone()),
                    first.map_or_else(String::new, |p| match p.help {
                        Some(h) => format!("{} (help: {h})", p.message),
                        None => p.message,
                    }),
                    problems
                        .into_iter()
                        .map(|p| (p.path, p.message, p.help))
                        .collect(),
                )
            }
            Error::Io { path, source } => (Some(path), None, source.to_string(), Vec::new()),
            Error::Weights {
                file,
                tensor,
                layer,
                message,
            } => {
                let place = match layer {
                    Some(l) => format!("tensor `{tensor}` (layer `{l}`)"),
                    None => format!("tensor `{tensor}`"),
                };
                (Some(file), Some(place), message, Vec::new())
            }
            Error::Unsupported(m) => {
                return Python::attach(|py| {
                    let err = UnsupportedError::new_err(text);
                    let v = err.value(py);
                    let _ = v.setattr("file", py.None());
                    let _ = v.setattr("place", py.None());
                    let _ = v.setattr("message", m);
                    let _ = v.setattr("problems", PyList::empty(py));
                    err
                })
            }
            Error::Internal(m) => return PyRuntimeError::new_err(format!("internal error: {m}")),
        };
    Python::attach(|py| {
        let err = InputError::new_err(text);
        let v = err.value(py);
        let _ = v.setattr("file", file);
        let _ = v.setattr("place", place);
        let _ = v.setattr("message", message);
        let _ = v.setattr("problems", problems);
        err
    })
}

/// An InputError about an argument of a call (`place` names it).
fn arg_err(place: &str, message: impl Into<String>) -> PyErr {
    py_err(Error::invalid(
        "arguments",
        vec![plumsim::Problem::new(place, message)],
    ))
}

/// A JSON value as a Python object (object keys in the map's order).
fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        serde_json::Value::Null => py.None().into_bound(py),
        serde_json::Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        serde_json::Value::String(s) => s.into_pyobject(py)?.into_any(),
        serde_json::Value::Array(a) => {
            let l = PyList::empty(py);
            for x in a {
                l.append(json_to_py(py, x)?)?;
            }
            l.into_any()
        }
        serde_json::Value::Object(m) => {
            let d = PyDict::new(py);
            for (k, x) in m {
                d.set_item(k, json_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}

/// A serializable value as a Python dict with the keys in `order` first.
fn ordered_dict<'py>(
    py: Python<'py>,
    value: &impl serde::Serialize,
    order: &[&str],
) -> PyResult<Bound<'py, PyDict>> {
    let v = serde_json::to_value(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let d = PyDict::new(py);
    if let serde_json::Value::Object(m) = v {
        for k in order {
            if let Some(x) = m.get(*k) {
                d.set_item(*k, json_to_py(py, x)?)?;
            }
        }
        for (k, x) in &m {
            if !order.contains(&k.as_str()) {
                d.set_item(k, json_to_py(py, x)?)?;
            }
        }
    }
    Ok(d)
}

/// Rows of a record type as columns: a dict of lists in the record's column order.
fn columns_of<'py, R: Record + serde::Serialize>(
    py: Python<'py>,
    rows: &[R],
) -> PyResult<Bound<'py, PyDict>> {
    let names = plumsim::columns::names::<R>();
    let mut cols: Vec<Vec<serde_json::Value>> = vec![Vec::with_capacity(rows.len()); names.len()];
    for r in rows {
        let v = serde_json::to_value(r).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        for (i, n) in names.iter().enumerate() {
            cols[i].push(v.get(*n).cloned().unwrap_or(serde_json::Value::Null));
        }
    }
    let d = PyDict::new(py);
    for (n, c) in names.iter().zip(cols) {
        d.set_item(*n, json_to_py(py, &serde_json::Value::Array(c))?)?;
    }
    Ok(d)
}

/// A result cell's text as the Python value of its column's unit.
fn cell_to_py<'py>(py: Python<'py>, unit: Option<Unit>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    if text.is_empty() {
        return Ok(py.None().into_bound(py));
    }
    let as_str = || text.into_pyobject(py).map(|s| s.into_any());
    Ok(match unit {
        Some(Unit::Label) | None => as_str()?,
        Some(Unit::Flag) => match text {
            "true" => true.into_pyobject(py)?.to_owned().into_any(),
            "false" => false.into_pyobject(py)?.to_owned().into_any(),
            _ => as_str()?,
        },
        Some(Unit::Count | Unit::Cycles | Unit::Bytes | Unit::Bits) => match text.parse::<u64>() {
            Ok(n) => n.into_pyobject(py)?.into_any(),
            Err(_) => match text.parse::<f64>() {
                Ok(x) => x.into_pyobject(py)?.into_any(),
                Err(_) => as_str()?,
            },
        },
        Some(_) => match text.parse::<f64>() {
            Ok(x) => x.into_pyobject(py)?.into_any(),
            Err(_) => as_str()?,
        },
    })
}

fn pool(threads: Option<usize>) -> PyResult<rayon::ThreadPool> {
    if threads == Some(0) {
        return Err(arg_err(
            "threads",
            "must be at least 1 (or None for every core)",
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start worker threads: {e}")))
}

/// A validated architecture: its TOML table (what `replace` edits by field path) and the
/// design it describes.
#[pyclass(module = "plumsim._plumsim", frozen)]
#[derive(Clone)]
struct Arch {
    table: toml::Table,
    arch: plumsim::arch::Arch,
    origin: String,
    /// The fields `replace` set, in order (path, value).
    changes: Vec<(String, toml::Value)>,
}

fn toml_to_py<'py>(py: Python<'py>, v: &toml::Value) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(v).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

/// A Python value as a TOML value (for `replace`): bool, int, float, str, lists and dicts
/// of them.
fn py_to_toml(place: &str, v: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if let Ok(b) = v.cast::<pyo3::types::PyBool>() {
        return Ok(toml::Value::Boolean(b.is_true()));
    }
    if let Ok(i) = v.extract::<i64>() {
        if v.is_instance_of::<pyo3::types::PyInt>() {
            return Ok(toml::Value::Integer(i));
        }
    }
    if v.is_instance_of::<pyo3::types::PyInt>() {
        return Err(arg_err(
            place,
            "the integer is out of range (allowed: a 64-bit integer)",
        ));
    }
    if let Ok(f) = v.extract::<f64>() {
        if v.is_instance_of::<pyo3::types::PyFloat>() {
            return Ok(toml::Value::Float(f));
        }
    }
    if let Ok(s) = v.extract::<String>() {
        return Ok(toml::Value::String(s));
    }
    if let Ok(d) = v.cast::<PyDict>() {
        let mut t = toml::Table::new();
        for (k, x) in d.iter() {
            let k: String = k
                .extract()
                .map_err(|_| arg_err(place, "table keys must be strings"))?;
            let x = py_to_toml(&format!("{place}.{k}"), &x)?;
            t.insert(k, x);
        }
        return Ok(toml::Value::Table(t));
    }
    if let Ok(l) = v.cast::<PyList>() {
        let items = l
            .iter()
            .enumerate()
            .map(|(i, x)| py_to_toml(&format!("{place}[{i}]"), &x))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(toml::Value::Array(items));
    }
    Err(arg_err(
        place,
        format!(
            "a {} is not an architecture value (allowed: bool, int, float, str, list, dict)",
            v.get_type()
                .name()
                .map_or_else(|_| "?".to_string(), |n| n.to_string())
        ),
    ))
}

#[pymethods]
impl Arch {
    /// The design's name (`name` in its TOML).
    #[getter]
    fn name(&self) -> String {
        self.arch.name.clone()
    }

    /// Where the design came from: its file, `<string>`, `<dict>` or a shipped name.
    #[getter]
    fn origin(&self) -> String {
        self.origin.clone()
    }

    /// PE kind (`pe.kind`).
    #[getter]
    fn pe_kind(&self) -> &'static str {
        self.arch.pe.kind.as_str()
    }

    /// The fields set by `replace`, in order: {"pe.lanes": 4, ...}.
    #[getter]
    fn changes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in &self.changes {
            d.set_item(k, toml_to_py(py, v)?)?;
        }
        Ok(d)
    }

    /// The design with fields replaced by dotted path (the sweep's axis paths, e.g.
    /// {"pe.lanes": 4, "array.rows": 32}), validated as a file would be. Raises InputError
    /// naming the field for an unknown path or a value the design does not allow.
    fn replace(&self, fields: &Bound<'_, PyDict>) -> PyResult<Arch> {
        let mut table = self.table.clone();
        let mut changes = self.changes.clone();
        for (k, v) in fields.iter() {
            let path: String = k.extract().map_err(|_| {
                arg_err("replace", "field paths must be strings, e.g. \"pe.lanes\"")
            })?;
            let value = py_to_toml(&path, &v)?;
            set_path(&mut table, &path, value.clone()).map_err(|m| {
                py_err(Error::invalid(
                    &self.origin,
                    vec![plumsim::Problem::new(&path, m)
                        .with_help("write the path of an architecture field (arch/README.md)")],
                ))
            })?;
            changes.retain(|(p, _)| *p != path);
            changes.push((path, value));
        }
        let arch = match design::arch_from_table(table.clone(), &self.origin) {
            Ok(a) => a,
            // A type error or an unknown field carries no place: name the field that
            // breaks the design alone.
            Err(Error::Parse { message, .. }) => {
                let culprit = fields.iter().find_map(|(k, v)| {
                    let path: String = k.extract().ok()?;
                    let mut t = self.table.clone();
                    set_path(&mut t, &path, py_to_toml(&path, &v).ok()?).ok()?;
                    matches!(
                        design::arch_from_table(t, &self.origin),
                        Err(Error::Parse { .. })
                    )
                    .then_some(path)
                });
                let place = culprit.unwrap_or_else(|| {
                    changes
                        .iter()
                        .map(|(p, _)| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                });
                return Err(py_err(Error::invalid(
                    &self.origin,
                    vec![plumsim::Problem::new(place, message).with_help(
                        "paths and values follow the architecture fields in arch/README.md",
                    )],
                )));
            }
            Err(e) => return Err(py_err(e)),
        };
        Ok(Arch {
            table,
            arch,
            origin: self.origin.clone(),
            changes,
        })
    }

    /// The design as TOML text (what `load_arch` reads back).
    fn to_toml(&self) -> PyResult<String> {
        toml::to_string(&self.table).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The design as a dict of its TOML tables.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        toml_to_py(py, &toml::Value::Table(self.table.clone()))
    }

    /// Area of the design, mm^2 (the area model's total).
    #[getter]
    fn area_mm2(&self) -> f64 {
        plumsim::area::area_of(&self.arch).total_mm2()
    }

    fn __repr__(&self) -> String {
        format!(
            "<plumsim.Arch {} ({}x{} {} PEs, from {}{})>",
            self.arch.name,
            self.arch.rows,
            self.arch.cols,
            self.arch.pe.kind.as_str(),
            self.origin,
            if self.changes.is_empty() {
                String::new()
            } else {
                format!(
                    "; {}",
                    self.changes
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )
    }
}

fn arch_of_text(text: &str, origin: &str) -> PyResult<Arch> {
    let arch = design::parse_arch(text, origin).map_err(py_err)?;
    with_table(text, arch, origin)
}

/// A validated design with the TOML table of its text.
fn with_table(text: &str, arch: plumsim::arch::Arch, origin: &str) -> PyResult<Arch> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| PyRuntimeError::new_err(format!("{origin}: {e}")))?;
    Ok(Arch {
        table,
        arch,
        origin: origin.to_string(),
        changes: Vec::new(),
    })
}

/// Load an architecture TOML file (or a shipped design by file name, e.g. "swis_pe16.toml").
#[pyfunction]
fn arch_from_path(path: PathBuf) -> PyResult<Arch> {
    if !path.exists() {
        if let Some(name) = path.to_str().filter(|s| !s.contains('/')) {
            let name = if name.ends_with(".toml") {
                name.to_string()
            } else {
                format!("{name}.toml")
            };
            if let Ok(text) = shipped::arch_text(&name) {
                return arch_of_text(text, &format!("arch/{name}"));
            }
        }
    }
    // The file's checks (a workload given as architecture, say) as the CLI makes them.
    let (text, arch) = io::read_arch(&path).map_err(py_err)?;
    with_table(&text, arch, &path.display().to_string())
}

/// An architecture from a dict of its TOML tables ({"name": ..., "array": {...}, ...}).
#[pyfunction]
fn arch_from_dict(fields: &Bound<'_, PyDict>) -> PyResult<Arch> {
    let origin = "<dict>";
    let toml::Value::Table(table) = py_to_toml("arch", fields.as_any())? else {
        return Err(arg_err("arch", "must be a dict"));
    };
    let arch = design::arch_from_table(table.clone(), origin).map_err(py_err)?;
    Ok(Arch {
        table,
        arch,
        origin: origin.to_string(),
        changes: Vec::new(),
    })
}

/// An architecture from TOML text; `origin` names it in messages.
#[pyfunction]
fn arch_from_toml(text: &str, origin: &str) -> PyResult<Arch> {
    arch_of_text(text, origin)
}

/// A workload: the network and the path its relative weight files resolve from.
#[pyclass(module = "plumsim._plumsim", frozen)]
#[derive(Clone)]
struct Workload {
    net: workload::Network,
    path: PathBuf,
}

#[pymethods]
impl Workload {
    /// The network's name.
    #[getter]
    fn name(&self) -> String {
        self.net.name.clone()
    }

    /// The path relative weight files are read from (the file, or a name in the current
    /// folder for a workload given as text).
    #[getter]
    fn path(&self) -> PathBuf {
        self.path.clone()
    }

    /// Layer names, in order.
    #[getter]
    fn layers(&self) -> Vec<String> {
        self.net.layers.iter().map(|l| l.name.clone()).collect()
    }

    fn __len__(&self) -> usize {
        self.net.layers.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "<plumsim.Workload {} ({} layers, from {})>",
            self.net.name,
            self.net.layers.len(),
            self.path.display()
        )
    }
}

/// Load a workload: plumsim JSON, a SCALE-Sim topology CSV or an ONNX model (with
/// `input_shapes` {name: [dims]} for its dynamic dimensions); a shipped workload by file
/// name (e.g. "resnet18.json") when no such file exists.
#[pyfunction]
#[pyo3(signature = (path, input_shapes=None))]
fn workload_from_path(
    path: PathBuf,
    input_shapes: Option<BTreeMap<String, Vec<u64>>>,
) -> PyResult<Workload> {
    if !path.exists() {
        if let Some(name) = path.to_str().filter(|s| !s.contains('/')) {
            if let Ok((p, net)) = shipped::workload(name) {
                return Ok(Workload { net, path: p });
            }
        }
    }
    let options = io::LoadOptions {
        input_shapes: input_shapes.unwrap_or_default(),
    };
    let net = io::load_workload_with(&path, &options).map_err(py_err)?;
    Ok(Workload { net, path })
}

/// A workload from plumsim JSON text; `origin` names it in messages; relative weight files
/// resolve from `base` (default: the current folder).
#[pyfunction]
#[pyo3(signature = (text, origin, base=None))]
fn workload_from_json(text: &str, origin: &str, base: Option<PathBuf>) -> PyResult<Workload> {
    let net = workload::parse_workload(text, origin).map_err(py_err)?;
    let dir = base.unwrap_or_else(|| PathBuf::from("."));
    Ok(Workload {
        net,
        path: dir.join(format!("{}.json", io::output::file_component(origin))),
    })
}

/// Simulate one design on one workload (as `plumsim run` does). Returns a dict: `summary`,
/// `layers` (columns), `fidelity_layers` (columns, with inputs), `layers_csv`,
/// `summary_json`, `fidelity_csv`, `notes`.
#[pyfunction]
#[pyo3(signature = (arch, workload, weights=None, inputs=None, labels=None, calibration="max", threads=None, stats=false))]
#[allow(clippy::too_many_arguments)]
fn run<'py>(
    py: Python<'py>,
    arch: &Arch,
    workload: &Workload,
    weights: Option<PathBuf>,
    inputs: Option<PathBuf>,
    labels: Option<PathBuf>,
    calibration: &str,
    threads: Option<usize>,
    stats: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let calibration = functional::Calibrate::parse(calibration).ok_or_else(|| {
        arg_err(
            "calibration",
            format!("`{calibration}`: allowed: max, or percentile:P with 0 < P <= 100"),
        )
    })?;
    if labels.is_some() && inputs.is_none() {
        return Err(arg_err("labels", "needs inputs"));
    }
    let pool = pool(threads)?;
    let (a, net) = (&arch.arch, &workload.net);
    let report = py.detach(|| -> plumsim::Result<(report::RunReport, Vec<String>)> {
        let source = io::FileSource::new(&workload.path, weights.as_deref());
        let set = match &inputs {
            Some(p) => Some(io::load_inputs(p, net, labels.as_deref())?),
            None => None,
        };
        let samples = set.as_ref().map(|set| functional::Samples {
            values: &set.values,
            labels: set.labels.as_deref(),
            reference_logits: set.reference_logits.as_deref(),
            calibration,
        });
        let opts = Options {
            all_layers: stats,
            stats: true,
        };
        let pair = format!("design `{}` on workload `{}`", a.name, net.name);
        let admit = |bytes: u128| io::check_memory(&pair, bytes);
        let (weights, codes) = pipeline::one_run_caches(samples.is_some());
        let caches = Caches {
            weights: &weights,
            codes: &codes,
        };
        let sim =
            pool.install(|| pipeline::simulate(a, net, &source, caches, samples, opts, &admit))?;
        let r = report::RunReport::new(a, &sim, set.as_ref().map(|s| s.origin.clone()))?;
        Ok((r, sim.notes))
    });
    let (report, notes) = report.map_err(py_err)?;
    let out = PyDict::new(py);
    let mut order = plumsim::columns::names::<report::Summary>();
    order.extend(["inputs", "fidelity"]);
    out.set_item("summary", ordered_dict(py, &report.summary, &order)?)?;
    out.set_item("layers", columns_of(py, &report.rows)?)?;
    out.set_item(
        "fidelity_layers",
        match &report.fidelity_layers {
            Some(l) => columns_of(py, l)?.into_any(),
            None => py.None().into_bound(py),
        },
    )?;
    out.set_item("layers_csv", report.layers_csv())?;
    out.set_item("summary_json", report.summary_json())?;
    out.set_item("fidelity_csv", report.fidelity_csv())?;
    out.set_item("notes", notes)?;
    Ok(out)
}

/// Compare designs on one workload (as `plumsim compare` does): one row per design, with
/// speedup and energy ratio against `designs[baseline]`. Returns {"rows": [dict],
/// "markdown": str, "notes": [str]}.
#[pyfunction]
#[pyo3(signature = (designs, workload, baseline=0, weights=None, area_budget_mm2=None, threads=None))]
fn compare_designs<'py>(
    py: Python<'py>,
    designs: Vec<PyRef<'py, Arch>>,
    workload: &Workload,
    baseline: usize,
    weights: Option<PathBuf>,
    area_budget_mm2: Option<f64>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    if designs.is_empty() {
        return Err(arg_err("designs", "give at least one design"));
    }
    if baseline >= designs.len() {
        return Err(arg_err(
            "baseline",
            format!(
                "{baseline} is no design's index (allowed: 0 to {})",
                designs.len() - 1
            ),
        ));
    }
    if area_budget_mm2.is_some_and(|b| !(b.is_finite() && b > 0.0)) {
        return Err(arg_err("area_budget_mm2", "allowed: a number of mm^2 > 0"));
    }
    let archs: Vec<plumsim::arch::Arch> = designs.iter().map(|d| d.arch.clone()).collect();
    let net = &workload.net;
    let pool = pool(threads)?;
    let done = py.detach(|| -> plumsim::Result<_> {
        let source = io::FileSource::new(&workload.path, weights.as_deref());
        let (weights, codes) = (WeightCache::default(), CodeCache::default());
        let caches = Caches {
            weights: &weights,
            codes: &codes,
        };
        let admit = |arch: &plumsim::arch::Arch, bytes: u128| {
            io::check_memory(
                &format!("design `{}` on workload `{}`", arch.name, net.name),
                bytes,
            )
        };
        let mut results = Vec::new();
        let mut notes = Vec::new();
        for a in &archs {
            let (r, note) = pool
                .install(|| compare::evaluate(a, net, &source, caches, area_budget_mm2, &admit))?;
            results.push(r);
            notes.extend(note);
        }
        let rows = compare::compare_rows(&results, baseline);
        let md = compare::markdown(&rows, &results[baseline].label, &net.name);
        Ok((rows, md, notes))
    });
    let (rows, md, notes) = done.map_err(py_err)?;
    let order = plumsim::columns::names::<compare::CompareRow>();
    let list = PyList::empty(py);
    for r in &rows {
        list.append(ordered_dict(py, r, &order)?)?;
    }
    let out = PyDict::new(py);
    out.set_item("rows", list)?;
    out.set_item("markdown", md)?;
    out.set_item("notes", notes)?;
    Ok(out)
}

/// One window of a sweep in flight: the rows come from worker threads through a channel and
/// leave in point order.
#[pyclass(module = "plumsim._plumsim")]
struct SweepRun {
    rx: Option<std::sync::Mutex<mpsc::Receiver<RowMsg>>>,
    /// Rows that arrived before an earlier point's.
    waiting: BTreeMap<usize, Vec<String>>,
    next: usize,
    total: usize,
    headers: Vec<String>,
    units: Vec<Option<Unit>>,
    /// Per point: (design name, its changes, first point number).
    designs: Vec<(String, Vec<(String, toml::Value)>)>,
    first: usize,
    handle: Option<std::thread::JoinHandle<()>>,
}

enum RowMsg {
    Row(usize, Vec<String>),
    Failed(Error),
}

/// A point as the Python layer hands it over: design, fields to set on it, workload.
type SweepPoint<'py> = (
    PyRef<'py, Arch>,
    Option<Bound<'py, PyDict>>,
    PyRef<'py, Workload>,
);

/// Start evaluating `points` on `jobs` threads; iterate the result for one dict per point,
/// in order. Each point is (design, fields, workload): the design with `fields` (dotted
/// paths, or None) set but not yet validated, so that a design the fields make invalid is a
/// row of status `invalid`, as in `plumsim sweep`. `first` numbers the first point.
#[pyfunction]
#[pyo3(signature = (points, jobs=None, first=0))]
fn sweep_start(
    points: Vec<SweepPoint<'_>>,
    jobs: Option<usize>,
    first: usize,
) -> PyResult<SweepRun> {
    let pool = pool(jobs)?;
    // One sweep over the points: a `base` axis whose values are the designs, each with its
    // own workload; the library runs them as `plumsim sweep` does (codes shared by designs
    // that need the same ones, every point through the one pipeline).
    let mut workloads: Vec<SweepWorkload> = Vec::new();
    let mut which: Vec<(*const Workload, usize)> = Vec::new();
    let mut sweep_jobs = Vec::new();
    let mut bases = Vec::new();
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    let mut designs = Vec::new();
    for (i, (a, fields, w)) in points.iter().enumerate() {
        let mut table = a.table.clone();
        let mut changes = a.changes.clone();
        if let Some(fields) = fields {
            for (k, v) in fields.iter() {
                let path: String = k.extract().map_err(|_| {
                    arg_err("sweep", "field paths must be strings, e.g. \"pe.lanes\"")
                })?;
                let value = py_to_toml(&path, &v)?;
                // A path through a value that is no table is an error of the sweep itself.
                set_path(&mut table, &path, value.clone()).map_err(|m| {
                    py_err(Error::invalid(
                        &a.origin,
                        vec![plumsim::Problem::new(&path, m)
                            .with_help("write the path of an architecture field (arch/README.md)")],
                    ))
                })?;
                changes.retain(|(p, _)| *p != path);
                changes.push((path, value));
            }
        }
        let key: *const Workload = &**w;
        let wi = match which.iter().find(|(k, _)| *k == key) {
            Some((_, wi)) => *wi,
            None => {
                workloads.push(SweepWorkload {
                    path: w.path.clone(),
                    name: w.net.name.clone(),
                    net: w.net.clone(),
                    inputs: None,
                });
                which.push((key, workloads.len() - 1));
                workloads.len() - 1
            }
        };
        sweep_jobs.push(Job {
            point: i,
            workload: wi,
        });
        bases.push(PathBuf::from(format!("{} (point {})", a.origin, first + i)));
        texts.push(toml::to_string(&table).map_err(|e| PyRuntimeError::new_err(e.to_string()))?);
        labels.push(toml::Value::String(format!("{i}")));
        designs.push((a.arch.name.clone(), changes));
    }
    let total = sweep_jobs.len();
    let spec = Spec {
        origin: "plumsim.sweep".into(),
        bases,
        workloads: workloads.iter().map(|w| w.path.clone()).collect(),
        inputs: None,
        labels: None,
        calibration: functional::Calibrate::default(),
        axes: vec![Axis {
            path: BASE.into(),
            values: labels,
        }],
        ties: Vec::new(),
        constraints: Constraints::default(),
        objectives: Vec::new(),
    };
    let plan = Plan::new(spec, &texts).map_err(py_err)?;
    let sweep = Sweep::new(plan, workloads).map_err(py_err)?;
    let headers = sweep.headers.clone();
    let units = unit_of(&headers);
    let (tx, rx) = mpsc::channel();
    let handle = if total == 0 {
        None
    } else {
        Some(std::thread::spawn(move || {
            let sink = |row: Vec<String>| -> plumsim::Result<()> {
                let i = row[0].parse::<usize>().unwrap_or(usize::MAX);
                // A closed channel means the iterator was dropped: stop.
                tx.send(RowMsg::Row(i, row))
                    .map_err(|_| Error::Internal("the sweep's reader went away".into()))
            };
            if let Err(e) = pool.install(|| sweep.run(&sweep_jobs, None, &sink)) {
                let _ = tx.send(RowMsg::Failed(e));
            }
        }))
    };
    Ok(SweepRun {
        rx: Some(std::sync::Mutex::new(rx)),
        waiting: BTreeMap::new(),
        next: 0,
        total,
        headers,
        units,
        designs,
        first,
        handle,
    })
}

/// The unit of each summary column (parameter and key columns have none).
fn unit_of(headers: &[String]) -> Vec<Option<Unit>> {
    let cols: Vec<Column> = report::Summary::columns()
        .into_iter()
        .chain(functional::NetworkFidelity::columns())
        .collect();
    headers
        .iter()
        .map(|h| cols.iter().find(|c| c.name == h).map(|c| c.unit))
        .collect()
}

#[pymethods]
impl SweepRun {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        if self.next >= self.total {
            self.finish();
            return Ok(None);
        }
        while !self.waiting.contains_key(&self.next) {
            let Some(rx) = &self.rx else {
                return Ok(None);
            };
            // Wait for the workers without holding the GIL (other Python threads run).
            let msg = py.detach(|| rx.lock().unwrap_or_else(|e| e.into_inner()).recv());
            match msg {
                Ok(RowMsg::Row(i, row)) => {
                    self.waiting.insert(i, row);
                }
                Ok(RowMsg::Failed(e)) => {
                    self.finish();
                    return Err(py_err(e));
                }
                Err(_) => {
                    self.finish();
                    return Err(PyRuntimeError::new_err(
                        "internal error: the sweep stopped before every point had a row",
                    ));
                }
            }
            py.check_signals()?;
        }
        let row = self
            .waiting
            .remove(&self.next)
            .expect("the row has arrived");
        let i = self.next;
        self.next += 1;
        let d = PyDict::new(py);
        d.set_item("point", self.first + i)?;
        let (name, changes) = &self.designs[i];
        d.set_item("design", name)?;
        for (k, v) in changes {
            d.set_item(k, toml_to_py(py, v)?)?;
        }
        for ((h, cell), unit) in self.headers.iter().zip(&row).zip(&self.units) {
            if h == "point" || h == BASE {
                continue;
            }
            d.set_item(h, cell_to_py(py, *unit, cell)?)?;
        }
        Ok(Some(d))
    }
}

impl SweepRun {
    fn finish(&mut self) {
        // Dropping the receiver makes the workers' next send fail, which ends their run.
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for SweepRun {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Indices of the non-dominated rows of `values` (one list of objective values per row);
/// `maximize[k]` says whether objective k is maximized. Ties keep every tied row.
#[pyfunction]
fn pareto_front(values: Vec<Vec<f64>>, maximize: Vec<bool>) -> PyResult<Vec<usize>> {
    if values.iter().any(|v| v.len() != maximize.len()) {
        return Err(arg_err(
            "objectives",
            "every row needs a value for every objective",
        ));
    }
    let senses: Vec<plumsim::pareto::Sense> = maximize
        .iter()
        .map(|&m| {
            if m {
                plumsim::pareto::Sense::Maximize
            } else {
                plumsim::pareto::Sense::Minimize
            }
        })
        .collect();
    Ok(plumsim::pareto::front(&values, &senses))
}

/// Draw a scatter of result rows (columns as lists of cells) with its Pareto front, and write
/// it to `out` (.svg or .png), as `plumsim plot` does.
#[pyfunction]
#[pyo3(signature = (headers, rows, x, y, out, color_by=None, pareto=None, label=None, title=None, size=(960, 640), log_x=false, log_y=false, label_all=false))]
#[allow(clippy::too_many_arguments)]
fn plot_scatter(
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    x: String,
    y: String,
    out: PathBuf,
    color_by: Option<String>,
    pareto: Option<(bool, bool)>,
    label: Option<String>,
    title: Option<String>,
    size: (u32, u32),
    log_x: bool,
    log_y: bool,
    label_all: bool,
) -> PyResult<usize> {
    if !(100..=8000).contains(&size.0) || !(100..=8000).contains(&size.1) {
        return Err(arg_err("size", "each side 100 to 8000 pixels"));
    }
    use plumsim::pareto::Sense;
    let Some(format) = plumsim::plot::ImageFormat::from_path(&out) else {
        return Err(arg_err(
            "out",
            format!("{}: allowed: a .svg or .png file", out.display()),
        ));
    };
    let sense = |m: bool| if m { Sense::Maximize } else { Sense::Minimize };
    let t = plumsim::table::Table { headers, rows };
    let o = plumsim::plot::ScatterOptions {
        x,
        y,
        color_by,
        pareto: pareto.map(|(a, b)| (sense(a), sense(b))),
        also: Vec::new(),
        group_by: None,
        label,
        label_all,
        log_x,
        log_y,
        title,
        size,
    };
    let plot = plumsim::plot::scatter(&t, &o, format, "rows").map_err(|e| py_err(e.into()))?;
    write_file(&out, &plot.bytes)?;
    Ok(plot.marks)
}

fn write_file(path: &Path, bytes: &[u8]) -> PyResult<()> {
    io::write_all_atomic(&[(path.to_path_buf(), bytes.to_vec())]).map_err(py_err)
}

/// The native core of the `plumsim` package.
#[pymodule]
fn _plumsim(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("__version__", plumsim::sweep::VERSION)?;
    m.add_class::<Arch>()?;
    m.add_class::<Workload>()?;
    m.add_class::<SweepRun>()?;
    m.add_function(wrap_pyfunction!(arch_from_path, m)?)?;
    m.add_function(wrap_pyfunction!(arch_from_toml, m)?)?;
    m.add_function(wrap_pyfunction!(arch_from_dict, m)?)?;
    m.add_function(wrap_pyfunction!(workload_from_path, m)?)?;
    m.add_function(wrap_pyfunction!(workload_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(compare_designs, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_start, m)?)?;
    m.add_function(wrap_pyfunction!(pareto_front, m)?)?;
    m.add_function(wrap_pyfunction!(plot_scatter, m)?)?;
    Ok(())
}
