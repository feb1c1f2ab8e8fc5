package lm

import "math"

// expSlice replaces every x_i by e**x_i in float32 arithmetic, within 3 ulp,
// bit-identical on every platform (only IEEE float32 operations in a fixed order):
//
//	x = k·ln2 + r, |r| ≤ ln2/2 (Cody–Waite split of ln2);  e**x = 2**k · p(r)
//
// with p the degree-6 Taylor polynomial of e**r (truncation below 2e-8 on the range).
// Results below e**−87.33 flush to 0, above e**88.72 overflow to +Inf. It works on a
// whole slice so that wasm pays one call per row rather than one per element.
func expSlice(x []float32) {
	const (
		log2e = 1.44269504088896341
		ln2Hi = 0.693145751953125 // few significant bits: k·ln2Hi is exact
		ln2Lo = 1.428606765330187045e-06
	)
	for i, v := range x {
		switch {
		case v != v:
			continue
		case v > 88.72:
			x[i] = float32(math.Inf(1))
			continue
		case v < -87.33:
			x[i] = 0
			continue
		}
		t := v * log2e
		k := int32(t)
		if f := t - float32(k); f > 0.5 {
			k++
		} else if f < -0.5 {
			k--
		}
		kf := float32(k)
		r := (v - kf*ln2Hi) - kf*ln2Lo
		p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720))))))
		if k > 127 { // v in (88.03, 88.72]: 2**k overflows float32's exponent alone
			x[i] = p * math.Float32frombits(uint32(k-1+127)<<23) * 2
			continue
		}
		x[i] = p * math.Float32frombits(uint32(k+127)<<23)
	}
}

// exp32 returns e**x computed as expSlice does.
func exp32(x float32) float32 {
	v := [1]float32{x}
	expSlice(v[:])
	return v[0]
}

// tanhSlice replaces every x_i by tanh(x_i) = 1 − 2/(e**(2x_i) + 1), in float32
// (absolute error ~1e-7); |x| > 9 gives ±1.
func tanhSlice(x []float32) {
	for i, v := range x {
		if v > 9 {
			v = 9
		} else if v < -9 {
			v = -9
		}
		x[i] = 2 * v
	}
	expSlice(x)
	for i, e := range x {
		x[i] = 1 - 2/(e+1)
	}
}

// tanh32 returns tanh(x) computed as tanhSlice does.
func tanh32(x float32) float32 {
	v := [1]float32{x}
	tanhSlice(v[:])
	return v[0]
}
