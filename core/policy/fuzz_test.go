package policy

import (
	"math"
	"testing"

	"prefer/core/snapshot"
)

// FuzzCandidateFromModel feeds hostile snapshots to the candidate-policy decoder:
// it must return a policy or an error, never panic, and a returned policy must hold
// proper distributions.
func FuzzCandidateFromModel(f *testing.F) {
	items := synthItems(f, 1, 3, 4, true)
	c := newCand(f, items)
	SetOptimum(c, NewTable(items, ItemGold), 0.5, 0)
	s := &snapshot.Snapshot{Items: items, Models: []snapshot.Model{c.Model("p", "r")}}
	data, err := snapshot.Marshal(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := snapshot.Unmarshal(data)
		if err != nil {
			return
		}
		for i := range s.Models {
			c, err := CandidateFromModel(&s.Models[i], s.Items)
			if err != nil {
				continue
			}
			for p := range c.Items() {
				var sum float64
				for _, q := range c.Probs(make([]float64, c.N(p)), p) {
					if q < 0 || math.IsNaN(q) {
						t.Fatalf("probability %v", q)
					}
					sum += q
				}
				if math.Abs(sum-1) > 1e-9 {
					t.Fatalf("probabilities sum to %v", sum)
				}
			}
		}
	})
}
