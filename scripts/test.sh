#!/usr/bin/env bash
# Every test: the Rust suite (`cargo test`), then the Python package's: the package is built
# into a virtual environment (pip fetches maturin, the build tool, from PyPI) and tested with
# pytest. The environment lives in target/python-venv (PLUMSIM_VENV overrides it).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test
venv="${PLUMSIM_VENV:-target/python-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check pytest ./python
"$venv/bin/python" -m pytest -q python/tests
