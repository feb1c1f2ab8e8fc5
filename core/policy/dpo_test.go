package policy

import (
	"math"
	"testing"

	"prefer/core/feedback"
	"prefer/core/num"
)

// btFit returns the Bradley–Terry maximum-likelihood scores of the candidates
// (a Table, centered per item) by gradient ascent on
//
//	ℓ(s) = Σ_pairs log σ(s_w − s_l)
func btFit(tb testing.TB, items []feedback.Item, prefs []Pref) Table {
	tb.Helper()
	t := NewTable(items, func(*feedback.Item, string) float64 { return 0 })
	g := make([]float64, len(t.V))
	count := make([]float64, len(items)) // pairs per item: the step is 1/count (stable)
	for _, p := range prefs {
		count[p.Prompt]++
	}
	for it := 0; it < 20000; it++ {
		clear(g)
		for _, p := range prefs {
			w, l := t.Off[p.Prompt]+p.Winner, t.Off[p.Prompt]+p.Loser
			d := num.Sigmoid(-(t.V[w] - t.V[l]))
			g[w] += d
			g[l] -= d
		}
		for p := range items {
			for j := t.Off[p]; j < t.Off[p+1]; j++ {
				t.V[j] += g[j] / count[p]
			}
		}
	}
	center(t)
	return t
}

func center(t Table) {
	for p := 0; p+1 < len(t.Off); p++ {
		row := t.Row(p)
		var m float64
		for _, v := range row {
			m += v
		}
		m /= float64(len(row))
		for j := range row {
			row[j] -= m
		}
	}
}

// TestDPOOptimum: on the candidate policy, the DPO loss depends on the logits only
// through β·log(π/π_ref), so its minimizer makes the implicit reward equal to the
// Bradley–Terry maximum-likelihood scores of the pairs (Rafailov et al. 2023 §4–5):
// full-batch DPO must recover them.
func TestDPOOptimum(t *testing.T) {
	items := synthItems(t, 21, 6, 4, true)
	for p := range items {
		for k := range items[p].Responses {
			*items[p].Responses[k].Gold = float64(*items[p].Responses[k].Gold * 0.5) // softer preferences: the MLE exists
		}
	}
	prefs := syntheticPrefs(t, items, 2, 600)
	want := btFit(t, items, prefs)
	for _, beta := range []float64{0.1, 0.5} {
		c := newCand(t, items)
		res, err := DPO(c, prefs, Env{Gold: ItemGold}, DPOConfig{Beta: beta, Steps: 800, Tol: -1})
		if err != nil {
			t.Fatal(err)
		}
		got := ImplicitRewards(c, beta)
		center(got)
		var worst float64
		for j := range got.V {
			worst = math.Max(worst, math.Abs(got.V[j]-want.V[j]))
		}
		if worst > 0.02 {
			t.Errorf("β %v: implicit rewards differ from the Bradley–Terry fit by up to %v\ngot  %v\nwant %v", beta, worst, got.V, want.V)
		}
		if res.Final.Accuracy < 0.5 || math.IsNaN(res.Final.Gold) || !math.IsNaN(res.Final.Reward) {
			t.Errorf("β %v: final metrics %+v", beta, res.Final)
		}
	}
}

// TestIPO: IPO regresses every pair's Δ to 1/(2β) (Azar et al. 2023); with one pair
// per item the optimum is reached exactly.
func TestIPO(t *testing.T) {
	items := synthItems(t, 22, 5, 3, true)
	var prefs []Pref
	for p := range items {
		prefs = append(prefs, Pref{Prompt: p, Winner: 0, Loser: 2})
	}
	const beta = 0.25
	c := newCand(t, items)
	if _, err := DPO(c, prefs, Env{}, DPOConfig{Beta: beta, Loss: LossIPO, Steps: 400, Tol: -1}); err != nil {
		t.Fatal(err)
	}
	for p := range items {
		lp := make([]float64, 2)
		c.LogProbs(lp, []Sample{c.Given(p, 0), c.Given(p, 2)})
		ref := make([]float64, 2)
		c.RefLogProbs(ref, []Sample{c.Given(p, 0), c.Given(p, 2)})
		if d := (lp[0] - ref[0]) - (lp[1] - ref[1]); math.Abs(d-1/(2*beta)) > 1e-3 {
			t.Errorf("item %d: Δ = %v, want 1/(2β) = %v", p, d, 1/(2*beta))
		}
	}
}

func TestPrefs(t *testing.T) {
	items := synthItems(t, 23, 2, 3, false)
	a, b := items[0].Responses[0].ID, items[0].Responses[2].ID
	pairs := []feedback.Pair{
		{Item: "q0", Winner: a, Loser: b},
		{Item: "q0", Winner: a, Loser: b, Tie: true},
		{Item: "nosuch", Winner: a, Loser: b},
		{Item: "q1", Winner: a, Loser: b}, // responses of another item
	}
	got, dropped := Prefs(items, pairs)
	if len(got) != 1 || got[0] != (Pref{Prompt: 0, Winner: 0, Loser: 2}) || dropped != 3 {
		t.Errorf("Prefs = %v, dropped %d", got, dropped)
	}
	if _, err := DPO(newCand(t, items), nil, Env{}, DPOConfig{}); err == nil {
		t.Error("DPO without pairs: no error")
	}
	if _, err := DPO(newCand(t, items), []Pref{{Prompt: 5}}, Env{}, DPOConfig{}); err == nil {
		t.Error("DPO with an out-of-range pair: no error")
	}
}
