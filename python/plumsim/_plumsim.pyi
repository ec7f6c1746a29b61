"""Type stubs of plumsim's native core (the Rust extension); see the package's docstrings."""

from os import PathLike
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

__version__: str

class InputError(Exception):
    """Bad input: the file, the place in it and what is wrong."""

    file: Optional[str]
    place: Optional[str]
    message: str
    problems: List[Tuple[str, str, Optional[str]]]

class UnsupportedError(InputError):
    """Valid input that plumsim does not model for this combination."""

class Arch:
    """A validated architecture."""

    @property
    def name(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def pe_kind(self) -> str: ...
    @property
    def changes(self) -> Dict[str, Any]: ...
    @property
    def area_mm2(self) -> float: ...
    def replace(self, fields: Dict[str, Any]) -> "Arch": ...
    def to_toml(self) -> str: ...
    def to_dict(self) -> Dict[str, Any]: ...

class Workload:
    """A validated workload."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def layers(self) -> List[str]: ...
    def __len__(self) -> int: ...

class SweepRun(Iterator[Dict[str, Any]]):
    def __iter__(self) -> "SweepRun": ...
    def __next__(self) -> Dict[str, Any]: ...

def arch_from_path(path: Union[str, "PathLike[str]"]) -> Arch: ...
def arch_from_toml(text: str, origin: str) -> Arch: ...
def arch_from_dict(fields: Dict[str, Any]) -> Arch: ...
def workload_from_path(
    path: Union[str, "PathLike[str]"], input_shapes: Optional[Dict[str, List[int]]] = None
) -> Workload: ...
def workload_from_json(text: str, origin: str, base: Optional[str] = None) -> Workload: ...
def run(
    arch: Arch,
    workload: Workload,
    weights: Optional[str] = None,
    inputs: Optional[str] = None,
    labels: Optional[str] = None,
    calibration: str = "max",
    threads: Optional[int] = None,
    stats: bool = False,
) -> Dict[str, Any]: ...
def compare_designs(
    designs: Sequence[Arch],
    workload: Workload,
    baseline: int = 0,
    weights: Optional[str] = None,
    area_budget_mm2: Optional[float] = None,
    threads: Optional[int] = None,
) -> Dict[str, Any]: ...
def sweep_start(
    points: Sequence[Tuple[Arch, Optional[Dict[str, Any]], Workload]],
    jobs: Optional[int] = None,
    first: int = 0,
) -> SweepRun: ...
def pareto_front(values: Sequence[Sequence[float]], maximize: Sequence[bool]) -> List[int]: ...
def plot_scatter(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    x: str,
    y: str,
    out: str,
    color_by: Optional[str] = None,
    pareto: Optional[Tuple[bool, bool]] = None,
    label: Optional[str] = None,
    title: Optional[str] = None,
    size: Tuple[int, int] = (960, 640),
    log_x: bool = False,
    log_y: bool = False,
    label_all: bool = False,
) -> int: ...
