#!/usr/bin/env python3
"""Generate the PyTorch checkpoint fixtures of ViTLens's `.pth` reader (Tests/Fixtures/torch).

Writes, with the pinned reference stack (run with tools/.venv/bin/python, from anywhere):

* ``tensors/<name>.pth``: small state dicts written by ``torch.save`` in the zip format and the legacy
  format (``_use_new_zipfile_serialization=False``), in float32, float16, bfloat16 and float64, with a
  transposed (strided) view, a view at a storage offset, a scalar, an empty tensor and an int64
  buffer; nested files ``{"model": sd, "epoch": 3}`` and DINO's ``{"teacher": sd, "student": sd}``.
  ``tensors/<dtype>.safetensors`` holds the same tensors (contiguous, same dtype) for a bit-exact
  comparison.
* ``hostile/*.pth``: files a safe reader must refuse (see HOSTILE below), each made by hand from
  pickle opcodes and zip records; none of them is ever loaded by Python here.
* ``vit-cls/``: the ``vit-p16-cls`` fixture model's state dict as ``pytorch_model.bin`` (zip format)
  beside its ``config.json``, so the loader can be compared with the safetensors fixture.
* ``timm-*/``: Hugging Face fixture models rewritten in timm's naming (``hf_to_timm`` below: fused
  ``attn.qkv``, ``blocks.N``, ``pos_embed``, ``head``/``head_dist``) with a timm Hub ``config.json``
  (``architecture``, ``num_classes``, ``model_args``, ``pretrained_cfg``): ``timm-vit-cls``
  (``model.safetensors``), ``timm-deit-distilled`` (``pytorch_model.bin``) and ``timm-dino-p8``
  (``dino-p8.pth``, DINO's headless ViT), so the loader's timm mapping can be compared with the
  Hugging Face models the files came from.
* ``dino-full/dino-p8_full_checkpoint.pth``: ``timm-dino-p8``'s weights as a DINO training checkpoint
  (``main_dino.py``'s ``save_dict``): ``teacher`` under ``backbone.`` with a DINO projection head
  (``head.mlp.*``, ``head.last_layer.weight_g/_v``), ``student`` under ``module.backbone.`` (DDP) with
  other values, an ``optimizer`` state, ``epoch``, ``args`` (an ``argparse.Namespace``) and
  ``dino_loss`` (its ``center`` buffer).
* ``dino-vis/``: DINO's ``visualize_attention.py`` preprocessing of ``timm-preprocess/source.png``
  (``Resize(image_size)``, ``ToTensor``, ``Normalize`` with ImageNet statistics, then the crop to a
  multiple of the patch size from the top left), written with Pillow and NumPy as torchvision does it
  (torchvision's PyPI build does not load against the CPU torch here): ``short60-p8.npy``
  (``--image_size 60``: a one-element list, so the shorter side) and ``45x70-p8.npy`` (an exact size).

    tools/.venv/bin/python tools/make_torch_fixtures.py [--only dino]
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "Fixtures" / "torch"
sys.path.insert(0, str(ROOT / "tools"))
from make_fixtures import fresh_dir  # noqa: E402

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16, "f64": torch.float64}


def state_dict(dtype: torch.dtype, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    base = (torch.randn(4, 6, generator=gen) * 3).to(dtype)
    sd = {
        "blocks.0.attn.qkv.weight": (torch.randn(9, 3, generator=gen)).to(dtype),
        "blocks.0.norm1.bias": torch.randn(3, generator=gen).to(dtype),
        "transposed": base.t(),  # strides (1, 6) over a 24-element storage
        "row_view": base[1:3],  # storage offset 6, shares base's storage
        "base": base,
        "scalar": torch.tensor(1.5, dtype=dtype),
        "empty": torch.zeros(0, 3, dtype=dtype),
        "special": torch.tensor([0.0, -0.0, 65504.0, 1e-3, -2.5, 7.0], dtype=dtype),
        "num_batches_tracked": torch.tensor(7, dtype=torch.int64),
    }
    return sd


def write_tensors() -> None:
    out = fresh_dir(OUT / "tensors")
    for i, (name, dtype) in enumerate(DTYPES.items()):
        sd = state_dict(dtype, seed=100 + i)
        torch.save(sd, out / f"{name}.zip.pth")
        if name in ("f32", "bf16"):
            torch.save(sd, out / f"{name}.legacy.pth", _use_new_zipfile_serialization=False)
        save_file({k: v.contiguous().clone() for k, v in sd.items()}, str(out / f"{name}.safetensors"))
    sd = state_dict(torch.float32, seed=100)
    torch.save({"model": sd, "epoch": 3, "arch": "vit_small", "lr": 0.5}, out / "nested-model.pth")
    student = {k: v + 1 for k, v in sd.items() if v.is_floating_point()}
    torch.save({"student": student, "teacher": sd, "epoch": 100}, out / "dino-style.pth")
    torch.save({"a": student, "b": sd}, out / "two-dicts.pth")


# -------------------------------------------------------------------------------------------------
# Hostile files: pickle opcodes written by hand (pickletools names).
# -------------------------------------------------------------------------------------------------

def torch_zip(path: Path, pickle_bytes: bytes, storages: dict[str, bytes] | None = None) -> None:
    """A zip laid out like torch.save's (stored entries under ``archive/``)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/byteorder", "little")
        for key, data in (storages or {}).items():
            z.writestr(f"archive/data/{key}", data)
        z.writestr("archive/version", "3\n")


def unicode(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def tensor_pickle(offset: int, size: tuple[int, ...], stride: tuple[int, ...], numel: int) -> bytes:
    """``{'w': _rebuild_tensor_v2(FloatStorage '0' of numel, offset, size, stride, False, OrderedDict())}``."""
    def ints(values):
        return b"(" + b"".join(b"J" + struct.pack("<i", v) for v in values) + b"t"
    return (b"\x80\x02}(" + unicode("w") + b"ctorch._utils\n_rebuild_tensor_v2\n("
            + b"(" + unicode("storage") + b"ctorch\nFloatStorage\n" + unicode("0") + unicode("cpu")
            + b"J" + struct.pack("<i", numel) + b"tQ"
            + b"J" + struct.pack("<i", offset) + ints(size) + ints(stride)
            + b"\x89ccollections\nOrderedDict\n)RtRu.")


LEGACY_HEAD = (b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."  # magic number
               b"\x80\x02M\xe9\x03."  # protocol 1001
               b"\x80\x02}(" + unicode("little_endian") + b"\x88u.")  # sys info


def write_hostile() -> None:
    out = fresh_dir(OUT / "hostile")
    system = b"\x80\x02cos\nsystem\n" + unicode("touch /tmp/vitlens-pwned") + b"\x85R."
    torch_zip(out / "os-system.pth", system)
    (out / "os-system-legacy.pth").write_bytes(LEGACY_HEAD + system)
    torch_zip(out / "unknown-global.pth", b"\x80\x02}(" + unicode("w") + b"ctorch.nn.modules.linear\nLinear\n)Ru.")
    torch_zip(out / "stack-global.pth", b"\x80\x04" + b"\x8c\x08builtins\x8c\x04eval\x93" + unicode("1") + b"\x85R.")
    floats = struct.pack("<6f", *range(6))
    torch_zip(out / "good-view.pth", tensor_pickle(2, (2, 2), (2, 1), 6), {"0": floats})
    torch_zip(out / "offset-past-end.pth", tensor_pickle(4, (2, 2), (2, 1), 6), {"0": floats})
    torch_zip(out / "storage-short.pth", tensor_pickle(0, (2, 3), (3, 1), 6), {"0": floats[:16]})
    torch_zip(out / "missing-storage.pth", tensor_pickle(0, (2, 3), (3, 1), 6), {})
    torch_zip(out / "huge-unicode.pth", b"\x80\x02}(X\xf0\xff\xff\xff" + b"abc")
    torch_zip(out / "huge-long.pth", b"\x80\x02\x8b\x00\x00\x00\x80" + b"\x00" * 32 + b".")
    torch_zip(out / "deep-nesting.pth", b"\x80\x02" + b"]" * 1000 + b"a" * 999 + b".")
    torch_zip(out / "mark-flood.pth", b"\x80\x02" + b"(" * 1000 + b".")
    # A real torch.save file cut short, and one with a compressed entry.
    good = io.BytesIO()
    torch.save({"w": torch.arange(64, dtype=torch.float32)}, good)
    raw = good.getvalue()
    (out / "truncated.pth").write_bytes(raw[: len(raw) * 2 // 3])
    with zipfile.ZipFile(out / "compressed.pth", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.pkl", tensor_pickle(0, (2, 3), (3, 1), 6))
        z.writestr("archive/data/0", floats)
    # Zip bomb: the central directory declares a 4 GB - 1 stored entry in a file of a few hundred bytes.
    bomb = bytearray((out / "good-view.pth").read_bytes())
    first = bomb.find(b"PK\x01\x02")
    struct.pack_into("<II", bomb, first + 20, 0xFFFF_FFFE, 0xFFFF_FFFE)
    (out / "zip-bomb.pth").write_bytes(bytes(bomb))
    # Absurd entry count in the end record.
    absurd = bytearray((out / "good-view.pth").read_bytes())
    eocd = absurd.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", absurd, eocd + 8, 0xFFFE, 0xFFFE)
    (out / "absurd-count.pth").write_bytes(bytes(absurd))
    (out / "not-torch.pth").write_bytes(b"GIF89a this is not a checkpoint")


def write_vit_cls() -> None:
    from safetensors.torch import load_file
    src = ROOT / "Tests" / "Fixtures" / "models" / "vit-p16-cls"
    out = fresh_dir(OUT / "vit-cls")
    sd = load_file(str(src / "model.safetensors"))
    torch.save(sd, out / "pytorch_model.bin")
    for name in ("config.json", "preprocessor_config.json"):
        shutil.copy(src / name, out / name)


def hf_to_timm(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A Hugging Face ViT/DeiT state dict renamed to timm's VisionTransformer(Distilled) keys."""
    out: dict[str, torch.Tensor] = {}
    plain = {k.split(".", 1)[1] if k.startswith(("vit.", "deit.")) else k: v for k, v in sd.items()}
    renames = {
        "embeddings.cls_token": "cls_token", "embeddings.distillation_token": "dist_token",
        "embeddings.position_embeddings": "pos_embed",
        "embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
        "embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
        "layernorm.weight": "norm.weight", "layernorm.bias": "norm.bias",
        "classifier.weight": "head.weight", "classifier.bias": "head.bias",
        "cls_classifier.weight": "head.weight", "cls_classifier.bias": "head.bias",
        "distillation_classifier.weight": "head_dist.weight", "distillation_classifier.bias": "head_dist.bias",
    }
    block = {
        "layernorm_before": "norm1", "layernorm_after": "norm2", "attention.output.dense": "attn.proj",
        "intermediate.dense": "mlp.fc1", "output.dense": "mlp.fc2",
    }
    layers = sorted({int(k.split(".")[2]) for k in plain if k.startswith("encoder.layer.")})
    for k, v in plain.items():
        if k in renames:
            out[renames[k]] = v
        elif k.startswith("encoder.layer.") and ".attention.attention." not in k:
            _, _, n, rest = k.split(".", 3)
            module, param = rest.rsplit(".", 1)
            out[f"blocks.{n}.{block[module]}.{param}"] = v
        elif not k.startswith(("encoder.layer.", "pooler.")):
            raise KeyError(k)
    for n in layers:
        a = f"encoder.layer.{n}.attention.attention"
        for param in ("weight", "bias"):
            out[f"blocks.{n}.attn.qkv.{param}"] = torch.cat([plain[f"{a}.{m}.{param}"] for m in ("query", "key", "value")])
    return out


def timm_config(architecture: str, hf: dict, num_classes: int, preprocessor: dict, tag: str) -> dict:
    """A timm Hub ``config.json`` for a fixture: tiny sizes go in ``model_args``."""
    size = preprocessor["crop_size"]["height"] if preprocessor.get("do_center_crop") else preprocessor["size"]["height"]
    return {
        "architecture": architecture,
        "num_classes": num_classes,
        "num_features": hf["hidden_size"],
        "global_pool": "token",
        "model_args": {"embed_dim": hf["hidden_size"], "depth": hf["num_hidden_layers"],
                       "num_heads": hf["num_attention_heads"], "img_size": hf["image_size"]},
        "pretrained_cfg": {"tag": tag, "input_size": [3, size, size], "interpolation": "bicubic",
                           "crop_pct": round(size / preprocessor["size"]["height"], 4), "crop_mode": "center",
                           "mean": preprocessor["image_mean"], "std": preprocessor["image_std"],
                           "num_classes": num_classes, "first_conv": "patch_embed.proj", "classifier": "head"},
    }


def write_timm() -> None:
    from safetensors.torch import load_file
    models = ROOT / "Tests" / "Fixtures" / "models"
    cases = [("vit-p16-cls", "timm-vit-cls", "vit_tiny_patch16_224", "model.safetensors"),
             ("deit-distilled", "timm-deit-distilled", "deit_tiny_distilled_patch16_224", "pytorch_model.bin"),
             ("dino-p8", "timm-dino-p8", "vit_small_patch8_224", "dino-p8.pth")]
    for source, name, architecture, weights in cases:
        src = models / source
        out = fresh_dir(OUT / name)
        hf = json.loads((src / "config.json").read_text())
        preprocessor = json.loads((src / "preprocessor_config.json").read_text())
        sd = hf_to_timm(load_file(str(src / "model.safetensors")))
        classes = sd["head.weight"].shape[0] if "head.weight" in sd else 0
        tag = "dino" if "dino" in source else "fixture"
        config = timm_config(architecture, hf, classes, preprocessor, tag)
        if "id2label" in hf:
            config["label_names"] = [hf["id2label"][str(i)] for i in range(classes)]
        (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        if weights.endswith(".safetensors"):
            save_file(sd, str(out / weights), metadata={"format": "pt"})
        else:
            torch.save(sd, out / weights)


def write_dino_full() -> None:
    import argparse
    out = fresh_dir(OUT / "dino-full")
    teacher = torch.load(OUT / "timm-dino-p8" / "dino-p8.pth", weights_only=True)
    gen = torch.Generator().manual_seed(31)
    width = teacher["cls_token"].shape[-1]
    head = {"head.mlp.0.weight": torch.randn(64, width, generator=gen), "head.mlp.0.bias": torch.zeros(64),
            "head.mlp.2.weight": torch.randn(16, 64, generator=gen), "head.mlp.2.bias": torch.zeros(16),
            "head.last_layer.weight_g": torch.ones(32, 1), "head.last_layer.weight_v": torch.randn(32, 16, generator=gen)}
    student = {k: v + 0.25 * torch.randn(v.shape, generator=gen) for k, v in teacher.items()}
    save = {
        "student": {**{f"module.backbone.{k}": v for k, v in student.items()}, **{f"module.{k}": v for k, v in head.items()}},
        "teacher": {**{f"backbone.{k}": v for k, v in teacher.items()}, **head},
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.0005, "weight_decay": 0.04, "params": [0, 1, 2]}]},
        "epoch": 3,
        "args": argparse.Namespace(arch="vit_small", patch_size=8, out_dim=32, lr=0.0005, global_crops_scale=(0.4, 1.0)),
        "dino_loss": {"center": torch.zeros(1, 32)},
    }
    torch.save(save, out / "dino-p8_full_checkpoint.pth")


def dino_vis(image, size: list[int], patch: int):
    """visualize_attention.py: Resize(size) (one int: the shorter side), ToTensor, Normalize, crop."""
    import numpy as np
    from PIL import Image
    w, h = image.size
    if len(size) == 1:
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size[0], int(size[0] * long / short)
        new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    else:
        new_h, new_w = size
    resized = np.asarray(image.resize((new_w, new_h), Image.BILINEAR), dtype=np.uint8)
    x = resized.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)[:, None, None]
    x = (x - mean) / std
    rows, cols = x.shape[1] - x.shape[1] % patch, x.shape[2] - x.shape[2] % patch
    return np.ascontiguousarray(x[:, :rows, :cols])


def write_dino_vis() -> None:
    import numpy as np
    from PIL import Image
    out = fresh_dir(OUT / "dino-vis")
    image = Image.open(OUT / "timm-preprocess" / "source.png").convert("RGB")
    cases = {"short60-p8": ([60], 8), "45x70-p8": ([45, 70], 8)}
    for name, (size, patch) in cases.items():
        np.save(out / f"{name}.npy", dino_vis(image, size, patch))
    import PIL
    meta = {"generator": "tools/make_torch_fixtures.py", "numpy": np.__version__, "pillow": PIL.__version__,
            "source": "timm-preprocess/source.png", "cases": {k: {"image_size": v[0], "patch": v[1]} for k, v in cases.items()}}
    (out / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def main() -> None:
    if sys.argv[1:] == ["--only", "dino"]:
        write_dino_full()
        write_dino_vis()
        print(f"wrote {OUT / 'dino-full'} and {OUT / 'dino-vis'}")
        return
    write_tensors()
    write_hostile()
    write_vit_cls()
    write_timm()
    write_dino_full()
    write_dino_vis()
    meta = {"torch": torch.__version__, "generator": "tools/make_torch_fixtures.py"}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
