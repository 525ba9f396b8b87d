#!/usr/bin/env bash
# Per-op profile of the forward pass (issue 12): `vitlens bench --profile` at 197 tokens (ViT-B/16
# 224), 257 (ViT-B/16 256), 785 (ViT-B/16 448) and 3,601 (DINO ViT-S/8 480x480), each for the
# streaming forward, the forward keeping every layer's attention (an AttentionRecorder, as the batch-1
# target; up to 1 GiB of maps) and the analyze trio (rollout + last-layer heads + mean attention distance),
# printed as one markdown table per size: per kind ms per forward, share of the forward, GFLOP/s and
# % of the machine's fp32 GEMM peak (`bench --gemm-peak`: the faster of BLAS and the packed Linear
# kernel on square products, measured once per process).
# Threaded kinds (attention_*, softmax, row_statistics) are thread-ms inside attention_pass; their
# share is over wall time x threads. "other" = forward - every wall-clock kind.
# Builds nothing: needs the release binary (make bench builds it; VITLENS_BIN=path profiles another)
# and the checkpoints scripts/bench.sh makes under ~/.cache/vitlens/bench (vit-base, dino-s8).
# Usage: bash scripts/profile.sh [RUNS]   (default 5 timed runs, 2 at 3,601 tokens; BENCH_THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
threads=${BENCH_THREADS:-2}
bin=${VITLENS_BIN:-.build/release/vitlens}
cache="${VITLENS_CACHE:-$HOME/.cache/vitlens}/bench"
[ -x "$bin" ] || { echo "profile: build first (make bench)" >&2; exit 1; }
for m in vit-base dino-s8; do
  [ -f "$cache/$m/config.json" ] || { echo "profile: $cache/$m is missing (run make bench once)" >&2; exit 1; }
done
echo "vitlens BLAS: $("$bin" bench --gemm-peak --threads "$threads" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["blas"], "- fp32 GEMM peak", d["gemm_peak_gflops"], "GFLOP/s (" + d["gemm_peak_kernel"] + ") on", d["threads"], "threads")')"

# table NAME JSON: one markdown table, both modes side by side.
table() {
  python3 - "$1" "$2" <<'PY'
import json, sys
name, d = sys.argv[1], json.loads(sys.argv[2])
p = d["profile"]
modes = [(n, p[k]) for n, k in [("streaming", "streaming"), ("all maps kept", "with_attentions"), ("analyze trio", "analyze")] if p.get(k)]
print(f"### {name}: {d['tokens']} tokens ({d['size']}), {d['threads']} threads, {d['runs']} runs, GEMM peak {p['gemm_peak_gflops']} GFLOP/s")
print()
print("| kind | " + " | ".join(f"{m} ms | share | GFLOP/s | % peak" for m, _ in modes) + " |")
print("|---|" + "---:|" * (4 * len(modes)))
kinds = []
for _, m in modes:
    for r in m["kinds"]:
        if r["kind"] not in kinds: kinds.append(r["kind"])
rows = {mode: {r["kind"]: r for r in m["kinds"]} for mode, m in modes}
def cells(r):
    if r is None: return ["", "", "", ""]
    g = r.get("gflops"); s = r.get("peak_share")
    label = f"{r['ms']:.2f}" + (" (thread)" if r["threaded"] else "")
    return [label, f"{100 * r['share']:.1f}%", "" if g is None else f"{g:.1f}", "" if s is None else f"{100 * s:.0f}%"]
for k in kinds:
    print(f"| {k} | " + " | ".join(" | ".join(cells(rows[mode].get(k))) for mode, _ in modes) + " |")
print("| other | " + " | ".join(f"{m['other_ms']:.2f} | {100 * m['other_share']:.1f}% |  | " for _, m in modes) + " |")
print("| **forward** | " + " | ".join(f"**{m['forward_ms']:.2f}** | 100% |  | " for _, m in modes) + " |")
print("| page faults / forward | " + " | ".join(f"{m['page_faults']:.0f} |  |  | " for _, m in modes) + " |")
print()
PY
}

for case in "ViT-B/16 224|vit-base|224x224|$runs|2" "ViT-B/16 256|vit-base|256x256|$runs|2" \
            "ViT-B/16 448|vit-base|448x448|$runs|1" "DINO ViT-S/8 480|dino-s8|480x480|$(( runs < 2 ? runs : 2 ))|1"; do
  IFS='|' read -r name model size n warm <<<"$case"
  json=$("$bin" bench --profile --model "$cache/$model" --size "$size" --threads "$threads" --runs "$n" --warmup "$warm")
  table "$name" "$json"
done
