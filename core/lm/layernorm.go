package lm

import "math"

// lnEps is the ε added to the variance in layer norm (GPT-2: 1e-5).
const lnEps = 1e-5

// layernormForward normalizes each of N rows of width C and applies a scale and shift
// (Ba, Kiros, Hinton 2016):
//
//	μ = mean(x),  σ² = mean((x−μ)²),  r = 1/√(σ²+ε)
//	out = (x − μ)·r·w + b
//
//	out (N, C), mean (N), rstd (N), inp (N, C), w (C), b (C)
//
// mean and rstd are kept for the backward pass.
func layernormForward(out, mean, rstd, inp, w, b []float32, N, C int) {
	_ = w[C-1]
	_ = b[C-1]
	for n := 0; n < N; n++ {
		x := inp[n*C : (n+1)*C : (n+1)*C]
		var s float32
		for _, v := range x {
			s += v
		}
		m := s / float32(C)
		var v2 float32
		for _, v := range x {
			d := v - m
			v2 += d * d
		}
		r := float32(1 / math.Sqrt(float64(v2/float32(C)+lnEps)))
		o := out[n*C : (n+1)*C : (n+1)*C]
		for i, v := range x {
			o[i] = (v-m)*r*w[i] + b[i]
		}
		mean[n] = m
		rstd[n] = r
	}
}

// layernormBackward accumulates the gradients of layer norm. With x̂ = (x−μ)·r and
// g = dout⊙w:
//
//	dw   += Σ_n dout⊙x̂        db += Σ_n dout
//	dinp += r·(g − mean(g) − x̂·mean(g⊙x̂))
//
//	dinp (N, C), dw (C), db (C), dout (N, C), inp (N, C), w (C), mean (N), rstd (N)
func layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	_ = w[C-1]
	_ = dw[C-1]
	_ = db[C-1]
	for n := 0; n < N; n++ {
		x := inp[n*C : (n+1)*C : (n+1)*C]
		d := dout[n*C : (n+1)*C : (n+1)*C]
		di := dinp[n*C : (n+1)*C : (n+1)*C]
		m, r := mean[n], rstd[n]
		var gMean, gxMean float32
		for i := range x {
			xh := (x[i] - m) * r
			g := d[i] * w[i]
			gMean += g
			gxMean += g * xh
		}
		gMean /= float32(C)
		gxMean /= float32(C)
		for i := range x {
			xh := (x[i] - m) * r
			g := d[i] * w[i]
			db[i] += d[i]
			dw[i] += xh * d[i]
			di[i] += (g - gMean - xh*gxMean) * r
		}
	}
}
