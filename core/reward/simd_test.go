package reward

import (
	"math"
	"testing"

	"prefer/core/rng"
	"prefer/core/simd"
	"prefer/core/simd/simdtest"
)

// bothWays runs f with the SIMD kernels and with the Go kernels and fails unless
// the results are equal bit for bit.
func bothWays(t *testing.T, what string, f func() []float32) {
	t.Helper()
	prev := simd.SetEnabled(true)
	got := f()
	simd.SetEnabled(false)
	want := f()
	simd.SetEnabled(prev)
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d = %v with SIMD, %v with the Go kernel", what, i, got[i], want[i])
		}
	}
}

func randVec(r *rng.RNG, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Norm())
	}
	return x
}

// TestSIMDKernels checks the reward MLP's SIMD kernels (first layer on a sparse
// row, its gradient, AdamW) against the Go kernels bit for bit, hidden sizes 1–70
// (every vector group and ragged tail), rows of 0–90 entries with repeated indices.
func TestSIMDKernels(t *testing.T) {
	simdtest.Require(t)
	r := rng.New(21)
	for range 60 {
		H := 1 + r.IntN(70)
		rows := 1 + r.IntN(50)
		n := r.IntN(91)
		idx := make([]int32, n)
		for k := range idx {
			idx[k] = int32(r.IntN(rows))
		}
		val, w, h0, d := randVec(r, n), randVec(r, rows*H), randVec(r, H), randVec(r, H)
		bothWays(t, "gatherAcc", func() []float32 {
			h := append([]float32(nil), h0...)
			gatherAcc(h, w, idx, val, H)
			return h
		})
		bothWays(t, "scatterAcc", func() []float32 {
			g := append([]float32(nil), w...)
			scatterAcc(g, d, idx, val, H)
			return g
		})
		np := r.IntN(70)
		p0, g, m0, v0 := randVec(r, np), randVec(r, np), randVec(r, np), randVec(r, np)
		for i := range v0 {
			v0[i] *= v0[i]
		}
		bothWays(t, "adamRange", func() []float32 {
			p, m, v := append([]float32(nil), p0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
			adamRange(p, g, m, v, 1e-3, 1e-8, 0.9, 0.999, 0.1, 0.001, 0.99999)
			return append(append(p, m...), v...)
		})
	}
}

// TestSIMDMLPEpoch trains the MLP for an epoch with the SIMD kernels and with the
// Go kernels: the parameters must agree bit for bit.
func TestSIMDMLPEpoch(t *testing.T) {
	simdtest.Require(t)
	bothWays(t, "MLP epoch", func() []float32 {
		nt := mlpNet{f: 512 + NumLength, h: 32}
		ds, m, sc := benchMember(300, 512, nt)
		m.epoch(ds, Config{Batch: 32}, sc)
		return m.theta
	})
}
