package agree

import (
	"encoding/json"
	"fmt"
	"testing"

	"prefer/core/feedback"
	"prefer/core/rng"
)

// TestAnalyzeJunk feeds Analyze random, often invalid judgments (unknown items and
// responses, bad choices, rankings that are not permutations, scores off the scale,
// negative times) and checks that it neither panics nor produces JSON that does not
// encode.
func TestAnalyzeJunk(t *testing.T) {
	kinds := append(append([]feedback.Kind(nil), feedback.Kinds...), "vote", "")
	for seed := uint64(0); seed < 150; seed++ {
		r := rng.New(seed)
		pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
		items := []feedback.Item{
			{ID: "q1", GoldBest: pick("a", "b", "zz", ""), Responses: []feedback.Response{{ID: "a", Text: "one two"}, {ID: "b", Text: ""}, {ID: "c", Text: "x y z"}}},
			{ID: "q2", Responses: []feedback.Response{{ID: "a", Text: "a"}}},
		}
		raters := []feedback.Rater{{ID: "u1", Group: pick("g1", "")}, {ID: "u2", Group: "g2"}, {ID: "u1", Group: "dup"}}
		n := r.IntN(60)
		js := make([]feedback.Judgment, n)
		for i := range js {
			shown := []string{pick("a", "b", "c", ""), pick("a", "b", "c"), pick("a", "c", "zz")}[:r.IntN(4)]
			order := r.Perm(len(shown))
			if r.Bernoulli(0.2) && len(order) > 0 {
				order[0] = r.IntN(5) - 1
			}
			js[i] = feedback.Judgment{
				ID: fmt.Sprint(r.IntN(40)), Kind: feedback.Kind(kinds[r.IntN(len(kinds))]), Item: pick("q1", "q2", "nope", ""),
				Rater: pick("u1", "u2", "u3", ""), Time: int64(r.IntN(5) - 1), Seq: r.IntN(30) - 2, MS: int64(r.IntN(5000) - 100),
				A: pick("a", "b", "c", ""), B: pick("a", "b", "zz"), Choice: feedback.Choice(pick("a", "b", "tie", "both-bad", "left", "")),
				Left: pick("a", "b", "", "c"), Shown: shown, Order: order, Response: pick("a", "b", "c", ""),
				Axis: pick("helpful", "honest", "", "style"), Score: r.IntN(12) - 3, Category: pick("harmful", "rude", ""),
			}
		}
		for _, opt := range []Options{{}, {Metric: Ratio, Windows: 50, Bucket: 1, MinShared: 1, Permutations: 5}, {Kinds: []feedback.Kind{feedback.KindRate}, Axis: "style"}} {
			rep := Analyze(items, raters, js, opt)
			if _, err := json.Marshal(rep); err != nil {
				t.Fatalf("seed %d: report does not encode: %v", seed, err)
			}
			var sb stringsBuilder
			if err := rep.WriteText(&sb); err != nil {
				t.Fatalf("seed %d: text: %v", seed, err)
			}
		}
	}
}

type stringsBuilder struct{ n int }

func (s *stringsBuilder) Write(b []byte) (int, error) { s.n += len(b); return len(b), nil }
