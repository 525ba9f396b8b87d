#!/usr/bin/env python3
"""Reference fixtures for the gradient explanations (Tests/Fixtures/explanations/<case>/).

For each case a committed tiny fixture model runs in float32 with eager attention; every layer's
post-softmax attention A_l is kept with ``retain_grad`` (the tensor transformers returns for
``output_attentions`` is the one multiplied with the values: eval-mode dropout returns its input),
and so is the encoder's input E (the embeddings module's output). One scalar target is
back-propagated with torch autograd, giving dA_l = dTarget/dA_l and dE = dTarget/dE.

Each method's map is then computed from (A, dA) or (E, dE) by an independent NumPy implementation
of its written definition (docs/ANALYSES.md, "Explanations with gradients"), in float64 with full
N x N matrices and the literal update rules (the Swift code uses the readout-row form):

- chefer:        R = I; for l = first..last: R = R + mean_h(max(0, dA_l*A_l)) @ R; row = u @ R
- grad_rollout:  Abar_l = mean_h(max(0, dA_l*A_l)); Ahat_l = (I + Abar_l) / rowsum; R = Ahat_L ... Ahat_1
- attn_grad:     u @ mean_h(max(0, dA_l*A_l)) per layer
- input_grad:    ||E_i * dE_i||_2 per token (input_grad_sum: sum_d E_id dE_id)
- wrong pairing: vit-explain's grad_rollout pairs A_l with dA_{L-1-l} (its gradient list is in
                 backward order); for the two image cases the script checks that the maps differ by
                 at least 100x the tolerance (bert-tiny's difference is recorded but small).

u is the readout: the CLS row for image models, token 0 ([CLS]) for BERT (a text layout has no
prefix), and for one case also the mean of the patch rows. Maps drop the prefix tokens (CLS,
registers) and reshape row-major to (gh, gw).

Run from the repository root with the reference stack:
    tools/.venv/bin/python tools/make_explain_fixtures.py
"""
from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402  (models, photos, processors, layouts, .npy writer)

FORMAT_VERSION = 1
OUT = mf.FIXTURES / "explanations"
TOLERANCE = 1e-5
# The wrong pairing must move the map by at least this much (max abs difference).
WRONG_PAIRING_MARGIN = 100 * TOLERANCE
OTHER_SENTENCE = "The dog was exhausted"


# ------------------------------------------------------------------ NumPy reference methods

def fuse(a: np.ndarray, g: np.ndarray, positive_first: bool = True) -> np.ndarray:
    """[H, N, N] attention and gradient -> N x N (float64)."""
    p = a.astype(np.float64) * g.astype(np.float64)
    if positive_first:
        return np.maximum(p, 0).mean(axis=0)
    return np.maximum(p.mean(axis=0), 0)


def chefer_matrix(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    n = a.shape[-1]
    r = np.eye(n)
    for l in range(a.shape[0]):
        r = r + fuse(a[l], g[l]) @ r
    return r


def grad_rollout_matrix(a: np.ndarray, g: np.ndarray, positive_first: bool = True) -> np.ndarray:
    n = a.shape[-1]
    r = np.eye(n)
    for l in range(a.shape[0]):
        m = np.eye(n) + fuse(a[l], g[l], positive_first)
        m = m / m.sum(axis=1, keepdims=True)
        r = m @ r
    return r


def attn_grad_rows(a: np.ndarray, g: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.stack([u @ fuse(a[l], g[l]) for l in range(a.shape[0])])


def input_grad(e: np.ndarray, de: np.ndarray, reduction: str) -> np.ndarray:
    p = e.astype(np.float64) * de.astype(np.float64)
    return np.sqrt((p * p).sum(axis=1)) if reduction == "l2" else p.sum(axis=1)


def readout_vector(n: int, prefix: int, readout: str) -> np.ndarray:
    u = np.zeros(n)
    if readout == "mean_of_patches":
        u[prefix:] = 1.0 / (n - prefix)
    else:  # "token:K"
        u[int(readout.split(":")[1])] = 1.0
    return u


def to_map(rows: np.ndarray, prefix: int, grid: list[int] | None) -> np.ndarray:
    patches = rows[..., prefix:]
    return patches if grid is None else patches.reshape(rows.shape[:-1] + tuple(grid))


# ------------------------------------------------------------------ torch capture

class Capture:
    """Keeps the embeddings module's output with its gradient retained."""

    def __init__(self, module: torch.nn.Module):
        self.output: torch.Tensor | None = None
        module.register_forward_hook(self.hook)

    def hook(self, _module, _inputs, output):
        out = output[0] if isinstance(output, tuple) else output
        out.retain_grad()
        self.output = out


def attentions_with_grad(outputs) -> list[torch.Tensor]:
    atts = list(outputs.attentions)
    for a in atts:
        a.retain_grad()
    return atts


def finish(atts: list[torch.Tensor], cap: Capture, target: torch.Tensor):
    target.backward()
    for l, a in enumerate(atts):
        if a.grad is None:
            raise SystemExit(f"layer {l}: attention has no gradient (not the tensor used by the model?)")
    if cap.output is None or cap.output.grad is None:
        raise SystemExit("embeddings have no gradient")
    A = torch.stack([a[0] for a in atts]).detach().numpy().astype(np.float32)
    dA = torch.stack([a.grad[0] for a in atts]).numpy().astype(np.float32)
    E = cap.output[0].detach().numpy().astype(np.float32)
    dE = cap.output.grad[0].numpy().astype(np.float32)
    return A, dA, E, dE, float(target.detach())


def pixels(folder: Path, photo: str, size: tuple[int, int]) -> torch.Tensor:
    from PIL import Image

    proc = mf.load_processor(folder)
    image = Image.open(mf.PHOTOS / mf.PHOTO_FILES[photo])
    image.load()
    kwargs = {"size": {"height": size[0], "width": size[1]}, "do_center_crop": False}
    return proc(images=image, return_tensors="pt", **kwargs)["pixel_values"].to(torch.float32)


LOAD = dict(attn_implementation="eager", dtype=torch.float32)


def vit_case() -> dict:
    from transformers import ViTForImageClassification

    folder = mf.MODELS / "vit-p16-cls"
    model = ViTForImageClassification.from_pretrained(str(folder), **LOAD).eval()
    size = (64, 80)
    px = pixels(folder, "hopper", size)
    cap = Capture(model.vit.embeddings)
    out = model(pixel_values=px, output_attentions=True, interpolate_pos_encoding=True)
    atts = attentions_with_grad(out)
    top = int(out.logits[0].argmax())
    A, dA, E, dE, value = finish(atts, cap, out.logits[0, top])
    prefix, grid, patch = mf.image_layout("vit-p16-cls", model.config, *size)
    return dict(
        name="vit-p16-hopper-64x80", model="vit-p16-cls", photo="hopper", input_size=list(size),
        prefix=prefix, grid=grid, patch=patch, A=A, dA=dA, E=E, dE=dE,
        target={"kind": "class_logit", "class": top, "label": model.config.id2label[top], "choice": "top1",
                "value": value},
        readouts={"cls": "token:0", "mean_of_patches": "mean_of_patches"}, pairing_test=True,
        forward_call={"output_attentions": True, "interpolate_pos_encoding": True})


def dinov2_reg_case() -> dict:
    from transformers import AutoModel

    folder = mf.MODELS / "dinov2-reg"
    model = AutoModel.from_pretrained(str(folder), **LOAD).eval()
    size = (42, 70)
    with torch.no_grad():
        other = model(pixel_values=pixels(folder, "astronaut", size)).pooler_output[0]
    cap = Capture(model.embeddings)
    out = model(pixel_values=pixels(folder, "hopper", size), output_attentions=True)
    atts = attentions_with_grad(out)
    target = torch.nn.functional.cosine_similarity(out.pooler_output[0], other, dim=0)
    A, dA, E, dE, value = finish(atts, cap, target)
    prefix, grid, patch = mf.image_layout("dinov2-reg", model.config, *size)
    return dict(
        name="dinov2-reg-hopper-42x70", model="dinov2-reg", photo="hopper", input_size=list(size),
        prefix=prefix, grid=grid, patch=patch, A=A, dA=dA, E=E, dE=dE,
        target={"kind": "cosine_similarity", "pooled": "pooler_output (layer-normed CLS)",
                "other_photo": "photos/" + mf.PHOTO_FILES["astronaut"], "value": value},
        readouts={"cls": "token:0"}, pairing_test=True,
        forward_call={"output_attentions": True})


def bert_case() -> dict:
    from transformers import AutoTokenizer, BertModel

    folder = mf.MODELS / "bert-tiny"
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = BertModel.from_pretrained(str(folder), **LOAD).eval()

    def mean_pool(hidden):
        return hidden[0].mean(0)

    with torch.no_grad():
        other = mean_pool(model(**tok(OTHER_SENTENCE, return_tensors="pt")).last_hidden_state)
    enc = tok(mf.ANIMAL, return_tensors="pt")
    cap = Capture(model.embeddings)
    out = model(**enc, output_attentions=True)
    atts = attentions_with_grad(out)
    target = torch.nn.functional.cosine_similarity(mean_pool(out.last_hidden_state), other, dim=0)
    A, dA, E, dE, value = finish(atts, cap, target)
    tokens = tok.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    return dict(
        name="bert-tiny-animal", model="bert-tiny", sentence=mf.ANIMAL, tokens=tokens,
        prefix=[], grid=None, patch=None, A=A, dA=dA, E=E, dE=dE,
        target={"kind": "cosine_similarity", "pooled": "mean of last_hidden_state over all tokens",
                "other_sentence": OTHER_SENTENCE, "value": value},
        readouts={"cls": "token:0"}, pairing_test=False,  # recorded, not required: see meta
        forward_call={"output_attentions": True})


# ------------------------------------------------------------------ writing

def write_case(case: dict) -> dict:
    out = mf.fresh_dir(OUT / case["name"])
    A, dA, E, dE = case["A"], case["dA"], case["E"], case["dE"]
    L, H, N, _ = A.shape
    P, grid = len(case["prefix"]), case["grid"]
    for name, arr in [("attentions", A), ("attention_grads", dA), ("embeddings", E), ("embedding_grads", dE)]:
        mf.save_f32(out / f"{name}.npy", arr)

    def save(name: str, rows: np.ndarray) -> None:
        mf.save_f32(out / f"{name}_rows.npy", rows)
        mf.save_f32(out / f"{name}.npy", to_map(rows, P, grid))

    readouts = {}
    for rname, spec in case["readouts"].items():
        u = readout_vector(N, P, spec)
        save(f"chefer_{rname}", u @ chefer_matrix(A, dA))
        save(f"grad_rollout_{rname}", u @ grad_rollout_matrix(A, dA))
        save(f"grad_rollout_mean_then_positive_{rname}", u @ grad_rollout_matrix(A, dA, positive_first=False))
        save(f"attn_grad_{rname}", attn_grad_rows(A, dA, u))
        readouts[rname] = spec
    mf.save_f32(out / "chefer_matrix.npy", chefer_matrix(A, dA))
    save("input_grad", input_grad(E, dE, "l2"))
    save("input_grad_sum", input_grad(E, dE, "sum"))

    # vit-explain's pairing: layer l's attention with layer (L-1-l)'s gradient.
    u = readout_vector(N, P, case["readouts"]["cls"])
    wrong = dA[::-1].copy()
    checks = {}
    for method, fn in [("grad_rollout", grad_rollout_matrix), ("chefer", chefer_matrix)]:
        right_row, wrong_row = u @ fn(A, dA), u @ fn(A, wrong)
        save(f"wrong_pairing_{method}", wrong_row)
        diff = float(np.abs(to_map(right_row, P, grid) - to_map(wrong_row, P, grid)).max())
        checks[method] = diff
        print(f"    wrong pairing moves the {method} map by {diff:.3e} (margin {WRONG_PAIRING_MARGIN:.0e})")
        if case["pairing_test"] and diff < WRONG_PAIRING_MARGIN:
            raise SystemExit(f"{case['name']}: wrong pairing is too close to the right one for {method}")

    magnitudes = {name: float(np.abs(np.load(out / f"{name}.npy")).max())
                  for name in ["chefer_cls", "grad_rollout_cls", "attn_grad_cls", "input_grad", "input_grad_sum"]}
    layout = {"prefix": case["prefix"], "textTokens": N if grid is None else 0}
    if grid is not None:
        layout["grid"] = {"rows": grid[0], "columns": grid[1], "patchSize": case["patch"]}
    meta = {
        "format_version": FORMAT_VERSION,
        "case": case["name"],
        "model": case["model"],
        "model_sha256": mf.sha256(mf.MODELS / case["model"] / "model.safetensors"),
        "input": {k: case[k] for k in ("photo", "input_size", "sentence", "tokens") if k in case},
        "forward_call": case["forward_call"],
        "shape": {"layers": L, "heads": H, "tokens": N, "width": int(E.shape[1])},
        "token_layout": layout,
        "target": case["target"],
        "readouts": readouts,
        "wrong_pairing": {"rule": "layer l attention with layer L-1-l gradient (vit-explain grad_rollout)",
                          "max_abs_map_difference": checks, "margin": WRONG_PAIRING_MARGIN,
                          "required": case["pairing_test"]},
        "max_abs_value": magnitudes,
        "tolerance": TOLERANCE,
        "files": {f.name: list(np.load(f).shape) for f in sorted(out.glob("*.npy"))},
        "generator": "tools/make_explain_fixtures.py",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": mf.transformers.__version__, "numpy": np.__version__},
    }
    mf.write_meta(out / "meta.json", meta)
    return meta


def main() -> int:
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    for build in (vit_case, dinov2_reg_case, bert_case):
        case = build()
        print(f"  {case['name']}: A {case['A'].shape}, target {case['target']['value']:.6f}")
        write_case(case)
    print(f"  {OUT.relative_to(mf.REPO)}: {mf.dir_size(OUT) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
