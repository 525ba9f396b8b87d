"""Times Chefer relevance (forward + backward + map) with PyTorch autograd on the checkpoint ViTLens benchmarks.

Usage: python bench/pytorch_explain.py --model DIR --size 224x224 --threads 2 --runs 5 --warmup 1 [--image FILE]
The model is loaded with eager attention; each layer's returned attention keeps its gradient
(retain_grad; weights frozen, the input requires grad); the target is a class logit (models with a classifier: --class, default the top-1
class of the first run) or, for models without one, the cosine of the final CLS state to that of a
second, seeded random input. Relevance: R = I; R += mean_h(max(0, dA * A)) @ R for every layer, first
to last (Chefer et al., ICCV 2021, Eq. 5-6); map = R[0, 1:]. Timed per run: forward, backward and map.
Prints one JSON line: median/min ms, the map's shape and peak RSS in MB. Checkpoints: bench/pytorch_forward.py.
"""
import argparse, json, resource, statistics, sys, time

import torch
from transformers import AutoModel, AutoModelForImageClassification, AutoConfig


def chefer(model, x, target):
    out = model(pixel_values=x, output_attentions=True, interpolate_pos_encoding=True)
    for a in out.attentions:
        a.retain_grad()
    if target["kind"] == "class":
        y = out.logits[0, target["index"]]
    else:
        y = torch.nn.functional.cosine_similarity(out.last_hidden_state[0, 0], target["reference"], dim=0)
    model.zero_grad(set_to_none=True)
    y.backward()
    with torch.no_grad():
        n = out.attentions[0].shape[-1]
        r = torch.eye(n)
        for a in out.attentions:
            cam = (a.grad[0] * a[0]).clamp(min=0).mean(dim=0)
            r = r + cam @ r
        return r[0, 1:].clone(), float(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", default="224x224")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--class", dest="cls", type=int, default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    h, w = (int(v) for v in a.size.split("x"))
    config = AutoConfig.from_pretrained(a.model)
    classifier = any(arch.endswith("ForImageClassification") for arch in (config.architectures or []))
    loader = AutoModelForImageClassification if classifier else AutoModel
    model = loader.from_pretrained(a.model, attn_implementation="eager").eval()
    for p in model.parameters():
        p.requires_grad_(False)
    # Weights are frozen (ViTLens computes no weight gradients either); the input carries the graph.
    x = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    if classifier:
        with torch.no_grad():
            top = int(model(pixel_values=x, interpolate_pos_encoding=True).logits[0].argmax())
        target = {"kind": "class", "index": top if a.cls is None else a.cls}
    else:
        other = torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            ref = model(pixel_values=other, interpolate_pos_encoding=True).last_hidden_state[0, 0].clone()
        target = {"kind": "cosine", "reference": ref}
    times = []
    for i in range(a.warmup + a.runs):
        t = time.perf_counter()
        relevance, value = chefer(model, x, target)
        dt = (time.perf_counter() - t) * 1000
        if i >= a.warmup:
            times.append(dt)
    print(json.dumps({"engine": "pytorch-autograd-eager", "torch": torch.__version__, "threads": a.threads, "size": a.size,
                      "runs": a.runs, "target": target["kind"], "target_value": value, "map_tokens": relevance.numel(),
                      "median_ms": statistics.median(times), "min_ms": min(times),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    sys.exit(main())
