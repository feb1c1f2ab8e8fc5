package lm

import (
	"fmt"
	"math"
	"runtime"

	"prefer/core/rng"
)

// Model is a GPT-style decoder-only transformer with a scalar head.
//
// Params holds every parameter in one flat float32 vector (named views in P), Grads
// the gradients in the same layout (views in G). Forward runs the network on a batch
// of B token sequences of length T and keeps the activations; Backward accumulates
// the gradients of a loss given through its derivatives with respect to the
// per-position target log-probabilities, entropies and head outputs. ZeroGrad clears
// Grads. A Model is not safe for concurrent use.
type Model struct {
	Config Config
	Params []float32
	Grads  []float32
	P      Tensors // views into Params
	G      Tensors // views into Grads

	// NoLogits skips the output layer: Forward computes only the hidden states and
	// the scalar head (a reward model's scores), LogProbs and Entropies are then
	// meaningless and Backward takes only head gradients.
	NoLogits bool

	act  activations // of the last forward pass
	grad gradients   // the activations' gradients of one layer, reused by Backward
	pass pass        // the shape of the last forward pass and its outputs
	dec  *decoder    // incremental decoding (Generate), made on first use
}

// New returns a model of configuration c (defaults applied) with GPT-2's
// initialization drawn from seed: weights and embeddings N(0, InitStd²), the two
// output projections of each block N(0, (InitStd/√(2L))²), biases zero, layer norm
// scales one; the scalar head starts at zero.
func New(c Config, seed uint64) (*Model, error) {
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m := newModel(c)
	r := rng.New(seed)
	std := c.InitStd
	projStd := std / math.Sqrt(float64(2*float64(c.Layers)))
	fill := func(x []float32, s float64) {
		for i := range x {
			x[i] = float32(s * r.Norm())
		}
	}
	ones := func(x []float32) {
		for i := range x {
			x[i] = 1
		}
	}
	fill(m.P.Wte, std)
	fill(m.P.Wpe, std)
	fill(m.P.Qkvw, std)
	fill(m.P.Attprojw, projStd)
	fill(m.P.Fcw, std)
	fill(m.P.Fcprojw, projStd)
	if c.Untied {
		fill(m.P.Lmw, std)
	}
	ones(m.P.Ln1w)
	ones(m.P.Ln2w)
	ones(m.P.Lnfw)
	return m, nil
}

// newModel allocates a zero model; c must be valid.
func newModel(c Config) *Model {
	n := c.NumParams()
	m := &Model{Config: c, Params: make([]float32, n)}
	m.P = views(c, m.Params)
	return m
}

// Clone returns a deep copy of the parameters (no gradients, no activations).
func (m *Model) Clone() *Model {
	c := newModel(m.Config)
	copy(c.Params, m.Params)
	return c
}

// Release frees the model's working memory: the activations and gradients of the
// last forward pass (Backward then panics until the next one) and the key/value
// cache of sampling. Parameters and gradients stay. The next pass allocates again.
func (m *Model) Release() {
	m.act, m.grad, m.pass, m.dec = activations{}, gradients{}, pass{}, nil
}

// ZeroGrad sets every gradient to zero, allocating Grads on first use.
func (m *Model) ZeroGrad() {
	if m.Grads == nil {
		m.Grads = make([]float32, len(m.Params))
		m.G = views(m.Config, m.Grads)
		return
	}
	clear(m.Grads)
}

// pass is the shape of the last forward pass and its per-position outputs.
//
// The rows actually computed are packed: sequence b's positions 0 ≤ t < lens[b]
// are rows off[b] … off[b+1]−1, with no padding between sequences, so memory and
// work follow the tokens run, not B × T.
type pass struct {
	B, T            int
	tokens, targets []int32 // (B, T) as given
	lens            []int   // (B) positions computed of each sequence
	off             []int   // (B+1) first packed row of each sequence; off[B] = R
	ptokens         []int32 // (R) packed inputs
	ptargets        []int32 // (R) packed targets
	at              []int32 // (R) b·T + t of each packed row
	// outRuns are the runs of packed rows [r0, r1) whose output layer (logits,
	// probabilities) ran, with the output index of r0: rows with a target when
	// scored, else all rows.
	outRuns [][3]int
	scored  bool
	keep    bool // activations kept for Backward (not an inference-only pass)
	// outputs, (B, T): 0 at positions not computed
	logp, ent, value []float32
	// packed per-output-row gradients, scratch of Backward
	dlogp, dent []float32
	scratch     []float32 // (T) attention backward
}

// activations are the intermediate tensors of one forward pass over R packed rows,
// all views into one buffer. S is the number of layers whose activations are kept:
// L for a pass that Backward will use, 1 for an inference-only pass (each layer
// then overwrites the previous one's). NH = heads, H = MLP width, V = vocabulary,
// A = NH·Σ_b lens[b]² (each sequence's attention weights), O = output rows, K =
// outChunk (the logits are computed K rows at a time).
//
// Backward needs neither the attention and MLP output projections (used once, in a
// residual sum) nor GELU's output (recomputed from its input and the kept tanh), so
// those are one scratch each. The output layer keeps only the probabilities of the
// output rows — logits live K rows at a time, and Backward recomputes them when an
// entropy gradient needs them — and an inference-only pass keeps no probabilities
// at all beyond the current K rows.
type activations struct {
	R, O, S, A int
	keep       bool // kept for Backward: every layer, every output row's probabilities
	buf        []float32
	encoded    []float32 // (R, C)
	ln1        []float32 // (S, R, C)
	ln1Mean    []float32 // (S, R)
	ln1Rstd    []float32 // (S, R)
	qkv        []float32 // (S, R, 3C)
	atty       []float32 // (S, R, C)
	att        []float32 // (S, A)
	res2       []float32 // (S, R, C)
	ln2        []float32 // (S, R, C)
	ln2Mean    []float32 // (S, R)
	ln2Rstd    []float32 // (S, R)
	fch        []float32 // (S, R, H)
	fchTanh    []float32 // (S, R, H) the tanh inside GELU, kept for the backward pass
	res3       []float32 // (S, R, C)
	proj       []float32 // (R, C) scratch: an output projection
	gelu       []float32 // (R, H) scratch: GELU's output
	lnf        []float32 // (R, C)
	lnfMean    []float32 // (R)
	lnfRstd    []float32 // (R)
	logits     []float32 // (K, V) scratch
	probs      []float32 // (O, V) kept, or (K, V) scratch for an inference-only pass
	lse        []float32 // (O)
	logp       []float32 // (O)
	ent        []float32 // (O)
}

// outChunk is the number of rows whose logits are computed at once.
const outChunk = 64

// layout slices a.buf for R packed rows, O output rows and A attention weights per
// layer, growing it if needed; with keep, for Backward (every layer, every output
// row's probabilities), else for an inference-only pass.
func (a *activations) layout(c Config, R, O, A int, keep bool) {
	C, H, V := c.Channels, c.Hidden, c.Vocab
	K := min(outChunk, O)
	S, P := c.Layers, O*V
	if !keep {
		S, P = 1, K*V
	}
	sizes := [...]int{
		R * C, S * R * C, S * R, S * R, S * R * 3 * C, S * R * C, S * A,
		S * R * C, S * R * C, S * R, S * R, S * R * H, S * R * H, S * R * C,
		R * C, R * H, R * C, R, R, K * V, P, O, O, O,
	}
	total := 0
	for _, s := range sizes {
		total += s
	}
	if cap(a.buf) < total {
		growBuffer(&a.buf, total)
	}
	a.buf = a.buf[:total]
	a.R, a.O, a.S, a.A, a.keep = R, O, S, A, keep
	off := 0
	next := func(i int) []float32 {
		v := a.buf[off : off+sizes[i] : off+sizes[i]]
		off += sizes[i]
		return v
	}
	a.encoded, a.ln1, a.ln1Mean, a.ln1Rstd = next(0), next(1), next(2), next(3)
	a.qkv, a.atty, a.att = next(4), next(5), next(6)
	a.res2, a.ln2, a.ln2Mean, a.ln2Rstd = next(7), next(8), next(9), next(10)
	a.fch, a.fchTanh, a.res3 = next(11), next(12), next(13)
	a.proj, a.gelu = next(14), next(15)
	a.lnf, a.lnfMean, a.lnfRstd = next(16), next(17), next(18)
	a.logits, a.probs = next(19), next(20)
	a.lse, a.logp, a.ent = next(21), next(22), next(23)
}

// gradients are the gradients of one layer's activations over R packed rows, reused
// from layer to layer by Backward (the gradient flowing down the residual stream is
// all that passes from one layer to the next).
type gradients struct {
	buf                            []float32
	res, res2, proj, ln, atty, lnf []float32 // (R, C)
	qkv                            []float32 // (R, 3C)
	fch, gelu                      []float32 // (R, H)
	logits                         []float32 // (K, V)
}

func (g *gradients) layout(c Config, R, K int) {
	C, H, V := c.Channels, c.Hidden, c.Vocab
	sizes := [...]int{R * C, R * C, R * C, R * C, R * C, R * C, R * 3 * C, R * H, R * H, K * V}
	total := 0
	for _, s := range sizes {
		total += s
	}
	if cap(g.buf) < total {
		growBuffer(&g.buf, total)
	}
	g.buf = g.buf[:total]
	off := 0
	next := func(i int) []float32 {
		v := g.buf[off : off+sizes[i] : off+sizes[i]]
		off += sizes[i]
		return v
	}
	g.res, g.res2, g.proj, g.ln, g.atty, g.lnf = next(0), next(1), next(2), next(3), next(4), next(5)
	g.qkv, g.fch, g.gelu, g.logits = next(6), next(7), next(8), next(9)
}

// segment is a run of positions t0 ≤ t < t1 of sequence b.
type segment struct{ b, t0, t1 int }

// Forward runs the model on B sequences of T tokens (B·T values, row-major) and
// scores targets: targets[b,t] is the token expected after position t, or −1 for
// none (padding, or positions whose prediction is not scored). It keeps the
// activations for Backward and for LogProbs, Entropies and Values, and returns the
// mean negative log-likelihood of the scored targets (0 when there are none).
//
// Positions attend only to earlier ones, so padding at the end of a sequence does not
// change the results at earlier positions.
func (m *Model) Forward(tokens, targets []int32, B, T int) float64 {
	return m.forwardPass(tokens, targets, B, T, nil, false, true, true)
}

// forwardScored runs the forward pass on padded sequences: the positions t ≥
// lens[b] of sequence b are padding (no target), which no earlier position attends
// to, so they are not computed at all; their log-probabilities, entropies and
// values are 0. lens nil means no padding. With scored, the output layer runs only
// at the positions with a target (the rest get log-probability and entropy 0, and
// Backward then takes no entropy gradient there). The results at the computed
// positions are those of Forward, bit for bit.
func (m *Model) forwardScored(tokens, targets []int32, B, T int, lens []int, scored bool) float64 {
	return m.forwardPass(tokens, targets, B, T, lens, scored, true, true)
}

// infer is forwardScored (scored) without keeping activations for a backward pass:
// each layer's activations overwrite the previous layer's and the logits and
// probabilities live outChunk rows at a time; without logits the output layer does
// not run at all (only Values are wanted). LogProbs, Entropies and Values are
// those of forwardScored, bit for bit; Backward panics until the next kept pass.
func (m *Model) infer(tokens, targets []int32, B, T int, lens []int, logits bool) {
	m.forwardPass(tokens, targets, B, T, lens, true, false, logits)
}

// forwardPass lays out the batch, runs the network and fills the (B, T) outputs;
// keep: keep the activations for Backward; logits: run the output layer (unless
// NoLogits).
func (m *Model) forwardPass(tokens, targets []int32, B, T int, lens []int, scored, keep, logits bool) float64 {
	m.checkBatch(tokens, targets, B, T)
	c := m.Config
	ps := &m.pass
	ps.B, ps.T, ps.scored, ps.keep = B, T, scored, keep
	ps.tokens = append(ps.tokens[:0], tokens...)
	if targets == nil {
		ps.targets = ps.targets[:0]
		for range tokens {
			ps.targets = append(ps.targets, -1)
		}
	} else {
		ps.targets = append(ps.targets[:0], targets...)
	}
	ps.lens = ps.lens[:0]
	ps.off = append(ps.off[:0], 0)
	A := 0
	for b := 0; b < B; b++ {
		n := T
		if lens != nil {
			n = lens[b]
			if n < 1 || n > T {
				panic(fmt.Sprintf("lm: sequence length %d for context %d", n, T))
			}
			for _, t := range ps.targets[b*T+n : (b+1)*T] {
				if t >= 0 {
					panic("lm: a target in the padding")
				}
			}
		}
		ps.lens = append(ps.lens, n)
		ps.off = append(ps.off, ps.off[b]+n)
		A += c.Heads * n * n
	}
	R := ps.off[B]
	ps.ptokens, ps.ptargets, ps.at = ps.ptokens[:0], ps.ptargets[:0], ps.at[:0]
	for b, n := range ps.lens {
		ps.ptokens = append(ps.ptokens, ps.tokens[b*T:b*T+n]...)
		ps.ptargets = append(ps.ptargets, ps.targets[b*T:b*T+n]...)
		for t := 0; t < n; t++ {
			ps.at = append(ps.at, int32(b*T+t))
		}
	}
	// Output rows: runs of rows with a target (scored) or all rows.
	ps.outRuns = ps.outRuns[:0]
	O := 0
	if logits && !m.NoLogits {
		for r := 0; r < R; {
			if scored && ps.ptargets[r] < 0 {
				r++
				continue
			}
			j := r + 1
			for j < R && (!scored || ps.ptargets[j] >= 0) {
				j++
			}
			ps.outRuns = append(ps.outRuns, [3]int{r, j, O})
			O += j - r
			r = j
		}
	}
	m.act.layout(c, R, O, A, keep)
	m.forward()
	ps.logp = grow(ps.logp, B*T)
	ps.ent = grow(ps.ent, B*T)
	ps.value = grow(ps.value, B*T)
	clear(ps.logp)
	clear(ps.ent)
	clear(ps.value)
	a := &m.act
	for _, rn := range ps.outRuns {
		for r := rn[0]; r < rn[1]; r++ {
			o := rn[2] + r - rn[0]
			ps.logp[ps.at[r]], ps.ent[ps.at[r]] = a.logp[o], a.ent[o]
		}
	}
	p := &m.P
	for r, i := range ps.at {
		ps.value[i] = dot(p.Headw, a.lnf[r*c.Channels:(r+1)*c.Channels]) + p.Headb[0]
	}
	var sum float64
	n := 0
	for i, t := range targets {
		if t >= 0 {
			sum -= float64(ps.logp[i])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// checkBatch panics on a programmer error in the shape or content of a batch.
func (m *Model) checkBatch(tokens, targets []int32, B, T int) {
	c := m.Config
	if B < 1 || T < 1 || T > c.Context {
		panic(fmt.Sprintf("lm: batch shape (%d, %d) with context %d", B, T, c.Context))
	}
	if len(tokens) != B*T || (targets != nil && len(targets) != B*T) {
		panic(fmt.Sprintf("lm: batch of %d tokens and %d targets for shape (%d, %d)", len(tokens), len(targets), B, T))
	}
	for _, t := range tokens {
		if t < 0 || int(t) >= c.Vocab {
			panic(fmt.Sprintf("lm: token %d outside the vocabulary of %d", t, c.Vocab))
		}
	}
	for _, t := range targets {
		if int(t) >= c.Vocab || t < -1 {
			panic(fmt.Sprintf("lm: target %d outside the vocabulary of %d", t, c.Vocab))
		}
	}
}

// forward computes the activations of the packed rows laid out by forwardPass,
// layer by layer, and the output layer at the output rows. Every row goes through
// the same kernels whatever the batch (the kernels sum each output element in one
// fixed order), so a row's results do not depend on the other rows: packing,
// inference-only passes and incremental decoding all give the same bits.
func (m *Model) forward() {
	c := m.Config
	a := &m.act
	ps := &m.pass
	R := a.R
	L, C, NH, H, V := c.Layers, c.Channels, c.Heads, c.Hidden, c.Vocab
	p := &m.P
	for b, n := range ps.lens {
		r0 := ps.off[b]
		encoderForward(a.encoded[r0*C:], ps.ptokens[r0:r0+n], p.Wte, p.Wpe, n, C, 0)
	}
	proj, gelu := a.proj[:R*C], a.gelu[:R*H]
	for l := 0; l < L; l++ {
		w := p.layer(l, C, H)
		s := min(l, a.S-1) // the kept layer's slot (0 for every layer of an inference pass)
		residual := a.encoded
		if l > 0 {
			q := min(l-1, a.S-1)
			residual = a.res3[q*R*C : (q+1)*R*C]
		}
		ln1 := a.ln1[s*R*C : (s+1)*R*C]
		ln1Mean, ln1Rstd := a.ln1Mean[s*R:(s+1)*R], a.ln1Rstd[s*R:(s+1)*R]
		qkv := a.qkv[s*R*3*C : (s+1)*R*3*C]
		atty := a.atty[s*R*C : (s+1)*R*C]
		att := a.att[s*a.A : (s+1)*a.A]
		res2 := a.res2[s*R*C : (s+1)*R*C]
		ln2 := a.ln2[s*R*C : (s+1)*R*C]
		ln2Mean, ln2Rstd := a.ln2Mean[s*R:(s+1)*R], a.ln2Rstd[s*R:(s+1)*R]
		fch := a.fch[s*R*H : (s+1)*R*H]
		fchTanh := a.fchTanh[s*R*H : (s+1)*R*H]
		res3 := a.res3[s*R*C : (s+1)*R*C]
		layernormForward(ln1, ln1Mean, ln1Rstd, residual, w.ln1w, w.ln1b, R, C)
		linearForward(qkv, ln1, w.qkvw, w.qkvb, R, C, 3*C)
		ao := 0
		for b, n := range ps.lens {
			r0 := ps.off[b]
			attentionForward(atty[r0*C:(r0+n)*C], att[ao:ao+NH*n*n], qkv[r0*3*C:(r0+n)*3*C], 1, n, C, NH, 0, n)
			ao += NH * n * n
		}
		linearForward(proj, atty, w.attprojw, w.attprojb, R, C, C)
		residualForward(res2, residual, proj)
		layernormForward(ln2, ln2Mean, ln2Rstd, res2, w.ln2w, w.ln2b, R, C)
		linearForward(fch, ln2, w.fcw, w.fcb, R, C, H)
		geluForward(gelu, fchTanh, fch)
		linearForward(proj, gelu, w.fcprojw, w.fcprojb, R, H, C)
		residualForward(res3, res2, proj)
	}
	q := min(L-1, a.S-1)
	last := a.res3[q*R*C : (q+1)*R*C]
	layernormForward(a.lnf, a.lnfMean, a.lnfRstd, last, p.Lnfw, p.Lnfb, R, C)
	for _, rn := range ps.outRuns {
		for r := rn[0]; r < rn[1]; r += outChunk {
			k := min(outChunk, rn[1]-r)
			o := rn[2] + r - rn[0]
			probs := a.probs
			if a.keep {
				probs = a.probs[o*V:]
			}
			unembedForward(a.logits, a.lnf[r*C:], p.Lmw, k, C, V)
			softmaxForward(probs, a.lse[o:], a.logp[o:], a.ent[o:], a.logits, ps.ptargets[r:r+k], k, V)
		}
	}
}

// LogProbs returns the log-probabilities log π(target | prefix) of the last forward
// pass, (B, T); 0 where the target was −1. The slice is reused by the next Forward.
func (m *Model) LogProbs() []float32 { return m.pass.logp[:m.pass.B*m.pass.T] }

// Entropies returns the entropy of the next-token distribution at each position of
// the last forward pass, (B, T), in nats.
func (m *Model) Entropies() []float32 { return m.pass.ent[:m.pass.B*m.pass.T] }

// Values returns the scalar head's output at each position of the last forward pass,
// (B, T): the value estimate of PPO, or the reward of a reward model.
func (m *Model) Values() []float32 { return m.pass.value[:m.pass.B*m.pass.T] }

// Backward accumulates into Grads the gradient of a loss L of the last forward
// pass, given its partial derivatives, each (B, T):
//
//	dlogp[b,t]  = ∂L/∂ log π(target[b,t] | prefix)
//	dent[b,t]   = ∂L/∂ H[b,t]          (nil: the loss does not involve entropies)
//	dvalue[b,t] = ∂L/∂ head[b,t]       (nil: the loss does not involve the head)
//
// Every loss of this package's trainers has that form: cross-entropy (dlogp = −1/n),
// policy gradients (dlogp = −advantage·ratio…), the value loss, Bradley–Terry on the
// head. Call ZeroGrad first to start from zero. Derivatives at positions the
// forward pass did not compute (padding) are ignored.
//
// The gradients of one layer's activations at a time are held (gradients), so the
// backward pass needs about a third of the forward pass's memory. Every weight
// gradient is accumulated row after row in the order of the rows, exactly as one
// pass over the padded batch would (padding rows add nothing).
func (m *Model) Backward(dlogp, dent, dvalue []float32) {
	c := m.Config
	a := &m.act
	ps := &m.pass
	B, T := ps.B, ps.T
	N := B * T
	if len(dlogp) != N || (dent != nil && len(dent) != N) || (dvalue != nil && len(dvalue) != N) {
		panic(fmt.Sprintf("lm: Backward gradients of length %d, %d, %d for %d positions", len(dlogp), len(dent), len(dvalue), N))
	}
	if !ps.keep {
		panic("lm: Backward after an inference-only forward pass")
	}
	if m.Grads == nil {
		m.ZeroGrad()
	}
	L, C, NH, H, V := c.Layers, c.Channels, c.Heads, c.Hidden, c.Vocab
	R := a.R
	g := &m.grad
	g.layout(c, R, min(outChunk, a.O))
	if cap(ps.scratch) < T {
		ps.scratch = make([]float32, T)
	}
	p, gp := &m.P, &m.G
	clear(g.lnf)

	if len(ps.outRuns) > 0 && (dent != nil || !allZero(dlogp)) {
		if ps.scored && dent != nil {
			for r, i := range ps.at {
				if ps.ptargets[r] < 0 && dent[i] != 0 {
					panic("lm: an entropy gradient where the forward pass computed no entropy")
				}
			}
		}
		ps.dlogp = grow(ps.dlogp, a.O)
		ps.dent = grow(ps.dent, a.O)
		for _, rn := range ps.outRuns {
			for r := rn[0]; r < rn[1]; r++ {
				o := rn[2] + r - rn[0]
				ps.dlogp[o] = dlogp[ps.at[r]]
				if dent != nil {
					ps.dent[o] = dent[ps.at[r]]
				}
			}
		}
		for _, rn := range ps.outRuns {
			for r := rn[0]; r < rn[1]; r += outChunk {
				k := min(outChunk, rn[1]-r)
				o := rn[2] + r - rn[0]
				var de []float32
				if dent != nil {
					de = ps.dent[o:]
					// The entropy's gradient needs the logits: recompute them.
					unembedForward(a.logits, a.lnf[r*C:], p.Lmw, k, C, V)
				}
				dl := g.logits[:k*V]
				clear(dl)
				softmaxBackward(dl, ps.dlogp[o:], de, a.probs[o*V:], a.logits, a.lse[o:], a.ent[o:], ps.ptargets[r:], k, V)
				unembedBackward(g.lnf[r*C:], gp.Lmw, dl, a.lnf[r*C:], p.Lmw, k, C, V)
			}
		}
	}
	if dvalue != nil {
		for r, i := range ps.at {
			d := dvalue[i]
			if d == 0 {
				continue
			}
			h := a.lnf[r*C : (r+1)*C]
			axpy(d, p.Headw, g.lnf[r*C:(r+1)*C])
			axpy(d, h, gp.Headw)
			gp.Headb[0] += d
		}
	}
	last := a.res3[(L-1)*R*C : L*R*C]
	clear(g.res)
	layernormBackward(g.res, gp.Lnfw, gp.Lnfb, g.lnf, last, p.Lnfw, a.lnfMean, a.lnfRstd, R, C)

	gelu := a.gelu[:R*H]
	for l := L - 1; l >= 0; l-- {
		w := p.layer(l, C, H)
		dw := gp.layer(l, C, H)
		residual := a.encoded
		if l > 0 {
			residual = a.res3[(l-1)*R*C : l*R*C]
		}
		sl := func(x []float32, k int) []float32 { return x[l*R*k : (l+1)*R*k] }
		// g.res holds ∂L/∂res3 of this layer.
		clear(g.res2)
		clear(g.proj)
		residualBackward(g.res2, g.proj, g.res)
		geluRecompute(gelu, sl(a.fch, H), sl(a.fchTanh, H))
		clear(g.gelu)
		linearBackward(g.gelu, dw.fcprojw, dw.fcprojb, g.proj, gelu, w.fcprojw, R, H, C)
		clear(g.fch)
		geluBackward(g.fch, sl(a.fch, H), sl(a.fchTanh, H), g.gelu)
		clear(g.ln)
		linearBackward(g.ln, dw.fcw, dw.fcb, g.fch, sl(a.ln2, C), w.fcw, R, C, H)
		layernormBackward(g.res2, dw.ln2w, dw.ln2b, g.ln, sl(a.res2, C), w.ln2w, sl(a.ln2Mean, 1), sl(a.ln2Rstd, 1), R, C)
		// From here g.res holds ∂L/∂ of this layer's input (res3 of the layer below,
		// or the embeddings).
		clear(g.res)
		clear(g.proj)
		residualBackward(g.res, g.proj, g.res2)
		clear(g.atty)
		linearBackward(g.atty, dw.attprojw, dw.attprojb, g.proj, sl(a.atty, C), w.attprojw, R, C, C)
		clear(g.qkv)
		att := a.att[l*a.A : (l+1)*a.A]
		qkv := sl(a.qkv, 3*C)
		ao := 0
		for b, n := range ps.lens {
			r0 := ps.off[b]
			attentionBackward(g.qkv[r0*3*C:(r0+n)*3*C], g.atty[r0*C:(r0+n)*C], qkv[r0*3*C:(r0+n)*3*C], att[ao:ao+NH*n*n], ps.scratch, 1, n, C, NH, n)
			ao += NH * n * n
		}
		clear(g.ln)
		linearBackward(g.ln, dw.qkvw, dw.qkvb, g.qkv, sl(a.ln1, C), w.qkvw, R, C, 3*C)
		layernormBackward(g.res, dw.ln1w, dw.ln1b, g.ln, residual, w.ln1w, sl(a.ln1Mean, 1), sl(a.ln1Rstd, 1), R, C)
	}
	for b, n := range ps.lens {
		r0 := ps.off[b]
		encoderBackward(gp.Wte, gp.Wpe, g.res[r0*C:], ps.ptokens[r0:r0+n], n, C, 0)
	}
}

// allZero reports whether every element of x is 0.
func allZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

// growBuffer replaces *buf, too small for n values, by a buffer with a quarter more
// room, so that batches of slowly growing length do not grow it at every step. A
// large old buffer is collected before the new one is allocated: Go's wasm memory
// never shrinks, and a new buffer allocated while the old one still holds its pages
// leaves the old one's pages as a hole that only smaller objects can use — in the
// lesson's PPO on the transformer, whose answers lengthen as it learns to pad, the
// worker reached 170 MB for 80 MB live.
func growBuffer(buf *[]float32, n int) {
	big := cap(*buf) >= bigBuffer/4
	*buf = nil
	if big {
		runtime.GC()
	}
	*buf = make([]float32, n+n/4)
}

// bigBuffer is the size in bytes from which growBuffer collects the old buffer
// first (a collection costs about a millisecond per 10 MB live here).
const bigBuffer = 4 << 20
