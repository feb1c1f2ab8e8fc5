// One training step of the same GPT as core/lm's default model, in TensorFlow.js
// with the wasm backend, for BenchmarkTFJSTrainStep (core/lm/bench_test.go).
//
// Model (DefaultConfig over the demo vocabulary): V = 462 tokens, C = 48 channels,
// 2 blocks of pre-norm causal self-attention (4 heads) and a GELU MLP (4C), learned
// position embeddings, a final layer norm and an output layer tied to the token
// embedding; cross-entropy on every position; Adam with β₂ = 0.95. The batch is
// B = 16 sequences of T = 48 tokens, as in BenchmarkTrainStep.
//
// Usage: node bench.js [steps]   → prints one JSON object.
//
// The wasm backend runs single-threaded here (setThreadsCount(1)), like Go's wasm.
// Differences forced by the backend: the token embedding is a one-hot matmul (the
// backend lacks the gradient kernel of gather), which adds B·T·V·C multiply-adds
// each way.
'use strict';
const path = require('path');
const tf = require('@tensorflow/tfjs');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const V = 462, C = 48, L = 2, NH = 4, H = 4 * C, B = 16, T = 48, CTX = 80;
const HS = C / NH;

function init(shape, std) {
  return tf.variable(tf.randomNormal(shape, 0, std, 'float32', 1));
}

function params() {
  const p = {
    wte: init([V, C], 0.02),
    wpe: init([CTX, C], 0.02),
    lnfw: tf.variable(tf.ones([C])),
    lnfb: tf.variable(tf.zeros([C])),
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

function forwardLoss(p, tokens, targets, mask) {
  // The wasm backend has no UnsortedSegmentSum, the gradient of tf.gather, so the
  // token embedding is a one-hot matmul (as TF.js models on this backend do).
  const emb = tf.matMul(tf.oneHot(tokens.reshape([B * T]), V), p.wte).reshape([B, T, C]);
  let x = emb.add(p.wpe.slice([0, 0], [T, C])); // (B, T, C)
  for (const l of p.layers) {
    const h = layernorm(x, l.ln1w, l.ln1b).reshape([B * T, C]);
    const qkv = linear(h, l.qkvw, l.qkvb).reshape([B, T, 3, NH, HS]).transpose([2, 0, 3, 1, 4]); // (3, B, NH, T, HS)
    const [q, k, v] = tf.unstack(qkv, 0);
    let att = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(HS)); // (B, NH, T, T)
    att = att.add(mask);
    att = tf.softmax(att, -1);
    const y = tf.matMul(att, v).transpose([0, 2, 1, 3]).reshape([B * T, C]);
    x = x.add(linear(y, l.projw, l.projb).reshape([B, T, C]));
    const h2 = layernorm(x, l.ln2w, l.ln2b).reshape([B * T, C]);
    const m = linear(gelu(linear(h2, l.fcw, l.fcb)), l.fcprojw, l.fcprojb);
    x = x.add(m.reshape([B, T, C]));
  }
  const hf = layernorm(x, p.lnfw, p.lnfb).reshape([B * T, C]);
  const logits = tf.matMul(hf, p.wte, false, true); // (B·T, V), tied output layer
  const onehot = tf.oneHot(targets, V);
  return tf.losses.softmaxCrossEntropy(onehot, logits);
}

async function main() {
  const steps = parseInt(process.argv[2] || '20', 10);
  wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), path.sep));
  wasm.setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  const p = params();
  const vars = [p.wte, p.wpe, p.lnfw, p.lnfb];
  for (const l of p.layers) vars.push(...Object.values(l));
  const nparams = vars.reduce((s, v) => s + v.size, 0);
  const opt = tf.train.adam(1e-3, 0.9, 0.95, 1e-8);
  const tokens = tf.randomUniform([B, T], 0, V, 'int32', 5);
  const targets = tf.randomUniform([B * T], 0, V, 'int32', 6);
  // Causal mask: 0 on and below the diagonal, −1e9 above.
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9);
  const step = () => tf.tidy(() => {
    const loss = opt.minimize(() => forwardLoss(p, tokens, targets, mask), true, vars);
    return loss.dataSync()[0];
  });
  step(); step(); // warm up (kernel compilation)
  const t0 = process.hrtime.bigint();
  let loss = 0;
  for (let i = 0; i < steps; i++) loss = step();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = {
    backend: tf.getBackend(), threads: wasm.getThreadsCount(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    params: nparams, batch: B, tokens: T, steps, seconds: sec,
    steps_per_s: steps / sec, tokens_per_s: steps * B * T / sec, loss,
  };
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e); process.exit(1); });
