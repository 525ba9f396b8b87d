#!/usr/bin/env python3
"""Generate ViTLensText's WordPiece goldens and Unicode tables from Hugging Face `tokenizers`.

Writes, from all-MiniLM-L6-v2's tokenizer folder (``--minilm DIR`` or ``$VITLENS_MINILM_DIR``):

* ``Tests/Fixtures/text/minilm/``: copies of ``vocab.txt``, ``tokenizer_config.json`` and
  ``special_tokens_map.json`` (Apache-2.0), plus ``tokenizer_skeleton.json``: the real
  ``tokenizer.json`` with ``model.vocab`` emptied (the full file is 466 KB; tests put the vocabulary
  from ``vocab.txt`` back in, and this script checks that doing so rebuilds the original exactly).
* ``Tests/Fixtures/text/goldens.json``: ids, tokens, type ids, attention masks, offsets (Unicode
  code points, as Python's ``str`` counts them) and decodes for every case below, for MiniLM's
  tokenizer and for normalizer variants of it (cased, accents kept, no CJK splitting, no cleaning).
  The MiniLM cases are produced three ways (``AutoTokenizer`` on the full folder, ``AutoTokenizer``
  on a vocab.txt-only folder, and ``tokenizers.Tokenizer.from_file``) and must agree.
* ``Sources/ViTLensText/BertUnicodeTables.swift``: the character classes and mappings that
  `tokenizers`' BertNormalizer and BertPreTokenizer really use, found by probing every code point
  through them. They come from old Unicode tables inside the Rust crates (``unicode_categories``,
  ``unicode-normalization-alignments``), so Swift's own, newer Unicode properties would disagree on
  a few hundred characters (e.g. U+2E52 is punctuation in Unicode 13, not to BERT).
* ``Tests/Fixtures/text/meta.json``: versions, hashes and the exact command.

Regenerate (a few seconds; no network, no torch):

    VITLENS_MINILM_DIR=<all-MiniLM-L6-v2 folder> python tools/make_text_fixtures.py

with transformers==5.23.0 and tokenizers==0.23.3 installed (torch is not needed). It also rewrites
Sources/ViTLensText/BertUnicodeTables.swift; commit both together.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import tokenizers
import transformers
from tokenizers import Tokenizer, normalizers, pre_tokenizers
from transformers import AutoTokenizer

FORMAT_VERSION = 1
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "Tests" / "Fixtures" / "text"
SWIFT_TABLES = REPO / "Sources" / "ViTLensText" / "BertUnicodeTables.swift"
REGENERATE = "VITLENS_MINILM_DIR=<all-MiniLM-L6-v2 folder> python tools/make_text_fixtures.py"
COPIED = ["vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]

ANIMAL = "The animal didn't cross the street because it was too tired"
PARAGRAPH = (
    "Attention is a mechanism that lets a model weigh different parts of its input when it builds "
    "a representation. In a Vision Transformer, an image is cut into square patches, each patch is "
    "projected to a vector, and a learned classification token is prepended; every layer then lets "
    "each token attend to every other one. Visualising those weights, layer by layer and head by "
    "head, shows which regions the network relies on: early layers mix local neighbourhoods, while "
    "later ones often focus on the object that decides the label. Attention rollout multiplies the "
    "per-layer matrices (with the residual connection added) to estimate how information flows from "
    "the patches to the classification token. None of this is a faithful explanation on its own, "
    "but it is a cheap, useful first look, and it's fun: try it on photos of rockets, astronauts and "
    "computer pioneers! Numbers like 3.14159, 2024-06-01 and $9.99 are split by punctuation; words "
    "such as 'unbelievably' or 'tokenization' become several ##pieces. "
)
LONG_TEXT = PARAGRAPH * 3  # about 660 tokens: longer than the model's 512

# (name, text, options). Options: pair, max_length (truncation=longest_first), truncate (to the
# model maximum), add_special_tokens.
CASES: list[tuple[str, str, dict]] = [
    ("animal", ANIMAL, {}),
    ("accents", "café naïve Ångström Crème brûlée à la mode, s'il vous plaît. Zoë Brontë", {}),
    ("mixed_case", "ThE QuIcK BrOwN FoX JUMPS over the LAZY dog. iPhone McDonald's NASA", {}),
    ("punctuation_runs", "Wait... what?!?! (really) [sure] {ok} <tag> --- *** ~~~ @#$%^&", {}),
    ("numbers", "Numbers: 3.14159, 1,000,000, 42nd, 2024-06-01, 12:30pm, $9.99, 50%, -7e10", {}),
    ("url_email", "Visit https://www.example.com/path?query=1&x=y#frag or mail me@example.org", {}),
    ("emoji", "I love 🍕 and 🥺! 👍🏽 👨‍👩‍👧 ❤️ 🫠 🪿 ☃ ⚙", {}),
    ("cjk", "我爱自然语言处理。今日は良い天気ですね。한국어 텍스트 㐀 𠀀 𫠠 豈", {}),
    ("arabic_devanagari", "مرحبا بالعالم، كيف حالك؟ नमस्ते दुनिया। क्या हाल है?", {}),
    ("control_and_whitespace",
     "tab\there\nnewline\r\nCRLF\u000bvt\u000cff\u0085nel\u00a0nbsp\u2003em\u3000ideo"
     "\u200bzwsp\u200dzwj\ufeffbom\u0000nul\ufffdrep\u007fdel\u00adsoft\u202fnnbsp\u2028ls", {}),
    ("only_whitespace", "   \t\n \u3000 ", {}),
    ("empty", "", {}),
    ("only_punctuation", "!!!", {}),
    ("long_word", "a" * 150 + " ok", {}),
    ("word_100_chars", "b" * 100 + " " + "c" * 101, {}),
    ("wordpieces", "unbelievably tokenization antidisestablishmentarianism hyperparameterization", {}),
    ("unknown_chars", "𝕳𝖊𝖑𝖑𝖔 ᚠᛇᚻ \ue000private \U0001F9FF xyz\u2e52abc", {}),
    ("combining_marks", "e\u0301te\u0301 n\u0303 Zalgo: Z̷̢a̸l̶g̵o̴ a\u0316\u0301b", {}),
    ("special_casing", "İstanbul ΣΊΣΥΦΟΣ Straße ǅemal ﬁne Ｉ Ω K Å", {}),
    ("special_tokens_in_text", "The [MASK] sat on [SEP] the [cls] mat[PAD]x [UNK]", {}),
    ("non_ascii_digits", "١٢٣ ४५६ ½ ² ³ ⅷ ①", {}),
    ("quotes_dashes", "“Smart quotes” ‘single’ «guillemets» — dashes – and … ellipsis ‹›", {}),
    ("hyphen_underscore", "state-of-the-art snake_case camelCase kebab-case dot.separated", {}),
    ("fullwidth", "ＡＢＣ ｆｕｌｌ　ｗｉｄｔｈ １２３！", {}),
    ("math_symbols", "x² + y² = z², ∑∫√∞ ≠ ≤ ≥ ± × ÷ → ⇒", {}),
    ("code", "def f(x): return x**2  # comment\n\tprint(f'{x!r}')", {}),
    ("thai", "สวัสดีครับ ภาษาไทย", {}),
    ("cyrillic_greek", "Привет, мир! Ёлка. Καλημέρα κόσμε", {}),
    ("hebrew_niqqud", "שָׁלוֹם עוֹלָם", {}),
    ("hangul_jamo", "한국어 가 가", {}),
    ("covid", "COVID-19 vaccine's efficacy: 95% (n=43,448).", {}),
    ("sentence_end", "the quick brown fox jumps over the lazy dog.", {}),
    ("no_special_tokens", ANIMAL, {"add_special_tokens": False}),
    ("truncate_8", ANIMAL, {"max_length": 8}),
    ("truncate_2", ANIMAL, {"max_length": 2}),
    ("truncate_3_wordpieces", "antidisestablishmentarianism", {"max_length": 3}),
    ("truncate_no_specials_5", ANIMAL, {"max_length": 5, "add_special_tokens": False}),
    ("long_paragraph_truncated", LONG_TEXT, {"truncate": True}),
    ("pair", "How old are you?", {"pair": "I am 6 years old"}),
    # transformers drops an empty text_pair (`if text_pair`); `tokenizers` encodes [CLS] a [SEP] [SEP].
    # ViTLens follows `tokenizers` here: a pair argument always means the pair template.
    ("pair_empty_second", ANIMAL, {"pair": ""}),
    ("pair_truncate_both", ANIMAL, {"pair": "The street was wide, and the animal was tired.", "max_length": 11}),
    ("pair_truncate_longer", "Short one.", {"pair": ANIMAL + " and hungry", "max_length": 12}),
    ("pair_truncate_first_longer", ANIMAL, {"pair": "Short.", "max_length": 10}),
    ("pair_truncate_odd", ANIMAL, {"pair": ANIMAL.upper(), "max_length": 14}),
    ("pair_long_truncated", LONG_TEXT, {"pair": PARAGRAPH, "truncate": True}),
    ("pair_unicode", "café 我爱 🍕", {"pair": "İstanbul naïve", "max_length": 64}),
]

SEED = 20240601


def random_texts(count: int = 24, length: int = 48) -> list[tuple[str, str, dict]]:
    """Seeded random strings mixing ASCII, whitespace, Latin with marks, CJK, Hangul, emoji and any
    assigned-or-not code point (surrogates excluded), to catch any table or alignment mismatch."""
    import random
    rng = random.Random(SEED)
    pools = [
        (0x20, 0x7E), (0x00, 0x1F), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF),
        (0x900, 0xDFF), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2E00, 0x2E7F), (0x3000, 0x30FF),
        (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xE000, 0xF8FF), (0xF900, 0xFFFF),
        (0x10000, 0x1FFFF), (0x1F300, 0x1FAFF), (0x20000, 0x2FFFF), (0x2B800, 0x2B9FF), (0xE0000, 0x10FFFF),
    ]
    cases = []
    for n in range(count):
        chars = []
        while len(chars) < length:
            if rng.random() < 0.25:
                chars.append(rng.choice(" \t\n.,!'-"))
                continue
            low, high = rng.choice(pools)
            cp = rng.randint(low, high)
            if not 0xD800 <= cp <= 0xDFFF:
                chars.append(chr(cp))
        cases.append((f"random_{n:02d}", "".join(chars), {}))
    return cases


CASES += random_texts()

# Variants of MiniLM's tokenizer.json: BertNormalizer fields overridden ("normalizer") and/or the
# whole added_tokens list replaced ("added_tokens"), with the cases each one is checked on.
NORMALIZER_VARIANT_CASES = [
    "animal", "accents", "mixed_case", "cjk", "arabic_devanagari", "control_and_whitespace",
    "combining_marks", "special_casing", "fullwidth", "thai", "cyrillic_greek", "hebrew_niqqud",
    "hangul_jamo", "emoji", "unknown_chars", "pair_unicode", "random_00", "random_01", "random_02", "random_03",
]
ADDED_TOKENS_TEXT = "I saw [MASK] in new york,  [MASK]NEW YORK and New Yorker. xyz axyz xyz  . [SEP]xyz"


def minilm_added_tokens_variant(full: dict) -> list[dict]:
    """MiniLM's added tokens, with [MASK] swallowing spaces before it (like RoBERTa's <mask>), plus a
    normalized multi-word token and a single-word, right-stripping token, both new ids."""
    tokens = copy.deepcopy(full["added_tokens"])
    for token in tokens:
        if token["content"] == "[MASK]":
            token["lstrip"] = True
    size = len(full["model"]["vocab"]) if full["model"]["vocab"] else 30522
    tokens.append({"id": size, "content": "New York", "single_word": False, "lstrip": False, "rstrip": False,
                   "normalized": True, "special": False})
    tokens.append({"id": size + 1, "content": "xyz", "single_word": True, "lstrip": False, "rstrip": True,
                   "normalized": False, "special": False})
    return tokens


VARIANTS = {
    "cased": ({"normalizer": {"lowercase": False, "strip_accents": None}}, NORMALIZER_VARIANT_CASES),
    "lower_keep_accents": ({"normalizer": {"lowercase": True, "strip_accents": False}}, NORMALIZER_VARIANT_CASES),
    "strip_no_lower": ({"normalizer": {"lowercase": False, "strip_accents": True}}, NORMALIZER_VARIANT_CASES),
    "no_chinese": ({"normalizer": {"handle_chinese_chars": False}}, NORMALIZER_VARIANT_CASES),
    "no_clean": ({"normalizer": {"clean_text": False}}, NORMALIZER_VARIANT_CASES),
    "added_tokens": ({"added_tokens": None}, ["added_tokens_flags", "animal"]),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def encode_transformers(tok, text: str, opts: dict) -> dict:
    kwargs = dict(return_offsets_mapping=True, return_special_tokens_mask=True,
                  return_token_type_ids=True, return_attention_mask=True,
                  add_special_tokens=opts.get("add_special_tokens", True))
    if "max_length" in opts:
        kwargs.update(truncation="longest_first", max_length=opts["max_length"])
    elif opts.get("truncate"):
        kwargs.update(truncation="longest_first")
    enc = tok(text, opts["pair"], **kwargs) if "pair" in opts else tok(text, **kwargs)
    ids = enc["input_ids"]
    return {
        "ids": ids,
        "tokens": tok.convert_ids_to_tokens(ids),
        "type_ids": enc["token_type_ids"],
        "attention_mask": enc["attention_mask"],
        "special_tokens_mask": enc["special_tokens_mask"],
        "offsets": [list(o) for o in enc["offset_mapping"]],
        "decoded": tok.decode(ids, skip_special_tokens=True),
        "decoded_with_special_tokens": tok.decode(ids, skip_special_tokens=False),
    }


def encode_raw(tok: Tokenizer, text: str, opts: dict, model_max_length: int) -> dict:
    tok.no_padding()
    if "max_length" in opts:
        tok.enable_truncation(opts["max_length"], strategy="longest_first")
    elif opts.get("truncate"):
        tok.enable_truncation(model_max_length, strategy="longest_first")
    else:
        tok.no_truncation()
    add = opts.get("add_special_tokens", True)
    enc = tok.encode(text, opts["pair"], add_special_tokens=add) if "pair" in opts else \
        tok.encode(text, add_special_tokens=add)
    return {
        "ids": enc.ids,
        "tokens": enc.tokens,
        "type_ids": enc.type_ids,
        "attention_mask": enc.attention_mask,
        "special_tokens_mask": enc.special_tokens_mask,
        "offsets": [list(o) for o in enc.offsets],
        "decoded": tok.decode(enc.ids, skip_special_tokens=True),
        "decoded_with_special_tokens": tok.decode(enc.ids, skip_special_tokens=False),
    }


def case_record(name: str, variant: str, text: str, opts: dict, result: dict) -> dict:
    record = {"name": name, "variant": variant, "text": text}
    record.update({k: opts[k] for k in ("pair", "max_length", "truncate", "add_special_tokens") if k in opts})
    record.update(result)
    return record


# ----------------------------------------------------------------------------------------------
# Unicode tables, probed from the BertNormalizer and BertPreTokenizer themselves.

def probe_unicode() -> dict:
    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    pretok = pre_tokenizers.BertPreTokenizer()
    removed, whitespace, clean_spaces, punctuation, chinese_chars = [], [], [], [], []
    strip_map, lower_map = {}, {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        r = clean.normalize_str(ch)
        if r == "":
            removed.append(cp)
        elif r == " ":
            clean_spaces.append(cp)
        elif r != ch:
            raise SystemExit(f"clean_text maps U+{cp:04X} to {r!r}: not handled by the Swift port")
        pieces = len(pretok.pre_tokenize_str("a" + ch + "a"))
        if pieces == 3:
            punctuation.append(cp)
        elif pieces == 2:
            whitespace.append(cp)
        r = strip.normalize_str(ch)
        if r != ch:
            strip_map[cp] = r
        r = lower.normalize_str(ch)
        if r != ch:
            lower_map[cp] = r
        r = chinese.normalize_str(ch)
        if r == f" {ch} ":
            chinese_chars.append(cp)
        elif r != ch:
            raise SystemExit(f"handle_chinese_chars maps U+{cp:04X} to {r!r}")
    # The Swift port hard-codes these two facts; check them.
    expected_chinese = [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF),
                        (0x2A700, 0x2B81F), (0x2B920, 0x2CEAF), (0x2F800, 0x2FA1F)]
    if ranges(chinese_chars) != expected_chinese:
        raise SystemExit(f"CJK ranges changed: {ranges(chinese_chars)}")
    # clean_text turns White_Space into ' ' unless it is a control character (then it is removed).
    if sorted(set(clean_spaces) | {0x20}) != sorted(set(whitespace) - set(removed)):
        raise SystemExit("clean_text whitespace differs from the pre-tokenizer's whitespace")
    # Hangul syllables decompose algorithmically (UAX #15); check rather than store them.
    for cp in range(0xAC00, 0xD7A4):
        s = cp - 0xAC00
        jamo = chr(0x1100 + s // 588) + chr(0x1161 + (s % 588) // 28) + (chr(0x11A7 + s % 28) if s % 28 else "")
        if strip_map.get(cp) != jamo:
            raise SystemExit(f"Hangul U+{cp:04X} strips to {strip_map.get(cp)!r}, expected {jamo!r}")
        del strip_map[cp]
    return dict(removed=removed, whitespace=whitespace, punctuation=punctuation,
                strip_map=strip_map, lower_map=lower_map)


def ranges(cps: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return [(a, b) for a, b in out]


def mapping_runs(mapping: dict[int, str]) -> tuple[list[str], list[str]]:
    """Compress single-scalar mappings into runs ``start+count/step:delta`` or ``start+count/step=target``."""
    single = sorted((cp, ord(r)) for cp, r in mapping.items() if len(r) == 1)
    multi = [f"{cp:X}>" + ",".join(f"{ord(c):X}" for c in r) for cp, r in sorted(mapping.items()) if len(r) != 1]
    runs, i = [], 0
    while i < len(single):
        cp, target = single[i]
        best = (1, 1, "delta")
        for step in (1, 2):
            for mode in ("delta", "const"):
                j = i + 1
                while (j < len(single) and single[j][0] == cp + step * (j - i)
                       and ((mode == "delta" and single[j][1] - single[j][0] == target - cp)
                            or (mode == "const" and single[j][1] == target))):
                    j += 1
                if j - i > best[0]:
                    best = (j - i, step, mode)
        count, step, mode = best
        if mode == "delta":
            runs.append(f"{cp:X}+{count}/{step}:{target - cp:+d}")
        else:
            runs.append(f"{cp:X}+{count}/{step}={target:X}")
        i += count
    return runs, multi


def swift_string(name: str, doc: str, items: list[str]) -> str:
    lines, line = [], ""
    for item in items:
        if len(line) + len(item) + 1 > 100:
            lines.append(line.rstrip())
            line = ""
        line += item + " "
    if line:
        lines.append(line.rstrip())
    body = "\n".join("        " + l for l in lines)
    return f'    /// {doc}\n    static let {name} = """\n{body}\n        """\n'


def write_swift_tables(t: dict) -> None:
    def range_items(cps):
        return [f"{a:X}" if a == b else f"{a:X}-{b:X}" for a, b in ranges(cps)]
    lower_runs, lower_multi = mapping_runs(t["lower_map"])
    strip_empty = [cp for cp, r in t["strip_map"].items() if r == ""]
    strip_runs, strip_multi = mapping_runs({cp: r for cp, r in t["strip_map"].items() if r != ""})
    header = f"""// GENERATED by tools/make_text_fixtures.py from tokenizers {tokenizers.__version__}: DO NOT EDIT.
// Regenerate with: {REGENERATE}
//
// The character classes and per-scalar mappings of Hugging Face `tokenizers`' BertNormalizer and
// BertPreTokenizer, probed code point by code point (surrogates excluded). Items are hex code points
// separated by spaces: `A-B` is an inclusive range; a run `S+N/K:D` maps the N scalars S, S+K, ...
// to themselves plus D; `S+N/K=T` maps them all to T; `S>A,B` maps S to the scalars A, B (or to
// nothing when the list is empty). Hangul syllables are not listed: they decompose by UAX #15.

/// Tables behind ``BertCharacterClasses``, stored as text so that they compile quickly.
enum BertUnicodeTables {{
"""
    parts = [
        swift_string("removedByCleanText",
                     "Scalars `clean_text` deletes: NUL, U+FFFD and Cc/Cf/Co in the crate's tables, except tab, LF and CR.",
                     range_items(t["removed"])),
        swift_string("whitespace", "Rust's `char::is_whitespace` (White_Space): split points, and `clean_text` turns them into U+0020.",
                     range_items(t["whitespace"])),
        swift_string("punctuation", "BertPreTokenizer punctuation: ASCII punctuation plus the crate's P* categories.",
                     range_items(t["punctuation"])),
        swift_string("strippedMarks", "Scalars `strip_accents` removes (the crate's Mn category).",
                     range_items(strip_empty)),
        swift_string("stripAccentsRuns", "`strip_accents` of other scalars: NFD, then Mn removed (single-scalar results).",
                     strip_runs),
        swift_string("stripAccentsMulti", "`strip_accents` results of more than one scalar.", strip_multi),
        swift_string("lowercaseRuns", "Rust's `char::to_lowercase` (single-scalar results).", lower_runs),
        swift_string("lowercaseMulti", "`char::to_lowercase` results of more than one scalar.", lower_multi),
    ]
    SWIFT_TABLES.write_text(header + "\n".join(parts) + "}\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minilm", default=os.environ.get("VITLENS_MINILM_DIR"),
                        help="all-MiniLM-L6-v2 folder (default: $VITLENS_MINILM_DIR)")
    args = parser.parse_args()
    if not args.minilm or not (Path(args.minilm) / "tokenizer.json").is_file():
        raise SystemExit("make_text_fixtures.py: pass --minilm DIR or set VITLENS_MINILM_DIR "
                         "(a folder with tokenizer.json and vocab.txt)")
    src = Path(args.minilm)
    minilm_out = OUT / "minilm"
    minilm_out.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copyfile(src / name, minilm_out / name)

    # The tokenizer.json skeleton, and a check that putting vocab.txt back rebuilds the original.
    full = json.loads((src / "tokenizer.json").read_text(encoding="utf-8"))
    skeleton = copy.deepcopy(full)
    skeleton["model"]["vocab"] = {}
    (minilm_out / "tokenizer_skeleton.json").write_text(json.dumps(skeleton, indent=1, ensure_ascii=False) + "\n",
                                                         encoding="utf-8")
    vocab_lines = (src / "vocab.txt").read_text(encoding="utf-8").split("\n")
    if vocab_lines[-1] == "":
        vocab_lines.pop()
    rebuilt = copy.deepcopy(skeleton)
    rebuilt["model"]["vocab"] = {token: i for i, token in enumerate(vocab_lines)}
    if rebuilt != full:
        raise SystemExit("tokenizer_skeleton.json + vocab.txt does not rebuild tokenizer.json")
    model_max_length = json.loads((src / "tokenizer_config.json").read_text())["model_max_length"]

    with tempfile.TemporaryDirectory() as tmp:
        vocab_only = Path(tmp)
        for name in COPIED:
            shutil.copyfile(src / name, vocab_only / name)
        hf_full = AutoTokenizer.from_pretrained(str(src))
        hf_vocab = AutoTokenizer.from_pretrained(str(vocab_only))
    raw = Tokenizer.from_file(str(src / "tokenizer.json"))

    records = []
    for name, text, opts in CASES:
        a = encode_transformers(hf_full, text, opts)
        b = encode_transformers(hf_vocab, text, opts)
        c = encode_raw(raw, text, opts, model_max_length)
        if opts.get("pair") == "":
            if not (a == b and a["ids"] + [c["ids"][-1]] == c["ids"]):
                raise SystemExit(f"case {name}: unexpected transformers/tokenizers difference")
            a = c
        elif not (a == b == c):
            raise SystemExit(f"case {name}: the three Hugging Face loaders disagree")
        if not opts.get("truncate") and "max_length" not in opts and len(a["ids"]) > model_max_length:
            raise SystemExit(f"case {name} is longer than {model_max_length} tokens")
        records.append(case_record(name, "minilm", text, opts, a))

    by_name = {name: (text, opts) for name, text, opts in CASES}
    by_name["added_tokens_flags"] = (ADDED_TOKENS_TEXT, {})
    variants_out = {}
    for variant, (overrides, case_names) in VARIANTS.items():
        overrides = copy.deepcopy(overrides)
        if "added_tokens" in overrides:
            overrides["added_tokens"] = minilm_added_tokens_variant(full)
        spec = copy.deepcopy(full)
        spec["normalizer"].update(overrides.get("normalizer", {}))
        if "added_tokens" in overrides:
            spec["added_tokens"] = overrides["added_tokens"]
        variants_out[variant] = overrides
        tok = Tokenizer.from_str(json.dumps(spec))
        for name in case_names:
            text, opts = by_name[name]
            records.append(case_record(name, variant, text, opts, encode_raw(tok, text, opts, model_max_length)))

    goldens = {
        "format_version": FORMAT_VERSION,
        "note": "Offsets are [start, end) in Unicode code points of the text (or of the pair text, "
                "for tokens with type id 1); template special tokens have [0, 0] and special_tokens_mask 1.",
        "model_max_length": model_max_length,
        "variants": variants_out,
        "cases": records,
    }
    (OUT / "goldens.json").write_text(json.dumps(goldens, ensure_ascii=False, separators=(",", ":")) + "\n",
                                      encoding="utf-8")

    tables = probe_unicode()
    write_swift_tables(tables)

    meta = {
        "format_version": FORMAT_VERSION,
        "generator": "tools/make_text_fixtures.py",
        "regenerate": REGENERATE,
        "source": "sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), tokenizer files only",
        "source_sha256": {name: sha256(src / name) for name in COPIED + ["tokenizer.json"]},
        "versions": {"python": platform.python_version(), "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__},
        "seed": SEED,
        "cases": len(records),
        "unicode_tables": {k: len(v) for k, v in tables.items()},
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(records)} cases to {OUT / 'goldens.json'} and tables to {SWIFT_TABLES}")


if __name__ == "__main__":
    sys.exit(main())
