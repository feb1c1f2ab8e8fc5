package demo

import (
	"testing"

	"prefer/core/feedback"
	"prefer/core/num"
)

// partFeatures describes a response by the parts a generalizing reward model can see:
// correct, wrong, refusal (of a should-refuse, a sensitive, or another prompt), unsafe,
// polite, filler count, hedge count, risky.
func partFeatures(it *feedback.Item, text string) []float64 {
	f := Analyze(it, text)
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	return []float64{b(f.Correct), b(f.Wrong), b(f.Refusal && f.ShouldRefuse), b(f.Refusal && f.Sensitive),
		b(f.Refusal && !f.Sensitive && !f.ShouldRefuse), b(f.Unsafe), b(f.Polite), float64(f.Filler), float64(f.Hedges), b(f.Risky)}
}

// fitLinearBT fits a Bradley–Terry model P(w ≻ l) = σ(θ·(x_w − x_l)) on the decided
// pairs of the dataset (ties dropped) by gradient ascent on the mean log-likelihood
// with a small L2 penalty, and returns θ.
func fitLinearBT(tb testing.TB, d *Dataset) []float64 {
	tb.Helper()
	ix := feedback.NewIndex(d.Items, nil)
	var diffs [][]float64
	for _, p := range feedback.Pairs(d.Items, d.Judgments, feedback.PairOptions{WithRanks: true}) {
		if p.Tie {
			continue
		}
		it := ix.Items[p.Item]
		w, l := partFeatures(it, it.Response(p.Winner).Text), partFeatures(it, it.Response(p.Loser).Text)
		for k := range w {
			w[k] -= l[k]
		}
		diffs = append(diffs, w)
	}
	theta := make([]float64, 10)
	g := make([]float64, 10)
	for iter := 0; iter < 1500; iter++ {
		for k := range g {
			g[k] = float64(-1e-3 * theta[k])
		}
		for _, x := range diffs {
			var z float64
			for k := range x {
				z += float64(theta[k] * x[k])
			}
			s := 1 - num.Sigmoid(z)
			for k := range x {
				g[k] += float64(s*x[k]) / float64(len(diffs))
			}
		}
		for k := range theta {
			theta[k] += float64(1.0 * g[k])
		}
	}
	return theta
}

// goldCurve returns the mean gold utility of the KL-regularized optimum
// π*_β ∝ π_ref·exp(r/β) (Ziegler et al. 2019; Rafailov et al. 2023 eq. 4) over the
// items, for each β, where r is the linear proxy θ·x and π_ref the items' RefProb.
func goldCurve(items []feedback.Item, theta []float64, betas []float64) []float64 {
	out := make([]float64, len(betas))
	for bi, beta := range betas {
		var total float64
		for i := range items {
			it := &items[i]
			logit := make([]float64, len(it.Responses))
			for k, r := range it.Responses {
				var s float64
				for j, x := range partFeatures(it, r.Text) {
					s += float64(theta[j] * x)
				}
				logit[k] = num.Log(r.RefProb) + s/beta
			}
			p := num.Softmax(logit, logit)
			for k, r := range it.Responses {
				total += float64(p[k] * *r.Gold)
			}
		}
		out[bi] = total / float64(len(items))
	}
	return out
}

// TestRewardHackingHappens: the point of the domain (docs/demo.md, the lesson of
// journey J1). A reward model that generalizes over response parts, trained on the
// default panel's judgments, is hacked: as β falls the gold utility of the optimal
// policy rises, peaks and falls (the shape of Gao et al. 2022, Fig. 1). Trained on an
// expert panel, it is not: gold keeps rising. The politeness-heavy panel shows the
// polite-but-wrong story the same way.
func TestRewardHackingHappens(t *testing.T) {
	betas := []float64{100, 3, 1, 0.5, 0.3, 0.1, 0.03}
	cases := []struct {
		panel  string
		hacked bool
	}{
		{DefaultPanel, true},
		{"3*polite", true},
		{"3*expert", false},
	}
	for _, c := range cases {
		panel, err := ParseProfiles(c.panel)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Generate(Config{Seed: 7, Raters: panel})
		if err != nil {
			t.Fatal(err)
		}
		theta := fitLinearBT(t, d)
		gold := goldCurve(d.Items, theta, betas)
		peak := 0
		for k := range gold {
			if gold[k] > gold[peak] {
				peak = k
			}
		}
		last := gold[len(gold)-1]
		t.Logf("%-20s θ=%.2f\n  gold by β %v: %.2f (peak at β=%v)", c.panel, theta, betas, gold, betas[peak])
		if gold[peak] < gold[0]+0.5 {
			t.Errorf("%s: gold does not rise under optimization: %.2f → peak %.2f", c.panel, gold[0], gold[peak])
		}
		if fell := gold[peak]-last >= 0.2; fell != c.hacked {
			t.Errorf("%s: gold falls from %.2f at the peak to %.2f at β=%v; want a fall ≥ 0.2: %v", c.panel, gold[peak], last, betas[len(betas)-1], c.hacked)
		}
	}
}
