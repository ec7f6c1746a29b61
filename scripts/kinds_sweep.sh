#!/usr/bin/env bash
# PE kind (the *_pe16 family) x array size on ResNet-18 and MobileNetV2.
# Writes results/sweeps/kinds.csv, its Pareto front per workload and one plot per workload.
# Extra arguments go to `plumsim sweep` (e.g. --jobs 8, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
plumsim=target/release/plumsim
[ -n "${CARGO_TARGET_DIR:-}" ] && plumsim="$CARGO_TARGET_DIR/release/plumsim"

mkdir -p results/sweeps
"$plumsim" sweep scripts/sweeps/kinds.toml --out results/sweeps/kinds.csv "$@" > results/sweeps/kinds_front.csv
for w in resnet18 mobilenet_v2; do
  case "$w" in resnet18) name="ResNet-18" ;; mobilenet_v2) name="MobileNetV2" ;; esac
  for ext in svg png; do
    "$plumsim" plot results/sweeps/kinds.csv --where "workload=$w" --x latency_us --y energy_pj \
      --color-by pe_kind --pareto --label pe_kind --title "$name: energy vs latency, PE kind x array size" \
      --out "results/sweeps/kinds_${w}.$ext"
  done
done
echo "front: results/sweeps/kinds_front.csv; plots: results/sweeps/kinds_*.svg|png"
