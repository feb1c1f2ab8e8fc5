package policy

import (
	"math"
	"testing"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

func TestCandidateReference(t *testing.T) {
	items := synthItems(t, 3, 2, 4, true)
	items[1].Responses[2].RefProb = 0 // one unknown → uniform for that item
	c := newCand(t, items)
	ref := c.RefProbs(make([]float64, 4), 0)
	var total float64
	for _, r := range items[0].Responses {
		total += r.RefProb
	}
	for j, r := range items[0].Responses {
		if math.Abs(ref[j]-r.RefProb/total) > 1e-12 {
			t.Errorf("π_ref[%d] = %v, want normalized RefProb %v", j, ref[j], r.RefProb/total)
		}
	}
	for j, v := range c.RefProbs(make([]float64, 4), 1) {
		if math.Abs(v-0.25) > 1e-12 {
			t.Errorf("item with an unknown RefProb: π_ref[%d] = %v, want uniform", j, v)
		}
	}
	// The policy starts at π_ref.
	for p := range items {
		if d := TV(c.Probs(make([]float64, 4), p), c.RefProbs(make([]float64, 4), p)); d > 1e-12 {
			t.Errorf("item %d starts %v away from π_ref", p, d)
		}
	}
	if _, err := NewCandidate(nil, CandidateConfig{}); err == nil {
		t.Error("no items: no error")
	}
	if _, err := NewCandidate([]feedback.Item{{ID: "x"}}, CandidateConfig{}); err == nil {
		t.Error("item without responses: no error")
	}
}

// TestCandidateBackward checks ∂/∂θ Σ_i w_i·log π(y_i|x_i) and the value gradient
// against central finite differences.
func TestCandidateBackward(t *testing.T) {
	items := synthItems(t, 4, 3, 5, true)
	c := newCand(t, items)
	r := rng.New(1)
	for j := range c.Logits {
		c.Logits[j] += r.Norm()
	}
	c.Invalidate()
	var ss []Sample
	for p := range items {
		ss = c.Sample(ss, r, p, 3)
	}
	w := make([]float64, len(ss))
	for i := range w {
		w[i] = r.Norm()
	}
	loss := func() float64 {
		lp := make([]float64, len(ss))
		c.LogProbs(lp, ss)
		var s float64
		for i := range lp {
			s += float64(w[i] * lp[i])
		}
		return s
	}
	c.Backward(ss, w)
	const h = 1e-6
	for j := range c.Logits {
		old := c.Logits[j]
		c.Logits[j] = old + h
		c.Invalidate()
		lp := loss()
		c.Logits[j] = old - h
		c.Invalidate()
		lm := loss()
		c.Logits[j] = old
		c.Invalidate()
		if fd := (lp - lm) / (2 * h); math.Abs(fd-c.grad[j]) > 1e-6 {
			t.Errorf("∂L/∂θ[%d] = %v, finite difference %v", j, c.grad[j], fd)
		}
	}
	g := make([]float64, len(ss))
	for i := range g {
		g[i] = float64(i + 1)
	}
	c.BackwardValue(ss, g)
	for p := range items {
		var want float64
		for i := range ss {
			if ss[i].Prompt == p {
				want += g[i]
			}
		}
		if c.vgrad[p] != want {
			t.Errorf("∂/∂V[%d] = %v, want %v", p, c.vgrad[p], want)
		}
	}
	c.Step(0.01)
	for j, v := range c.grad {
		if v != 0 {
			t.Fatalf("gradient %d not cleared by Step: %v", j, v)
		}
	}
}

func TestOptimum(t *testing.T) {
	ref := []float64{0.5, 0.3, 0.2}
	r := []float64{1, 0, 2}
	for _, beta := range []float64{0.1, 1, 5} {
		for _, alpha := range []float64{0, 0.3} {
			opt := Optimum(make([]float64, 3), ref, r, beta, alpha)
			obj := func(p []float64) float64 {
				var s float64
				for k := range p {
					s += float64(p[k] * r[k])
				}
				return s - float64(beta*ExactKL(p, ref)) + float64(alpha*Entropy(p))
			}
			best := obj(opt)
			if alpha == 0 {
				// The optimal value is β·log Z, Z = Σ π_ref·exp(r/β) (rlhf.md).
				var z float64
				for k := range ref {
					z += float64(ref[k] * num.Exp(r[k]/beta))
				}
				if math.Abs(best-float64(beta*math.Log(z))) > 1e-9 {
					t.Errorf("β %v: optimal value %v, want β·log Z = %v", beta, best, float64(beta*math.Log(z)))
				}
			}
			// Any perturbation inside the simplex is worse.
			for k := 0; k < 3; k++ {
				q := append([]float64(nil), opt...)
				move := float64(0.01 * q[(k+1)%3])
				q[k] += move
				q[(k+1)%3] -= move
				if obj(q) > best {
					t.Errorf("β %v α %v: perturbed policy beats the optimum", beta, alpha)
				}
			}
		}
	}
}

func TestSolveExact(t *testing.T) {
	items := synthItems(t, 5, 20, 6, true)
	env := Env{Proxy: ItemGold, Gold: ItemGold}
	c := newCand(t, items)
	res, err := SolveExact(c, env, ExactConfig{Beta: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if d := meanTV(t, c, NewTable(items, ItemGold), 0.5); d > 1e-12 {
		t.Errorf("exact solver is %v from π*", d)
	}
	// The reported KL is the KL of the dumped policy.
	rows := Dump(c, NewTable(items, ItemGold))
	if got, want := DumpKL(rows), res.Final.KL; math.Abs(got-want) > 1e-12 {
		t.Errorf("dump KL %v, reported %v", got, want)
	}
	if len(rows) != 120 || rows[0].Item != "q0" {
		t.Errorf("dump has %d rows starting %+v", len(rows), rows[0])
	}
	// A target KL picks β so that KL(π*‖π_ref) hits it.
	c = newCand(t, items)
	res, err = SolveExact(c, env, ExactConfig{TargetKL: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Final.KL-0.3) > 1e-6 {
		t.Errorf("KL %v at target 0.3 (β %v)", res.Final.KL, res.Final.Beta)
	}
	if _, err := SolveExact(c, env, ExactConfig{TargetKL: 100}); err == nil {
		t.Error("unreachable target KL: no error")
	}
}

func TestModelRoundTrip(t *testing.T) {
	items := synthItems(t, 6, 4, 5, true)
	c := newCand(t, items)
	SetOptimum(c, NewTable(items, ItemGold), 0.3, 0)
	m := c.Model("policy", "run")
	// Items in another order still match by id.
	rev := []feedback.Item{items[3], items[2], items[1], items[0]}
	d, err := CandidateFromModel(&m, rev)
	if err != nil {
		t.Fatal(err)
	}
	for p := range rev {
		got := d.Probs(make([]float64, 5), p)
		want := c.Probs(make([]float64, 5), 3-p)
		if TV(got, want) > 1e-6 { // float32 storage
			t.Errorf("item %d: loaded %v, saved %v", p, got, want)
		}
	}
	other := synthItems(t, 7, 1, 5, true)
	other[0].ID = "q0"
	other[0].Responses[1] = feedback.Response{ID: feedback.ResponseID("new"), Text: "new"}
	if _, err := CandidateFromModel(&m, other); err == nil {
		t.Error("unknown responses: no error")
	}
	m.Family = "linear"
	if _, err := CandidateFromModel(&m, items); err == nil {
		t.Error("wrong family: no error")
	}
}

func TestDistinct(t *testing.T) {
	// "a b a b": unigrams a, b of 4 → 0.5; bigrams ab, ba, ab → 2/3.
	d1, d2 := Distinct([]string{"a b", "A b"})
	if d1 != 0.5 || d2 != 0.5 {
		t.Errorf("distinct of two equal texts = %v, %v; want 0.5, 0.5", d1, d2)
	}
	d1, d2 = Distinct([]string{"a b a b"})
	if d1 != 0.5 || math.Abs(d2-2.0/3) > 1e-15 {
		t.Errorf("distinct = %v, %v; want 0.5, 2/3", d1, d2)
	}
}
