#!/usr/bin/env bash
# Regenerate Tests/Fixtures (models + cases) with the pinned reference stack.
# Creates tools/.venv on first use; the CPU torch wheel (torch==2.13.0+cpu) is found by pip through
# the machine's find-links configuration. Arguments are passed to make_fixtures.py, e.g.
#   bash tools/make_fixtures.sh --only vit-p16-cls
# The real all-MiniLM-L6-v2 case needs VITLENS_MINILM_DIR=<folder with model.safetensors> (or --minilm).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-fixtures.txt"
if "$venv/bin/python" -c "import torchvision" 2>/dev/null; then
    echo "make_fixtures.sh: torchvision is installed in $venv; remove it (it changes the image processors)" >&2
    exit 1
fi
exec "$venv/bin/python" "$here/make_fixtures.py" "$@"
