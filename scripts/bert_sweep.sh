#!/usr/bin/env bash
# BERT-base (S = 128) on the int8, absmean ternary, signed binary, SWIS and bit-serial PEs by
# array size and DRAM bandwidth (scripts/sweeps/bert_kinds.toml), its Pareto front and a plot.
# tests/reproduce.rs checks the committed CSVs against what this produces.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
plumsim=target/release/plumsim
[ -n "${CARGO_TARGET_DIR:-}" ] && plumsim="$CARGO_TARGET_DIR/release/plumsim"
mkdir -p results/sweeps
"$plumsim" sweep scripts/sweeps/bert_kinds.toml --out results/sweeps/bert_kinds.csv "$@" > results/sweeps/bert_kinds_front.csv
for ext in svg png; do
  "$plumsim" plot results/sweeps/bert_kinds.csv --x latency_us --y energy_pj --color-by pe_kind --pareto \
    --label pe_kind --title "BERT-base (sequence 128): energy vs latency, PE kind x array size x DRAM bandwidth" \
    --out "results/sweeps/bert_kinds.$ext"
done
echo "front: results/sweeps/bert_kinds_front.csv; plots: results/sweeps/bert_kinds.svg|png"
