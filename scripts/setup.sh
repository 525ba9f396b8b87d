#!/usr/bin/env bash
# Installs the Debian packages ViTLens builds against (OpenBLAS, libjpeg-turbo, libpng) and the
# headless browser the explorer's tests drive (Debian's chromium; Playwright never downloads one).
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(libopenblas-dev libturbojpeg0-dev libpng-dev pkg-config chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift not found on PATH (Swift 6.1 or newer is needed)" >&2; exit 1; }
