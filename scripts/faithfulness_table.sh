#!/usr/bin/env bash
# The README's faithfulness table: `vitlens faithfulness --methods all` on the committed photos, each
# with the target "similar to the next photo" (grace_hopper -> astronaut -> rocket -> grace_hopper),
# then per method the mean deletion AUC, mean insertion AUC and mean sanity Spearman over the photos,
# ranked by insertion minus deletion (higher is better), with the random-order baseline; Markdown on stdout.
# Usage: bash scripts/faithfulness_table.sh [MODEL] [OUT]
#   MODEL default ~/.cache/vitlens/models/dinov2-small-focus, OUT default vitlens-out/faithfulness-table;
#   VITLENS names the binary (default .build/release/vitlens); extra vitlens options in FAITHFULNESS_ARGS.
#   With TABLE_ONLY=1 the runs are skipped and OUT's faithfulness.json files are tabulated as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-${VITLENS_CACHE:-$HOME/.cache/vitlens}/models/dinov2-small-focus}
out=${2:-vitlens-out/faithfulness-table}
bin=${VITLENS:-.build/release/vitlens}
photos=(photos/grace_hopper.jpg photos/astronaut.png photos/rocket.jpg)
if [ "${TABLE_ONLY:-0}" != 1 ]; then
  [ -x "$bin" ] || { echo "faithfulness_table: build first (swift build -c release --product vitlens)" >&2; exit 1; }
  for i in "${!photos[@]}"; do
    photo=${photos[$i]}; other=${photos[$(( (i + 1) % ${#photos[@]} ))]}
    # shellcheck disable=SC2086
    "$bin" faithfulness "$photo" --model "$model" --target "similar:$other" --methods all \
      --out "$out/$(basename "${photo%.*}")" --quiet ${FAITHFULNESS_ARGS:-}
  done
fi
python3 - "$out" "${photos[@]}" <<'PY'
import json, os, sys
out, photos = sys.argv[1], sys.argv[2:]
reports = []
for p in photos:
    path = os.path.join(out, os.path.splitext(os.path.basename(p))[0], "faithfulness.json")
    with open(path) as f:
        reports.append((p, json.load(f)))
names = [m["name"] for m in reports[0][1]["methods"]]
def mean(v):
    v = [x for x in v if x is not None]
    return sum(v) / len(v) if v else None
rows = []
for name in names:
    dele, ins, rho = [], [], []
    for _, r in reports:
        m = next(m for m in r["methods"] if m["name"] == name)
        dele.append(m["curves"]["deletionAUC"]); ins.append(m["curves"]["insertionAUC"])
        rho.append(next((s["spearman"] for s in r.get("sanity", []) if s["method"] == name), None))
    rows.append((name, mean(dele), mean(ins), mean(rho)))
rows.sort(key=lambda r: r[2] - r[1], reverse=True)
rand = [r["random"] for _, r in reports if r.get("random")]
first = reports[0][1]
sanity = first.get("sanity") or [{}]
print(f"Faithfulness over {len(reports)} photos ({', '.join(os.path.basename(p) for p, _ in reports)}), target "
      f"{first['target']} to the next photo, baseline {first['baseline']}, {first['steps']} steps; "
      f"AUCs in cosine units (deletion: lower is better, insertion: higher is better); sanity: Spearman of each map "
      f"with the map of a weight-shuffled copy ({sanity[0].get('randomization', 'none')}, seed {sanity[0].get('seed', '-')}); "
      f"lower means the map depends more on what the model learned.")
print()
print("| rank | method | deletion AUC ↓ | insertion AUC ↑ | insertion − deletion | sanity Spearman |")
print("|---:|---|---:|---:|---:|---:|")
f = lambda v: "–" if v is None else f"{v:.3f}"
for i, (name, d, n, rho) in enumerate(rows, 1):
    print(f"| {i} | {name} | {f(d)} | {f(n)} | {f(n - d)} | {f(rho)} |")
if rand:
    d = mean([r["curves"]["deletionAUC"] for r in rand]); n = mean([r["curves"]["insertionAUC"] for r in rand])
    print(f"| – | random ({rand[0]['orders']} orders) | {f(d)} | {f(n)} | {f(n - d)} | – |")
PY
