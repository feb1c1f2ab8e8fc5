package lm

import (
	"fmt"
	"math"

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
	gact activations // gradients of the activations, reused by Backward
	// tokens and targets of the last forward pass, (B, T)
	tokens, targets []int32
	// lens holds the computed length of each sequence of the last forward pass
	// (positions from lens[b] on are padding, not computed); nil: all T.
	lens    []int
	segs    []segment
	runs    [][2]int // runs of computed rows, for Backward
	outRuns [][2]int // runs of rows with a target, for Backward
	// scored: the last forward pass computed the output layer (logits,
	// probabilities, log-probabilities, entropies) only at positions with a target.
	scored  bool
	scratch []float32
	dec     *decoder // incremental decoding (Generate), made on first use
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
	projStd := std / math.Sqrt(2*float64(c.Layers))
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

// ZeroGrad sets every gradient to zero, allocating Grads on first use.
func (m *Model) ZeroGrad() {
	if m.Grads == nil {
		m.Grads = make([]float32, len(m.Params))
		m.G = views(m.Config, m.Grads)
		return
	}
	clear(m.Grads)
}

// activations are the intermediate tensors of one forward pass over (B, T), all views
// into one buffer. L = layers, NH = heads, H = MLP width, V = vocabulary.
type activations struct {
	B, T    int
	buf     []float32
	encoded []float32 // (B, T, C)
	ln1     []float32 // (L, B, T, C)
	ln1Mean []float32 // (L, B, T)
	ln1Rstd []float32 // (L, B, T)
	qkv     []float32 // (L, B, T, 3C)
	atty    []float32 // (L, B, T, C)
	att     []float32 // (L, B, NH, T, T)
	attproj []float32 // (L, B, T, C)
	res2    []float32 // (L, B, T, C)
	ln2     []float32 // (L, B, T, C)
	ln2Mean []float32 // (L, B, T)
	ln2Rstd []float32 // (L, B, T)
	fch     []float32 // (L, B, T, H)
	fchGelu []float32 // (L, B, T, H)
	fchTanh []float32 // (L, B, T, H) the tanh inside GELU, kept for the backward pass
	fcproj  []float32 // (L, B, T, C)
	res3    []float32 // (L, B, T, C)
	lnf     []float32 // (B, T, C)
	lnfMean []float32 // (B, T)
	lnfRstd []float32 // (B, T)
	logits  []float32 // (B, T, V)
	probs   []float32 // (B, T, V)
	lse     []float32 // (B, T)
	logp    []float32 // (B, T)
	ent     []float32 // (B, T)
	value   []float32 // (B, T)
}

// layout slices a.buf for (B, T), growing it if needed. With grad, it lays out
// only the tensors whose gradients Backward keeps (the others are empty).
func (a *activations) layout(c Config, B, T int, grad bool) {
	L, C, NH, H, V := c.Layers, c.Channels, c.Heads, c.Hidden, c.Vocab
	N := B * T
	sizes := [...]int{
		N * C, L * N * C, L * N, L * N, L * N * 3 * C, L * N * C, L * B * NH * T * T,
		L * N * C, L * N * C, L * N * C, L * N, L * N, L * N * H, L * N * H, L * N * C,
		L * N * C, N * C, N, N, N * V, N * V, N, N, N, N, L * N * H,
	}
	if grad {
		// layer-norm statistics, attention weights, probabilities, per-position
		// outputs and the GELU's tanh
		for _, i := range [...]int{2, 3, 6, 10, 11, 17, 18, 20, 21, 22, 23, 24, 25} {
			sizes[i] = 0
		}
	}
	total := 0
	for _, s := range sizes {
		total += s
	}
	if cap(a.buf) < total {
		a.buf = make([]float32, total)
	}
	a.buf = a.buf[:total]
	a.B, a.T = B, T
	off := 0
	next := func(i int) []float32 {
		v := a.buf[off : off+sizes[i] : off+sizes[i]]
		off += sizes[i]
		return v
	}
	a.encoded, a.ln1, a.ln1Mean, a.ln1Rstd = next(0), next(1), next(2), next(3)
	a.qkv, a.atty, a.att = next(4), next(5), next(6)
	a.attproj, a.res2, a.ln2, a.ln2Mean, a.ln2Rstd = next(7), next(8), next(9), next(10), next(11)
	a.fch, a.fchGelu, a.fcproj, a.res3 = next(12), next(13), next(14), next(15)
	a.lnf, a.lnfMean, a.lnfRstd = next(16), next(17), next(18)
	a.logits, a.probs = next(19), next(20)
	a.lse, a.logp, a.ent = next(21), next(22), next(23)
	a.value = next(24)
	a.fchTanh = next(25)
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
	return m.forwardLens(tokens, targets, B, T, nil)
}

// forwardLens is Forward on padded sequences: the positions t ≥ lens[b] of sequence
// b are padding (no target), which no earlier position attends to, so they are not
// computed at all; their log-probabilities, entropies and values are 0. The results
// at the other positions are those of Forward, bit for bit. lens nil means no
// padding. Backward then skips the padding too.
func (m *Model) forwardLens(tokens, targets []int32, B, T int, lens []int) float64 {
	return m.forwardScored(tokens, targets, B, T, lens, false)
}

// forwardScored is forwardLens; with scored, the output layer runs only at the
// positions with a target (the rest get log-probability and entropy 0, and Backward
// then takes no entropy gradient there). The log-probabilities at the targets and
// the head's values are the same, bit for bit.
func (m *Model) forwardScored(tokens, targets []int32, B, T int, lens []int, scored bool) float64 {
	m.checkBatch(tokens, targets, B, T)
	m.act.layout(m.Config, B, T, false)
	m.tokens = append(m.tokens[:0], tokens...)
	if targets == nil {
		m.targets = m.targets[:0]
		for range tokens {
			m.targets = append(m.targets, -1)
		}
	} else {
		m.targets = append(m.targets[:0], targets...)
	}
	m.lens = m.lens[:0]
	m.segs = m.segs[:0]
	for b := 0; b < B; b++ {
		n := T
		if lens != nil {
			n = lens[b]
			if n < 1 || n > T {
				panic(fmt.Sprintf("lm: sequence length %d for context %d", n, T))
			}
			for _, t := range m.targets[b*T+n : (b+1)*T] {
				if t >= 0 {
					panic("lm: a target in the padding")
				}
			}
		}
		m.lens = append(m.lens, n)
		m.segs = append(m.segs, segment{b, 0, n})
	}
	m.scored = scored
	m.forward(m.segs, false)
	a := &m.act
	if scored {
		for i, t := range m.targets {
			if t < 0 {
				a.logp[i], a.ent[i] = 0, 0
			}
		}
	}
	for b, n := range m.lens {
		lo, hi := b*T+n, (b+1)*T
		clear(a.logp[lo:hi])
		clear(a.ent[lo:hi])
		clear(a.lse[lo:hi])
		clear(a.value[lo:hi])
	}
	var sum float64
	n := 0
	for i, t := range targets {
		if t >= 0 {
			sum -= float64(m.act.logp[i])
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

// forward computes the activations of the given segments, layer by layer, in the
// current layout (m.act.B, m.act.T) with m.tokens and m.targets. Rows before a
// segment's t0 must hold their activations already. With lastOnly, logits and
// probabilities are computed only at each segment's last position (for sampling).
func (m *Model) forward(segs []segment, lastOnly bool) {
	c := m.Config
	a := &m.act
	B, T := a.B, a.T
	L, C, NH, H, V := c.Layers, c.Channels, c.Heads, c.Hidden, c.Vocab
	N := B * T
	p := &m.P
	for _, s := range segs {
		r0 := s.b*T + s.t0
		n := s.t1 - s.t0
		encoderForward(a.encoded[r0*C:], m.tokens[r0:r0+n], p.Wte, p.Wpe, n, C, s.t0)
	}
	for l := 0; l < L; l++ {
		w := p.layer(l, C, H)
		residual := a.encoded
		if l > 0 {
			residual = a.res3[(l-1)*N*C : l*N*C]
		}
		ln1 := a.ln1[l*N*C : (l+1)*N*C]
		ln1Mean, ln1Rstd := a.ln1Mean[l*N:(l+1)*N], a.ln1Rstd[l*N:(l+1)*N]
		qkv := a.qkv[l*N*3*C : (l+1)*N*3*C]
		atty := a.atty[l*N*C : (l+1)*N*C]
		att := a.att[l*B*NH*T*T : (l+1)*B*NH*T*T]
		attproj := a.attproj[l*N*C : (l+1)*N*C]
		res2 := a.res2[l*N*C : (l+1)*N*C]
		ln2 := a.ln2[l*N*C : (l+1)*N*C]
		ln2Mean, ln2Rstd := a.ln2Mean[l*N:(l+1)*N], a.ln2Rstd[l*N:(l+1)*N]
		fch := a.fch[l*N*H : (l+1)*N*H]
		fchGelu := a.fchGelu[l*N*H : (l+1)*N*H]
		fchTanh := a.fchTanh[l*N*H : (l+1)*N*H]
		fcproj := a.fcproj[l*N*C : (l+1)*N*C]
		res3 := a.res3[l*N*C : (l+1)*N*C]
		for _, s := range segs {
			r0, n := s.b*T+s.t0, s.t1-s.t0
			rc, rc3 := r0*C, r0*3*C
			layernormForward(ln1[rc:], ln1Mean[r0:], ln1Rstd[r0:], residual[rc:], w.ln1w, w.ln1b, n, C)
			linearForward(qkv[rc3:], ln1[rc:], w.qkvw, w.qkvb, n, C, 3*C)
		}
		for _, s := range segs {
			sb := s.b * T
			attentionForward(atty[sb*C:(sb+T)*C], att[s.b*NH*T*T:(s.b+1)*NH*T*T], qkv[sb*3*C:(sb+T)*3*C], 1, T, C, NH, s.t0, s.t1)
		}
		for _, s := range segs {
			r0, n := s.b*T+s.t0, s.t1-s.t0
			rc, rh := r0*C, r0*H
			linearForward(attproj[rc:], atty[rc:], w.attprojw, w.attprojb, n, C, C)
			residualForward(res2[rc:rc+n*C], residual[rc:], attproj[rc:])
			layernormForward(ln2[rc:], ln2Mean[r0:], ln2Rstd[r0:], res2[rc:], w.ln2w, w.ln2b, n, C)
			linearForward(fch[rh:], ln2[rc:], w.fcw, w.fcb, n, C, H)
			geluForward(fchGelu[rh:rh+n*H], fchTanh[rh:rh+n*H], fch[rh:])
			linearForward(fcproj[rc:], fchGelu[rh:], w.fcprojw, w.fcprojb, n, H, C)
			residualForward(res3[rc:rc+n*C], res2[rc:], fcproj[rc:])
		}
	}
	last := a.res3[(L-1)*N*C : L*N*C]
	for _, s := range segs {
		r0, n := s.b*T+s.t0, s.t1-s.t0
		rc := r0 * C
		layernormForward(a.lnf[rc:], a.lnfMean[r0:], a.lnfRstd[r0:], last[rc:], p.Lnfw, p.Lnfb, n, C)
		for i := 0; i < n; i++ {
			h := a.lnf[rc+i*C : rc+(i+1)*C]
			a.value[r0+i] = dot(p.Headw, h) + p.Headb[0]
		}
		if m.NoLogits {
			continue
		}
		if lastOnly {
			r0 += n - 1
			rc = r0 * C
			n = 1
		}
		if !m.scored || lastOnly {
			rv := r0 * V
			unembedForward(a.logits[rv:], a.lnf[rc:], p.Lmw, n, C, V)
			softmaxForward(a.probs[rv:], a.lse[r0:], a.logp[r0:], a.ent[r0:], a.logits[rv:], m.targets[r0:r0+n], n, V)
			continue
		}
		// Only the runs of positions that have a target.
		for i := 0; i < n; {
			if m.targets[r0+i] < 0 {
				i++
				continue
			}
			j := i + 1
			for j < n && m.targets[r0+j] >= 0 {
				j++
			}
			r, k := r0+i, j-i
			unembedForward(a.logits[r*V:], a.lnf[r*C:], p.Lmw, k, C, V)
			softmaxForward(a.probs[r*V:], a.lse[r:], a.logp[r:], a.ent[r:], a.logits[r*V:], m.targets[r:r+k], k, V)
			i = j
		}
	}
}

// LogProbs returns the log-probabilities log π(target | prefix) of the last forward
// pass, (B, T); 0 where the target was −1. The slice is reused by the next Forward.
func (m *Model) LogProbs() []float32 { return m.act.logp[:m.act.B*m.act.T] }

// Entropies returns the entropy of the next-token distribution at each position of
// the last forward pass, (B, T), in nats.
func (m *Model) Entropies() []float32 { return m.act.ent[:m.act.B*m.act.T] }

// Values returns the scalar head's output at each position of the last forward pass,
// (B, T): the value estimate of PPO, or the reward of a reward model.
func (m *Model) Values() []float32 { return m.act.value[:m.act.B*m.act.T] }

// Backward accumulates into Grads the gradient of a loss L of the last forward
// pass, given its partial derivatives, each (B, T):
//
//	dlogp[b,t]  = ∂L/∂ log π(target[b,t] | prefix)
//	dent[b,t]   = ∂L/∂ H[b,t]          (nil: the loss does not involve entropies)
//	dvalue[b,t] = ∂L/∂ head[b,t]       (nil: the loss does not involve the head)
//
// Every loss of this package's trainers has that form: cross-entropy (dlogp = −1/n),
// policy gradients (dlogp = −advantage·ratio…), the value loss, Bradley–Terry on the
// head. Call ZeroGrad first to start from zero.
func (m *Model) Backward(dlogp, dent, dvalue []float32) {
	c := m.Config
	a := &m.act
	B, T := a.B, a.T
	N := B * T
	if len(dlogp) != N || (dent != nil && len(dent) != N) || (dvalue != nil && len(dvalue) != N) {
		panic(fmt.Sprintf("lm: Backward gradients of length %d, %d, %d for %d positions", len(dlogp), len(dent), len(dvalue), N))
	}
	if m.Grads == nil {
		m.ZeroGrad()
	}
	L, C, NH, H, V := c.Layers, c.Channels, c.Heads, c.Hidden, c.Vocab
	g := &m.gact
	g.layout(c, B, T, true)
	clear(g.buf)
	if cap(m.scratch) < T {
		m.scratch = make([]float32, T)
	}
	p, gp := &m.P, &m.G
	// The computed rows of the last forward pass, as runs of consecutive rows
	// [r0, r1): every row's gradient is accumulated in order of rows, so the
	// weight gradients are those of one pass over all rows (padding rows would
	// only add zeros).
	runs := m.runs[:0]
	for b, n := range m.lens {
		r0 := b * T
		if k := len(runs); k > 0 && runs[k-1][1] == r0 {
			runs[k-1][1] = r0 + n
		} else {
			runs = append(runs, [2]int{r0, r0 + n})
		}
	}
	m.runs = runs

	if !m.NoLogits && (dent != nil || !allZero(dlogp)) {
		outRuns := runs
		if m.scored {
			// The output layer ran only where there is a target.
			outRuns = m.targetRuns(runs, dent)
		}
		for _, rn := range outRuns {
			r0, n := rn[0], rn[1]-rn[0]
			var de []float32
			if dent != nil {
				de = dent[r0:]
			}
			softmaxBackward(g.logits[r0*V:], dlogp[r0:], de, a.probs[r0*V:], a.logits[r0*V:], a.lse[r0:], a.ent[r0:], m.targets[r0:], n, V)
			unembedBackward(g.lnf[r0*C:], gp.Lmw, g.logits[r0*V:], a.lnf[r0*C:], p.Lmw, n, C, V)
		}
	}
	if dvalue != nil {
		for n := 0; n < N; n++ {
			d := dvalue[n]
			if d == 0 {
				continue
			}
			h := a.lnf[n*C : (n+1)*C]
			axpy(d, p.Headw, g.lnf[n*C:(n+1)*C])
			axpy(d, h, gp.Headw)
			gp.Headb[0] += d
		}
	}
	last := a.res3[(L-1)*N*C : L*N*C]
	dlast := g.res3[(L-1)*N*C : L*N*C]
	for _, rn := range runs {
		r0, n := rn[0], rn[1]-rn[0]
		layernormBackward(dlast[r0*C:], gp.Lnfw, gp.Lnfb, g.lnf[r0*C:], last[r0*C:], p.Lnfw, a.lnfMean[r0:], a.lnfRstd[r0:], n, C)
	}

	for l := L - 1; l >= 0; l-- {
		w := p.layer(l, C, H)
		dw := gp.layer(l, C, H)
		residual, dresidual := a.encoded, g.encoded
		if l > 0 {
			residual = a.res3[(l-1)*N*C : l*N*C]
			dresidual = g.res3[(l-1)*N*C : l*N*C]
		}
		sl := func(x []float32, k, r0 int) []float32 { return x[l*N*k+r0*k : (l+1)*N*k] }
		for _, rn := range runs {
			r0, n := rn[0], rn[1]-rn[0]
			dres3 := sl(g.res3, C, r0)
			dres2 := sl(g.res2, C, r0)
			dfcproj := sl(g.fcproj, C, r0)
			residualBackward(dres2[:n*C], dfcproj[:n*C], dres3[:n*C])
			linearBackward(sl(g.fchGelu, H, r0), dw.fcprojw, dw.fcprojb, dfcproj, sl(a.fchGelu, H, r0), w.fcprojw, n, H, C)
			geluBackward(sl(g.fch, H, r0)[:n*H], sl(a.fch, H, r0), sl(a.fchTanh, H, r0), sl(g.fchGelu, H, r0)[:n*H])
			linearBackward(sl(g.ln2, C, r0), dw.fcw, dw.fcb, sl(g.fch, H, r0), sl(a.ln2, C, r0), w.fcw, n, C, H)
			layernormBackward(dres2, dw.ln2w, dw.ln2b, sl(g.ln2, C, r0), sl(a.res2, C, r0), w.ln2w, sl(a.ln2Mean, 1, r0), sl(a.ln2Rstd, 1, r0), n, C)
			dattproj := sl(g.attproj, C, r0)
			residualBackward(dresidual[r0*C:(r0+n)*C], dattproj[:n*C], dres2[:n*C])
			linearBackward(sl(g.atty, C, r0), dw.attprojw, dw.attprojb, dattproj, sl(a.atty, C, r0), w.attprojw, n, C, C)
		}
		att := a.att[l*B*NH*T*T : (l+1)*B*NH*T*T]
		for b, n := range m.lens {
			r0 := b * T
			attentionBackward(sl(g.qkv, 3*C, r0), sl(g.atty, C, r0), sl(a.qkv, 3*C, r0), att[b*NH*T*T:], m.scratch, 1, T, C, NH, n)
		}
		for _, rn := range runs {
			r0, n := rn[0], rn[1]-rn[0]
			linearBackward(sl(g.ln1, C, r0), dw.qkvw, dw.qkvb, sl(g.qkv, 3*C, r0), sl(a.ln1, C, r0), w.qkvw, n, C, 3*C)
			layernormBackward(dresidual[r0*C:], dw.ln1w, dw.ln1b, sl(g.ln1, C, r0), residual[r0*C:], w.ln1w, sl(a.ln1Mean, 1, r0), sl(a.ln1Rstd, 1, r0), n, C)
		}
	}
	for b, n := range m.lens {
		encoderBackward(gp.Wte, gp.Wpe, g.encoded[b*T*C:], m.tokens[b*T:b*T+n], n, C, 0)
	}
}

// targetRuns returns the runs of consecutive rows with a target within runs (in
// m.outRuns, reused). dent must be 0 on the other rows: their entropies were not
// computed.
func (m *Model) targetRuns(runs [][2]int, dent []float32) [][2]int {
	out := m.outRuns[:0]
	for _, rn := range runs {
		for i := rn[0]; i < rn[1]; {
			if m.targets[i] < 0 {
				if dent != nil && dent[i] != 0 {
					panic("lm: an entropy gradient where the forward pass computed no entropy")
				}
				i++
				continue
			}
			j := i + 1
			for j < rn[1] && m.targets[j] >= 0 {
				j++
			}
			out = append(out, [2]int{i, j})
			i = j
		}
	}
	m.outRuns = out
	return out
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
