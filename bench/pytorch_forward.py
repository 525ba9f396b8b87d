"""Times Hugging Face transformers (eager attention, CPU) on the same checkpoint ViTLens benchmarks.

Usage: python bench/pytorch_forward.py --model DIR --size 224x224 --threads 2 --runs 20 [--make-vit-base]
--make-vit-base writes a random-weight ViT-B/16 (google/vit-base-patch16-224 shape, seed 0) to DIR
first if DIR has no config.json; --make-vit-small a ViT-S/16 (384 wide, 12 layers, 6 heads);
--make-dino-s8 a random DINO ViT-S/8 (facebook/dino-vits8 shape).
Prints one JSON line: median/min ms with output_attentions (eager attention), without attentions
(eager, unless --no-plain), and with --sdpa the forward without attentions through PyTorch's fused
scaled_dot_product_attention (attn_implementation="sdpa"); and peak RSS in MB.
"""
import argparse, json, os, resource, statistics, sys, time

import torch
import transformers
from transformers import AutoModel, ViTConfig, ViTImageProcessor, ViTModel, ViTForImageClassification


def make(dir_, kind):
    if os.path.exists(os.path.join(dir_, "config.json")):
        return
    torch.manual_seed(0)
    if kind == "vit-base":
        cfg = ViTConfig(num_labels=1000)
        model = ViTForImageClassification(cfg)
    elif kind == "vit-small":
        cfg = ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                        num_labels=1000)
        model = ViTForImageClassification(cfg)
    else:
        cfg = ViTConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536,
                        patch_size=8, image_size=224)
        model = ViTModel(cfg, add_pooling_layer=False)
    model.save_pretrained(dir_)
    ViTImageProcessor(size={"height": cfg.image_size, "width": cfg.image_size}).save_pretrained(dir_)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--size", default="224x224")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--make-vit-base", action="store_true")
    ap.add_argument("--make-vit-small", action="store_true")
    ap.add_argument("--make-dino-s8", action="store_true")
    ap.add_argument("--sdpa", action="store_true", help="also time the SDPA forward without attentions")
    ap.add_argument("--only-sdpa", action="store_true", help="time only the SDPA forward without attentions")
    ap.add_argument("--no-plain", action="store_true", help="skip the run without attentions")
    ap.add_argument("--batch", type=int, default=1, help="images per forward (reports images_per_s)")
    a = ap.parse_args()
    if a.make_vit_base:
        make(a.model, "vit-base")
    if a.make_vit_small:
        make(a.model, "vit-small")
    if a.make_dino_s8:
        make(a.model, "dino-s8")
    torch.set_num_threads(a.threads)
    h, w = (int(v) for v in a.size.split("x"))
    model = None if a.only_sdpa else AutoModel.from_pretrained(a.model, attn_implementation="eager").eval()
    x = torch.randn(a.batch, 3, h, w, generator=torch.Generator().manual_seed(0))
    result = {"engine": "pytorch-eager", "torch": torch.__version__, "transformers": transformers.__version__,
              "threads": a.threads, "size": a.size, "runs": a.runs, "batch": a.batch}
    modes = [("with_attentions", True, model)] + ([] if a.no_plain else [("without_attentions", False, model)])
    if a.only_sdpa:
        modes = []
    if a.sdpa or a.only_sdpa:
        fused = AutoModel.from_pretrained(a.model, attn_implementation="sdpa").eval()
        modes.append(("sdpa_without_attentions", False, fused))
    with torch.inference_mode():
        for name, att, model in modes:
            times = []
            for i in range(a.warmup + a.runs):
                t = time.perf_counter()
                out = model(pixel_values=x, output_attentions=att, interpolate_pos_encoding=True)
                if att:
                    assert out.attentions is not None and len(out.attentions) > 0
                dt = (time.perf_counter() - t) * 1000
                if i >= a.warmup:
                    times.append(dt)
            result[name] = {"median_ms": statistics.median(times), "min_ms": min(times),
                            "images_per_s": 1000 * a.batch / statistics.median(times)}
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
