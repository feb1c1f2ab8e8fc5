package agree

import (
	"math"

	"prefer/core/num"
)

// The tests of this package need a few distribution functions. They are written here
// on top of num.Exp and num.Log rather than taken from math or gonum, whose Exp, Log,
// Lgamma and Erfc use assembly on amd64 and would give p-values that differ in the
// last bits between native and wasm builds.

// lgamma returns log Γ(x) for x > 0 by the Lanczos approximation (g = 7, 9 terms;
// Lanczos 1964, coefficients as tabulated by Godfrey), relative error below 1e-14.
func lgamma(x float64) float64 {
	if x < 0.5 {
		// Γ(x) = Γ(x+1)/x keeps the argument in the accurate range.
		return lgamma(x+1) - num.Log(x)
	}
	const g = 7
	coef := [...]float64{
		0.99999999999980993,
		676.5203681218851,
		-1259.1392167224028,
		771.32342877765313,
		-176.61502916214059,
		12.507343278686905,
		-0.13857109526572012,
		9.9843695780195716e-6,
		1.5056327351493116e-7,
	}
	x--
	a := coef[0]
	t := x + g + 0.5
	for i := 1; i < len(coef); i++ {
		a += coef[i] / (x + float64(i))
	}
	const halfLog2Pi = 0.91893853320467274178
	return halfLog2Pi + float64((x+0.5)*num.Log(t)) - t + num.Log(a)
}

// gammaQ returns the regularized upper incomplete gamma function
//
//	Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x),   a > 0, x ≥ 0,
//
// by its power series when x < a+1 and by its continued fraction (modified Lentz)
// otherwise (Abramowitz & Stegun 6.5.29 and 6.5.31).
func gammaQ(a, x float64) float64 {
	switch {
	case math.IsNaN(a) || math.IsNaN(x) || a <= 0 || x < 0:
		return math.NaN()
	case x == 0:
		return 1
	case math.IsInf(x, 1):
		return 0
	}
	const (
		eps   = 1e-16
		tiny  = 1e-300
		iters = 10000
	)
	front := -x + float64(a*num.Log(x)) - lgamma(a) // log(e^−x x^a / Γ(a))
	if x < a+1 {
		// P(a, x) = e^−x x^a / Γ(a+1) · Σ_n x^n / ((a+1)…(a+n))
		sum, term, ap := 1/a, 1/a, a
		for i := 0; i < iters; i++ {
			ap++
			term = float64(term * (x / ap))
			sum += term
			if math.Abs(term) < float64(math.Abs(sum)*eps) {
				break
			}
		}
		p := float64(sum * num.Exp(front))
		if p > 1 {
			p = 1
		}
		return 1 - p
	}
	// Q(a, x) = e^−x x^a / Γ(a) · 1/(x+1−a− 1·(1−a)/(x+3−a− 2·(2−a)/(x+5−a− …)))
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < iters; i++ {
		an := float64(-float64(i) * (float64(i) - a))
		b += 2
		d = float64(an*d) + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := float64(d * c)
		h = float64(h * del)
		if math.Abs(del-1) < eps {
			break
		}
	}
	return float64(num.Exp(front) * h)
}

// normalTwoSided returns P(|Z| ≥ |z|) for a standard normal Z: erfc(|z|/√2) = Q(½, z²/2).
func normalTwoSided(z float64) float64 {
	if math.IsNaN(z) {
		return math.NaN()
	}
	return gammaQ(0.5, float64(float64(z*z)/2))
}

// chiSquareSF returns P(X ≥ x) for X ~ χ²(df): Q(df/2, x/2).
func chiSquareSF(x float64, df int) float64 {
	if df <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	return gammaQ(float64(float64(df)/2), float64(x/2))
}

// BinomialTest returns the two-sided p-value of the exact binomial test of k successes
// in n trials against success probability p, with the rule of R's binom.test: the sum
// of the probabilities of all outcomes no more likely than the one observed,
//
//	p-value = Σ_{i : f(i) ≤ f(k)·(1+1e−7)} f(i),   f(i) = C(n,i) pⁱ (1−p)ⁿ⁻ⁱ.
//
// It returns NaN when n ≤ 0, k is outside 0..n or p is outside (0, 1).
func BinomialTest(k, n int, p float64) float64 {
	if n <= 0 || k < 0 || k > n || !(p > 0 && p < 1) {
		return math.NaN()
	}
	lp, lq := num.Log(p), num.Log(1-p)
	ln1 := lgamma(float64(n) + 1)
	logf := func(i int) float64 {
		return ln1 - lgamma(float64(i)+1) - lgamma(float64(n-i)+1) + float64(float64(i)*lp) + float64(float64(n-i)*lq)
	}
	// Compare in log space with the relative tolerance of binom.test.
	limit := logf(k) + 1e-7
	// The pmf is unimodal: sum the tails inward from both ends while they stay below
	// the limit, so the cost is proportional to the tails, not to n, for small p-values.
	var sum float64
	lo := 0
	for ; lo <= n; lo++ {
		lf := logf(lo)
		if lf > limit {
			break
		}
		sum += num.Exp(lf)
	}
	for hi := n; hi > lo; hi-- {
		lf := logf(hi)
		if lf > limit {
			break
		}
		sum += num.Exp(lf)
	}
	if sum > 1 {
		sum = 1
	}
	return sum
}

// BinomialUpper returns the one-sided p-value of the exact binomial test of at least k
// successes in n trials against success probability p:
//
//	P(X ≥ k) = Σ_{i=k..n} C(n,i) pⁱ (1−p)ⁿ⁻ⁱ.
//
// It returns NaN when n ≤ 0, k is outside 0..n or p is outside (0, 1).
func BinomialUpper(k, n int, p float64) float64 {
	if n <= 0 || k < 0 || k > n || !(p > 0 && p < 1) {
		return math.NaN()
	}
	lp, lq := num.Log(p), num.Log(1-p)
	ln1 := lgamma(float64(n) + 1)
	var sum float64
	for i := k; i <= n; i++ {
		sum += num.Exp(ln1 - lgamma(float64(i)+1) - lgamma(float64(n-i)+1) + float64(float64(i)*lp) + float64(float64(n-i)*lq))
	}
	return min(sum, 1)
}

// ChiSquareTest returns Pearson's χ² statistic of independence for a contingency table
// (rows × columns of counts), its degrees of freedom and p-value. Rows and columns that
// sum to zero are dropped first. df is 0 and p NaN when fewer than two rows or columns
// remain.
//
//	χ² = Σ_ij (O_ij − E_ij)² / E_ij,   E_ij = R_i C_j / N,   df = (r−1)(c−1)
func ChiSquareTest(table [][]float64) (chi2 float64, df int, p float64) {
	var rows []int
	ncol := 0
	for i, r := range table {
		if len(r) > ncol {
			ncol = len(r)
		}
		var s float64
		for _, v := range r {
			s += v
		}
		if s > 0 {
			rows = append(rows, i)
		}
	}
	colSum := make([]float64, ncol)
	rowSum := make([]float64, len(table))
	var total float64
	for _, i := range rows {
		for j, v := range table[i] {
			colSum[j] += v
			rowSum[i] += v
			total += v
		}
	}
	var cols []int
	for j, s := range colSum {
		if s > 0 {
			cols = append(cols, j)
		}
	}
	if len(rows) < 2 || len(cols) < 2 {
		return 0, 0, math.NaN()
	}
	for _, i := range rows {
		for _, j := range cols {
			var o float64
			if j < len(table[i]) {
				o = table[i][j]
			}
			e := float64(rowSum[i]*colSum[j]) / total
			chi2 += float64((o-e)*(o-e)) / e
		}
	}
	df = (len(rows) - 1) * (len(cols) - 1)
	return chi2, df, chiSquareSF(chi2, df)
}

// slope fits y = a + b·x by least squares and returns b, its standard error and the
// two-sided p-value of b = 0 from the normal approximation to the t statistic
// (adequate for the hundreds of points it is used on). NaNs when n < 3 or x is constant.
func slope(x, y []float64) (b, se, p float64) {
	n := float64(len(x))
	if len(x) < 3 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	mx, my := means(x, y)
	var sxx, sxy float64
	for i := range x {
		dx := x[i] - mx
		sxx += float64(dx * dx)
		sxy += float64(dx * (y[i] - my))
	}
	if sxx == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	b = sxy / sxx
	a := my - float64(b*mx)
	var rss float64
	for i := range x {
		r := y[i] - a - float64(b*x[i])
		rss += float64(r * r)
	}
	se = math.Sqrt(rss / (n - 2) / sxx)
	if se == 0 {
		if b == 0 {
			return 0, 0, 1
		}
		return b, 0, 0
	}
	return b, se, normalTwoSided(b / se)
}

// means returns the means of x and y (of equal, non-zero length).
func means(x, y []float64) (mx, my float64) {
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	n := float64(len(x))
	return mx / n, my / n
}

// pearson returns the correlation of x and y, NaN when either is constant or n < 2.
func pearson(x, y []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	mx, my := means(x, y)
	var sxx, syy, sxy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += float64(dx * dx)
		syy += float64(dy * dy)
		sxy += float64(dx * dy)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(float64(sxx*syy))
}

// logit2 fits the two-covariate logistic regression without intercept
//
//	P(y = 1) = σ(b₁x₁ + b₂x₂)
//
// by Newton's method on the log-likelihood with a ridge penalty −λ/2·|b|² (λ keeps the
// fit finite when a covariate separates the data, as the gold difference does for a
// rater who never errs). se are the square roots of the diagonal of the inverse
// penalized information. ok is false when the information matrix is singular.
func logit2(x1, x2, y []float64, lambda float64) (b, se [2]float64, ok bool) {
	for it := 0; it < 100; it++ {
		var g1, g2, h11, h12, h22 float64
		for i := range y {
			p := num.Sigmoid(float64(b[0]*x1[i]) + float64(b[1]*x2[i]))
			r := y[i] - p
			w := float64(p * (1 - p))
			g1 += float64(r * x1[i])
			g2 += float64(r * x2[i])
			h11 += float64(float64(w*x1[i]) * x1[i])
			h12 += float64(float64(w*x1[i]) * x2[i])
			h22 += float64(float64(w*x2[i]) * x2[i])
		}
		g1 -= float64(lambda * b[0])
		g2 -= float64(lambda * b[1])
		h11 += lambda
		h22 += lambda
		det := float64(h11*h22) - float64(h12*h12)
		if !(det > 0) {
			return b, se, false
		}
		// b += I⁻¹ g with the information I = −Hessian.
		d1 := (float64(h22*g1) - float64(h12*g2)) / det
		d2 := (float64(h11*g2) - float64(h12*g1)) / det
		b[0] += d1
		b[1] += d2
		se = [2]float64{math.Sqrt(h22 / det), math.Sqrt(h11 / det)}
		if math.Abs(d1)+math.Abs(d2) < 1e-10 {
			return b, se, true
		}
	}
	return b, se, true
}
