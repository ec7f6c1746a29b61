"""plumsim: a cycle-level simulator for low-precision DNN inference accelerators, from Python.

Load a design and a network, run it, compare designs, sweep a design space in parallel and
take its Pareto front::

    import plumsim
    arch = plumsim.load_arch("arch/swis_pe16.toml")
    net = plumsim.load_workload("workloads/resnet18.json")
    r = plumsim.run(arch, net)
    r.summary["latency_us"], r.summary["energy_pj"]
    rows = list(plumsim.sweep(arch.replace({"pe.lanes": n, "quant.group_size": n})
                              for n in (4, 8, 16)), workload=net, jobs=2)
    front = plumsim.pareto(rows, {"latency_us": "min", "energy_pj": "min"})

Every simulation runs in the Rust library (the same pipeline as the ``plumsim`` command),
with the GIL released. Bad input raises :class:`InputError`, carrying the ``file``, the
``place`` (field path, line or tensor) and the ``message`` the command prints.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import _plumsim
from ._plumsim import Arch, InputError, UnsupportedError, Workload

__version__: str = _plumsim.__version__

__all__ = [
    "Arch",
    "Workload",
    "InputError",
    "UnsupportedError",
    "RunResult",
    "CompareResult",
    "load_arch",
    "load_workload",
    "run",
    "compare",
    "sweep",
    "pareto",
    "plot",
    "columns",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]


def _looks_like_text(s: str, opener: str) -> bool:
    return "\n" in s or s.lstrip().startswith(opener)


def load_arch(source: Union[PathLike, Mapping[str, Any], Arch]) -> Arch:
    """An architecture, validated: a TOML file's path, a shipped design's file name (e.g.
    ``"swis_pe16.toml"``, built in), TOML text, or a dict of its tables. Raises
    :class:`InputError` naming the file and field of the first problem (``problems`` lists
    them all)."""
    if isinstance(source, Arch):
        return source
    if isinstance(source, Mapping):
        return _plumsim.arch_from_dict(dict(source))
    if isinstance(source, str) and _looks_like_text(source, "[") and not os.path.exists(source):
        return _plumsim.arch_from_toml(source, "<string>")
    if isinstance(source, (str, os.PathLike)):
        return _plumsim.arch_from_path(os.fspath(source))
    raise TypeError(f"load_arch takes a path, TOML text or a dict, not {type(source).__name__}")


def load_workload(
    source: Union[PathLike, Mapping[str, Any], Workload],
    input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
) -> Workload:
    """A workload, validated: a file's path (plumsim JSON, a SCALE-Sim topology CSV or an
    ONNX model, whose dynamic dimensions ``input_shapes`` {input name: [dims]} resolves), a
    shipped workload's file name (e.g. ``"resnet18.json"``), JSON text, or a dict. Weight
    files a workload given as text or dict names are read relative to the current folder."""
    if isinstance(source, Workload):
        return source
    shapes = None if input_shapes is None else {k: list(v) for k, v in input_shapes.items()}
    if isinstance(source, Mapping):
        return _plumsim.workload_from_json(json.dumps(dict(source)), "<dict>")
    if isinstance(source, str) and _looks_like_text(source, "{") and not os.path.exists(source):
        return _plumsim.workload_from_json(source, "<string>")
    if isinstance(source, (str, os.PathLike)):
        return _plumsim.workload_from_path(os.fspath(source), shapes)
    raise TypeError(
        f"load_workload takes a path, JSON text or a dict, not {type(source).__name__}"
    )


def _optional_path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def _frame(columns: Mapping[str, List[Any]], library: str) -> Any:
    try:
        module = __import__(library)
    except ImportError as e:
        raise ImportError(
            f"{library} is not installed: `pip install {library}` (plumsim does not require it)"
        ) from e
    return module.DataFrame(dict(columns))


class RunResult:
    """One design on one workload.

    ``summary``: the run's totals (the CLI's ``summary.json``: cycles and their split,
    ``latency_us``, ``energy_pj`` and its components, ``area_mm2``, ...; with inputs also
    ``fidelity``). ``layers``: per-layer columns, a dict of lists (the CLI's ``layers.csv``).
    ``fidelity_layers``: with inputs, per-layer fidelity columns (``fidelity.csv``)."""

    def __init__(self, raw: Dict[str, Any]):
        self.summary: Dict[str, Any] = raw["summary"]
        self.layers: Dict[str, List[Any]] = raw["layers"]
        self.fidelity_layers: Optional[Dict[str, List[Any]]] = raw["fidelity_layers"]
        self.notes: List[str] = raw["notes"]
        self._files = {
            "layers.csv": raw["layers_csv"],
            "summary.json": raw["summary_json"],
        }
        if raw["fidelity_csv"] is not None:
            self._files["fidelity.csv"] = raw["fidelity_csv"]

    def to_pandas(self) -> Any:
        """The per-layer columns as a pandas DataFrame (needs pandas)."""
        return _frame(self.layers, "pandas")

    def to_polars(self) -> Any:
        """The per-layer columns as a polars DataFrame (needs polars)."""
        return _frame(self.layers, "polars")

    def save(self, folder: PathLike) -> Path:
        """Write ``layers.csv`` and ``summary.json`` (and ``fidelity.csv``) into ``folder``,
        byte for byte what ``plumsim run --out FOLDER`` writes; ``plumsim report FOLDER``
        reads it."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for name, text in self._files.items():
            tmp = out / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(out / name)
        return out

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<plumsim.RunResult {s['arch']} on {s['workload']}: {s['total_cycles']} cycles, "
            f"{s['latency_us']:.6g} us, {s['energy_pj']:.6g} pJ>"
        )


def run(
    arch: Union[Arch, PathLike, Mapping[str, Any]],
    workload: Union[Workload, PathLike, Mapping[str, Any]],
    weights: Optional[PathLike] = None,
    inputs: Optional[PathLike] = None,
    *,
    labels: Optional[PathLike] = None,
    calibration: str = "max",
    threads: Optional[int] = None,
    stats: bool = False,
) -> RunResult:
    """Simulate ``arch`` on ``workload``, as ``plumsim run`` does.

    ``weights``: a .npz/.npy/.safetensors file every weight layer reads its tensor from.
    ``inputs``: real inputs (a folder of images or a .npy/.npz tensor file) to run the
    network on as well: the result then carries its fidelity, and zero-skipping PEs are
    timed on the real activations. ``labels``, ``calibration`` (``"max"`` or
    ``"percentile:P"``): as the CLI's options. ``threads``: worker threads (default every
    core; results do not depend on it). ``stats``: quantize every weight layer and report
    its statistics."""
    raw = _plumsim.run(
        load_arch(arch),
        load_workload(workload),
        _optional_path(weights),
        _optional_path(inputs),
        labels=_optional_path(labels),
        calibration=calibration,
        threads=threads,
        stats=stats,
    )
    return RunResult(raw)


def columns(rows: Sequence[Mapping[str, Any]]) -> Dict[str, List[Any]]:
    """Rows (dicts) as columns (a dict of lists), every key of any row, in first-seen order;
    a row without a key has None there."""
    keys: Dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    return {k: [r.get(k) for r in rows] for k in keys}


class CompareResult:
    """Designs side by side on one workload: ``rows`` (one dict per design: cycles, latency,
    energy and its components in uJ, EDP, area, density, ACE, speedup and energy ratio
    against the baseline), ``markdown`` (the table ``plumsim compare`` prints)."""

    def __init__(self, raw: Dict[str, Any]):
        self.rows: List[Dict[str, Any]] = raw["rows"]
        self.markdown: str = raw["markdown"]
        self.notes: List[str] = raw["notes"]

    @property
    def columns(self) -> Dict[str, List[Any]]:
        """The rows as columns (a dict of lists)."""
        return columns(self.rows)

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (needs pandas)."""
        return _frame(self.columns, "pandas")

    def to_polars(self) -> Any:
        """The rows as a polars DataFrame (needs polars)."""
        return _frame(self.columns, "polars")

    def __repr__(self) -> str:
        return f"<plumsim.CompareResult of {len(self.rows)} designs>"


def compare(
    designs: Sequence[Union[Arch, PathLike, Mapping[str, Any]]],
    workload: Union[Workload, PathLike, Mapping[str, Any]],
    baseline: Union[int, Arch, PathLike, None] = 0,
    *,
    weights: Optional[PathLike] = None,
    area_budget_mm2: Optional[float] = None,
    threads: Optional[int] = None,
) -> CompareResult:
    """Compare designs on one workload, as ``plumsim compare`` does: every weight layer
    quantized, speedup and energy ratio against ``baseline`` (an index into ``designs``, or a
    design, added to the runs when not among them). ``area_budget_mm2``: resize every array to
    fit that area (designs at equal area)."""
    archs = [load_arch(d) for d in designs]
    if isinstance(baseline, int) and not isinstance(baseline, bool):
        index = baseline
        shown = len(archs)
    else:
        base = load_arch(baseline)  # type: ignore[arg-type]
        same = [i for i, a in enumerate(archs) if a.to_toml() == base.to_toml()]
        if same:
            index, shown = same[0], len(archs)
        else:
            archs.append(base)
            index, shown = len(archs) - 1, len(archs) - 1
    raw = _plumsim.compare_designs(
        archs,
        load_workload(workload),
        index,
        _optional_path(weights),
        area_budget_mm2,
        threads,
    )
    raw["rows"] = raw["rows"][:shown]
    return CompareResult(raw)


Point = Union[Arch, Mapping[str, Any], Tuple[Union[Arch, Mapping[str, Any]], Any]]


def sweep(
    points: Iterable[Point],
    workload: Union[Workload, PathLike, Mapping[str, Any], None] = None,
    *,
    base: Union[Arch, PathLike, Mapping[str, Any], None] = None,
    jobs: Optional[int] = None,
    window: int = 1024,
) -> Iterator[Dict[str, Any]]:
    """Evaluate design points in parallel in Rust and yield one row (dict) per point, in the
    order given: ``point`` (its number), ``design`` (the name), the fields set on it by
    ``replace`` or by the point, ``workload``, ``status`` (``ok``, ``invalid``,
    ``unsupported``, ``error``), ``error`` (why, else empty), then the ``plumsim sweep``
    result columns (None unless ok).

    ``points``: designs; or dicts of field paths ({"pe.lanes": 4, "array.rows": 32}) set on
    ``base``, where a design the fields make invalid is a row of status ``invalid`` (as in
    ``plumsim sweep``) rather than an exception; or (point, workload) pairs. Points without a
    workload run on ``workload``. Any iterable, taken ``window`` points at a time, so a
    generator of many points is never held whole. ``jobs``: worker threads (default every
    core). Points that need the same quantized codes share them, as in ``plumsim sweep``;
    the rows do not depend on ``jobs``."""
    if window < 1:
        raise ValueError("window must be at least 1")
    default = None if workload is None else load_workload(workload)
    base_arch = None if base is None else load_arch(base)
    loaded: Dict[str, Workload] = {}

    def the_workload(w: Any) -> Workload:
        if isinstance(w, Workload):
            return w
        # Each file is loaded once for the whole sweep; a dict each time it comes.
        if isinstance(w, (str, os.PathLike)):
            key = os.fspath(w)
            if key not in loaded:
                loaded[key] = load_workload(w)
            return loaded[key]
        return load_workload(w)

    def triple(p: Any) -> Tuple[Arch, Optional[Dict[str, Any]], Workload]:
        w: Any = default
        if isinstance(p, tuple):
            if len(p) != 2:
                raise TypeError("a sweep point is a design, a dict of fields or a (point, workload) pair")
            p, w = p
        if w is None:
            raise TypeError(
                "sweep: a point without its workload needs workload=... (or give (point, workload) pairs)"
            )
        if isinstance(p, Mapping) and not _is_arch_dict(p):
            if base_arch is None:
                raise TypeError("sweep: a point given as fields needs base=... (the design they change)")
            return base_arch, dict(p), the_workload(w)
        return load_arch(p), None, the_workload(w)

    it = iter(points)
    first = 0
    while True:
        chunk = [triple(p) for p in itertools.islice(it, window)]
        if not chunk:
            return
        yield from _plumsim.sweep_start(chunk, jobs, first)
        first += len(chunk)


def _is_arch_dict(d: Mapping[str, Any]) -> bool:
    """A whole design as a dict (its tables), not field paths to set on a base."""
    return "array" in d and isinstance(d.get("array"), Mapping)


Objectives = Union[Mapping[str, str], Sequence[Union[str, Tuple[str, str]]]]


def _senses(objectives: Objectives) -> List[Tuple[str, bool]]:
    items: List[Tuple[str, str]]
    if isinstance(objectives, Mapping):
        items = list(objectives.items())
    else:
        items = [(o, "min") if isinstance(o, str) else (o[0], o[1]) for o in objectives]
    if not items:
        raise ValueError("pareto needs at least one objective")
    out = []
    for name, sense in items:
        s = str(sense).lower()
        if s not in ("min", "max", "minimize", "maximize"):
            raise ValueError(f"objective {name!r}: sense {sense!r} is not 'min' or 'max'")
        out.append((name, s.startswith("max")))
    return out


def _number(v: Any) -> Optional[float]:
    if isinstance(v, bool) or v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def pareto(rows: Iterable[Mapping[str, Any]], objectives: Objectives) -> List[Dict[str, Any]]:
    """The non-dominated rows over ``objectives`` ({column: "min" | "max"}, or column names,
    minimized), in their input order. Rows whose ``status`` is not ``ok`` or that lack a
    number in an objective are left out (as ``plumsim pareto`` does); tied rows all stay."""
    senses = _senses(objectives)
    kept: List[Dict[str, Any]] = []
    values: List[List[float]] = []
    for r in rows:
        if r.get("status", "ok") != "ok":
            continue
        v = [_number(r.get(name)) for name, _ in senses]
        if any(x is None for x in v):
            continue
        kept.append(dict(r))
        values.append(v)  # type: ignore[arg-type]
    front = _plumsim.pareto_front(values, [m for _, m in senses])
    return [kept[i] for i in sorted(front)]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def plot(
    rows: Iterable[Mapping[str, Any]],
    x: str,
    y: str,
    out: PathLike,
    *,
    color_by: Optional[str] = None,
    pareto: Union[bool, Tuple[str, str]] = True,
    label: Optional[str] = None,
    title: Optional[str] = None,
    size: Tuple[int, int] = (960, 640),
    log_x: bool = False,
    log_y: bool = False,
    label_all: bool = False,
) -> int:
    """Scatter ``rows`` (sweep rows, say) with ``x`` and ``y`` and write ``out`` (.svg or
    .png), as ``plumsim plot`` does: ``pareto`` draws the front (True: minimize both; or a
    pair of senses, e.g. ("min", "max")), ``color_by`` colours points by a column, ``label``
    labels the front's points (``label_all``: every point), ``log_x``/``log_y`` make an axis
    logarithmic (its values must be > 0). Energies and times are shown in the unit that suits
    them. Rows whose ``status`` is not ``ok`` are left out. Returns the number of points
    drawn."""
    rows = [r for r in rows if r.get("status", "ok") == "ok"]
    cols = columns(rows)
    headers = list(cols)
    cells = [[_cell(r.get(h)) for h in headers] for r in rows]
    senses: Optional[Tuple[bool, bool]]
    if pareto is True:
        senses = (False, False)
    elif pareto is False or pareto is None:
        senses = None
    else:
        s = _senses([(x, pareto[0]), (y, pareto[1])])
        senses = (s[0][1], s[1][1])
    return _plumsim.plot_scatter(
        headers,
        cells,
        x,
        y,
        os.fspath(out),
        color_by,
        senses,
        label,
        title,
        tuple(size),
        log_x,
        log_y,
        label_all,
    )
