#!/usr/bin/env python3
"""Reference deletion/insertion curves for the Swift faithfulness code (issue 10).

Independent of the Swift implementation: numpy baselines (channel mean; box blur by edge padding and a
(2r+1)^2 window mean), patch order by argsort (descending, ties by index), and the transformers model's
class logit after each step (eager attention, interpolate_pos_encoding). Input: the committed gradient
fixture's pixel values (vit-p16-cls, 32x48, a 2x3 patch grid). Output: Tests/Fixtures/faithfulness/
<case>/curves.npy [baseline (mean, blur), kind (deletion, insertion), step] and meta.json.

Run with the reference stack: tools/.venv/bin/python tools/make_faithfulness_fixtures.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

import make_fixtures as mf  # noqa: E402

CASE = "vit-p16-cls-hopper-32x48"
MAP = [0.3, 0.9, 0.1, 0.5, 0.9, -0.2]
STEPS = 3
RADIUS = 2
CLASS = 4


def box_blur(x: np.ndarray, r: int) -> np.ndarray:
    padded = np.pad(x.astype(np.float64), ((0, 0), (r, r), (r, r)), mode="edge")
    out = np.zeros_like(x, dtype=np.float64)
    _, h, w = x.shape
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out += padded[:, dy:dy + h, dx:dx + w]
    return (out / (2 * r + 1) ** 2).astype(np.float32)


def main() -> None:
    torch.manual_seed(0)
    pixels = np.load(mf.FIXTURES / "gradients" / CASE / "pixel_values.npy").astype(np.float32)
    pixels = pixels.reshape(pixels.shape[-3:])
    model = transformers.ViTForImageClassification.from_pretrained(
        mf.FIXTURES / "models" / "vit-p16-cls", attn_implementation="eager").eval()
    p = 16
    rows, cols = pixels.shape[1] // p, pixels.shape[2] // p
    order = sorted(range(rows * cols), key=lambda i: (-MAP[i], i))
    bounds = [k * rows * cols // STEPS for k in range(STEPS + 1)]

    def logit(x: np.ndarray) -> float:
        with torch.no_grad():
            out = model(torch.from_numpy(x)[None], interpolate_pos_encoding=True)
        return float(out.logits[0, CLASS])

    def curve(start: np.ndarray, source: np.ndarray) -> list[float]:
        image = start.copy()
        values = []
        for k in range(STEPS + 1):
            if k > 0:
                for q in order[bounds[k - 1]:bounds[k]]:
                    r, c = divmod(q, cols)
                    image[:, r * p:(r + 1) * p, c * p:(c + 1) * p] = source[:, r * p:(r + 1) * p, c * p:(c + 1) * p]
            values.append(logit(image))
        return values

    mean = np.broadcast_to(pixels.astype(np.float64).mean(axis=(1, 2), keepdims=True), pixels.shape).astype(np.float32)
    curves = []
    for base in (mean, box_blur(pixels, RADIUS)):
        curves.append([curve(pixels, base), curve(base, pixels)])
    out = mf.FIXTURES / "faithfulness" / CASE
    out.mkdir(parents=True, exist_ok=True)
    mf.save_f32(out / "curves.npy", np.array(curves))
    meta = {"case": CASE, "model": "vit-p16-cls", "pixel_values": f"gradients/{CASE}/pixel_values.npy",
            "map": MAP, "order": order, "steps": STEPS, "blur_radius": RADIUS, "class": CLASS,
            "curves": "[baseline (mean, boxBlur), kind (deletion, insertion), step]",
            "provenance": mf.provenance(None) | {"generator": "tools/make_faithfulness_fixtures.py",
                                                   "generator_sha256": mf.sha256(Path(__file__).resolve())}}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(np.array(curves))


if __name__ == "__main__":
    main()
