#!/usr/bin/env python3
"""Parity fixtures for BEiT and Data2Vec-vision (relative position bias, layer scale, mean pooling).

Writes tiny random-weight checkpoints (``save_pretrained`` + a ``BeitImageProcessorPil``
``preprocessor_config.json``) to ``Tests/Fixtures/models/<model>/`` and the reference outputs of
each on the committed photos to ``Tests/Fixtures/cases/<case>/``, in the format of
``tools/make_fixtures.py`` (whose helpers this script imports: weights, processors, writers), plus:

- ``attention_logits.npy`` ``[layers, heads, N, N]``: the pre-softmax scores with the relative
  position bias added, ``QK^T/sqrt(d) + B``, captured as the input of the attention's softmax;
- ``hidden_states.npy`` ``[layers, N, D]``: every block's output (transformers' ``hidden_states[1:]``);
- ``pooled.npy`` ``[D]`` (models with ``use_mean_pooling``): the backbone's ``pooler_output``, the mean
  of the patch tokens through the pooler LayerNorm (without mean pooling it is the CLS row of
  ``hidden_state.npy`` and is not written).

Models:
- ``beit-rel``: ``BeitForImageClassification`` 64/16, per-layer relative position bias, layer scale,
  mean pooling, no absolute position embeddings, 5 labels;
- ``beit-shared``: ``BeitModel`` 48/8, one relative position bias shared by all layers, no absolute
  position embeddings, ``use_mean_pooling=False`` (final LayerNorm on every token, CLS pooler);
- ``data2vec-vision``: ``Data2VecVisionForImageClassification`` 64/16, per-layer relative position
  bias *and* absolute position embeddings, layer scale, mean pooling, 5 labels.

Non-square cases call the processor with ``size={"height": H, "width": W}, do_center_crop=False`` and
the model with ``interpolate_pos_encoding=True``; the script checks that the outputs equal those of
``interpolate_pos_encoding=False`` (the flag only adds an identity bilinear resize of the N x N bias).

Run from anywhere with the reference stack:
    tools/.venv/bin/python tools/make_beit_fixtures.py [--only NAME ...] [--list]
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (weights, processors, writers, provenance)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402

GENERATOR = "tools/make_beit_fixtures.py"
REGENERATE = "tools/.venv/bin/python tools/make_beit_fixtures.py [--only NAME ...]"

TINY = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, drop_path_rate=0.0)


def labelled() -> dict:
    return dict(num_labels=5, id2label=dict(mf.LABELS), label2id={v: k for k, v in mf.LABELS.items()})


def processor(size: int, resample: int, crop: int | None = None, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)):
    from transformers import BeitImageProcessorPil

    crop_kwargs = dict(do_center_crop=True, crop_size={"height": crop, "width": crop}) if crop else {}
    return BeitImageProcessorPil(size={"height": size, "width": size}, resample=resample, image_mean=list(mean),
                                 image_std=list(std), **crop_kwargs)


def build_beit_rel(out: Path, seed: int) -> None:
    from transformers import BeitConfig, BeitForImageClassification

    torch.manual_seed(seed)
    cfg = BeitConfig(image_size=64, patch_size=16, **TINY, use_relative_position_bias=True,
                     use_absolute_position_embeddings=False, use_mean_pooling=True, layer_scale_init_value=0.1,
                     **labelled())
    model = BeitForImageClassification(cfg).eval()
    mf.randomize(model, seed)
    model.save_pretrained(out)
    processor(64, 3).save_pretrained(out)


def build_beit_shared(out: Path, seed: int) -> None:
    from transformers import BeitConfig, BeitModel

    torch.manual_seed(seed)
    cfg = BeitConfig(image_size=48, patch_size=8, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
                     intermediate_size=96, drop_path_rate=0.0, use_shared_relative_position_bias=True,
                     use_relative_position_bias=False, use_absolute_position_embeddings=False,
                     use_mean_pooling=False, layer_scale_init_value=0.1)
    model = BeitModel(cfg).eval()
    mf.randomize(model, seed)
    model.save_pretrained(out)
    processor(56, 2, crop=48).save_pretrained(out)


def build_data2vec_vision(out: Path, seed: int) -> None:
    from transformers import Data2VecVisionConfig, Data2VecVisionForImageClassification

    torch.manual_seed(seed)
    cfg = Data2VecVisionConfig(image_size=64, patch_size=16, **TINY, use_relative_position_bias=True,
                               use_absolute_position_embeddings=True, use_mean_pooling=True,
                               layer_scale_init_value=0.1, **labelled())
    model = Data2VecVisionForImageClassification(cfg).eval()
    mf.randomize(model, seed)
    model.save_pretrained(out)
    processor(64, 3, mean=mf.IMAGENET_MEAN, std=mf.IMAGENET_STD).save_pretrained(out)


MODEL_SPECS = [
    mf.ModelSpec("beit-rel", 1101, build_beit_rel,
                 "BeitForImageClassification 64/16, D=32, 2 layers, 2 heads, per-layer relative position bias, "
                 "layer scale, mean pooling, 5 labels"),
    mf.ModelSpec("beit-shared", 1102, build_beit_shared,
                 "BeitModel 48/8, D=48, 2 layers, 3 heads, shared relative position bias, layer scale, "
                 "final LayerNorm (no mean pooling)"),
    mf.ModelSpec("data2vec-vision", 1103, build_data2vec_vision,
                 "Data2VecVisionForImageClassification 64/16, D=32, 2 layers, 2 heads, per-layer relative "
                 "position bias + absolute position embeddings, layer scale, mean pooling, 5 labels"),
]
MODEL_BY_NAME = {m.name: m for m in MODEL_SPECS}

IMAGE_CASES = [
    mf.ImageCase("beit-rel-hopper-native", "beit-rel", "hopper"),
    mf.ImageCase("beit-rel-astronaut-48x80", "beit-rel", "astronaut", (48, 80)),
    mf.ImageCase("beit-shared-rocket-native", "beit-shared", "rocket"),
    mf.ImageCase("beit-shared-hopper-64x40", "beit-shared", "hopper", (64, 40)),
    mf.ImageCase("data2vec-vision-astronaut-native", "data2vec-vision", "astronaut"),
    mf.ImageCase("data2vec-vision-rocket-80x48", "data2vec-vision", "rocket", (80, 48)),
]
ALL_CASES = {c.name: c for c in IMAGE_CASES}

NOTES = [
    "relative position bias: the table's first (2*gh0-1)*(2*gw0-1) rows (gh0 = gw0 = image_size/patch_size) "
    "are reshaped to [2*gw0-1, 2*gh0-1, heads] and resized, for every input size (native included), to "
    "(2*gh-1, 2*gw-1) with torch interpolate(mode='bilinear', align_corners=False, antialias=False); the last 3 "
    "rows (cls->token, token->cls, cls->cls) are kept. Index of patch pair (i, j) = (ri - rj + gh - 1) * "
    "(2*gw - 1) + (ci - cj + gw - 1); row 0 uses T-3, column 0 uses T-2, (0, 0) uses T-1 (T = rows of the "
    "resized table)",
    "k has no bias (q and v do); lambda_1 / lambda_2 scale the attention and MLP branches before each residual add",
]


# Cases that also record torch autograd's gradient of one class logit (below).
GRADIENT_CASES = {"beit-rel-astronaut-48x80": 2, "data2vec-vision-rocket-80x48": 4}


def autograd(model, pixels: torch.Tensor, call: dict, class_index: int) -> dict:
    """d logits[class_index] / d A_l (every layer's post-softmax attention, the tensor multiplied with
    the values) and d logits[class_index] / d E (the embeddings module's output, the encoder input)."""
    captured = {}

    def keep(module, args, output):
        out = output[0] if isinstance(output, tuple) else output
        out.retain_grad()
        captured["embeddings"] = out

    handle = backbone_of(model).embeddings.register_forward_hook(keep)
    try:
        with torch.enable_grad():
            outputs = model(pixel_values=pixels, **call)
            for a in outputs.attentions:
                a.retain_grad()
            outputs.logits[0, class_index].backward()
    finally:
        handle.remove()
    return {"attention_gradients": torch.stack([a.grad[0] for a in outputs.attentions]),
            "embedding_gradient": captured["embeddings"].grad[0],
            "embeddings": captured["embeddings"].detach()[0]}


def generator_revision() -> str:
    """The last commit that changed this file, ``+modified`` when the file differs from it."""
    try:
        git = ["git", "-C", str(mf.REPO)]
        head = subprocess.run(git + ["log", "-1", "--format=%H", "--", GENERATOR], capture_output=True, text=True,
                              check=True).stdout.strip() or "uncommitted"
        changed = subprocess.run(git + ["status", "--porcelain", "--", GENERATOR], capture_output=True, text=True,
                                 check=True).stdout.strip()
        return head + ("+modified" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def backbone_of(model):
    return getattr(model, "beit", None) or getattr(model, "data2vec_vision", None) or model


class SoftmaxInputs:
    """Records the input of every ``[1, heads, N, N]`` softmax while active: the attention logits."""

    def __init__(self):
        self.inputs: list[torch.Tensor] = []
        self.original = torch.nn.functional.softmax

    def __enter__(self):
        original = self.original

        def recording(x, *args, **kwargs):
            if x.dim() == 4:
                self.inputs.append(x.detach().clone())
            return original(x, *args, **kwargs)

        torch.nn.functional.softmax = recording
        return self

    def __exit__(self, *exc):
        torch.nn.functional.softmax = self.original
        return False


@torch.no_grad()
def run_case(case: mf.ImageCase) -> None:
    from transformers import AutoConfig, BeitForImageClassification, BeitModel
    from transformers import Data2VecVisionForImageClassification, Data2VecVisionModel

    folder = mf.MODELS / case.model
    out = mf.fresh_dir(mf.CASES / case.name)
    proc, image, kwargs, pixels = mf.case_pixels(case, folder)
    _, _, height, width = pixels.shape

    cfg = AutoConfig.from_pretrained(str(folder))
    classes = {("beit", True): BeitForImageClassification, ("beit", False): BeitModel,
               ("data2vec-vision", True): Data2VecVisionForImageClassification,
               ("data2vec-vision", False): Data2VecVisionModel}
    has_classifier = bool(getattr(cfg, "architectures", None)) and cfg.architectures[0].endswith("ImageClassification")
    cls = classes[(cfg.model_type, has_classifier)]
    load = dict(attn_implementation="eager", dtype=torch.float32)
    model = cls.from_pretrained(str(folder), **load).eval()
    native = (height, width) == (cfg.image_size, cfg.image_size)
    call = dict(output_attentions=True, output_hidden_states=True)
    if not native:
        call["interpolate_pos_encoding"] = True

    def forward(m, px, call=call):
        """(attentions [L,H,N,N], hidden [N,D], extra outputs) of model ``m`` on ``px``."""
        backbone = backbone_of(m)
        if backbone is not m:
            base = backbone(pixel_values=px, **call)
            with SoftmaxInputs() as rec:
                outputs = m(pixel_values=px, **call)
            extra = {"logits": outputs.logits[0]}
        else:
            with SoftmaxInputs() as rec:
                base = outputs = m(pixel_values=px, **call)
            extra = {}
        attentions = torch.stack([a[0] for a in outputs.attentions])
        if not torch.equal(torch.stack([a[0] for a in base.attentions]), attentions):
            raise SystemExit(f"{case.name}: backbone attentions differ from the classifier's")
        if len(rec.inputs) != len(outputs.attentions):
            raise SystemExit(f"{case.name}: {len(rec.inputs)} softmax inputs recorded for {len(outputs.attentions)} layers")
        extra["attention_logits"] = torch.stack([x[0] for x in rec.inputs])
        extra["hidden_states"] = torch.stack([h[0] for h in outputs.hidden_states[1:]])
        if cfg.use_mean_pooling:  # otherwise pooler_output is the CLS row of last_hidden_state
            extra["pooled"] = base.pooler_output[0]
        return attentions, base.last_hidden_state[0], extra

    attentions, hidden, extra = forward(model, pixels)
    mf.check_rows(attentions)
    logits = extra["attention_logits"]
    err = float((torch.softmax(logits.double(), -1) - attentions.double()).abs().max())
    print(f"    softmax(attention_logits) vs attentions: {err:.1e}")
    if err > 1e-6:
        raise SystemExit(f"{case.name}: the recorded logits do not give the attentions ({err})")
    notes = list(NOTES)
    if not native:
        plain_att, plain_hidden, _ = forward(model, pixels, call={**call, "interpolate_pos_encoding": False})
        same = torch.equal(plain_att, attentions) and torch.equal(plain_hidden, hidden)
        print(f"    interpolate_pos_encoding False gives the same outputs: {same}")
        notes.append("interpolate_pos_encoding=True and False give bit-identical outputs here: the flag only adds a "
                     "bilinear resize of the [heads, N, N] bias to (N, N), an identity"
                     if same else "interpolate_pos_encoding=False gives DIFFERENT outputs")
        if cfg.use_absolute_position_embeddings:
            notes.append(mf.INTERPOLATION_NOTES["vit"] + " (always, whatever interpolate_pos_encoding says)")
    float64_check = mf.compare_float64(lambda: forward(model.double(), pixels.double()), attentions, hidden, extra)

    prefix, grid, patch = ["cls"], [height // cfg.patch_size, width // cfg.patch_size], cfg.patch_size
    n = 1 + grid[0] * grid[1]
    if attentions.shape[-1] != n or hidden.shape[0] != n:
        raise SystemExit(f"{case.name}: layout says {n} tokens, model gave {tuple(attentions.shape)}")

    if case.name in GRADIENT_CASES:
        index = GRADIENT_CASES[case.name]
        grads = autograd(model.float(), pixels, call, index)
        for key, value in grads.items():
            mf.save_f32(out / f"{key}.npy", value)
        notes.append(f"attention_gradients.npy [layers, heads, N, N] = d logits[{index}] / d attentions (torch autograd, "
                     f"retain_grad on the returned attentions); embedding_gradient.npy [N, D] = d logits[{index}] / d "
                     "embeddings (the embeddings module's output, encoder input); embeddings.npy = that output")

    mf.save_f32(out / "pixel_values.npy", pixels[0])
    mf.save_f32(out / "attentions.npy", attentions)
    mf.save_f32(out / "hidden_state.npy", hidden)
    for key, value in extra.items():
        mf.save_f32(out / f"{key}.npy", value)

    spec = MODEL_BY_NAME[case.model]
    provenance = mf.provenance(spec.seed)
    provenance.update(generator=GENERATOR, generator_sha256=mf.sha256(Path(__file__).resolve()),
                      generator_commit=generator_revision(), regenerate=REGENERATE)
    meta = {
        "case": case.name,
        "kind": "image",
        "model": case.model,
        "model_class": type(model).__name__,
        "model_sha256": mf.sha256(folder / "model.safetensors"),
        "photo": f"photos/{mf.PHOTO_FILES[case.photo]}",
        "requested_size": list(case.size) if case.size else None,
        "input_size": [height, width],
        "processor": type(proc).__name__,
        "processor_call": dict(kwargs),
        "forward_call": dict(call),
        "layout": {"prefix": prefix, "grid": grid, "patch_size": patch},
        "token_layout": {"prefix": prefix, "grid": {"rows": grid[0], "columns": grid[1], "patchSize": patch},
                         "textTokens": 0},
        "files": {f.name: list(np.load(f).shape) for f in sorted(out.glob("*.npy"))},
        "notes": notes,
        "float64_check": float64_check,
        **provenance,
    }
    mf.write_meta(out / "meta.json", meta)


def main(argv: list[str] | None = None) -> int:
    picked = mf.select_fixtures(argv, __doc__, MODEL_SPECS, IMAGE_CASES)
    if picked is None:
        return 0
    _, models, cases = picked
    for spec in models:
        print(f"model {spec.name}")
        spec.build(mf.fresh_dir(mf.MODELS / spec.name), spec.seed)
    for case in cases:
        print(f"case {case.name}")
        run_case(case)
    for name in sorted({c.model for c in cases} | {m.name for m in models}):
        print(f"  models/{name}: {mf.dir_size(mf.MODELS / name)} bytes")
    for case in cases:
        print(f"  cases/{case.name}: {mf.dir_size(mf.CASES / case.name)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
