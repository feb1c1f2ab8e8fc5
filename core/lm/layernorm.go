package lm

import "math"

// lnEps is the ε added to the variance in layer norm (GPT-2: 1e-5).
const lnEps = 1e-5

// layernormForwardGo (layernormForward's Go kernel; kernels_wasm.go) normalizes
// each of N rows of width C and applies a scale and shift
// (Ba, Kiros, Hinton 2016):
//
//	μ = mean(x),  σ² = mean((x−μ)²),  r = 1/√(σ²+ε)
//	out = (x − μ)·r·w + b
//
//	out (N, C), mean (N), rstd (N), inp (N, C), w (C), b (C)
//
// mean and rstd are kept for the backward pass. Sums run left to right; the loops
// are unrolled by eight (each iteration of a loop costs a jump-table dispatch in
// wasm).
func layernormForwardGo(out, mean, rstd, inp, w, b []float32, N, C int) {
	w = w[:C:C]
	b = b[:C:C]
	for n := 0; n < N; n++ {
		x := inp[n*C : (n+1)*C : (n+1)*C]
		var s float32
		i := 0
		for ; i+8 <= len(x); i += 8 {
			v := x[i : i+8 : i+8]
			s = s + v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]
		}
		for ; i < len(x); i++ {
			s += x[i]
		}
		m := s / float32(C)
		var v2 float32
		i = 0
		for ; i+8 <= len(x); i += 8 {
			v := x[i : i+8 : i+8]
			d0, d1, d2, d3 := v[0]-m, v[1]-m, v[2]-m, v[3]-m
			d4, d5, d6, d7 := v[4]-m, v[5]-m, v[6]-m, v[7]-m
			v2 = v2 + float32(d0*d0) + float32(d1*d1) + float32(d2*d2) + float32(d3*d3) + float32(d4*d4) + float32(d5*d5) + float32(d6*d6) + float32(d7*d7)
		}
		for ; i < len(x); i++ {
			d := x[i] - m
			v2 += float32(d * d)
		}
		r := float32(1 / math.Sqrt(float64(v2/float32(C)+lnEps)))
		o := out[n*C : (n+1)*C : (n+1)*C]
		i = 0
		for ; i+8 <= len(x); i += 8 {
			v := x[i : i+8 : i+8]
			z := o[i : i+8 : i+8]
			g := w[i : i+8 : i+8]
			c := b[i : i+8 : i+8]
			z[0] = float32(float32((v[0]-m)*r)*g[0]) + c[0]
			z[1] = float32(float32((v[1]-m)*r)*g[1]) + c[1]
			z[2] = float32(float32((v[2]-m)*r)*g[2]) + c[2]
			z[3] = float32(float32((v[3]-m)*r)*g[3]) + c[3]
			z[4] = float32(float32((v[4]-m)*r)*g[4]) + c[4]
			z[5] = float32(float32((v[5]-m)*r)*g[5]) + c[5]
			z[6] = float32(float32((v[6]-m)*r)*g[6]) + c[6]
			z[7] = float32(float32((v[7]-m)*r)*g[7]) + c[7]
		}
		for ; i < len(x); i++ {
			o[i] = float32(float32((x[i]-m)*r)*w[i]) + b[i]
		}
		mean[n] = m
		rstd[n] = r
	}
}

// layernormBackwardGo (layernormBackward's Go kernel) accumulates the gradients of
// layer norm. With x̂ = (x−μ)·r and
// g = dout⊙w:
//
//	dw   += Σ_n dout⊙x̂        db += Σ_n dout
//	dinp += r·(g − mean(g) − x̂·mean(g⊙x̂))
//
//	dinp (N, C), dw (C), db (C), dout (N, C), inp (N, C), w (C), mean (N), rstd (N)
func layernormBackwardGo(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	w = w[:C:C]
	dw = dw[:C:C]
	db = db[:C:C]
	for n := 0; n < N; n++ {
		x := inp[n*C : (n+1)*C : (n+1)*C]
		d := dout[n*C : (n+1)*C : (n+1)*C]
		di := dinp[n*C : (n+1)*C : (n+1)*C]
		m, r := mean[n], rstd[n]
		var gMean, gxMean float32
		i := 0
		for ; i+4 <= len(x); i += 4 {
			xv, dv, wv := x[i:i+4:i+4], d[i:i+4:i+4], w[i:i+4:i+4]
			x0, x1, x2, x3 := float32((xv[0]-m)*r), float32((xv[1]-m)*r), float32((xv[2]-m)*r), float32((xv[3]-m)*r)
			g0, g1, g2, g3 := float32(dv[0]*wv[0]), float32(dv[1]*wv[1]), float32(dv[2]*wv[2]), float32(dv[3]*wv[3])
			gMean = gMean + g0 + g1 + g2 + g3
			gxMean = gxMean + float32(g0*x0) + float32(g1*x1) + float32(g2*x2) + float32(g3*x3)
		}
		for ; i < len(x); i++ {
			xh := float32((x[i] - m) * r)
			g := float32(d[i] * w[i])
			gMean += g
			gxMean += float32(g * xh)
		}
		gMean /= float32(C)
		gxMean /= float32(C)
		i = 0
		for ; i+4 <= len(x); i += 4 {
			xv, dv, wv := x[i:i+4:i+4], d[i:i+4:i+4], w[i:i+4:i+4]
			bv, gv, iv := db[i:i+4:i+4], dw[i:i+4:i+4], di[i:i+4:i+4]
			x0, x1, x2, x3 := float32((xv[0]-m)*r), float32((xv[1]-m)*r), float32((xv[2]-m)*r), float32((xv[3]-m)*r)
			d0, d1, d2, d3 := dv[0], dv[1], dv[2], dv[3] // read once (the stores below might alias)
			g0, g1, g2, g3 := float32(d0*wv[0]), float32(d1*wv[1]), float32(d2*wv[2]), float32(d3*wv[3])
			bv[0] += d0
			bv[1] += d1
			bv[2] += d2
			bv[3] += d3
			gv[0] += float32(x0 * d0)
			gv[1] += float32(x1 * d1)
			gv[2] += float32(x2 * d2)
			gv[3] += float32(x3 * d3)
			iv[0] += float32((g0 - gMean - float32(x0*gxMean)) * r)
			iv[1] += float32((g1 - gMean - float32(x1*gxMean)) * r)
			iv[2] += float32((g2 - gMean - float32(x2*gxMean)) * r)
			iv[3] += float32((g3 - gMean - float32(x3*gxMean)) * r)
		}
		for ; i < len(x); i++ {
			xh := float32((x[i] - m) * r)
			g := float32(d[i] * w[i])
			db[i] += d[i]
			dw[i] += float32(xh * d[i])
			di[i] += float32((g - gMean - float32(xh*gxMean)) * r)
		}
	}
}
