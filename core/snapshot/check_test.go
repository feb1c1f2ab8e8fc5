package snapshot

import (
	"math"
	"strings"
	"testing"

	"prefer/core/feedback"
)

func TestCheckSound(t *testing.T) {
	s := sample()
	s.Provenance.Parent = "sha256-" + strings.Repeat("ab", 32)
	if ps := Check(s); len(ps) != 0 {
		t.Fatalf("sound snapshot has problems: %v", ps)
	}
}

func TestCheckFindsEachProblem(t *testing.T) {
	s := sample()
	s.Items = append(s.Items, s.Items[0])                                           // duplicate item id
	s.Items[0].Responses[1].ID = "r1"                                               // duplicate response id
	s.Items[0].GoldBest = "zz"                                                      // gold_best not a response
	s.Raters = append(s.Raters, feedback.Rater{})                                   // rater without id
	s.Judgments[2].Score = 9                                                        // off the scale
	s.Judgments = append(s.Judgments, feedback.Judgment{ID: "e1", Kind: "compare"}) // duplicate id
	s.Models[0].Tensors["w"] = Tensor{Shape: []int{2}, Data: []float32{float32(math.NaN()), 1}}
	s.Runs = append(s.Runs, Run{Name: "train-1"})
	want := []string{
		"duplicate item id", "duplicate response id", "gold_best", "rater without an id",
		"score off the scale", "same id", "NaN", "duplicate run name", "not a snapshot id",
	}
	var all []string
	for _, p := range Check(s) {
		all = append(all, p.String())
	}
	joined := strings.Join(all, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("Check missed %q; it reported:\n%s", w, joined)
		}
	}
}
