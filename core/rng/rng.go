// Package rng is the one source of randomness in core: a seeded PCG generator with the
// draws the engine needs (uniform, normal, integers, shuffles, categorical), identical
// natively and in wasm.
//
// Nothing in core may use a global random source or the clock. Each piece of work takes
// a *rng.RNG built from an explicit seed; independent streams are split off with Split
// so adding draws in one place does not shift the numbers seen by another.
package rng

import (
	"math"
	"math/rand/v2"

	"prefer/core/num"
)

// RNG is a deterministic pseudo-random generator (PCG-DXSM, 128-bit state).
// It is not safe for concurrent use.
type RNG struct {
	pcg *rand.PCG
	// spare holds the second normal deviate of the polar method.
	spare    float64
	hasSpare bool
}

// New returns a generator seeded with seed. Equal seeds give equal streams on every
// platform.
func New(seed uint64) *RNG {
	return &RNG{pcg: rand.NewPCG(seed, 0x9e3779b97f4a7c15^seed)}
}

// Split returns a new, independent generator derived from r's seed material and the
// label, leaving r's own stream where it was plus one draw.
func (r *RNG) Split(label string) *RNG {
	h := uint64(14695981039346656037) // FNV-1a over the label
	for i := 0; i < len(label); i++ {
		h ^= uint64(label[i])
		h *= 1099511628211
	}
	a := r.pcg.Uint64()
	return &RNG{pcg: rand.NewPCG(a^h, h*0x2545f4914f6cdd1d+1)}
}

// Uint64 returns a uniformly distributed 64-bit value.
func (r *RNG) Uint64() uint64 { return r.pcg.Uint64() }

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 {
	return float64(float64(r.pcg.Uint64()>>11) / (1 << 53))
}

// IntN returns a uniform integer in [0, n). It panics if n <= 0.
// It uses Lemire's multiply-shift with rejection, so it is exactly uniform.
func (r *RNG) IntN(n int) int {
	if n <= 0 {
		panic("rng: IntN with n <= 0")
	}
	bound := uint64(n)
	for {
		x := r.pcg.Uint64()
		hi, lo := mul64(x, bound)
		if lo < bound {
			threshold := -bound % bound
			if lo < threshold {
				continue
			}
		}
		return int(hi)
	}
}

// mul64 returns the 128-bit product of a and b as (hi, lo).
func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t & mask32
	w2 := t >> 32
	w1 += a0 * b1
	hi = a1*b1 + w2 + w1>>32
	lo = a * b
	return
}

// Norm returns a standard normal deviate, by Marsaglia's polar method using this
// module's portable Log so the value is the same natively and in wasm.
//
//	u, v ~ U(−1,1) with s = u²+v² in (0,1);  z = u·√(−2·ln s / s)
func (r *RNG) Norm() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	for {
		u := float64(2*r.Float64()) - 1
		v := float64(2*r.Float64()) - 1
		s := float64(u*u) + float64(v*v)
		if s == 0 || s >= 1 {
			continue
		}
		f := math.Sqrt(float64(-2*num.Log(s)) / s)
		r.spare = float64(v * f)
		r.hasSpare = true
		return float64(u * f)
	}
}

// Bernoulli returns true with probability p.
func (r *RNG) Bernoulli(p float64) bool { return r.Float64() < p }

// Perm returns a uniformly random permutation of 0..n-1 (Fisher–Yates).
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// Shuffle permutes n elements in place through swap (Fisher–Yates).
func (r *RNG) Shuffle(n int, swap func(i, j int)) {
	for i := n - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		swap(i, j)
	}
}

// Categorical draws an index with probability proportional to w[i] (w_i ≥ 0, Σ w > 0).
// It panics on an empty or all-zero weight vector: that is a programmer error.
func (r *RNG) Categorical(w []float64) int {
	var total float64
	for _, v := range w {
		total += v
	}
	if !(total > 0) {
		panic("rng: Categorical needs positive total weight")
	}
	u := float64(r.Float64() * total)
	var acc float64
	for i, v := range w {
		acc += v
		if u < acc {
			return i
		}
	}
	// Rounding can leave u ≥ acc; return the last index with positive weight.
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return len(w) - 1
}

// LogNormal returns exp(mu + sigma·Z) for a standard normal Z.
func (r *RNG) LogNormal(mu, sigma float64) float64 {
	return num.Exp(mu + float64(sigma*r.Norm()))
}
