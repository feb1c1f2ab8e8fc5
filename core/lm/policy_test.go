package lm

import (
	"math"
	"testing"

	"prefer/core/demo"
	"prefer/core/policy"
	"prefer/core/rng"
)

// TestPolicyBackward checks the policy adapter's deferred backward pass (log-prob
// and value gradients of several samples, in micro-batches of 2) against finite
// differences of Σ_t w_t·log π(a_t) + Σ_t g_t·V_t.
func TestPolicyBackward(t *testing.T) {
	l := tinyLM(t, 7)
	items := demo.Prompts(1, 3)
	p, err := NewPolicy(l, items, PolicyConfig{MaxTokens: 5, MicroBatch: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := rng.New(3)
	var ss []policy.Sample
	for q := range items {
		ss = p.Sample(ss, r, q, 1)
	}
	ss = append(ss, p.Given(0, 0))
	n := policy.Actions(ss)
	w, g := make([]float64, n), make([]float64, n)
	for i := range w {
		w[i] = r.Norm()
		g[i] = r.Norm()
	}
	lp, v := make([]float64, n), make([]float64, n)
	loss := func() float64 {
		p.cacheValid = false
		p.LogProbs(lp, ss)
		p.Values(v, ss)
		var s float64
		for i := range lp {
			s += float64(w[i]*lp[i]) + float64(g[i]*v[i])
		}
		return s
	}
	loss()
	p.Backward(ss, w)
	p.BackwardValue(ss, g)
	p.flush()
	m := p.LM.Model
	grads := append([]float32(nil), m.Grads...)
	// Check a strided subset of the parameters (all of them take a few seconds).
	var xs, gs []float32
	idx := []int{}
	for i := 0; i < len(m.Params); i += 7 {
		idx = append(idx, i)
	}
	xs = make([]float32, len(idx))
	gs = make([]float32, len(idx))
	for k, i := range idx {
		gs[k] = grads[i]
	}
	// checkGrad perturbs xs; mirror it into the parameters.
	for k := range idx {
		xs[k] = m.Params[idx[k]]
	}
	lossAt := func() float64 {
		for k, i := range idx {
			m.Params[i] = xs[k]
		}
		return loss()
	}
	checkGrad(t, "params", xs, gs, lossAt)
}

// TestPolicyPPO runs PPO of package policy on a tiny generative policy against the
// gold utility and pins the run: deterministic natively and in wasm.
func TestPolicyPPO(t *testing.T) {
	l := tinyLM(t, 9)
	items := demo.Prompts(2, 4)
	p, err := NewPolicy(l, items, PolicyConfig{MaxTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	env := DemoEnv(items, demo.Gold)
	res, err := policy.PPO(p, env, policy.PPOConfig{Steps: 3, Samples: 2, LR: 1e-3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 3 {
		t.Fatalf("steps = %d, want 3", res.Steps)
	}
	kl := res.Run.Series["kl_k1"]
	if len(kl) != 3 || math.IsNaN(kl[2]) {
		t.Fatalf("kl_k1 series = %v", kl)
	}
	// The first step samples from π_ref itself: its k1 estimate is exactly 0.
	if kl[0] != 0 {
		t.Errorf("k1 at step 1 = %v, want 0 (π = π_ref)", kl[0])
	}
	if got, want := policy.RunHash(&res.Run), ppoRunHash; got != want {
		t.Errorf("PPO run hash = %s, want %s (pinned; the wasm run of this test checks portability)", got, want)
	}
	if got, want := ParamsHash(p.LM.Model), ppoParamsHash; got != want {
		t.Errorf("parameters hash = %s, want %s", got, want)
	}
}

// Pinned by running TestPolicyPPO natively; the wasm run must agree.
const (
	ppoRunHash    = "d62a777ea4589af9"
	ppoParamsHash = "b8387695ab1a0ca8"
)
