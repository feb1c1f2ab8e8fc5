package policy

import (
	"fmt"
	"testing"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// synthItems returns nItems items with k responses each; response j of item i has
// text "item i response j" with filler words growing with j, a gold utility and
// RefProb drawn from a seeded generator (nonuniform when refProbs).
func synthItems(tb testing.TB, seed uint64, nItems, k int, refProbs bool) []feedback.Item {
	tb.Helper()
	r := rng.New(seed)
	items := make([]feedback.Item, nItems)
	for i := range items {
		it := feedback.Item{ID: fmt.Sprintf("q%d", i), Prompt: fmt.Sprintf("prompt %d", i)}
		for j := 0; j < k; j++ {
			g := r.Norm()
			text := fmt.Sprintf("item %d response %d", i, j)
			for f := 0; f < j; f++ {
				text += " well"
			}
			resp := feedback.Response{ID: feedback.ResponseID(text), Text: text, Gold: &g}
			if refProbs {
				resp.RefProb = 0.2 + r.Float64()
			}
			it.Responses = append(it.Responses, resp)
		}
		items[i] = it
	}
	return items
}

// meanTV returns the mean over prompts of TV(π_c, π*) at β for the proxy table.
func meanTV(tb testing.TB, c *Candidate, t Table, beta float64) float64 {
	tb.Helper()
	var s float64
	for p := range c.Items() {
		k := c.N(p)
		pr := c.Probs(make([]float64, k), p)
		ref := c.RefProbs(make([]float64, k), p)
		opt := Optimum(make([]float64, k), ref, t.Row(p), beta, 0)
		s += TV(pr, opt)
	}
	return s / float64(len(c.Items()))
}

func newCand(tb testing.TB, items []feedback.Item) *Candidate {
	tb.Helper()
	c, err := NewCandidate(items, CandidateConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// syntheticPrefs draws n preference pairs over items from a Bradley–Terry model with
// scores scale·gold: P(a ≻ b) = σ(scale·(g_a − g_b)).
func syntheticPrefs(tb testing.TB, items []feedback.Item, seed uint64, n int) []Pref {
	tb.Helper()
	r := rng.New(seed)
	out := make([]Pref, 0, n)
	for len(out) < n {
		p := r.IntN(len(items))
		k := len(items[p].Responses)
		a, b := r.IntN(k), r.IntN(k)
		if a == b {
			continue
		}
		d := *items[p].Responses[a].Gold - *items[p].Responses[b].Gold
		if r.Float64() < num.Sigmoid(d) {
			out = append(out, Pref{Prompt: p, Winner: a, Loser: b})
		} else {
			out = append(out, Pref{Prompt: p, Winner: b, Loser: a})
		}
	}
	return out
}
