#!/usr/bin/env python3
"""A design-space study from Python: SWIS shared bits N x group size x array size on ResNet-18.

Builds every design from arch/swis_pe16.toml with `Arch.replace`, runs them in parallel in
Rust (`plumsim.sweep`), keeps the energy/latency Pareto front (`plumsim.pareto`) and plots it
(`plumsim.plot`). Writes results/python/swis_study.csv, swis_study_front.csv and
swis_study_front.png|svg. Needs the package: `pip install ./python`.

    python3 scripts/swis_study.py [--jobs N] [--out DIR]
"""

import argparse
import csv
import itertools
from pathlib import Path

import plumsim

REPO = Path(__file__).resolve().parents[1]


def designs(base):
    """SWIS with N shared bit positions per group, groups of `group` weights on as many
    lanes, on a square array of `edge` x `edge` PEs whose buffers grow with the array (the
    base's capacity per PE), so that every design holds its double-buffered tiles."""
    buffers = base.to_dict()["buffers"]
    pes = base.to_dict()["array"]["rows"] * base.to_dict()["array"]["cols"]
    for n, group, edge in itertools.product((2, 3, 4), (4, 8, 16), (8, 16, 32)):
        fields = {
            "quant.shared_bits": n,
            "quant.group_size": group,
            "pe.lanes": group,
            "array.rows": edge,
            "array.cols": edge,
        }
        for b in ("input", "weight", "output"):
            fields[f"buffers.{b}.capacity_bytes"] = buffers[b]["capacity_bytes"] * edge * edge // pes
        yield fields


def write_csv(path, rows):
    cols = plumsim.columns(rows)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=None, help="worker threads (default: every core)")
    ap.add_argument("--out", type=Path, default=REPO / "results" / "python")
    args = ap.parse_args()

    base = plumsim.load_arch(REPO / "arch" / "swis_pe16.toml")
    net = plumsim.load_workload(REPO / "workloads" / "resnet18.json")
    rows = []
    for row in plumsim.sweep(designs(base), workload=net, base=base, jobs=args.jobs):
        rows.append(row)
        if row["status"] != "ok":
            print(f"point {row['point']}: {row['status']}: {row['error']}")
    front = plumsim.pareto(rows, {"latency_us": "min", "energy_pj": "min"})

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "swis_study.csv", rows)
    write_csv(args.out / "swis_study_front.csv", front)
    for ext in ("png", "svg"):
        plumsim.plot(
            rows,
            "latency_us",
            "energy_pj",
            args.out / f"swis_study_front.{ext}",
            color_by="quant.shared_bits",
            label="point",
            log_x=True,
            title="ResNet-18 on SWIS designs (N shared bits x group size x array): energy vs latency",
        )
    ok = sum(r["status"] == "ok" for r in rows)
    print(f"{ok} of {len(rows)} designs ran; the energy/latency front has {len(front)}:")
    for r in front:
        print(
            f"  point {r['point']:>2}: N={r['quant.shared_bits']} group={r['quant.group_size']} "
            f"array={r['array.rows']}x{r['array.cols']}: {r['latency_us'] / 1e3:.3f} ms, "
            f"{r['energy_pj'] / 1e9:.3f} mJ, {r['area_mm2']:.2f} mm^2"
        )
    print(f"wrote {args.out}/swis_study.csv, swis_study_front.csv, swis_study_front.png|svg")


if __name__ == "__main__":
    main()
