package lm

import (
	"fmt"
	"math"
	"testing"

	"prefer/core/rng"
)

// Every backward function is checked against central finite differences
//
//	∂L/∂x_i ≈ (L(x + ε·e_i) − L(x − ε·e_i)) / 2ε
//
// of a scalar test loss L = Σ out ⊙ R with random R (so dout = R), computed in float64
// from the float32 outputs. ε = 3e-3 balances the float32 rounding of the outputs
// (about 1e-6 on losses of order 10, so ~2e-4 in the quotient) against the ε²
// truncation error; the tolerance is 1e-2 relative plus 1e-3 absolute.

const (
	fdEps    = 3e-3
	fdRelTol = 1e-2
	fdAbsTol = 1e-3
)

func randSlice(r *rng.RNG, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(scale * r.Norm())
	}
	return x
}

// weighted returns Σ out_i·R_i in float64.
func weighted(out, R []float32) float64 {
	var s float64
	for i := range out {
		s += float64(float64(out[i]) * float64(R[i]))
	}
	return s
}

// checkGrad compares analytic[i] with the central difference of loss in x[i] for
// every i (or every stride-th i), restoring x afterwards.
func checkGrad(tb testing.TB, name string, x, analytic []float32, loss func() float64) {
	tb.Helper()
	if len(x) != len(analytic) {
		tb.Fatalf("%s: %d values, %d gradients", name, len(x), len(analytic))
	}
	bad := 0
	for i := range x {
		orig := x[i]
		x[i] = orig + fdEps
		up := loss()
		x[i] = orig - fdEps
		down := loss()
		x[i] = orig
		// The perturbation actually applied, after float32 rounding.
		h := float64(orig+fdEps) - float64(orig-fdEps)
		fd := (up - down) / h
		got := float64(analytic[i])
		if math.Abs(got-fd) > float64(fdRelTol*math.Max(math.Abs(got), math.Abs(fd)))+fdAbsTol {
			if bad < 5 {
				tb.Errorf("%s[%d]: analytic %.6g, finite difference %.6g", name, i, got, fd)
			}
			bad++
		}
	}
	if bad > 0 {
		tb.Errorf("%s: %d of %d gradients disagree", name, bad, len(x))
	}
}

func TestLinearBackward(t *testing.T) {
	r := rng.New(1)
	const N, C, OC = 5, 11, 7 // odd sizes exercise the unrolled kernels' tails
	inp, w, bias := randSlice(r, N*C, 1), randSlice(r, C*OC, 0.5), randSlice(r, OC, 0.5)
	R := randSlice(r, N*OC, 1)
	out := make([]float32, N*OC)
	loss := func() float64 { linearForward(out, inp, w, bias, N, C, OC); return weighted(out, R) }
	dinp, dw, db := make([]float32, N*C), make([]float32, C*OC), make([]float32, OC)
	loss()
	linearBackward(dinp, dw, db, R, inp, w, N, C, OC)
	checkGrad(t, "dinp", inp, dinp, loss)
	checkGrad(t, "dw", w, dw, loss)
	checkGrad(t, "dbias", bias, db, loss)
}

func TestLinearSizes(t *testing.T) {
	// The tiled, unrolled kernels must equal the plain definition for every
	// remainder of the tiles (rows by 2, coefficients by 4, elements by 8).
	r := rng.New(2)
	for _, sz := range [][3]int{{1, 1, 1}, {1, 8, 8}, {3, 9, 5}, {4, 16, 12}, {5, 17, 13}, {9, 33, 3}, {2, 48, 144}, {7, 5, 19}} {
		N, C, OC := sz[0], sz[1], sz[2]
		t.Run(fmt.Sprint(sz), func(t *testing.T) {
			inp, w, bias := randSlice(r, N*C, 1), randSlice(r, C*OC, 1), randSlice(r, OC, 1)
			out := make([]float32, N*OC)
			linearForward(out, inp, w, bias, N, C, OC)
			for n := 0; n < N; n++ {
				for o := 0; o < OC; o++ {
					want := float64(bias[o])
					for i := 0; i < C; i++ {
						want += float64(float64(inp[n*C+i]) * float64(w[i*OC+o]))
					}
					closeTo(t, "out", float64(out[n*OC+o]), want)
				}
			}
			dout := randSlice(r, N*OC, 1)
			dinp, dw := make([]float32, N*C), make([]float32, C*OC)
			linearBackward(dinp, dw, nil, dout, inp, w, N, C, OC)
			for n := 0; n < N; n++ {
				for i := 0; i < C; i++ {
					var want float64
					for o := 0; o < OC; o++ {
						want += float64(float64(dout[n*OC+o]) * float64(w[i*OC+o]))
					}
					closeTo(t, "dinp", float64(dinp[n*C+i]), want)
				}
			}
			for i := 0; i < C; i++ {
				for o := 0; o < OC; o++ {
					var want float64
					for n := 0; n < N; n++ {
						want += float64(float64(dout[n*OC+o]) * float64(inp[n*C+i]))
					}
					closeTo(t, "dw", float64(dw[i*OC+o]), want)
				}
			}
			// The output layer: w as (V, C) = (OC, C) rows.
			logits := make([]float32, N*OC)
			unembedForward(logits, inp, w, N, C, OC)
			for n := 0; n < N; n++ {
				for v := 0; v < OC; v++ {
					var want float64
					for i := 0; i < C; i++ {
						want += float64(float64(inp[n*C+i]) * float64(w[v*C+i]))
					}
					closeTo(t, "logits", float64(logits[n*OC+v]), want)
				}
			}
			dh, dwu := make([]float32, N*C), make([]float32, OC*C)
			unembedBackward(dh, dwu, dout, inp, w, N, C, OC)
			for n := 0; n < N; n++ {
				for i := 0; i < C; i++ {
					var want float64
					for v := 0; v < OC; v++ {
						want += float64(float64(dout[n*OC+v]) * float64(w[v*C+i]))
					}
					closeTo(t, "dh", float64(dh[n*C+i]), want)
				}
			}
			for v := 0; v < OC; v++ {
				for i := 0; i < C; i++ {
					var want float64
					for n := 0; n < N; n++ {
						want += float64(float64(dout[n*OC+v]) * float64(inp[n*C+i]))
					}
					closeTo(t, "dw (unembed)", float64(dwu[v*C+i]), want)
				}
			}
		})
	}
}

// closeTo fails when got is not within float32 rounding of want.
func closeTo(tb testing.TB, name string, got, want float64) {
	tb.Helper()
	if math.Abs(got-want) > float64(1e-4*(1+math.Abs(want))) {
		tb.Fatalf("%s = %v, want %v", name, got, want)
	}
}

// TestRowsIndependentOfBatch checks the property incremental decoding relies on: a
// row's output is bit-identical whether it is computed alone or inside a batch.
func TestRowsIndependentOfBatch(t *testing.T) {
	r := rng.New(8)
	const N, C, OC = 7, 21, 13
	inp, w, bias := randSlice(r, N*C, 1), randSlice(r, C*OC, 1), randSlice(r, OC, 1)
	all := make([]float32, N*OC)
	linearForward(all, inp, w, bias, N, C, OC)
	allU := make([]float32, N*OC)
	unembedForward(allU, inp, w[:OC*C], N, C, OC)
	for n := 0; n < N; n++ {
		one := make([]float32, OC)
		linearForward(one, inp[n*C:(n+1)*C], w, bias, 1, C, OC)
		oneU := make([]float32, OC)
		unembedForward(oneU, inp[n*C:(n+1)*C], w[:OC*C], 1, C, OC)
		for o := range one {
			if one[o] != all[n*OC+o] || oneU[o] != allU[n*OC+o] {
				t.Fatalf("row %d differs alone and in the batch at %d", n, o)
			}
		}
	}
}

func TestLayernormBackward(t *testing.T) {
	r := rng.New(3)
	const N, C = 4, 9
	inp, w, b := randSlice(r, N*C, 1), randSlice(r, C, 1), randSlice(r, C, 1)
	R := randSlice(r, N*C, 1)
	out, mean, rstd := make([]float32, N*C), make([]float32, N), make([]float32, N)
	loss := func() float64 { layernormForward(out, mean, rstd, inp, w, b, N, C); return weighted(out, R) }
	loss()
	dinp, dw, db := make([]float32, N*C), make([]float32, C), make([]float32, C)
	layernormBackward(dinp, dw, db, R, inp, w, mean, rstd, N, C)
	checkGrad(t, "dinp", inp, dinp, loss)
	checkGrad(t, "dw", w, dw, loss)
	checkGrad(t, "db", b, db, loss)
}

func TestAttentionBackward(t *testing.T) {
	// Head sizes 4, 5 (blocks of four and a tail) and 12 (the default, written out).
	for _, c := range []struct{ B, T, C, NH int }{{2, 5, 8, 2}, {1, 4, 10, 2}, {2, 4, 24, 2}} {
		r := rng.New(4)
		B, T, C, NH := c.B, c.T, c.C, c.NH
		qkv := randSlice(r, B*T*3*C, 1)
		R := randSlice(r, B*T*C, 1)
		out, att := make([]float32, B*T*C), make([]float32, B*NH*T*T)
		loss := func() float64 { attentionForward(out, att, qkv, B, T, C, NH, 0, T); return weighted(out, R) }
		loss()
		dqkv := make([]float32, B*T*3*C)
		attentionBackward(dqkv, R, qkv, att, make([]float32, T), B, T, C, NH, T)
		checkGrad(t, fmt.Sprintf("dqkv (head size %d)", C/NH), qkv, dqkv, loss)
	}
}

func TestGeluBackward(t *testing.T) {
	r := rng.New(5)
	inp := randSlice(r, 40, 2)
	R := randSlice(r, 40, 1)
	out, th := make([]float32, 40), make([]float32, 40)
	loss := func() float64 { geluForward(out, th, inp); return weighted(out, R) }
	loss()
	dinp := make([]float32, 40)
	geluBackward(dinp, inp, th, R)
	checkGrad(t, "dinp", inp, dinp, loss)
	// gelu(0) = 0, gelu'(0) = ½ (the definition).
	geluForward(out[:1], th[:1], []float32{0})
	d := []float32{0}
	geluBackward(d, []float32{0}, th[:1], []float32{1})
	if out[0] != 0 || d[0] != 0.5 {
		t.Errorf("gelu(0) = %v, gelu'(0) = %v; want 0, 0.5", out[0], d[0])
	}
}

func TestSoftmaxBackward(t *testing.T) {
	r := rng.New(6)
	const N, V = 4, 7
	logits := randSlice(r, N*V, 2)
	targets := []int32{3, -1, 0, 6}
	Rl, Re := randSlice(r, N, 1), randSlice(r, N, 1)
	probs, lse, logp, ent := make([]float32, N*V), make([]float32, N), make([]float32, N), make([]float32, N)
	loss := func() float64 {
		softmaxForward(probs, lse, logp, ent, logits, targets, N, V)
		return weighted(logp, Rl) + weighted(ent, Re)
	}
	loss()
	if logp[1] != 0 {
		t.Errorf("logp without target = %v, want 0", logp[1])
	}
	dlogits := make([]float32, N*V)
	softmaxBackward(dlogits, Rl, Re, probs, logits, lse, ent, targets, N, V)
	checkGrad(t, "dlogits", logits, dlogits, loss)
	// Uniform logits: entropy log V, logp −log V.
	u := make([]float32, V)
	softmaxForward(probs[:V], lse[:1], logp[:1], ent[:1], u, []int32{2}, 1, V)
	if math.Abs(float64(ent[0])-math.Log(V)) > 1e-6 || math.Abs(float64(logp[0])+math.Log(V)) > 1e-6 {
		t.Errorf("uniform: entropy %v, logp %v; want log 7 = %v", ent[0], logp[0], math.Log(V))
	}
}

func TestEncoderBackward(t *testing.T) {
	r := rng.New(7)
	const V, T, C, N, t0 = 5, 6, 4, 3, 2
	wte, wpe := randSlice(r, V*C, 1), randSlice(r, T*C, 1)
	tokens := []int32{4, 1, 4}
	R := randSlice(r, N*C, 1)
	out := make([]float32, N*C)
	loss := func() float64 { encoderForward(out, tokens, wte, wpe, N, C, t0); return weighted(out, R) }
	dwte, dwpe := make([]float32, V*C), make([]float32, T*C)
	encoderBackward(dwte, dwpe, R, tokens, N, C, t0)
	checkGrad(t, "dwte", wte, dwte, loss)
	checkGrad(t, "dwpe", wpe, dwpe, loss)
}

// tinyConfig is the model of the whole-model gradient checks.
func tinyConfig(untied bool) Config {
	return Config{Vocab: 11, Context: 6, Layers: 2, Heads: 2, Channels: 8, Hidden: 12, Untied: untied}.WithDefaults()
}

// TestModelBackward checks every parameter of a tiny model against finite
// differences of a loss that involves target log-probabilities, entropies and the
// scalar head at every position, with padding (target −1) in one sequence.
func TestModelBackward(t *testing.T) {
	for _, untied := range []bool{false, true} {
		t.Run(fmt.Sprintf("untied=%v", untied), func(t *testing.T) {
			c := tinyConfig(untied)
			c.InitStd = 0.3 // larger weights than GPT-2's make every path matter
			m, err := New(c, 11)
			if err != nil {
				t.Fatal(err)
			}
			r := rng.New(12)
			for i := range m.P.Headw {
				m.P.Headw[i] = float32(r.Norm())
			}
			m.P.Headb[0] = 0.3
			for i := range m.P.Ln1b {
				m.P.Ln1b[i] = float32(0.2 * r.Norm())
			}
			const B, T = 2, 5
			tokens := []int32{1, 5, 2, 9, 3, 0, 10, 10, 4, 7}
			targets := []int32{5, 2, 9, 3, 8, 10, 10, 4, -1, -1}
			N := B * T
			wl, we, wv := randSlice(r, N, 1), randSlice(r, N, 0.5), randSlice(r, N, 1)
			for i, tg := range targets {
				if tg < 0 {
					wl[i] = 0
				}
			}
			loss := func() float64 {
				m.Forward(tokens, targets, B, T)
				return weighted(m.LogProbs(), wl) + weighted(m.Entropies(), we) + weighted(m.Values(), wv)
			}
			loss()
			m.ZeroGrad()
			m.Backward(wl, we, wv)
			grads := append([]float32(nil), m.Grads...)
			for _, s := range c.specs() {
				x := tensorOf(&m.P, s.name)
				gv := views(c, grads)
				g := tensorOf(&gv, s.name)
				if s.name == "wpe" { // positions ≥ T get no gradient; check those used
					x, g = x[:T*c.Channels], g[:T*c.Channels]
				}
				checkGrad(t, s.name, x, g, loss)
			}
		})
	}
}

// TestCrossEntropyBackward checks the pretraining loss (mean NLL) end to end.
func TestCrossEntropyBackward(t *testing.T) {
	c := tinyConfig(false)
	c.InitStd = 0.3
	m, _ := New(c, 13)
	tokens := []int32{1, 5, 2, 9, 3, 0, 10, 10, 4, 7, 7, 2}
	targets := []int32{5, 2, 9, 3, 8, 1, 10, 4, 7, 7, 2, -1}
	loss := func() float64 { return m.Forward(tokens, targets, 2, 6) }
	loss()
	m.ZeroGrad()
	m.Backward(crossEntropyGrad(nil, targets), nil, nil)
	checkGrad(t, "params", m.Params, m.Grads, loss)
}
