#!/usr/bin/env bash
# Benchmarks ViTLens beside Hugging Face eager PyTorch on the same machine, threads and checkpoints,
# alternating the two engines so that machine noise hits both alike; prints ratios.
#  1. ViT-B/16 at 224x224 (random weights, google/vit-base-patch16-224 shape): forward latency with
#     every layer's attention kept (HF: output_attentions=True), median of N runs.
#  1b. ViT-B/16 at 224x224, batch 8, every layer's attention feeding mean attention distance
#     (vitlens bench --batch-size 8, beside its own batch 1) vs HF eager batch 8 with
#     output_attentions=True: images/s, BATCH_ROUNDS (default 5) alternating rounds, median ratio.
#  2. DINO ViT-S/8 at 480x480 (3,601 tokens, facebook/dino-vits8 shape): rollout + last-layer heads +
#     mean attention distance from one forward (vitlens analyze) vs HF output_attentions=True + the same
#     analyses in torch/NumPy; wall time and peak RSS.
# Needs python3 with pip (a venv with torch 2.13.0+cpu and transformers 5.23.0 is made in bench/.venv).
# Usage: make bench   (or: bash scripts/bench.sh [ROUNDS])
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${BENCH_THREADS:-2}
bin=.build/release/vitlens
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
"$py" bench/pytorch_forward.py --model "$cache/dino-s8" --make-dino-s8 --runs 1 --warmup 0 --no-plain >/dev/null 2>&1

field() { "$py" -c "import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))" "$1" "$2"; }
echo "== ViT-B/16 224x224, $threads threads, forward with all attentions (median ms)"
for r in $(seq "$rounds"); do
  v=$("$bin" bench --model "$cache/vit-base" --threads "$threads" --runs 15 --warmup 3)
  p=$("$py" bench/pytorch_forward.py --model "$cache/vit-base" --threads "$threads" --runs 15 --no-plain 2>/dev/null | tail -1)
  vm=$(field "$v" 'with_attentions["median_ms"]'); pm=$(field "$p" 'with_attentions["median_ms"]')
  echo "round $r: vitlens $vm ms, pytorch $pm ms, ratio vitlens/pytorch $(field "{\"a\": $vm, \"b\": $pm}" 'round(a/b, 3)')"
done
batch_rounds=${BATCH_ROUNDS:-5}
echo "== ViT-B/16 224x224, $threads threads, batch 8, every attention feeding an observer (images/s; goal: vitlens/pytorch >= 1.1)"
ratios=()
for r in $(seq "$batch_rounds"); do
  v=$("$bin" bench --model "$cache/vit-base" --threads "$threads" --batch-size 8 --runs 5 --warmup 1)
  p=$("$py" bench/pytorch_forward.py --model "$cache/vit-base" --threads "$threads" --batch 8 --runs 5 --warmup 1 --no-plain 2>/dev/null | tail -1)
  v1=$(field "$v" 'round(batched["batch_1_images_per_s"], 2)'); v8=$(field "$v" 'round(batched["batch_b_images_per_s"], 2)')
  p8=$(field "$p" 'round(with_attentions["images_per_s"], 2)')
  ratio=$(field "{\"a\": $v8, \"b\": $p8}" 'round(a/b, 3)')
  ratios+=("$ratio")
  echo "round $r: vitlens batch 1 $v1 img/s, batch 8 $v8 img/s; pytorch batch 8 $p8 img/s; ratio vitlens/pytorch $ratio"
done
echo "batch 8 ratio: median $(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') (min $(printf '%s\n' "${ratios[@]}" | sort -n | head -1), max $(printf '%s\n' "${ratios[@]}" | sort -n | tail -1)); goal >= 1.1"
echo "== DINO ViT-S/8 480x480 (3,601 tokens): rollout + heads + mean attention distance, one run each"
for r in $(seq "$rounds"); do
  v=$( { /usr/bin/time -f "%M" "$bin" analyze photos/grace_hopper.jpg --model "$cache/dino-s8" --size 480x480 --threads "$threads" --out "$cache/analyze-out" --quiet; } 2>&1 | tail -1)
  vs=$("$py" -c "import json; print(json.load(open('$cache/analyze-out/analyze.json'))['forward_and_analyses_seconds'])")
  f=$("$bin" bench --model "$cache/dino-s8" --size 480x480 --threads "$threads" --runs 2 --warmup 0)
  fs=$(field "$f" 'streaming["median_ms"]/1000')
  p=$("$py" bench/pytorch_analyze.py --model "$cache/dino-s8" --size 480x480 --threads "$threads" --runs 1 2>/dev/null | tail -1)
  echo "round $r: vitlens $(printf %.2f "$vs") s (forward alone $(printf %.2f "$fs") s, analyses +$(field "{\"a\": $vs, \"b\": $fs}" 'round(100*(a/b-1))')%), peak $((v / 1024)) MB;" \
       "pytorch $(printf %.2f "$(field "$p" 'median_s')") s, peak $(printf %.0f "$(field "$p" 'peak_rss_mb')") MB;" \
       "time ratio $(field "{\"a\": $vs, \"b\": $(field "$p" 'median_s')}" 'round(a/b, 3)'), memory ratio $(field "{\"a\": $((v / 1024)), \"b\": $(field "$p" 'peak_rss_mb')}" 'round(a/b, 3)')"
done
