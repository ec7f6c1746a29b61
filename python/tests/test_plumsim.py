"""The Python package against hand-computed cases, the CLI's own output and its invariants.

Run from the repository (the shipped arch/ and workloads/ are read): `pytest python/tests`.
The test that compares with the `plumsim` command needs its binary (release or debug, under
CARGO_TARGET_DIR or target/, or PLUMSIM_BIN); without it that test skips, except under CI=true, where it fails.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

import plumsim

REPO = Path(__file__).resolve().parents[2]
ARCH = REPO / "arch"
WORKLOADS = REPO / "workloads"

# A 2x2 weight-stationary dense array, 64 KiB buffers, ideal DRAM (tests/engine_dense.rs).
SMALL_ARCH = """name = "t"
[array]
rows = 2
cols = 2
dataflow = "ws"
[pe]
kind = "dense"
[buffers.input]
capacity_bytes = 65536
[buffers.weight]
capacity_bytes = 65536
[buffers.output]
capacity_bytes = 65536
[dram]
ideal = true
"""


def gemm(m, k, n, quant="{}"):
    return {
        "name": "g",
        "inputs": {"a": [m, k]},
        "defaults": {"quant": json.loads(quant)},
        "layers": [
            {"name": "mm", "op": "matmul", "inputs": ["a"], "output": "y", "out_features": n}
        ],
    }


def test_hand_computed_weight_stationary_gemm():
    # M=5, N=3, K=4 on 2x2: 2 row folds x 2 column folds, each 2R + C + T - 2 = 9 cycles.
    r = plumsim.run(plumsim.load_arch(SMALL_ARCH), plumsim.load_workload(gemm(5, 4, 3)))
    assert r.layers["layer"] == ["mm"]
    assert r.layers["folds"] == [4]
    assert r.layers["compute_cycles"] == [36]
    assert r.layers["macs"] == [60]
    assert r.layers["mapping_efficiency_pct"] == [75.0]
    assert r.summary["compute_cycles"] == 36
    assert r.summary["macs"] == 60
    assert r.summary["arch"] == "t" and r.summary["workload"] == "g"


def test_arch_sources_agree():
    path = ARCH / "swis_pe16.toml"
    from_path = plumsim.load_arch(path)
    from_text = plumsim.load_arch(path.read_text())
    from_dict = plumsim.load_arch(from_path.to_dict())
    shipped = plumsim.load_arch("swis_pe16.toml")
    assert from_path.name == from_text.name == from_dict.name == shipped.name == "swis_pe16"
    assert from_text.to_toml() == from_path.to_toml() == from_dict.to_toml()
    assert from_path.pe_kind == "swis"
    assert from_path.area_mm2 > 0


def test_replace_sets_fields_by_path_and_keeps_the_original():
    a = plumsim.load_arch(ARCH / "swis_pe16.toml")
    b = a.replace({"pe.lanes": 8, "quant.group_size": 8, "array.rows": 32})
    assert b.changes == {"pe.lanes": 8, "quant.group_size": 8, "array.rows": 32}
    assert b.to_dict()["array"]["rows"] == 32 and b.to_dict()["pe"]["lanes"] == 8
    assert a.to_dict()["array"]["rows"] == 16 and a.changes == {}
    # A larger array: more PEs, more area, fewer cycles on ResNet-18's big layers.
    assert b.area_mm2 > a.area_mm2
    c = b.replace({"array.rows": 16})
    assert c.changes == {"pe.lanes": 8, "quant.group_size": 8, "array.rows": 16}


def test_replace_names_the_bad_field():
    a = plumsim.load_arch(ARCH / "swis_pe16.toml")
    with pytest.raises(plumsim.InputError) as e:
        a.replace({"array.rows": 0})
    assert e.value.file == str(ARCH / "swis_pe16.toml")
    assert e.value.place == "array.rows"
    assert "out of range" in e.value.message
    assert "array.rows" in str(e.value)
    with pytest.raises(plumsim.InputError) as e:
        a.replace({"pe.lanez": 3})
    assert e.value.place == "pe.lanez"
    assert "unknown field `lanez`" in e.value.message
    with pytest.raises(plumsim.InputError) as e:
        a.replace({"array.rows": "many"})
    assert e.value.place == "array.rows"
    with pytest.raises(plumsim.InputError) as e:
        a.replace({"name.first": 1})
    assert e.value.place == "name.first"


def test_bad_files_raise_input_error_with_file_and_line():
    with pytest.raises(plumsim.InputError) as e:
        plumsim.load_arch("[array]\nrows = \n")
    assert e.value.file == "<string>"
    assert e.value.place.startswith("line 2")
    with pytest.raises(plumsim.InputError) as e:
        plumsim.load_workload('{"name": "x",\n "layers": [}')
    assert e.value.file == "<string>" and e.value.place.startswith("line 2")
    with pytest.raises(plumsim.InputError) as e:
        plumsim.load_arch(REPO / "no" / "such.toml")
    assert e.value.file.endswith("such.toml")
    with pytest.raises(plumsim.InputError) as e:
        plumsim.load_workload(ARCH / "swis_pe16.toml")
    assert "not a workload" in str(e.value)
    with pytest.raises(plumsim.InputError) as e:
        plumsim.run(SMALL_ARCH, gemm(5, 4, 3), threads=0)
    assert e.value.place == "threads"


def test_unsupported_combination_raises_unsupported_error():
    # SWIS needs quant.group_size == pe.lanes: valid input, not modelled.
    a = plumsim.load_arch(ARCH / "swis_pe16.toml").replace({"quant.group_size": 4})
    with pytest.raises(plumsim.UnsupportedError) as e:
        plumsim.run(a, gemm(16, 64, 16))
    assert isinstance(e.value, plumsim.InputError)


def test_results_do_not_depend_on_threads():
    a = plumsim.load_arch(ARCH / "swis_pe16.toml")
    w = plumsim.load_workload(WORKLOADS / "resnet18.json")
    one = plumsim.run(a, w, threads=1)
    two = plumsim.run(a, w, threads=2)
    assert one.summary == two.summary
    assert one.layers == two.layers


def test_layers_sum_to_the_summary():
    r = plumsim.run("swis_pe16.toml", WORKLOADS / "resnet18.json")
    n = len(r.layers["layer"])
    assert n == 68 and all(len(c) == n for c in r.layers.values())
    assert sum(r.layers["total_cycles"]) == r.summary["total_cycles"]
    assert sum(r.layers["macs"]) == r.summary["macs"]
    assert sum(r.layers["energy_pj"]) == pytest.approx(r.summary["energy_pj"], rel=1e-9)
    assert r.summary["latency_us"] == pytest.approx(
        r.summary["total_cycles"] / r.summary["clock_mhz"]
    )


def plumsim_binary():
    given = os.environ.get("PLUMSIM_BIN")
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if not target.is_absolute():
        target = REPO / target
    for p in [given, target / "release" / "plumsim", target / "debug" / "plumsim"]:
        if p and Path(p).is_file():
            return Path(p)
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true: the plumsim binary is needed (cargo build --release)")
    pytest.skip("needs the plumsim binary: cargo build --release, or set PLUMSIM_BIN")


def test_run_writes_what_the_cli_writes(tmp_path):
    binary = plumsim_binary()
    arch, wl = ARCH / "ternary_pe16.toml", WORKLOADS / "resnet20_cifar10.json"
    cli = tmp_path / "cli"
    subprocess.run(
        [binary, "run", arch, wl, "--out", cli, "--format", "json"],
        check=True,
        capture_output=True,
    )
    py = plumsim.run(arch, wl).save(tmp_path / "py")
    for name in ("layers.csv", "summary.json"):
        assert (py / name).read_bytes() == (cli / name).read_bytes(), name


def test_compare_baseline_and_ratios():
    w = plumsim.load_workload(WORKLOADS / "resnet20_cifar10.json")
    designs = ["dense_pe16.toml", "ternary_pe16.toml", "signed_binary_pe16.toml"]
    c = plumsim.compare(designs, w)
    assert [r["design"] for r in c.rows] == ["dense_pe16", "ternary_pe16", "signed_binary_pe16"]
    base = c.rows[0]
    assert base["speedup_vs_baseline"] == 1.0 and base["energy_ratio_vs_baseline"] == 1.0
    for r in c.rows:
        assert r["speedup_vs_baseline"] == pytest.approx(
            base["total_cycles"] / r["total_cycles"], rel=1e-5
        )
    assert "signed_binary_pe16" in c.markdown
    assert c.columns["design"] == [r["design"] for r in c.rows]
    # A baseline outside the list is run but not shown.
    d = plumsim.compare(designs[1:], w, baseline="dense_pe16.toml")
    assert [r["design"] for r in d.rows] == ["ternary_pe16", "signed_binary_pe16"]
    assert d.rows[0]["speedup_vs_baseline"] == c.rows[1]["speedup_vs_baseline"]


def swis_points(base):
    for n in (2, 3):
        for lanes in (4, 8):
            yield base.replace(
                {"quant.shared_bits": n, "pe.lanes": lanes, "quant.group_size": lanes}
            )


def test_sweep_rows_equal_single_runs_in_order():
    base = plumsim.load_arch(ARCH / "swis_pe16.toml")
    w = plumsim.load_workload(WORKLOADS / "resnet20_cifar10.json")
    points = list(swis_points(base)) + [base.replace({"quant.group_size": 4})]
    rows = list(plumsim.sweep(iter(points), workload=w, jobs=2, window=2))
    assert [r["point"] for r in rows] == [0, 1, 2, 3, 4]
    assert [r["status"] for r in rows] == ["ok"] * 4 + ["unsupported"]
    assert rows[4]["total_cycles"] is None and "group_size" in rows[4]["error"]
    assert rows[1]["quant.shared_bits"] == 2 and rows[1]["pe.lanes"] == 8
    for p, r in zip(points[:4], rows[:4]):
        single = plumsim.run(p, w)
        assert r["total_cycles"] == single.summary["total_cycles"]
        assert r["energy_pj"] == single.summary["energy_pj"]
        assert r["workload"] == "resnet20_cifar10" and r["design"] == "swis_pe16"
    again = list(plumsim.sweep(points, workload=w, jobs=1))
    assert again == rows


def test_sweep_pairs_and_workload_paths():
    rows = list(
        plumsim.sweep(
            [
                ("dense_pe16.toml", WORKLOADS / "resnet20_cifar10.json"),
                ("dense_pe16.toml", gemm(5, 4, 3)),
            ]
        )
    )
    assert [r["workload"] for r in rows] == ["resnet20_cifar10", "g"]
    assert all(r["status"] == "ok" for r in rows)
    with pytest.raises(TypeError):
        list(plumsim.sweep(["dense_pe16.toml"]))


def test_pareto_by_hand():
    rows = [
        {"id": 0, "latency_us": 1.0, "energy_pj": 9.0},
        {"id": 1, "latency_us": 2.0, "energy_pj": 5.0},
        {"id": 2, "latency_us": 3.0, "energy_pj": 6.0},  # dominated by 1
        {"id": 3, "latency_us": 4.0, "energy_pj": 1.0},
        {"id": 4, "latency_us": 0.5, "energy_pj": 0.5, "status": "error"},  # left out
        {"id": 5, "latency_us": None, "energy_pj": 0.1},  # no number: left out
        {"id": 6, "latency_us": 2.0, "energy_pj": 5.0},  # tied with 1: kept
    ]
    front = plumsim.pareto(rows, {"latency_us": "min", "energy_pj": "min"})
    assert [r["id"] for r in front] == [0, 1, 3, 6]
    # One objective: row 5 needs no latency.
    assert [r["id"] for r in plumsim.pareto(rows, ["energy_pj"])] == [5]
    up = plumsim.pareto(rows, [("latency_us", "max"), ("energy_pj", "min")])
    assert [r["id"] for r in up] == [3]
    with pytest.raises(ValueError):
        plumsim.pareto(rows, {"latency_us": "smallest"})


def test_plot_writes_a_scatter(tmp_path):
    base = plumsim.load_arch(ARCH / "swis_pe16.toml")
    w = plumsim.load_workload(WORKLOADS / "resnet20_cifar10.json")
    rows = list(plumsim.sweep(swis_points(base), workload=w))
    out = tmp_path / "front.svg"
    drawn = plumsim.plot(rows, "latency_us", "energy_pj", out, color_by="pe.lanes")
    assert drawn == 4
    svg = out.read_text()
    assert svg.startswith("<svg") and svg.count("<circle") >= 4
    with pytest.raises(plumsim.InputError) as e:
        plumsim.plot(rows, "latency_us", "no_such_column", tmp_path / "x.svg")
    assert "no_such_column" in str(e.value)
    assert not (tmp_path / "x.svg").exists()


def test_data_frames_when_installed():
    pd = pytest.importorskip("pandas")
    r = plumsim.run(SMALL_ARCH, gemm(5, 4, 3))
    df = r.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df["compute_cycles"]) == [36]


def test_sweep_of_fields_reports_invalid_points_as_rows():
    base = plumsim.load_arch(ARCH / "dense_pe16.toml")
    w = plumsim.load_workload(WORKLOADS / "resnet20_cifar10.json")
    rows = list(
        plumsim.sweep(
            [{"array.rows": 8}, {"array.rows": 0}, {"array.cols": 8}], workload=w, base=base
        )
    )
    assert [r["status"] for r in rows] == ["ok", "invalid", "ok"]
    assert "array.rows" in rows[1]["error"] and rows[1]["energy_pj"] is None
    assert rows[0]["array.rows"] == 8 and rows[2]["array.cols"] == 8
    same = plumsim.run(base.replace({"array.rows": 8}), w)
    assert rows[0]["total_cycles"] == same.summary["total_cycles"]
    with pytest.raises(TypeError):
        list(plumsim.sweep([{"array.rows": 8}], workload=w))
    with pytest.raises(plumsim.InputError) as e:
        list(plumsim.sweep([{"name.x": 1}], workload=w, base=base))
    assert e.value.place == "name.x"


def test_the_swis_study_reproduces_its_committed_results(tmp_path):
    import sys

    subprocess.run(
        [sys.executable, REPO / "scripts" / "swis_study.py", "--out", tmp_path, "--jobs", "2"],
        check=True,
        capture_output=True,
    )
    for name in ("swis_study.csv", "swis_study_front.csv"):
        committed = REPO / "results" / "python" / name
        assert (tmp_path / name).read_bytes() == committed.read_bytes(), (
            f"results/python/{name} differs from what the code produces: "
            "run python3 scripts/swis_study.py"
        )
    assert (tmp_path / "swis_study_front.png").stat().st_size > 0
