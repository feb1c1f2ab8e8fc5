package policy

import (
	"fmt"
	"math"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// CandidateConfig sets the optimizer of a candidate policy. The zero value is
// Adam with the usual constants.
type CandidateConfig struct {
	// Beta1 and Beta2 are Adam's moment decays (Kingma & Ba 2015). Defaults 0.9
	// and 0.999, the paper's.
	Beta1, Beta2 float64
	// Eps is Adam's denominator constant. Default 1e-8 (the paper's).
	Eps float64
	// SGD replaces Adam by plain gradient descent θ ← θ − lr·g.
	SGD bool
}

func (c CandidateConfig) withDefaults() CandidateConfig {
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

// Candidate is the candidate policy: for each item (prompt) x a softmax over the
// item's given candidate responses,
//
//	π_θ(k|x) = exp(θ_{x,k}) / Σ_j exp(θ_{x,j})
//
// initialized at π_ref, so its KL to π_ref, its entropy and its expected rewards are
// exact and the optimum of the KL-penalized objective has a closed form (Optimum).
// It implements Policy, Valued (a value V(x) per prompt: the critic of a one-step
// episode) and Exact.
//
// π_ref(·|x) is the items' recorded RefProb, normalized, when every response of the
// item has RefProb > 0; otherwise uniform.
//
// Parameters are flat: the logits of item p occupy [Off[p], Off[p+1]).
type Candidate struct {
	items  []feedback.Item
	Off    []int     // (P+1) offsets of each item's candidates in the flat arrays
	Logits []float64 // (K) θ, K = Off[P]
	RefLog []float64 // (K) log π_ref
	Value  []float64 // (P) V(x), the critic

	cfg     CandidateConfig
	grad    []float64 // (K)
	vgrad   []float64 // (P)
	m, v    []float64 // (K+P) Adam moments over logits then values
	b1t     float64   // β1^t
	b2t     float64   // β2^t
	refP    []float64 // (K) π_ref = exp(RefLog), cached
	probs   []float64 // (K) cached π_θ
	logZ    []float64 // (P) cached log Σ exp θ
	fresh   []uint64  // (P) version at which probs/logZ of item p were computed
	version uint64
}

// NewCandidate returns the candidate policy over items, at π = π_ref. Every item
// needs at least one response.
func NewCandidate(items []feedback.Item, cfg CandidateConfig) (*Candidate, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("candidate policy: no items; import or generate a dataset first")
	}
	c := &Candidate{items: items, cfg: cfg.withDefaults(), Off: make([]int, len(items)+1)}
	for p := range items {
		n := len(items[p].Responses)
		if n == 0 {
			return nil, fmt.Errorf("candidate policy: item %q has no responses; add responses or drop the item", items[p].ID)
		}
		c.Off[p+1] = c.Off[p] + n
	}
	k := c.Off[len(items)]
	c.Logits = make([]float64, k)
	c.RefLog = make([]float64, k)
	c.Value = make([]float64, len(items))
	c.grad = make([]float64, k)
	c.vgrad = make([]float64, len(items))
	c.m = make([]float64, k+len(items))
	c.v = make([]float64, k+len(items))
	c.b1t, c.b2t = 1, 1
	c.probs = make([]float64, k)
	c.logZ = make([]float64, len(items))
	c.fresh = make([]uint64, len(items))
	c.version = 1
	for p := range items {
		rs := items[p].Responses
		known := true
		var total float64
		for _, r := range rs {
			if !(r.RefProb > 0) || math.IsInf(r.RefProb, 0) {
				known = false
			}
			total += r.RefProb
		}
		for j, r := range rs {
			lp := -num.Log(float64(len(rs)))
			if known {
				lp = num.Log(r.RefProb / total)
			}
			c.RefLog[c.Off[p]+j] = lp
			c.Logits[c.Off[p]+j] = lp
		}
	}
	c.refreshRef()
	return c, nil
}

// refreshRef recomputes the cached π_ref from RefLog.
func (c *Candidate) refreshRef() {
	if c.refP == nil {
		c.refP = make([]float64, len(c.RefLog))
	}
	for j, l := range c.RefLog {
		c.refP[j] = num.Exp(l)
	}
}

// Items returns the items the policy answers.
func (c *Candidate) Items() []feedback.Item { return c.items }

// N returns the number of candidates of prompt p.
func (c *Candidate) N(p int) int { return c.Off[p+1] - c.Off[p] }

// refresh recomputes the cached probabilities of item p if the logits changed.
func (c *Candidate) refresh(p int) {
	if c.fresh[p] == c.version {
		return
	}
	lo, hi := c.Off[p], c.Off[p+1]
	th, pr := c.Logits[lo:hi], c.probs[lo:hi]
	m := th[0]
	for _, t := range th[1:] {
		if t > m {
			m = t
		}
	}
	var s float64
	for j, t := range th {
		pr[j] = num.Exp(t - m)
		s += pr[j]
	}
	for j := range pr {
		pr[j] /= s
	}
	c.logZ[p] = m + num.Log(s)
	c.fresh[p] = c.version
}

// Invalidate must be called after the logits were changed directly (not through
// Step), so cached probabilities are recomputed.
func (c *Candidate) Invalidate() { c.version++ }

// Probs writes π_θ(·|x_p) into dst and returns it.
func (c *Candidate) Probs(dst []float64, p int) []float64 {
	if len(dst) != c.N(p) {
		panic("policy: Candidate.Probs length mismatch")
	}
	c.refresh(p)
	copy(dst, c.probs[c.Off[p]:c.Off[p+1]])
	return dst
}

// RefProbs writes π_ref(·|x_p) into dst and returns it.
func (c *Candidate) RefProbs(dst []float64, p int) []float64 {
	if len(dst) != c.N(p) {
		panic("policy: Candidate.RefProbs length mismatch")
	}
	copy(dst, c.refP[c.Off[p]:c.Off[p+1]])
	return dst
}

// SetProbs sets π_θ(·|x_p) to probs (which must be positive where π_ref is, and
// sum to 1); a zero probability becomes a logit of −745 (exp underflows to 0).
func (c *Candidate) SetProbs(p int, probs []float64) {
	if len(probs) != c.N(p) {
		panic("policy: Candidate.SetProbs length mismatch")
	}
	for j, q := range probs {
		l := -745.0
		if q > 0 {
			l = num.Log(q)
		}
		c.Logits[c.Off[p]+j] = l
	}
	c.version++
}

// Sample appends n candidate samples of prompt p drawn from π_θ(·|x_p).
func (c *Candidate) Sample(dst []Sample, r *rng.RNG, p, n int) []Sample {
	c.refresh(p)
	pr := c.probs[c.Off[p]:c.Off[p+1]]
	rs := c.items[p].Responses
	for i := 0; i < n; i++ {
		k := r.Categorical(pr)
		dst = append(dst, Sample{Prompt: p, Cand: k, Text: rs[k].Text})
	}
	return dst
}

// Given returns candidate k of prompt p as a sample.
func (c *Candidate) Given(p, k int) Sample {
	return Sample{Prompt: p, Cand: k, Text: c.items[p].Responses[k].Text}
}

func (c *Candidate) check(dst []float64, ss []Sample, what string) {
	if len(dst) != len(ss) {
		panic("policy: Candidate." + what + " length mismatch")
	}
	for i := range ss {
		if ss[i].Tokens != nil || ss[i].Cand < 0 {
			panic("policy: Candidate." + what + " given a generated sample")
		}
	}
}

// LogProbs writes log π_θ(y_i|x_i) = θ_{x,y} − log Σ_j exp θ_{x,j} for each sample.
func (c *Candidate) LogProbs(dst []float64, ss []Sample) {
	c.check(dst, ss, "LogProbs")
	for i := range ss {
		p := ss[i].Prompt
		c.refresh(p)
		dst[i] = c.Logits[c.Off[p]+ss[i].Cand] - c.logZ[p]
	}
}

// RefLogProbs writes log π_ref(y_i|x_i) for each sample.
func (c *Candidate) RefLogProbs(dst []float64, ss []Sample) {
	c.check(dst, ss, "RefLogProbs")
	for i := range ss {
		dst[i] = c.RefLog[c.Off[ss[i].Prompt]+ss[i].Cand]
	}
}

// Backward accumulates ∇_θ Σ_i w_i·log π_θ(y_i|x_i):
//
//	∂ log π(y|x) / ∂θ_{x,j} = 1[j = y] − π(j|x)
func (c *Candidate) Backward(ss []Sample, w []float64) {
	c.check(w, ss, "Backward")
	for i := range ss {
		p := ss[i].Prompt
		c.refresh(p)
		lo, hi := c.Off[p], c.Off[p+1]
		g, pr, wi := c.grad[lo:hi], c.probs[lo:hi], w[i]
		for j := range g {
			g[j] -= float64(wi * pr[j])
		}
		g[ss[i].Cand] += wi
	}
}

// Values writes V(x_i) for each sample (one action per candidate sample).
func (c *Candidate) Values(dst []float64, ss []Sample) {
	c.check(dst, ss, "Values")
	for i := range ss {
		dst[i] = c.Value[ss[i].Prompt]
	}
}

// BackwardValue accumulates ∇ Σ_i g_i·V(x_i).
func (c *Candidate) BackwardValue(ss []Sample, g []float64) {
	c.check(g, ss, "BackwardValue")
	for i := range ss {
		c.vgrad[ss[i].Prompt] += g[i]
	}
}

// Step applies one Adam update (Kingma & Ba 2015, Algorithm 1) to the logits and
// values and clears the gradients:
//
//	m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//	θ ← θ − lr · (m/(1−β1^t)) / (√(v/(1−β2^t)) + ε)
//
// or θ ← θ − lr·g with SGD. Parameters whose gradient is exactly zero and whose
// moments are zero are skipped, so prompts that were not in the batch stay put.
func (c *Candidate) Step(lr float64) {
	k := len(c.Logits)
	if c.cfg.SGD {
		for j, g := range c.grad {
			c.Logits[j] -= float64(lr * g)
			c.grad[j] = 0
		}
		for j, g := range c.vgrad {
			c.Value[j] -= float64(lr * g)
			c.vgrad[j] = 0
		}
		c.version++
		return
	}
	b1, b2, eps := c.cfg.Beta1, c.cfg.Beta2, c.cfg.Eps
	c.b1t = float64(c.b1t * b1)
	c.b2t = float64(c.b2t * b2)
	c1, c2 := 1/(1-c.b1t), 1/(1-c.b2t)
	adam := func(theta, grad []float64, m, v []float64) {
		for j, g := range grad {
			if g == 0 && m[j] == 0 && v[j] == 0 {
				continue
			}
			m[j] = float64(b1*m[j]) + float64((1-b1)*g)
			v[j] = float64(b2*v[j]) + float64(float64((1-b2)*g)*g)
			theta[j] -= float64(lr*float64(m[j]*c1)) / (math.Sqrt(float64(v[j]*c2)) + eps)
			grad[j] = 0
		}
	}
	adam(c.Logits, c.grad, c.m[:k], c.v[:k])
	adam(c.Value, c.vgrad, c.m[k:], c.v[k:])
	c.version++
}

// ResetOptimizer clears the gradients and the Adam state (a fresh optimizer on the
// current parameters).
func (c *Candidate) ResetOptimizer() {
	clear(c.grad)
	clear(c.vgrad)
	clear(c.m)
	clear(c.v)
	c.b1t, c.b2t = 1, 1
}

// Reset returns the policy to π_ref with a zero critic and a fresh optimizer.
func (c *Candidate) Reset() {
	copy(c.Logits, c.RefLog)
	clear(c.Value)
	c.ResetOptimizer()
	c.version++
}

var (
	_ Valued = (*Candidate)(nil)
	_ Exact  = (*Candidate)(nil)
)
