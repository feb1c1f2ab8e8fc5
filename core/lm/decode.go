package lm

// decoder is the state of incremental decoding (sampling): a key/value cache and
// the buffers of the rows one step computes, nothing else.
//
// The cache holds, for every layer, the packed query/key/value rows of every
// position decoded so far, (L, B, T, 3C): attention at a new position reads the
// keys and values of the earlier ones from it instead of recomputing them. (The
// query third is kept too, so the one attention kernel serves both the full
// forward pass and decoding; for the default model that is 5.9 MB for 64
// sequences of 80 positions.) A step computes only the new positions — a prompt's
// positions at the first step, one position per sequence after — packed row after
// row, and the output layer only at each sequence's last new position. The
// activations of earlier steps are not kept: sampling 64 answers costs the cache
// plus a few hundred rows' worth of buffers, instead of a training-size set of
// activations (78 MB for 64 × 80 positions).
//
// Every row goes through the same kernels as in Model.forward, and the kernels
// give every output element the same sum whatever the batch shape, so the logits
// are those of a full forward pass, bit for bit (TestIncrementalEqualsFull).
type decoder struct {
	B, T   int
	tokens []int32   // (B, T) the tokens of each sequence so far
	cache  []float32 // (L, B, T, 3C)
	att    []float32 // (NH, T, T) one sequence's attention weights (scratch)
	out    []float32 // (T, C) one sequence's attention output (scratch)

	// rows of one group of segments, at most rowCap (or one segment's length)
	x, ln, atty, tmp []float32 // (R, C) residual stream, layer norm, attention output, projections
	qkv              []float32 // (R, 3C)
	fch, gelu, th    []float32 // (R, H)
	mean, rstd       []float32 // (R)

	// the last new row of each segment of a step
	lnf, logits, probs []float32 // (S, C), (S, V), (S, V)
	lse, logp, ent     []float32 // (S)
	targets            []int32   // (S) all −1
	lnMean, lnRstd     []float32 // (S)
}

// rowCap bounds the rows a decoding step computes at once (a group of segments);
// a longer segment (a long prompt) is computed alone.
const rowCap = 256

// decoder returns m's decoder laid out for B sequences, reusing its buffers. The
// cache is not cleared: every position is written before it is read.
func (m *Model) decoder(B int) *decoder {
	c := m.Config
	T, C, L, NH, H, V := c.Context, c.Channels, c.Layers, c.Heads, c.Hidden, c.Vocab
	if m.dec == nil {
		m.dec = &decoder{}
	}
	d := m.dec
	d.B, d.T = B, T
	d.tokens = growInt32(d.tokens, B*T)
	d.cache = grow(d.cache, L*B*T*3*C)
	d.att = grow(d.att, NH*T*T)
	d.out = grow(d.out, T*C)
	R := max(rowCap, T)
	d.x, d.ln, d.atty, d.tmp = grow(d.x, R*C), grow(d.ln, R*C), grow(d.atty, R*C), grow(d.tmp, R*C)
	d.qkv = grow(d.qkv, R*3*C)
	d.fch, d.gelu, d.th = grow(d.fch, R*H), grow(d.gelu, R*H), grow(d.th, R*H)
	d.mean, d.rstd = grow(d.mean, R), grow(d.rstd, R)
	d.lnf, d.logits, d.probs = grow(d.lnf, B*C), grow(d.logits, B*V), grow(d.probs, B*V)
	d.lse, d.logp, d.ent = grow(d.lse, B), grow(d.logp, B), grow(d.ent, B)
	d.lnMean, d.lnRstd = grow(d.lnMean, B), grow(d.lnRstd, B)
	d.targets = growInt32(d.targets, B)
	for i := range d.targets {
		d.targets[i] = -1
	}
	return d
}

// floats returns the number of float32 values d holds (its memory is 4× that).
func (d *decoder) floats() int {
	n := 0
	for _, x := range [][]float32{d.cache, d.att, d.out, d.x, d.ln, d.atty, d.tmp, d.qkv, d.fch, d.gelu, d.th,
		d.mean, d.rstd, d.lnf, d.logits, d.probs, d.lse, d.logp, d.ent, d.lnMean, d.lnRstd} {
		n += cap(x)
	}
	return n + cap(d.tokens) + cap(d.targets)
}

// step computes the positions s.t0 ≤ t < s.t1 of each segment s (tokens from
// d.tokens; the cache must hold every earlier position) and leaves, for segment i,
// the logits and probabilities of the token after its last position in
// d.logits[i·V:] and d.probs[i·V:]. At most B segments.
func (d *decoder) step(m *Model, segs []segment) {
	for lo := 0; lo < len(segs); {
		hi, rows := lo, 0
		for hi < len(segs) && (hi == lo || rows+segs[hi].t1-segs[hi].t0 <= rowCap) {
			rows += segs[hi].t1 - segs[hi].t0
			hi++
		}
		d.rows(m, segs[lo:hi], lo, rows)
		lo = hi
	}
	c := m.Config
	C, V, S := c.Channels, c.Vocab, len(segs)
	unembedForward(d.logits, d.lnf, m.P.Lmw, S, C, V)
	softmaxForward(d.probs, d.lse, d.logp, d.ent, d.logits, d.targets[:S], S, V)
}

// rows runs the network on one group of segments, R rows packed in order, and
// writes the final layer norm of each segment's last row to d.lnf at the
// segment's index in the step (segs is the window of the step's segments that
// starts at index first).
func (d *decoder) rows(m *Model, segs []segment, first, R int) {
	c := m.Config
	L, C, NH, H := c.Layers, c.Channels, c.Heads, c.Hidden
	B, T := d.B, d.T
	C3 := 3 * C
	p := &m.P
	r := 0
	for _, s := range segs {
		n := s.t1 - s.t0
		encoderForward(d.x[r*C:], d.tokens[s.b*T+s.t0:s.b*T+s.t1], p.Wte, p.Wpe, n, C, s.t0)
		r += n
	}
	x, ln, atty, tmp := d.x[:R*C], d.ln[:R*C], d.atty[:R*C], d.tmp[:R*C]
	for l := 0; l < L; l++ {
		w := p.layer(l, C, H)
		cache := d.cache[l*B*T*C3 : (l+1)*B*T*C3]
		layernormForward(ln, d.mean, d.rstd, x, w.ln1w, w.ln1b, R, C)
		linearForward(d.qkv, ln, w.qkvw, w.qkvb, R, C, C3)
		r = 0
		for _, s := range segs {
			n := s.t1 - s.t0
			seq := cache[s.b*T*C3 : (s.b+1)*T*C3]
			copy(seq[s.t0*C3:s.t1*C3], d.qkv[r*C3:(r+n)*C3])
			attentionForward(d.out, d.att, seq, 1, T, C, NH, s.t0, s.t1)
			copy(atty[r*C:(r+n)*C], d.out[s.t0*C:s.t1*C])
			r += n
		}
		linearForward(tmp, atty, w.attprojw, w.attprojb, R, C, C)
		residualForward(x, x, tmp)
		layernormForward(ln, d.mean, d.rstd, x, w.ln2w, w.ln2b, R, C)
		fch, gelu, th := d.fch[:R*H], d.gelu[:R*H], d.th[:R*H]
		linearForward(fch, ln, w.fcw, w.fcb, R, C, H)
		geluForward(gelu, th, fch)
		linearForward(tmp, gelu, w.fcprojw, w.fcprojb, R, H, C)
		residualForward(x, x, tmp)
	}
	r = 0
	for i, s := range segs {
		r += s.t1 - s.t0
		k := first + i
		layernormForward(d.lnf[k*C:], d.lnMean[k:], d.lnRstd[k:], x[(r-1)*C:], p.Lnfw, p.Lnfb, 1, C)
	}
}
