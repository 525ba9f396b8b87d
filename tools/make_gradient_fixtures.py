#!/usr/bin/env python3
"""Generate ViTLens's gradient parity fixtures with torch autograd.

For each case, the fixture model (Tests/Fixtures/models/<model>, made by make_fixtures.py) runs in
transformers (eager attention, float32); ``retain_grad`` is registered on every layer's attention
probabilities and on the encoder's input (the first layer's ``hidden_states``: after position
embeddings, and after BERT's embedding LayerNorm or CLIP's ``pre_layrnorm``); the target is computed
in torch and ``backward()``-ed. Written to ``Tests/Fixtures/gradients/<case>/``:

- ``attentions.npy``       [layers, heads, N, N]  attention probabilities A_l
- ``attention_grads.npy``  [layers, heads, N, N]  dTarget/dA_l
- ``embedding_grads.npy``  [N, D]                 dTarget/d(encoder input)
- ``pixel_values.npy``     [3, H, W]  (image cases whose pixels are not already a parity case's; else
                                       ``meta.json``'s ``pixel_values`` names that file)
- ``reference.npy``        [D]        cosine targets: the other photo's / sentence's pooled embedding
- ``meta.json``            target, its value, layout, float64 check, provenance

Run: ``tools/.venv/bin/python tools/make_gradient_fixtures.py [--only CASE ...]``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from PIL import Image  # noqa: E402

import make_fixtures as mf  # noqa: E402

GRADIENTS = mf.FIXTURES / "gradients"
GENERATOR = "tools/make_gradient_fixtures.py"
OTHER_SENTENCE = "The dog was exhausted"


@dataclass
class Case:
    name: str
    model: str
    target: dict  # {"kind": "classLogit", "index": i} | {"kind": "pooledCosine", "reference": photo}
    #               | {"kind": "meanPooledCosine", "reference": sentence} | {"kind": "tokenCosine", "token": a, "to": b}
    photo: str | None = None
    size: tuple[int, int] | None = None  # (height, width), None = the processor's own (native)
    text_case: str | None = None  # parity case whose input ids are reused (text)
    pixels_from: str | None = None  # parity case whose pixel_values.npy this input equals


CASES = [
    Case("vit-p16-cls-hopper-32x48", "vit-p16-cls", {"kind": "classLogit", "index": "top1"}, "hopper", (32, 48)),
    Case("vit-p16-cls-astronaut-64x64", "vit-p16-cls", {"kind": "classLogit", "index": 3}, "astronaut", (64, 64)),
    Case("dinov2-reg-astronaut-native", "dinov2-reg", {"kind": "pooledCosine", "reference": "hopper"}, "astronaut",
         pixels_from="dinov2-reg-astronaut-native"),
    Case("dinov2-reg-rocket-42x70", "dinov2-reg", {"kind": "tokenCosine", "token": 5, "to": 12}, "rocket", (42, 70)),
    Case("clip-vision-astronaut-native", "clip-vision", {"kind": "pooledCosine", "reference": "rocket"}, "astronaut",
         pixels_from="clip-vision-astronaut-native"),
    Case("clip-vision-rocket-32x64", "clip-vision", {"kind": "pooledCosine", "reference": "hopper"}, "rocket", (32, 64)),
    Case("deit-distilled-hopper-native", "deit-distilled", {"kind": "classLogit", "index": "top1"}, "hopper",
         pixels_from="deit-distilled-hopper-native"),
    Case("deit-distilled-rocket-32x48", "deit-distilled", {"kind": "classLogit", "index": 4}, "rocket", (32, 48)),
    Case("bert-tiny-animal", "bert-tiny", {"kind": "meanPooledCosine", "reference": OTHER_SENTENCE},
         text_case="bert-tiny-animal"),
    Case("bert-tiny-wordpiece", "bert-tiny", {"kind": "tokenCosine", "token": 1, "to": 4}, text_case="bert-tiny-wordpiece"),
    Case("dinov2-swiglu-hopper-native", "dinov2-swiglu", {"kind": "pooledCosine", "reference": "astronaut"}, "hopper",
         pixels_from="dinov2-swiglu-hopper-native"),
    Case("dinov2-swiglu-rocket-42x56", "dinov2-swiglu", {"kind": "tokenCosine", "token": 0, "to": 7}, "rocket", (42, 56)),
]
BY_NAME = {c.name: c for c in CASES}


def load_model(name: str):
    from transformers import AutoModel, BertModel, DeiTForImageClassificationWithTeacher, ViTForImageClassification

    load = dict(attn_implementation="eager", dtype=torch.float32)
    folder = str(mf.MODELS / name)
    if name == "vit-p16-cls":
        return ViTForImageClassification.from_pretrained(folder, **load).eval()
    if name == "deit-distilled":
        return DeiTForImageClassificationWithTeacher.from_pretrained(folder, **load).eval()
    if name == "bert-tiny":
        return BertModel.from_pretrained(folder, **load).eval()
    return AutoModel.from_pretrained(folder, **load).eval()


def image_pixels(model_name: str, photo: str, size) -> torch.Tensor:
    """[1, 3, H, W] as make_fixtures.py's image cases compute them."""
    proc = mf.load_processor(mf.MODELS / model_name)
    image = Image.open(mf.PHOTOS / mf.PHOTO_FILES[photo])
    image.load()
    kwargs = {} if size is None else {"size": {"height": size[0], "width": size[1]}, "do_center_crop": False}
    return proc(images=image, return_tensors="pt", **kwargs)["pixel_values"].to(torch.float32)


def first_layer(model) -> torch.nn.Module:
    for name, module in model.named_modules():
        if name.split(".")[-2:] in (["layer", "0"], ["layers", "0"]):  # vit.layers.0, encoder.layer.0, ...
            return module
    raise SystemExit("no encoder layer 0 found")


def run(model, inputs: dict, case: Case, reference: torch.Tensor | None):
    """Forward + backward: (value, attentions, attention grads, embeddings, embedding grads)."""
    captured = {}

    def hook(_module, args, kwargs):
        x = args[0] if args else kwargs["hidden_states"]
        x.retain_grad()
        captured["embeddings"] = x

    handle = first_layer(model).register_forward_pre_hook(hook, with_kwargs=True)
    try:
        out = model(**inputs, output_attentions=True)
    finally:
        handle.remove()
    attentions = list(out.attentions)
    for a in attentions:
        a.retain_grad()
    value = target_value(model, out, case, reference)
    value.backward()
    grads = [a.grad for a in attentions]
    if any(g is None for g in grads) or captured["embeddings"].grad is None:
        raise SystemExit(f"{case.name}: a gradient was not retained")
    return (value.detach(), torch.stack([a[0] for a in attentions]).detach(), torch.stack([g[0] for g in grads]),
            captured["embeddings"][0].detach(), captured["embeddings"].grad[0])


def pooled(model, out) -> torch.Tensor:
    if getattr(out, "pooler_output", None) is not None:
        return out.pooler_output[0]  # CLIP: post_layernorm(CLS); DINOv2: layernorm(hidden)[CLS]
    raise SystemExit(f"{type(model).__name__} has no pooled output")


def target_value(model, out, case: Case, reference) -> torch.Tensor:
    t = case.target
    if t["kind"] == "classLogit":
        return out.logits[0, t["resolved"]]
    if t["kind"] == "pooledCosine":
        return F.cosine_similarity(pooled(model, out), reference, dim=0)
    if t["kind"] == "meanPooledCosine":
        return F.cosine_similarity(out.last_hidden_state[0].mean(0), reference, dim=0)
    if t["kind"] == "tokenCosine":
        h = out.last_hidden_state[0]
        return F.cosine_similarity(h[t["token"]], h[t["to"]], dim=0)
    raise SystemExit(f"unknown target {t}")


def forward_call(model, case: Case, height: int, width: int) -> dict:
    vc = getattr(model.config, "vision_config", model.config)
    if model.config.model_type.startswith("dinov2") or (height, width) == (vc.image_size, vc.image_size):
        return {}
    return {"interpolate_pos_encoding": True}


def make_case(case: Case) -> None:
    out_dir = mf.fresh_dir(GRADIENTS / case.name)
    model = load_model(case.model)
    meta: dict = {"case": case.name, "kind": "text" if case.text_case else "image", "model": case.model,
                  "model_class": type(model).__name__}
    target = dict(case.target)
    reference = None
    notes = []
    if case.text_case:
        ids = torch.tensor(np.load(mf.CASES / case.text_case / "input_ids.npy"))[None]
        types = torch.tensor(np.load(mf.CASES / case.text_case / "token_type_ids.npy"))[None]
        inputs = {"input_ids": ids, "token_type_ids": types}
        meta["input_ids"] = f"cases/{case.text_case}/input_ids.npy"
        meta["token_type_ids"] = f"cases/{case.text_case}/token_type_ids.npy"
        n = ids.shape[1]
        meta["token_layout"] = {"prefix": [], "textTokens": n}
        if target["kind"] == "meanPooledCosine":
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(mf.MODELS / case.model))
            with torch.no_grad():
                other = model(**tok(target["reference"], return_tensors="pt")).last_hidden_state[0]
            reference = other.mean(0)
            notes.append(f"reference.npy = mean over tokens of bert-tiny's last_hidden_state on {target['reference']!r}")
    else:
        px = image_pixels(case.model, case.photo, case.size)
        _, _, height, width = px.shape
        if case.pixels_from:
            stored = np.load(mf.CASES / case.pixels_from / "pixel_values.npy")
            if not np.array_equal(stored, px[0].numpy()):
                raise SystemExit(f"{case.name}: pixels differ from cases/{case.pixels_from}")
            meta["pixel_values"] = f"cases/{case.pixels_from}/pixel_values.npy"
        else:
            mf.save_f32(out_dir / "pixel_values.npy", px[0])
            meta["pixel_values"] = f"gradients/{case.name}/pixel_values.npy"
        call = forward_call(model, case, height, width)
        inputs = {"pixel_values": px, **call}
        meta["input_size"] = [int(height), int(width)]
        meta["forward_call"] = call
        prefix, grid, patch = mf.image_layout(case.model, model.config, height, width)
        meta["token_layout"] = {"prefix": prefix, "grid": {"rows": grid[0], "columns": grid[1], "patchSize": patch},
                                "textTokens": 0}
        if target["kind"] == "pooledCosine":
            other = image_pixels(case.model, target["reference"], case.size)
            with torch.no_grad():
                reference = pooled(model, model(pixel_values=other, **call))
            notes.append(f"reference.npy = the model's pooled output on photos/{mf.PHOTO_FILES[target['reference']]} "
                         f"at the same size")
    if target["kind"] == "classLogit" and target["index"] == "top1":
        with torch.no_grad():
            target["resolved"] = int(model(**inputs).logits[0].argmax())
    elif target["kind"] == "classLogit":
        target["resolved"] = target["index"]
    case.target = target

    value, att, att_grad, emb, emb_grad = run(model, inputs, case, reference)
    # float64 rerun: the float32 noise floor of the gradients.
    model64 = load_model(case.model).double()
    inputs64 = {k: (v.double() if isinstance(v, torch.Tensor) and v.is_floating_point() else v) for k, v in inputs.items()}
    ref64 = reference.double() if reference is not None else None
    v64, _, ag64, _, eg64 = run(model64, inputs64, case, ref64)
    float64 = {
        "value_abs_diff": float((value.double() - v64).abs()),
        "attention_grads_max_abs_diff_relative": float((att_grad.double() - ag64).abs().max() / ag64.abs().max()),
        "embedding_grads_max_abs_diff_relative": float((emb_grad.double() - eg64).abs().max() / eg64.abs().max()),
    }
    print(f"  value {float(value):.6f}  |f32-f64| rel: dA {float64['attention_grads_max_abs_diff_relative']:.1e}"
          f"  dE {float64['embedding_grads_max_abs_diff_relative']:.1e}")

    mf.save_f32(out_dir / "attentions.npy", att)
    mf.save_f32(out_dir / "attention_grads.npy", att_grad)
    mf.save_f32(out_dir / "embedding_grads.npy", emb_grad)
    if reference is not None:
        mf.save_f32(out_dir / "reference.npy", reference)
    meta.update({
        "target": {k: v for k, v in target.items() if k != "reference"} | (
            {"reference": "reference.npy"} if reference is not None else {}),
        "value": float(value),
        "embeddings_norm": float(emb.norm()),
        "files": {f.name: list(np.load(f).shape) for f in sorted(out_dir.glob("*.npy"))},
        "notes": notes + ["embedding_grads = gradient at the first encoder layer's hidden_states input",
                          "attention_grads = gradient at each layer's eager-attention probabilities (retain_grad)"],
        "float64_check": float64,
        **mf.provenance(mf.MODEL_BY_NAME[case.model].seed),
        "generator": GENERATOR,
        "generator_sha256": mf.sha256(Path(__file__).resolve()),
        "regenerate": f"tools/.venv/bin/python {GENERATOR} --only {case.name}",
    })
    mf.write_meta(out_dir / "meta.json", meta)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="CASE", choices=sorted(BY_NAME))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    for case in [BY_NAME[n] for n in args.only] if args.only else CASES:
        print(f"case {case.name}")
        make_case(case)
    total = sum(f.stat().st_size for f in GRADIENTS.rglob("*") if f.is_file())
    print(f"total size of gradients/: {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
