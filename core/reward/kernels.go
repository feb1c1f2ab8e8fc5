package reward

import (
	"math"

	"prefer/core/num"
)

// These kernels repeat num.Dot32/Axpy32's unrolled loops for sparse rows on purpose:
// the lane order must match, so they are written out, not shared.

// sparseDot returns Σ_k w[idx[k]]·val[k], unrolled by eight with a fixed summation
// order (the same on every platform).
func sparseDot(w []float32, idx []int32, val []float32) float32 {
	if len(idx) != len(val) {
		panic("reward: sparseDot length mismatch")
	}
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	n := len(idx) &^ 7
	for i := 0; i < n; i += 8 {
		ii := idx[i : i+8 : i+8]
		vv := val[i : i+8 : i+8]
		s0 += float32(w[ii[0]] * vv[0])
		s1 += float32(w[ii[1]] * vv[1])
		s2 += float32(w[ii[2]] * vv[2])
		s3 += float32(w[ii[3]] * vv[3])
		s4 += float32(w[ii[4]] * vv[4])
		s5 += float32(w[ii[5]] * vv[5])
		s6 += float32(w[ii[6]] * vv[6])
		s7 += float32(w[ii[7]] * vv[7])
	}
	for i := n; i < len(idx); i++ {
		s0 += float32(w[idx[i]] * val[i])
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// sparseAxpy adds alpha·val[k] to g[idx[k]] for every k (a scatter), unrolled by 8.
func sparseAxpy(alpha float32, idx []int32, val []float32, g []float32) {
	if len(idx) != len(val) {
		panic("reward: sparseAxpy length mismatch")
	}
	n := len(idx) &^ 7
	for i := 0; i < n; i += 8 {
		ii := idx[i : i+8 : i+8]
		vv := val[i : i+8 : i+8]
		g[ii[0]] += float32(alpha * vv[0])
		g[ii[1]] += float32(alpha * vv[1])
		g[ii[2]] += float32(alpha * vv[2])
		g[ii[3]] += float32(alpha * vv[3])
		g[ii[4]] += float32(alpha * vv[4])
		g[ii[5]] += float32(alpha * vv[5])
		g[ii[6]] += float32(alpha * vv[6])
		g[ii[7]] += float32(alpha * vv[7])
	}
	for i := n; i < len(idx); i++ {
		g[idx[i]] += float32(alpha * val[i])
	}
}

// AdamW is the optimizer state for a flat float32 parameter vector: Adam (Kingma &
// Ba 2015) with decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2) on
// the first Decay entries. With t the step count:
//
//	m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²
//	θ ← θ − α_t·m/(√v + ε̂) − lr·λ·θ        (λ only on the decayed entries)
//	α_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ),   ε̂ = ε·√(1−β₂ᵗ)   (Kingma & Ba §2, efficient form)
type AdamW struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Decay                              int // entries 0..Decay-1 are decayed
	M, V                               []float32
	T                                  int
	b1t, b2t                           float64 // β₁ᵗ, β₂ᵗ
}

// NewAdamW returns the state for n parameters with β₁ = 0.9, β₂ = 0.999, ε = 1e-8
// (Kingma & Ba 2015 defaults).
func NewAdamW(n int, lr, weightDecay float64, decay int) *AdamW {
	return &AdamW{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, Decay: decay,
		M: make([]float32, n), V: make([]float32, n), b1t: 1, b2t: 1}
}

// Step applies one update of p with gradient g.
func (o *AdamW) Step(p, g []float32) {
	if len(p) != len(g) || len(p) != len(o.M) {
		panic("reward: AdamW size mismatch")
	}
	o.T++
	o.b1t = float64(o.b1t * o.Beta1)
	o.b2t = float64(o.b2t * o.Beta2)
	c2 := math.Sqrt(1 - o.b2t)
	alpha := float32(float64(o.LR*c2) / (1 - o.b1t))
	eps := float32(o.Eps * c2)
	decay := float32(1 - float64(o.LR*o.WeightDecay))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	a1, a2 := 1-b1, 1-b2
	d := o.Decay
	if o.WeightDecay == 0 {
		d = 0
	}
	adamRange(p[:d], g[:d], o.M[:d], o.V[:d], alpha, eps, b1, b2, a1, a2, decay)
	adamRange(p[d:], g[d:], o.M[d:], o.V[d:], alpha, eps, b1, b2, a1, a2, 1)
}

// adamRangeGo is the AdamW inner loop over equal-length slices, unrolled by four
// (adamRange: this, or in wasm the SIMD kernel, kernels_wasm.go). decay multiplies
// θ before the Adam step (1 − lr·λ).
func adamRangeGo(p, g, m, v []float32, alpha, eps, b1, b2, a1, a2, decay float32) {
	n := len(p) &^ 3
	for i := 0; i < n; i += 4 {
		pp := p[i : i+4 : i+4]
		gg := g[i : i+4 : i+4]
		mm := m[i : i+4 : i+4]
		vv := v[i : i+4 : i+4]
		g0, g1, g2, g3 := gg[0], gg[1], gg[2], gg[3]
		m0 := float32(b1*mm[0]) + float32(a1*g0)
		m1 := float32(b1*mm[1]) + float32(a1*g1)
		m2 := float32(b1*mm[2]) + float32(a1*g2)
		m3 := float32(b1*mm[3]) + float32(a1*g3)
		v0 := float32(b2*vv[0]) + float32(a2*float32(g0*g0))
		v1 := float32(b2*vv[1]) + float32(a2*float32(g1*g1))
		v2 := float32(b2*vv[2]) + float32(a2*float32(g2*g2))
		v3 := float32(b2*vv[3]) + float32(a2*float32(g3*g3))
		mm[0], mm[1], mm[2], mm[3] = m0, m1, m2, m3
		vv[0], vv[1], vv[2], vv[3] = v0, v1, v2, v3
		pp[0] = float32(decay*pp[0]) - float32(alpha*m0)/(float32(math.Sqrt(float64(v0)))+eps)
		pp[1] = float32(decay*pp[1]) - float32(alpha*m1)/(float32(math.Sqrt(float64(v1)))+eps)
		pp[2] = float32(decay*pp[2]) - float32(alpha*m2)/(float32(math.Sqrt(float64(v2)))+eps)
		pp[3] = float32(decay*pp[3]) - float32(alpha*m3)/(float32(math.Sqrt(float64(v3)))+eps)
	}
	for i := n; i < len(p); i++ {
		gk := g[i]
		mk := float32(b1*m[i]) + float32(a1*gk)
		vk := float32(b2*v[i]) + float32(a2*float32(gk*gk))
		m[i] = mk
		v[i] = vk
		p[i] = float32(decay*p[i]) - float32(alpha*mk)/(float32(math.Sqrt(float64(vk)))+eps)
	}
}

// gatherAccGo computes h[i] += Σ_k val[k]·w[idx[k]·H + i] for i < H, adding the
// terms in order of k: the first layer of the MLP on a sparse row (gatherAcc: this,
// or in wasm the SIMD kernel).
func gatherAccGo(h, w []float32, idx []int32, val []float32, H int) {
	for k, j := range idx {
		num.Axpy32(val[k], w[int(j)*H:int(j)*H+H], h)
	}
}

// scatterAccGo computes g[idx[k]·H + i] += val[k]·d[i] for k in order and i < H: the
// first layer's gradient (scatterAcc: this, or in wasm the SIMD kernel).
func scatterAccGo(g, d []float32, idx []int32, val []float32, H int) {
	for k, j := range idx {
		num.Axpy32(val[k], d, g[int(j)*H:int(j)*H+H])
	}
}
