#!/usr/bin/env bash
# Integration test of the sharded statistics on Slurm (examples/slurm), part of `make test`:
#   1. writes 48 inputs: the committed photos plus 45 crops/mirrors of them (make_inputs.py, stdlib only);
#   2. one `vitlens stats` over all of them with the tiny fixture model (the reference);
#   3. the same inputs through examples/slurm/submit.sh: a job array of VITLENS_SLURM_SHARDS tasks
#      (stats.sbatch, `--shard I/N`) and a merge job chained with --dependency=afterok, on a real
#      single-node Slurm started by setup_cluster.sh; waits for the merge (squeue/scontrol, timeout);
#   4. compare.py: the same .npy files, every value within 1e-6 relative, the same image count;
#   5. examples/kubernetes/stats-indexed-job.yaml: its structure, then its pods' shell commands played
#      locally (check_k8s_yaml.py; needs python3's yaml module, skipped without it) and compared the same way.
# Without a usable Slurm (no root, the daemons do not start) it runs the same sbatch scripts with the
# array environment (SLURM_ARRAY_TASK_ID, ...) set by hand, and says so.
#   VITLENS_BIN            the binary to test (default .build/debug/vitlens)
#   VITLENS_SLURM          auto (default: real Slurm if it starts, else by hand), real (fail without it), manual
#   VITLENS_SLURM_SHARDS   array tasks (default 5; 48 inputs do not split evenly on purpose)
#   VITLENS_SLURM_TIMEOUT  seconds to wait for the jobs (default 150)
#   VITLENS_SLURM_KEEP=1   keep the work folder (kept anyway when the test fails)
# Exit 0 when the merged result equals the single run, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
bin=${VITLENS_BIN:-.build/debug/vitlens}
mode=${VITLENS_SLURM:-auto}
shards=${VITLENS_SLURM_SHARDS:-5}
timeout=${VITLENS_SLURM_TIMEOUT:-150}
model=$root/Tests/Fixtures/models/dinov2-reg
started=$SECONDS

fail() { echo "slurm test: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "$bin not found; build it first (swift build) or set VITLENS_BIN"
command -v python3 >/dev/null || fail "python3 is needed for make_inputs.py and compare.py"
case "$mode" in auto|real|manual) ;; *) fail "VITLENS_SLURM must be auto, real or manual, got '$mode'" ;; esac
case "$shards" in ''|*[!0-9]*|0) fail "VITLENS_SLURM_SHARDS must be a positive whole number, got '$shards'" ;; esac
export VITLENS
VITLENS=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/vitlens-slurm.XXXXXX")
cluster=""
finish() {
  local status=$?
  if [ -n "$cluster" ]; then bash tests/slurm/setup_cluster.sh stop "$cluster" || true; fi
  if [ "$status" -eq 0 ] && [ "${VITLENS_SLURM_KEEP:-0}" != 1 ]; then
    rm -rf "$work"
  else
    echo "slurm test: work folder kept: $work" >&2
  fi
  exit "$status"
}
trap finish EXIT

echo "== slurm test: inputs"
count=$(python3 tests/slurm/make_inputs.py photos "$work/inputs")
[ "$count" -ge 40 ] || fail "only $count inputs; the test wants at least 40"
echo "$count images in $work/inputs"

echo "== slurm test: single run"
single_start=$SECONDS
"$VITLENS" stats "$work/inputs" --model "$model" --out "$work/single" --threads 1 --quiet \
  || fail "the single vitlens stats run failed"
echo "single run: $((SECONDS - single_start)) s"

run_by_hand() {
  echo "path: array environment set by hand ($shards tasks, 2 at a time), then the merge script"
  local i pids=()
  mkdir -p "$work/sharded/logs"
  for ((i = 0; i < shards; i++)); do
    SLURM_ARRAY_JOB_ID=manual SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_COUNT=$shards \
      SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=$((shards - 1)) SLURM_CPUS_PER_TASK=1 \
      bash examples/slurm/stats.sbatch "$model" "$work/sharded" "$work/inputs" \
      >"$work/sharded/logs/stats-manual_$i.out" 2>&1 &
    pids+=($!)
    if [ "${#pids[@]}" -ge 2 ]; then
      wait "${pids[0]}" || { cat "$work/sharded/logs/stats-manual_$((i - 1)).out" >&2; fail "a shard failed"; }
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || { cat "$work"/sharded/logs/stats-manual_*.out >&2; fail "a shard failed"; }; done
  bash examples/slurm/merge.sbatch "$work/sharded" "$shards" >"$work/sharded/logs/merge-manual.out" 2>&1 \
    || { cat "$work/sharded/logs/merge-manual.out" >&2; fail "the merge failed"; }
}

job_state() { scontrol show job "$1" 2>/dev/null | sed -nE 's/.*JobState=([A-Z_]+).*/\1/p' | head -1; }

run_on_slurm() {
  echo "path: real Slurm ($(sinfo --version)), array of $shards tasks + merge with --dependency=afterok"
  local submitted array merge deadline state
  submitted=$(bash examples/slurm/submit.sh -n "$shards" "$model" "$work/sharded" "$work/inputs")
  echo "$submitted"
  array=$(echo "$submitted" | sed -nE 's/^array job ([0-9]+)$/\1/p')
  merge=$(echo "$submitted" | sed -nE 's/^merge job ([0-9]+)$/\1/p')
  [ -n "$array" ] && [ -n "$merge" ] || fail "submit.sh printed no job ids"
  deadline=$((SECONDS + timeout))
  while [ -n "$(squeue -h -j "$array,$merge" -o %i 2>/dev/null)" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { squeue >&2; scancel "$array" "$merge" || true; fail "jobs still queued or running after $timeout s"; }
    sleep 1
  done
  # Every task of the array and the merge must have COMPLETED (scontrol keeps finished jobs MinJobAge s).
  local failed_tasks
  failed_tasks=$(scontrol show job "$array" 2>/dev/null | sed -nE 's/.*JobState=([A-Z_]+).*/\1/p' | grep -vc '^COMPLETED$' || true)
  state=$(job_state "$merge")
  if [ "$failed_tasks" != 0 ] || [ "$state" != COMPLETED ]; then
    tail -n 20 "$work"/sharded/logs/*.out >&2 || true
    fail "array job $array: $failed_tasks task(s) not COMPLETED; merge job $merge: ${state:-unknown}"
  fi
  echo "array job $array: $shards tasks COMPLETED; merge job $merge COMPLETED"
}

echo "== slurm test: sharded run"
sharded_start=$SECONDS
case "$mode" in
  manual) run_by_hand ;;
  real|auto)
    cluster=$work/cluster
    if bash tests/slurm/setup_cluster.sh start "$cluster"; then
      # shellcheck disable=SC1091
      . "$cluster/env.sh"
      run_on_slurm
    elif [ "$mode" = real ]; then
      fail "Slurm did not start (VITLENS_SLURM=real); logs in $cluster/log"
    else
      echo "Slurm did not start here (the reason is the line above); falling back to the scripts by hand"
      run_by_hand
    fi ;;
esac
echo "sharded run and merge: $((SECONDS - sharded_start)) s"

echo "== slurm test: compare the merge of $shards shards with the single run"
python3 tests/slurm/compare.py "$work/single" "$work/sharded/merged"

if python3 -c "import yaml" 2>/dev/null; then
  echo "== slurm test: examples/kubernetes/stats-indexed-job.yaml (no cluster here: its pods' commands played locally)"
  python3 tests/slurm/check_k8s_yaml.py examples/kubernetes/stats-indexed-job.yaml \
    --run "$VITLENS" "$work/inputs" "$model" "$work/k8s"
  python3 tests/slurm/compare.py "$work/single" "$work/k8s/data/out/merged"
else
  echo "== slurm test: python3 has no yaml module; the Kubernetes example's syntax is not checked"
fi
echo "slurm test: passed in $((SECONDS - started)) s"
