#!/usr/bin/env python3
"""Generate the timm eval-transform fixtures (Tests/Fixtures/torch/timm-preprocess).

timm 1.x imports torchvision, whose PyPI build does not load against the CPU torch here, so the
reference is timm's eval transform written out with Pillow and NumPy, step by step as in
timm/data/transforms_factory.py ``transforms_imagenet_eval`` (crop_mode "center") and the
torchvision functions it calls:

1. ``scale_size = math.floor(img_size / crop_pct)``; ``transforms.Resize(scale_size, interpolation)``:
   torchvision ``_compute_resized_output_size``: the shorter side becomes ``scale_size``, the longer
   ``int(scale_size * long / short)``; the PIL path is ``img.resize((w, h), filter)``.
2. ``transforms.CenterCrop(img_size)``: ``top = int(round((h - th) / 2.0))``,
   ``left = int(round((w - tw) / 2.0))`` (Python's half-to-even ``round``).
3. ``ToTensor()``: ``uint8 -> float32 / 255``; ``Normalize(mean, std)``: ``(x - mean) / std`` in float32.

Input: ``source.png``, an 83 x 61 deterministic RGB pattern (non-square; its shorter side resized for
the fixtures' crop_pct gives odd crop surpluses where torchvision and transformers place the crop
differently). Output: ``<fixture>.npy`` float32 ``[3, H, W]`` for each timm fixture config.

    tools/.venv/bin/python tools/make_timm_preprocess_fixtures.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
TORCH = ROOT / "Tests" / "Fixtures" / "torch"
OUT = TORCH / "timm-preprocess"
FILTERS = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
           "lanczos": Image.LANCZOS, "box": Image.BOX, "hamming": Image.HAMMING}


def source_image() -> Image.Image:
    h, w = 61, 83
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 7 + y * 3) % 256, (x * y) % 251, (255 - x * 5 + y * 11) % 256], axis=-1)
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def timm_eval(image: Image.Image, cfg: dict) -> np.ndarray:
    _, th, tw = cfg["input_size"]
    assert th == tw and cfg.get("crop_mode", "center") == "center"
    scale = math.floor(th / cfg["crop_pct"])
    w, h = image.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = scale, int(scale * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = image.resize((new_w, new_h), FILTERS[cfg["interpolation"]]) if (new_w, new_h) != (w, h) else image
    top, left = int(round((new_h - th) / 2.0)), int(round((new_w - tw) / 2.0))
    cropped = np.asarray(resized)[top:top + th, left:left + tw]
    x = cropped.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    mean = np.asarray(cfg["mean"], dtype=np.float32)[:, None, None]
    std = np.asarray(cfg["std"], dtype=np.float32)[:, None, None]
    return ((x - mean) / std).astype(np.float32)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    image = source_image()
    image.save(OUT / "source.png")
    for name in ["timm-deit-distilled", "timm-dino-p8"]:
        cfg = json.loads((TORCH / name / "config.json").read_text())["pretrained_cfg"]
        np.save(OUT / f"{name}.npy", timm_eval(image, cfg))
    (OUT / "meta.json").write_text(json.dumps({"generator": "tools/make_timm_preprocess_fixtures.py",
                                               "pillow": Image.__version__, "numpy": np.__version__}, indent=2) + "\n")


if __name__ == "__main__":
    main()
