#!/usr/bin/env bash
# Regenerate the shipped transformer workloads from the published configs in
# workloads/configs/ with `plumsim import transformer` (see workloads/README.md,
# "Transformers"). tests/transformers.rs checks that the committed files equal this output.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
plumsim=target/release/plumsim
[ -n "${CARGO_TARGET_DIR:-}" ] && plumsim="$CARGO_TARGET_DIR/release/plumsim"

c=workloads/configs
"$plumsim" import transformer "$c/bert_base_uncased.json" --prefill 128 \
  --name bert_base_s128 --out workloads/bert_base_s128.json
"$plumsim" import transformer "$c/vit_base_patch16_224.json" \
  --name vit_b16 --out workloads/vit_b16.json
"$plumsim" import transformer "$c/llama2_7b.json" --prefill 512 \
  --name llama2_7b_prefill_s512 --out workloads/llama2_7b_prefill_s512.json
"$plumsim" import transformer "$c/llama2_7b.json" --decode 2048 \
  --name llama2_7b_decode_ctx2048 --out workloads/llama2_7b_decode_ctx2048.json
"$plumsim" import transformer "$c/bitnet_b1_58_2b4t.json" --decode 2048 \
  --name bitnet_2b4t_decode_ctx2048 --out workloads/bitnet_2b4t_decode_ctx2048.json
