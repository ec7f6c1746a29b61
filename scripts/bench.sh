#!/usr/bin/env bash
# Print the README's performance table: each job run RUNS times (default 5) on the release
# binary, the median wall time and the largest peak resident memory, on this machine (named in
# the first lines). Run it on an otherwise idle machine: wall time is what is measured.
#
#   scripts/bench.sh            # every job
#   RUNS=3 scripts/bench.sh     # fewer repetitions
#   LARGE_RUNS=1 scripts/bench.sh   # the Llama-2-7B decode steps once each (default 3)
#
# Jobs that need ../shared (SCALE-Sim's ResNet-18 topology, the CIFAR-10 images) are skipped
# with a note when it is absent. The criterion benchmarks (`cargo bench`) measure the same
# jobs inside the process; this script measures the commands a user types.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
SHARED="$(cd .. && pwd)/shared"
cargo build --release --quiet
BIN="$PWD/target/release/plumsim"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "machine: $(nproc) cores, ${cpu:-unknown CPU}, $(uname -sm), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
echo "plumsim $("$BIN" --version | cut -d' ' -f2), $(git rev-parse --short HEAD 2>/dev/null || echo 'no git'), median of $RUNS runs (the Llama-2-7B steps: ${LARGE_RUNS:-3})"
echo
echo "| job | wall (median) | peak memory | target |"
echo "|---|---|---|---|"

# One job: its label, its target, then the command. Each run writes into a fresh folder.
job() {
    local label="$1" target="$2"
    shift 2
    local walls=() peak=0
    for i in $(seq "$RUNS"); do
        rm -rf "$TMP/out"
        # Wall time from the shell's microsecond clock (GNU time prints only 10 ms steps),
        # peak resident memory from GNU time.
        local t0="$EPOCHREALTIME"
        /usr/bin/time -f "%M" -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err" || {
            echo "| $label | failed: $(tail -1 "$TMP/err") | | $target |"
            return
        }
        local t1="$EPOCHREALTIME"
        walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
        local rss
        rss="$(tail -1 "$TMP/time")"
        ((rss > peak)) && peak="$rss"
    done
    local median
    median="$(printf '%s\n' "${walls[@]}" | sort -g | awk '{v[NR] = $1} END {
        m = v[int((NR + 1) / 2)]
        if (m < 1) printf "%.1f ms", m * 1000; else printf "%.2f s", m }')"
    printf '| %s | %s | %s MiB | %s |\n' "$label" "$median" "$((peak / 1024))" "$target"
}

job '`plumsim run arch/swis_pe16.toml workloads/resnet18.json`' '< 0.15 s, < 40 MiB' \
    "$BIN" run arch/swis_pe16.toml workloads/resnet18.json --out "$TMP/out"

topology="$SHARED/reference/scalesim/resnet18_ws_16x16/topology.csv"
if [[ -f "$topology" ]]; then
    job "SCALE-Sim's ResNet-18 on \`arch/dense_ws16.toml\` (its topology CSV)" '< 10 ms' \
        "$BIN" run arch/dense_ws16.toml "$topology" --out "$TMP/out" -q
else
    echo "| SCALE-Sim's ResNet-18 | skipped: $topology is absent | | |"
fi

# Zero-activation skipping on the dense array: the shipped design with the option turned on.
sed 's/^clock_gating = true.*/&\nskip_zero_activations = true/' arch/dense_ws16.toml >"$TMP/dense_ws16_skip.toml"
job 'zero-activation skipping, `dense_ws16` on ResNet-18' '< 1 s, < 100 MiB' \
    "$BIN" run "$TMP/dense_ws16_skip.toml" workloads/resnet18.json --out "$TMP/out" -q

job '`plumsim sweep scripts/sweeps/bench_1000.toml` (1,000 points)' '< 4 s' \
    "$BIN" sweep scripts/sweeps/bench_1000.toml --out "$TMP/out/sweep.csv" -q

if [[ -d "$SHARED/images/cifar10" ]]; then
    job '`plumsim run arch/dense_pe16.toml workloads/resnet20_cifar10.json --inputs` (20 CIFAR-10 images)' '-' \
        "$BIN" run arch/dense_pe16.toml workloads/resnet20_cifar10.json \
        --inputs "$SHARED/images/cifar10" --out "$TMP/out" -q
fi

job '`plumsim reproduce` (everything in `results/`)' '< 5 s, < 500 MB' \
    "$BIN" reproduce --out "$TMP/out" -q

job '`plumsim run arch/ternary_absmean_pe16.toml workloads/bert_base_s128.json`' '< 2 s' \
    "$BIN" run arch/ternary_absmean_pe16.toml workloads/bert_base_s128.json --out "$TMP/out" -q

# A minute each: fewer repetitions.
RUNS="${LARGE_RUNS:-3}"
job '`plumsim run arch/ternary_absmean_pe16.toml workloads/llama2_7b_decode_ctx2048.json`' '< 60 s, < 2 GiB' \
    "$BIN" run arch/ternary_absmean_pe16.toml workloads/llama2_7b_decode_ctx2048.json --out "$TMP/out" -q
job '`plumsim run arch/swis_pe16.toml workloads/llama2_7b_decode_ctx2048.json`' '< 120 s' \
    "$BIN" run arch/swis_pe16.toml workloads/llama2_7b_decode_ctx2048.json --out "$TMP/out" -q
