package policy

import (
	"fmt"
	"math"
	"sort"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// DefaultBetas are the β values of a sweep, from weak to strong optimization
// (decreasing β, increasing KL).
var DefaultBetas = []float64{10, 5, 2, 1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.03, 0.02, 0.01}

// DefaultNs are the N values of a best-of-N sweep.
var DefaultNs = []int{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}

// SweepConfig configures a β sweep (algorithms exact, ppo, rloo) or an N sweep
// (best-of-N). The zero value is an exact β sweep over DefaultBetas.
type SweepConfig struct {
	Algo      string    // "exact" (default), "ppo", "rloo" or "bon"
	Betas     []float64 // β values, sorted decreasing before the run. Default DefaultBetas.
	Ns        []int     // N values for bon, sorted increasing. Default DefaultNs.
	Diversity float64   // entropy bonus α at every point (exact, ppo, rloo)
	PPO       PPOConfig // template for ppo points (KL.Beta is set per point)
	RLOO      RLOOConfig
	Seed      uint64
	Samples   int // samples per prompt for the sampled metrics of exact and bon points. Default 4.
	// Progress is called after each point with the number done and the total;
	// false cancels.
	Progress func(done, total int) bool
}

// SweepPoint is one setting of a sweep and where it ended.
type SweepPoint struct {
	Beta     float64            // β (NaN for best-of-N)
	N        int                // N (0 for β points)
	KL       float64            // exact KL(π‖π_ref), mean over prompts
	SqrtKL   float64            // √KL, Gao et al.'s x axis
	Proxy    float64            // E_π[proxy]
	Gold     float64            // E_π[gold], NaN when unknown
	Entropy  float64            // mean entropy per prompt
	Features map[string]float64 // E_π[feature]
}

// SweepResult is the outcome of Sweep.
type SweepResult struct {
	Run      snapshot.Run // Kind "sweep": series beta (or n), kl, sqrt_kl, proxy, gold, entropy, feature_*
	Points   []SweepPoint // in sweep order (increasing KL)
	Alerts   []Alert
	Canceled bool
}

// Sweep optimizes a fresh candidate policy over items at every β (or N) and records
// proxy reward, gold reward and √KL of each, so that a plot of both rewards against
// √KL shows over-optimization (Gao, Schulman & Hilton 2022): gold rises, peaks and
// falls while the proxy keeps rising. The detector (Detect) runs over the points.
func Sweep(items []feedback.Item, env Env, cfg SweepConfig) (*SweepResult, error) {
	if cfg.Algo == "" {
		cfg.Algo = "exact"
	}
	if cfg.Samples == 0 {
		cfg.Samples = 4
	}
	betas := append([]float64(nil), cfg.Betas...)
	if len(betas) == 0 {
		betas = append(betas, DefaultBetas...)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(betas)))
	ns := append([]int(nil), cfg.Ns...)
	if len(ns) == 0 {
		ns = append(ns, DefaultNs...)
	}
	sort.Ints(ns)
	for _, b := range betas {
		if !(b > 0) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("sweep: every beta must be a positive number, got %v", b)
		}
	}
	for _, n := range ns {
		if n < 1 {
			return nil, fmt.Errorf("sweep: every N must be ≥ 1, got %d", n)
		}
	}
	sc, err := newScorer(items, env)
	if err != nil {
		return nil, fmt.Errorf("sweep: %w", err)
	}
	// Score every candidate once; the points read the tables.
	pt := Env{Proxy: tableReward(items, sc.proxy), Gold: tableReward(items, sc.gold), Features: sc.feats.fs}

	total := len(betas)
	if cfg.Algo == "bon" {
		total = len(ns)
	}
	res := &SweepResult{Run: snapshot.Run{Name: "sweep-" + cfg.Algo, Kind: "sweep", Seed: cfg.Seed, Series: map[string][]float64{}}}
	for i := 0; i < total; i++ {
		c, err := NewCandidate(items, CandidateConfig{})
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		point := SweepPoint{Beta: Unknown}
		var r *Result
		switch cfg.Algo {
		case "exact":
			point.Beta = betas[i]
			r, err = SolveExact(c, pt, ExactConfig{Beta: betas[i], Diversity: cfg.Diversity, Seed: cfg.Seed, Samples: cfg.Samples})
		case "ppo":
			point.Beta = betas[i]
			pc := cfg.PPO
			pc.KL.Beta, pc.KL.TargetKL, pc.Seed, pc.Diversity, pc.Progress = betas[i], 0, cfg.Seed, cfg.Diversity, nil
			r, err = PPO(c, pt, pc)
		case "rloo":
			point.Beta = betas[i]
			rc := cfg.RLOO
			rc.KL.Beta, rc.KL.TargetKL, rc.Seed, rc.Diversity, rc.Progress = betas[i], 0, cfg.Seed, cfg.Diversity, nil
			r, err = RLOO(c, pt, rc)
		case "bon":
			point.N = ns[i]
			r, err = SolveBestOfN(c, pt, BoNConfig{N: ns[i], Seed: cfg.Seed, Samples: cfg.Samples})
		default:
			return nil, fmt.Errorf("sweep: unknown algorithm %q: use exact, ppo, rloo or bon", cfg.Algo)
		}
		if err != nil {
			return nil, fmt.Errorf("sweep: %w", err)
		}
		f := r.Final
		point.KL, point.Proxy, point.Gold, point.Entropy = f.KL, f.Reward, f.Gold, f.Entropy
		point.SqrtKL = math.Sqrt(math.Max(f.KL, 0))
		point.Features = map[string]float64{}
		for _, fe := range sc.feats.fs {
			s := r.Run.Series[FeaturePrefix+fe.Name]
			point.Features[fe.Name] = s[len(s)-1]
		}
		res.Points = append(res.Points, point)
		if cfg.Progress != nil && !cfg.Progress(i+1, total) {
			res.Canceled = true
			break
		}
	}
	s := res.Run.Series
	for _, p := range res.Points {
		if cfg.Algo == "bon" {
			s["n"] = append(s["n"], float64(p.N))
			s["kl_formula"] = append(s["kl_formula"], BoNKL(p.N))
		} else {
			s["beta"] = append(s["beta"], p.Beta)
		}
		s[SeriesKL] = append(s[SeriesKL], p.KL)
		s[SeriesSqrtKL] = append(s[SeriesSqrtKL], p.SqrtKL)
		s["proxy"] = append(s["proxy"], p.Proxy)
		s[SeriesGold] = append(s[SeriesGold], p.Gold)
		s[SeriesEntropy] = append(s[SeriesEntropy], p.Entropy)
		for _, fe := range sc.feats.fs {
			s[FeaturePrefix+fe.Name] = append(s[FeaturePrefix+fe.Name], p.Features[fe.Name])
		}
	}
	res.Run.Config = map[string]any{"algo": cfg.Algo, "diversity": cfg.Diversity, "samples": cfg.Samples}
	if cfg.Algo == "bon" {
		res.Run.Config["ns"] = ns[:len(res.Points)]
	} else {
		res.Run.Config["betas"] = betas[:len(res.Points)]
	}
	res.Alerts = detectSeries(s["proxy"], s[SeriesGold], s, sc, "point")
	res.Run.Summary = map[string]float64{"points": float64(len(res.Points))}
	sweepArc(res.Run.Summary, s["proxy"], s[SeriesGold])
	if g := s[SeriesGold]; len(g) > 0 && !math.IsNaN(g[0]) {
		best := 0
		for i, v := range g {
			if v > g[best] {
				best = i
			}
		}
		res.Run.Summary["gold_peak"] = g[best]
		res.Run.Summary["gold_peak_sqrt_kl"] = s[SeriesSqrtKL][best]
		res.Run.Summary["gold_end"] = g[len(g)-1]
		res.Run.Summary["proxy_end"] = s["proxy"][len(g)-1]
	}
	for _, a := range res.Alerts {
		res.Run.Notes = append(res.Run.Notes, a.Message)
	}
	return res, nil
}

// tableReward returns a Reward that looks candidates up in t by item address and
// response text (Unknown for other texts).
func tableReward(items []feedback.Item, t Table) Reward {
	idx := make(map[*feedback.Item]int, len(items))
	for p := range items {
		idx[&items[p]] = p
	}
	return func(it *feedback.Item, text string) float64 {
		p, ok := idx[it]
		if !ok {
			return Unknown
		}
		for k := range it.Responses {
			if it.Responses[k].Text == text {
				return t.V[t.Off[p]+k]
			}
		}
		return Unknown
	}
}
