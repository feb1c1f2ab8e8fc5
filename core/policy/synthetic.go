package policy

import (
	"fmt"
	"math"

	"prefer/core/feedback"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

// Labeler compares responses a and b (response ids) of item it and returns a
// compare judgment (Choice, and optionally Left, Strength, Reasons). The
// synthetic-feedback loop sets its ID, Rater, Item, A, B and Time.
type Labeler func(it *feedback.Item, a, b string) feedback.Judgment

// RewardLabeler is an AI rater that prefers the response with the higher reward r,
// and calls a tie when the rewards differ by less than tie.
func RewardLabeler(r Reward, tie float64) Labeler {
	return func(it *feedback.Item, a, b string) feedback.Judgment {
		ra, rb := r(it, textOf(it, a)), r(it, textOf(it, b))
		j := feedback.Judgment{Kind: feedback.KindCompare}
		switch {
		case math.Abs(ra-rb) < tie:
			j.Choice = feedback.ChoiceTie
		case ra > rb:
			j.Choice = feedback.ChoiceA
		default:
			j.Choice = feedback.ChoiceB
		}
		return j
	}
}

func textOf(it *feedback.Item, id string) string {
	if r := it.Response(id); r != nil {
		return r.Text
	}
	return id
}

// Retrainer fits a new proxy reward to the items and all judgments so far.
type Retrainer func(items []feedback.Item, js []feedback.Judgment) (Reward, error)

// SyntheticConfig configures the synthetic-feedback loop. The zero value gives the
// defaults in the comments.
type SyntheticConfig struct {
	Rounds int     // label–retrain–optimize rounds. Default 3.
	Pairs  int     // fresh pairs the AI rater labels per round. Default 2 per prompt.
	Audit  float64 // fraction of those pairs also given to humans. Default 0.1.
	Beta   float64 // β of the exact re-optimization after each round. Default 0.5.
	AI     string  // rater id of the AI rater. Default "ai".
	Human  string  // rater id of the auditor. Default "audit".
	Seed   uint64
}

// SyntheticResult is the outcome of the loop.
type SyntheticResult struct {
	Run       snapshot.Run        // Kind "synthetic": per round ai_labels, audits, agreement, proxy, gold, kl
	Judgments []feedback.Judgment // the AI rater's judgments and the audit judgments, in order
	Reward    Reward              // the proxy after the last retraining
	Agreement float64             // overall fraction of audited pairs where human and AI chose alike
	Audits    int                 // audited pairs
}

// Synthetic runs the synthetic-feedback loop (RLAIF; Bai et al. 2022, Lee et al.
// 2023) on the candidate policy: each round, optimize the policy against the
// current proxy (exact solver at Beta), draw fresh pairs of two different policy
// samples, have the AI rater (ai) label them, send a random Audit fraction of the
// pairs to the human rater (human, e.g. a simulated demo rater) and record their
// agreement, then retrain the proxy on the original judgments plus all AI labels.
// env.Proxy is the starting proxy and env.Gold, when set, is measured.
func Synthetic(items []feedback.Item, js []feedback.Judgment, env Env, ai, human Labeler, retrain Retrainer, cfg SyntheticConfig) (*SyntheticResult, error) {
	if cfg.Rounds == 0 {
		cfg.Rounds = 3
	}
	if cfg.Pairs == 0 {
		cfg.Pairs = 2 * len(items)
	}
	if cfg.Audit == 0 {
		cfg.Audit = 0.1
	}
	if cfg.Beta == 0 {
		cfg.Beta = 0.5
	}
	if cfg.AI == "" {
		cfg.AI = "ai"
	}
	if cfg.Human == "" {
		cfg.Human = "audit"
	}
	switch {
	case cfg.Rounds < 1 || cfg.Pairs < 1:
		return nil, fmt.Errorf("synthetic feedback: rounds and pairs must be ≥ 1")
	case cfg.Audit < 0 || cfg.Audit > 1:
		return nil, fmt.Errorf("synthetic feedback: the audit fraction must be in [0, 1], got %v", cfg.Audit)
	case !(cfg.Beta > 0):
		return nil, fmt.Errorf("synthetic feedback: beta must be positive")
	case ai == nil || retrain == nil:
		return nil, fmt.Errorf("synthetic feedback: needs an AI rater and a way to retrain the reward")
	case env.Proxy == nil:
		return nil, fmt.Errorf("synthetic feedback: needs a starting reward")
	}
	var t0 int64
	for _, j := range js {
		t0 = max(t0, j.Time)
	}
	r := rng.New(cfg.Seed).Split("synthetic")
	res := &SyntheticResult{Reward: env.Proxy}
	series := map[string][]float64{}
	all := append([]feedback.Judgment(nil), js...)
	var agreeAll int
	clock := t0
	for round := 1; round <= cfg.Rounds; round++ {
		c, err := NewCandidate(items, CandidateConfig{})
		if err != nil {
			return nil, err
		}
		ex, err := SolveExact(c, Env{Proxy: res.Reward, Gold: env.Gold, Features: env.Features}, ExactConfig{Beta: cfg.Beta, Seed: cfg.Seed})
		if err != nil {
			return nil, fmt.Errorf("synthetic feedback: round %d: %w", round, err)
		}
		var labels, audits, agree int
		var buf []Sample
		for k := 0; k < cfg.Pairs; k++ {
			p := r.IntN(len(items))
			it := &items[p]
			if len(it.Responses) < 2 {
				continue
			}
			// Two different samples of the policy; give up on this pair after 20 tries
			// (the policy has collapsed on one response of the prompt).
			var a, b int
			ok := false
			for try := 0; try < 20 && !ok; try++ {
				buf = c.Sample(buf[:0], r, p, 2)
				a, b = buf[0].Cand, buf[1].Cand
				ok = a != b
			}
			if !ok {
				continue
			}
			aid, bid := it.Responses[a].ID, it.Responses[b].ID
			clock++
			j := ai(it, aid, bid)
			j.ID = fmt.Sprintf("syn%d-r%d-ai-%d", cfg.Seed, round, k)
			j.Kind, j.Item, j.Rater, j.A, j.B, j.Time = feedback.KindCompare, it.ID, cfg.AI, aid, bid, clock
			all = append(all, j)
			res.Judgments = append(res.Judgments, j)
			labels++
			if human != nil && r.Float64() < cfg.Audit {
				clock++
				h := human(it, aid, bid)
				h.ID = fmt.Sprintf("syn%d-r%d-audit-%d", cfg.Seed, round, k)
				h.Kind, h.Item, h.Rater, h.A, h.B, h.Time = feedback.KindCompare, it.ID, cfg.Human, aid, bid, clock
				res.Judgments = append(res.Judgments, h)
				audits++
				if h.Choice == j.Choice {
					agree++
				}
			}
		}
		next, err := retrain(items, all)
		if err != nil {
			return nil, fmt.Errorf("synthetic feedback: round %d: retrain the reward: %w", round, err)
		}
		res.Reward = next
		res.Audits += audits
		agreeAll += agree
		rate := Unknown
		if audits > 0 {
			rate = float64(agree) / float64(audits)
		}
		series["round"] = append(series["round"], float64(round))
		series["ai_labels"] = append(series["ai_labels"], float64(labels))
		series["audits"] = append(series["audits"], float64(audits))
		series["agreement"] = append(series["agreement"], rate)
		series["proxy"] = append(series["proxy"], ex.Final.Reward)
		series[SeriesGold] = append(series[SeriesGold], ex.Final.Gold)
		series[SeriesKL] = append(series[SeriesKL], ex.Final.KL)
	}
	res.Agreement = Unknown
	if res.Audits > 0 {
		res.Agreement = float64(agreeAll) / float64(res.Audits)
	}
	res.Run = snapshot.Run{Name: "synthetic", Kind: "synthetic", Seed: cfg.Seed, Series: series,
		Config:  map[string]any{"rounds": cfg.Rounds, "pairs": cfg.Pairs, "audit": cfg.Audit, "beta": cfg.Beta, "ai": cfg.AI, "human": cfg.Human},
		Summary: map[string]float64{"agreement": res.Agreement, "audits": float64(res.Audits), "ai_labels": float64(len(res.Judgments) - res.Audits)}}
	res.Run.Notes = append(res.Run.Notes, fmt.Sprintf("human audit agreed with the AI rater on %d of %d pairs", agreeAll, res.Audits))
	return res, nil
}
