package lm

import (
	"fmt"

	"prefer/core/feedback"
	"prefer/core/policy"
	"prefer/core/rng"
)

// PolicyConfig sets a generative policy. Zero fields take the defaults.
type PolicyConfig struct {
	// Sample is how the policy samples. The default (temperature 1, no top-k) is the
	// one the policy-gradient algorithms assume; change it only for display.
	Sample SampleConfig
	// MaxTokens bounds a response's length in tokens, EOS included. Default 48.
	MaxTokens int
	// MicroBatch is the largest number of sequences run through the network at once;
	// bigger batches are processed in parts (bounding memory in the browser).
	// Default 64.
	MicroBatch int
	// Optimizer is AdamW's configuration (default β₂ = 0.95, no weight decay for
	// fine-tuning, global-norm clipping at 1).
	Optimizer AdamWConfig
}

func (c PolicyConfig) withDefaults() PolicyConfig {
	if c.MaxTokens == 0 {
		c.MaxTokens = 48
	}
	if c.MicroBatch == 0 {
		c.MicroBatch = 64
	}
	if c.Optimizer.WeightDecay == 0 {
		c.Optimizer.NoDecay = true
	}
	return c
}

// Policy is the generative policy: a language model π_θ that writes its answer to
// an item's prompt token by token, fine-tuned from a frozen copy of itself π_ref. It
// implements policy.Policy and policy.Valued, so PPO (with GAE over tokens and the
// value head), RLOO, DPO, IPO and best-of-N of package policy run on it unchanged;
// the KL penalty is per token: log π_θ(a_t|·) − log π_ref(a_t|·).
//
// An action is a response token (EOS included when the response ends). The value
// V(x, a_<t) is the scalar head at the position that predicts a_t.
type Policy struct {
	LM  *LM // π_θ, trained
	Ref *LM // π_ref, frozen

	cfg     PolicyConfig
	items   []feedback.Item
	prompts [][]int32 // conditioning ids of each item's prompt
	opt     *AdamW
	tr      *trainer

	// pending gradients of the last sample list, applied at Step (or before a
	// forward pass on other samples): one backward pass serves Backward and
	// BackwardValue.
	pendKey   []policy.Sample
	pendLogp  []float32
	pendValue []float32
	pending   bool
	// cached forward pass of the policy model: the samples it ran on and the flat
	// per-action outputs.
	cacheKey              []policy.Sample
	cacheLogp, cacheValue []float64
	cacheValid            bool
	refKey                []policy.Sample
	refLogp               []float64
	refValid              bool
	refTr                 *trainer  // replicas of Ref, made on first use
	acc                   []float32 // gradient accumulator of flush
	// the trainer's replicas hold the forward pass of trBatch (= the cached
	// samples) when trValid.
	trBatch                            batch
	trValid                            bool
	trLogp, trValue, trDlogp, trDvalue []float32
}

// NewPolicy returns a generative policy over items that starts at ref (copied: ref
// itself is not modified) and is held near it.
func NewPolicy(ref *LM, items []feedback.Item, cfg PolicyConfig) (*Policy, error) {
	cfg = cfg.withDefaults()
	if len(items) == 0 {
		return nil, fmt.Errorf("lm policy: no items (prompts) to answer")
	}
	if cfg.MaxTokens < 1 || cfg.MicroBatch < 1 {
		return nil, fmt.Errorf("lm policy: max tokens and micro-batch must be positive")
	}
	p := &Policy{LM: ref.Clone(), Ref: ref.Clone(), cfg: cfg, items: items}
	T := ref.Model.Config.Context
	for i := range items {
		ids := ref.Vocab.PromptIDs(items[i].Prompt, T/2)
		p.prompts = append(p.prompts, ids)
	}
	p.opt = NewAdamW(p.LM.Model, cfg.Optimizer)
	return p, nil
}

var (
	_ policy.Policy = (*Policy)(nil)
	_ policy.Valued = (*Policy)(nil)
)

// Items returns the prompts the policy answers.
func (p *Policy) Items() []feedback.Item { return p.items }

// Sample appends n responses to prompt drawn from π_θ (batched).
func (p *Policy) Sample(dst []policy.Sample, r *rng.RNG, prompt, n int) []policy.Sample {
	p.flush()
	ps := make([][]int32, n)
	for i := range ps {
		ps[i] = p.prompts[prompt]
	}
	sc := p.cfg.Sample
	if sc.MaxTokens == 0 || sc.MaxTokens > p.cfg.MaxTokens {
		sc.MaxTokens = p.cfg.MaxTokens
	}
	for _, toks := range p.LM.Model.Generate(ps, sc, r) {
		dst = append(dst, p.sample(prompt, toks))
	}
	return dst
}

// sample makes a policy sample of generated tokens.
func (p *Policy) sample(prompt int, toks []int32) policy.Sample {
	s := policy.Sample{Prompt: prompt, Cand: -1, Tokens: make([]int, len(toks))}
	for i, t := range toks {
		s.Tokens[i] = int(t)
	}
	s.Text = p.LM.Vocab.Decode(toks)
	it := &p.items[prompt]
	for k := range it.Responses {
		if it.Responses[k].Text == s.Text {
			s.Cand = k
			break
		}
	}
	return s
}

// Given returns candidate response k of prompt as a sample: its tokens and EOS, cut
// to MaxTokens and to the context.
func (p *Policy) Given(prompt, k int) policy.Sample {
	text := p.items[prompt].Responses[k].Text
	toks := p.LM.Vocab.Encode(nil, text)
	toks = append(toks, EOSID)
	limit := min(p.cfg.MaxTokens, p.LM.Model.Config.Context+1-len(p.prompts[prompt]))
	if len(toks) > limit {
		toks = toks[:limit]
	}
	s := p.sample(prompt, toks)
	s.Cand = k
	s.Text = text
	return s
}

// seqs returns the sequences of samples.
func (p *Policy) seqs(ss []policy.Sample) []Seq {
	out := make([]Seq, len(ss))
	for i := range ss {
		resp := make([]int32, len(ss[i].Tokens))
		for j, t := range ss[i].Tokens {
			resp[j] = int32(t)
		}
		if len(resp) == 0 {
			panic("lm: a generative policy sample has no tokens")
		}
		out[i] = Seq{Prompt: p.prompts[ss[i].Prompt], Response: resp}
	}
	return out
}

// LogProbs writes log π_θ(a_t | x, a_<t) for every action of ss.
func (p *Policy) LogProbs(dst []float64, ss []policy.Sample) {
	p.ensure(ss)
	copy(dst, p.cacheLogp[:policy.Actions(ss)])
}

// Values writes V(x, a_<t) for every action of ss.
func (p *Policy) Values(dst []float64, ss []policy.Sample) {
	p.ensure(ss)
	copy(dst, p.cacheValue[:policy.Actions(ss)])
}

// RefLogProbs writes log π_ref(a_t | x, a_<t) for every action of ss.
func (p *Policy) RefLogProbs(dst []float64, ss []policy.Sample) {
	if policy.Actions(ss) != len(dst) {
		panic("lm: RefLogProbs length mismatch")
	}
	if !p.refValid || !sameSamples(p.refKey, ss) {
		// Inference only (π_ref is frozen: no activations kept), on the reference's
		// own replicas (natively on two cores).
		seqs := p.seqs(ss)
		checkFits(seqs, p.Ref.Model.Config.Context)
		if p.refTr == nil || p.refTr.m != p.Ref.Model {
			p.refTr = newTrainer(p.Ref.Model)
		}
		p.refLogp = growFloat64(p.refLogp, len(dst))
		p.refTr.inferTokens(seqs, p.refLogp, nil)
		p.refKey = append(p.refKey[:0], ss...)
		p.refValid = true
	}
	copy(dst, p.refLogp)
}

// growFloat64 returns x resliced to length n, reallocated if its capacity is short.
func growFloat64(x []float64, n int) []float64 {
	if cap(x) < n {
		return make([]float64, n)
	}
	return x[:n]
}

// checkFits panics if a sequence does not fit the context: a policy's samples
// always do (Given and Sample cut them).
func checkFits(seqs []Seq, context int) {
	for _, s := range seqs {
		if len(s.Prompt)+len(s.Response)-1 > context {
			panic("lm: a sample does not fit the context")
		}
	}
}

// ensure computes (or reuses) the policy model's log-probabilities and values on ss.
// When the samples fit one micro-batch, the forward pass runs on the trainer's
// replicas (in parallel natively) and its activations are kept, so the backward
// pass of Step needs no second forward pass.
func (p *Policy) ensure(ss []policy.Sample) {
	if p.cacheValid && sameSamples(p.cacheKey, ss) {
		return
	}
	p.flush()
	seqs := p.seqs(ss)
	p.cacheKey = append(p.cacheKey[:0], ss...)
	p.cacheValid = true
	if len(seqs) > p.cfg.MicroBatch {
		// Too many for one kept pass: inference only; Step's backward pass then
		// runs forward again in micro-batches.
		p.trValid = false
		checkFits(seqs, p.LM.Model.Config.Context)
		n := policy.Actions(ss)
		p.cacheLogp, p.cacheValue = growFloat64(p.cacheLogp, n), growFloat64(p.cacheValue, n)
		p.trainer().inferTokens(seqs, p.cacheLogp, p.cacheValue)
		return
	}
	makeBatch(&p.trBatch, seqs, p.LM.Model.Config.Context)
	p.trainer().forward(&p.trBatch)
	p.trValid = true
	p.trLogp = p.trainer().logProbs(p.trLogp)
	p.trValue = p.trainer().values(p.trValue)
	p.cacheLogp, p.cacheValue = p.cacheLogp[:0], p.cacheValue[:0]
	bt := &p.trBatch
	for i, sq := range seqs {
		if bt.n[i] != len(sq.Response) {
			panic("lm: a sample does not fit the context")
		}
		base := i*bt.T + bt.start[i]
		for j := range sq.Response {
			p.cacheLogp = append(p.cacheLogp, float64(p.trLogp[base+j]))
			p.cacheValue = append(p.cacheValue, float64(p.trValue[base+j]))
		}
	}
}

// Backward accumulates the gradient of Σ_t w_t·log π_θ(a_t|·); it is applied with
// the value gradient of the same samples in one backward pass at Step.
func (p *Policy) Backward(ss []policy.Sample, w []float64) {
	p.accumulate(ss, w, nil)
}

// BackwardValue accumulates the gradient of Σ_t g_t·V_t.
func (p *Policy) BackwardValue(ss []policy.Sample, g []float64) {
	p.accumulate(ss, nil, g)
}

func (p *Policy) accumulate(ss []policy.Sample, w, g []float64) {
	n := policy.Actions(ss)
	if (w != nil && len(w) != n) || (g != nil && len(g) != n) {
		panic("lm: gradient weights do not match the samples")
	}
	if p.pending && !sameSamples(p.pendKey, ss) {
		p.flush()
	}
	if !p.pending {
		p.pendKey = append(p.pendKey[:0], ss...)
		p.pendLogp = growZero(p.pendLogp, n)
		p.pendValue = growZero(p.pendValue, n)
		p.pending = true
	}
	for t := 0; t < n; t++ {
		if w != nil {
			p.pendLogp[t] += float32(w[t])
		}
		if g != nil {
			p.pendValue[t] += float32(g[t])
		}
	}
}

func growZero(x []float32, n int) []float32 {
	x = grow(x, n)
	clear(x)
	return x
}

// flush runs the backward pass of the pending gradients into the gradient buffer
// (added to what is there) and clears them.
func (p *Policy) flush() {
	if !p.pending {
		return
	}
	p.pending = false
	m := p.LM.Model
	if m.Grads == nil {
		m.ZeroGrad()
	}
	seqs := p.seqs(p.pendKey)
	p.acc = grow(p.acc, len(m.Grads))
	acc := p.acc
	copy(acc, m.Grads)
	if p.trValid && p.cacheValid && sameSamples(p.cacheKey, p.pendKey) {
		// The replicas hold this batch's forward pass: backward only.
		bt := &p.trBatch
		dlogp := growZero(p.trDlogp, bt.B*bt.T)
		dvalue := growZero(p.trDvalue, bt.B*bt.T)
		p.trDlogp, p.trDvalue = dlogp, dvalue
		t := 0
		for i, sq := range seqs {
			base := i*bt.T + bt.start[i]
			for j := range sq.Response {
				dlogp[base+j] = p.pendLogp[t]
				dvalue[base+j] = p.pendValue[t]
				t++
			}
		}
		p.trainer().backward(dlogp, nil, dvalue)
		axpySeq(1, m.Grads, acc)
		copy(m.Grads, acc)
		return
	}
	p.trValid = false // the trainer runs other batches below
	var bt batch
	t := 0
	for lo := 0; lo < len(seqs); lo += p.cfg.MicroBatch {
		hi := min(lo+p.cfg.MicroBatch, len(seqs))
		makeBatch(&bt, seqs[lo:hi], m.Config.Context)
		dlogp := make([]float32, bt.B*bt.T)
		dvalue := make([]float32, bt.B*bt.T)
		for i, s := range seqs[lo:hi] {
			base := i*bt.T + bt.start[i]
			for j := range s.Response {
				dlogp[base+j] = p.pendLogp[t]
				dvalue[base+j] = p.pendValue[t]
				t++
			}
		}
		p.trainer().run(&bt, dlogp, nil, dvalue)
		axpySeq(1, m.Grads, acc)
	}
	copy(m.Grads, acc)
}

// Step applies the pending gradients, takes one AdamW step with learning rate lr
// (gradients clipped to global norm 1) and clears the gradients.
func (p *Policy) Step(lr float64) {
	p.flush()
	m := p.LM.Model
	if m.Grads == nil {
		return
	}
	p.opt.Step(m, lr)
	m.ZeroGrad()
	p.cacheValid = false
	p.trValid = false
}

// trainer returns the policy model's replicas, made on first use (and again after
// Release).
func (p *Policy) trainer() *trainer {
	if p.tr == nil {
		p.tr = newTrainer(p.LM.Model)
	}
	return p.tr
}

// Release frees the policy's working memory — the replicas of both models with
// their activations, the key/value caches of sampling, the cached outputs of the
// last samples — after applying any pending gradients. The parameters and the
// optimizer's state stay, so the policy can go on training (the buffers are then
// made again). Optimize calls it before the final evaluation.
func (p *Policy) Release() {
	p.flush()
	p.tr, p.refTr = nil, nil
	p.cacheValid, p.refValid, p.trValid = false, false, false
	p.cacheKey, p.cacheLogp, p.cacheValue = nil, nil, nil
	p.refKey, p.refLogp = nil, nil
	p.pendKey, p.pendLogp, p.pendValue = nil, nil, nil
	p.acc, p.trBatch = nil, batch{}
	p.trLogp, p.trValue, p.trDlogp, p.trDvalue = nil, nil, nil, nil
	p.LM.Model.Release()
	p.Ref.Model.Release()
}

// sameSamples reports whether two sample lists hold the same prompts and tokens.
func sameSamples(a, b []policy.Sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Prompt != b[i].Prompt || len(a[i].Tokens) != len(b[i].Tokens) {
			return false
		}
		for j, t := range a[i].Tokens {
			if b[i].Tokens[j] != t {
				return false
			}
		}
	}
	return true
}
