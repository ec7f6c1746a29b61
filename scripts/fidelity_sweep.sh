#!/usr/bin/env bash
# SWIS on the trained ResNet-20 with the 20 real CIFAR-10 images: lanes (= G) x N x array
# size, each row with its fidelity against fp32. Writes results/sweeps/resnet20_swis_fidelity.csv,
# its energy-vs-SQNR Pareto front and plot. Needs ../shared beside the checkout. Extra
# arguments go to `plumsim sweep`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
plumsim=target/release/plumsim
[ -n "${CARGO_TARGET_DIR:-}" ] && plumsim="$CARGO_TARGET_DIR/release/plumsim"

mkdir -p results/sweeps
"$plumsim" sweep scripts/sweeps/swis_fidelity.toml --out results/sweeps/resnet20_swis_fidelity.csv "$@" \
  > results/sweeps/resnet20_swis_fidelity_front.csv
"$plumsim" plot results/sweeps/resnet20_swis_fidelity.csv --x logit_sqnr_db --y energy_pj --maximize logit_sqnr_db \
  --color-by quant.shared_bits --pareto --title "ResNet-20 (CIFAR-10) on SWIS: energy vs logit SQNR" \
  --out results/sweeps/resnet20_swis_fidelity_energy_sqnr.svg
"$plumsim" plot results/sweeps/resnet20_swis_fidelity.csv --x logit_sqnr_db --y energy_pj --maximize logit_sqnr_db \
  --color-by quant.shared_bits --pareto --title "ResNet-20 (CIFAR-10) on SWIS: energy vs logit SQNR" \
  --out results/sweeps/resnet20_swis_fidelity_energy_sqnr.png
echo "front: results/sweeps/resnet20_swis_fidelity_front.csv; plots: results/sweeps/resnet20_swis_fidelity_*"
