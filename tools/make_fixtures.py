#!/usr/bin/env python3
"""Generate ViTLens's golden parity fixtures from Hugging Face transformers.

Writes tiny random-weight checkpoints (``save_pretrained``, so keys and config fields are the real
Hub ones) to ``Tests/Fixtures/models/<model>/`` and reference outputs of those models (and of the
real all-MiniLM-L6-v2) on the committed photos and test sentences to
``Tests/Fixtures/cases/<case>/``. See ``Tests/Fixtures/README.md`` for every file and shape.

Run from anywhere (paths are resolved from this file):

    python tools/make_fixtures.py                 # everything
    python tools/make_fixtures.py --only vit-p16-cls dino-p8-hopper-native   # models and/or cases
    python tools/make_fixtures.py --list

or ``bash tools/make_fixtures.sh`` which builds the pinned venv first. The real MiniLM model is
read from ``--minilm DIR`` (or ``$VITLENS_MINILM_DIR``); the ``minilm-*`` case is skipped with a
message when that folder is absent. The reference is transformers with eager attention in float32
and the PIL image processors (no torchvision may be installed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np
import PIL
import safetensors
import tokenizers
import torch
import transformers
from PIL import Image

FORMAT_VERSION = 1
REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "Tests" / "Fixtures"
MODELS = FIXTURES / "models"
CASES = FIXTURES / "cases"
PHOTOS = REPO / "photos"
REGENERATE = "bash tools/make_fixtures.sh   (or: python tools/make_fixtures.py --only NAME ...)"

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

PHOTO_FILES = {"hopper": "grace_hopper.jpg", "astronaut": "astronaut.png", "rocket": "rocket.jpg"}

ANIMAL = "The animal didn't cross the street because it was too tired"
ACCENTS = "Zoë's  café in Zürich serves crêpes—naïve, eh? Qxzv! 東京"
WORDPIECE = "Unbelievably, transformers tokenize 2024 hyperparameters into pieces."


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


@torch.no_grad()
def randomize(model: torch.nn.Module, seed: int) -> None:
    """Overwrite every parameter with seeded values of a useful scale.

    Hugging Face's own init (std 0.02) gives near-uniform attention, which would make the parity
    tests weak; these values give peaked attention and non-trivial LayerNorm / layer-scale weights:
    matrices N(0, 1/fan_in) (query and key N(0, 2.25/fan_in)), biases N(0, 0.1^2), norm weights 1 + N(0, 0.2^2), layer scales
    0.5 + N(0, 0.1^2), tokens and position embeddings N(0, 0.5^2).
    """
    gen = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean

    for name, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        leaf = name.rsplit(".", 1)[-1]
        lname = name.lower()
        if "lambda1" in leaf or "lambda" in leaf:
            p.copy_(normal(p.shape, 0.1, 0.5))
        elif p.dim() == 1 and leaf == "weight" and ("norm" in lname or "layrnorm" in lname):
            p.copy_(normal(p.shape, 0.2, 1.0))
        elif leaf == "bias":
            p.copy_(normal(p.shape, 0.1))
        elif p.dim() >= 2 and leaf == "weight":
            fan_in = int(np.prod(p.shape[1:]))
            gain = 1.5 if any(k in lname for k in (".query.", ".key.", ".q_proj.", ".k_proj.")) else 1.0
            p.copy_(normal(p.shape, gain / np.sqrt(fan_in)))
        else:  # cls_token, mask_token, register_tokens, position_embeddings, class_embedding, ...
            p.copy_(normal(p.shape, 0.5))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------

LABELS = {0: "tabby cat", 1: "golden retriever", 2: "space shuttle", 3: "admiral", 4: "teapot"}


@dataclass
class ModelSpec:
    name: str
    seed: int
    build: Callable[[Path, int], None]
    description: str


def build_vit_cls(out: Path, seed: int, dtype: torch.dtype = torch.float32) -> None:
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessorPil

    torch.manual_seed(seed)
    cfg = ViTConfig(
        image_size=224, patch_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, num_labels=5, id2label=dict(LABELS),
        label2id={v: k for k, v in LABELS.items()},
    )
    model = ViTForImageClassification(cfg).eval()
    randomize(model, seed)
    model = model.to(dtype)
    model.save_pretrained(out)
    ViTImageProcessorPil(
        size={"height": 224, "width": 224}, resample=2, image_mean=[0.5] * 3, image_std=[0.5] * 3
    ).save_pretrained(out)


def build_vit_cls_bf16(out: Path, seed: int) -> None:
    build_vit_cls(out, seed, dtype=torch.bfloat16)


def build_dino_p8(out: Path, seed: int) -> None:
    from transformers import ViTConfig, ViTImageProcessorPil, ViTModel

    torch.manual_seed(seed)
    cfg = ViTConfig(
        image_size=64, patch_size=8, hidden_size=48, num_hidden_layers=2, num_attention_heads=3,
        intermediate_size=96,
    )
    model = ViTModel(cfg, add_pooling_layer=False).eval()
    randomize(model, seed)
    model.save_pretrained(out)
    ViTImageProcessorPil(
        size={"height": 64, "width": 64}, resample=3, image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD
    ).save_pretrained(out)


def dinov2_processor():
    from transformers import BitImageProcessorPil

    return BitImageProcessorPil(
        size={"shortest_edge": 64}, resample=3, do_center_crop=True, crop_size={"height": 56, "width": 56},
        image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD, do_convert_rgb=True,
    )


DINOV2_SIZES = dict(
    image_size=56, patch_size=14, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2,
    layerscale_value=1.0,
)


def build_dinov2(out: Path, seed: int, swiglu: bool = False) -> None:
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    cfg = Dinov2Config(**DINOV2_SIZES, use_swiglu_ffn=swiglu)
    model = Dinov2Model(cfg).eval()
    randomize(model, seed)
    model.save_pretrained(out)
    dinov2_processor().save_pretrained(out)


def build_dinov2_swiglu(out: Path, seed: int) -> None:
    build_dinov2(out, seed, swiglu=True)


def build_dinov2_reg(out: Path, seed: int) -> None:
    from transformers import Dinov2WithRegistersConfig, Dinov2WithRegistersModel

    torch.manual_seed(seed)
    cfg = Dinov2WithRegistersConfig(**DINOV2_SIZES, num_register_tokens=4)
    model = Dinov2WithRegistersModel(cfg).eval()
    randomize(model, seed)
    model.save_pretrained(out)
    dinov2_processor().save_pretrained(out)


def build_deit_distilled(out: Path, seed: int) -> None:
    from transformers import DeiTConfig, DeiTForImageClassificationWithTeacher, DeiTImageProcessorPil

    torch.manual_seed(seed)
    cfg = DeiTConfig(
        image_size=64, patch_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, num_labels=5, id2label=dict(LABELS), label2id={v: k for k, v in LABELS.items()},
    )
    model = DeiTForImageClassificationWithTeacher(cfg).eval()
    randomize(model, seed)
    model.save_pretrained(out)
    DeiTImageProcessorPil(
        size={"height": 72, "width": 72}, resample=3, do_center_crop=True, crop_size={"height": 64, "width": 64},
        image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD,
    ).save_pretrained(out)


def clip_processor():
    from transformers import CLIPImageProcessorPil

    return CLIPImageProcessorPil(
        size={"shortest_edge": 64}, resample=3, do_center_crop=True, crop_size={"height": 64, "width": 64},
        image_mean=CLIP_MEAN, image_std=CLIP_STD, do_convert_rgb=True,
    )


CLIP_VISION = dict(
    image_size=64, patch_size=16, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
    num_attention_heads=2, hidden_act="quick_gelu", projection_dim=16,
)


def build_clip_vision(out: Path, seed: int) -> None:
    from transformers import CLIPVisionConfig, CLIPVisionModel

    torch.manual_seed(seed)
    model = CLIPVisionModel(CLIPVisionConfig(**CLIP_VISION)).eval()
    randomize(model, seed)
    model.save_pretrained(out)
    clip_processor().save_pretrained(out)


def build_clip_full(out: Path, seed: int) -> None:
    from transformers import CLIPConfig, CLIPModel

    torch.manual_seed(seed)
    text = dict(
        vocab_size=99, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        max_position_embeddings=16, hidden_act="quick_gelu", projection_dim=16,
    )
    cfg = CLIPConfig(text_config=text, vision_config=dict(CLIP_VISION), projection_dim=16)
    model = CLIPModel(cfg).eval()
    randomize(model, seed)
    with torch.no_grad():  # CLIP's learned temperature, as in real checkpoints (ln(1/0.07))
        model.logit_scale.fill_(float(np.log(1 / 0.07)))
    model.save_pretrained(out)
    clip_processor().save_pretrained(out)


# A small hand-built WordPiece vocabulary: enough whole words and ##pieces that the test
# sentences exercise splitting, unknown words ([UNK]), accent stripping, CJK and punctuation.
BERT_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list("!\"#&'(),-.:;?") + ["—", "東"]
    + ["0", "1", "2", "20", "##24", "##0", "##1", "##2", "##4"]
    + """the a an and animal because cross street it was too tire did in into is of on to
    at by for with not no yes this that cafe zo zu serve crepe naive token transform hyper
    pieces piece un word words long short long cat dog sat mat bank river money
    read write run walk""".split()
    + """##d ##n ##e ##s ##rich ##ers ##ize ##para ##meter ##bel ##iev ##ably ##ed ##ing
    ##ly ##er ##est ##ion ##a ##i ##o ##t ##y""".split()
    + ["t", "s"]
    + """he she they we you i me my his her their our were be been are am have has had
    do does done go went see saw make made can could will would time year day way man woman
    child world life hand part place week home water room book eye""".split()
)


def bert_vocab() -> list[str]:
    seen, vocab = set(), []
    for t in BERT_VOCAB:
        if t not in seen:
            seen.add(t)
            vocab.append(t)
    return vocab


def build_bert_tiny(out: Path, seed: int) -> None:
    from transformers import BertConfig, BertModel, BertTokenizer

    vocab = bert_vocab()
    # transformers 5 BertTokenizer (tokenizers backend) takes the vocabulary as a dict.
    tok = BertTokenizer(vocab={t: i for i, t in enumerate(vocab)}, do_lower_case=True, model_max_length=64)
    tok.save_pretrained(out)
    vocab_file = out / "vocab.txt"
    expected = "".join(t + "\n" for t in vocab)
    if not vocab_file.exists():
        vocab_file.write_text(expected, encoding="utf-8")
    if vocab_file.read_text(encoding="utf-8") != expected:
        raise SystemExit("bert-tiny: saved vocab.txt differs from the hand-built vocabulary")

    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=64, type_vocab_size=2, pad_token_id=0,
    )
    model = BertModel(cfg).eval()
    randomize(model, seed)
    model.save_pretrained(out)


MODEL_SPECS = [
    ModelSpec("vit-p16-cls", 1001, build_vit_cls, "ViTForImageClassification 224/16, D=32, 2 layers, 2 heads, 5 labels"),
    ModelSpec("vit-p16-cls-bf16", 1001, build_vit_cls_bf16, "vit-p16-cls with bfloat16 weights"),
    ModelSpec("dino-p8", 1002, build_dino_p8, "ViTModel without pooler 64/8, D=48, 2 layers, 3 heads"),
    ModelSpec("dinov2", 1003, build_dinov2, "Dinov2Model 56/14, D=32, 2 layers, 2 heads, layer scale, mlp_ratio 2"),
    ModelSpec("dinov2-reg", 1004, build_dinov2_reg, "Dinov2WithRegistersModel 56/14, 4 registers"),
    ModelSpec("dinov2-swiglu", 1005, build_dinov2_swiglu, "Dinov2Model with SwiGLU FFN"),
    ModelSpec("deit-distilled", 1006, build_deit_distilled, "DeiTForImageClassificationWithTeacher 64/16, 5 labels"),
    ModelSpec("clip-vision", 1007, build_clip_vision, "CLIPVisionModel 64/16, quick_gelu"),
    ModelSpec("clip-full", 1008, build_clip_full, "CLIPModel (vision + text towers, projection 16)"),
    ModelSpec("bert-tiny", 1009, build_bert_tiny, "BertModel D=32, 2 layers, 2 heads, hand-built vocab"),
]
MODEL_BY_NAME = {m.name: m for m in MODEL_SPECS}


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass
class ImageCase:
    name: str
    model: str
    photo: str
    size: tuple[int, int] | None = None  # (height, width) override, or None for the processor's own


@dataclass
class TextCase:
    name: str
    model: str  # folder under Tests/Fixtures/models, or "minilm" for the real all-MiniLM-L6-v2
    sentence: str


IMAGE_CASES = [
    ImageCase("vit-p16-hopper-native", "vit-p16-cls", "hopper"),
    ImageCase("vit-p16-astronaut-160x256", "vit-p16-cls", "astronaut", (160, 256)),
    ImageCase("vit-p16-rocket-240x240", "vit-p16-cls", "rocket", (240, 240)),
    ImageCase("vit-p16-bf16-hopper-96x128", "vit-p16-cls-bf16", "hopper", (96, 128)),
    ImageCase("dino-p8-hopper-native", "dino-p8", "hopper"),
    ImageCase("dino-p8-astronaut-96x96", "dino-p8", "astronaut", (96, 96)),
    ImageCase("dino-p8-rocket-64x120", "dino-p8", "rocket", (64, 120)),
    ImageCase("dinov2-astronaut-native", "dinov2", "astronaut"),
    ImageCase("dinov2-rocket-70x98", "dinov2", "rocket", (70, 98)),
    ImageCase("dinov2-hopper-84x84", "dinov2", "hopper", (84, 84)),
    ImageCase("dinov2-reg-astronaut-native", "dinov2-reg", "astronaut"),
    ImageCase("dinov2-reg-rocket-70x98", "dinov2-reg", "rocket", (70, 98)),
    ImageCase("dinov2-swiglu-hopper-native", "dinov2-swiglu", "hopper"),
    ImageCase("deit-distilled-hopper-native", "deit-distilled", "hopper"),
    ImageCase("clip-vision-astronaut-native", "clip-vision", "astronaut"),
    ImageCase("clip-vision-rocket-64x96", "clip-vision", "rocket", (64, 96)),
    ImageCase("clip-full-astronaut-native", "clip-full", "astronaut"),
]
TEXT_CASES = [
    TextCase("bert-tiny-animal", "bert-tiny", ANIMAL),
    TextCase("bert-tiny-accents", "bert-tiny", ACCENTS),
    TextCase("bert-tiny-wordpiece", "bert-tiny", WORDPIECE),
    TextCase("minilm-animal", "minilm", ANIMAL),
]
ALL_CASES = {c.name: c for c in IMAGE_CASES + TEXT_CASES}


def git_revision() -> str:
    """The last commit that changed tools/make_fixtures.py, with ``+modified`` when the file differs from it.

    (Not HEAD: committing regenerated fixtures moves HEAD, and the record should not churn.)
    """
    try:
        head = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%H", "--", "tools/make_fixtures.py"],
                              capture_output=True, text=True, check=True).stdout.strip() or "uncommitted"
        changed = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "tools/make_fixtures.py"],
                                 capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+modified" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(seed: int | None) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "generator": "tools/make_fixtures.py",
        "generator_sha256": sha256(Path(__file__).resolve()),
        "generator_commit": git_revision(),
        "regenerate": REGENERATE,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "pillow": PIL.__version__,
            "numpy": np.__version__,
            "safetensors": safetensors.__version__,
            "tokenizers": tokenizers.__version__,
        },
    }


def save_f32(path: Path, array) -> None:
    if isinstance(array, torch.Tensor):
        array = array.detach().to(torch.float32).cpu().numpy()
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))


def check_rows(att: torch.Tensor) -> None:
    """Every attention row must sum to 1; prints the largest deviation."""
    err = float((att.to(torch.float64).sum(-1) - 1).abs().max())
    print(f"    attentions {tuple(att.shape)}  max|rowsum-1| = {err:.3e}")
    if err > 1e-5:
        raise SystemExit(f"attention rows do not sum to 1 (max error {err})")


def compare_float64(run64, attentions, hidden, extra) -> dict:
    """Max |float32 - float64| of every output: the float32 noise floor a port can expect to see."""
    att64, hid64, extra64 = run64()
    diffs = {"attentions": float((attentions.double() - att64).abs().max()),
             "hidden_state": float((hidden.double() - hid64).abs().max())}
    for key, value in extra.items():
        diffs[key] = float((value.double() - extra64[key]).abs().max())
    print("    |f32-f64| " + "  ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
    return {"max_abs_diff_float32_vs_float64": diffs}


def write_meta(path: Path, meta: dict) -> None:
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def image_layout(model_name: str, config, height: int, width: int) -> tuple[list[str], list[int], int]:
    vc = getattr(config, "vision_config", config)
    p = vc.patch_size
    prefix = ["cls"]
    if model_name.startswith("deit"):
        prefix = ["cls", "distillation"]
    if getattr(vc, "num_register_tokens", 0):
        prefix = ["cls"] + ["register"] * vc.num_register_tokens
    return prefix, [height // p, width // p], p


def load_processor(folder: Path):
    from transformers import AutoImageProcessor

    proc = AutoImageProcessor.from_pretrained(str(folder), use_fast=False)
    name = type(proc).__name__
    if not name.endswith("Pil"):
        raise SystemExit(f"{folder.name}: expected a PIL image processor, got {name} (is torchvision installed?)")
    return proc


INTERPOLATION_NOTES = {
    "vit": "position embeddings (patch part) resized with torch interpolate(size=(H/p, W/p), mode='bicubic', "
           "align_corners=False, antialias=False); the CLS position embedding is kept",
    "deit": "position embeddings (patch part) resized with torch interpolate(size=(H/p, W/p), mode='bicubic', "
            "align_corners=False, antialias=False); the CLS and distillation position embeddings are kept",
    "clip_vision_model": "position embeddings (patch part) resized with torch interpolate(size=(H/p, W/p), "
                         "mode='bicubic', align_corners=False, antialias=False); the class position embedding is kept",
    "clip": "position embeddings (patch part) resized with torch interpolate(size=(H/p, W/p), mode='bicubic', "
            "align_corners=False, antialias=False); the class position embedding is kept",
    "dinov2": "position embeddings (patch part) resized in float32 with torch interpolate(size=(H/p, W/p), "
              "mode='bicubic', align_corners=False, antialias=False); the CLS position embedding is kept",
    "dinov2_with_registers": "position embeddings (patch part) resized in float32 with torch interpolate("
                             "size=(H/p, W/p), mode='bicubic', align_corners=False, antialias=TRUE) -- unlike "
                             "Dinov2Model, this is torch's anti-aliased bicubic (a = -0.5 kernel), which differs even "
                             "when upsampling; registers are inserted after CLS, after the position add",
}


@torch.no_grad()
def run_image_case(case: ImageCase) -> None:
    from transformers import AutoModel, CLIPModel, DeiTForImageClassificationWithTeacher, ViTForImageClassification

    folder = MODELS / case.model
    out = fresh_dir(CASES / case.name)
    proc, image, kwargs, pixels = case_pixels(case, folder)
    _, _, height, width = pixels.shape

    load = dict(attn_implementation="eager", dtype=torch.float32)
    notes: list[str] = []
    if case.model.startswith("vit-p16-cls"):
        model = ViTForImageClassification.from_pretrained(str(folder), **load).eval()
    elif case.model == "deit-distilled":
        model = DeiTForImageClassificationWithTeacher.from_pretrained(str(folder), **load).eval()
    elif case.model == "clip-full":
        model = CLIPModel.from_pretrained(str(folder), **load).eval()
    else:
        model = AutoModel.from_pretrained(str(folder), **load).eval()
    for p in model.parameters():
        assert p.dtype == torch.float32

    cfg = model.config
    vc = getattr(cfg, "vision_config", cfg)
    native = (height, width) == (vc.image_size, vc.image_size)
    call = dict(output_attentions=True, output_hidden_states=False)
    family = cfg.model_type
    if family in ("dinov2", "dinov2_with_registers"):
        notes.append("Dinov2(WithRegisters)Model always interpolates position embeddings when the grid differs "
                     "(no interpolate_pos_encoding argument)")
    elif not native:
        call["interpolate_pos_encoding"] = True
    if not native:
        notes.append(INTERPOLATION_NOTES[family])

    def forward(m, px):
        """(attentions [L,H,N,N], hidden [N,D], extra outputs) of model ``m`` on ``px``."""
        extra: dict[str, torch.Tensor] = {}
        if case.model == "clip-full":
            outputs = m.vision_model(pixel_values=px, **call)
            extra["pooled"] = outputs.pooler_output[0]
            extra["image_embeds"] = m.visual_projection(outputs.pooler_output)[0]
        else:
            outputs = m(pixel_values=px, **call)
        if family == "clip_vision_model":
            extra["pooled"] = outputs.pooler_output[0]
        attentions = torch.stack([a[0] for a in outputs.attentions])
        if case.model.startswith("vit-p16-cls") or case.model == "deit-distilled":
            # *ForImageClassification returns no last_hidden_state: run the backbone for it.
            backbone = m.vit if hasattr(m, "vit") else m.deit
            base = backbone(pixel_values=px, **call)
            hidden = base.last_hidden_state[0]
            if not torch.equal(torch.stack([a[0] for a in base.attentions]), attentions):
                raise SystemExit(f"{case.name}: backbone attentions differ from the classifier's")
            extra["logits"] = outputs.logits[0]
            if case.model == "deit-distilled":
                extra["cls_logits"] = outputs.cls_logits[0]
                extra["distillation_logits"] = outputs.distillation_logits[0]
        else:
            hidden = outputs.last_hidden_state[0]
        return attentions, hidden, extra

    attentions, hidden, extra = forward(model, pixels)
    check_rows(attentions)
    float64_check = compare_float64(lambda: forward(model.double(), pixels.double()), attentions, hidden, extra)
    if case.model == "clip-full":
        notes.append("reference = CLIPModel.vision_model; image_embeds = visual_projection(pooled), not normalised")
    if family == "clip_vision_model" and not native:
        notes.append("CLIPVisionModel.forward accepts interpolate_pos_encoding=True in transformers "
                     f"{transformers.__version__}: position embeddings bicubic-interpolated to the grid")

    prefix, grid, patch = image_layout(case.model, cfg, height, width)
    n = len(prefix) + grid[0] * grid[1]
    if attentions.shape[-1] != n or hidden.shape[0] != n:
        raise SystemExit(f"{case.name}: layout says {n} tokens, model gave {tuple(attentions.shape)}")

    save_f32(out / "pixel_values.npy", pixels[0])
    save_f32(out / "attentions.npy", attentions)
    save_f32(out / "hidden_state.npy", hidden)
    for key, value in extra.items():
        save_f32(out / f"{key}.npy", value)

    spec = MODEL_BY_NAME[case.model]
    meta = {
        "case": case.name,
        "kind": "image",
        "model": case.model,
        "model_class": type(model).__name__,
        "model_sha256": sha256(folder / "model.safetensors"),
        "photo": f"photos/{PHOTO_FILES[case.photo]}",
        "requested_size": list(case.size) if case.size else None,
        "input_size": [height, width],
        "processor": type(proc).__name__,
        "processor_call": {k: v for k, v in kwargs.items()},
        "forward_call": {k: v for k, v in call.items()},
        "layout": {"prefix": prefix, "grid": grid, "patch_size": patch},
        "token_layout": {  # the same layout in ViTLensCore.TokenLayout's Codable form
            "prefix": prefix, "grid": {"rows": grid[0], "columns": grid[1], "patchSize": patch}, "textTokens": 0,
        },
        "files": {f.name: list(np.load(f).shape) for f in sorted(out.glob("*.npy"))},
        "notes": notes,
        "float64_check": float64_check,
        **provenance(spec.seed),
    }
    if case.model.endswith("bf16"):
        meta["notes"].append("weights stored as bfloat16; reference computed in float32 from the bf16-rounded weights")
    write_meta(out / "meta.json", meta)


@torch.no_grad()
def run_text_case(case: TextCase, minilm_dir: Path | None) -> None:
    from transformers import AutoTokenizer, BertModel

    if case.model == "minilm":
        if minilm_dir is None or not (minilm_dir / "model.safetensors").exists():
            print(f"  skip {case.name}: all-MiniLM-L6-v2 folder not found (pass --minilm DIR)")
            return
        folder = minilm_dir
        seed = None
    else:
        folder = MODELS / case.model
        seed = MODEL_BY_NAME[case.model].seed
    out = fresh_dir(CASES / case.name)
    tok = AutoTokenizer.from_pretrained(str(folder))
    enc = tok(case.sentence, return_tensors="pt")
    ids = enc["input_ids"]
    tokens = tok.convert_ids_to_tokens(ids[0].tolist())

    # The Python (legacy) BertTokenizer must agree with the tokenizers-backed one.
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

    legacy = BertTokenizerLegacy(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    legacy_ids = legacy(case.sentence)["input_ids"]
    if legacy_ids != ids[0].tolist():
        raise SystemExit(f"{case.name}: legacy and fast tokenizers disagree: {legacy_ids} vs {ids[0].tolist()}")

    model = BertModel.from_pretrained(str(folder), attn_implementation="eager", dtype=torch.float32).eval()
    def forward(m):
        outputs = m(**enc, output_attentions=True, output_hidden_states=False)
        return torch.stack([a[0] for a in outputs.attentions]), outputs.last_hidden_state[0], {}

    attentions, hidden, _ = forward(model)
    check_rows(attentions)
    float64_check = compare_float64(lambda: forward(model.double()), attentions, hidden, {})

    np.save(out / "input_ids.npy", ids[0].numpy().astype(np.int64))
    np.save(out / "token_type_ids.npy", enc["token_type_ids"][0].numpy().astype(np.int64))
    (out / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False) + "\n", encoding="utf-8")
    save_f32(out / "attentions.npy", attentions)
    save_f32(out / "hidden_state.npy", hidden)
    extra_notes = []
    if case.model == "minilm":
        # sentence-transformers' output: mean over tokens (all unmasked), then L2-normalised.
        mean = hidden.mean(0)
        save_f32(out / "embedding.npy", mean / mean.norm())
        extra_notes.append("embedding.npy = L2-normalised mean of hidden_state over all tokens "
                           "(all-MiniLM-L6-v2's sentence-transformers pooling + Normalize)")

    meta = {
        "case": case.name,
        "kind": "text",
        "model": "all-MiniLM-L6-v2" if case.model == "minilm" else case.model,
        "model_class": type(model).__name__,
        "model_sha256": sha256(folder / "model.safetensors"),
        "tokenizer": type(tok).__name__,
        "sentence": case.sentence,
        "tokens": tokens,
        "layout": {"prefix": [], "grid": None, "text_tokens": len(tokens)},
        "token_layout": {"prefix": [], "textTokens": len(tokens)},
        "files": {f.name: list(np.load(f).shape) for f in sorted(out.glob("*.npy"))},
        "notes": extra_notes,
        "float64_check": float64_check,
        **provenance(seed),
    }
    if case.model == "minilm":
        meta["model_source"] = "sentence-transformers/all-MiniLM-L6-v2 (not committed; see README)"
    write_meta(out / "meta.json", meta)


# --------------------------------------------------------------------------------------------


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


README_HEAD = """# Golden parity fixtures

GENERATED by `tools/make_fixtures.py` -- do not edit by hand (this README included). Regenerate with
`bash tools/make_fixtures.sh` (pinned venv in `tools/.venv`) or, in a venv with
`tools/requirements-fixtures.txt`, `python tools/make_fixtures.py [--only NAME ...]`. The `minilm-*` case
needs the real all-MiniLM-L6-v2 folder: `VITLENS_MINILM_DIR=<dir> python tools/make_fixtures.py --only
minilm-animal` (it is skipped, and its committed files kept, otherwise).

Reference: Hugging Face transformers {transformers} with `attn_implementation="eager"`, float32, torch
{torch} (CPU, `torch.set_num_threads(1)`), the PIL image processors (`AutoImageProcessor.from_pretrained(dir,
use_fast=False)`, i.e. `*ImageProcessorPil`; torchvision must not be installed), Pillow {pillow}, numpy
{numpy}. Every case's `meta.json` records these versions, the seed, the generator's commit and sha256, the
model's sha256, the processor class and the exact processor / forward calls, the token layout and the
largest |float32 - float64| difference of every output (the float32 noise floor of the reference itself).

## Conventions

- All `.npy` files are little-endian float32 C-order, batch dimension dropped; ids are int64.
- `pixel_values.npy` `[3, H, W]`: the processor's output (resize on uint8 with Pillow, optional centre crop,
  then `/255`, then `(x - mean) / std`).
- `attentions.npy` `[layers, heads, N, N]`: softmax probabilities (rows sum to 1, checked to 1e-5 before
  writing; actual max |sum - 1| is ~3e-7).
- `hidden_state.npy` `[N, D]`: the model's `last_hidden_state`. ViT, DINO, DINOv2 and DeiT apply their final
  LayerNorm (`layernorm`) to it; BERT's is the last layer's output (which ends in its `output.LayerNorm`).
  CLIP's is the encoder output *without* `post_layernorm` (HF applies `post_layernorm` only to the CLS row):
  `pooled.npy` `[D]` = `post_layernorm(last_hidden_state[0])` = `pooler_output`.
- `logits.npy` `[classes]` for classifiers (ViT: `classifier(layernorm(h)[0])`).
- Token order: prefix tokens first (`layout.prefix`), then the patch grid row-major (`layout.grid` =
  `[rows, cols]` = `[H/p, W/p]`). `meta.json` carries the same layout twice: `layout` (`prefix`, `grid`,
  `patch_size`) and `token_layout` in `ViTLensCore.TokenLayout`'s Codable form.
- Size-override cases call the processor with `size={{"height": H, "width": W}}, do_center_crop=False` (a
  straight resize to H x W, no crop) and the model with `interpolate_pos_encoding=True` (ViT, DeiT, CLIP;
  Dinov2 models always interpolate). "native" cases use the processor's own config.
- Weights are random but of a useful scale (seeded, see `randomize()` in the generator), given as mean/std:
  matrices 0/sqrt(1/fan_in) (query and key 1.5x that), biases 0/0.1, norm weights 1/0.2, layer scales
  0.5/0.1, tokens and position embeddings 0/0.5. Attention is peaked (max weights 0.7-0.9), not uniform.

## Facts a port needs (transformers {transformers})

- Position-embedding interpolation (non-native sizes) resizes the `sqrt(P) x sqrt(P)` grid of patch position
  embeddings to `(H/p, W/p)` with `torch.nn.functional.interpolate(size=..., mode="bicubic",
  align_corners=False)`; the prefix position embeddings (CLS, DeiT's distillation) are kept. Every family
  returns the table unchanged when the patch count matches and H == W. No `scale_factor` (+0.1) is used.
  An independent float64 NumPy forward written from these notes and the Hub keys reproduces the dino-p8,
  dinov2 and dinov2-reg cases (native and interpolated) to 1.2e-6 (attentions) and 2.6e-6 (hidden states).
- **Dinov2WithRegistersModel passes `antialias=True`** (Dinov2Model does not). torch's anti-aliased bicubic is
  a different filter even when upsampling: Keys cubic with a = -0.5 (not -0.75), for output index i the centre
  is c = (i + 0.5) * s with s = in/out, support 2 * max(s, 1), taps j in [max(int(c - support + 0.5), 0),
  min(int(c + support + 0.5), in)) weighted by cubic((j - c + 0.5) / max(s, 1)), truncated at the borders and
  renormalised to sum 1 (checked against torch to 1e-15). Plain bicubic instead uses a = -0.75 with clamped
  border indices. Registers are inserted after CLS, after the position embeddings were added (they get none).
- DINOv2 SwiGLU (`use_swiglu_ffn=true`): hidden = (int(int(D * mlp_ratio) * 2 / 3) + 7) // 8 * 8 (= 48 for
  D = 32, mlp_ratio 2). Hub keys `mlp.weights_in` `[2 * hidden, D]` and `mlp.weights_out` `[D, hidden]`; the
  first half of `weights_in`'s output is gated: `out = weights_out(silu(x1) * x2)`, `x1, x2 = chunk(2)`.
- Layer scale: DINOv2 keys `layer_scale1.lambda1`, `layer_scale2.lambda1` `[D]`, multiplied before each
  residual add.
- CLIP: key `pre_layrnorm` (sic) applied to the embeddings before the encoder; `quick_gelu` = x *
  sigmoid(1.702 x); LayerNorm eps 1e-5. ViT/DeiT/BERT eps 1e-12, DINOv2 1e-6.
- DeiT with teacher: `logits = (cls_logits + distillation_logits) / 2`, `cls_classifier` on token 0 and
  `distillation_classifier` on token 1 of `last_hidden_state`.
- `config.json` files are written by transformers 5 and carry `"dtype"` (older Hub checkpoints write
  `"torch_dtype"`); `vit-p16-cls-bf16` has `"dtype": "bfloat16"` and BF16 tensors in `model.safetensors`.
- transformers 5's `BertTokenizer` is the `tokenizers`-backed one; the generator checks that the Python
  `BertTokenizerLegacy` gives the same ids for every sentence.

## Models (`models/<name>/`: `config.json`, `model.safetensors`, `preprocessor_config.json` or tokenizer files)

| model | what | tensors | bytes |
| --- | --- | --- | --- |
"""


def write_readme() -> None:
    from safetensors import safe_open

    versions = {"transformers": transformers.__version__, "torch": torch.__version__, "pillow": PIL.__version__,
                "numpy": np.__version__}
    lines = [README_HEAD.format(**versions)]
    for spec in MODEL_SPECS:
        folder = MODELS / spec.name
        if not (folder / "model.safetensors").exists():
            continue
        with safe_open(str(folder / "model.safetensors"), "np") as f:
            count = len(list(f.keys()))
        cfg = json.loads((folder / "config.json").read_text())
        lines.append(f"| `{spec.name}` | {spec.description} (`{cfg['model_type']}`, seed {spec.seed}) | {count} "
                     f"| {dir_size(folder)} |\n")
    lines.append("\nThe hand-built `bert-tiny/vocab.txt` has "
                 f"{len(bert_vocab())} entries ([PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4, punctuation, words, ##pieces).\n")
    lines.append("\n## Cases (`cases/<name>/`)\n\n| case | model | input | processor | layout (prefix + grid) "
                 "| files [shape] | bytes |\n| --- | --- | --- | --- | --- | --- | --- |\n")
    for name in ALL_CASES:
        meta_file = CASES / name / "meta.json"
        if not meta_file.exists():
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        files = ", ".join(f"`{k}` {v}" for k, v in meta["files"].items())
        if meta["kind"] == "image":
            h, w = meta["input_size"]
            req = "native" if meta["requested_size"] is None else "size override"
            what = f"`{meta['photo']}` at {h}x{w} ({req})"
            lay = meta["layout"]
            layout = f"{lay['prefix']} + {lay['grid'][0]}x{lay['grid'][1]} (p {lay['patch_size']})"
            proc = f"`{meta['processor']}`"
        else:
            what = f"\"{meta['sentence']}\""
            layout = f"text, T = {meta['layout']['text_tokens']}"
            proc = f"`{meta['tokenizer']}`"
            files += ", `tokens.json`"
        lines.append(f"| `{name}` | `{meta['model']}` | {what} | {proc} | {layout} | {files} "
                     f"| {dir_size(CASES / name)} |\n")
    lines.append("\n### Text tokens\n\n")
    for case in TEXT_CASES:
        tokens_file = CASES / case.name / "tokens.json"
        if tokens_file.exists():
            tokens = json.loads(tokens_file.read_text(encoding="utf-8"))
            lines.append(f"- `{case.name}`: {' '.join(tokens)}\n")
    lines.append("\n`minilm-animal` is the real sentence-transformers/all-MiniLM-L6-v2 (6 layers, 12 heads, D = 384; "
                 "not committed, its sha256 is in `meta.json`); `embedding.npy` [384] is its sentence embedding "
                 "(mean of `hidden_state` over the tokens, L2-normalised).\n")
    total = dir_size(MODELS) + dir_size(CASES)
    lines.append(f"\nTotal size of `models/` + `cases/`: {total} bytes.\n")
    (FIXTURES / "README.md").write_text("".join(lines), encoding="utf-8")


def case_pixels(case, folder: Path, crop: bool = True):
    """An image case's photo through the folder's slow processor: ``(processor, image, call kwargs,
    pixel_values float32 [1, 3, H, W])``. A requested size resizes straight to it (and turns a centre crop
    off when the processor has one, ``crop``); the processor must give exactly that size."""
    proc = load_processor(folder)
    image = Image.open(PHOTOS / PHOTO_FILES[case.photo])
    image.load()
    kwargs = {}
    if case.size is not None:
        kwargs["size"] = {"height": case.size[0], "width": case.size[1]}
        if crop:
            kwargs["do_center_crop"] = False
    pixels = proc(images=image, return_tensors="pt", **kwargs)["pixel_values"].to(torch.float32)
    _, _, height, width = pixels.shape
    if case.size is not None and (height, width) != case.size:
        raise SystemExit(f"{case.name}: processor gave {height}x{width}, asked {case.size}")
    return proc, image, kwargs, pixels


def select_fixtures(argv, doc, model_specs, cases, add_arguments=None):
    """The fixture generators' shared command line (`--only NAME...`, `--list`) and torch set-up.

    Returns ``(args, models, cases)`` to build, or ``None`` after ``--list``. A model name also
    selects its cases, and a selected case rebuilds its model (deterministic: same seed, same bytes).
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="model folders and/or case names (a model name also selects its cases)")
    parser.add_argument("--list", action="store_true", help="list models and cases and exit")
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args(argv)
    model_names = [m.name for m in model_specs]
    case_names = [c.name for c in cases]
    if args.list:
        for m in model_specs:
            print(f"model {m.name}: {m.description}")
        for c in cases:
            print(f"case  {c.name}  (model {c.model})")
        return None

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    wanted = set(args.only or model_names + case_names)
    unknown = wanted - set(model_names) - set(case_names)
    if unknown:
        parser.error(f"unknown names: {', '.join(sorted(unknown))} (see --list)")
    chosen = [c for c in cases if c.name in wanted or c.model in wanted]
    models = [m for m in model_specs if m.name in wanted or any(c.model == m.name for c in chosen)]
    return args, models, chosen


def main(argv: list[str] | None = None) -> int:
    def minilm_argument(parser):
        parser.add_argument("--minilm", type=Path, default=os.environ.get("VITLENS_MINILM_DIR"),
                            help="folder of the real all-MiniLM-L6-v2 (HF layout); default $VITLENS_MINILM_DIR")

    picked = select_fixtures(argv, __doc__, MODEL_SPECS, list(ALL_CASES.values()), minilm_argument)
    if picked is None:
        return 0
    args, models, cases = picked

    for spec in models:
        print(f"model {spec.name}")
        spec.build(fresh_dir(MODELS / spec.name), spec.seed)
    for case in cases:
        print(f"case {case.name}")
        if isinstance(case, ImageCase):
            run_image_case(case)
        else:
            run_text_case(case, args.minilm)

    print("\nsizes (bytes):")
    total = 0
    for group in (MODELS, CASES):
        for d in sorted(p for p in group.iterdir() if p.is_dir()) if group.exists() else []:
            size = dir_size(d)
            total += size
            print(f"  {d.relative_to(FIXTURES)}: {size}")
    print(f"  total: {total}")
    write_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main())
