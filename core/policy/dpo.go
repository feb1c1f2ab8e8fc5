package policy

import (
	"fmt"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// Pref is one preference over two given responses of a prompt: Winner ≻ Loser
// (indices into the prompt item's Responses).
type Pref struct {
	Prompt, Winner, Loser int
}

// Prefs converts comparison pairs (feedback.Pairs) into preferences over the items:
// ties, pairs of an item not in items and pairs naming a response the item does not
// have are dropped and counted.
func Prefs(items []feedback.Item, pairs []feedback.Pair) (out []Pref, dropped int) {
	index := make(map[string]int, len(items))
	for i := range items {
		index[items[i].ID] = i
	}
	for _, pr := range pairs {
		p, ok := index[pr.Item]
		if !ok || pr.Tie {
			dropped++
			continue
		}
		w, l := items[p].ResponseIndex(pr.Winner), items[p].ResponseIndex(pr.Loser)
		if w < 0 || l < 0 || w == l {
			dropped++
			continue
		}
		out = append(out, Pref{Prompt: p, Winner: w, Loser: l})
	}
	return out, dropped
}

// DPO loss kinds.
const (
	LossSigmoid = "sigmoid" // DPO (Rafailov et al. 2023)
	LossIPO     = "ipo"     // IPO (Azar et al. 2023)
)

// DPOConfig configures DPO and IPO. The zero value gives the defaults in the
// comments.
type DPOConfig struct {
	Beta float64 // β. Default 0.1 (TRL DPOConfig).
	Loss string  // "sigmoid" (DPO, default) or "ipo".

	Steps int // gradient steps, a cap: the run stops once converged (Tol). Default DefaultDPOSteps.
	Batch int // preference pairs per step; 0 = all pairs (full batch).

	// LabelSmoothing is the ε of conservative DPO (DPOLossSmoothed): nil chooses 0
	// when every prompt's preferences have a finite minimizer and
	// DefaultLabelSmoothing when some are separated (Separated); new(0.0) forces
	// plain DPO, whose result on separated preferences is then set by the step
	// count (the run says so and does not converge). IPO ignores it.
	LabelSmoothing *float64
	// Tol is the convergence tolerance on the candidate policy (converge.go): the
	// run stops once every pair's implied probability σ(β·Δ) is within Tol of its
	// value at the loss's minimizer. 0 means DefaultTol; negative never stops early.
	Tol float64

	LR         float64 // learning rate. Default 0.1 (candidate policy, Adam on logits).
	ConstantLR bool    // keep LR fixed; by default it decays linearly to 0.
	Samples    int     // samples per prompt drawn each step for the sampled metrics. Default 1.

	Seed     uint64
	Progress Progress
}

func (c DPOConfig) withDefaults() DPOConfig {
	if c.Beta == 0 {
		c.Beta = 0.1
	}
	if c.Loss == "" {
		c.Loss = LossSigmoid
	}
	if c.Steps == 0 {
		c.Steps = DefaultDPOSteps
	}
	if c.LR == 0 {
		c.LR = 0.1
	}
	if c.Samples == 0 {
		c.Samples = 1
	}
	return c
}

// Config returns the settings as a snapshot config map (after defaults).
func (c DPOConfig) Config() map[string]any {
	c = c.withDefaults()
	algo := "dpo"
	if c.Loss == LossIPO {
		algo = "ipo"
	}
	return map[string]any{"algo": algo, "beta": c.Beta, "loss": c.Loss, "steps": c.Steps, "batch": c.Batch,
		"lr": c.LR, "constant_lr": c.ConstantLR, "samples": c.Samples, "tol": effectiveTol(c.Tol)}
}

// DPOLoss returns the loss of one preference pair and its derivative in Δ, where
//
//	Δ = (log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))
//
// DPO (Rafailov et al. 2023, eq. 7):  L = −log σ(β·Δ),      ∂L/∂Δ = −β·σ(−β·Δ)
// IPO (Azar et al. 2023, eq. 17):     L = (Δ − 1/(2β))²,    ∂L/∂Δ = 2·(Δ − 1/(2β))
func DPOLoss(kind string, delta, beta float64) (loss, dDelta float64) {
	return DPOLossSmoothed(kind, delta, beta, 0)
}

// DPOLossSmoothed is DPOLoss with the label smoothing ε of conservative DPO (Mitchell
// 2023; TRL's label_smoothing), which takes each preference as right with
// probability 1 − ε:
//
//	L = −(1−ε)·log σ(β·Δ) − ε·log σ(−β·Δ),   ∂L/∂Δ = β·(σ(β·Δ) − (1−ε))
//
// Its minimizer on a pair never contradicted is β·Δ = log((1−ε)/ε), finite for
// ε > 0. IPO ignores ε.
func DPOLossSmoothed(kind string, delta, beta, eps float64) (loss, dDelta float64) {
	if kind == LossIPO {
		d := delta - 1/float64(2*beta)
		return float64(d * d), float64(2 * d)
	}
	if eps == 0 {
		return num.Softplus(float64(-beta * delta)), float64(-beta * num.Sigmoid(float64(-beta*delta)))
	}
	loss = float64((1-eps)*num.Softplus(float64(-beta*delta))) + float64(eps*num.Softplus(float64(beta*delta)))
	return loss, float64(beta * (num.Sigmoid(float64(beta*delta)) - (1 - eps)))
}

// DPO trains p directly on preference pairs, without a reward model, by minimizing
// the mean DPO or IPO loss (DPOLoss) over mini-batches of pairs. The implicit reward
// of a response is β·log(π(y|x)/π_ref(y|x)) (ImplicitReward); Accuracy and Margin
// report it on each step's pairs. env is optional: its Proxy and Gold, when set,
// are measured each step, not optimized.
func DPO(p Policy, prefs []Pref, env Env, cfg DPOConfig) (*Result, error) {
	cfg = cfg.withDefaults()
	switch {
	case cfg.Loss != LossSigmoid && cfg.Loss != LossIPO:
		return nil, fmt.Errorf("dpo: unknown loss %q: use sigmoid (DPO) or ipo", cfg.Loss)
	case !(cfg.Beta > 0) || !(cfg.LR > 0) || cfg.Steps < 0 || cfg.Batch < 0 || cfg.Samples < 1:
		return nil, fmt.Errorf("dpo: beta and learning rate must be positive, steps and batch ≥ 0, samples ≥ 1")
	case len(prefs) == 0:
		return nil, fmt.Errorf("dpo: no preference pairs; DPO needs decided comparisons (label some pairs or import a preference dataset)")
	}
	items := p.Items()
	for _, pr := range prefs {
		if pr.Prompt < 0 || pr.Prompt >= len(items) || pr.Winner < 0 || pr.Loser < 0 ||
			pr.Winner >= len(items[pr.Prompt].Responses) || pr.Loser >= len(items[pr.Prompt].Responses) {
			return nil, fmt.Errorf("dpo: preference %+v is out of range of the items", pr)
		}
	}
	// Separation: where a response never loses or never wins, plain DPO has no
	// minimizer (converge.go); conservative DPO's label smoothing gives it one.
	separated := Separated(prefs, len(items))
	eps := 0.0
	switch {
	case cfg.LabelSmoothing != nil:
		eps = *cfg.LabelSmoothing
	case cfg.Loss == LossSigmoid && len(separated) > 0:
		eps = DefaultLabelSmoothing
	}
	if !(eps >= 0 && eps < 0.5) {
		return nil, fmt.Errorf("dpo: label smoothing must be in [0, 0.5), got %v", eps)
	}
	if cfg.Loss == LossIPO {
		eps = 0
	}
	exact, _ := p.(Exact)
	var opt []float64
	hasOpt := false
	if exact != nil {
		opt, hasOpt = PrefOptimum(prefs, len(items), cfg.Beta, cfg.Loss, eps)
	}
	if env.Proxy == nil {
		env.Proxy = func(*feedback.Item, string) float64 { return Unknown }
	}
	sc, err := newScorerUnchecked(items, env)
	if err != nil {
		return nil, fmt.Errorf("dpo: %w", err)
	}
	root := rng.New(cfg.Seed)
	rs, rb := root.Split("sample"), root.Split("batch")
	rec := newRecorder(p, sc, cfg.Steps)
	res := &Result{}
	stop := newStopper(res, cfg.Tol, cfg.Steps)

	// Every pair as two samples (winner, loser) with their reference log-probs.
	all := make([]Sample, 0, 2*len(prefs))
	for _, pr := range prefs {
		all = append(all, p.Given(pr.Prompt, pr.Winner), p.Given(pr.Prompt, pr.Loser))
	}
	allOff := Offsets(make([]int, len(all)+1), all)
	allRef := make([]float64, allOff[len(all)])
	p.RefLogProbs(allRef, all)
	refSeq := make([]float64, len(all))
	for i := range all {
		for t := allOff[i]; t < allOff[i+1]; t++ {
			refSeq[i] += allRef[t]
		}
	}

	batch := cfg.Batch
	if batch == 0 || batch > len(prefs) {
		batch = len(prefs)
	}
	var (
		idx        = make([]int, len(prefs))
		mb         []Sample
		mbRef      []float64
		off        []int
		lp, w      []float64
		ss         []Sample
		sLP, sRef  []float64
		nextInPerm = len(prefs)
	)
	for i := range idx {
		idx[i] = i
	}
	for step := 0; step < cfg.Steps; step++ {
		lr := schedule(cfg.LR, step, cfg.Steps, cfg.ConstantLR)
		// Mini-batches walk through a fresh permutation each epoch.
		mb, mbRef = mb[:0], mbRef[:0]
		for len(mb) < 2*batch {
			if nextInPerm == len(prefs) {
				if batch < len(prefs) {
					rb.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
				}
				nextInPerm = 0
			}
			k := idx[nextInPerm]
			nextInPerm++
			mb = append(mb, all[2*k], all[2*k+1])
			mbRef = append(mbRef, refSeq[2*k], refSeq[2*k+1])
		}
		n := Actions(mb)
		off = Offsets(growInt(off, len(mb)+1), mb)
		lp, w = grow(lp, n), grow(w, n)
		p.LogProbs(lp, mb)
		var loss, acc, margin float64
		inv := 1 / float64(batch)
		for k := 0; k < batch; k++ {
			var lw, ll float64
			for t := off[2*k]; t < off[2*k+1]; t++ {
				lw += lp[t]
			}
			for t := off[2*k+1]; t < off[2*k+2]; t++ {
				ll += lp[t]
			}
			delta := (lw - mbRef[2*k]) - (ll - mbRef[2*k+1])
			l, d := DPOLossSmoothed(cfg.Loss, delta, cfg.Beta, eps)
			loss += float64(l * inv)
			margin += float64(float64(cfg.Beta*delta) * inv)
			if delta > 0 {
				acc += inv
			}
			for t := off[2*k]; t < off[2*k+1]; t++ {
				w[t] = float64(d * inv)
			}
			for t := off[2*k+1]; t < off[2*k+2]; t++ {
				w[t] = float64(-d * inv)
			}
		}
		p.Backward(mb, w)
		p.Step(lr)

		ss = ss[:0]
		for q := range items {
			ss = p.Sample(ss, rs, q, cfg.Samples)
		}
		ns := Actions(ss)
		sLP, sRef = grow(sLP, ns), grow(sRef, ns)
		p.LogProbs(sLP, ss)
		p.RefLogProbs(sRef, ss)
		m := Metrics{Step: step + 1, Loss: loss, ValueLoss: Unknown, ClipFrac: Unknown, Accuracy: acc, Margin: margin}
		rec.measure(&m, ss, sLP, sRef, nil, cfg.Beta)
		res.Final, res.Steps = m, step+1
		converged := hasOpt && stop.check(prefCriterion(exact, prefs, opt, cfg.Beta))
		if cfg.Progress != nil && !cfg.Progress(step+1, m) {
			res.Canceled = true
			break
		}
		if converged {
			break
		}
	}
	finish(res, rec, cfg.Config()["algo"].(string), "optimize", cfg.Seed, cfg.Config())
	stop.record(res)
	res.Run.Config["label_smoothing"] = eps
	res.Run.Summary["separated_prompts"] = float64(len(separated))
	if n := len(separated); n > 0 {
		ex := items[separated[0]].ID
		switch {
		case cfg.Loss == LossIPO:
			res.Run.Notes = append(res.Run.Notes, fmt.Sprintf("%d of %d prompts have separated preferences (a response that never loses or never wins, e.g. item %s); IPO's squared loss has a finite minimizer all the same (Azar et al. 2023).", n, len(items), ex))
		case eps > 0 && cfg.LabelSmoothing == nil:
			res.Run.Notes = append(res.Run.Notes, fmt.Sprintf("%d of %d prompts have separated preferences (a response that never loses or never wins, e.g. item %s): plain DPO has no minimizer there and its result would be set by the step count, so this run used conservative DPO with label smoothing ε = %g (Mitchell 2023): each preference counts as right with probability %g, and a pair never contradicted settles at the margin β·Δ = log((1−ε)/ε) = %.2f.", n, len(items), ex, eps, 1-eps, num.Log((1-eps)/eps)))
		case eps == 0:
			res.Run.Notes = append(res.Run.Notes, fmt.Sprintf("%d of %d prompts have separated preferences (e.g. item %s) and label smoothing is 0: plain DPO has no minimizer there, so where this run ended is set by its step count, not by the data; leave label smoothing unset to use conservative DPO.", n, len(items), ex))
		}
	}
	res.Run.Summary["loss"] = res.Final.Loss
	res.Run.Summary["accuracy"] = res.Final.Accuracy
	res.Run.Summary["margin"] = res.Final.Margin
	res.Run.Summary["pairs"] = float64(len(prefs))
	return res, nil
}

// ImplicitRewards returns the implicit reward of every candidate of an Exact policy
// (Rafailov et al. 2023 §5):
//
//	r̂(x, y) = β·log(π(y|x) / π_ref(y|x))
//
// defined up to a per-prompt constant, as a Table over the policy's items.
func ImplicitRewards(p Exact, beta float64) Table {
	items := p.Items()
	t := NewTable(items, nil)
	for q := range items {
		k := len(items[q].Responses)
		pr := p.Probs(make([]float64, k), q)
		ref := p.RefProbs(make([]float64, k), q)
		row := t.Row(q)
		for j := range row {
			row[j] = float64(beta * (num.Log(pr[j]) - num.Log(ref[j])))
		}
	}
	return t
}
