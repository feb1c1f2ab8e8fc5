package lm

import (
	"math"
	"testing"

	"prefer/core/rng"
	"prefer/core/simd"
	"prefer/core/simd/simdtest"
)

// sameBits fails unless got and want are equal bit for bit (any NaN equals any NaN).
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			t.Fatalf("%s: element %d = %v (%#08x) with SIMD, %v (%#08x) with the Go kernel",
				what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// bothWays runs f (which must compute from scratch: same inputs every call) with
// the SIMD kernels and with the Go kernels and compares the results bit for bit.
func bothWays(t *testing.T, what string, f func() []float32) {
	t.Helper()
	prev := simd.SetEnabled(true)
	got := f()
	simd.SetEnabled(false)
	want := f()
	simd.SetEnabled(prev)
	sameBits(t, what, got, want)
}

// randVec returns n standard normal values scaled by s.
func randVec(r *rng.RNG, n int, s float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(s * r.Norm())
	}
	return x
}

// TestSIMDGemm checks the SIMD matrix kernels against the Go kernels bit for bit on
// random shapes, every tile and ragged tail included (rows 1–9, columns 1–70 and
// the model's 48, 144, 192, 462, inner sizes 0–70).
func TestSIMDGemm(t *testing.T) {
	simdtest.Require(t)
	r := rng.New(18)
	shapes := [][3]int{{1, 1, 1}, {4, 8, 8}, {5, 9, 13}, {768, 48, 192}, {17, 462, 48}, {3, 48, 144}, {9, 31, 24}, {2, 7, 33}, {6, 3, 0}}
	for range 40 {
		shapes = append(shapes, [3]int{1 + r.IntN(9), 1 + r.IntN(70), r.IntN(71)})
	}
	for _, s := range shapes {
		R, K, L := s[0], s[1], s[2]
		if L == 0 {
			L = 1 // gemmAcc needs columns; gemmDot below takes L = s[2] as is
		}
		A, S, Y := randVec(r, R*K, 1), randVec(r, K*L, 1), randVec(r, R*L, 1)
		bothWays(t, "gemmAcc row-major", func() []float32 {
			y := append([]float32(nil), Y...)
			gemmAcc(y, A, K, 1, S, R, K, L)
			return y
		})
		At := randVec(r, K*R, 1)
		bothWays(t, "gemmAcc column-major", func() []float32 {
			y := append([]float32(nil), Y...)
			gemmAcc(y, At, 1, R, S, R, K, L)
			return y
		})
		// gemmDot: Y (R, J=K) = base + X (R, L) · W (K, L)ᵀ.
		L = s[2]
		X, W, bias, Yd := randVec(r, R*L, 1), randVec(r, K*L, 1), randVec(r, K, 1), randVec(r, R*K, 1)
		for mode, name := range []string{"gemmDot", "gemmDot bias", "gemmDot acc"} {
			bothWays(t, name, func() []float32 {
				y := append([]float32(nil), Yd...)
				var b []float32
				if mode == 1 {
					b = bias
				}
				gemmDot(y, X, W, b, mode == 2, R, K, L)
				return y
			})
		}
	}
}

// TestSIMDExp checks the SIMD exponential against expSliceGo bit for bit on slices
// of every length 0–40 and offset, with values over the whole range and the special
// ones (NaN, ±Inf, ±0, the bounds of the four-lane path, overflow, underflow).
func TestSIMDExp(t *testing.T) {
	simdtest.Require(t)
	r := rng.New(19)
	var xs []float32
	for x := float32(-95); x < 95; x += 0.0391 {
		xs = append(xs, x)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{88, 88.01, 88.5, 88.72, 88.73, -87.33, -87.34, nan, 0, float32(math.Copysign(0, -1)), inf, -inf, 1e-30, -1e-30, 0.5, -0.5, 0.34657359, -0.34657359}
	for i := range 2000 {
		xs = append(xs, float32(40*r.Norm()))
		if i%7 == 0 {
			xs = append(xs, special[r.IntN(len(special))])
		}
	}
	xs = append(xs, special...)
	bothWays(t, "expSlice", func() []float32 {
		x := append([]float32(nil), xs...)
		expSlice(x)
		return x
	})
	for n := range 41 {
		off := r.IntN(len(xs) - n)
		bothWays(t, "expSlice short", func() []float32 {
			x := append([]float32(nil), xs[off:off+n]...)
			expSlice(x)
			return x
		})
	}
}

// TestSIMDAttention checks the SIMD attention kernels against the Go kernels bit
// for bit: head sizes 4–16, sequences of 1–13 and 48 tokens, every range of query
// rows, scores large enough that some attention weights underflow to 0 (the
// backward pass skips their keys) and rows of zero gradient.
func TestSIMDAttention(t *testing.T) {
	simdtest.Require(t)
	r := rng.New(20)
	type shape struct{ B, T, C, NH int }
	shapes := []shape{{1, 48, 48, 4}, {2, 13, 48, 4}, {1, 5, 16, 4}, {3, 7, 32, 2}, {1, 1, 12, 1}, {2, 9, 64, 4}, {1, 4, 8, 2}}
	for range 12 {
		NH := 1 + r.IntN(4)
		shapes = append(shapes, shape{1 + r.IntN(3), 1 + r.IntN(13), NH * 4 * (1 + r.IntN(4)), NH})
	}
	for _, s := range shapes {
		B, T, C, NH := s.B, s.T, s.C, s.NH
		for _, mag := range []float64{1, 25} {
			qkv := randVec(r, B*T*3*C, mag)
			att0 := randVec(r, B*NH*T*T, 1)
			out0 := randVec(r, B*T*C, 1)
			t0 := r.IntN(T)
			t1 := t0 + 1 + r.IntN(T-t0)
			var att []float32
			bothWays(t, "attentionForward", func() []float32 {
				out := append([]float32(nil), out0...)
				att = append([]float32(nil), att0...)
				attentionForward(out, att, qkv, B, T, C, NH, t0, t1)
				return append(out, att...)
			})
			// The backward pass on a full forward pass's weights.
			att = append([]float32(nil), att0...)
			out := append([]float32(nil), out0...)
			attentionForward(out, att, qkv, B, T, C, NH, 0, T)
			dout := randVec(r, B*T*C, 1)
			for i := 0; i < B*T; i += 3 {
				clear(dout[i*C : (i+1)*C])
			}
			// Some gradients start at −0: adding a skipped key's ±0 product would
			// make them +0.
			dqkv0 := randVec(r, B*T*3*C, 1)
			for i := range dqkv0 {
				if r.IntN(3) == 0 {
					dqkv0[i] = float32(math.Copysign(0, -1))
				}
			}
			bt1 := 1 + r.IntN(T)
			bothWays(t, "attentionBackward", func() []float32 {
				dqkv := append([]float32(nil), dqkv0...)
				attentionBackward(dqkv, dout, qkv, att, make([]float32, T), B, T, C, NH, bt1)
				return dqkv
			})
		}
	}
}

// TestSIMDRows checks the row kernels (layer norm forward and backward, GELU forward
// and backward, the softmax of the output layer) against the Go kernels bit for bit
// on 1–9 rows of 1–70 columns and the model's shapes, with large logits (some
// probabilities underflow), ties and ±0.
func TestSIMDRows(t *testing.T) {
	simdtest.Require(t)
	r := rng.New(22)
	shapes := [][2]int{{768, 48}, {5, 462}, {1, 1}, {4, 4}, {9, 7}}
	for range 30 {
		shapes = append(shapes, [2]int{1 + r.IntN(9), 1 + r.IntN(70)})
	}
	for _, s := range shapes {
		N, C := s[0], s[1]
		inp, w, b := randVec(r, N*C, 2), randVec(r, C, 1), randVec(r, C, 1)
		inp[0] = float32(math.Copysign(0, -1))
		var mean, rstd []float32
		bothWays(t, "layernormForward", func() []float32 {
			out := make([]float32, N*C)
			mean, rstd = make([]float32, N), make([]float32, N)
			layernormForward(out, mean, rstd, inp, w, b, N, C)
			return append(append(out, mean...), rstd...)
		})
		dout, dinp0, dw0, db0 := randVec(r, N*C, 1), randVec(r, N*C, 1), randVec(r, C, 1), randVec(r, C, 1)
		bothWays(t, "layernormBackward", func() []float32 {
			dinp, dw, db := append([]float32(nil), dinp0...), append([]float32(nil), dw0...), append([]float32(nil), db0...)
			layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
			return append(append(dinp, dw...), db...)
		})
		x := randVec(r, N*C, 3)
		x[r.IntN(len(x))] = 20 // clamped
		x[r.IntN(len(x))] = -20
		var th []float32
		bothWays(t, "geluForward", func() []float32 {
			out := make([]float32, N*C)
			th = make([]float32, N*C)
			geluForward(out, th, x)
			return append(out, th...)
		})
		bothWays(t, "geluBackward", func() []float32 {
			d := append([]float32(nil), dinp0...)
			geluBackward(d, x, th, dout)
			return d
		})
		logits := randVec(r, N*C, 30)
		for i := 0; i < len(logits); i += 5 {
			logits[i] = logits[len(logits)-1] // ties
		}
		targets := make([]int32, N)
		for i := range targets {
			targets[i] = int32(r.IntN(C+1)) - 1 // −1: no target
		}
		bothWays(t, "softmaxForward", func() []float32 {
			probs := make([]float32, N*C)
			lse, logp, ent := make([]float32, N), make([]float32, N), make([]float32, N)
			softmaxForward(probs, lse, logp, ent, logits, targets, N, C)
			return append(append(append(probs, lse...), logp...), ent...)
		})
	}
}

// TestSIMDAdamW checks the SIMD AdamW update against the Go kernel bit for bit on
// tensors of 0–70 values, with and without clipping and weight decay.
func TestSIMDAdamW(t *testing.T) {
	simdtest.Require(t)
	r := rng.New(23)
	for range 40 {
		n := r.IntN(71)
		p0, g, m0, v0 := randVec(r, n, 1), randVec(r, n, 1), randVec(r, n, 0.1), randVec(r, n, 0.1)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		scale, wd := float32(1), float32(0)
		if r.IntN(2) == 0 {
			scale = 0.37
		}
		if r.IntN(2) == 0 {
			wd = 0.01
		}
		bothWays(t, "adamW", func() []float32 {
			p, m, v := append([]float32(nil), p0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
			adamW(p, g, m, v, scale, 0.9, 0.95, 1/(1-0.9), 1/(1-0.95), 1e-8, 1e-3, wd)
			return append(append(p, m...), v...)
		})
	}
}
