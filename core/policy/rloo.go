package policy

import (
	"fmt"

	"prefer/core/rng"
)

// RLOOConfig configures RLOO. The zero value gives the defaults in the comments.
type RLOOConfig struct {
	KL KLConfig // β, adaptive controller, estimator (default fixed β = 0.1, k1)

	Steps   int // iterations (batches), a cap: the run stops once converged (Tol). Default DefaultSteps.
	Prompts int // prompts per batch; 0 = all prompts.
	Samples int // G, responses per prompt (the leave-one-out group). Default 4 (TRL rloo_k 4 in its examples; Ahmadian et al. 2024 use 2–4).

	// Normalize whitens the advantages over the batch (TRL normalize_advantage,
	// default off).
	Normalize bool

	// LR is the learning rate. Default 0.2, tuned for the candidate policy's Adam
	// on logits (one update per batch, where PPO makes four).
	LR         float64
	ConstantLR bool    // keep LR fixed; by default it decays linearly to 0.
	Diversity  float64 // entropy bonus α (see PPOConfig.Diversity). Default 0.

	// Tol is the convergence tolerance on the candidate policy (see PPOConfig.Tol).
	Tol float64

	Seed     uint64
	Progress Progress
}

func (c RLOOConfig) withDefaults() RLOOConfig {
	c.KL = c.KL.withDefaults()
	if c.Steps == 0 {
		c.Steps = DefaultSteps
	}
	if c.Samples == 0 {
		c.Samples = 4
	}
	if c.LR == 0 {
		c.LR = 0.2
	}
	return c
}

func (c RLOOConfig) validate() error {
	if err := c.KL.validate(); err != nil {
		return err
	}
	switch {
	case c.Steps < 0 || c.Prompts < 0:
		return fmt.Errorf("steps and prompts must be ≥ 0")
	case c.Samples < 2:
		return fmt.Errorf("RLOO needs at least 2 samples per prompt for its leave-one-out baseline, got %d", c.Samples)
	case !(c.LR > 0):
		return fmt.Errorf("learning rate must be positive, got %v", c.LR)
	case c.Diversity < 0:
		return fmt.Errorf("diversity bonus must be ≥ 0, got %v", c.Diversity)
	}
	return nil
}

// Config returns the settings as a snapshot config map (after defaults).
func (c RLOOConfig) Config() map[string]any {
	c = c.withDefaults()
	return map[string]any{
		"algo": "rloo", "beta": c.KL.Beta, "target_kl": c.KL.TargetKL, "horizon": c.KL.Horizon,
		"estimator": string(c.KL.Estimator), "steps": c.Steps, "prompts": c.Prompts, "samples": c.Samples,
		"normalize": c.Normalize, "lr": c.LR, "constant_lr": c.ConstantLR, "diversity": c.Diversity, "tol": effectiveTol(c.Tol),
	}
}

// RLOO optimizes p against env with REINFORCE and the leave-one-out baseline
// (Kool et al. 2019; Ahmadian et al. 2024; TRL RLOOTrainer): for each prompt, G
// samples; the sequence reward with the KL penalty folded in,
//
//	R_i = r(x, y_i) − β·Σ_t k(log π_old,t, log π_ref,t) − α·Σ_t log π_old,t
//
// the advantage against the mean of the other G−1 samples (LeaveOneOut), and one
// gradient step on
//
//	L = −(1/B)·Σ_i A_i·log π_θ(y_i|x_i).
func RLOO(p Policy, env Env, cfg RLOOConfig) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("rloo: %w", err)
	}
	sc, err := newScorer(p.Items(), env)
	if err != nil {
		return nil, fmt.Errorf("rloo: %w", err)
	}
	root := rng.New(cfg.Seed)
	rs, rb := root.Split("sample"), root.Split("batch")
	ctl := NewController(cfg.KL)
	rec := newRecorder(p, sc, cfg.Steps)
	exact, _ := p.(Exact)
	res := &Result{}
	stop := newStopper(res, cfg.Tol, cfg.Steps)
	var (
		prompts           []int
		ss                []Sample
		off               []int
		old, ref, w       []float64
		seqR, adv, scores []float64
	)
	g := cfg.Samples
	for step := 0; step < cfg.Steps; step++ {
		beta := ctl.Beta
		lr := schedule(cfg.LR, step, cfg.Steps, cfg.ConstantLR)
		prompts = choosePrompts(prompts, rb, len(p.Items()), cfg.Prompts)
		ss = ss[:0]
		for _, q := range prompts {
			ss = p.Sample(ss, rs, q, g)
		}
		ns, n := len(ss), Actions(ss)
		off = Offsets(growInt(off, ns+1), ss)
		old, ref, w = grow(old, n), grow(ref, n), grow(w, n)
		seqR, adv, scores = grow(seqR, ns), grow(adv, ns), grow(scores, ns)
		p.LogProbs(old, ss)
		p.RefLogProbs(ref, ss)
		for i := range ss {
			r := sc.score(&ss[i])
			scores[i] = r
			for t := off[i]; t < off[i+1]; t++ {
				r -= float64(beta*KLTerm(cfg.KL.Estimator, old[t], ref[t])) + float64(cfg.Diversity*old[t])
			}
			seqR[i] = r
		}
		for k := 0; k < ns; k += g {
			LeaveOneOut(adv[k:k+g], seqR[k:k+g])
		}
		if cfg.Normalize {
			Whiten(adv)
		}
		var loss float64
		inv := 1 / float64(ns)
		for i := range ss {
			for t := off[i]; t < off[i+1]; t++ {
				w[t] = float64(-adv[i] * inv)
				loss -= float64(float64(adv[i]*old[t]) * inv)
			}
		}
		p.Backward(ss, w)
		p.Step(lr)

		m := Metrics{Step: step + 1, Loss: loss, ValueLoss: Unknown, ClipFrac: Unknown, Skipped: 0, Accuracy: Unknown, Margin: Unknown}
		rec.measure(&m, ss, old, ref, scores, beta)
		ctl.Update(measuredKL(exact, &m), ns)
		res.Final, res.Steps = m, step+1
		done := exact != nil && stop.check(stop.rewardCriterion(exact, sc.proxy, beta, cfg.Diversity))
		if cfg.Progress != nil && !cfg.Progress(step+1, m) {
			res.Canceled = true
			break
		}
		if done {
			break
		}
	}
	finish(res, rec, "rloo", "optimize", cfg.Seed, cfg.Config())
	stop.record(res)
	return res, nil
}
