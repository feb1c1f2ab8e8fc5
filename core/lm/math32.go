package lm

import "math"

// expSlice replaces every x_i by e**x_i in float32 arithmetic, within 3 ulp,
// bit-identical on every platform (only IEEE float32 operations in a fixed order):
//
//	x = k·ln2 + r, |r| ≤ ln2/2 (Cody–Waite split of ln2);  e**x = 2**k · p(r)
//
// with p the degree-6 Taylor polynomial of e**r (truncation below 2e-8 on the range).
// Results below e**−87.33 flush to 0, above e**88.72 overflow to +Inf. It works on a
// whole slice so that wasm pays one call per row rather than one per element, four
// elements per iteration when all four are in the common range.
func expSliceGo(x []float32) {
	const (
		log2e = 1.44269504088896341
		ln2Hi = 0.693145751953125 // few significant bits: k·ln2Hi is exact
		ln2Lo = 1.428606765330187045e-06
	)
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		v0, v1, v2, v3 := v[0], v[1], v[2], v[3]
		if !(v0 >= expLo && v0 <= expHi && v1 >= expLo && v1 <= expHi && v2 >= expLo && v2 <= expHi && v3 >= expLo && v3 <= expHi) {
			expSlow(v)
			continue
		}
		// The four elements of expSlow's common case, written out.
		t0 := float32(v0 * log2e)
		t1 := float32(v1 * log2e)
		t2 := float32(v2 * log2e)
		t3 := float32(v3 * log2e)
		k0 := int32(t0)
		k1 := int32(t1)
		k2 := int32(t2)
		k3 := int32(t3)
		if f := t0 - float32(k0); f > 0.5 {
			k0++
		} else if f < -0.5 {
			k0--
		}
		if f := t1 - float32(k1); f > 0.5 {
			k1++
		} else if f < -0.5 {
			k1--
		}
		if f := t2 - float32(k2); f > 0.5 {
			k2++
		} else if f < -0.5 {
			k2--
		}
		if f := t3 - float32(k3); f > 0.5 {
			k3++
		} else if f < -0.5 {
			k3--
		}
		r0 := (v0 - float32(float32(k0)*ln2Hi)) - float32(float32(k0)*ln2Lo)
		r1 := (v1 - float32(float32(k1)*ln2Hi)) - float32(float32(k1)*ln2Lo)
		r2 := (v2 - float32(float32(k2)*ln2Hi)) - float32(float32(k2)*ln2Lo)
		r3 := (v3 - float32(float32(k3)*ln2Hi)) - float32(float32(k3)*ln2Lo)
		p0 := 1 + float32(r0*(1+float32(r0*(1.0/2+float32(r0*(1.0/6+float32(r0*(1.0/24+float32(r0*(1.0/120+float32(r0*(1.0/720))))))))))))
		p1 := 1 + float32(r1*(1+float32(r1*(1.0/2+float32(r1*(1.0/6+float32(r1*(1.0/24+float32(r1*(1.0/120+float32(r1*(1.0/720))))))))))))
		p2 := 1 + float32(r2*(1+float32(r2*(1.0/2+float32(r2*(1.0/6+float32(r2*(1.0/24+float32(r2*(1.0/120+float32(r2*(1.0/720))))))))))))
		p3 := 1 + float32(r3*(1+float32(r3*(1.0/2+float32(r3*(1.0/6+float32(r3*(1.0/24+float32(r3*(1.0/120+float32(r3*(1.0/720))))))))))))
		v[0] = float32(p0 * math.Float32frombits(uint32(k0+127)<<23))
		v[1] = float32(p1 * math.Float32frombits(uint32(k1+127)<<23))
		v[2] = float32(p2 * math.Float32frombits(uint32(k2+127)<<23))
		v[3] = float32(p3 * math.Float32frombits(uint32(k3+127)<<23))
	}
	expSlow(x[i:])
}

// The common range of expSlice: no NaN, no flush to zero, and 2**k a normal float32
// (k ≤ 127).
const (
	expLo = -87.33
	expHi = 88
)

// expSlow is expSlice one element at a time, with the special cases.
func expSlow(x []float32) {
	const (
		log2e = 1.44269504088896341
		ln2Hi = 0.693145751953125
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
		t := float32(v * log2e)
		k := int32(t)
		if f := t - float32(k); f > 0.5 {
			k++
		} else if f < -0.5 {
			k--
		}
		kf := float32(k)
		r := (v - float32(kf*ln2Hi)) - float32(kf*ln2Lo)
		p := 1 + float32(r*(1+float32(r*(1.0/2+float32(r*(1.0/6+float32(r*(1.0/24+float32(r*(1.0/120+float32(r*(1.0/720))))))))))))
		if k > 127 { // v in (88.03, 88.72]: 2**k overflows float32's exponent alone
			x[i] = float32(float32(p*math.Float32frombits(uint32(k-1+127)<<23)) * 2)
			continue
		}
		x[i] = float32(p * math.Float32frombits(uint32(k+127)<<23))
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
		x[i] = float32(2 * v)
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
