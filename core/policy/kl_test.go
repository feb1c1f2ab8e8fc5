package policy

import (
	"math"
	"testing"

	"prefer/core/rng"
)

func TestAdaptiveController(t *testing.T) {
	// rlhf.md "Adaptive KL controller" (Ziegler et al. 2019 §2.2): target 6,
	// n_steps 256, horizon 10,000, KL 12 moves β from 0.2 to 0.201024.
	c := NewController(KLConfig{Beta: 0.2, TargetKL: 6, Horizon: 10000})
	c.Update(12, 256)
	if got, want := c.Beta, 0.201024; math.Abs(got-want) > 1e-12 {
		t.Errorf("β after one update = %.9f, want %v", got, want)
	}
	tests := []struct {
		name string
		kl   float64
		want float64
	}{
		// e = clip(KL/target − 1, −0.2, 0.2); β·(1 + e·256/1e4), computed by hand.
		{"below target, clipped", 0, 0.2 * (1 - 0.2*256/1e4)},
		{"slightly above", 6.6, 0.2 * (1 + 0.1*256/1e4)},
		{"on target", 6, 0.2},
		{"unknown KL leaves β", math.NaN(), 0.2},
	}
	for _, tc := range tests {
		c := NewController(KLConfig{TargetKL: 6}) // β₀ defaults to 0.2 with a target
		c.Update(tc.kl, 256)
		if math.Abs(c.Beta-tc.want) > 1e-12 {
			t.Errorf("%s: β = %v, want %v", tc.name, c.Beta, tc.want)
		}
	}
	fixed := NewController(KLConfig{Beta: 0.3})
	fixed.Update(100, 1000)
	if fixed.Beta != 0.3 {
		t.Errorf("fixed β moved to %v", fixed.Beta)
	}
}

func TestKLEstimators(t *testing.T) {
	p := []float64{0.1, 0.2, 0.3, 0.4}
	q := []float64{0.4, 0.3, 0.2, 0.1}
	// KL(p‖q) by hand: Σ p·log(p/q).
	want := float64(0.1*math.Log(0.25)) + float64(0.2*math.Log(2.0/3)) + float64(0.3*math.Log(1.5)) + float64(0.4*math.Log(4))
	k1, k2, k3 := ExpectedEstimators(p, q)
	if math.Abs(ExactKL(p, q)-want) > 1e-12 || math.Abs(k1-want) > 1e-12 || math.Abs(k3-want) > 1e-12 {
		t.Errorf("KL %v, E[k1] %v, E[k3] %v; want all %v (k1 and k3 are unbiased, Schulman 2020)", ExactKL(p, q), k1, k3, want)
	}
	// k2 = ½·E[(log p/q)²], by hand.
	var w2 float64
	for i := range p {
		l := math.Log(p[i] / q[i])
		w2 += float64(float64(float64(p[i]*l)*l) / 2)
	}
	if math.Abs(k2-w2) > 1e-12 {
		t.Errorf("E[k2] = %v, want %v", k2, w2)
	}
	// Monte Carlo: the sample means of k1 and k3 approach the KL; k3 is never negative.
	r := rng.New(7)
	var s1, s3 float64
	const n = 200000
	for i := 0; i < n; i++ {
		k := r.Categorical(p)
		lp, lq := math.Log(p[k]), math.Log(q[k])
		s1 += KLTerm(K1, lp, lq)
		v3 := KLTerm(K3, lp, lq)
		if v3 < 0 {
			t.Fatalf("k3 = %v < 0", v3)
		}
		s3 += v3
	}
	if math.Abs(s1/n-want) > 0.01 || math.Abs(s3/n-want) > 0.01 {
		t.Errorf("Monte Carlo k1 %v, k3 %v; want ≈ %v", s1/n, s3/n, want)
	}
}

func TestEntropyTV(t *testing.T) {
	if got, want := Entropy([]float64{0.25, 0.25, 0.25, 0.25}), math.Log(4); math.Abs(got-want) > 1e-12 {
		t.Errorf("entropy of uniform(4) = %v, want log 4", got)
	}
	if got := TV([]float64{0.5, 0.5, 0}, []float64{0, 0.5, 0.5}); got != 0.5 {
		t.Errorf("TV = %v, want 0.5", got)
	}
	if got := ExactKL([]float64{0.5, 0.5}, []float64{1, 0}); !math.IsInf(got, 1) {
		t.Errorf("KL with unsupported mass = %v, want +Inf", got)
	}
}

func TestBestOfN(t *testing.T) {
	// rlhf.md "Best-of-N" (Beirami et al. 2024): base [0.5, 0.3, 0.2] with
	// increasing reward, N = 4: exact KL 0.5598, formula log 4 − 3/4 = 0.6363.
	ref := []float64{0.5, 0.3, 0.2}
	r := []float64{0, 1, 2}
	got := BestOfNProbs(make([]float64, 3), ref, r, 4)
	// P = [0.5⁴, 0.8⁴ − 0.5⁴, 1 − 0.8⁴] by the order-statistic formula.
	want := []float64{0.0625, 0.4096 - 0.0625, 1 - 0.4096}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("P_BoN[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if kl := ExactKL(got, ref); math.Abs(kl-0.5598) > 5e-5 {
		t.Errorf("exact BoN KL = %.5f, want 0.5598", kl)
	}
	if f := BoNKL(4); math.Abs(f-0.6363) > 5e-5 {
		t.Errorf("BoN KL formula = %.5f, want 0.6363", f)
	}
	// Ties share their level in proportion to π_ref: with equal rewards BoN is π_ref.
	same := BestOfNProbs(make([]float64, 3), ref, []float64{1, 1, 1}, 16)
	for i := range ref {
		if math.Abs(same[i]-ref[i]) > 1e-12 {
			t.Errorf("all-tied BoN[%d] = %v, want π_ref %v", i, same[i], ref[i])
		}
	}
	// N = 1 is π_ref.
	one := BestOfNProbs(make([]float64, 3), ref, r, 1)
	if TV(one, ref) > 1e-12 {
		t.Errorf("BoN with N = 1 = %v, want π_ref", one)
	}
}

func TestBoNKLFormulaContinuous(t *testing.T) {
	// With many distinct outcomes of equal mass (a fine discretization of a
	// continuous reward) the exact KL approaches log N − (N−1)/N (rlhf.md, checked
	// numerically for N = 2, 4, 16, 64).
	const k = 100000
	ref := make([]float64, k)
	r := make([]float64, k)
	for i := range ref {
		ref[i] = 1.0 / k
		r[i] = float64(i)
	}
	for _, n := range []int{2, 4, 16, 64} {
		p := BestOfNProbs(make([]float64, k), ref, r, n)
		if got, want := ExactKL(p, ref), BoNKL(n); math.Abs(got-want) > 2e-3 {
			t.Errorf("N = %d: exact KL %v, formula %v", n, got, want)
		}
	}
}

func TestDPOLoss(t *testing.T) {
	// rlhf.md "DPO": inner difference 2, β = 0.1 → softplus(−0.2) = 0.598139;
	// IPO: (Δ − 1/(2β))² = (2 − 5)² = 9.
	tests := []struct {
		kind string
		want float64
	}{{LossSigmoid, 0.598139}, {LossIPO, 9}}
	for _, tc := range tests {
		got, _ := DPOLoss(tc.kind, 2, 0.1)
		if math.Abs(got-tc.want) > 5e-7 {
			t.Errorf("%s loss = %.7f, want %v", tc.kind, got, tc.want)
		}
		// The derivative against central finite differences.
		const h = 1e-5
		lp, _ := DPOLoss(tc.kind, 2+h, 0.1)
		lm, _ := DPOLoss(tc.kind, 2-h, 0.1)
		_, d := DPOLoss(tc.kind, 2, 0.1)
		if fd := (lp - lm) / (2 * h); math.Abs(fd-d) > 1e-7 {
			t.Errorf("%s ∂L/∂Δ = %v, finite difference %v", tc.kind, d, fd)
		}
	}
}

func TestGAE(t *testing.T) {
	// Two episodes: one of three actions, one of one action (a candidate sample).
	rew := []float64{0.1, -0.2, 1.0, 0.5}
	val := []float64{0.3, 0.4, 0.2, 0.1}
	off := []int{0, 3, 4}
	adv, ret := make([]float64, 4), make([]float64, 4)
	const g, l = 0.9, 0.8
	GAE(adv, ret, rew, val, off, g, l)
	// By hand: δ2 = 1 − 0.2 = 0.8; δ1 = −0.2 + 0.9·0.2 − 0.4 = −0.42;
	// δ0 = 0.1 + 0.9·0.4 − 0.3 = 0.16. A2 = 0.8, A1 = −0.42 + 0.72·0.8 = 0.156,
	// A0 = 0.16 + 0.72·0.156 = 0.27232. One-step episode: A = r − V = 0.4.
	want := []float64{0.27232, 0.156, 0.8, 0.4}
	for i := range want {
		if math.Abs(adv[i]-want[i]) > 1e-12 || math.Abs(ret[i]-(want[i]+val[i])) > 1e-12 {
			t.Errorf("A[%d] = %v (R %v), want %v (R %v)", i, adv[i], ret[i], want[i], want[i]+val[i])
		}
	}
}

func TestWhitenLeaveOneOut(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	Whiten(x)
	// mean 2.5, unbiased var 5/3.
	sd := math.Sqrt(5.0/3 + 1e-8)
	if math.Abs(x[0]-(-1.5/sd)) > 1e-12 || math.Abs(x[3]-1.5/sd) > 1e-12 {
		t.Errorf("whitened = %v", x)
	}
	adv := make([]float64, 3)
	LeaveOneOut(adv, []float64{1, 2, 6})
	// A_i = R_i − mean of the others: 1 − 4, 2 − 3.5, 6 − 1.5.
	want := []float64{-3, -1.5, 4.5}
	for i := range want {
		if math.Abs(adv[i]-want[i]) > 1e-12 {
			t.Errorf("RLOO A[%d] = %v, want %v", i, adv[i], want[i])
		}
	}
}

func TestPenalizedRewards(t *testing.T) {
	logp := []float64{-1, -2, -0.5}
	ref := []float64{-1.5, -1, -0.5}
	off := []int{0, 2, 3}
	dst := make([]float64, 3)
	PenalizedRewards(dst, logp, ref, off, []float64{3, -1}, 0.5, 0.1, K1)
	// r_t = −β(logp − ref) − α·logp, score on the last action of each sample.
	want := []float64{-0.5*0.5 + 0.1, -0.5*(-1) + 0.2 + 3, 0 + 0.05 - 1}
	for i := range want {
		if math.Abs(dst[i]-want[i]) > 1e-12 {
			t.Errorf("r[%d] = %v, want %v", i, dst[i], want[i])
		}
	}
}

// TestBestOfOneKL: best-of-1 is the reference policy, so its exact KL is 0 — not the
// −3.5e−17 (printed −0.0) that rounding once gave — and the KL of every run
// is never negative.
func TestBestOfOneKL(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		items := synthItems(t, seed, 12, 6, true)
		res, err := SolveBestOfN(newCand(t, items), Env{Proxy: ItemGold}, BoNConfig{N: 1, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if kl := res.Run.Summary["kl"]; kl != 0 || math.Signbit(kl) {
			t.Errorf("seed %d: best-of-1 KL = %v, want 0", seed, kl)
		}
		for _, kl := range res.Run.Series["kl"] {
			if kl < 0 || math.Signbit(kl) {
				t.Errorf("seed %d: a KL of %v in the series", seed, kl)
			}
		}
	}
}
