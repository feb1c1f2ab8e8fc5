package reward

import (
	"math"
	"sync"

	"prefer/core/feedback"
	"prefer/core/num"
	"prefer/core/rng"
)

// net is a reward network over sparse feature rows with its parameters in one flat
// float32 vector, weights first (the entries AdamW decays), then biases.
type net interface {
	size() int  // parameters
	decay() int // leading parameters that weight decay applies to
	hidden() int
	init(p []float32, r *rng.RNG)
	// forward returns r(x); h (hidden()) receives what backward needs.
	forward(p []float32, x Sparse, h []float32) float32
	// backward accumulates g·∂r/∂p into grad, given the h of forward.
	backward(p, grad []float32, x Sparse, h []float32, g float32)
}

// linearNet is r = w·x + b with p = [w (F), b].
type linearNet struct{ f int }

func (n linearNet) size() int                { return n.f + 1 }
func (n linearNet) decay() int               { return n.f }
func (n linearNet) hidden() int              { return 0 }
func (n linearNet) init([]float32, *rng.RNG) {} // zeros: the loss is convex in w

// forward: r = Σ_k w[idx_k]·val_k + b.
func (n linearNet) forward(p []float32, x Sparse, _ []float32) float32 {
	return sparseDot(p[:n.f], x.Idx, x.Val) + p[n.f]
}

// backward: ∂r/∂w[idx_k] = val_k, ∂r/∂b = 1.
func (n linearNet) backward(_, grad []float32, x Sparse, _ []float32, g float32) {
	sparseAxpy(g, x.Idx, x.Val, grad[:n.f])
	grad[n.f] += g
}

// mlpNet is r = w₂·relu(W₁ᵀx + b₁) + b₂ with p = [W₁ (F, H) row-major, w₂ (H), b₁ (H), b₂].
// Row j of W₁ holds feature j's weights to the H hidden units, so the sparse input
// touches only its rows: the first layer is a sparse × dense product.
type mlpNet struct{ f, h int }

func (n mlpNet) size() int   { return n.f*n.h + 2*n.h + 1 }
func (n mlpNet) decay() int  { return n.f*n.h + n.h }
func (n mlpNet) hidden() int { return n.h }

// init draws W₁ ~ N(0, 0.5²) (inputs have unit norm, so pre-activations have
// standard deviation about 0.5), w₂ ~ N(0, 1/H), biases 0.
func (n mlpNet) init(p []float32, r *rng.RNG) {
	w1 := p[:n.f*n.h]
	for i := range w1 {
		w1[i] = float32(0.5 * r.Norm())
	}
	w2 := p[n.f*n.h : n.f*n.h+n.h]
	s := 1 / math.Sqrt(float64(n.h))
	for i := range w2 {
		w2[i] = float32(s * r.Norm())
	}
}

// forward: h = relu(b₁ + Σ_k val_k·W₁[idx_k, :])  (H),  r = w₂·h + b₂.
func (n mlpNet) forward(p []float32, x Sparse, h []float32) float32 {
	H := n.h
	w1, w2, b1, b2 := n.split(p)
	copy(h, b1)
	gatherAcc(h, w1, x.Idx, x.Val, H)
	for i, v := range h {
		if v < 0 {
			h[i] = 0
		}
	}
	return num.Dot32(w2, h) + b2
}

// backward: ∂r/∂w₂ = h, ∂r/∂b₂ = 1, δ = w₂ ⊙ [h > 0], ∂r/∂b₁ = δ,
// ∂r/∂W₁[idx_k, :] = val_k·δ.
func (n mlpNet) backward(p, grad []float32, x Sparse, h []float32, g float32) {
	H := n.h
	_, w2, _, _ := n.split(p)
	gw1, gw2, gb1, _ := n.split(grad)
	num.Axpy32(g, h, gw2)
	grad[len(grad)-1] += g
	var buf [256]float32
	var delta []float32
	if H <= len(buf) {
		delta = buf[:H]
	} else {
		delta = make([]float32, H)
	}
	for i := range delta {
		if h[i] > 0 {
			delta[i] = float32(g * w2[i])
		} else {
			delta[i] = 0
		}
	}
	for i, d := range delta {
		gb1[i] += d
	}
	scatterAcc(gw1, delta, x.Idx, x.Val, H)
}

func (n mlpNet) split(p []float32) (w1, w2, b1 []float32, b2 float32) {
	fh := n.f * n.h
	return p[:fh], p[fh : fh+n.h], p[fh+n.h : fh+2*n.h], p[fh+2*n.h]
}

// Linear is a linear reward model on hashed features: r = w·φ(y) + b.
type Linear struct {
	Features FeatureConfig
	W        []float32 // (F) F = Features.Width()
	B        float32
	Eta      float64 // Rao–Kupper tie threshold learned with it (0: no ties)
}

// Family returns "linear".
func (m *Linear) Family() string { return FamilyLinear }

// Score returns w·φ(x, y) + b; the prompt x matters only with cross features.
func (m *Linear) Score(it *feedback.Item, text string) float64 {
	f := Featurizer{cfg: m.Features.withDefaults()}
	x := f.FeaturizePair(prompt(it), text)
	return float64(sparseDot(m.W, x.Idx, x.Val) + m.B)
}

// TieEta returns the model's Rao–Kupper tie threshold η.
func (m *Linear) TieEta() float64 { return m.Eta }

func (m *Linear) params() []float32 { return append(append([]float32(nil), m.W...), m.B) }

// MLP is a one-hidden-layer reward model on hashed features:
// r = w₂·relu(W₁ᵀφ(y) + b₁) + b₂.
type MLP struct {
	Features FeatureConfig
	Hidden   int
	W1       []float32 // (F, H) row-major
	B1       []float32 // (H)
	W2       []float32 // (H)
	B2       float32
	Eta      float64
	once     sync.Once
	flat     []float32 // params(), built on first use
}

// Family returns "mlp".
func (m *MLP) Family() string { return FamilyMLP }

// Score returns the network's reward for text; the prompt matters only with cross
// features. Models are safe for concurrent use; do not change the weights after
// the first Score.
func (m *MLP) Score(it *feedback.Item, text string) float64 {
	f := Featurizer{cfg: m.Features.withDefaults()}
	x := f.FeaturizePair(prompt(it), text)
	m.once.Do(func() { m.flat = m.params() })
	n := mlpNet{f: m.Features.Width(), h: m.Hidden}
	h := make([]float32, m.Hidden)
	return float64(n.forward(m.flat, x, h))
}

// TieEta returns the model's Rao–Kupper tie threshold η.
func (m *MLP) TieEta() float64 { return m.Eta }

func (m *MLP) params() []float32 {
	p := make([]float32, 0, len(m.W1)+2*m.Hidden+1)
	p = append(p, m.W1...)
	p = append(p, m.W2...)
	p = append(p, m.B1...)
	return append(p, m.B2)
}

// newFeatureModel wraps trained parameters as a Model.
func newFeatureModel(family string, fc FeatureConfig, hidden int, p []float32, eta float64) Model {
	fc = fc.withDefaults()
	F := fc.Width()
	switch family {
	case FamilyLinear:
		return &Linear{Features: fc, W: append([]float32(nil), p[:F]...), B: p[F], Eta: eta}
	case FamilyMLP:
		n := mlpNet{f: F, h: hidden}
		w1, w2, b1, b2 := n.split(p)
		return &MLP{Features: fc, Hidden: hidden, W1: append([]float32(nil), w1...), W2: append([]float32(nil), w2...),
			B1: append([]float32(nil), b1...), B2: b2, Eta: eta}
	}
	panic("reward: no feature model of family " + family)
}

func prompt(it *feedback.Item) string {
	if it == nil {
		return ""
	}
	return it.Prompt
}
