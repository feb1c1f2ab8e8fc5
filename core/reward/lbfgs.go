package reward

import "math"

// lbfgs minimizes a smooth function f: ℝⁿ → ℝ by the limited-memory BFGS method
// (Nocedal 1980; Liu & Nocedal 1989), one iteration per call of iterate, so that a
// caller can stop early on a held-out loss between iterations:
//
//	d_k = −H_k ∇f(x_k)          H_k from the last m pairs s_i = x_{i+1} − x_i,
//	                            y_i = ∇f(x_{i+1}) − ∇f(x_i), by the two-loop recursion
//	                            (Nocedal & Wright 2006, Algorithm 7.4), H⁰ = γI,
//	                            γ = sᵀy / yᵀy of the newest pair (their eq. 7.20)
//	x_{k+1} = x_k + α d_k       α from a backtracking line search on the sufficient
//	                            decrease (Armijo) condition f(x + αd) ≤ f(x) + c₁α∇fᵀd,
//	                            c₁ = 10⁻⁴, trying α = 1 first (the quasi-Newton step)
//	                            and shrinking by safeguarded quadratic interpolation
//
// A pair with sᵀy ≤ 10⁻¹⁰·yᵀy is not stored (it would make H indefinite); without
// the Wolfe curvature condition that is the usual safeguard (Nocedal & Wright §7.2).
//
// It is written here rather than taken from gonum's optimize.LBFGS for
// determinism: gonum's vector kernels (floats.Dot, floats.Norm, …) are assembly on
// amd64 and plain Go elsewhere, and the two sum in different orders, so the iterates
// — and the reward model — would differ in the last bits between the native build
// and wasm. Here every sum runs left to right in float64 with every product
// converted explicitly (no fused multiply-add on any platform).
type lbfgs struct {
	n, m   int
	s, y   [][]float64 // the last m pairs, a ring: pair k at index k % m
	rho    []float64   // 1/(yᵀs) of each pair
	alpha  []float64   // scratch of the two-loop recursion
	pairs  int         // pairs stored so far
	x, g   []float64   // the current point and its gradient
	f      float64     // f(x)
	d      []float64   // search direction
	xt, gt []float64   // trial point and its gradient
	evals  int         // evaluations of f so far
	pre    []float64   // diagonal of H⁰ up to γ (nil: the identity)
}

// newLBFGS starts at x0 (copied) with memory m; fg evaluates f at x and writes ∇f
// into g.
func newLBFGS(x0 []float64, m int, fg func(x, g []float64) float64) *lbfgs {
	n := len(x0)
	o := &lbfgs{n: n, m: m, rho: make([]float64, m), alpha: make([]float64, m)}
	for i := 0; i < m; i++ {
		o.s = append(o.s, make([]float64, n))
		o.y = append(o.y, make([]float64, n))
	}
	o.x = append([]float64(nil), x0...)
	o.g = make([]float64, n)
	o.d = make([]float64, n)
	o.xt = make([]float64, n)
	o.gt = make([]float64, n)
	o.f = fg(o.x, o.g)
	o.evals = 1
	return o
}

// dot64 returns Σ a_i·b_i summed left to right.
func dot64(a, b []float64) float64 {
	b = b[:len(a)]
	var s float64
	for i, v := range a {
		s += float64(v * b[i])
	}
	return s
}

// iterate takes one step. It returns false, leaving x unchanged, when no step
// decreases f enough (at a minimum, to rounding, or on a non-finite value).
func (o *lbfgs) iterate(fg func(x, g []float64) float64) bool {
	// Two-loop recursion: d = −H∇f.
	for i := range o.d {
		o.d[i] = -o.g[i]
	}
	k := min(o.pairs, o.m)
	for j := 0; j < k; j++ {
		i := (o.pairs - 1 - j) % o.m
		a := float64(o.rho[i] * dot64(o.s[i], o.d))
		o.alpha[i] = a
		axpy64(-a, o.y[i], o.d)
	}
	if k > 0 {
		i := (o.pairs - 1) % o.m
		yy := 0.0
		if o.pre == nil {
			yy = dot64(o.y[i], o.y[i])
		} else {
			for j, v := range o.y[i] {
				yy += float64(float64(v*v) * o.pre[j])
			}
		}
		gamma := 1 / float64(o.rho[i]*yy)
		for j := range o.d {
			if o.pre != nil {
				o.d[j] = float64(o.d[j] * o.pre[j])
			}
			o.d[j] = float64(gamma * o.d[j])
		}
	} else if o.pre != nil {
		for j := range o.d {
			o.d[j] = float64(o.d[j] * o.pre[j])
		}
	}
	for j := k - 1; j >= 0; j-- {
		i := (o.pairs - 1 - j) % o.m
		b := float64(o.rho[i] * dot64(o.y[i], o.d))
		axpy64(o.alpha[i]-b, o.s[i], o.d)
	}
	slope := dot64(o.g, o.d)
	if !(slope < 0) {
		// Not a descent direction (rounding): restart from steepest descent.
		o.pairs = 0
		for i := range o.d {
			o.d[i] = -o.g[i]
		}
		slope = dot64(o.g, o.d)
		if !(slope < 0) {
			return false
		}
	}
	step := 1.0
	if o.pairs == 0 {
		// First step along −∇f: unit length.
		step = 1 / math.Sqrt(-slope)
	}
	const c1 = 1e-4
	for try := 0; try < 30; try++ {
		for i := range o.xt {
			o.xt[i] = o.x[i] + float64(step*o.d[i])
		}
		ft := fg(o.xt, o.gt)
		o.evals++
		if ft <= o.f+float64(float64(c1*step)*slope) {
			// Accept; store the pair.
			i := o.pairs % o.m
			s, y := o.s[i], o.y[i]
			for j := range s {
				s[j] = o.xt[j] - o.x[j]
				y[j] = o.gt[j] - o.g[j]
			}
			if sy, yy := dot64(s, y), dot64(y, y); sy > float64(1e-10*yy) {
				o.rho[i] = 1 / sy
				o.pairs++
			}
			o.x, o.xt = o.xt, o.x
			o.g, o.gt = o.gt, o.g
			o.f = ft
			return true
		}
		// Minimizer of the quadratic through f(0), f'(0) and f(step), kept within
		// [0.1, 0.5]·step.
		next := float64(0.5 * step)
		if !math.IsNaN(ft) && !math.IsInf(ft, 0) {
			q := float64(-float64(slope*step)*step) / float64(2*(ft-o.f-float64(slope*step)))
			if q > 0 {
				next = math.Min(math.Max(q, float64(0.1*step)), float64(0.5*step))
			}
		}
		step = next
	}
	return false
}

// axpy64 computes y += a·x.
func axpy64(a float64, x, y []float64) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += float64(a * v)
	}
}
