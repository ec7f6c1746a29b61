#!/usr/bin/env bash
# SWIS design space on ResNet-18: lanes (= group size G) x shared bits N x array shape.
# Writes results/sweeps/swis_gnl.csv, its Pareto front and plots. Extra arguments go to
# `plumsim sweep` (e.g. --jobs 8, --resume).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
plumsim=target/release/plumsim
[ -n "${CARGO_TARGET_DIR:-}" ] && plumsim="$CARGO_TARGET_DIR/release/plumsim"

mkdir -p results/sweeps
"$plumsim" sweep scripts/sweeps/swis_gnl.toml --out results/sweeps/swis_gnl.csv "$@" > results/sweeps/swis_gnl_front.csv
for ext in svg png; do
  "$plumsim" plot results/sweeps/swis_gnl.csv --x total_cycles --y energy_pj --color-by quant.shared_bits \
    --pareto --title "ResNet-18 on SWIS: energy vs cycles over groups, lanes and shared bits" \
    --out "results/sweeps/swis_gnl_energy_cycles.$ext"
done
"$plumsim" plot results/sweeps/swis_gnl.csv --x latency_us --y utilization_pct --maximize utilization_pct \
  --color-by quant.shared_bits --pareto --title "ResNet-18 on SWIS: utilization vs latency" \
  --out results/sweeps/swis_gnl_util_latency.svg
# Per-layer breakdown of the shipped design point for reference.
"$plumsim" run arch/swis_pe16.toml workloads/resnet18.json --out results/run/swis_pe16__resnet18 > /dev/null
"$plumsim" plot results/run/swis_pe16__resnet18/layers.csv --bars compute_cycles,sram_stall_cycles,memory_stall_cycles \
  --stack --title "ResNet-18 on swis_pe16: cycles per layer" --out results/sweeps/swis_pe16_resnet18_cycles.svg
"$plumsim" plot results/run/swis_pe16__resnet18/layers.csv --bars energy_pj \
  --title "ResNet-18 on swis_pe16: energy per layer" --out results/sweeps/swis_pe16_resnet18_energy.svg
echo "front: results/sweeps/swis_gnl_front.csv; plots: results/sweeps/swis_gnl_*.svg|png"
