#!/usr/bin/env bash
# Regenerate every table and plot in results/ (see results/README.md). About 9 s after the
# release build. The trained ResNet-20 parts need ../shared/weights beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release --quiet -- reproduce --out results "$@"
