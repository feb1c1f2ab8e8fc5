package policy

import (
	"fmt"
	"sort"

	"prefer/core/num"
	"prefer/core/rng"
)

// BoNKL returns the KL of best-of-N sampling to the base policy for continuous
// rewards without ties (Stiennon et al. 2020; Beirami et al. 2024, who show it is an
// upper bound in general):
//
//	KL(π_BoN ‖ π_ref) = log N − (N−1)/N
func BoNKL(n int) float64 {
	return num.Log(float64(n)) - float64(n-1)/float64(n)
}

// powi returns x**n for n ≥ 0 by repeated squaring (exact to rounding on every
// platform, unlike math.Pow's platform paths).
func powi(x float64, n int) float64 {
	out := 1.0
	for n > 0 {
		if n&1 == 1 {
			out = float64(out * x)
		}
		x = float64(x * x)
		n >>= 1
	}
	return out
}

// BestOfNProbs writes the exact distribution of best-of-n sampling over discrete
// outcomes into dst and returns it: draw n outcomes from ref, keep the one with the
// highest reward r. Outcomes with equal reward form one level; with F(ℓ) the ref
// mass of the levels up to ℓ in increasing reward,
//
//	P(level ℓ) = F(ℓ)^n − F(ℓ−1)^n
//
// shared within a level in proportion to ref (a tie is broken by the order of the
// draws, which is exchangeable). For continuous rewards its KL is BoNKL(n); for
// discrete ones it is smaller (Beirami et al. 2024).
func BestOfNProbs(dst, ref, r []float64, n int) []float64 {
	if len(dst) != len(ref) || len(r) != len(ref) {
		panic("policy: BestOfNProbs length mismatch")
	}
	if n < 1 {
		panic("policy: BestOfNProbs needs n ≥ 1")
	}
	if n == 1 { // best of one is the reference itself, exactly (its KL is 0, not ±1e-17)
		var total float64
		for _, q := range ref {
			total += q
		}
		for i, q := range ref {
			dst[i] = q / total
		}
		return dst
	}
	idx := make([]int, len(ref))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return r[idx[a]] < r[idx[b]] })
	var total float64
	for _, q := range ref {
		total += q
	}
	var prev float64 // F(ℓ−1)
	for lo := 0; lo < len(idx); {
		hi := lo
		var mass float64
		for hi < len(idx) && r[idx[hi]] == r[idx[lo]] {
			mass += ref[idx[hi]]
			hi++
		}
		cur := prev + mass/total
		if hi == len(idx) {
			cur = 1
		}
		pl := powi(cur, n) - powi(prev, n)
		for _, i := range idx[lo:hi] {
			if mass > 0 {
				dst[i] = float64(pl*ref[i]) / mass
			} else {
				dst[i] = 0
			}
		}
		prev = cur
		lo = hi
	}
	return dst
}

// BoNConfig configures best-of-N on the candidate policy.
type BoNConfig struct {
	N       int    // samples per prompt. Default DefaultN (4).
	Seed    uint64 // seeds the samples drawn for the sampled metrics
	Samples int    // samples per prompt for distinct-n and the estimators. Default 4.
}

// Config returns the settings as a snapshot config map.
func (c BoNConfig) Config() map[string]any {
	return map[string]any{"algo": "bon", "n": c.N, "samples": c.Samples}
}

// SolveBestOfN sets the candidate policy to the exact best-of-N distribution of
// π_ref under the proxy reward (BestOfNProbs) and records one step of metrics. The
// run's summary holds the exact KL ("kl") and the formula's ("kl_formula",
// BoNKL).
func SolveBestOfN(c *Candidate, env Env, cfg BoNConfig) (*Result, error) {
	if cfg.N == 0 {
		cfg.N = DefaultN
	}
	if cfg.Samples == 0 {
		cfg.Samples = 4
	}
	if cfg.N < 1 || cfg.Samples < 1 {
		return nil, fmt.Errorf("bon: N and samples must be ≥ 1, got N = %d", cfg.N)
	}
	sc, err := newScorer(c.items, env)
	if err != nil {
		return nil, fmt.Errorf("bon: %w", err)
	}
	for p := range c.items {
		k := c.N(p)
		ref := c.RefProbs(make([]float64, k), p)
		c.SetProbs(p, BestOfNProbs(make([]float64, k), ref, sc.proxy.Row(p), cfg.N))
	}
	rec := newRecorder(c, sc, 1)
	res := &Result{Steps: 1}
	res.Final = sampledMetrics(c, rec, cfg.Seed, cfg.Samples, Unknown)
	finish(res, rec, "bon", "optimize", cfg.Seed, cfg.Config())
	closedForm(res)
	res.Run.Summary["n"] = float64(cfg.N)
	res.Run.Summary["kl_formula"] = BoNKL(cfg.N)
	return res, nil
}

// BestOfN draws n responses to each prompt in prompts from p and appends the one
// with the highest reward (the first drawn among equals) to dst: best-of-N sampling
// for any policy, the generative one included.
func BestOfN(dst []Sample, p Policy, reward Reward, r *rng.RNG, prompts []int, n int) []Sample {
	if n < 1 {
		panic("policy: BestOfN needs n ≥ 1")
	}
	items := p.Items()
	var buf []Sample
	for _, q := range prompts {
		buf = p.Sample(buf[:0], r, q, n)
		best, bestR := 0, reward(&items[q], buf[0].Text)
		for i := 1; i < len(buf); i++ {
			if v := reward(&items[q], buf[i].Text); v > bestR {
				best, bestR = i, v
			}
		}
		dst = append(dst, buf[best])
	}
	return dst
}

// sampledMetrics draws samples per prompt from the (now fixed) policy and records
// one step of metrics with them.
func sampledMetrics(p Policy, rec *recorder, seed uint64, samples int, beta float64) Metrics {
	r := rng.New(seed).Split("sample")
	var ss []Sample
	for q := range p.Items() {
		ss = p.Sample(ss, r, q, samples)
	}
	n := Actions(ss)
	logp, ref := make([]float64, n), make([]float64, n)
	p.LogProbs(logp, ss)
	p.RefLogProbs(ref, ss)
	m := Metrics{Step: 1, Loss: Unknown, ValueLoss: Unknown, ClipFrac: Unknown, Accuracy: Unknown, Margin: Unknown}
	rec.measure(&m, ss, logp, ref, nil, beta)
	return m
}
