package num

import "math"

// Exp returns e**x, bit-identical on every platform.
//
// The algorithm is FreeBSD's e_exp.c as ported in Go's math/exp.go: reduce
// x = k·ln2 + r with |r| ≤ ln2/2, approximate exp(r) with a degree-5 Remez
// polynomial of r², and scale by 2**k.
//
//	exp(x) = 2**k · exp(r),   r = hi − lo = x − k·ln2
func Exp(x float64) float64 {
	const (
		ln2Hi     = 6.93147180369123816490e-01
		ln2Lo     = 1.90821492927058770002e-10
		log2e     = 1.44269504088896338700e+00
		overflow  = 7.09782712893383973096e+02
		underflow = -7.45133219101941108420e+02
		nearZero  = 1.0 / (1 << 28)
	)
	switch {
	case math.IsNaN(x):
		return x
	case x > overflow:
		return math.Inf(1)
	case x < underflow:
		return 0
	case -nearZero < x && x < nearZero:
		return 1 + x
	}
	var k int
	switch {
	case x < 0:
		k = int(float64(log2e*x) - 0.5)
	case x > 0:
		k = int(float64(log2e*x) + 0.5)
	}
	hi := x - float64(float64(k)*ln2Hi)
	lo := float64(float64(k) * ln2Lo)
	return expMulti(hi, lo, k)
}

// expMulti returns e**r × 2**k where r = hi − lo and |r| ≤ ln(2)/2.
func expMulti(hi, lo float64, k int) float64 {
	const (
		p1 = 1.66666666666666657415e-01
		p2 = -2.77777777770155933842e-03
		p3 = 6.61375632143793436117e-05
		p4 = -1.65339022054652515390e-06
		p5 = 4.13813679705723846039e-08
	)
	r := hi - lo
	t := float64(r * r)
	c := r - float64(t*(p1+float64(t*(p2+float64(t*(p3+float64(t*(p4+float64(t*p5)))))))))
	y := 1 - ((lo - float64(r*c)/(2-c)) - hi)
	return math.Ldexp(y, k)
}

// Log returns the natural logarithm of x, bit-identical on every platform.
//
// FreeBSD's e_log.c as ported in Go's math/log.go: x = 2**k·(1+f) with
// √2/2 < 1+f < √2, s = f/(2+f), log(1+f) = f − s·(f − R(s)) with a Remez
// polynomial R.
func Log(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01
		ln2Lo = 1.90821492927058770002e-10
		l1    = 6.666666666666735130e-01
		l2    = 3.999999999940941908e-01
		l3    = 2.857142874366239149e-01
		l4    = 2.222219843214978396e-01
		l5    = 1.818357216161805012e-01
		l6    = 1.531383769920937332e-01
		l7    = 1.479819860511658591e-01
	)
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1):
		return x
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	f1, ki := math.Frexp(x)
	if f1 < math.Sqrt2/2 {
		f1 = float64(f1 * 2)
		ki--
	}
	f := f1 - 1
	k := float64(ki)
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * (l1 + float64(s4*(l3+float64(s4*(l5+float64(s4*l7)))))))
	t2 := float64(s4 * (l2 + float64(s4*(l4+float64(s4*l6)))))
	r := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}

// Sigmoid returns σ(x) = 1/(1+e^−x), computed without overflow for any x.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + Exp(-x))
	}
	e := Exp(x)
	return e / (1 + e)
}

// Softplus returns log(1+e^x) without overflow: max(x,0) + log(1+e^−|x|).
// The Bradley–Terry loss of a pair with score difference Δ is Softplus(−Δ).
func Softplus(x float64) float64 {
	if x > 0 {
		return x + log1pExp(-x)
	}
	return log1pExp(x)
}

// LogSigmoid returns log σ(x) = −Softplus(−x).
func LogSigmoid(x float64) float64 { return -Softplus(-x) }

// log1pExp returns log(1+e^x) for x ≤ 0.
func log1pExp(x float64) float64 {
	if x < -37 {
		return Exp(x)
	}
	return Log(1 + Exp(x))
}

// Tanh returns the hyperbolic tangent of x using Exp from this package.
func Tanh(x float64) float64 {
	if x > 20 {
		return 1
	}
	if x < -20 {
		return -1
	}
	if math.Abs(x) < 1e-4 {
		return x - float64(float64(x*x)*x)/3
	}
	e := Exp(float64(2 * x))
	return (e - 1) / (e + 1)
}

// LogSumExp returns log Σ_i exp(x_i), shifted by the maximum for stability.
// It returns −Inf for an empty slice.
func LogSumExp(x []float64) float64 {
	if len(x) == 0 {
		return math.Inf(-1)
	}
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range x {
		s += Exp(v - m)
	}
	return m + Log(s)
}

// Softmax writes softmax(x) into dst (len(dst) == len(x)) and returns dst.
//
//	dst_i = exp(x_i − max x) / Σ_j exp(x_j − max x)
func Softmax(dst, x []float64) []float64 {
	if len(dst) != len(x) {
		panic("num: Softmax length mismatch")
	}
	if len(x) == 0 {
		return dst
	}
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	var s float64
	for i, v := range x {
		dst[i] = Exp(v - m)
		s += dst[i]
	}
	for i := range dst {
		dst[i] /= s
	}
	return dst
}
