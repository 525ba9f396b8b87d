"""PyTorch side of the streaming-analyses benchmark: Hugging Face eager forward with
output_attentions=True, then rollout (mean fusion, (A+I) row-normalised, CLS row), last-layer CLS
maps and mean attention distance with NumPy, as a researcher would write them today.

Usage: python bench/pytorch_analyze.py --model DIR --size 480x480 --threads 2 --runs 3
Prints one JSON line with the median wall time and the peak RSS (MB).
"""
import argparse, json, resource, statistics, time

import numpy as np
import torch
from transformers import AutoModel


def analyses(attentions, grid, patch):
    gh, gw = grid
    # rollout, CLS row
    n = attentions[0].shape[-1]
    eye = torch.eye(n)
    r = eye.clone()
    for a in attentions:
        f = a[0].mean(0) + eye
        f = f / f.sum(-1, keepdim=True)
        r = f @ r
    rollout = r[0, 1:].reshape(gh, gw).numpy()
    heads = attentions[-1][0, :, 0, 1:].reshape(-1, gh, gw).numpy()
    rows, cols = np.divmod(np.arange(gh * gw), gw)
    d = patch * np.sqrt((rows[:, None] - rows[None]) ** 2 + (cols[:, None] - cols[None]) ** 2).astype(np.float32)
    mad = np.stack([(a[0, :, 1:, 1:].numpy() * d).sum(-1).mean(-1) for a in attentions])
    return rollout, heads, mad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", default="480x480")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    h, w = (int(v) for v in a.size.split("x"))
    model = AutoModel.from_pretrained(a.model, attn_implementation="eager").eval()
    p = model.config.patch_size
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.inference_mode():
        for _ in range(a.runs):
            t = time.perf_counter()
            out = model(pixel_values=x, output_attentions=True, interpolate_pos_encoding=True)
            analyses(out.attentions, (h // p, w // p), p)
            times.append(time.perf_counter() - t)
            del out
    print(json.dumps({"engine": "pytorch-eager+numpy", "size": a.size, "threads": a.threads,
                      "median_s": statistics.median(times), "min_s": min(times),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
