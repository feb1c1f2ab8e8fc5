package lm

import (
	"fmt"
	"math"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/reward"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

// FamilyHead is the reward-model family of a scalar head on the language model's
// last hidden state ("a reward head on the policy's own hidden state").
const FamilyHead = "head"

// RewardHead is a reward model made of the language model and its scalar head: the
// reward of a response is the head's output on the final hidden state after
// reading "BOS prompt SEP response EOS",
//
//	r(x, y) = w·h_L(x, y, EOS) + b
//
// (Stiennon et al. 2020; Ouyang et al. 2022 use the same shape on a large model). It
// implements reward.Model. Trained with TrainHead.
type RewardHead struct {
	LM *LM
}

var _ reward.Model = (*RewardHead)(nil)

// Family returns "head".
func (h *RewardHead) Family() string { return FamilyHead }

// Score returns r(x, y) for the item's prompt and text.
func (h *RewardHead) Score(it *feedback.Item, text string) float64 {
	return h.ScoreMany([]*feedback.Item{it}, []string{text})[0]
}

// ScoreMany scores texts[i] as a response to items[i] (inference only, in groups of
// at most inferRows rows).
func (h *RewardHead) ScoreMany(items []*feedback.Item, texts []string) []float64 {
	seqs := make([]Seq, len(texts))
	for i := range texts {
		seqs[i] = h.LM.scoreSeq(items[i].Prompt, texts[i])
	}
	out := make([]float64, 0, len(seqs))
	var bt batch
	// Inference only, and no output layer: the head's value is all a score needs.
	h.LM.Model.inferSeqs(seqs, &bt, scoreBatch, false, func(_ int, bt *batch) {
		v := h.LM.Model.Values()
		for i := 0; i < bt.B; i++ {
			out = append(out, float64(v[i*bt.T+scorePos(bt, i)]))
		}
	})
	return out
}

// scoreSeq is the sequence whose last input is the EOS after the response: the
// response tokens, EOS, and one more EOS that is only a (never scored) target.
func (l *LM) scoreSeq(prompt, text string) Seq {
	s := l.Seq(prompt, text, true)
	return Seq{Prompt: s.Prompt, Response: append(s.Response, EOSID)}
}

// scorePos is the position of the last input token of row i (its EOS).
func scorePos(bt *batch, i int) int {
	return min(bt.start[i]+bt.n[i]-1, bt.T-1)
}

// scoreBatch lays out seqs like makeBatch, computing each row up to its score
// position.
func scoreBatch(dst *batch, seqs []Seq, context int) {
	makeBatch(dst, seqs, context)
	for i := range dst.lens {
		dst.lens[i] = scorePos(dst, i) + 1
	}
}

// HeadConfig sets TrainHead. Zero fields take the defaults.
type HeadConfig struct {
	Seed uint64
	// Holdout is the fraction of pairs held out for accuracy (default 0.2;
	// negative: none).
	Holdout float64
	// Epochs over the training pairs. Default 3.
	Epochs int
	// Batch is the number of pairs per step. Default 16.
	Batch int
	// LR is AdamW's learning rate. Default 1e-3.
	LR float64
	// HeadOnly trains only the head on the frozen pretrained features; by default the
	// whole transformer is fine-tuned with the head (as in InstructGPT's reward
	// models).
	HeadOnly bool
}

func (c HeadConfig) withDefaults() HeadConfig {
	if c.Holdout == 0 {
		c.Holdout = 0.2
	}
	if c.Epochs == 0 {
		c.Epochs = 3
	}
	if c.Batch == 0 {
		c.Batch = 16
	}
	if c.LR == 0 {
		c.LR = 1e-3
	}
	return c
}

// HeadResult is what TrainHead returns.
type HeadResult struct {
	Head      *RewardHead
	Run       snapshot.Run
	TrainAcc  float64 // accuracy on the training pairs
	HeldAcc   float64 // accuracy on the held-out pairs (NaN without)
	HeldLoss  float64 // mean Bradley–Terry loss on the held-out pairs (NaN without)
	NTrain    int
	NHeld     int
	LossCurve []float64
}

// TrainHead trains a reward head on the decided comparisons of js (feedback.Pairs;
// ties dropped) starting from the language model base (copied), with the
// Bradley–Terry loss of each pair (Bradley & Terry 1952; TRL RewardTrainer):
//
//	L = softplus(−(r(x, y_w) − r(x, y_l)))
//
// The head starts at zero, so every pair starts at loss log 2. Deterministic given
// cfg.Seed.
func TrainHead(base *LM, items []feedback.Item, js []feedback.Judgment, cfg HeadConfig) (*HeadResult, error) {
	cfg = cfg.withDefaults()
	if cfg.Epochs < 1 || cfg.Batch < 1 || !(cfg.LR > 0) || cfg.Holdout >= 1 {
		return nil, fmt.Errorf("train head: epochs, batch and learning rate must be positive and holdout below 1")
	}
	byID := make(map[string]*feedback.Item, len(items))
	for i := range items {
		byID[items[i].ID] = &items[i]
	}
	type pair struct {
		it   *feedback.Item
		w, l string // texts
	}
	var pairs []pair
	for _, pr := range feedback.Pairs(items, js, feedback.PairOptions{}) {
		it := byID[pr.Item]
		if pr.Tie || it == nil {
			continue
		}
		w, l := it.Response(pr.Winner), it.Response(pr.Loser)
		if w == nil || l == nil {
			continue
		}
		pairs = append(pairs, pair{it, w.Text, l.Text})
	}
	if len(pairs) == 0 {
		return nil, reward.ErrNoComparisons
	}
	r := rng.New(cfg.Seed)
	perm := r.Split("split").Perm(len(pairs))
	nHeld := 0
	if cfg.Holdout > 0 && len(pairs) >= 5 {
		nHeld = int(math.Round(float64(cfg.Holdout * float64(len(pairs)))))
	}
	held := make([]pair, 0, nHeld)
	train := make([]pair, 0, len(pairs)-nHeld)
	for k, i := range perm {
		if k < nHeld {
			held = append(held, pairs[i])
		} else {
			train = append(train, pairs[i])
		}
	}
	l := base.Clone()
	l.Model.NoLogits = true
	clear(l.Model.P.Headw)
	l.Model.P.Headb[0] = 0
	h := &RewardHead{LM: l}
	m := l.Model
	opt := NewAdamW(m, AdamWConfig{NoDecay: true})
	tr := newTrainer(m)
	var vals []float32
	var scores []float64
	seqOf := func(p pair) (Seq, Seq) { return l.scoreSeq(p.it.Prompt, p.w), l.scoreSeq(p.it.Prompt, p.l) }

	run := snapshot.Run{Name: "train-head", Kind: "train-rm", Seed: cfg.Seed,
		Config: map[string]any{"family": FamilyHead, "epochs": int64(cfg.Epochs), "batch": int64(cfg.Batch),
			"lr": cfg.LR, "holdout": cfg.Holdout, "head_only": cfg.HeadOnly},
		Series: map[string][]float64{"loss": nil}}
	res := &HeadResult{Head: h, NTrain: len(train), NHeld: len(held)}
	order := r.Split("order")
	var bt batch
	steps := 0
	total := cfg.Epochs * ((len(train) + cfg.Batch - 1) / cfg.Batch)
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		idx := order.Perm(len(train))
		for lo := 0; lo < len(idx); lo += cfg.Batch {
			hi := min(lo+cfg.Batch, len(idx))
			seqs := make([]Seq, 0, 2*(hi-lo))
			for _, i := range idx[lo:hi] {
				a, b := seqOf(train[i])
				seqs = append(seqs, a, b)
			}
			scoreBatch(&bt, seqs, m.Config.Context)
			// Scores first (the trainer's forward pass), then the gradient of the
			// loss with respect to each score, then the backward pass.
			tr.forward(&bt)
			vals = tr.values(vals)
			scores = scores[:0]
			for i := 0; i < bt.B; i++ {
				scores = append(scores, float64(vals[i*bt.T+scorePos(&bt, i)]))
			}
			dvalue := make([]float32, bt.B*bt.T)
			var loss float64
			inv := 1 / float64(hi-lo)
			for k := 0; k < hi-lo; k++ {
				d := scores[2*k] - scores[2*k+1]
				loss += float64(num.Softplus(-d) * inv)
				g := float64(-num.Sigmoid(-d) * inv) // ∂L/∂r_w; ∂L/∂r_l = −g
				dvalue[(2*k)*bt.T+scorePos(&bt, 2*k)] = float32(g)
				dvalue[(2*k+1)*bt.T+scorePos(&bt, 2*k+1)] = float32(-g)
			}
			tr.backward(make([]float32, bt.B*bt.T), nil, dvalue)
			if cfg.HeadOnly {
				headLo := len(m.Params) - len(m.P.Headw) - 1
				clear(m.Grads[:headLo])
			}
			lr := float64(cfg.LR * (1 - float64(steps)/float64(total))) // linear decay to 0
			opt.Step(m, lr)
			steps++
			run.Series["loss"] = append(run.Series["loss"], loss)
		}
	}
	acc := func(ps []pair) (float64, float64) {
		if len(ps) == 0 {
			return math.NaN(), math.NaN()
		}
		its := make([]*feedback.Item, 0, 2*len(ps))
		texts := make([]string, 0, 2*len(ps))
		for _, p := range ps {
			its = append(its, p.it, p.it)
			texts = append(texts, p.w, p.l)
		}
		s := h.ScoreMany(its, texts)
		var a, lo float64
		for k := range ps {
			d := s[2*k] - s[2*k+1]
			if d > 0 {
				a++
			}
			lo += num.Softplus(-d)
		}
		return a / float64(len(ps)), lo / float64(len(ps))
	}
	res.TrainAcc, _ = acc(train)
	res.HeldAcc, res.HeldLoss = acc(held)
	res.LossCurve = run.Series["loss"]
	run.Summary = map[string]float64{"train_accuracy": res.TrainAcc, "heldout_accuracy": res.HeldAcc,
		"heldout_loss": res.HeldLoss, "pairs_train": float64(len(train)), "pairs_heldout": float64(len(held))}
	res.Run = run
	return res, nil
}

// ToSnapshot stores the reward head as a snapshot model of family "head": the
// language model's tensors and configuration (see LM.ToSnapshot).
func (h *RewardHead) ToSnapshot(name string, metrics map[string]float64) snapshot.Model {
	sm := h.LM.ToSnapshot(name, metrics)
	sm.Family = FamilyHead
	return sm
}

// HeadFromSnapshot loads a reward head stored by RewardHead.ToSnapshot.
func HeadFromSnapshot(sm *snapshot.Model) (*RewardHead, error) {
	if sm.Family != FamilyHead {
		return nil, fmt.Errorf("model %q is of family %q, not a reward head (%q)", sm.Name, sm.Family, FamilyHead)
	}
	c := *sm
	c.Family = Family
	l, err := FromSnapshot(&c)
	if err != nil {
		return nil, err
	}
	l.Model.NoLogits = true
	return &RewardHead{LM: l}, nil
}
