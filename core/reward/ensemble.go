package reward

import (
	"math"

	"prefer/core/feedback"
)

// Ensemble is several reward models of one family, trained with different seeds on
// bootstrap resamples of the data. Its score is the members' mean; the spread of the
// members' scores measures how unsure the ensemble is (Lakshminarayanan et al. 2017).
type Ensemble struct {
	Members []Model
}

// Family returns "ensemble".
func (e *Ensemble) Family() string { return FamilyEnsemble }

// Score returns the mean of the members' scores.
func (e *Ensemble) Score(it *feedback.Item, text string) float64 {
	var s float64
	for _, m := range e.Members {
		s += m.Score(it, text)
	}
	return s / float64(len(e.Members))
}

// Scores returns each member's score.
func (e *Ensemble) Scores(it *feedback.Item, text string) []float64 {
	out := make([]float64, len(e.Members))
	for k, m := range e.Members {
		out[k] = m.Score(it, text)
	}
	return out
}

// Spread returns the standard deviation of the members' scores.
func (e *Ensemble) Spread(it *feedback.Item, text string) float64 {
	return stddev(e.Scores(it, text))
}

// TieEta returns the members' mean tie threshold.
func (e *Ensemble) TieEta() float64 {
	var s float64
	for _, m := range e.Members {
		s += modelEta(m)
	}
	return s / float64(len(e.Members))
}

// MemberFamily returns the family of the members ("" if empty).
func (e *Ensemble) MemberFamily() string {
	if len(e.Members) == 0 {
		return ""
	}
	return e.Members[0].Family()
}

func stddev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := meanOf(xs)
	var ss float64
	for _, x := range xs {
		ss += float64((x - m) * (x - m))
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// modelEta returns a model's Rao–Kupper tie threshold, 0 if it has none.
func modelEta(m Model) float64 {
	if t, ok := m.(interface{ TieEta() float64 }); ok {
		return t.TieEta()
	}
	return 0
}

// rowScorer scores dataset rows with a model, caching each row's score. A linear
// model whose features are the dataset's scores the precomputed rows (the same
// numbers Score gives, without featurizing again).
func rowScorer(ds *dataset, m Model) func(row int32) float64 {
	cache := make([]float64, len(ds.rowItem))
	done := make([]bool, len(ds.rowItem))
	lin, fast := m.(*Linear)
	fast = fast && ds.x != nil && ds.feat == lin.Features.withDefaults()
	return func(row int32) float64 {
		if !done[row] {
			if fast {
				x := ds.fx(row)
				cache[row] = float64(sparseDot(lin.W, x.Idx, x.Val) + lin.B)
			} else {
				cache[row] = m.Score(&ds.items[ds.rowItem[row]], ds.text(row))
			}
			done[row] = true
		}
		return cache[row]
	}
}
