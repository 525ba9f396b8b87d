#!/usr/bin/env python3
"""Generate ViTLensImage's golden fixtures from Pillow and Hugging Face's slow image processors.

Writes ``Tests/Fixtures/images/`` (see its ``README.md``):

- ``decode/``: small synthetic PNGs of every colour type and bit depth, small JPEGs in every chroma
  subsampling (plus progressive, grayscale and CMYK), each with Pillow's
  ``Image.open(f).convert("RGB")`` as ``<name>.npy`` (uint8 ``[H, W, 3]``); digests of the committed
  photos decoded the same way (``manifest.json``).
- ``errors/``: a text file, truncated JPEG (in the scan and in the header), truncated PNG and a PNG
  with a bad CRC, with what Pillow does with each.
- ``resize/``: ``Image.resize`` of photo crops and of a noise PNG over a table of sizes and filters
  (full uint8 arrays; digests for the few large outputs), including both pass orders.
- ``processors/``: ``preprocessor_config.json`` files and the PIL-backend processors' output on the
  photos (digests of the uint8 stage and of ``pixel_values``, per-level normalisation tables) and
  on small crops (full ``pixel_values``).

Large arrays are summarised by a digest that covers every element: FNV-1a 64 of the raw bytes plus,
per row, the sum and the position-weighted sum ``sum((i + 1) * v)`` of the row's bytes (which says
which row differs).

Run from the repository root with the pinned reference stack (pillow 13.0.0, transformers 5.23.0,
numpy 2.4.6, no torchvision):

    python tools/make_image_fixtures.py

It is deterministic (seed 1234): re-running rewrites identical files.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import PIL
import transformers
from PIL import Image

FORMAT_VERSION = 1
SEED = 1234
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests" / "Fixtures" / "images"
PHOTOS = {"hopper": "photos/grace_hopper.jpg", "rocket": "photos/rocket.jpg", "astronaut": "photos/astronaut.png"}
REGENERATE = "python tools/make_image_fixtures.py"
FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "box": 4, "hamming": 5}

# Outputs with at most this many bytes are stored in full; larger ones as digests.
FULL_LIMIT = 64 * 64 * 3 * 2


# --------------------------------------------------------------------------------------------------
# Helpers


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def row_digest(array: np.ndarray) -> np.ndarray:
    """Per row of an [H, ...] array's bytes: (sum, sum((i+1) * v)) as int64 [H, 2]."""
    rows = np.ascontiguousarray(array).view(np.uint8).reshape(array.shape[0], -1).astype(np.int64)
    weights = np.arange(1, rows.shape[1] + 1, dtype=np.int64)
    return np.stack([rows.sum(axis=1), (rows * weights).sum(axis=1)], axis=1)


def digest(array: np.ndarray, path: Path) -> dict:
    """Writes the row digest next to `path` and returns the whole-array description."""
    array = np.ascontiguousarray(array)
    np.save(path, row_digest(array))
    return {"shape": list(array.shape), "dtype": str(array.dtype), "fnv1a64": fnv1a64(array.tobytes()),
            "rows": path.name}


def store(array: np.ndarray, folder: Path, name: str) -> dict:
    """Stores small arrays in full (`<name>.npy`), large ones as a digest (`<name>.rows.npy`)."""
    array = np.ascontiguousarray(array)
    if array.nbytes <= FULL_LIMIT:
        np.save(folder / f"{name}.npy", array)
        return {"shape": list(array.shape), "dtype": str(array.dtype), "full": f"{name}.npy",
                "fnv1a64": fnv1a64(array.tobytes())}
    return digest(array, folder / f"{name}.rows.npy")


def pillow_rgb(path_or_bytes) -> np.ndarray:
    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(src) as im:
        return np.array(im.convert("RGB"))


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples: np.ndarray, depth: int) -> bytes:
    """Packs one row of samples (already in range) at `depth` bits, big-endian."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // depth
    padded = np.zeros(-(-len(samples) // per_byte) * per_byte, dtype=np.uint8)
    padded[: len(samples)] = samples
    out = bytearray()
    for i in range(0, len(padded), per_byte):
        b = 0
        for s in padded[i : i + per_byte]:
            b = (b << depth) | int(s)
        out.append(b)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(samples: np.ndarray, depth: int, color_type: int, extra: bytes = b"", interlace: bool = False) -> bytes:
    """A PNG from samples [H, W, C] (C per colour type) with filter 0 rows, optionally Adam7."""
    h, w = samples.shape[:2]
    flat = samples.reshape(h, w, -1)

    def rows_of(img: np.ndarray) -> bytes:
        return b"".join(b"\x00" + pack_row(img[y].reshape(-1), depth) for y in range(img.shape[0]))

    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = flat[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += rows_of(sub)
    else:
        raw = rows_of(flat)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def crop(photo: np.ndarray, box) -> np.ndarray:
    x, y, w, h = box
    return np.ascontiguousarray(photo[y : y + h, x : x + w])


def save_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1, sort_keys=False) + "\n")


# --------------------------------------------------------------------------------------------------
# decode/


def make_decode(rng: np.random.Generator, photos: dict) -> dict:
    folder = OUT / "decode"
    folder.mkdir(parents=True)
    cases = []
    w, h = 13, 7

    def add_png(name: str, data: bytes, note: str) -> None:
        (folder / f"{name}.png").write_bytes(data)
        with Image.open(io.BytesIO(data)) as im:
            mode = im.mode
        rgb = pillow_rgb(data)
        np.save(folder / f"{name}.npy", rgb)
        cases.append({"file": f"{name}.png", "pillow_mode": mode, "expected": f"{name}.npy", "note": note})

    # Values chosen to hit the extremes and the 16-bit clipping of gray (Pillow "I;16").
    gray16 = rng.integers(0, 65536, size=(h, w), dtype=np.int64)
    gray16[0, :4] = [0, 255, 256, 65535]
    rgb16 = rng.integers(0, 65536, size=(h, w, 3), dtype=np.int64)
    for depth in (1, 2, 4, 8):
        add_png(f"gray{depth}", write_png(rng.integers(0, 2**depth, size=(h, w)), depth, 0),
                f"gray {depth}-bit: scaled by 255/(2^{depth}-1)")
    add_png("gray16", write_png(gray16, 16, 0), "gray 16-bit: Pillow I;16, RGB conversion clips at 255")
    add_png("gray16_small", write_png(rng.integers(0, 256, size=(h, w)), 16, 0),
            "gray 16-bit with values below 256: kept as is")
    add_png("gray8_trns", write_png(rng.integers(0, 256, size=(h, w)), 8, 0, chunk(b"tRNS", b"\x00\x07")),
            "gray with a transparent value: ignored")
    add_png("gray8_gamma", write_png(rng.integers(0, 256, size=(h, w)), 8, 0, chunk(b"gAMA", struct.pack(">I", 100000))),
            "gAMA 1.0: no gamma conversion")
    add_png("rgb8", write_png(rng.integers(0, 256, size=(h, w, 3)), 8, 2), "RGB 8-bit")
    add_png("rgb16", write_png(rgb16, 16, 2), "RGB 16-bit: high byte")
    add_png("rgb16_gamma", write_png(rgb16, 16, 2, chunk(b"gAMA", struct.pack(">I", 45455))),
            "RGB 16-bit with gAMA: still the high byte")
    add_png("rgb8_trns", write_png(rng.integers(0, 256, size=(h, w, 3)), 8, 2, chunk(b"tRNS", b"\x00\x01\x00\x02\x00\x03")),
            "RGB with a transparent colour: ignored")
    add_png("rgb8_interlaced", write_png(rng.integers(0, 256, size=(h, w, 3)), 8, 2, interlace=True), "Adam7")
    add_png("rgb16_interlaced", write_png(rgb16, 16, 2, interlace=True), "Adam7, 16-bit")
    add_png("rgba8", write_png(rng.integers(0, 256, size=(h, w, 4)), 8, 6), "RGBA: alpha dropped, no compositing")
    add_png("rgba16", write_png(rng.integers(0, 65536, size=(h, w, 4)), 16, 6), "RGBA 16-bit: high byte, alpha dropped")
    add_png("gray_alpha8", write_png(rng.integers(0, 256, size=(h, w, 2)), 8, 4), "gray+alpha: alpha dropped")
    add_png("gray_alpha16", write_png(rng.integers(0, 65536, size=(h, w, 2)), 16, 4), "gray+alpha 16-bit: high byte")
    palette = rng.integers(0, 256, size=(256, 3)).astype(np.uint8)
    for depth in (1, 2, 4, 8):
        n = 2**depth
        plte = chunk(b"PLTE", palette[:n].tobytes())
        add_png(f"palette{depth}", write_png(rng.integers(0, n, size=(h, w)), depth, 3, plte), f"palette {depth}-bit")
    plte = chunk(b"PLTE", palette[:20].tobytes())
    add_png("palette8_trns", write_png(rng.integers(0, 20, size=(h, w)), 8, 3, plte + chunk(b"tRNS", bytes(range(0, 200, 10)))),
            "palette with tRNS: colours only")
    add_png("palette8_short", write_png(rng.integers(0, 40, size=(h, w)), 8, 3, plte),
            "indices past a 20-entry palette: black")

    # JPEGs from a crop of the portrait, odd size so every edge case of the upsampling runs.
    hopper = photos["hopper"]
    face = Image.fromarray(crop(hopper, (190, 120, 67, 45)))
    jpegs = {
        "jpeg444": dict(quality=92, subsampling=0),
        "jpeg422": dict(quality=92, subsampling=1),
        "jpeg420": dict(quality=92, subsampling=2),
        "jpeg420_progressive": dict(quality=85, subsampling=2, progressive=True),
        "jpeg420_restart": dict(quality=85, subsampling=2, restart_marker_blocks=2),
    }
    images = {name: face for name in jpegs}
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation "rotate 90 CW": Image.open does not apply it
    images["jpeg_exif_orientation"] = face
    jpegs["jpeg_exif_orientation"] = dict(quality=90, exif=exif)
    images["jpeg_gray"] = face.convert("L")
    jpegs["jpeg_gray"] = dict(quality=90)
    images["jpeg_cmyk"] = face.convert("CMYK")
    jpegs["jpeg_cmyk"] = dict(quality=90)
    for name, options in jpegs.items():
        buf = io.BytesIO()
        images[name].save(buf, format="JPEG", **options)
        data = buf.getvalue()
        (folder / f"{name}.jpg").write_bytes(data)
        with Image.open(io.BytesIO(data)) as im:
            mode = im.mode
        np.save(folder / f"{name}.npy", pillow_rgb(data))
        note = json.dumps({k: v for k, v in options.items() if k != "exif"}) + (" + EXIF orientation 6" if "exif" in options else "")
        cases.append({"file": f"{name}.jpg", "pillow_mode": mode, "expected": f"{name}.npy", "note": note})

    photo_cases = []
    for key, rel in PHOTOS.items():
        rgb = photos[key]
        photo_cases.append({"photo": rel, **digest(rgb, folder / f"photo_{key}.rows.npy")})
    return {"cases": cases, "photos": photo_cases}


# --------------------------------------------------------------------------------------------------
# errors/


def corrupt_idat(png: bytes) -> bytes:
    """Garbles the start of the IDAT zlib stream and fixes up the chunk CRC (a valid chunk, bad data)."""
    i = png.index(b"IDAT")
    length = struct.unpack(">I", png[i - 4 : i])[0]
    data = bytearray(png[i + 4 : i + 4 + length])
    data[2:8] = b"\xff" * 6
    return png[: i - 4] + chunk(b"IDAT", bytes(data)) + png[i + 8 + length :]


def jpeg_precision(jpeg: bytes, bits: int) -> bytes:
    """Sets the sample precision in the SOF0 header (a well-formed file libjpeg's 8-bit build refuses)."""
    i = jpeg.index(b"\xff\xc0")
    return jpeg[: i + 4] + bytes([bits]) + jpeg[i + 5 :]


def make_errors(photos: dict) -> list:
    folder = OUT / "errors"
    folder.mkdir(parents=True)
    decode = OUT / "decode"
    jpeg = (decode / "jpeg420.jpg").read_bytes()
    png = (decode / "rgb8.png").read_bytes()
    # A PNG big enough that cutting it leaves a partial IDAT.
    files = {
        "not_an_image.txt": b"This is a text file, not an image.\n",
        "truncated_scan.jpg": jpeg[: len(jpeg) * 2 // 3],
        "truncated_header.jpg": jpeg[:100],
        "truncated.png": png[: len(png) - 60],
        "truncated_signature_only.png": png[:8],
        "bad_crc.png": png[:29] + bytes([png[29] ^ 0xFF]) + png[30:],
        "bad_zlib.png": corrupt_idat(png),
        "precision12.jpg": jpeg_precision(jpeg, 12),
    }
    expected = {
        "not_an_image.txt": "notAnImage",
        "truncated_scan.jpg": "truncated",
        "truncated_header.jpg": "truncated",
        "truncated.png": "truncated",
        "truncated_signature_only.png": "truncated",
        "bad_crc.png": "corrupt",
        "bad_zlib.png": "corrupt",
        "precision12.jpg": "unsupported",
    }
    cases = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        try:
            with Image.open(io.BytesIO(data)) as im:
                im.convert("RGB")
            pillow = "decoded"
        except Exception as e:  # noqa: BLE001 - recording what Pillow says
            pillow = re.sub(r" <_io\.BytesIO object at 0x[0-9a-f]+>", " <file>", f"{type(e).__name__}: {e}")
        cases.append({"file": name, "expected": expected[name], "pillow": pillow})
    return cases


# --------------------------------------------------------------------------------------------------
# resize/

# (source, crop box x, y, w, h (None = whole), output w, h, filters)
ALL = list(FILTERS)
CORE = ["nearest", "bilinear", "bicubic"]
RESIZE_TABLE = [
    ("hopper", (100, 100, 64, 48), (32, 24), ALL),          # 2x down
    ("hopper", (100, 100, 64, 48), (21, 17), ALL),          # odd factors
    ("hopper", (200, 150, 37, 23), (100, 61), ALL),         # non-integer upscale
    ("hopper", (0, 0, 50, 50), (1, 1), ALL),                # one pixel out
    ("hopper", (10, 300, 50, 40), (1, 40), CORE),           # horizontal pass only
    ("hopper", (10, 300, 50, 40), (50, 7), CORE),           # vertical pass only
    ("hopper", (0, 0, 300, 200), (31, 29), ALL),            # large factor (~10x), wide support
    ("rocket", (300, 100, 17, 13), (64, 64), ALL),          # upscale to square
    ("rocket", (0, 0, 64, 48), (64, 48), CORE),             # same size: copy
    ("rocket", (400, 200, 5, 3), (7, 2), ALL),              # up in x, down in y
    ("rocket", (0, 200, 200, 8), (3, 40), CORE),            # down in x, up in y
    ("rocket", (320, 210, 1, 1), (5, 4), CORE),             # one pixel in
    ("astronaut", (128, 64, 256, 256), (57, 43), ALL),      # non-square from square
    ("astronaut", (0, 0, 512, 512), (13, 1), CORE),         # thin output
    # Pillow 13 runs the vertical pass first when in_h - out_h > 2 * (in_w - out_w).
    ("hopper", (100, 100, 64, 80), (41, 30), ALL),          # 50 > 46: vertical first
    ("rocket", (200, 100, 20, 59), (9, 31), CORE),          # tall: vertical first
    ("rocket", (250, 150, 31, 40), (45, 17), CORE),         # wider, shorter: vertical first
    ("noise", None, (36, 21), ALL),                         # 9 > 8: vertical first
    ("noise", None, (35, 20), ALL),                         # 10 == 10: horizontal first
    ("noise", None, (17, 11), ALL),                         # random pixels: clipping paths
    ("noise", None, (91, 67), ALL),                         # random pixels, upscale
    ("hopper", None, (224, 224), ["bilinear", "bicubic", "nearest"]),   # full photo (digest)
    ("rocket", None, (300, 200), ["bicubic", "lanczos"]),               # full photo (digest)
    ("astronaut", None, (224, 224), ["bicubic"]),                        # full photo (digest)
]


def make_resize(rng: np.random.Generator, photos: dict) -> list:
    folder = OUT / "resize"
    folder.mkdir(parents=True)
    noise = rng.integers(0, 256, size=(30, 40, 3)).astype(np.uint8)
    # Extremes next to each other make the bicubic/lanczos overshoot clip.
    noise[::2, ::3] = 255
    noise[1::2, 1::3] = 0
    Image.fromarray(noise).save(folder / "noise.png")
    sources = dict(photos)
    sources["noise"] = pillow_rgb(folder / "noise.png")
    source_files = dict(PHOTOS)
    source_files["noise"] = "Tests/Fixtures/images/resize/noise.png"
    cases = []
    for source, box, (ow, oh), filters in RESIZE_TABLE:
        src = sources[source] if box is None else crop(sources[source], box)
        for name in filters:
            out = np.array(Image.fromarray(src).resize((ow, oh), resample=FILTERS[name]))
            case = f"{source}_{src.shape[1]}x{src.shape[0]}_to_{ow}x{oh}_{name}"
            entry = {"name": case, "source": source_files[source],
                     "crop": list(box) if box is not None else None,
                     "width": ow, "height": oh, "filter": name, "filter_code": FILTERS[name]}
            entry.update(store(out, folder, case))
            cases.append(entry)
    return cases


# --------------------------------------------------------------------------------------------------
# processors/

# Hub-style preprocessor_config.json files (the field layout of the named checkpoints' files).
CONFIGS = {
    # google/vit-base-patch16-224: old feature-extractor form, int size, no processor type.
    "vit-base": {"do_normalize": True, "do_resize": True, "feature_extractor_type": "ViTFeatureExtractor",
                 "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2, "size": 224},
    # facebook/dinov2-small
    "dinov2": {"crop_size": {"height": 224, "width": 224}, "do_center_crop": True, "do_convert_rgb": True,
               "do_normalize": True, "do_rescale": True, "do_resize": True,
               "image_mean": [0.485, 0.456, 0.406], "image_processor_type": "BitImageProcessor",
               "image_std": [0.229, 0.224, 0.225], "resample": 3, "rescale_factor": 0.00392156862745098,
               "size": {"shortest_edge": 256}},
    # openai/clip-vit-base-patch16
    "clip": {"crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
             "feature_extractor_type": "CLIPFeatureExtractor",
             "image_mean": [0.48145466, 0.4578275, 0.40821073],
             "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "size": 224},
    # facebook/deit-base-distilled-patch16-224
    "deit": {"crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
             "feature_extractor_type": "DeiTFeatureExtractor", "image_mean": [0.485, 0.456, 0.406],
             "image_std": [0.229, 0.224, 0.225], "resample": 3, "size": 256},
    # facebook/dino-vits8 style: ViTImageProcessor with a {height, width} size and ImageNet statistics.
    "dino-vit": {"do_normalize": True, "do_rescale": True, "do_resize": True,
                 "image_mean": [0.485, 0.456, 0.406], "image_processor_type": "ViTImageProcessor",
                 "image_std": [0.229, 0.224, 0.225], "resample": 2, "rescale_factor": 0.00392156862745098,
                 "size": {"height": 224, "width": 224}},
    # No processor type at all: ViT defaults with an int size.
    "untyped": {"size": 96},
    # Small configurations for the full-array cases.
    "bit-small": {"image_processor_type": "BitImageProcessor", "size": {"shortest_edge": 36},
                  "crop_size": {"height": 32, "width": 30}},
    "bit-pad": {"image_processor_type": "BitImageProcessor", "size": {"shortest_edge": 21},
                "crop_size": {"height": 24, "width": 28}},
    "clip-small": {"image_processor_type": "CLIPImageProcessor", "size": 33, "crop_size": 31},
    "deit-small": {"image_processor_type": "DeiTImageProcessor", "size": {"height": 40, "width": 36},
                   "crop_size": {"height": 32, "width": 32}},
    "vit-small": {"image_processor_type": "ViTImageProcessor", "size": {"height": 30, "width": 41}},
    "capped": {"image_processor_type": "CLIPImageProcessor",
               "size": {"shortest_edge": 40, "longest_edge": 50}, "crop_size": 36},
    "no-normalize": {"image_processor_type": "ViTImageProcessor", "size": 20, "do_normalize": False},
    "no-rescale": {"image_processor_type": "ViTImageProcessor", "size": 20, "do_rescale": False},
}

PIL_CLASSES = {
    "ViTImageProcessor": transformers.ViTImageProcessorPil,
    "BitImageProcessor": transformers.BitImageProcessorPil,
    "CLIPImageProcessor": transformers.CLIPImageProcessorPil,
    "DeiTImageProcessor": transformers.DeiTImageProcessorPil,
}


def processor_for(config: dict):
    kind = config.get("image_processor_type") or config.get("feature_extractor_type", "ViTImageProcessor")
    kind = kind.replace("FeatureExtractor", "ImageProcessor")
    cls = PIL_CLASSES[kind]
    return cls.from_dict(dict(config)), cls.__name__


def run(processor, image: np.ndarray, **kwargs) -> np.ndarray:
    out = processor(Image.fromarray(image), return_tensors="np", **kwargs)["pixel_values"]
    return out[0]


def make_processors(photos: dict) -> dict:
    folder = OUT / "processors"
    folder.mkdir(parents=True)
    (folder / "configs").mkdir()
    for name, config in CONFIGS.items():
        save_json(folder / "configs" / f"{name}.json", config)

    # Normalisation tables: every byte value through the processor's own rescale + normalise.
    levels = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)  # [1, 256, 3]
    photo_cases = []
    tables = {}
    for name in ["vit-base", "dinov2", "clip", "deit", "dino-vit", "untyped"]:
        processor, cls = processor_for(CONFIGS[name])
        table = run(processor, levels, do_resize=False, do_center_crop=False)  # [3, 1, 256]
        np.save(folder / f"{name}.levels.npy", table[:, 0, :].astype(np.float32))
        tables[name] = f"{name}.levels.npy"
        for key in PHOTOS:
            prepared = run(processor, photos[key], do_rescale=False, do_normalize=False)  # uint8 [3, H, W]
            assert prepared.dtype == np.uint8, prepared.dtype
            pixels = run(processor, photos[key])
            assert pixels.dtype == np.float32, pixels.dtype
            base = f"{name}_{key}"
            photo_cases.append({
                "config": f"configs/{name}.json", "processor_class": cls, "photo": PHOTOS[key],
                "levels": tables[name],
                "prepared": digest(np.ascontiguousarray(prepared.transpose(1, 2, 0)), folder / f"{base}.prepared.rows.npy"),
                "pixel_values": {"shape": list(pixels.shape), "fnv1a64": fnv1a64(pixels.tobytes()),
                                 "sum": float(pixels.astype(np.float64).sum()),
                                 "min": float(pixels.min()), "max": float(pixels.max())},
            })

    # Full arrays on crops: the whole pipeline, padding and rounding rules included.
    small = []
    small_table = [
        ("bit-small", "hopper", (150, 100, 90, 70), None),
        ("bit-small", "rocket", (0, 0, 45, 61), None),
        ("bit-pad", "hopper", (150, 100, 60, 45), None),
        ("bit-pad", "rocket", (10, 10, 30, 47), None),
        ("clip-small", "astronaut", (200, 100, 80, 55), None),
        ("deit-small", "rocket", (300, 150, 77, 50), None),
        ("vit-small", "hopper", (100, 100, 64, 80), None),
        ("capped", "rocket", (0, 100, 160, 40), None),
        ("capped", "hopper", (100, 100, 50, 45), None),
        ("no-normalize", "hopper", (120, 140, 33, 21), None),
        ("no-rescale", "hopper", (120, 140, 33, 21), None),
        ("dinov2", "hopper", (150, 100, 90, 70), {"height": 28, "width": 42}),
        ("clip", "rocket", (300, 150, 77, 50), {"height": 14, "width": 14}),
    ]
    for name, key, box, override in small_table:
        processor, cls = processor_for(CONFIGS[name])
        image = crop(photos[key], box)
        kwargs = {} if override is None else {"size": override, "do_center_crop": False}
        prepared = run(processor, image, do_rescale=False, do_normalize=False, **kwargs)
        pixels = run(processor, image, **kwargs)
        base = f"{name}_{key}_{box[2]}x{box[3]}" + ("" if override is None else f"_size{override['height']}x{override['width']}")
        np.save(folder / f"{base}.prepared.npy", np.ascontiguousarray(prepared.transpose(1, 2, 0)))
        np.save(folder / f"{base}.pixel_values.npy", pixels)
        small.append({"config": f"configs/{name}.json", "processor_class": cls, "photo": PHOTOS[key],
                      "crop": list(box), "size_override": override,
                      "prepared": f"{base}.prepared.npy", "pixel_values": f"{base}.pixel_values.npy"})
    return {"photos": photo_cases, "crops": small}


# --------------------------------------------------------------------------------------------------


README = """# Image fixtures (generated: do not edit)

Written by `tools/make_image_fixtures.py` (see `meta.json` for the versions and the command). The
reference is Pillow's `Image.open(f).convert("RGB")`, `Image.resize((w, h), resample)` and
transformers' PIL-backend image processors (`*ImageProcessorPil`). `manifest.json` lists every case.

| folder | what | compared |
|---|---|---|
| `decode/` | synthetic PNGs (every colour type and bit depth, tRNS, gAMA, Adam7, short palette) and small JPEGs (4:4:4, 4:2:2, 4:2:0, progressive, restart markers, gray, CMYK, EXIF orientation) with Pillow's RGB as `<name>.npy` uint8 `[H, W, 3]`; `photo_*.rows.npy` digests of the committed photos | exact |
| `errors/` | a text file, truncated JPEGs (in the scan, in the header), truncated PNGs, a PNG with a bad CRC, one with a broken zlib stream, a 12-bit JPEG; `manifest.json` records Pillow's own error for each | error case |
| `resize/` | `Image.resize` of photo crops and `noise.png` for a table of sizes and all six filters, both pass orders; `<case>.npy` uint8 `[H, W, 3]`, or `<case>.rows.npy` digests for 224-pixel outputs | exact |
| `processors/` | `configs/*.json` (Hub-style `preprocessor_config.json`), per-config `*.levels.npy` float32 `[3, 256]` (HF's rescale+normalise of each byte value), digests of the uint8 stage (`*.prepared.rows.npy`) and of `pixel_values` for the photos, and full `*.prepared.npy` uint8 `[H, W, 3]` + `*.pixel_values.npy` float32 `[3, H, W]` for small crops | uint8 exact, float32 <= 1e-6 (and bit-identical) |

A digest covers every element: FNV-1a 64 of the array's bytes (C order) in `manifest.json`, plus
`*.rows.npy` int64 `[H, 2]` holding, per row, the byte sum and `sum((i + 1) * byte)`, which
locates the first differing row when the digest does not match.
"""


def main() -> int:
    try:
        import torchvision  # noqa: F401

        print("torchvision is installed: transformers would not use its PIL processors; remove it", file=sys.stderr)
        return 1
    except ImportError:
        pass
    rng = np.random.default_rng(SEED)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    photos = {key: pillow_rgb(REPO / rel) for key, rel in PHOTOS.items()}
    manifest = {
        "format_version": FORMAT_VERSION,
        "decode": make_decode(rng, photos),
        "errors": make_errors(photos),
        "resize": make_resize(rng, photos),
        "processors": make_processors(photos),
    }
    save_json(OUT / "manifest.json", manifest)
    meta = {
        "generator": "tools/make_image_fixtures.py",
        "generator_sha256": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
        "format_version": FORMAT_VERSION,
        "regenerate": REGENERATE,
        "seed": SEED,
        "python": platform.python_version(),
        "pillow": PIL.__version__,
        "transformers": transformers.__version__,
        "numpy": np.__version__,
        "digest": "fnv1a64 of the raw bytes (C order) + per row int64 (sum, sum((i+1)*byte))",
        "reference": "Image.open(f).convert('RGB'); Image.resize((w, h), resample); *ImageProcessorPil",
    }
    save_json(OUT / "meta.json", meta)
    (OUT / "README.md").write_text(README)
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote {OUT.relative_to(REPO)}: {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
