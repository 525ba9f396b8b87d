"""Reference values for `vitlens stats` (Tests/Fixtures/stats/reference.json).

Regenerate (from the repository root) in a venv with numpy and scipy, for example
    python3 -m venv --system-site-packages /tmp/statsvenv && /tmp/statsvenv/bin/pip install numpy scipy
    PYTHONPATH=tools/.venv/lib/python3.11/site-packages /tmp/statsvenv/bin/python tools/make_stats_fixtures.py
(tools/.venv has numpy, torch and networkx, which make_analysis_fixtures imports, but not scipy).

1. `ci`: per-image value sets (seeded) with mean, sample standard deviation (ddof=1) and the 95%
   Student t interval from scipy.stats.t.interval; `t_quantiles`: scipy.stats.t.ppf(0.975, df).
2. `attention`: the per-image attention statistics of the committed attention stacks in
   Tests/Fixtures/analysis (made by tools/make_analysis_fixtures.py, whose mad/entropy helpers are
   imported), computed here with float64 numpy from the definitions in docs/STATS.md.
3. `planted`: synthetic hidden states [tokens, hidden] with planted high-norm patches
   (planted_hidden.npy), the median patch norm and the outliers at threshold 4 and 2.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import scipy
import scipy.stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from make_analysis_fixtures import entropy, mad  # noqa: E402

OUT = ROOT / "Tests/Fixtures/stats"
LAYOUTS = {
    "dinov2_registers": {"prefix": ["cls", "register", "register"], "grid": [3, 5], "patch_size": 14},
    "deit_distilled": {"prefix": ["cls", "distillation"], "grid": [4, 4], "patch_size": 8},
}


def ci_sets(rng):
    sets = {
        "normal_n57": rng.normal(100.0, 15.0, 57),
        "exponential_n10": rng.exponential(2.0, 10),
        "pair_n2": np.array([1.25, 3.5]),
        "counts_n25": rng.poisson(1.3, 25).astype(np.float64),
        "tiny_spread_n40": 1e6 + rng.normal(0.0, 1e-3, 40),
    }
    out = {}
    for name, v in sets.items():
        n = len(v)
        mean = float(v.mean())
        std = float(v.std(ddof=1))
        low, high = scipy.stats.t.interval(0.95, n - 1, loc=mean, scale=std / np.sqrt(n))
        out[name] = {"values": [float(x) for x in v], "mean": mean, "std": std, "ci95": [float(low), float(high)]}
    return out


def attention_stats(att, layout):
    a = att.astype(np.float64)
    p = len(layout["prefix"])
    g = a.shape[-1] - p
    patch_rows = a[:, :, p:, :]  # [L, H, G, N]
    columns = patch_rows.mean(axis=2)  # [L, H, N]
    cls = layout["prefix"].index("cls")
    return {
        "mean_attention_distance": mad(att, layout, False).tolist(),
        "mean_attention_distance_renormalized": mad(att, layout, True).tolist(),
        "attention_entropy": entropy(att, layout, "patches").tolist(),
        "cls_patch_mass": a[:, :, cls, p:].sum(axis=-1).tolist(),
        "cls_prefix_mass": a[:, :, cls, :p].sum(axis=-1).tolist(),
        "prefix_mass": columns[:, :, :p].tolist(),
        "sink_share": columns.max(axis=-1).tolist(),
        "sink_is_prefix": (columns.argmax(axis=-1) < p).astype(np.float64).tolist(),
        "patches": g,
    }


def planted(rng):
    prefix, rows, cols, hidden = 1, 4, 5, 8
    g = rows * cols
    directions = rng.normal(size=(prefix + g, hidden))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    norms = rng.uniform(9.0, 11.0, prefix + g)
    norms[0] = 80.0  # a CLS token of high norm is not a patch: never an outlier
    plant = {3: 60.0, 11: 75.0, 17: 45.0}
    for k, v in plant.items():
        norms[prefix + k] = v
    x = (directions * norms[:, None]).astype(np.float32)
    np.save(OUT / "planted_hidden.npy", x)
    patch = np.linalg.norm(x.astype(np.float64)[prefix:], axis=1)
    median = float(np.median(patch))
    return {
        "prefix": ["cls"], "grid": [rows, cols], "patch_size": 16, "hidden": hidden,
        "median": median, "mean": float(patch.mean()), "max": float(patch.max()),
        "cls_norm": float(np.linalg.norm(x.astype(np.float64)[0])),
        "outliers_threshold_4": [int(i) for i in np.nonzero(patch > 4 * median)[0]],
        "outliers_threshold_2": [int(i) for i in np.nonzero(patch > 2 * median)[0]],
        "planted": sorted(plant),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261130)
    reference = {
        "generator": "tools/make_stats_fixtures.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
        "ci": ci_sets(rng),
        "t_quantiles": {str(df): float(scipy.stats.t.ppf(0.975, df)) for df in [1, 2, 3, 5, 9, 30, 56, 1000]},
        "attention": {},
        "planted": planted(rng),
    }
    for name, layout in LAYOUTS.items():
        att = np.load(ROOT / f"Tests/Fixtures/analysis/{name}_attentions.npy")
        reference["attention"][name] = {"layout": layout, **attention_stats(att, layout)}
    with open(OUT / "reference.json", "w") as f:
        json.dump(reference, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
