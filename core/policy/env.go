package policy

import (
	"fmt"
	"math"

	"prefer/core/feedback"
)

// Env is what a policy is optimized against and measured with.
//
// Proxy is the reward r(x,y) the optimizer sees (a reward model, a tabular score, or
// the gold utility itself). Gold, when set, is the true utility, used only for
// measurement (the "gold reward" curve of Gao et al. 2022); ItemGold reads the demo
// domain's recorded utilities. Features, when set, describe responses for the
// reward-hacking detector: a domain injects its own here (the demo domain's are
// demo.HackingFeatures, demo.FeaturesOf); nil means DefaultFeatures.
type Env struct {
	Proxy    Reward
	Gold     Reward
	Features []Feature
}

// ItemGold is a gold Reward that returns the recorded gold utility of the item's
// response with exactly this text, and Unknown when there is none.
func ItemGold(it *feedback.Item, text string) float64 {
	for i := range it.Responses {
		r := &it.Responses[i]
		if r.Text == text {
			if r.Gold != nil {
				return *r.Gold
			}
			return Unknown
		}
	}
	return Unknown
}

// HasGold reports whether every response of every item carries a gold utility.
func HasGold(items []feedback.Item) bool {
	if len(items) == 0 {
		return false
	}
	for _, it := range items {
		for _, r := range it.Responses {
			if r.Gold == nil {
				return false
			}
		}
	}
	return true
}

// Table is a reward of the given candidates held as numbers: the value of candidate
// k of item p is V[Off[p]+k]. It is how the optimizers score candidate samples
// without calling a reward model again.
type Table struct {
	Off []int     // (P+1)
	V   []float64 // (K)
}

// NewTable scores every candidate of every item with r. A nil r gives a table of
// Unknown. A non-finite proxy score is an error (it would poison the optimizer).
func NewTable(items []feedback.Item, r Reward) Table {
	t := Table{Off: make([]int, len(items)+1)}
	for p := range items {
		t.Off[p+1] = t.Off[p] + len(items[p].Responses)
	}
	t.V = make([]float64, t.Off[len(items)])
	for p := range items {
		for k := range items[p].Responses {
			v := Unknown
			if r != nil {
				v = r(&items[p], items[p].Responses[k].Text)
			}
			t.V[t.Off[p]+k] = v
		}
	}
	return t
}

// Row returns the values of item p's candidates.
func (t Table) Row(p int) []float64 { return t.V[t.Off[p]:t.Off[p+1]] }

// Known reports whether no value is NaN.
func (t Table) Known() bool {
	for _, v := range t.V {
		if math.IsNaN(v) {
			return false
		}
	}
	return true
}

func (t Table) checkFinite(what string, items []feedback.Item) error {
	for p := range items {
		for k, v := range t.Row(p) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s reward of item %q response %d is %v; the reward must be a finite number for every response", what, items[p].ID, k, v)
			}
		}
	}
	return nil
}

// scorer scores samples: from the tables for candidate samples, by calling the
// reward for generated text.
type scorer struct {
	items []feedback.Item
	env   Env
	proxy Table
	gold  Table
	feats featureTable
}

func newScorer(items []feedback.Item, env Env) (*scorer, error) {
	if env.Proxy == nil {
		return nil, fmt.Errorf("no reward to optimize: give a reward model or a gold/tabular reward")
	}
	s, _ := newScorerUnchecked(items, env)
	if err := s.proxy.checkFinite("proxy", items); err != nil {
		return nil, err
	}
	return s, nil
}

// newScorerUnchecked builds the tables without requiring finite proxy rewards (DPO
// only measures them).
func newScorerUnchecked(items []feedback.Item, env Env) (*scorer, error) {
	s := &scorer{items: items, env: env, proxy: NewTable(items, env.Proxy), gold: NewTable(items, env.Gold)}
	s.feats = newFeatureTable(items, env.Features)
	return s, nil
}

// score returns the proxy reward of s.
func (sc *scorer) score(s *Sample) float64 {
	if s.Cand >= 0 {
		return sc.proxy.V[sc.proxy.Off[s.Prompt]+s.Cand]
	}
	return sc.env.Proxy(&sc.items[s.Prompt], s.Text)
}

// goldOf returns the gold reward of s, or Unknown.
func (sc *scorer) goldOf(s *Sample) float64 {
	if s.Cand >= 0 {
		return sc.gold.V[sc.gold.Off[s.Prompt]+s.Cand]
	}
	if sc.env.Gold == nil {
		return Unknown
	}
	return sc.env.Gold(&sc.items[s.Prompt], s.Text)
}
