package lm

import "sync"

// Workers is the fixed number of parts a training batch is split into. Each part's
// gradient is computed by its own replica of the model (natively on its own
// goroutine, so on several cores) and the parts' gradients are added in order. The
// split does not depend on the machine, so the result is bit-identical natively and
// in wasm, where the parts simply run one after the other.
const Workers = 2

// trainer runs forward and backward passes of a batch with Workers replicas of a
// model. forward keeps the replicas' activations, so a later backward on the same
// batch needs no second forward pass.
type trainer struct {
	m    *Model
	reps []*Model
	b    *batch  // the batch of the last forward pass
	bts  []batch // per replica, for inference
}

func newTrainer(m *Model) *trainer {
	t := &trainer{m: m}
	for i := 0; i < Workers; i++ {
		t.reps = append(t.reps, m.replica())
	}
	return t
}

// replica returns a model that shares m's parameters but has its own gradients
// and activations.
func (m *Model) replica() *Model {
	return &Model{Config: m.Config, Params: m.Params, P: m.P, NoLogits: m.NoLogits}
}

// part returns the rows [lo, hi) of part i of B rows split into Workers parts.
func part(i, B int) (lo, hi int) {
	per := (B + Workers - 1) / Workers
	lo, hi = min(i*per, B), min((i+1)*per, B)
	return
}

// each runs f(i, replica, lo, hi) for every non-empty part, concurrently.
func (t *trainer) each(B int, f func(i int, r *Model, lo, hi int)) {
	var wg sync.WaitGroup
	for i, r := range t.reps {
		lo, hi := part(i, B)
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i, r, lo, hi)
		}()
	}
	wg.Wait()
}

// forward runs the forward pass of b on the replicas and keeps b for backward.
func (t *trainer) forward(b *batch) {
	T := b.T
	t.b = b
	t.each(b.B, func(_ int, r *Model, lo, hi int) {
		var lens []int
		if b.lens != nil {
			lens = b.lens[lo:hi]
		}
		r.forwardScored(b.tokens[lo*T:hi*T], b.targets[lo*T:hi*T], hi-lo, T, lens, true)
	})
}

// logProbs and values copy the replicas' outputs of the last forward pass, (B, T).
func (t *trainer) logProbs(dst []float32) []float32 { return t.gather(dst, (*Model).LogProbs) }
func (t *trainer) values(dst []float32) []float32   { return t.gather(dst, (*Model).Values) }

func (t *trainer) gather(dst []float32, out func(*Model) []float32) []float32 {
	b := t.b
	dst = grow(dst, b.B*b.T)
	for i, r := range t.reps {
		lo, hi := part(i, b.B)
		if lo < hi {
			copy(dst[lo*b.T:hi*b.T], out(r))
		}
	}
	return dst
}

// backward runs the backward passes of the last forward pass for the loss with
// the given derivatives (dent and dvalue may be nil), and leaves the summed
// gradient in m.Grads (overwriting it). It returns Σ_t dlogp_t·logp_t.
func (t *trainer) backward(dlogp, dent, dvalue []float32) float64 {
	b := t.b
	T := b.T
	losses := make([]float64, Workers)
	t.each(b.B, func(i int, r *Model, lo, hi int) {
		r.ZeroGrad()
		var s float64
		lp := r.LogProbs()
		d := dlogp[lo*T : hi*T]
		for j, w := range d {
			if w != 0 {
				s += float64(float64(w) * float64(lp[j]))
			}
		}
		losses[i] = s
		var de, dv []float32
		if dent != nil {
			de = dent[lo*T : hi*T]
		}
		if dvalue != nil {
			dv = dvalue[lo*T : hi*T]
		}
		r.Backward(d, de, dv)
	})
	if t.m.Grads == nil {
		t.m.ZeroGrad()
	}
	g := t.m.Grads
	clear(g)
	var loss float64
	for i, r := range t.reps {
		lo, hi := part(i, b.B)
		if lo == hi {
			continue
		}
		axpySeq(1, r.Grads, g)
		loss += losses[i]
	}
	return loss
}

// forwardBackward runs the forward and backward passes of the batch for the loss
// L = Σ_t dlogp_t·logp_t, leaves its gradient in m.Grads (overwriting it) and
// returns L; with the cross-entropy gradient (crossEntropyGrad) L is the mean
// negative log-likelihood.
func (t *trainer) forwardBackward(b *batch, dlogp []float32) float64 {
	return t.run(b, dlogp, nil, nil)
}

// run is forwardBackward with entropy and value gradients (either may be nil).
func (t *trainer) run(b *batch, dlogp, dent, dvalue []float32) float64 {
	t.forward(b)
	return t.backward(dlogp, dent, dvalue)
}

// meanNLL is LM.MeanNLL on the replicas: the mean negative log-likelihood per
// response token of seqs, summed in the same order (so the same value, bit for
// bit).
func (t *trainer) meanNLL(seqs []Seq) float64 {
	lp := make([]float64, responseTokens(seqs))
	t.inferTokens(seqs, lp, nil)
	return meanNLL(lp)
}

// meanNLL is −(1/n) Σ lp, the mean negative log-likelihood of n token
// log-probabilities (0 for none).
func meanNLL(lp []float64) float64 {
	var s float64
	for _, v := range lp {
		s -= v
	}
	if len(lp) == 0 {
		return 0
	}
	return s / float64(len(lp))
}

// inferTokens is Model.inferTokens on the replicas: the sequences are split into
// Workers parts (natively run on their own cores), each part's results written to
// its own stretch of logp and values, so the results are those of one model, bit
// for bit. It leaves the replicas without a forward pass to take a backward pass
// of.
func (t *trainer) inferTokens(seqs []Seq, logp, values []float64) {
	starts := make([]int, Workers+1)
	for i := range Workers {
		lo, hi := part(i, len(seqs))
		starts[i+1] = starts[i] + responseTokens(seqs[lo:hi])
	}
	if len(t.bts) < Workers {
		t.bts = make([]batch, Workers)
	}
	t.each(len(seqs), func(i int, r *Model, lo, hi int) {
		var v []float64
		if values != nil {
			v = values[starts[i]:starts[i+1]]
		}
		r.inferTokens(&t.bts[i], seqs[lo:hi], logp[starts[i]:starts[i+1]], v)
	})
	t.b = nil
}
