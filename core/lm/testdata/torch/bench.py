"""PyTorch (CPU, one thread) reference for core/lm's BenchmarkTrainStep and
BenchmarkPPOStep, run by BenchmarkTorchTrainStep and BenchmarkTorchPPOStep
(core/lm/bench_test.go) when Debian's python3-torch is installed (make bench
installs it).

Model: core/lm's DefaultConfig over the demo vocabulary, GPT-2 shaped as in
Karpathy's nanoGPT model.py: V = 462 tokens, context 80, C = 48 channels, 2 blocks
of pre-norm causal self-attention (4 heads) and a tanh-GELU MLP (4C), learned
position embeddings, final layer norm, output layer tied to the token embedding, a
scalar value head on the final hidden state; 82,705 parameters. AdamW
(β = 0.9, 0.95, weight decay 0.01 on matrices and embeddings), gradient clipping
at norm 1, as core/lm's AdamW.

Training step: 16 sequences of 48 random tokens, cross-entropy on every position,
backward, clip, AdamW (as BenchmarkTrainStep).

PPO step (as BenchmarkPPOStep: 16 prompts × 4 samples, 4 epochs, one mini-batch):
sampling with a key/value cache, 4 answers per prompt in a batch, the prompts and
answer lengths of the Go benchmark's first PPO step (ppo_shape.json, written by
TestTorchPPOShape); log-probabilities under the frozen reference and the old
policy, values; per-token KL-penalized rewards (β = 0.1, k1) with a random score
per answer standing in for the gold utility; GAE (γ = 1, λ = 0.95), whitened
advantages; 4 epochs of the clipped surrogate (ε = 0.2) plus 0.1 × the clipped
value loss, backward, clip, AdamW. The batch is padded to its longest sequence, as
TRL does; Prefer's Go code skips padding.

Usage: python3 bench.py [train_steps] [ppo_steps]  → one JSON object on stdout.
"""

import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(1)

V, CTX, C, L, NH, H = 462, 80, 48, 2, 4, 192
B, T = 16, 48
EOS = 2  # any token id: sampling stops at the recorded lengths


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(C)
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C)
        self.fc = nn.Linear(C, H)
        self.fcproj = nn.Linear(H, C)

    def attn(self, x, cache=None):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(b, t, NH, C // NH).transpose(1, 2)
        k = k.view(b, t, NH, C // NH).transpose(1, 2)
        v = v.view(b, t, NH, C // NH).transpose(1, 2)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        n = k.shape[2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // NH))
        mask = torch.ones(t, n, dtype=torch.bool).tril(diagonal=n - t)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, C)
        return self.proj(y)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln1(x), cache)
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(CTX, C)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.lnf = nn.LayerNorm(C)
        self.head = nn.Linear(C, 1)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(("proj.weight", "fcproj.weight")) else 0.02
                nn.init.normal_(p, 0, std)
            elif "ln" not in name:
                nn.init.zeros_(p)

    def forward(self, idx, caches=None, pos0=0):
        t = idx.shape[1]
        x = self.wte(idx) + self.wpe(torch.arange(pos0, pos0 + t))
        for i, blk in enumerate(self.blocks):
            x = blk(x, None if caches is None else caches[i])
        h = self.lnf(x)
        return h @ self.wte.weight.t(), self.head(h).squeeze(-1)


def adamw(model):
    decay = [p for n, p in model.named_parameters() if p.dim() == 2]
    rest = [p for n, p in model.named_parameters() if p.dim() != 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.95), eps=1e-8)


def step(model, opt, loss):
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()


def train_steps_per_s(n):
    model = GPT()
    opt = adamw(model)
    tokens = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))

    def one():
        logits, _ = model(tokens)
        step(model, opt, F.cross_entropy(logits.view(-1, V), targets.view(-1)))

    for _ in range(3):
        one()
    t0 = time.perf_counter()
    for _ in range(n):
        one()
    return n / (time.perf_counter() - t0)


def ppo_step(model, ref, opt, shape):
    # Sampling: 4 answers per prompt in one batch, with the key/value cache.
    seqs, resp_lens = [], []
    with torch.no_grad():
        for prompt, lens in zip(shape["prompts"], shape["lengths"]):
            k = len(lens)
            x = torch.tensor([prompt] * k)
            caches = [{} for _ in range(L)]
            logits, _ = model(x, caches)
            out = []
            pos = len(prompt)
            for _ in range(max(lens)):
                probs = logits[:, -1].softmax(-1)
                tok = torch.multinomial(probs, 1)
                out.append(tok)
                logits, _ = model(tok, caches, pos)
                pos += 1
            out = torch.cat(out, dim=1)
            for i, n in enumerate(lens):
                seqs.append(prompt + out[i, :n].tolist())
                resp_lens.append(n)
    # The padded batch: tokens, targets and the response positions.
    S = len(seqs)
    Tm = max(len(s) for s in seqs)
    tokens = torch.zeros(S, Tm - 1, dtype=torch.long)
    targets = torch.zeros(S, Tm - 1, dtype=torch.long)
    mask = torch.zeros(S, Tm - 1)
    for i, s in enumerate(seqs):
        n = len(s)
        tokens[i, : n - 1] = torch.tensor(s[:-1])
        targets[i, : n - 1] = torch.tensor(s[1:])
        mask[i, n - 1 - resp_lens[i] : n - 1] = 1

    def logprobs(m):
        logits, values = m(tokens)
        return logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1), values

    with torch.no_grad():
        ref_lp, _ = logprobs(ref)
        old_lp, old_v = logprobs(model)
        # Per-token rewards: −β·(log π − log π_ref), plus the answer's score at its
        # last token; GAE over each answer's tokens.
        rew = -0.1 * (old_lp - ref_lp) * mask
        score = torch.randn(S)
        last = (mask * torch.arange(Tm - 1)).argmax(dim=1)
        rew[torch.arange(S), last] += score
        adv = torch.zeros_like(rew)
        gae = torch.zeros(S)
        for t in reversed(range(Tm - 1)):
            nv = old_v[:, t + 1] * mask[:, t + 1] if t + 1 < Tm - 1 else torch.zeros(S)
            delta = rew[:, t] + nv - old_v[:, t]
            gae = (delta + 0.95 * gae) * mask[:, t]
            adv[:, t] = gae
        ret = adv + old_v
        n = mask.sum()
        mean = (adv * mask).sum() / n
        std = (((adv - mean) ** 2 * mask).sum() / n).sqrt()
        adv = (adv - mean) / (std + 1e-8) * mask
    for _ in range(4):
        lp, v = logprobs(model)
        ratio = (lp - old_lp).exp()
        pg = torch.max(-adv * ratio, -adv * ratio.clamp(0.8, 1.2))
        vc = old_v + (v - old_v).clamp(-0.2, 0.2)
        vf = 0.5 * torch.max((v - ret) ** 2, (vc - ret) ** 2)
        loss = ((pg + 0.1 * vf) * mask).sum() / n
        step(model, opt, loss)


def ppo_steps_per_s(n):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "ppo_shape.json")) as f:
        shape = json.load(f)
    model = GPT()
    ref = GPT()
    ref.load_state_dict(model.state_dict())
    opt = adamw(model)
    ppo_step(model, ref, opt, shape)
    t0 = time.perf_counter()
    for _ in range(n):
        ppo_step(model, ref, opt, shape)
    return n / (time.perf_counter() - t0)


def main():
    train = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    ppo = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    params = sum(p.numel() for p in GPT().parameters())
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "params": params}
    if train > 0:
        out["train_steps_per_s"] = train_steps_per_s(train)
        out["train_tokens_per_s"] = out["train_steps_per_s"] * B * T
    if ppo > 0:
        out["ppo_steps_per_s"] = ppo_steps_per_s(ppo)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
