package policy

import (
	"fmt"
	"math"

	"prefer/core/num"
)

// Optimum writes the maximizer of the KL-penalized objective with an entropy bonus,
//
//	max_π  Σ_k π_k·r_k − β·KL(π‖π_ref) + α·H(π)
//	π*_k ∝ π_ref,k^{β/(β+α)} · exp(r_k/(β+α))
//
// into dst and returns it. With α = 0 it is the closed form π* ∝ π_ref·exp(r/β)
// (Ziegler et al. 2019; Rafailov et al. 2023 eq. 4), whose optimal value is
// β·log Z. β must be positive, α ≥ 0.
func Optimum(dst, ref, r []float64, beta, alpha float64) []float64 {
	if len(dst) != len(ref) || len(r) != len(ref) {
		panic("policy: Optimum length mismatch")
	}
	t := beta + alpha
	for k := range dst {
		if ref[k] <= 0 {
			dst[k] = math.Inf(-1)
			continue
		}
		dst[k] = (float64(beta*num.Log(ref[k])) + r[k]) / t
	}
	return num.Softmax(dst, dst)
}

// SetOptimum sets the candidate policy to π* for the rewards of table t (the proxy)
// at β and α (see Optimum).
func SetOptimum(c *Candidate, t Table, beta, alpha float64) {
	for p := range c.items {
		k := c.N(p)
		ref := c.RefProbs(make([]float64, k), p)
		c.SetProbs(p, Optimum(make([]float64, k), ref, t.Row(p), beta, alpha))
	}
}

// OptimumKL returns the KL(π*_β‖π_ref) per prompt, mean over prompts, for the
// rewards of t.
func OptimumKL(c *Candidate, t Table, beta, alpha float64) float64 {
	var kl float64
	for p := range c.items {
		k := c.N(p)
		ref := c.RefProbs(make([]float64, k), p)
		opt := Optimum(make([]float64, k), ref, t.Row(p), beta, alpha)
		kl += ExactKL(opt, ref)
	}
	return kl / float64(len(c.items))
}

// BetaForKL returns the β at which the optimum π*_β has the given mean KL to π_ref
// (α = 0): KL(π*_β‖π_ref) decreases monotonically in β, so bisection on log β in
// [1e-6, 1e6] finds it to a relative precision of 1e-12. A target above the largest
// reachable KL (β → 0, all mass on the best responses) is an error.
func BetaForKL(c *Candidate, t Table, target float64) (float64, error) {
	if !(target > 0) {
		return 0, fmt.Errorf("target KL must be positive, got %v", target)
	}
	lo, hi := num.Log(1e-6), num.Log(1e6)
	if max := OptimumKL(c, t, num.Exp(lo), 0); max < target {
		return 0, fmt.Errorf("target KL %.4g nats is out of reach: the greedy policy has KL %.4g; choose a smaller target", target, max)
	}
	for i := 0; i < 200 && hi-lo > 1e-12; i++ {
		mid := float64((lo + hi) / 2)
		if OptimumKL(c, t, num.Exp(mid), 0) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return num.Exp(float64((lo + hi) / 2)), nil
}

// ExactConfig configures the exact solver.
type ExactConfig struct {
	Beta      float64 // β. Default 0.1.
	TargetKL  float64 // > 0: choose β so that KL(π*‖π_ref) equals it (BetaForKL).
	Diversity float64 // entropy bonus α. Default 0.
	Seed      uint64  // seeds the samples drawn for distinct-n and the estimators.
	Samples   int     // samples per prompt drawn for the sampled metrics. Default 4.
}

// Config returns the settings as a snapshot config map.
func (c ExactConfig) Config() map[string]any {
	return map[string]any{"algo": "exact", "beta": c.Beta, "target_kl": c.TargetKL, "diversity": c.Diversity, "samples": c.Samples}
}

// SolveExact sets the candidate policy to the closed-form optimum π* and records
// one step of metrics (exact KL, rewards, entropy; sampled estimators and distinct-n
// from Samples draws per prompt).
func SolveExact(c *Candidate, env Env, cfg ExactConfig) (*Result, error) {
	if cfg.Beta == 0 {
		cfg.Beta = 0.1
	}
	if cfg.Samples == 0 {
		cfg.Samples = 4
	}
	if !(cfg.Beta > 0) || cfg.TargetKL < 0 || cfg.Diversity < 0 || cfg.Samples < 1 {
		return nil, fmt.Errorf("exact: beta must be positive, target KL and diversity ≥ 0, samples ≥ 1")
	}
	sc, err := newScorer(c.items, env)
	if err != nil {
		return nil, fmt.Errorf("exact: %w", err)
	}
	if cfg.TargetKL > 0 {
		if cfg.Beta, err = BetaForKL(c, sc.proxy, cfg.TargetKL); err != nil {
			return nil, fmt.Errorf("exact: %w", err)
		}
	}
	SetOptimum(c, sc.proxy, cfg.Beta, cfg.Diversity)
	res := &Result{Steps: 1}
	rec := newRecorder(c, sc, 1)
	m := sampledMetrics(c, rec, cfg.Seed, cfg.Samples, cfg.Beta)
	res.Final = m
	finish(res, rec, "exact", "optimize", cfg.Seed, cfg.Config())
	closedForm(res)
	return res, nil
}
