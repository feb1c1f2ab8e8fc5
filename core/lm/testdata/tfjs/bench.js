// TensorFlow.js (wasm backend, SIMD, one thread) references for core/lm's
// BenchmarkTrainStep and BenchmarkPPOStep, run by BenchmarkTFJSTrainStep and
// BenchmarkTFJSPPOStep (core/lm/bench_test.go). They do the work of the PyTorch
// script ../torch/bench.py, whose structure this file follows function by function.
//
// Model (DefaultConfig over the demo vocabulary, as bench.py's GPT): V = 462 tokens,
// context 80, C = 48 channels, 2 blocks of pre-norm causal self-attention (4 heads)
// and a tanh-GELU MLP (4C), learned position embeddings, a final layer norm, an
// output layer tied to the token embedding and a scalar value head on the final
// hidden state; 82,705 parameters. AdamW (β = 0.9, 0.95, weight decay 0.01 on
// matrices and embeddings), gradient clipping at norm 1, as core/lm's AdamW (TF.js
// has neither AdamW nor clipping by global norm: both are written below with tf ops).
//
// Training step: B = 16 sequences of T = 48 random tokens, cross-entropy on every
// position, backward, clip, AdamW (as BenchmarkTrainStep).
//
// PPO step (as bench.py's ppo_step: 16 prompts × 4 answers, 4 epochs, one
// mini-batch): sampling with a key/value cache, 4 answers per prompt in a batch, the
// prompts and answer lengths of the Go benchmark's first PPO step
// (../torch/ppo_shape.json); log-probabilities under the frozen reference and the old
// policy, values; per-token KL-penalized rewards (β = 0.1, k1) with a random score per
// answer; GAE (γ = 1, λ = 0.95), whitened advantages; 4 epochs of the clipped surrogate
// (ε = 0.2) plus 0.1 × the clipped value loss, backward, clip, AdamW. The batch is
// padded to its longest sequence, as bench.py and TRL do.
//
// Usage: node bench.js [train_steps] [ppo_steps]   → one JSON object on stdout.
//
// Differences forced by the backend: it lacks UnsortedSegmentSum, the gradient kernel
// of gather, so where a gradient flows (the training step, PPO's epochs) the token
// embedding is a one-hot matmul (as TF.js models on this backend do), which adds
// N·V·C multiply-adds each way for N tokens; the passes without a gradient (sampling,
// the reference and old-policy passes) gather rows as PyTorch does. The scalar
// bookkeeping between the passes (rewards, GAE over 64 × ≤64 positions, whitening)
// runs on JS arrays where bench.py uses tensor ops on columns: the same arithmetic.
'use strict';
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const V = 462, CTX = 80, C = 48, L = 2, NH = 4, H = 4 * C;
const B = 16, T = 48;
const HS = C / NH;

let seed = 1;
const nextSeed = () => seed++;

function init(shape, std) {
  return tf.variable(tf.randomNormal(shape, 0, std, 'float32', nextSeed()));
}

function gpt() {
  const p = {
    wte: init([V, C], 0.02),
    wpe: init([CTX, C], 0.02),
    lnfw: tf.variable(tf.ones([C])),
    lnfb: tf.variable(tf.zeros([C])),
    headw: init([C, 1], 0.02),
    headb: tf.variable(tf.zeros([1])),
    layers: [],
  };
  for (let l = 0; l < L; l++) {
    p.layers.push({
      ln1w: tf.variable(tf.ones([C])), ln1b: tf.variable(tf.zeros([C])),
      qkvw: init([C, 3 * C], 0.02), qkvb: tf.variable(tf.zeros([3 * C])),
      projw: init([C, C], 0.02 / Math.sqrt(2 * L)), projb: tf.variable(tf.zeros([C])),
      ln2w: tf.variable(tf.ones([C])), ln2b: tf.variable(tf.zeros([C])),
      fcw: init([C, H], 0.02), fcb: tf.variable(tf.zeros([H])),
      fcprojw: init([H, C], 0.02 / Math.sqrt(2 * L)), fcprojb: tf.variable(tf.zeros([C])),
    });
  }
  return p;
}

function variables(p) {
  const vars = [p.wte, p.wpe, p.lnfw, p.lnfb, p.headw, p.headb];
  for (const l of p.layers) vars.push(...Object.values(l));
  return vars;
}

// copyOf returns a frozen copy of p (bench.py's ref.load_state_dict(model.state_dict())).
function copyOf(p) {
  const c = (v) => tf.variable(v.clone(), false);
  const q = {};
  for (const [k, v] of Object.entries(p)) {
    q[k] = k === 'layers' ? v.map((l) => Object.fromEntries(Object.entries(l).map(([n, w]) => [n, c(w)]))) : c(v);
  }
  return q;
}

function layernorm(x, w, b) {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(w).add(b);
}

function gelu(x) {
  const u = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(u.tanh().add(1));
}

function linear(x, w, b) { // x (N, in) · w (in, out) + b
  return tf.matMul(x, w).add(b);
}

// Causal masks, t new positions over n keys: 0 where key j ≤ i + n − t, −1e9 above.
const masks = new Map();
function causal(t, n) {
  const key = t + ',' + n;
  if (!masks.has(key)) {
    masks.set(key, tf.keep(tf.tidy(() => tf.linalg.bandPart(tf.ones([t, n]), -1, n - t).sub(1).mul(1e9))));
  }
  return masks.get(key);
}

// forward is bench.py's GPT.forward: idx (b, t) int32 → logits (b, t, V) and values
// (b, t). With caches (one object per layer) it appends this call's keys and values
// and attends over all of them; pos0 is the position of idx's first token. grad says
// whether a gradient will flow to the embedding (see the header).
function forward(p, idx, { caches = null, pos0 = 0, grad = false } = {}) {
  const [b, t] = idx.shape;
  const emb = grad
    ? tf.matMul(tf.oneHot(idx.reshape([b * t]), V), p.wte).reshape([b, t, C])
    : tf.gather(p.wte, idx);
  let x = emb.add(p.wpe.slice([pos0, 0], [t, C])); // (b, t, C)
  p.layers.forEach((l, i) => {
    const h = layernorm(x, l.ln1w, l.ln1b).reshape([b * t, C]);
    const qkv = linear(h, l.qkvw, l.qkvb).reshape([b, t, 3, NH, HS]).transpose([2, 0, 3, 1, 4]); // (3, b, NH, t, HS)
    let [q, k, v] = tf.unstack(qkv, 0);
    if (caches) {
      const c = caches[i];
      if (c.k) {
        k = tf.concat([c.k, k], 2);
        v = tf.concat([c.v, v], 2);
      }
      c.k = k;
      c.v = v;
    }
    const n = k.shape[2];
    let att = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(HS)); // (b, NH, t, n)
    if (t > 1) att = att.add(causal(t, n));
    att = tf.softmax(att, -1);
    const y = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([b * t, C]);
    x = x.add(linear(y, l.projw, l.projb).reshape([b, t, C]));
    const h2 = layernorm(x, l.ln2w, l.ln2b).reshape([b * t, C]);
    const m = linear(gelu(linear(h2, l.fcw, l.fcb)), l.fcprojw, l.fcprojb);
    x = x.add(m.reshape([b, t, C]));
  });
  const hf = layernorm(x, p.lnfw, p.lnfb).reshape([b * t, C]);
  const logits = tf.matMul(hf, p.wte, false, true).reshape([b, t, V]); // tied output layer
  const values = linear(hf, p.headw, p.headb).reshape([b, t]);
  return { logits, values };
}

// adamw returns bench.py's adamw + step's clip and update: step(loss) computes the
// gradients of loss() with respect to vars, clips them to global norm 1
// (torch.nn.utils.clip_grad_norm_) and applies torch.optim.AdamW's update, weight
// decay 0.01 on the matrices and embeddings. It returns the loss.
function adamw(vars, lr = 1e-3, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.01) {
  const st = vars.map((v) => ({
    m: tf.variable(tf.zerosLike(v), false),
    s: tf.variable(tf.zerosLike(v), false),
    decay: v.rank === 2 ? wd : 0,
  }));
  let t = 0;
  return (loss) => tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, vars);
    // Variables the loss does not reach (the value head in the training step) get no
    // gradient and no update, as in PyTorch (grad None).
    const gs = vars.map((v) => grads[v.name]);
    const norm = tf.addN(gs.filter((g) => g).map((g) => g.square().sum())).sqrt();
    const coef = tf.minimum(norm.add(1e-6).reciprocal(), 1);
    t++;
    const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
    vars.forEach((v, i) => {
      if (!gs[i]) return;
      const g = gs[i].mul(coef), s = st[i];
      s.m.assign(s.m.mul(b1).add(g.mul(1 - b1)));
      s.s.assign(s.s.mul(b2).add(g.square().mul(1 - b2)));
      const denom = s.s.sqrt().div(Math.sqrt(bc2)).add(eps);
      const w = s.decay ? v.mul(1 - lr * s.decay) : v;
      v.assign(w.sub(s.m.div(denom).mul(lr / bc1)));
    });
    return value.dataSync()[0];
  });
}

function trainStepsPerS(n) {
  const model = gpt();
  const opt = adamw(variables(model));
  const tokens = tf.randomUniform([B, T], 0, V, 'int32', nextSeed());
  const targets = tf.randomUniform([B * T], 0, V, 'int32', nextSeed());
  const one = () => opt(() => {
    const { logits } = forward(model, tokens, { grad: true });
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, V), logits.reshape([B * T, V]));
  });
  for (let i = 0; i < 3; i++) one();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) one();
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

// randn draws a standard normal (Box–Muller) from a seeded generator.
function gaussian(seed) {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0; // mulberry32
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (((z ^ (z >>> 14)) >>> 0) + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}
const randn = gaussian(7);

// Seconds spent in ppo_step's three parts, over the timed steps.
const parts = { sample: 0, passes: 0, epochs: 0 };
const now = () => Number(process.hrtime.bigint()) / 1e9;

function ppoStep(model, ref, opt, shape) {
  let t0 = now();
  // Sampling: 4 answers per prompt in one batch, with the key/value cache.
  const seqs = [], respLens = [];
  shape.prompts.forEach((prompt, pi) => {
    const lens = shape.lengths[pi];
    const k = lens.length;
    const out = tf.tidy(() => {
      const x = tf.tensor2d(Array(k).fill(prompt), [k, prompt.length], 'int32');
      const caches = Array.from({ length: L }, () => ({}));
      let { logits } = forward(model, x, { caches });
      const toks = [];
      let pos = prompt.length;
      for (let j = 0; j < Math.max(...lens); j++) {
        const probs = tf.softmax(logits.slice([0, logits.shape[1] - 1, 0], [k, 1, V]).reshape([k, V]), -1);
        const tok = tf.multinomial(probs, 1, nextSeed(), true); // (k, 1) int32
        toks.push(tok);
        ({ logits } = forward(model, tok, { caches, pos0: pos }));
        pos++;
      }
      return tf.concat(toks, 1);
    });
    const rows = out.arraySync();
    out.dispose();
    lens.forEach((n, i) => {
      seqs.push(prompt.concat(rows[i].slice(0, n)));
      respLens.push(n);
    });
  });
  // The padded batch: tokens, targets and the response positions.
  const S = seqs.length;
  const Tm = Math.max(...seqs.map((s) => s.length));
  const W = Tm - 1;
  const tok = new Int32Array(S * W), tgt = new Int32Array(S * W), msk = new Float32Array(S * W);
  seqs.forEach((s, i) => {
    const n = s.length;
    for (let j = 0; j < n - 1; j++) {
      tok[i * W + j] = s[j];
      tgt[i * W + j] = s[j + 1];
    }
    for (let j = n - 1 - respLens[i]; j < n - 1; j++) msk[i * W + j] = 1;
  });
  const tokens = tf.tensor2d(tok, [S, W], 'int32');
  const targets = tf.tidy(() => tf.oneHot(tf.tensor2d(tgt, [S, W], 'int32'), V)); // (S, W, V)
  const mask = tf.tensor2d(msk, [S, W]);

  const logprobs = (m, grad) => {
    const { logits, values } = forward(m, tokens, { grad });
    return { lp: tf.logSoftmax(logits, -1).mul(targets).sum(-1), v: values };
  };

  let t1 = now();
  parts.sample += t1 - t0;
  t0 = t1;
  const [refLp, oldLp, oldV] = tf.tidy(() => {
    const r = logprobs(ref, false), o = logprobs(model, false);
    return [r.lp, o.lp, o.v];
  });
  const refA = refLp.dataSync(), oldA = oldLp.dataSync(), vA = oldV.dataSync();
  // Per-token rewards: −β·(log π − log π_ref), plus the answer's score at its last
  // token; GAE over each answer's tokens.
  const adv = new Float32Array(S * W), ret = new Float32Array(S * W);
  let n = 0, sum = 0;
  for (let i = 0; i < S; i++) {
    const r = i * W;
    const rew = new Float32Array(W);
    let last = 0;
    for (let t = 0; t < W; t++) {
      rew[t] = -0.1 * (oldA[r + t] - refA[r + t]) * msk[r + t];
      if (msk[r + t] * t > msk[r + last] * last) last = t;
    }
    rew[last] += randn();
    let gae = 0;
    for (let t = W - 1; t >= 0; t--) {
      const nv = t + 1 < W ? vA[r + t + 1] * msk[r + t + 1] : 0;
      const delta = rew[t] + nv - vA[r + t];
      gae = (delta + 0.95 * gae) * msk[r + t];
      adv[r + t] = gae;
      ret[r + t] = gae + vA[r + t];
      n += msk[r + t];
      sum += gae * msk[r + t];
    }
  }
  const mean = sum / n;
  let ss = 0;
  for (let j = 0; j < S * W; j++) ss += (adv[j] - mean) ** 2 * msk[j];
  const std = Math.sqrt(ss / n);
  for (let j = 0; j < S * W; j++) adv[j] = (adv[j] - mean) / (std + 1e-8) * msk[j];
  const advT = tf.tensor2d(adv, [S, W]), retT = tf.tensor2d(ret, [S, W]);
  t1 = now();
  parts.passes += t1 - t0;
  t0 = t1;

  for (let e = 0; e < 4; e++) {
    opt(() => {
      const { lp, v } = logprobs(model, true);
      const ratio = lp.sub(oldLp).exp();
      const pg = tf.maximum(advT.neg().mul(ratio), advT.neg().mul(ratio.clipByValue(0.8, 1.2)));
      const vc = oldV.add(v.sub(oldV).clipByValue(-0.2, 0.2));
      const vf = tf.maximum(v.sub(retT).square(), vc.sub(retT).square()).mul(0.5);
      return pg.add(vf.mul(0.1)).mul(mask).sum().div(n);
    });
  }
  tf.dispose([tokens, targets, mask, refLp, oldLp, oldV, advT, retT]);
  parts.epochs += now() - t0;
}

function ppoStepsPerS(n) {
  const shape = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'torch', 'ppo_shape.json'), 'utf8'));
  const model = gpt();
  const ref = copyOf(model);
  const opt = adamw(variables(model));
  ppoStep(model, ref, opt, shape);
  for (const k in parts) parts[k] = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) ppoStep(model, ref, opt, shape);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function main() {
  const train = parseInt(process.argv[2] || '20', 10);
  const ppo = parseInt(process.argv[3] || '3', 10);
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const out = {
    tfjs: tf.version_core, backend: tf.getBackend(), threads: wasm.getThreadsCount(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    params: tf.tidy(() => variables(gpt()).reduce((s, v) => s + v.size, 0)),
  };
  if (train > 0) {
    out.train_steps_per_s = trainStepsPerS(train);
    out.train_tokens_per_s = out.train_steps_per_s * B * T;
  }
  if (ppo > 0) {
    out.ppo_steps_per_s = ppoStepsPerS(ppo);
    // Seconds per step: sampling; reference and old-policy passes with the rewards
    // and GAE; the 4 epochs.
    out.ppo_step_s = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / ppo]));
  }
  out.tensors = tf.memory().numTensors;
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
