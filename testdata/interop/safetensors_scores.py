"""Load a reward model that `prefer export --format safetensors` wrote and score texts
with it, reproducing Prefer's scores with numpy alone (docs/formats.md, "safetensors").

    python3 safetensors_scores.py MODEL.safetensors NAME < pairs.json

pairs.json is a JSON list of {"prompt", "text"} (and "item", "response" ids for a
tabular model); the scores are printed as a JSON list. The tensors are PyTorch
state-dict tensors too: torch.nn.Linear(F, 1) loads NAME.weight and NAME.bias, and
torch.nn.Sequential(Linear(F, H), ReLU(), Linear(H, 1)) loads NAME.0.* and NAME.2.*.
"""
import json
import math
import struct
import sys
import unicodedata

import numpy as np


def load(path):
    """The tensors (name -> float32 array) and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n :]
    tensors = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", name
        a, b = e["data_offsets"]
        tensors[name] = np.frombuffer(body[a:b], dtype="<f4").reshape(e["shape"])
    return tensors, meta


# Prefer's hashed text features (core/reward/features.go): word n-grams, sentences,
# prompt x response word pairs and character n-grams, each group hashed with 64-bit
# FNV-1a into D signed buckets and scaled to unit norm, the groups summed with weight
# 1/sqrt(groups), then two length features.
FNV_OFFSET, FNV_PRIME, MASK = 14695981039346656037, 1099511628211, (1 << 64) - 1


def fnv(h, data):
    for c in data:
        h = ((h ^ c) * FNV_PRIME) & MASK
    return h


def start(kind):
    return fnv(FNV_OFFSET, kind.encode())


def is_word_char(ch):
    cat = unicodedata.category(ch)
    return cat.startswith("L") or cat == "Nd"


def tokens(text):
    out, cur = [], None
    for ch in text.lower():
        if is_word_char(ch) or (ch == "'" and cur is not None):
            cur = (cur or "") + ch
            continue
        if cur is not None:
            out.append(cur)
            cur = None
        if not ch.isspace():
            out.append(ch)
    if cur is not None:
        out.append(cur)
    return out


def is_word(t):
    return is_word_char(t[0])


def distinct_words(toks, most, from_end):
    seen, out = set(), []
    for t in reversed(toks) if from_end else toks:
        if not is_word(t) or t in seen:
            continue
        seen.add(t)
        out.append(t)
        if len(out) == most:
            break
    return out


def count_sentences(text):
    n, inside = 0, False
    for ch in text:
        if ch in ".!?":
            n += inside
            inside = False
        elif is_word_char(ch):
            inside = True
    return n + inside


def features(cfg, prompt, text):
    dim = int(cfg["dim"])
    toks = tokens(text)
    groups = []

    def hashed(keys):
        g = {}
        for h in keys:
            b, s = h % dim, (-1.0 if h >> 63 else 1.0)
            g[b] = g.get(b, 0.0) + s
        g = {b: v for b, v in g.items() if v != 0}
        ss = sum(v * v for v in g.values())
        if ss:
            inv = 1 / math.sqrt(ss)
            groups.append({b: v * inv for b, v in g.items()})

    def joined(kind, words):
        h = start(kind)
        for k, t in enumerate(words):
            if k:
                h = fnv(h, b" ")
            h = fnv(h, t.encode())
        return h

    if int(cfg["word_n"]) > 0 and toks:
        hashed(joined("w", toks[i : i + n]) for n in range(1, int(cfg["word_n"]) + 1) for i in range(len(toks) - n + 1))
    if cfg.get("sentences", True) and toks:
        keys, s = [], 0
        for i in range(len(toks) + 1):
            if i < len(toks) and toks[i] not in (".", "!", "?"):
                continue
            if i > s:
                keys.append(joined("s", toks[s:i]))
            s = i + 1
        hashed(keys)
    if cfg.get("cross", False) and prompt and toks:
        pw = distinct_words(tokens(prompt), 24, True)
        rw = distinct_words(toks, 48, False)
        hashed(fnv(fnv(fnv(start("x"), p.encode()), b"|"), r.encode()) for p in pw for r in rw)
    if int(cfg["char_max"]) > 0:
        norm = " " + " ".join(text.lower().split()) + " "
        if len(norm) > 2:
            hashed(fnv(start("c"), norm[i : i + n].encode()) for n in range(int(cfg["char_min"]), int(cfg["char_max"]) + 1) for i in range(len(norm) - n + 1))
    width = dim + (2 if cfg.get("length", True) else 0)
    x = np.zeros(width, dtype=np.float32)
    scale = np.float32(1 / math.sqrt(len(groups))) if len(groups) > 1 else np.float32(1)
    sums = {}
    for g in groups:
        for b, v in g.items():
            sums[b] = sums.get(b, 0.0) + v
    for b, v in sums.items():
        x[b] = np.float32(v) * scale
    if cfg.get("length", True):
        x[dim] = np.float32(math.log(1 + len([t for t in toks if is_word(t)])) / math.log(2) / 8)
        x[dim + 1] = np.float32(math.log(1 + count_sentences(text)) / math.log(2) / 4)
    return x


def score(tensors, prefix, family, cfg, pair):
    if family == "linear":
        x = features(cfg, pair["prompt"], pair["text"]).astype(np.float64)
        return float(tensors[prefix + ".weight"][0].astype(np.float64) @ x + tensors[prefix + ".bias"][0])
    if family == "mlp":
        x = features(cfg, pair["prompt"], pair["text"]).astype(np.float64)
        h = np.maximum(tensors[prefix + ".0.weight"].astype(np.float64) @ x + tensors[prefix + ".0.bias"], 0)
        return float(tensors[prefix + ".2.weight"][0].astype(np.float64) @ h + tensors[prefix + ".2.bias"][0])
    if family == "tabular":
        keys = list(zip(cfg["items"], cfg["responses"]))
        return float(tensors[prefix + ".scores"][keys.index((pair["item"], pair["response"]))])
    if family == "ensemble":
        members = cfg["members"]
        return sum(score(tensors, f"{prefix}.members.{k}", m["family"], m, pair) for k, m in enumerate(members)) / len(members)
    raise SystemExit(f"family {family}: no numpy scorer (see the model's layout in the metadata)")


def main():
    tensors, meta = load(sys.argv[1])
    name = sys.argv[2]
    model = json.loads(meta["prefer.model." + name])
    pairs = json.load(sys.stdin)
    json.dump([score(tensors, name, model["family"], model.get("config", {}), p) for p in pairs], sys.stdout)


if __name__ == "__main__":
    main()
