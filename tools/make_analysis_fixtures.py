#!/usr/bin/env python3
"""Reference fixtures for ViTLensAnalysis (Tests/Fixtures/analysis).

Builds two tiny random Hugging Face models with fixed seeds, runs them with eager attention and
output_attentions=True on random pixels, saves the attentions as float32 .npy stacks
[layers, heads, N, N], and computes every analysis with plain NumPy (networkx for attention flow)
following ALGORITHMS.md and the ViTLens doc comments:

- dinov2_registers: Dinov2WithRegistersModel, 2 registers, patch 14, 42x70 input -> 3x5 grid,
  3 layers, 2 heads (N = 1 + 2 + 15 = 18); a second random image for accumulation tests.
- deit_distilled: DeiTModel (CLS + distillation token), patch 8, 32x32 input -> 4x4 grid,
  2 layers, 3 heads (N = 18).

Head fusion and discard run in float32 in exactly the order ViTLens uses, so the entries discard
zeroes are the same; everything after that is float64.

Regenerate (from the repository root):
    /path/to/venv/bin/python tools/make_analysis_fixtures.py
"""
import json
import math
import platform
from pathlib import Path

import networkx as nx
import numpy as np
import torch
import transformers
from transformers import DeiTConfig, DeiTModel, Dinov2WithRegistersConfig, Dinov2WithRegistersModel

FORMAT_VERSION = 1
SEED = 20240611
OUT = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "analysis"


# ---------------------------------------------------------------- models

def run(model, pixels):
    with torch.no_grad():
        out = model(pixel_values=pixels, output_attentions=True)
    return torch.stack(out.attentions)[:, 0].numpy().astype(np.float32)  # [L, H, N, N]


def dinov2_registers():
    torch.manual_seed(SEED)
    config = Dinov2WithRegistersConfig(
        hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=32, patch_size=14,
        image_size=70, num_register_tokens=2, initializer_range=0.2, attn_implementation="eager")
    model = Dinov2WithRegistersModel(config).eval()
    first = run(model, torch.randn(1, 3, 42, 70))
    second = run(model, torch.randn(1, 3, 42, 70))
    layout = {"prefix": ["cls", "register", "register"], "grid": [3, 5], "patch_size": 14}
    return first, second, layout, config


def deit_distilled():
    torch.manual_seed(SEED + 1)
    config = DeiTConfig(
        hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=48, patch_size=8,
        image_size=32, initializer_range=0.2, attn_implementation="eager")
    model = DeiTModel(config).eval()
    first = run(model, torch.randn(1, 3, 32, 32))
    layout = {"prefix": ["cls", "distillation"], "grid": [4, 4], "patch_size": 8}
    return first, None, layout, config


# ---------------------------------------------------------------- reference analyses

def fuse(stack, fusion):
    """[H, ...] float32 -> [...] float32, same operation order as HeadFusion."""
    stack = stack.astype(np.float32)
    h = stack.shape[0]
    if fusion.startswith("head:"):
        return stack[int(fusion[5:])].copy()
    if fusion in ("mean", "std"):
        acc = stack[0].copy()
        for k in range(1, h):
            acc = acc + stack[k]
        mean = acc / np.float32(h)
        if fusion == "mean":
            return mean
        d = stack[0] - mean
        v = d * d
        for k in range(1, h):
            d = stack[k] - mean
            v = v + d * d
        return np.sqrt(v / np.float32(h))
    if fusion == "max":
        return stack.max(axis=0)
    if fusion == "min":
        return stack.min(axis=0)
    raise ValueError(fusion)


def discard(f, ratio, mode, cls):
    """Zero the smallest eligible entries (stable ties), as Rollout.discard does."""
    f = f.copy()
    n = f.shape[0]
    if ratio == 0:
        return f
    if mode == "perRow":
        k = math.floor(ratio * (n - 1))
        for i in range(n):
            cols = np.array([j for j in range(n) if j != i])
            order = np.argsort(f[i, cols], kind="stable")[:k]
            f[i, cols[order]] = 0
    else:
        flat = f.reshape(-1)
        skip = cls * n + cls if cls is not None else -1
        elig = np.array([x for x in range(n * n) if x != skip])
        k = math.floor(ratio * len(elig))
        order = np.argsort(flat[elig], kind="stable")[:k]
        flat[elig[order]] = 0
        f = flat.reshape(n, n)
    return f


def residual(f, mode):
    f = f.astype(np.float64)
    eye = np.eye(f.shape[0])
    if mode == "identityRenormalized":
        m = f + eye
        return m / m.sum(axis=1, keepdims=True)
    if mode == "halfIdentity":
        return 0.5 * f + 0.5 * eye
    if mode == "none":
        return f
    raise ValueError(mode)


def resolve(layer, layers):
    return layer + layers if layer < 0 else layer


def token_index(query, layout):
    p = len(layout["prefix"])
    if query == "cls":
        return layout["prefix"].index("cls")
    if query.startswith("token:"):
        return int(query[6:])
    if query.startswith("patch:"):
        r, c = (int(x) for x in query[6:].split(","))
        return p + r * layout["grid"][1] + c
    raise ValueError(query)


def readout_weights(readout, layout, n):
    u = np.zeros(n)
    p = len(layout["prefix"])
    if readout == "mean_of_patches":
        u[p:] = 1.0 / (n - p)
    else:
        u[token_index(readout, layout)] = 1
    return u


def rollout(att, layout, case):
    layers, _, n, _ = att.shape
    first = resolve(case["first_layer"], layers)
    last = resolve(case["last_layer"], layers)
    cls = layout["prefix"].index("cls") if "cls" in layout["prefix"] else None
    r = None
    for l in range(first, last + 1):
        f = fuse(att[l], case["fusion"])
        f = discard(f, case["discard_ratio"], case["discard_mode"], cls)
        a = residual(f, case["residual"])
        r = a if r is None else a @ r
    u = readout_weights(case["readout"], layout, n)
    return u @ r, r


def dino_keep(values, t):
    """DINO's mask for one head: stable ascending sort, divide by the (sequential) sum, cumsum, > 1 - t."""
    values = [float(v) for v in values]
    order = sorted(range(len(values)), key=lambda i: (values[i], i))
    s = 0.0
    for i in order:
        s += values[i]
    keep = [0] * len(values)
    if s <= 0:
        return keep
    c = 0.0
    for i in order:
        c += values[i] / s
        if c > 1 - t:
            keep[i] = 1
    return keep


def mad(att, layout, renormalize):
    p = len(layout["prefix"])
    gh, gw = layout["grid"]
    ps = layout["patch_size"]
    rows, cols = np.divmod(np.arange(gh * gw), gw)
    d = ps * np.sqrt((rows[:, None] - rows[None, :]) ** 2 + (cols[:, None] - cols[None, :]) ** 2)
    layers, heads = att.shape[:2]
    out = np.zeros((layers, heads))
    for l in range(layers):
        for h in range(heads):
            w = att[l, h, p:, p:].astype(np.float64)
            di = (w * d).sum(axis=1)
            if renormalize:
                s = w.sum(axis=1)
                di = np.where(s > 0, di / np.where(s > 0, s, 1), 0)
            out[l, h] = di.mean()
    return out


def entropy(att, layout, queries):
    p = len(layout["prefix"])
    a = att.astype(np.float64)
    plogp = np.where(a > 0, a * np.log(np.where(a > 0, a, 1)), 0)
    h = -plogp.sum(axis=-1)  # [L, H, N]
    if queries == "patches":
        h = h[:, :, p:]
    return h.mean(axis=-1)


def flow(att, layout, readout):
    """Abnar & Zuidema's attention flow with networkx Edmonds-Karp (their reference code's solver)."""
    layers, _, n, _ = att.shape
    graph = nx.DiGraph()
    for l in range(layers):
        m = att[l].astype(np.float64).mean(axis=0) + np.eye(n)
        m = m / m.sum(axis=1, keepdims=True)
        for i in range(n):
            for j in range(n):
                if m[i, j] > 0:
                    graph.add_edge((l + 1, i), (l, j), capacity=m[i, j])
    p = len(layout["prefix"])
    outputs = list(range(p, n)) if readout == "mean_of_patches" else [token_index(readout, layout)]
    raw = np.zeros(n)
    row = np.zeros(n)
    for u in outputs:
        flows = np.array([
            nx.maximum_flow_value(graph, (layers, u), (0, v), flow_func=nx.algorithms.flow.edmonds_karp)
            for v in range(n)])
        raw += flows / len(outputs)
        row += flows / flows.sum() / len(outputs)
    return row, raw


ROLLOUT_CASES = [
    # name, fusion, discard ratio, discard mode, residual, first, last, readout
    ("default", "mean", 0.0, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("max", "max", 0.0, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("min", "min", 0.0, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("std", "std", 0.0, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("head1", "head:1", 0.0, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("mean_half_identity", "mean", 0.0, "perRow", "halfIdentity", 0, -1, "cls"),
    ("max_half_identity", "max", 0.0, "perRow", "halfIdentity", 0, -1, "cls"),
    ("mean_no_residual", "mean", 0.0, "perRow", "none", 0, -1, "cls"),
    ("max_discard_row_0.5", "max", 0.5, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("mean_discard_row_0.9", "mean", 0.9, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("mean_discard_global_0.5", "mean", 0.5, "global", "identityRenormalized", 0, -1, "cls"),
    ("min_discard_global_0.3", "min", 0.3, "global", "halfIdentity", 0, -1, "cls"),
    ("std_discard_row_0.5", "std", 0.5, "perRow", "identityRenormalized", 0, -1, "cls"),
    ("start_layer_1", "mean", 0.0, "perRow", "identityRenormalized", 1, -1, "cls"),
    ("layers_0_to_0", "mean", 0.0, "perRow", "identityRenormalized", 0, 0, "cls"),
    ("mean_of_patches", "mean", 0.0, "perRow", "identityRenormalized", 0, -1, "mean_of_patches"),
    ("patch_1_2", "max", 0.2, "perRow", "identityRenormalized", 0, -1, "patch:1,2"),
    ("token_1", "mean", 0.0, "perRow", "identityRenormalized", 0, -1, "token:1"),
]

HEAD_MAP_CASES = [(-1, "cls"), (0, "patch:1,1"), (-2, "token:2")]
FUSIONS = ["mean", "max", "min", "std", "head:0"]
THRESHOLDS = [0.6, 0.9]


def references(att, second, layout):
    layers, heads, n, _ = att.shape
    ref = {"rollout": [], "head_maps": [], "masks": [], "flow": []}
    for name, fusion, ratio, mode, res, first, last, readout in ROLLOUT_CASES:
        case = {"name": name, "fusion": fusion, "discard_ratio": ratio, "discard_mode": mode, "residual": res,
                "first_layer": first, "last_layer": last, "readout": readout}
        row, r = rollout(att, layout, case)
        case["row"] = row.tolist()
        case["matrix_row_sums"] = r.sum(axis=1).tolist()
        ref["rollout"].append(case)
    gh, gw = layout["grid"]
    p = len(layout["prefix"])
    for layer, query in HEAD_MAP_CASES:
        q = token_index(query, layout)
        rows = att[resolve(layer, layers), :, q, :]
        maps = rows[:, p:].reshape(heads, gh, gw)
        ref["head_maps"].append({
            "layer": layer, "query": query, "rows": rows.astype(np.float64).tolist(),
            "fused": {f: fuse(maps, f).astype(np.float64).reshape(-1).tolist() for f in FUSIONS}})
        if query == "cls":
            for t in THRESHOLDS:
                masks = [dino_keep(maps[h].reshape(-1), t) for h in range(heads)]
                ref["masks"].append({"layer": layer, "threshold": t, "values": sum(masks, [])})
    ref["mad"] = {"reference": mad(att, layout, False).tolist(), "renormalized": mad(att, layout, True).tolist()}
    ref["entropy"] = {"all": entropy(att, layout, "all").tolist(), "patches": entropy(att, layout, "patches").tolist()}
    if second is not None:
        ref["mad"]["second_image_reference"] = mad(second, layout, False).tolist()
        ref["entropy"]["second_image_all"] = entropy(second, layout, "all").tolist()
    for readout in ["cls", "mean_of_patches"]:
        row, raw = flow(att, layout, readout)
        ref["flow"].append({"readout": readout, "row": row.tolist(), "raw": raw.tolist()})
    return ref


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    everything = {"format_version": FORMAT_VERSION, "models": {}}
    configs = {}
    for name, build in [("dinov2_registers", dinov2_registers), ("deit_distilled", deit_distilled)]:
        att, second, layout, config = build()
        np.save(OUT / f"{name}_attentions.npy", att)
        entry = dict(layout)
        entry["attentions"] = f"{name}_attentions.npy"
        entry["shape"] = list(att.shape)
        if second is not None:
            np.save(OUT / f"{name}_attentions_second.npy", second)
            entry["attentions_second"] = f"{name}_attentions_second.npy"
        entry.update(references(att, second, layout))
        everything["models"][name] = entry
        configs[name] = {"class": type(config).__name__, **{k: getattr(config, k) for k in (
            "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "patch_size",
            "image_size", "initializer_range")}}
    (OUT / "reference.json").write_text(json.dumps(everything, indent=1) + "\n")
    meta = {
        "generator": "tools/make_analysis_fixtures.py",
        "format_version": FORMAT_VERSION,
        "seed": SEED,
        "regenerate": "python tools/make_analysis_fixtures.py  (from the repository root, in the reference venv)",
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "numpy": np.__version__,
                     "networkx": nx.__version__},
        "attention": "eager, output_attentions=True, model.eval(), random N(0,1) pixels",
        "models": configs,
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
