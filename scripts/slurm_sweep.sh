#!/usr/bin/env bash
# Run a sweep as a Slurm array job, one shard per task, then merge the shards.
#
#   scripts/slurm_sweep.sh SPEC NAME SHARDS [sbatch options...]
#   e.g. scripts/slurm_sweep.sh scripts/sweeps/kinds.toml kinds 16 --partition=cpu --time=02:00:00
#
# Task I runs `plumsim sweep SPEC --shard I/SHARDS --resume --out results/sweeps/NAME/shard-I.csv`
# (--resume: a requeued or re-submitted task keeps the rows it already has). A dependent job
# then runs `plumsim merge results/sweeps/NAME.csv results/sweeps/NAME/shard-*.csv --spec SPEC`, which checks
# every point is present exactly once and writes the rows sorted: the same file as one
# unsharded `plumsim sweep SPEC`. Build first (`cargo build --release`) on a shared filesystem.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,13p' "$0"
  exit 2
fi
spec=$1 name=$2 shards=$3
shift 3
cd "$(dirname "$0")/.."
plumsim=${PLUMSIM:-$PWD/target/release/plumsim}
[ -x "$plumsim" ] || { echo "error: $plumsim not found (help: cargo build --release, or set PLUMSIM)" >&2; exit 2; }
mkdir -p "results/sweeps/$name" "results/sweeps/$name/logs"

array=$(sbatch --parsable --job-name="plumsim-$name" --array="0-$((shards - 1))" \
  --cpus-per-task="${CPUS:-4}" --output="results/sweeps/$name/logs/shard-%a.log" "$@" \
  --wrap="$plumsim sweep $spec --shard \${SLURM_ARRAY_TASK_ID}/$shards --resume --jobs \${SLURM_CPUS_PER_TASK} --out results/sweeps/$name/shard-\${SLURM_ARRAY_TASK_ID}.csv")
merge=$(sbatch --parsable --job-name="plumsim-$name-merge" --dependency="afterok:$array" \
  --output="results/sweeps/$name/logs/merge.log" "$@" \
  --wrap="$plumsim merge results/sweeps/$name.csv results/sweeps/$name/shard-*.csv --spec $spec")
echo "submitted array job $array ($shards shards) and merge job $merge; result: results/sweeps/$name.csv"
