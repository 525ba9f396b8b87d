#!/usr/bin/env bash
# Benchmarks `vitlens explain` (forward + backward + Chefer relevance) beside the same in PyTorch
# autograd (eager attention, retain_grad on the returned attentions, weights frozen) on the same
# checkpoints and threads as scripts/bench.sh, alternating the engines so machine noise hits both.
#  1. ViT-B/16 at 224x224, class-logit target (top-1): time per explain, median of ROUNDS (>= 5), and
#     the ratio vitlens/pytorch; peak RSS of both processes (/usr/bin/time -f %M).
#  2. DINO ViT-S/8 at 480x480 (3,601 tokens), cosine target: peak RSS and time of vitlens with and
#     without --recompute, and of PyTorch (skipped with BENCH_SKIP_TORCH_DINO=1: it needs ~10 GB).
# ViTLens's time is explain.json's explain_seconds (the first pass in a fresh process, weights loaded,
# target resolution included); PyTorch's is its second pass in a fresh process (after one warm-up).
# Needs the release build and the bench checkpoints and venv that scripts/bench.sh makes (made here too
# when missing, by the same helper); BENCH_PYTHON overrides bench/.venv's python.
# Usage: make bench   (or: bash scripts/bench_explain.sh [ROUNDS])
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
threads=${BENCH_THREADS:-2}
bin=.build/release/vitlens
cache="${VITLENS_CACHE:-$HOME/.cache/vitlens}/bench"
venv=bench/.venv
[ -x "$bin" ] || { echo "bench_explain: build first (make bench)" >&2; exit 1; }
py=${BENCH_PYTHON:-$venv/bin/python}
if [ ! -x "$py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r tools/requirements-fixtures.txt
fi
mkdir -p "$cache"
for kind in vit-base dino-s8; do
  "$py" bench/pytorch_forward.py --model "$cache/$kind" "--make-$kind" --runs 1 --warmup 0 --no-plain >/dev/null 2>&1
done
field() { "$py" -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))" "$1" "$2"; }
median() { "$py" -c "import statistics,sys; print(round(statistics.median(float(v) for v in sys.argv[1:]), 1))" "$@"; }
rss=$(mktemp)
trap 'rm -f "$rss"' EXIT

# One vitlens explain; prints "ms peak_mb".
vitlens_explain() {
  local model=$1 size=$2 target=$3; shift 3
  /usr/bin/time -f %M -o "$rss" "$bin" explain photos/grace_hopper.jpg --model "$cache/$model" --size "$size" --target "$target" \
    --method chefer --threads "$threads" --out "$cache/explain-out" --quiet "$@"
  local s; s=$("$py" -c "import json; print(json.load(open('$cache/explain-out/explain.json'))['explain_seconds'])")
  echo "$(field "{\"s\": $s}" 'round(s * 1000, 1)') $(( $(tail -1 "$rss") / 1024 ))"
}
# One PyTorch process (one warm-up, one timed run); prints "ms peak_mb".
torch_explain() {
  local model=$1 size=$2
  local j; j=$(/usr/bin/time -f %M -o "$rss" "$py" bench/pytorch_explain.py --model "$cache/$model" --size "$size" --threads "$threads" \
    --runs 1 --warmup 1 2>/dev/null | tail -1)
  echo "$(field "$j" 'round(median_ms, 1)') $(( $(tail -1 "$rss") / 1024 ))"
}

echo "== ViT-B/16 224x224, $threads threads: explain = forward + backward + Chefer relevance (class logit)"
vt=(); pt=(); vm=0; pm=0
for r in $(seq "$rounds"); do
  read -r v vmem < <(vitlens_explain vit-base 224x224 top1)
  read -r p pmem < <(torch_explain vit-base 224x224)
  vt+=("$v"); pt+=("$p"); vm=$(( vmem > vm ? vmem : vm )); pm=$(( pmem > pm ? pmem : pm ))
  echo "round $r: vitlens $v ms (peak $vmem MB), pytorch $p ms (peak $pmem MB)"
done
v=$(median "${vt[@]}"); p=$(median "${pt[@]}")
echo "median of $rounds: vitlens $v ms, pytorch $p ms, ratio vitlens/pytorch $(field "{\"a\": $v, \"b\": $p}" 'round(a/b, 3)');" \
     "peak RSS vitlens $vm MB, pytorch $pm MB"

echo "== DINO ViT-S/8 480x480 (3,601 tokens), $threads threads: explain, cosine target, one run each"
read -r v vmem < <(vitlens_explain dino-s8 480x480 similar:photos/astronaut.png)
echo "vitlens: $v ms, peak $vmem MB"
read -r v vmem < <(vitlens_explain dino-s8 480x480 similar:photos/astronaut.png --recompute)
echo "vitlens --recompute: $v ms, peak $vmem MB"
if [ "${BENCH_SKIP_TORCH_DINO:-0}" = 1 ]; then
  echo "pytorch: skipped (BENCH_SKIP_TORCH_DINO=1)"
else
  read -r p pmem < <(torch_explain dino-s8 480x480) && echo "pytorch: $p ms, peak $pmem MB" || echo "pytorch: failed (out of memory?)"
fi
