package lm

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"prefer/core/demo"
	"prefer/core/policy"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

// benchBatch returns a batch of B random sequences of T tokens with every target
// scored, for the default model over the demo vocabulary.
func benchBatch(m *Model, B, T int) (tokens, targets []int32) {
	r := rng.New(5)
	tokens = make([]int32, B*T)
	targets = make([]int32, B*T)
	for i := range tokens {
		tokens[i] = int32(r.IntN(m.Config.Vocab))
		targets[i] = int32(r.IntN(m.Config.Vocab))
	}
	return tokens, targets
}

// warmUp runs f for at least a second and three times before a benchmark's timed
// loop, so that wasm engines time their optimized code: V8 first runs a baseline
// compilation (Liftoff) and replaces hot functions with optimized code compiled in
// the background, which on a busy machine takes seconds. Natively it only warms the
// caches.
func warmUp(f func()) {
	start := time.Now()
	for i := 0; i < 3 || time.Since(start) < time.Second; i++ {
		f()
	}
}

// Shape of the training-step benchmarks: 16 sequences of 48 tokens (about one
// pretraining batch of the demo grammar), the default model.
const benchB, benchT = 16, 48

// BenchmarkForwardBackward times one forward and one backward pass of the default
// model (82k parameters) on 16 sequences of 48 tokens, single-threaded, and reports
// tokens per second. The bench table shows it natively and in wasm side by side.
func BenchmarkForwardBackward(b *testing.B) {
	m, err := New(DefaultConfig(DemoVocab().Size()), 1)
	if err != nil {
		b.Fatal(err)
	}
	tokens, targets := benchBatch(m, benchB, benchT)
	dlogp := crossEntropyGrad(nil, targets)
	m.ZeroGrad()
	warmUp(func() {
		m.Forward(tokens, targets, benchB, benchT)
		m.Backward(dlogp, nil, nil)
	})
	for b.Loop() {
		m.Forward(tokens, targets, benchB, benchT)
		m.Backward(dlogp, nil, nil)
	}
	b.ReportMetric(float64(benchB*benchT*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkTrainStep times one full training step as pretraining runs it: forward
// and backward passes (split over the Workers replicas, so natively on two cores)
// and an AdamW update; steps per second and tokens per second. BenchmarkTFJSTrainStep
// is the same step in TensorFlow.js.
func BenchmarkTrainStep(b *testing.B) {
	m, err := New(DefaultConfig(DemoVocab().Size()), 1)
	if err != nil {
		b.Fatal(err)
	}
	tokens, targets := benchBatch(m, benchB, benchT)
	bt := batch{B: benchB, T: benchT, tokens: tokens, targets: targets}
	dlogp := crossEntropyGrad(nil, targets)
	tr := newTrainer(m)
	opt := NewAdamW(m, AdamWConfig{})
	step := func() {
		tr.forwardBackward(&bt, dlogp)
		opt.Step(m, 1e-3)
	}
	warmUp(step)
	for b.Loop() {
		step()
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/s, "steps/s")
	b.ReportMetric(float64(benchB*benchT*b.N)/s, "tokens/s")
}

// runTFJS runs testdata/tfjs/bench.js (TensorFlow.js 4.22 on its wasm backend, SIMD,
// one thread, under Node) with its two step counts and returns its JSON report. It
// needs node and `npm ci` in testdata/tfjs; without them the benchmark is skipped.
func runTFJS(b *testing.B, train, ppo string) map[string]any {
	if runtime.GOOS == "js" {
		b.Skip("runs node as a subprocess: native only")
	}
	dir := filepath.Join("testdata", "tfjs")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@tensorflow", "tfjs-backend-wasm")); err != nil {
		b.Skip("TF.js is not installed: run `npm ci` in core/lm/testdata/tfjs")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed")
	}
	cmd := exec.Command(node, "bench.js", train, ppo)
	cmd.Dir = dir
	return benchJSON(b, cmd)
}

// BenchmarkTFJSTrainStep is BenchmarkTrainStep in TensorFlow.js (testdata/tfjs/bench.js,
// the same model, step and AdamW as testdata/torch/bench.py): steps and tokens per
// second.
func BenchmarkTFJSTrainStep(b *testing.B) {
	var r map[string]any
	for b.Loop() {
		r = runTFJS(b, "10", "0")
	}
	b.ReportMetric(r["train_steps_per_s"].(float64), "steps/s")
	b.ReportMetric(r["train_tokens_per_s"].(float64), "tokens/s")
}

// BenchmarkTFJSPPOStep is BenchmarkPPOStep in TensorFlow.js, the work of
// BenchmarkTorchPPOStep (the prompts and answer lengths of testdata/torch/ppo_shape.json,
// sampling, reference and value passes, 4 epochs): steps per second.
func BenchmarkTFJSPPOStep(b *testing.B) {
	var r map[string]any
	for b.Loop() {
		r = runTFJS(b, "0", "2")
	}
	b.ReportMetric(r["ppo_steps_per_s"].(float64), "steps/s")
}

// benchRef returns the shipped reference model when the repository is at hand (as in
// `make bench`), else a random one.
func benchRef(tb testing.TB) *LM {
	if data, err := os.ReadFile(filepath.Join("..", "..", "static", "web", "ref-lm.snap")); err == nil {
		if s, err := snapshot.Unmarshal(data); err == nil {
			if m := s.Model("ref-lm"); m != nil {
				if l, err := FromSnapshot(m); err == nil {
					return l
				}
			}
		}
	}
	v := DemoVocab()
	m, err := New(DefaultConfig(v.Size()), 1)
	if err != nil {
		tb.Fatal(err)
	}
	return &LM{Model: m, Vocab: v}
}

// BenchmarkPPOStep times one PPO step of the lesson on the shipped reference model:
// 16 prompts × 4 sampled responses, the KL-penalized reward against the gold
// utility, GAE, 4 epochs of the clipped objective with the value head; steps per
// second. Every iteration is the same first step (the policy and its optimizer are
// reset to the reference, the seed is fixed), so native and wasm time the same work
// however many iterations each runs.
func BenchmarkPPOStep(b *testing.B) {
	ref := benchRef(b)
	items := demo.Prompts(1, 16)
	env := DemoEnv(items, demo.Gold)
	p, err := NewPolicy(ref, items, PolicyConfig{})
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		copy(p.LM.Model.Params, ref.Model.Params)
		p.opt = NewAdamW(p.LM.Model, p.cfg.Optimizer)
		p.cacheValid, p.refValid, p.trValid = false, false, false
		if _, err := policy.PPO(p, env, policy.PPOConfig{Steps: 1, Samples: 4, LR: 5e-4, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	warmUp(step)
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
