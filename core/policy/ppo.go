package policy

import (
	"fmt"
	"math"

	"prefer/core/num"
	"prefer/core/rng"
)

// PPOConfig configures PPO. The zero value gives the defaults in the comments
// (TRL ≤ 0.11 PPOConfig unless said otherwise). The settings whose zero is a
// meaningful value (γ = 0, λ = 0, no value loss) are pointers: nil takes the
// default, new(0.0) sets 0.
type PPOConfig struct {
	KL KLConfig // β, adaptive controller, estimator (default fixed β = 0.1, k1)

	Steps   int // PPO iterations (batches), a cap: the run stops once converged (Tol). Default DefaultSteps.
	Prompts int // prompts per batch; 0 = all prompts.
	Samples int // responses sampled per prompt per batch. Default 4.

	Epochs      int // optimization epochs per batch. Default 4 (TRL ppo_epochs).
	MiniBatches int // mini-batches per epoch (split by samples). Default 1.

	ClipRange      float64  // ε of the clipped ratio. Default 0.2.
	ClipRangeValue float64  // ε_v of the clipped value loss. Default 0.2.
	VFCoef         *float64 // weight of the value loss. Default 0.1; 0 trains no critic.
	Gamma          *float64 // discount γ. Default 1; 0 counts only the next reward.
	Lambda         *float64 // GAE λ. Default 0.95; 0 is the one-step TD advantage.
	NoWhiten       bool     // do not whiten advantages (default: whitened).
	// RatioThreshold skips a mini-batch whose mean ratio π/π_old exceeds it (an
	// exploding batch). Default 10 (TRL ratio_threshold).
	RatioThreshold float64

	// LR is the learning rate. Default 0.1, tuned for the candidate policy's
	// Adam on logits; a language model wants ~1e-5 (TRL 1.41e-5).
	LR         float64
	ConstantLR bool // keep LR fixed; by default it decays linearly to 0 over Steps.

	// Diversity is the entropy bonus α ("controlled diversity"): the objective
	// becomes E[r] − β·KL + α·H(π), folded into the reward as −α·log π per action.
	// Default 0.
	Diversity float64

	// Tol is the convergence tolerance on the candidate policy (converge.go): the
	// run stops once no prompt's π_θ is farther than Tol in total variation from
	// the optimum π*_β. 0 means DefaultTol; negative never stops early. Steps is
	// the cap.
	Tol float64

	Seed     uint64
	Progress Progress // called after each step; false cancels
}

func (c PPOConfig) withDefaults() PPOConfig {
	c.KL = c.KL.withDefaults()
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Steps, DefaultSteps)
	def(&c.Samples, 4)
	def(&c.Epochs, 4)
	def(&c.MiniBatches, 1)
	deff(&c.ClipRange, 0.2)
	deff(&c.ClipRangeValue, 0.2)
	defp := func(v **float64, d float64) {
		if *v == nil {
			*v = &d
		}
	}
	defp(&c.VFCoef, 0.1)
	defp(&c.Gamma, 1)
	defp(&c.Lambda, 0.95)
	deff(&c.RatioThreshold, 10)
	deff(&c.LR, 0.1)
	return c
}

func (c PPOConfig) validate() error {
	if err := c.KL.validate(); err != nil {
		return err
	}
	switch {
	case c.Steps < 0:
		return fmt.Errorf("steps must be positive, got %d", c.Steps)
	case c.Samples < 1 || c.Epochs < 1 || c.MiniBatches < 1 || c.Prompts < 0:
		return fmt.Errorf("samples, epochs and mini-batches must be ≥ 1 and prompts ≥ 0")
	case !(c.ClipRange > 0) || !(c.ClipRangeValue > 0):
		return fmt.Errorf("clip ranges must be positive")
	case !(*c.VFCoef >= 0) || !(*c.Gamma >= 0 && *c.Gamma <= 1) || !(*c.Lambda >= 0 && *c.Lambda <= 1):
		return fmt.Errorf("the value-loss weight must be ≥ 0, and γ and λ in [0, 1]")
	case !(c.LR > 0):
		return fmt.Errorf("learning rate must be positive, got %v", c.LR)
	case c.Diversity < 0:
		return fmt.Errorf("diversity bonus must be ≥ 0, got %v", c.Diversity)
	}
	return nil
}

// Config returns the settings as a snapshot config map (after defaults).
func (c PPOConfig) Config() map[string]any {
	c = c.withDefaults()
	return map[string]any{
		"algo": "ppo", "beta": c.KL.Beta, "target_kl": c.KL.TargetKL, "horizon": c.KL.Horizon,
		"estimator": string(c.KL.Estimator), "steps": c.Steps, "prompts": c.Prompts, "samples": c.Samples,
		"epochs": c.Epochs, "mini_batches": c.MiniBatches, "clip_range": c.ClipRange,
		"clip_range_value": c.ClipRangeValue, "vf_coef": *c.VFCoef, "gamma": *c.Gamma, "lambda": *c.Lambda,
		"whiten": !c.NoWhiten, "ratio_threshold": c.RatioThreshold, "lr": c.LR, "constant_lr": c.ConstantLR,
		"diversity": c.Diversity, "tol": c.tol(),
	}
}

// tol returns the effective tolerance (DefaultTol for 0, 0 when off).
func (c PPOConfig) tol() float64 { return effectiveTol(c.Tol) }

// effectiveTol is a config's tolerance after its default: DefaultTol for 0, 0 for
// "never stop early".
func effectiveTol(t float64) float64 {
	switch {
	case t == 0:
		return DefaultTol
	case t < 0:
		return 0
	}
	return t
}

// ppoBuffers holds the per-batch arrays so a step allocates nothing once warm.
type ppoBuffers struct {
	prompts                      []int
	ss, mb                       []Sample
	off, mbOff, perm             []int
	old, ref, val, rew, adv, ret []float64 // (N) per action of the batch
	scores                       []float64 // (B) per sample
	newLP, w, vNew, g, rho       []float64 // (n) per action of a mini-batch
	mbOld, mbAdv, mbRet, mbVal   []float64
}

// PPO optimizes p against env with Proximal Policy Optimization (Schulman et al.
// 2017) as in RLHF (Ziegler et al. 2019; Ouyang et al. 2022; TRL ≤ 0.11): per batch,
// sample responses, fold the KL penalty into per-action rewards (PenalizedRewards),
// estimate advantages with GAE against the critic, whiten them, and take Epochs
// passes of the clipped surrogate
//
//	L_pg = E_t[ max(−A_t·ρ_t, −A_t·clip(ρ_t, 1−ε, 1+ε)) ],   ρ_t = π_θ(a_t)/π_old(a_t)
//	L_v  = ½·E_t[ max((V_t − R_t)², (clip(V_t, V_old ± ε_v) − R_t)²) ]
//	L    = L_pg + vf_coef·L_v
//
// A mini-batch whose mean ratio exceeds RatioThreshold is skipped. β follows the
// KL controller. p must have a value head (Valued).
func PPO(p Valued, env Env, cfg PPOConfig) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	sc, err := newScorer(p.Items(), env)
	if err != nil {
		return nil, fmt.Errorf("ppo: %w", err)
	}
	root := rng.New(cfg.Seed)
	rs, rb := root.Split("sample"), root.Split("batch")
	ctl := NewController(cfg.KL)
	rec := newRecorder(p, sc, cfg.Steps)
	exact, _ := Policy(p).(Exact)
	res := &Result{}
	stop := newStopper(res, cfg.Tol, cfg.Steps)
	var b ppoBuffers
	nPrompts := len(p.Items())
	for step := 0; step < cfg.Steps; step++ {
		beta := ctl.Beta
		lr := schedule(cfg.LR, step, cfg.Steps, cfg.ConstantLR)
		b.prompts = choosePrompts(b.prompts, rb, nPrompts, cfg.Prompts)
		b.ss = b.ss[:0]
		for _, q := range b.prompts {
			b.ss = p.Sample(b.ss, rs, q, cfg.Samples)
		}
		ns := len(b.ss)
		n := Actions(b.ss)
		b.off = Offsets(growInt(b.off, ns+1), b.ss)
		b.old, b.ref, b.val = grow(b.old, n), grow(b.ref, n), grow(b.val, n)
		b.rew, b.adv, b.ret = grow(b.rew, n), grow(b.adv, n), grow(b.ret, n)
		b.scores = grow(b.scores, ns)
		p.LogProbs(b.old, b.ss)
		p.RefLogProbs(b.ref, b.ss)
		p.Values(b.val, b.ss)
		for i := range b.ss {
			b.scores[i] = sc.score(&b.ss[i])
		}
		PenalizedRewards(b.rew, b.old, b.ref, b.off, b.scores, beta, cfg.Diversity, cfg.KL.Estimator)
		GAE(b.adv, b.ret, b.rew, b.val, b.off, *cfg.Gamma, *cfg.Lambda)
		if !cfg.NoWhiten {
			Whiten(b.adv)
		}

		var m Metrics
		var pgSum, vSum, clipN, tokN float64
		var mbs, skipped int
		b.perm = growInt(b.perm, ns)
		for i := range b.perm {
			b.perm[i] = i
		}
		for epoch := 0; epoch < cfg.Epochs; epoch++ {
			perm := b.perm
			rb.Shuffle(ns, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			for k := 0; k < cfg.MiniBatches; k++ {
				lo, hi := k*ns/cfg.MiniBatches, (k+1)*ns/cfg.MiniBatches
				if lo == hi {
					continue
				}
				b.gather(b.perm[lo:hi])
				mbs++
				pg, vl, clipped, skip := ppoMiniBatch(p, &b, cfg)
				if skip {
					skipped++
					continue
				}
				pgSum += pg
				vSum += vl
				clipN += clipped
				tokN += float64(len(b.newLP))
				p.Step(lr)
			}
		}
		done := mbs - skipped
		m.Loss, m.ValueLoss, m.ClipFrac = Unknown, Unknown, Unknown
		if done > 0 {
			m.Loss, m.ValueLoss = pgSum/float64(done), vSum/float64(done)
			m.ClipFrac = clipN / tokN
		}
		m.Skipped = float64(skipped) / float64(max(mbs, 1))
		m.Accuracy, m.Margin = Unknown, Unknown
		m.Step = step + 1
		rec.measure(&m, b.ss, b.old, b.ref, b.scores, beta)
		ctl.Update(measuredKL(exact, &m), ns)
		res.Final, res.Steps = m, step+1
		converged := exact != nil && stop.check(stop.rewardCriterion(exact, sc.proxy, beta, cfg.Diversity))
		if cfg.Progress != nil && !cfg.Progress(step+1, m) {
			res.Canceled = true
			break
		}
		if converged {
			break
		}
	}
	finish(res, rec, "ppo", "optimize", cfg.Seed, cfg.Config())
	stop.record(res)
	return res, nil
}

// measuredKL is the KL the adaptive controller sees: exact for an Exact policy,
// else the k1 estimate of the batch (as TRL).
func measuredKL(exact Exact, m *Metrics) float64 {
	if exact != nil && !math.IsNaN(m.KL) {
		return m.KL
	}
	return m.KLk1
}

// gather copies the samples idx of the batch and their per-action arrays into the
// mini-batch buffers.
func (b *ppoBuffers) gather(idx []int) {
	b.mb = b.mb[:0]
	n := 0
	for _, i := range idx {
		b.mb = append(b.mb, b.ss[i])
		n += b.ss[i].Len()
	}
	b.mbOff = growInt(b.mbOff, len(b.mb)+1)
	Offsets(b.mbOff, b.mb)
	b.mbOld, b.mbAdv, b.mbRet, b.mbVal = grow(b.mbOld, n), grow(b.mbAdv, n), grow(b.mbRet, n), grow(b.mbVal, n)
	b.newLP, b.w, b.vNew, b.g, b.rho = grow(b.newLP, n), grow(b.w, n), grow(b.vNew, n), grow(b.g, n), grow(b.rho, n)
	t := 0
	for _, i := range idx {
		lo, hi := b.off[i], b.off[i+1]
		copy(b.mbOld[t:], b.old[lo:hi])
		copy(b.mbAdv[t:], b.adv[lo:hi])
		copy(b.mbRet[t:], b.ret[lo:hi])
		copy(b.mbVal[t:], b.val[lo:hi])
		t += hi - lo
	}
}

// ppoMiniBatch computes the clipped losses of the gathered mini-batch and
// accumulates their gradients. It returns the policy loss, the value loss, the
// number of clipped actions, and whether the mini-batch was skipped as exploding.
func ppoMiniBatch(p Valued, b *ppoBuffers, cfg PPOConfig) (pgLoss, vLoss, clipped float64, skip bool) {
	n := len(b.newLP)
	p.LogProbs(b.newLP, b.mb)
	var ratioSum float64
	for t := 0; t < n; t++ {
		b.rho[t] = num.Exp(b.newLP[t] - b.mbOld[t])
		ratioSum += b.rho[t]
	}
	if ratioSum/float64(n) > cfg.RatioThreshold {
		return 0, 0, 0, true
	}
	eps, inv := cfg.ClipRange, 1/float64(n)
	for t := 0; t < n; t++ {
		rho := b.rho[t]
		a := b.mbAdv[t]
		l1 := float64(-a * rho)
		rc := math.Min(math.Max(rho, 1-eps), 1+eps)
		l2 := float64(-a * rc)
		if l1 >= l2 {
			pgLoss += l1
			b.w[t] = float64(float64(-a*rho) * inv) // ∂(−A·ρ)/∂log π = −A·ρ
		} else {
			pgLoss += l2
			b.w[t] = 0
		}
		if rc != rho {
			clipped++
		}
	}
	pgLoss = float64(pgLoss * inv)
	p.Backward(b.mb, b.w)

	p.Values(b.vNew, b.mb)
	ev := cfg.ClipRangeValue
	for t := 0; t < n; t++ {
		v, r, vo := b.vNew[t], b.mbRet[t], b.mbVal[t]
		vc := vo + math.Min(math.Max(v-vo, -ev), ev)
		l1, l2 := float64((v-r)*(v-r)), float64((vc-r)*(vc-r))
		if l1 >= l2 {
			vLoss += float64(0.5 * l1)
			b.g[t] = float64(float64(*cfg.VFCoef*(v-r)) * inv)
		} else {
			vLoss += float64(0.5 * l2)
			b.g[t] = 0 // the clipped branch is constant in V
		}
	}
	vLoss = float64(vLoss * inv)
	p.BackwardValue(b.mb, b.g)
	return pgLoss, vLoss, clipped, false
}
