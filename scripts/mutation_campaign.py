#!/usr/bin/env python3
"""A longer hostile-input campaign than CI's (issue 13, point 6).

Runs the mutators of tests/hostile.rs with more seeds and N times the mutants against the
release binary, and reports, per input kind, the mutants and commands run and the findings:
panics (exit 101), signals (aborts, e.g. a failed allocation under the test's memory limit),
hangs (no answer within 10 s), exit 1 (internal errors on bad input), other exit codes,
messages that name no file or no place, files left after a failure, temp files, files written
outside the result path, and wrong numbers (NaN/inf/null, saturated counts, totals that do not
add up, MACs that differ from the exact arithmetic). Each distinct finding comes with its
first reproducer (the mutation, the command, the first lines of stderr); with --keep the
mutant's files are saved beside it.

  scripts/mutation_campaign.py                    # seeds 1..5, 10x the mutants
  scripts/mutation_campaign.py --seeds 20 --scale 4 --keep /tmp/hostile
  scripts/mutation_campaign.py --only npy,safetensors --json report.json

Exit status: 0 when nothing was found, 1 otherwise, 2 on a usage or build problem. Uses only
the Python standard library and cargo.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Test functions of tests/hostile.rs that run mutants, by kind.
KINDS = {
    "arch": "mutated_architectures",
    "workload": "mutated_workloads",
    "conv": "generated_convolutions_have_exact_macs",
    "npy": "mutated_npy_files",
    "npz": "mutated_npz_files",
    "safetensors": "mutated_safetensors_files",
    "scalesim": "mutated_scalesim_inputs",
    "sweep": "mutated_sweep_specs",
    "results": "mutated_results_files",
    "resume": "mutated_sweep_partial_files_on_resume",
    "reference": "mutated_designs_on_the_reference_engine",
}

# Report columns: finding kinds as tests/hostile.rs names them.
COLUMNS = [
    ("panic", "panics"),
    ("signal", "signals"),
    ("hang", "hangs"),
    ("exit-1", "exit 1"),
    ("exit-other", "other exit"),
    ("wrong-number", "wrong numbers"),
    ("accepted-invalid", "accepted invalid"),
    ("files-left", "files left"),
    ("temp-left", "temp files"),
    ("escaped", "escaped"),
    ("import-wrote-invalid", "import invalid"),
    ("message-names-no-file", "no file named"),
    ("message-names-no-place", "no place named"),
]


def build(release):
    """Build the release binary (unless another is given) and the test executable; return the
    test executable's path."""
    if release:
        subprocess.run(["cargo", "build", "--release", "--bin", "plumsim"], cwd=ROOT, check=True)
    out = subprocess.run(
        ["cargo", "test", "--test", "hostile", "--no-run", "--message-format=json"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout
    exe = None
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "hostile":
            exe = msg.get("executable") or exe
    if not exe:
        sys.exit("mutation_campaign: cannot find the test executable of tests/hostile.rs")
    return exe


def run_seed(exe, binary, seed, scale, kinds, keep, jobs):
    env = dict(os.environ)
    env.update(
        PLUMSIM_HOSTILE_SEED=str(seed),
        PLUMSIM_HOSTILE_SCALE=str(scale),
        PLUMSIM_BIN=binary,
        RUST_BACKTRACE="0",
    )
    if keep:
        env["PLUMSIM_HOSTILE_KEEP"] = os.path.join(keep, f"seed-{seed}")
    args = [exe, "--exact", "--include-ignored", "--nocapture", f"--test-threads={jobs}"] + [KINDS[k] for k in kinds]
    p = subprocess.run(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    summaries = []
    for line in p.stdout.splitlines():
        if line.startswith("hostile-summary "):
            summaries.append(json.loads(line[len("hostile-summary "):]))
    missing = set(kinds) - {s["kind"] for s in summaries}
    if missing:
        print(p.stdout[-4000:], file=sys.stderr)
        sys.exit(f"mutation_campaign: seed {seed}: no summary from {sorted(missing)} (the test binary failed early)")
    return summaries


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--scale", type=int, default=10, help="times the CI mutant counts (default 10)")
    ap.add_argument("--only", default="", help="comma-separated kinds: " + ", ".join(KINDS))
    ap.add_argument("--keep", default="", help="save each distinct finding's files under this folder")
    ap.add_argument("--jobs", type=int, default=2, help="kinds run in parallel (default 2)")
    ap.add_argument("--binary", default="", help="plumsim binary, not rebuilt (default: target/release/plumsim, built first)")
    ap.add_argument("--json", default="", help="write the report as JSON to this file")
    a = ap.parse_args()
    kinds = [k for k in a.only.split(",") if k] or list(KINDS)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        ap.error(f"unknown kinds {bad}; allowed: {', '.join(KINDS)}")
    try:
        exe = build(not a.binary)
    except subprocess.CalledProcessError as e:
        print(f"mutation_campaign: build failed: {e}", file=sys.stderr)
        return 2
    binary = a.binary or os.path.join(ROOT, "target", "release", "plumsim")

    totals = defaultdict(lambda: defaultdict(int))
    distinct = {}  # signature -> (kind, seed, reproducer, count)
    start = time.time()
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        t0 = time.time()
        for s in run_seed(exe, binary, seed, a.scale, kinds, a.keep, a.jobs):
            t = totals[s["kind"]]
            t["mutants"] += s["mutants"]
            t["commands"] += s["commands"]
            for k, n in s["findings"].items():
                t[k] += n
            for d in s["distinct"]:
                key = (s["kind"], d["signature"])
                if key not in distinct:
                    distinct[key] = {"kind": s["kind"], "seed": seed, "signature": d["signature"], "reproducer": d["reproducer"]}
        print(f"seed {seed}: {time.time() - t0:.0f} s", file=sys.stderr)

    header = ["kind", "mutants", "commands"] + [c[1] for c in COLUMNS]
    rows = []
    for k in kinds:
        t = totals[k]
        rows.append([k, t["mutants"], t["commands"]] + [t[c[0]] for c in COLUMNS])
    rows.append(["total"] + [sum(r[i] for r in rows) for i in range(1, len(header))])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print(f"\nhostile-input campaign: seeds {a.first_seed}..{a.first_seed + a.seeds - 1}, scale {a.scale}, {time.time() - start:.0f} s, binary {binary}\n")
    for r in [header] + rows:
        print("  ".join(str(x).rjust(w) for x, w in zip(r, widths)))
    print(f"\n{len(distinct)} distinct findings")
    for d in distinct.values():
        print(f"\n[{d['kind']}, seed {d['seed']}] {d['signature']}\n{d['reproducer']}", end="")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"seeds": [a.first_seed, a.first_seed + a.seeds - 1], "scale": a.scale,
                       "totals": {k: dict(v) for k, v in totals.items()},
                       "distinct": list(distinct.values())}, f, indent=2)
    return 1 if distinct else 0


if __name__ == "__main__":
    sys.exit(main())
