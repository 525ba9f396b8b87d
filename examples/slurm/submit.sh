#!/usr/bin/env bash
# Submits the sharded `vitlens stats` run: a job array of N tasks (stats.sbatch) and a merge job
# (merge.sbatch) that starts only when every task has succeeded (--dependency=afterok).
#   bash submit.sh [-n N] [--sbatch-args "ARGS"] MODEL OUT INPUTS...
#   -n N              shards and array tasks (default 8)
#   --sbatch-args A   more sbatch options for both jobs, e.g. "--partition=cpu --time=02:00:00"
# Prints "array job ID" and "merge job ID"; the merged statistics land in OUT/merged, the shards in
# OUT/shard-I, the job logs in OUT/logs. INPUTS are passed as given, so relative paths must resolve
# in the jobs' working folder (sbatch uses the folder you submit from).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shards=8
extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    -n) [ $# -ge 2 ] || { echo "submit.sh: -n needs a number" >&2; exit 2; }; shards=$2; shift 2 ;;
    --sbatch-args) [ $# -ge 2 ] || { echo "submit.sh: --sbatch-args needs a value" >&2; exit 2; }; extra=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "submit.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ $# -lt 3 ]; then
  echo "usage: submit.sh [-n N] [--sbatch-args \"ARGS\"] MODEL OUT INPUTS..." >&2
  exit 2
fi
case "$shards" in ''|*[!0-9]*|0) echo "submit.sh: -n must be a positive whole number, got '$shards'" >&2; exit 2 ;; esac
model=$1
out=$2
shift 2
mkdir -p "$out/logs"

# shellcheck disable=SC2086  # $extra is a list of sbatch options, split on purpose
array=$(sbatch --parsable $extra --array="0-$((shards - 1))" --output="$out/logs/stats-%A_%a.out" \
  "$here/stats.sbatch" "$model" "$out" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable $extra --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$out/logs/merge-%j.out" "$here/merge.sbatch" "$out" "$shards")
merge=${merge%%;*}
echo "array job $array"
echo "merge job $merge"
