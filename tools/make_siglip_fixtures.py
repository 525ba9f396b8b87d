#!/usr/bin/env python3
"""Generate ViTLens's SigLIP parity fixtures from Hugging Face transformers.

A companion of ``tools/make_fixtures.py`` (whose helpers it imports: ``randomize``, ``provenance``,
``save_f32``, ``check_rows``, ``compare_float64``, the photos): it writes two tiny random SigLIP
checkpoints to ``Tests/Fixtures/models/`` and their reference outputs to ``Tests/Fixtures/cases/``.

- ``siglip-vision``: ``SiglipVisionModel`` (``model_type`` ``siglip_vision_model``) 48/8, D=32, 2 layers,
  2 heads, ``gelu_pytorch_tanh``, with the multihead attention pooling head (``vision_use_head``).
- ``siglip-full``: ``SiglipModel`` (``model_type`` ``siglip``) with the same kind of vision tower and a tiny
  text tower (which ViTLens ignores).

Each case records ``pixel_values.npy`` [3, H, W] (``SiglipImageProcessorPil``), ``attentions.npy``
[layers, heads, N, N] (eager), ``hidden_state.npy`` [N, D] (``last_hidden_state``: ``post_layernorm`` of
every token), ``pooled.npy`` [D] (``pooler_output``, the pooling head's output) and
``probe_attention.npy`` [heads, N]: the pooling head's ``nn.MultiheadAttention`` weights of the probe
over the N patch tokens per head (``need_weights=True, average_attn_weights=False``, recomputed on the
same ``last_hidden_state`` and checked to give the same head output). Non-native sizes call the
processor with ``size={"height": H, "width": W}`` and the model with ``interpolate_pos_encoding=True``.

``--gradients`` writes only the torch autograd case ``siglip-vision-rocket-40x64-gradients`` (from the
committed ``siglip-vision`` folder and the ``siglip-vision-rocket-40x64`` pixel values; nothing else is
rewritten): the target is the cosine of the pooled output with ``gradient_reference(D)``, and it records
``embeddings.npy`` / ``embedding_gradient.npy`` [N, D] (the encoder's input and its gradient),
``attention_gradients.npy`` [layers + 1, heads, N, N] (the encoder layers' dTarget/dA, then the pooling
head's dTarget/dp [heads, N] broadcast to every row, ViTLens's layout of layer L) and ``target_value.npy``.

Run with the fixture venv (``tools/.venv``; see ``tools/make_fixtures.sh``):

    python tools/make_siglip_fixtures.py            # everything
    python tools/make_siglip_fixtures.py --gradients
    python tools/make_siglip_fixtures.py --list
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402

import make_fixtures as mf  # noqa: E402

GENERATOR = "tools/make_siglip_fixtures.py"
REGENERATE = "python tools/make_siglip_fixtures.py  (fixture venv: tools/.venv)"

SIGLIP_VISION = dict(
    image_size=48, patch_size=8, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
    num_attention_heads=2, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, vision_use_head=True,
)
SIGLIP_TEXT = dict(
    vocab_size=99, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
    max_position_embeddings=16, hidden_act="gelu_pytorch_tanh",
)


def siglip_processor():
    from transformers import SiglipImageProcessorPil

    return SiglipImageProcessorPil(size={"height": 48, "width": 48}, resample=3, image_mean=[0.5] * 3,
                                   image_std=[0.5] * 3, do_convert_rgb=True)


@torch.no_grad()
def randomize_head(model: torch.nn.Module, seed: int) -> None:
    """``randomize`` gives parameters not named ``weight``/``bias`` N(0, 0.5^2); the pooling head's fused
    ``in_proj_weight`` [3D, D] and ``in_proj_bias`` [3D] get the scales of the encoder's projections
    instead (query and key N(0, 2.25/D), value N(0, 1/D), biases N(0, 0.1^2)), and the probe N(0, 2^2) so
    that its attention is peaked (max weight ~0.3-0.6 rather than near-uniform)."""
    gen = torch.Generator().manual_seed(seed + 7)
    for name, p in model.named_parameters():
        if name.endswith("in_proj_weight"):
            d = p.shape[1]
            gains = torch.tensor([1.5] * (2 * d) + [1.0] * d).unsqueeze(1)
            p.copy_(torch.randn(p.shape, generator=gen) * gains / np.sqrt(d))
        elif name.endswith("in_proj_bias"):
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
        elif name.endswith("head.probe"):
            p.copy_(torch.randn(p.shape, generator=gen) * 2.0)


def build_siglip_vision(out: Path, seed: int) -> None:
    from transformers import SiglipVisionConfig, SiglipVisionModel

    torch.manual_seed(seed)
    model = SiglipVisionModel(SiglipVisionConfig(**SIGLIP_VISION)).eval()
    mf.randomize(model, seed)
    randomize_head(model, seed)
    model.save_pretrained(out)
    siglip_processor().save_pretrained(out)


def build_siglip_full(out: Path, seed: int) -> None:
    from transformers import SiglipConfig, SiglipModel

    torch.manual_seed(seed)
    model = SiglipModel(SiglipConfig(text_config=dict(SIGLIP_TEXT), vision_config=dict(SIGLIP_VISION))).eval()
    mf.randomize(model, seed)
    randomize_head(model, seed)
    model.save_pretrained(out)
    siglip_processor().save_pretrained(out)


MODEL_SPECS = [
    mf.ModelSpec("siglip-vision", 1101, build_siglip_vision,
                 "SiglipVisionModel 48/8, D=32, 2 layers, 2 heads, gelu_pytorch_tanh, attention pooling head"),
    mf.ModelSpec("siglip-full", 1102, build_siglip_full, "SiglipModel (vision tower as siglip-vision + tiny text tower)"),
]
MODEL_BY_NAME = {m.name: m for m in MODEL_SPECS}

IMAGE_CASES = [
    mf.ImageCase("siglip-vision-astronaut-native", "siglip-vision", "astronaut"),
    mf.ImageCase("siglip-vision-rocket-40x64", "siglip-vision", "rocket", (40, 64)),
    mf.ImageCase("siglip-full-hopper-native", "siglip-full", "hopper"),
]
ALL_CASES = {c.name: c for c in IMAGE_CASES}


def provenance(seed: int) -> dict:
    p = mf.provenance(seed)
    p["generator"] = GENERATOR
    p["generator_sha256"] = mf.sha256(Path(__file__).resolve())
    p["helpers"] = {"module": "tools/make_fixtures.py", "sha256": mf.sha256(Path(mf.__file__).resolve())}
    p["regenerate"] = REGENERATE
    return p


def probe_attention(head, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(weights [heads, N], head output [D]) of the pooling head on ``hidden`` [1, N, D]."""
    probe = head.probe.repeat(hidden.shape[0], 1, 1)
    attended, weights = head.attention(probe, hidden, hidden, need_weights=True, average_attn_weights=False)
    pooled = attended + head.mlp(head.layernorm(attended))
    return weights[0, :, 0, :], pooled[0, 0]


@torch.no_grad()
def run_case(case: mf.ImageCase) -> None:
    from transformers import SiglipModel, SiglipVisionModel

    folder = mf.MODELS / case.model
    out = mf.fresh_dir(mf.CASES / case.name)
    proc, image, kwargs, pixels = mf.case_pixels(case, folder, crop=False)
    _, _, height, width = pixels.shape

    load = dict(attn_implementation="eager", dtype=torch.float32)
    full = case.model == "siglip-full"
    model = (SiglipModel if full else SiglipVisionModel).from_pretrained(str(folder), **load).eval()
    vc = getattr(model.config, "vision_config", model.config)
    native = (height, width) == (vc.image_size, vc.image_size)
    call = dict(output_attentions=True, output_hidden_states=False)
    notes: list[str] = []
    if not native:
        call["interpolate_pos_encoding"] = True
        notes.append("position embeddings (the whole table: SigLIP has no prefix tokens) resized with torch "
                     "interpolate(size=(H/p, W/p), mode='bicubic', align_corners=False, antialias=False)")

    def forward(m, px):
        tower = m.vision_model if full else m
        outputs = tower(pixel_values=px, **call)
        attentions = torch.stack([a[0] for a in outputs.attentions])
        hidden = outputs.last_hidden_state[0]
        weights, pooled = probe_attention(tower.head, outputs.last_hidden_state)
        if float((pooled - outputs.pooler_output[0]).abs().max()) > 1e-6:
            raise SystemExit(f"{case.name}: recomputed pooling head output differs from pooler_output")
        return attentions, hidden, {"pooled": outputs.pooler_output[0], "probe_attention": weights}

    attentions, hidden, extra = forward(model, pixels)
    mf.check_rows(attentions)
    mf.check_rows(extra["probe_attention"])
    float64_check = mf.compare_float64(lambda: forward(model.double(), pixels.double()), attentions, hidden, extra)

    grid = [height // vc.patch_size, width // vc.patch_size]
    n = grid[0] * grid[1]
    if attentions.shape[-1] != n or hidden.shape[0] != n or extra["probe_attention"].shape[-1] != n:
        raise SystemExit(f"{case.name}: layout says {n} tokens, model gave {tuple(attentions.shape)}")

    mf.save_f32(out / "pixel_values.npy", pixels[0])
    mf.save_f32(out / "attentions.npy", attentions)
    mf.save_f32(out / "hidden_state.npy", hidden)
    for key, value in extra.items():
        mf.save_f32(out / f"{key}.npy", value)
    if full:
        notes.append("reference = SiglipModel.vision_model; the text tower, logit_scale and logit_bias are not used")
    notes.append("hidden_state = last_hidden_state = post_layernorm(encoder output) on every token; pooled = "
                 "pooler_output = head(last_hidden_state); probe_attention = head.attention(probe, h, h, "
                 "need_weights=True, average_attn_weights=False) weights [heads, N]")

    spec = MODEL_BY_NAME[case.model]
    layout = {"prefix": [], "grid": grid, "patch_size": vc.patch_size}
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
        "processor_call": kwargs,
        "forward_call": call,
        "layout": layout,
        "token_layout": {"prefix": [], "grid": {"rows": grid[0], "columns": grid[1], "patchSize": vc.patch_size},
                         "textTokens": 0, "poolingHeadLayer": vc.num_hidden_layers},
        "files": {f.name: list(np.load(f).shape) for f in sorted(out.glob("*.npy"))},
        "notes": notes,
        "float64_check": float64_check,
        **provenance(spec.seed),
    }
    mf.write_meta(out / "meta.json", meta)


GRADIENT_CASE = "siglip-vision-rocket-40x64-gradients"
GRADIENT_PIXELS = "siglip-vision-rocket-40x64"


def gradient_reference(d: int) -> torch.Tensor:
    """The pooled-cosine reference vector, ``(j mod 7) - 2.5`` (SigLIPGradientTests uses the same)."""
    return torch.tensor([float(j % 7) - 2.5 for j in range(d)])


def pooling_head_by_hand(head, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(probe attention [heads, N], pooled [D]) of the pooling head on ``hidden`` [1, N, D], written out op by
    op (the fused ``in_proj`` split into query | key | value) so that the attention is a leaf of the graph."""
    att = head.attention
    d = hidden.shape[-1]
    heads = att.num_heads
    dh = d // heads
    w, b = att.in_proj_weight, att.in_proj_bias
    q = torch.nn.functional.linear(head.probe[0], w[:d], b[:d]).view(1, heads, dh).transpose(0, 1)  # [heads, 1, dh]
    k = torch.nn.functional.linear(hidden[0], w[d:2 * d], b[d:2 * d]).view(-1, heads, dh).transpose(0, 1)
    v = torch.nn.functional.linear(hidden[0], w[2 * d:], b[2 * d:]).view(-1, heads, dh).transpose(0, 1)
    p = torch.softmax(q @ k.transpose(1, 2) / np.sqrt(dh), dim=-1)  # [heads, 1, N]
    p.retain_grad()
    context = (p @ v).transpose(0, 1).reshape(1, d)
    attended = att.out_proj(context)
    pooled = attended + head.mlp(head.layernorm(attended))
    return p, pooled[0]


def run_gradient_case() -> None:
    from transformers import SiglipVisionModel

    folder = mf.MODELS / "siglip-vision"
    out = mf.fresh_dir(mf.CASES / GRADIENT_CASE)
    pixels = torch.from_numpy(np.load(mf.CASES / GRADIENT_PIXELS / "pixel_values.npy")).unsqueeze(0)
    model = SiglipVisionModel.from_pretrained(str(folder), attn_implementation="eager", dtype=torch.float32).eval()
    outputs = model(pixel_values=pixels, output_attentions=True, output_hidden_states=True, interpolate_pos_encoding=True)
    embeddings = outputs.hidden_states[0]
    embeddings.retain_grad()
    for a in outputs.attentions:
        a.retain_grad()
    p, pooled = pooling_head_by_hand(model.head, outputs.last_hidden_state)
    if float((pooled - outputs.pooler_output[0]).abs().max()) > 1e-6:
        raise SystemExit(f"{GRADIENT_CASE}: the pooling head written out differs from pooler_output")
    target = torch.nn.functional.cosine_similarity(pooled, gradient_reference(pooled.shape[0]), dim=0)
    target.backward()
    n = embeddings.shape[1]
    head_layer = p.grad[:, 0, :].unsqueeze(1).expand(-1, n, -1)
    grads = torch.stack([a.grad[0] for a in outputs.attentions] + [head_layer])
    mf.save_f32(out / "embeddings.npy", embeddings[0].detach())
    mf.save_f32(out / "embedding_gradient.npy", embeddings.grad[0])
    mf.save_f32(out / "attention_gradients.npy", grads)
    mf.save_f32(out / "target_value.npy", target.detach().reshape(1))
    meta = {
        "case": GRADIENT_CASE,
        "kind": "gradients",
        "model": "siglip-vision",
        "model_sha256": mf.sha256(folder / "model.safetensors"),
        "pixels": f"cases/{GRADIENT_PIXELS}/pixel_values.npy",
        "target": "cosine_similarity(pooler_output, (j mod 7) - 2.5)",
        "files": {f.name: list(np.load(f).shape) for f in sorted(out.glob("*.npy"))},
        "notes": ["torch autograd, float32, eager attention; attention_gradients[L] = dTarget/dp of the pooling "
                  "head's probe attention [heads, N] broadcast to every row (ViTLens's layout of layer L); the "
                  "head is written out op by op and checked against pooler_output (1e-6)"],
        **provenance(MODEL_BY_NAME["siglip-vision"].seed),
    }
    mf.write_meta(out / "meta.json", meta)


def main(argv: list[str] | None = None) -> int:
    def gradients_argument(parser):
        parser.add_argument("--gradients", action="store_true", help=f"write only the autograd case {GRADIENT_CASE}")

    picked = mf.select_fixtures(argv, __doc__, MODEL_SPECS, list(ALL_CASES.values()), gradients_argument)
    if picked is None:
        return 0
    args, models, cases = picked
    if args.gradients:
        print(f"case {GRADIENT_CASE}")
        run_gradient_case()
        return 0
    for spec in models:
        print(f"model {spec.name}")
        spec.build(mf.fresh_dir(mf.MODELS / spec.name), spec.seed)
    for case in cases:
        print(f"case {case.name}")
        run_case(case)
    for d in [mf.MODELS / m.name for m in MODEL_SPECS] + [mf.CASES / c for c in ALL_CASES]:
        if d.exists():
            print(f"  {d.relative_to(mf.FIXTURES)}: {mf.dir_size(d)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
