"""The job `vitlens dump` does, as a Python script with transformers: load the model and its image
processor from a folder, preprocess one image, run the forward pass with output_attentions=True
(eager attention) and write every layer's attention, [layers, heads, N, N] float32, to an .npy file.

scripts/bench.sh times it as a whole process beside `vitlens dump` (issue 12: load + forward + write).
Usage: python bench/pytorch_dump.py --model DIR --image PHOTO --out FILE.npy [--threads 2]
"""
import argparse
import sys

import numpy as np
import torch
from PIL import Image
from transformers import AutoImageProcessor, AutoModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    processor = AutoImageProcessor.from_pretrained(a.model, use_fast=False)
    model = AutoModel.from_pretrained(a.model, attn_implementation="eager").eval()
    pixels = processor(images=Image.open(a.image).convert("RGB"), return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        out = model(pixel_values=pixels, output_attentions=True)
    np.save(a.out, torch.stack(out.attentions)[:, 0].numpy().astype(np.float32))


if __name__ == "__main__":
    sys.exit(main())
