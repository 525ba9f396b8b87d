#!/usr/bin/env bash
# Benchmarks ViTLens beside Hugging Face PyTorch on the same machine, threads and checkpoints,
# alternating the two engines in every round so that machine noise hits both alike, and prints each
# target of issue 12 as a median ratio over the rounds with its spread, beside its goal:
#  1. ViT-B/16 at 224 (random weights, google/vit-base-patch16-224 shape), batch 1, every layer's
#     attention kept: PyTorch eager (output_attentions=True) ms / ViTLens ms; goal >= 1.3.
#  2. ViT-S/16 at 224, the same; goal >= 1.2.
#  3. ViT-B/16 at 224, batch 8, every layer's attention feeding mean attention distance
#     (vitlens bench --batch-size 8) vs HF eager batch 8 with output_attentions=True: images/s
#     ratio ViTLens / PyTorch; goal >= 1.1.
#  4. DINO ViT-S/8 at 480x480 (3,601 tokens, facebook/dino-vits8 shape): rollout + last-layer heads +
#     mean attention distance from one forward (vitlens analyze) vs HF's SDPA forward *without*
#     attention maps: time ratio ViTLens / SDPA, goal <= 1.0; ViTLens peak RSS, goal <= 800 MB.
#     Also beside HF eager with maps + the same analyses in torch (bench/pytorch_analyze.py).
#  5. `vitlens dump` of ViT-B/16 (load, preprocess, forward, write 12 layers of attention) vs the same
#     job as a Python script with transformers (bench/pytorch_dump.py), whole processes: time ratio
#     Python / ViTLens; goal >= 7.
# Needs python3 with pip (a venv with torch 2.13.0+cpu and transformers 5.23.0 is made in bench/.venv).
# Usage: make bench   (or: bash scripts/bench.sh [ROUNDS]; default 5 rounds; BENCH_THREADS=2;
# VITLENS_BIN=path times another vitlens binary)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
threads=${BENCH_THREADS:-2}
bin=${VITLENS_BIN:-.build/release/vitlens}
cache="${VITLENS_CACHE:-$HOME/.cache/vitlens}/bench"
venv=bench/.venv
[ -x "$bin" ] || { echo "bench: build first (make bench)" >&2; exit 1; }
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r tools/requirements-fixtures.txt
fi
py="$venv/bin/python"
mkdir -p "$cache"
"$py" bench/pytorch_forward.py --model "$cache/vit-base" --make-vit-base --runs 1 --warmup 0 --no-plain >/dev/null 2>&1
"$py" bench/pytorch_forward.py --model "$cache/vit-small" --make-vit-small --runs 1 --warmup 0 --no-plain >/dev/null 2>&1
"$py" bench/pytorch_forward.py --model "$cache/dino-s8" --make-dino-s8 --runs 1 --warmup 0 --no-plain >/dev/null 2>&1
echo "vitlens BLAS: $("$bin" bench --model "$cache/vit-small" --threads "$threads" --runs 1 --warmup 0 | "$py" -c 'import json,sys; print(json.load(sys.stdin)["blas"])')"

field() { "$py" -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))" "$1" "$2"; }
ratio() { "$py" -c "import sys; print(round(float(sys.argv[1]) / float(sys.argv[2]), 3))" "$1" "$2"; }
# summary NAME GOAL_OP GOAL VALUES...: median, min, max and whether the median meets the goal.
summary=()
summarize() {
  local name=$1 op=$2 goal=$3; shift 3
  local line
  line=$("$py" - "$name" "$op" "$goal" "$@" <<'PY'
import statistics, sys
name, op, goal, *vals = sys.argv[1:]
v = [float(x) for x in vals]
m = statistics.median(v)
met = m >= float(goal) if op == ">=" else m <= float(goal)
print(f"{name}: median {m:.3f} (min {min(v):.3f}, max {max(v):.3f}, {len(v)} rounds); goal {op} {goal}: {'met' if met else 'NOT met'}")
PY
)
  echo "$line"
  summary+=("$line")
}

for model in vit-base vit-small; do
  echo "== $model 224x224, $threads threads, batch 1, forward with all attentions (median ms of 15 runs)"
  speedups=()
  for r in $(seq "$rounds"); do
    v=$("$bin" bench --model "$cache/$model" --threads "$threads" --runs 15 --warmup 3)
    p=$("$py" bench/pytorch_forward.py --model "$cache/$model" --threads "$threads" --runs 15 --no-plain 2>/dev/null | tail -1)
    vm=$(field "$v" 'with_attentions["median_ms"]'); pm=$(field "$p" 'with_attentions["median_ms"]')
    s=$(ratio "$pm" "$vm"); speedups+=("$s")
    echo "round $r: vitlens $vm ms, pytorch eager $pm ms, speedup pytorch/vitlens $s"
  done
  if [ "$model" = vit-base ]; then summarize "ViT-B/16 batch 1 speedup over HF eager" ">=" 1.3 "${speedups[@]}"
  else summarize "ViT-S/16 batch 1 speedup over HF eager" ">=" 1.2 "${speedups[@]}"; fi
done

echo "== ViT-B/16 224x224, $threads threads, batch 8, every attention feeding an observer (images/s)"
ratios=()
for r in $(seq "$rounds"); do
  v=$("$bin" bench --model "$cache/vit-base" --threads "$threads" --batch-size 8 --runs 5 --warmup 1)
  p=$("$py" bench/pytorch_forward.py --model "$cache/vit-base" --threads "$threads" --batch 8 --runs 5 --warmup 1 --no-plain 2>/dev/null | tail -1)
  v1=$(field "$v" 'round(batched["batch_1_images_per_s"], 2)'); v8=$(field "$v" 'round(batched["batch_b_images_per_s"], 2)')
  p8=$(field "$p" 'round(with_attentions["images_per_s"], 2)')
  s=$(ratio "$v8" "$p8"); ratios+=("$s")
  echo "round $r: vitlens batch 1 $v1 img/s, batch 8 $v8 img/s; pytorch eager batch 8 $p8 img/s; ratio vitlens/pytorch $s"
done
summarize "ViT-B/16 batch 8 images/s ratio over HF eager" ">=" 1.1 "${ratios[@]}"

echo "== DINO ViT-S/8 480x480 (3,601 tokens): rollout + heads + mean attention distance, one forward"
tratios=(); mems=(); eratios=()
for r in $(seq "$rounds"); do
  v=$( { /usr/bin/time -f "%M" "$bin" analyze photos/grace_hopper.jpg --model "$cache/dino-s8" --size 480x480 --threads "$threads" --out "$cache/analyze-out" --quiet; } 2>&1 | tail -1)
  vs=$("$py" -c "import json; print(json.load(open('$cache/analyze-out/analyze.json'))['forward_and_analyses_seconds'])")
  f=$("$bin" bench --model "$cache/dino-s8" --size 480x480 --threads "$threads" --runs 2 --warmup 0)
  fs=$(field "$f" 'streaming["median_ms"]/1000')
  sd=$("$py" bench/pytorch_forward.py --model "$cache/dino-s8" --size 480x480 --threads "$threads" --runs 2 --warmup 1 --only-sdpa 2>/dev/null | tail -1)
  sds=$(field "$sd" 'sdpa_without_attentions["median_ms"]/1000')
  p=$("$py" bench/pytorch_analyze.py --model "$cache/dino-s8" --size 480x480 --threads "$threads" --runs 1 2>/dev/null | tail -1)
  mb=$((v / 1024)); t=$(ratio "$vs" "$sds"); e=$(ratio "$vs" "$(field "$p" 'median_s')")
  tratios+=("$t"); mems+=("$mb"); eratios+=("$e")
  echo "round $r: vitlens $(printf %.2f "$vs") s (forward alone $(printf %.2f "$fs") s), peak $mb MB;" \
       "pytorch SDPA without maps $(printf %.2f "$sds") s; pytorch eager with maps + analyses $(printf %.2f "$(field "$p" 'median_s')") s, peak $(printf %.0f "$(field "$p" 'peak_rss_mb')") MB;" \
       "ratio vitlens/sdpa $t, vitlens/eager $e"
done
summarize "DINO ViT-S/8 480 time ratio vitlens/HF SDPA without maps" "<=" 1.0 "${tratios[@]}"
summarize "DINO ViT-S/8 480 vitlens peak RSS (MB)" "<=" 800 "${mems[@]}"
summarize "DINO ViT-S/8 480 time ratio vitlens/HF eager with maps" "<=" 0.4 "${eratios[@]}"

echo "== vitlens dump vs a transformers script, ViT-B/16, whole processes (load + forward + write 12 layers)"
dumps=()
for r in $(seq "$rounds"); do
  rm -rf "$cache/dump-out" "$cache/dump-py.npy"
  /usr/bin/time -f "%e" -o "$cache/time-vitlens.txt" "$bin" dump photos/grace_hopper.jpg --model "$cache/vit-base" \
    --threads "$threads" --out "$cache/dump-out" --quiet >/dev/null
  /usr/bin/time -f "%e" -o "$cache/time-python.txt" "$py" bench/pytorch_dump.py --model "$cache/vit-base" \
    --image photos/grace_hopper.jpg --threads "$threads" --out "$cache/dump-py.npy" >/dev/null 2>&1
  vt=$(tail -1 "$cache/time-vitlens.txt"); pt=$(tail -1 "$cache/time-python.txt")
  s=$(ratio "$pt" "$vt"); dumps+=("$s")
  echo "round $r: vitlens dump $vt s, python script $pt s, speedup $s"
done
summarize "dump whole-process speedup over a transformers script" ">=" 7 "${dumps[@]}"

echo "== targets (issue 12; $rounds rounds each, alternating engines)"
printf '%s\n' "${summary[@]}"
