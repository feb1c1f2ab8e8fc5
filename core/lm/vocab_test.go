package lm

import (
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/policy"
)

// TestSeqFitsContext checks the truncation rules: a long prompt keeps its last words
// within half the context, a long response is cut to fill the rest, unknown words
// become UNK, and every sequence fits the model.
func TestSeqFitsContext(t *testing.T) {
	l := tinyLM(t, 1) // context 24
	T := l.Model.Config.Context
	long := strings.Repeat("how do i boil an egg ", 20)
	cases := []struct {
		name, prompt, resp string
	}{
		{"short", "What do bees make?", "Bees make honey."},
		{"long prompt", long, "Bees make honey."},
		{"long response", "What do bees make?", long},
		{"both long", long, long},
		{"empty response", "What do bees make?", ""},
		{"unknown words", "Qu'est-ce que c'est?", "Zzyzx quux."},
	}
	for _, c := range cases {
		s := l.Seq(c.prompt, c.resp, true)
		if len(s.Prompt) > T/2 || s.Prompt[0] != BOSID || s.Prompt[len(s.Prompt)-1] != SEPID {
			t.Errorf("%s: prompt %v", c.name, s.Prompt)
		}
		if n := len(s.Prompt) + len(s.Response) - 1; n > T || len(s.Response) == 0 {
			t.Errorf("%s: %d inputs for context %d, response %v", c.name, n, T, s.Response)
		}
		var bt batch
		makeBatch(&bt, []Seq{s}, T)
		if bt.n[0] != len(s.Response) {
			t.Errorf("%s: %d of %d response tokens scored", c.name, bt.n[0], len(s.Response))
		}
	}
	if got := l.Seq("x", "Zzyzx quux.", true).Response; got[0] != UNKID {
		t.Errorf("unknown word encoded as %d, want UNK", got[0])
	}
	// A candidate longer than MaxTokens is cut when given to the policy.
	items := []feedback.Item{{ID: "a", Prompt: "What do bees make?", Responses: []feedback.Response{{ID: "r", Text: long}}}}
	p, err := NewPolicy(l, items, PolicyConfig{MaxTokens: 7})
	if err != nil {
		t.Fatal(err)
	}
	g := p.Given(0, 0)
	if len(g.Tokens) != 7 || g.Cand != 0 {
		t.Errorf("given sample has %d tokens (want 7), cand %d", len(g.Tokens), g.Cand)
	}
	lp := make([]float64, len(g.Tokens))
	p.LogProbs(lp, []policy.Sample{g})
	for _, v := range lp {
		if !(v < 0) {
			t.Fatalf("log-probabilities %v", lp)
		}
	}
}
