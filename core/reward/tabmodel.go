package reward

import (
	"sync"

	"prefer/core/feedback"
)

// Tabular is a reward model with one score per known response: the fitted
// Bradley–Terry scores of a leaderboard. Score looks the response up by item id and
// by the response's id (the id of the item's response with that text, else
// ResponseID(text)); unknown responses score 0, the reference level.
type Tabular struct {
	Items     []string  // item id of each entry
	Responses []string  // response id of each entry
	Scores    []float32 // λ
	SE        []float32 // standard error of λ
	Eta       float64   // Rao–Kupper tie threshold (0: no ties)
	Alpha     float64   // position effect (not used by Score)

	idx  map[string]map[string]int
	once sync.Once
}

// Family returns "tabular".
func (t *Tabular) Family() string { return FamilyTabular }

func (t *Tabular) index() {
	t.idx = make(map[string]map[string]int)
	for i := range t.Items {
		m := t.idx[t.Items[i]]
		if m == nil {
			m = make(map[string]int)
			t.idx[t.Items[i]] = m
		}
		m[t.Responses[i]] = i
	}
}

// Score returns the score of the response with this text in item it, 0 if unknown.
func (t *Tabular) Score(it *feedback.Item, text string) float64 {
	if it == nil {
		return 0
	}
	t.once.Do(func() {
		if t.idx == nil {
			t.index()
		}
	})
	m := t.idx[it.ID]
	if m == nil {
		return 0
	}
	for i := range it.Responses {
		if it.Responses[i].Text == text {
			if k, ok := m[it.Responses[i].ID]; ok {
				return float64(t.Scores[k])
			}
			break
		}
	}
	if k, ok := m[feedback.ResponseID(text)]; ok {
		return float64(t.Scores[k])
	}
	return 0
}

// TieEta returns the model's Rao–Kupper tie threshold η.
func (t *Tabular) TieEta() float64 { return t.Eta }
