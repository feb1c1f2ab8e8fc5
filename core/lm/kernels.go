package lm

import "prefer/core/num"

// The kernels below are the inner loops of the linear layers. Measured here, plain Go
// float loops run several times slower in wasm than natively, and unrolling by eight
// recovers most of the gap; each kernel keeps a fixed summation order, so results are
// the same natively and in wasm.

// matvec computes out[o] = bias[o] + Σ_i w[o,i]·x[i].
//
//	out (OC), w (OC, C), x (C), bias (OC) or nil
func matvec(out, w, x, bias []float32, C, OC int) {
	for o := 0; o < OC; o++ {
		s := num.Dot32(w[o*C:(o+1)*C], x)
		if bias != nil {
			s += bias[o]
		}
		out[o] = s
	}
}

// matTvecAdd computes dx[i] += Σ_o d[o]·w[o,i].
//
//	dx (C), w (OC, C), d (OC)
func matTvecAdd(dx, w, d []float32, C, OC int) {
	for o := 0; o < OC; o++ {
		if d[o] != 0 {
			num.Axpy32(d[o], w[o*C:(o+1)*C], dx)
		}
	}
}

// outerAdd computes dw[o,i] += Σ_n dout[n,o]·inp[n,i].
//
//	dw (OC, C), dout (N, OC), inp (N, C)
func outerAdd(dw, dout, inp []float32, N, C, OC int) {
	for o := 0; o < OC; o++ {
		row := dw[o*C : (o+1)*C]
		for n := 0; n < N; n++ {
			if d := dout[n*OC+o]; d != 0 {
				num.Axpy32(d, inp[n*C:(n+1)*C], row)
			}
		}
	}
}

// dot returns Σ a_i·b_i (num.Dot32).
func dot(a, b []float32) float32 { return num.Dot32(a, b) }

// axpy computes y += alpha·x (num.Axpy32).
func axpy(alpha float32, x, y []float32) { num.Axpy32(alpha, x, y) }
