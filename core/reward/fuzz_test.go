package reward

import (
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// FuzzFromSnapshot feeds arbitrary snapshot bytes to FromSnapshot: a model either
// loads and scores texts without panicking, or is refused with an error.
func FuzzFromSnapshot(f *testing.F) {
	lin := &Linear{Features: FeatureConfig{Dim: 16}.withDefaults(), W: make([]float32, 18), B: 0.5}
	lin.W[3] = 1
	mlp := &MLP{Features: FeatureConfig{Dim: 8, NoSentences: true}.withDefaults(), Hidden: 2, W1: make([]float32, 20), B1: make([]float32, 2), W2: []float32{1, -1}}
	tab := &Tabular{Items: []string{"q"}, Responses: []string{"a"}, Scores: []float32{1.5}, SE: []float32{0.2}}
	for _, m := range []Model{lin, mlp, tab, &Ensemble{Members: []Model{lin, lin}}} {
		data, err := snapshot.Marshal(&snapshot.Snapshot{Models: []snapshot.Model{ToSnapshot(m, "m", nil)}})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	it := &feedback.Item{ID: "q", Prompt: "what?", Responses: []feedback.Response{{ID: "a", Text: "yes ."}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := snapshot.Unmarshal(data)
		if err != nil {
			return
		}
		for _, sm := range s.Models {
			m, err := FromSnapshot(sm)
			if err != nil {
				continue
			}
			m.Score(it, "yes .")
			m.Score(it, "Sure! The sky is blue. 3 meters is 300 centimeters.")
			m.Score(nil, "")
		}
	})
}
