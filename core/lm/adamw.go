package lm

import (
	"math"
)

// AdamW is the Adam optimizer with decoupled weight decay (Loshchilov & Hutter 2019,
// "Decoupled Weight Decay Regularization", Algorithm 2), over the flat parameter
// vector, with gradient clipping by global norm (Pascanu et al. 2013):
//
//	g ← g · min(1, clip/‖g‖₂)
//	m ← β₁m + (1−β₁)g            v ← β₂v + (1−β₂)g²
//	m̂ = m/(1−β₁ᵗ)                v̂ = v/(1−β₂ᵗ)
//	θ ← θ − lr·(m̂/(√v̂ + ε) + λ·θ)        (λ only on decayed tensors)
//
// The zero value is not usable; build it with NewAdamW.
type AdamW struct {
	Beta1, Beta2 float64 // moment decays; default 0.9, 0.95 (GPT-2/nanoGPT)
	Eps          float64 // default 1e-8
	WeightDecay  float64 // λ, default 0.01; applied to matrices and embeddings only
	Clip         float64 // global gradient-norm bound; default 1; ≤ 0 disables

	M, V  []float32 // first and second moments, like Params
	Steps int       // updates taken (t)
	// b1t, b2t are β₁ᵗ and β₂ᵗ kept by multiplication, never math.Pow, so the bias
	// corrections are bit-identical on every platform.
	b1t, b2t float64
	decay    []bool // per parameter tensor: weight decay applies
	bounds   []int  // tensor boundaries in the flat vector
}

// AdamWConfig sets an AdamW optimizer; zero fields take the defaults in AdamW.
type AdamWConfig struct {
	Beta1, Beta2, Eps, WeightDecay, Clip float64
	// NoDecay turns weight decay off (WeightDecay 0 means the default).
	NoDecay bool
	// NoClip turns gradient clipping off.
	NoClip bool
}

// NewAdamW returns an optimizer for model m.
func NewAdamW(m *Model, c AdamWConfig) *AdamW {
	o := &AdamW{Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay, Clip: c.Clip}
	if o.Beta1 == 0 {
		o.Beta1 = 0.9
	}
	if o.Beta2 == 0 {
		o.Beta2 = 0.95
	}
	if o.Eps == 0 {
		o.Eps = 1e-8
	}
	if o.WeightDecay == 0 {
		o.WeightDecay = 0.01
	}
	if c.NoDecay {
		o.WeightDecay = 0
	}
	if o.Clip == 0 {
		o.Clip = 1
	}
	if c.NoClip {
		o.Clip = 0
	}
	o.M = make([]float32, len(m.Params))
	o.V = make([]float32, len(m.Params))
	o.b1t, o.b2t = 1, 1
	off := 0
	o.bounds = append(o.bounds, 0)
	for _, s := range m.Config.specs() {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		off += n
		o.bounds = append(o.bounds, off)
		o.decay = append(o.decay, s.decay)
	}
	return o
}

// GradNorm returns ‖g‖₂ of the model's gradients (float64 accumulation).
func GradNorm(grads []float32) float64 {
	var s float64
	for _, g := range grads {
		s += float64(float64(g) * float64(g))
	}
	return math.Sqrt(s)
}

// Step clips the gradients of m, updates its parameters with learning rate lr, and
// returns the gradient norm before clipping. It does not zero the gradients.
func (o *AdamW) Step(m *Model, lr float64) float64 {
	norm := GradNorm(m.Grads)
	scale := float32(1)
	if o.Clip > 0 && norm > o.Clip {
		scale = float32(o.Clip / norm)
	}
	o.Steps++
	o.b1t = float64(o.b1t * o.Beta1)
	o.b2t = float64(o.b2t * o.Beta2)
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	c1 := float32(1 / (1 - o.b1t))
	c2 := float32(1 / (1 - o.b2t))
	eps := float32(o.Eps)
	lr32 := float32(lr)
	for k, dec := range o.decay {
		wd := float32(0)
		if dec {
			wd = float32(o.WeightDecay)
		}
		lo, hi := o.bounds[k], o.bounds[k+1]
		p, g := m.Params[lo:hi], m.Grads[lo:hi]
		mm, vv := o.M[lo:hi], o.V[lo:hi]
		adamW(p, g, mm, vv, scale, b1, b2, c1, c2, eps, lr32, wd)
	}
	return norm
}

// adamWGo is adamW's Go kernel (kernels_wasm.go calls the SIMD kernel instead when
// it is linked): the update of one tensor, p, g, mm, vv of equal length.
func adamWGo(p, g, mm, vv []float32, scale, b1, b2, c1, c2, eps, lr32, wd float32) {
	g, mm, vv = g[:len(p)], mm[:len(p)], vv[:len(p)]
	for i := range p {
		gi := float32(g[i] * scale)
		mi := float32(b1*mm[i]) + float32((1-b1)*gi)
		vi := float32(b2*vv[i]) + float32(float32((1-b2)*gi)*gi)
		mm[i], vv[i] = mi, vi
		mhat := float32(mi * c1)
		vhat := float32(vi * c2)
		p[i] -= float32(lr32 * (mhat/(float32(math.Sqrt(float64(vhat)))+eps) + float32(wd*p[i])))
	}
}
