package reward

import (
	"fmt"
	"math"
	"sort"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// Acquisition rules of Propose.
//
// The default is RuleUncertainty because it is the one that measurably saves labels
// here: on the demo domain with an unbiased simulated rater (BenchmarkActiveVsRandom,
// 3 seeds, a noise-free held-out set), reaching 90% held-out accuracy took 683
// labels on average with uncertainty sampling, 1,033 with random choice and 1,267
// with BALD. The ensemble still matters: its mean is the better-calibrated model
// whose uncertainty is sampled.
const (
	// RuleUncertainty ranks a pair by the binary entropy of the (ensemble mean)
	// model's P(a ≻ b) = σ(r̄(a) − r̄(b)): the pairs the model cannot yet order
	// (uncertainty or margin sampling, Lewis & Gale 1994). Works with any model.
	RuleUncertainty = "uncertainty"
	// RuleBALD ranks a pair by the mutual information between its label and the
	// ensemble member that explains it (Houlsby et al. 2011, "Bayesian Active
	// Learning by Disagreement"):
	//
	//	I = H(p̄) − (1/M) Σ_m H(p_m),   p_m = σ(r_m(a) − r_m(b)),  p̄ = (1/M) Σ_m p_m
	//
	// with H the binary entropy: high when the members are each confident but
	// disagree. In theory it avoids pairs that are coin flips for every member; on
	// the demo domain it picked pairs of rare responses whose labels generalise
	// poorly, and needed more labels than random choice.
	RuleBALD = "bald"
	// RuleVariance ranks by the variance of the members' reward gaps r_m(a) − r_m(b)
	// (plain ensemble disagreement).
	RuleVariance = "variance"
	// RuleRandom picks pairs uniformly at random (the baseline).
	RuleRandom = "random"
)

// Candidate is a pair of responses of one item proposed for labeling.
type Candidate struct {
	Item  string
	A, B  string  // response ids
	Value float64 // the rule's score: higher is more useful to label
}

// ProposeConfig configures Propose. Zero fields take the defaults given.
type ProposeConfig struct {
	K       int    // pairs to propose (default 10)
	Rule    string // acquisition rule (default RuleUncertainty)
	Seed    uint64 // breaks ties and drives RuleRandom
	PerItem int    // at most this many pairs per item, for diversity (default 1)
	// Skip, if set, leaves out pairs already labeled (or otherwise unwanted).
	Skip func(item, a, b string) bool
}

// Propose returns the K response pairs most worth labeling next under cfg.Rule,
// best first. BALD and variance need an *Ensemble (use Train with Family ensemble);
// uncertainty (the default) and random work with any model.
func Propose(m Model, items []feedback.Item, cfg ProposeConfig) ([]Candidate, error) {
	if cfg.K <= 0 {
		cfg.K = 10
	}
	if cfg.Rule == "" {
		cfg.Rule = RuleUncertainty
	}
	if cfg.PerItem <= 0 {
		cfg.PerItem = 1
	}
	ens, isEns := m.(*Ensemble)
	switch cfg.Rule {
	case RuleBALD, RuleVariance:
		if !isEns || len(ens.Members) < 2 {
			return nil, fmt.Errorf("rule %q needs an ensemble of at least two members; train with family ensemble or use rule %q", cfg.Rule, RuleUncertainty)
		}
	case RuleUncertainty, RuleRandom:
	default:
		return nil, fmt.Errorf("unknown acquisition rule %q: use bald, variance, uncertainty or random", cfg.Rule)
	}
	r := rng.New(cfg.Seed).Split("propose")
	var cands []Candidate
	for i := range items {
		it := &items[i]
		n := len(it.Responses)
		if n < 2 {
			continue
		}
		var scores [][]float64 // per response: member scores (or one score)
		if cfg.Rule != RuleRandom {
			scores = make([][]float64, n)
			for k, resp := range it.Responses {
				if isEns {
					scores[k] = ens.Scores(it, resp.Text)
				} else {
					scores[k] = []float64{m.Score(it, resp.Text)}
				}
			}
		}
		var local []Candidate
		for a := 0; a < n; a++ {
			for b := a + 1; b < n; b++ {
				ra, rb := it.Responses[a].ID, it.Responses[b].ID
				if cfg.Skip != nil && (cfg.Skip(it.ID, ra, rb) || cfg.Skip(it.ID, rb, ra)) {
					continue
				}
				c := Candidate{Item: it.ID, A: ra, B: rb}
				switch cfg.Rule {
				case RuleRandom:
					c.Value = r.Float64()
				case RuleUncertainty:
					d := meanOf(scores[a]) - meanOf(scores[b])
					c.Value = binaryEntropy(num.Sigmoid(d))
				case RuleVariance:
					ds := make([]float64, len(scores[a]))
					for k := range ds {
						ds[k] = scores[a][k] - scores[b][k]
					}
					s := stddev(ds)
					c.Value = float64(s * s)
				case RuleBALD:
					var pbar, hmean float64
					for k := range scores[a] {
						p := num.Sigmoid(scores[a][k] - scores[b][k])
						pbar += p
						hmean += binaryEntropy(p)
					}
					M := float64(len(scores[a]))
					c.Value = binaryEntropy(pbar/M) - hmean/M
				}
				local = append(local, c)
			}
		}
		sort.SliceStable(local, func(x, y int) bool { return local[x].Value > local[y].Value })
		if len(local) > cfg.PerItem {
			local = local[:cfg.PerItem]
		}
		cands = append(cands, local...)
	}
	// Best first; equal values in a seeded random order.
	tie := make([]float64, len(cands))
	for i := range tie {
		tie[i] = r.Float64()
	}
	idx := make([]int, len(cands))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(x, y int) bool {
		a, b := cands[idx[x]], cands[idx[y]]
		if a.Value != b.Value {
			return a.Value > b.Value
		}
		return tie[idx[x]] < tie[idx[y]]
	})
	out := make([]Candidate, 0, min(cfg.K, len(idx)))
	for _, i := range idx {
		if len(out) == cfg.K {
			break
		}
		out = append(out, cands[i])
	}
	return out, nil
}

// binaryEntropy is −p log p − (1−p) log(1−p) in nats.
func binaryEntropy(p float64) float64 {
	if p <= 0 || p >= 1 {
		return 0
	}
	return float64(-p*num.Log(p)) - float64((1-p)*num.Log(1-p))
}

// Accuracy returns the fraction of the decided comparisons in js that m orders as
// people did (a tie of scores counts as wrong), and how many there were.
func Accuracy(m Model, items []feedback.Item, js []feedback.Judgment) (float64, int) {
	ds := newDataset(items, js, feedback.PairOptions{})
	score := rowScorer(ds, m)
	right, n := 0, 0
	for _, e := range ds.elems {
		if e.kind != elPair {
			continue
		}
		n++
		if score(e.rows[0]) > score(e.rows[1]) {
			right++
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	return float64(right) / float64(n), n
}
