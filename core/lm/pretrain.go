package lm

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"prefer/core/demo"
	"prefer/core/num"
	"prefer/core/rng"
	"prefer/core/snapshot"
)

// PretrainConfig sets Pretrain. Zero fields take the defaults in the comments, chosen
// so that pretraining the default model takes well under a minute natively.
type PretrainConfig struct {
	// Model is the model shape; Vocab is set from the vocabulary.
	Model Config
	// Seed drives the initialization and the batch order.
	Seed uint64
	// Steps is the number of optimizer steps. Default 1000.
	Steps int
	// Batch is the number of sequences per step. Default 32.
	Batch int
	// LR is the peak learning rate of AdamW. Default 1.5e-2 (small models take large
	// rates; nanoGPT's character model uses 1e-3 at 10M parameters).
	LR float64
	// Warmup is the number of steps of linear warm-up, after which the rate decays
	// along a cosine to LR/10 at the last step (as in nanoGPT). Default 40.
	Warmup int
	// WeightDecay is AdamW's decoupled weight decay on matrices and embeddings.
	// Default 0.01.
	WeightDecay float64
	// EvalEvery is how often (in steps) the held-out loss is measured. Default 100;
	// it is always measured after the last step.
	EvalEvery int
}

func (c PretrainConfig) withDefaults() PretrainConfig {
	if c.Steps == 0 {
		c.Steps = 1000
	}
	if c.Batch == 0 {
		c.Batch = 32
	}
	if c.LR == 0 {
		c.LR = 1.5e-2
	}
	if c.Warmup == 0 {
		c.Warmup = 40
	}
	if c.WeightDecay == 0 {
		c.WeightDecay = 0.01
	}
	if c.EvalEvery == 0 {
		c.EvalEvery = 100
	}
	return c
}

// ErrCanceled is returned when a progress callback asks to stop.
var ErrCanceled = errors.New("canceled")

// PretrainProgress is called after every step with the step (1-based) and its
// training loss; returning false cancels.
type PretrainProgress func(step int, loss float64) bool

// Pretrained is the result of Pretrain.
type Pretrained struct {
	LM  *LM
	Run snapshot.Run // Kind "pretrain": loss curves, held-out perplexity
}

// Pretrain trains a language model from scratch on demo-grammar examples (each
// "BOS prompt SEP response EOS", the loss on the response tokens only: the model
// learns π(response | prompt)) and measures it on held-out examples:
//
//	loss = −(1/n) Σ_t log π(y_t | x, y_<t),     perplexity = exp(held-out loss)
//
// It is deterministic given the examples and cfg.Seed, and bit-identical natively
// and in wasm. The vocabulary is the demo grammar's (DemoVocab).
func Pretrain(cfg PretrainConfig, train, heldout []demo.Example, progress PretrainProgress) (*Pretrained, error) {
	cfg = cfg.withDefaults()
	if len(train) == 0 {
		return nil, fmt.Errorf("pretrain: no training examples")
	}
	if cfg.Steps < 1 || cfg.Batch < 1 || !(cfg.LR > 0) {
		return nil, fmt.Errorf("pretrain: steps %d, batch %d and learning rate %v must be positive", cfg.Steps, cfg.Batch, cfg.LR)
	}
	vocab := DemoVocab()
	mc := cfg.Model
	mc.Vocab = vocab.Size()
	r := rng.New(cfg.Seed)
	m, err := New(mc, r.Split("init").Uint64())
	if err != nil {
		return nil, fmt.Errorf("pretrain: %w", err)
	}
	l := &LM{Model: m, Vocab: vocab}
	seqs := l.exampleSeqs(train)
	held := l.exampleSeqs(heldout)
	opt := NewAdamW(m, AdamWConfig{WeightDecay: cfg.WeightDecay})
	order := newBatcher(seqs, cfg.Batch, r.Split("batches"))

	run := snapshot.Run{
		Name: "pretrain",
		Kind: "pretrain",
		Seed: cfg.Seed,
		Config: map[string]any{
			"steps": int64(cfg.Steps), "batch": int64(cfg.Batch), "lr": cfg.LR,
			"warmup": int64(cfg.Warmup), "weight_decay": cfg.WeightDecay,
			"examples": int64(len(train)), "heldout": int64(len(heldout)),
			"layers": int64(m.Config.Layers), "channels": int64(m.Config.Channels),
			"heads": int64(m.Config.Heads), "context": int64(m.Config.Context),
			"params": int64(m.Config.NumParams()),
		},
		Series: map[string][]float64{"loss": nil, "lr": nil, "grad_norm": nil, "eval_step": nil, "heldout_loss": nil},
	}
	var bt batch
	var dlogp []float32
	tr := newTrainer(m)
	for step := 0; step < cfg.Steps; step++ {
		lr := cosineLR(cfg.LR, step, cfg.Steps, cfg.Warmup)
		makeBatch(&bt, order.next(), m.Config.Context)
		dlogp = crossEntropyGrad(dlogp, bt.targets)
		loss := tr.forwardBackward(&bt, dlogp)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, fmt.Errorf("pretrain: loss became %v at step %d; lower the learning rate", loss, step+1)
		}
		norm := opt.Step(m, lr)
		run.Series["loss"] = append(run.Series["loss"], loss)
		run.Series["lr"] = append(run.Series["lr"], lr)
		run.Series["grad_norm"] = append(run.Series["grad_norm"], norm)
		if (step+1)%cfg.EvalEvery == 0 || step+1 == cfg.Steps {
			if len(held) > 0 {
				hl := tr.meanNLL(held) // = l.MeanNLL(held), on two cores natively
				run.Series["eval_step"] = append(run.Series["eval_step"], float64(step+1))
				run.Series["heldout_loss"] = append(run.Series["heldout_loss"], hl)
			}
		}
		if progress != nil && !progress(step+1, loss) {
			return nil, ErrCanceled
		}
	}
	run.Summary = map[string]float64{
		"steps":      float64(cfg.Steps),
		"train_loss": meanTail(run.Series["loss"], 50),
		"params":     float64(m.Config.NumParams()),
	}
	if hl := run.Series["heldout_loss"]; len(hl) > 0 {
		run.Summary["heldout_loss"] = hl[len(hl)-1]
		run.Summary["heldout_ppl"] = num.Exp(hl[len(hl)-1])
	}
	return &Pretrained{LM: l, Run: run}, nil
}

// exampleSeqs tokenizes examples as training sequences.
func (l *LM) exampleSeqs(ex []demo.Example) []Seq {
	out := make([]Seq, len(ex))
	for i, e := range ex {
		out[i] = l.Seq(e.Prompt, e.Response, true)
	}
	return out
}

// Seq tokenizes a prompt and a response (with EOS when complete) as a sequence that
// fits the context: the prompt keeps at most half the context, the response is cut.
func (l *LM) Seq(prompt, response string, complete bool) Seq {
	T := l.Model.Config.Context
	p := l.Vocab.PromptIDs(prompt, T/2)
	resp := l.Vocab.Encode(nil, response)
	if complete {
		resp = append(resp, EOSID)
	}
	if max := T + 1 - len(p); len(resp) > max {
		resp = resp[:max]
	}
	return Seq{Prompt: p, Response: resp}
}

// MeanNLL returns the mean negative log-likelihood per response token of the
// sequences, −(1/n) Σ log π(y_t | x, y_<t) (inference only).
func (l *LM) MeanNLL(seqs []Seq) float64 {
	return meanNLL(l.Model.SeqLogProbs(seqs))
}

// cosineLR is linear warm-up to lr over warmup steps, then cosine decay to lr/10 at
// the last step (nanoGPT's schedule).
func cosineLR(lr float64, step, steps, warmup int) float64 {
	if step < warmup {
		return float64(lr*float64(step+1)) / float64(warmup)
	}
	if steps <= warmup+1 {
		return lr
	}
	p := float64(step-warmup) / float64(steps-warmup-1)
	// cos(πp) by its series would be portable; math.Cos is pure Go on every
	// platform (no assembly), so it is bit-identical natively and in wasm.
	return lr/10 + float64(float64((lr-lr/10)*0.5)*(1+math.Cos(float64(math.Pi*p))))
}

func meanTail(x []float64, n int) float64 {
	if len(x) == 0 {
		return 0
	}
	if n > len(x) {
		n = len(x)
	}
	var s float64
	for _, v := range x[len(x)-n:] {
		s += v
	}
	return s / float64(n)
}

// batcher hands out batches of sequences: epochs in a random order, and within a
// pool of 8 batches the sequences sorted by length, so each batch pads little, the
// batches of a pool then shuffled.
type batcher struct {
	seqs  []Seq
	size  int
	r     *rng.RNG
	queue [][]Seq
	perm  []int
	pos   int
}

func newBatcher(seqs []Seq, size int, r *rng.RNG) *batcher {
	if size > len(seqs) {
		size = len(seqs)
	}
	return &batcher{seqs: seqs, size: size, r: r}
}

func (b *batcher) next() []Seq {
	if len(b.queue) == 0 {
		pool := make([]Seq, 0, 8*b.size)
		for len(pool) < 8*b.size {
			if b.pos == len(b.perm) {
				b.perm = b.r.Perm(len(b.seqs))
				b.pos = 0
			}
			pool = append(pool, b.seqs[b.perm[b.pos]])
			b.pos++
		}
		sort.SliceStable(pool, func(i, j int) bool {
			return len(pool[i].Prompt)+len(pool[i].Response) < len(pool[j].Prompt)+len(pool[j].Response)
		})
		for i := 0; i < 8; i++ {
			b.queue = append(b.queue, pool[i*b.size:(i+1)*b.size])
		}
		b.r.Shuffle(len(b.queue), func(i, j int) { b.queue[i], b.queue[j] = b.queue[j], b.queue[i] })
	}
	out := b.queue[0]
	b.queue = b.queue[1:]
	return out
}

// DemoCorpora returns the training and held-out examples Pretrain uses by default:
// two disjoint draws of the demo grammar (demo.Corpus) whose seeds are split off
// seed, so "prefer pretrain --seed N" is reproducible from N alone.
func DemoCorpora(seed uint64, train, heldout int) (tr, held []demo.Example) {
	r := rng.New(seed)
	trSeed := r.Split("corpus/train").Uint64()
	heldSeed := r.Split("corpus/heldout").Uint64()
	return demo.Corpus(trSeed, train), demo.Corpus(heldSeed, heldout)
}

// Default corpus sizes of PretrainDemo.
const (
	DefaultExamples = 20000 // training examples: each prompt of the grammar about 200 times
	DefaultHeldout  = 500   // held-out examples for perplexity
)

// PretrainDemo pretrains the reference policy on the demo grammar: DemoCorpora of
// cfg.Seed with the given sizes (0 for the defaults), then Pretrain. The run's
// config records the corpus sizes.
func PretrainDemo(cfg PretrainConfig, examples, heldout int, progress PretrainProgress) (*Pretrained, error) {
	if examples == 0 {
		examples = DefaultExamples
	}
	if heldout == 0 {
		heldout = DefaultHeldout
	}
	if examples < 1 || heldout < 0 {
		return nil, fmt.Errorf("pretrain: need at least one training example")
	}
	tr, held := DemoCorpora(cfg.Seed, examples, heldout)
	return Pretrain(cfg, tr, held, progress)
}
