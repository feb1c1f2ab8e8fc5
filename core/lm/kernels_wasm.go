//go:build wasm

package lm

import "prefer/core/simd"

// gemmAcc is the SIMD kernel when it is linked (core/simd), else gemmAccGo: the same
// sums in the same order, bit for bit.
func gemmAcc(Y, A []float32, ars, aks int, S []float32, R, K, L int) {
	if simd.On() {
		simd.GemmAcc(Y, A, ars, aks, S, R, K, L)
		return
	}
	gemmAccGo(Y, A, ars, aks, S, R, K, L)
}

// The wrappers below all have one shape on purpose: the SIMD kernel when linked,
// else the Go kernel that gives the same bits.

// gemmDot is the SIMD kernel when it is linked (core/simd), else gemmDot42: the same
// sums in the same order, bit for bit.
func gemmDot(Y, X, W, bias []float32, acc bool, R, J, L int) {
	if simd.On() {
		simd.GemmDot(Y, X, W, bias, acc, R, J, L)
		return
	}
	gemmDot42(Y, X, W, bias, acc, R, J, L)
}

// gemmDot42 is gemmDot24 (see there) shaped for wasm: the same sums in the same
// order, bit-identical, over four rows by two columns and sixteen products per
// iteration (measured in the whole model: 2% faster in wasm than gemmDot24).
// Its loop bodies repeat by hand on purpose (unrolled by sixteen and eight, tails
// in gemmDot24's order): do not factor them out.
func gemmDot42(Y, X, W, bias []float32, acc bool, R, J, L int) {
	r := 0
	for ; r+4 <= R; r += 4 {
		x0 := X[r*L : r*L+L : r*L+L]
		n := len(x0) // L, spelled so that the compiler drops most bounds checks
		x1 := X[(r+1)*L : (r+1)*L+n : (r+1)*L+n]
		x2 := X[(r+2)*L : (r+2)*L+n : (r+2)*L+n]
		x3 := X[(r+3)*L : (r+3)*L+n : (r+3)*L+n]
		x1, x2, x3 = x1[:n:n], x2[:n:n], x3[:n:n]
		j := 0
		for ; j+2 <= J; j += 2 {
			w0 := W[j*L : j*L+n : j*L+n]
			w1 := W[(j+1)*L : (j+1)*L+n : (j+1)*L+n]
			w0, w1 = w0[:n:n], w1[:n:n]
			var s00, s01, s10, s11, s20, s21, s30, s31 float32
			l := 0
			for ; l+16 <= n; l += 16 {
				p0 := x0[l : l+16 : l+16]
				p1 := x1[l : l+16 : l+16]
				p2 := x2[l : l+16 : l+16]
				p3 := x3[l : l+16 : l+16]
				q0 := w0[l : l+16 : l+16]
				q1 := w1[l : l+16 : l+16]
				s00 += p0[0]*q0[0] + p0[1]*q0[1] + p0[2]*q0[2] + p0[3]*q0[3] + p0[4]*q0[4] + p0[5]*q0[5] + p0[6]*q0[6] + p0[7]*q0[7]
				s01 += p0[0]*q1[0] + p0[1]*q1[1] + p0[2]*q1[2] + p0[3]*q1[3] + p0[4]*q1[4] + p0[5]*q1[5] + p0[6]*q1[6] + p0[7]*q1[7]
				s10 += p1[0]*q0[0] + p1[1]*q0[1] + p1[2]*q0[2] + p1[3]*q0[3] + p1[4]*q0[4] + p1[5]*q0[5] + p1[6]*q0[6] + p1[7]*q0[7]
				s11 += p1[0]*q1[0] + p1[1]*q1[1] + p1[2]*q1[2] + p1[3]*q1[3] + p1[4]*q1[4] + p1[5]*q1[5] + p1[6]*q1[6] + p1[7]*q1[7]
				s20 += p2[0]*q0[0] + p2[1]*q0[1] + p2[2]*q0[2] + p2[3]*q0[3] + p2[4]*q0[4] + p2[5]*q0[5] + p2[6]*q0[6] + p2[7]*q0[7]
				s21 += p2[0]*q1[0] + p2[1]*q1[1] + p2[2]*q1[2] + p2[3]*q1[3] + p2[4]*q1[4] + p2[5]*q1[5] + p2[6]*q1[6] + p2[7]*q1[7]
				s30 += p3[0]*q0[0] + p3[1]*q0[1] + p3[2]*q0[2] + p3[3]*q0[3] + p3[4]*q0[4] + p3[5]*q0[5] + p3[6]*q0[6] + p3[7]*q0[7]
				s31 += p3[0]*q1[0] + p3[1]*q1[1] + p3[2]*q1[2] + p3[3]*q1[3] + p3[4]*q1[4] + p3[5]*q1[5] + p3[6]*q1[6] + p3[7]*q1[7]
				s00 += p0[8]*q0[8] + p0[9]*q0[9] + p0[10]*q0[10] + p0[11]*q0[11] + p0[12]*q0[12] + p0[13]*q0[13] + p0[14]*q0[14] + p0[15]*q0[15]
				s01 += p0[8]*q1[8] + p0[9]*q1[9] + p0[10]*q1[10] + p0[11]*q1[11] + p0[12]*q1[12] + p0[13]*q1[13] + p0[14]*q1[14] + p0[15]*q1[15]
				s10 += p1[8]*q0[8] + p1[9]*q0[9] + p1[10]*q0[10] + p1[11]*q0[11] + p1[12]*q0[12] + p1[13]*q0[13] + p1[14]*q0[14] + p1[15]*q0[15]
				s11 += p1[8]*q1[8] + p1[9]*q1[9] + p1[10]*q1[10] + p1[11]*q1[11] + p1[12]*q1[12] + p1[13]*q1[13] + p1[14]*q1[14] + p1[15]*q1[15]
				s20 += p2[8]*q0[8] + p2[9]*q0[9] + p2[10]*q0[10] + p2[11]*q0[11] + p2[12]*q0[12] + p2[13]*q0[13] + p2[14]*q0[14] + p2[15]*q0[15]
				s21 += p2[8]*q1[8] + p2[9]*q1[9] + p2[10]*q1[10] + p2[11]*q1[11] + p2[12]*q1[12] + p2[13]*q1[13] + p2[14]*q1[14] + p2[15]*q1[15]
				s30 += p3[8]*q0[8] + p3[9]*q0[9] + p3[10]*q0[10] + p3[11]*q0[11] + p3[12]*q0[12] + p3[13]*q0[13] + p3[14]*q0[14] + p3[15]*q0[15]
				s31 += p3[8]*q1[8] + p3[9]*q1[9] + p3[10]*q1[10] + p3[11]*q1[11] + p3[12]*q1[12] + p3[13]*q1[13] + p3[14]*q1[14] + p3[15]*q1[15]
			}
			for ; l+8 <= n; l += 8 {
				p0 := x0[l : l+8 : l+8]
				p1 := x1[l : l+8 : l+8]
				p2 := x2[l : l+8 : l+8]
				p3 := x3[l : l+8 : l+8]
				q0 := w0[l : l+8 : l+8]
				q1 := w1[l : l+8 : l+8]
				s00 += p0[0]*q0[0] + p0[1]*q0[1] + p0[2]*q0[2] + p0[3]*q0[3] + p0[4]*q0[4] + p0[5]*q0[5] + p0[6]*q0[6] + p0[7]*q0[7]
				s01 += p0[0]*q1[0] + p0[1]*q1[1] + p0[2]*q1[2] + p0[3]*q1[3] + p0[4]*q1[4] + p0[5]*q1[5] + p0[6]*q1[6] + p0[7]*q1[7]
				s10 += p1[0]*q0[0] + p1[1]*q0[1] + p1[2]*q0[2] + p1[3]*q0[3] + p1[4]*q0[4] + p1[5]*q0[5] + p1[6]*q0[6] + p1[7]*q0[7]
				s11 += p1[0]*q1[0] + p1[1]*q1[1] + p1[2]*q1[2] + p1[3]*q1[3] + p1[4]*q1[4] + p1[5]*q1[5] + p1[6]*q1[6] + p1[7]*q1[7]
				s20 += p2[0]*q0[0] + p2[1]*q0[1] + p2[2]*q0[2] + p2[3]*q0[3] + p2[4]*q0[4] + p2[5]*q0[5] + p2[6]*q0[6] + p2[7]*q0[7]
				s21 += p2[0]*q1[0] + p2[1]*q1[1] + p2[2]*q1[2] + p2[3]*q1[3] + p2[4]*q1[4] + p2[5]*q1[5] + p2[6]*q1[6] + p2[7]*q1[7]
				s30 += p3[0]*q0[0] + p3[1]*q0[1] + p3[2]*q0[2] + p3[3]*q0[3] + p3[4]*q0[4] + p3[5]*q0[5] + p3[6]*q0[6] + p3[7]*q0[7]
				s31 += p3[0]*q1[0] + p3[1]*q1[1] + p3[2]*q1[2] + p3[3]*q1[3] + p3[4]*q1[4] + p3[5]*q1[5] + p3[6]*q1[6] + p3[7]*q1[7]
			}
			for ; l < L; l++ {
				s00 += x0[l] * w0[l]
				s01 += x0[l] * w1[l]
				s10 += x1[l] * w0[l]
				s11 += x1[l] * w1[l]
				s20 += x2[l] * w0[l]
				s21 += x2[l] * w1[l]
				s30 += x3[l] * w0[l]
				s31 += x3[l] * w1[l]
			}
			Y[(r+0)*J+j+0] = dotTo(Y[(r+0)*J+j+0], s00, bias, j+0, acc)
			Y[(r+0)*J+j+1] = dotTo(Y[(r+0)*J+j+1], s01, bias, j+1, acc)
			Y[(r+1)*J+j+0] = dotTo(Y[(r+1)*J+j+0], s10, bias, j+0, acc)
			Y[(r+1)*J+j+1] = dotTo(Y[(r+1)*J+j+1], s11, bias, j+1, acc)
			Y[(r+2)*J+j+0] = dotTo(Y[(r+2)*J+j+0], s20, bias, j+0, acc)
			Y[(r+2)*J+j+1] = dotTo(Y[(r+2)*J+j+1], s21, bias, j+1, acc)
			Y[(r+3)*J+j+0] = dotTo(Y[(r+3)*J+j+0], s30, bias, j+0, acc)
			Y[(r+3)*J+j+1] = dotTo(Y[(r+3)*J+j+1], s31, bias, j+1, acc)
		}
		for ; j < J; j++ {
			w := W[j*L : j*L+L]
			Y[(r+0)*J+j] = dotBase(Y[(r+0)*J+j], x0, w, bias, j, acc)
			Y[(r+1)*J+j] = dotBase(Y[(r+1)*J+j], x1, w, bias, j, acc)
			Y[(r+2)*J+j] = dotBase(Y[(r+2)*J+j], x2, w, bias, j, acc)
			Y[(r+3)*J+j] = dotBase(Y[(r+3)*J+j], x3, w, bias, j, acc)
		}
	}
	if r < R {
		gemmDot24(Y[r*J:], X[r*L:], W, bias, acc, R-r, J, L)
	}
}

// expSlice is the SIMD kernel when it is linked (core/simd) and x is long enough to
// pay for the call, else expSliceGo: the same results, bit for bit.
func expSlice(x []float32) {
	if simd.On() && len(x) >= 8 {
		simd.ExpSlice(x)
		return
	}
	expSliceGo(x)
}

// attentionForward is the SIMD kernel when it is linked and takes the head size
// (a multiple of four), else attentionForwardGo: the same results, bit for bit.
func attentionForward(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	if simd.On() && simd.AttentionOK(C, NH) {
		simd.AttentionForward(out, att, qkv, B, T, C, NH, t0, t1)
		return
	}
	attentionForwardGo(out, att, qkv, B, T, C, NH, t0, t1)
}

// attentionBackward is the SIMD kernel when it is linked and takes the head size,
// else attentionBackwardGo: the same results, bit for bit.
func attentionBackward(dqkv, dout, qkv, att, scratch []float32, B, T, C, NH, t1 int) {
	if simd.On() && simd.AttentionOK(C, NH) {
		simd.AttentionBackward(dqkv, dout, qkv, att, scratch, B, T, C, NH, t1)
		return
	}
	attentionBackwardGo(dqkv, dout, qkv, att, scratch, B, T, C, NH, t1)
}

// The row kernels: SIMD when linked, else Go (the same results, bit for bit).

func layernormForward(out, mean, rstd, inp, w, b []float32, N, C int) {
	if simd.On() {
		simd.LayernormForward(out, mean, rstd, inp, w, b, N, C)
		return
	}
	layernormForwardGo(out, mean, rstd, inp, w, b, N, C)
}

func layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	if simd.On() {
		simd.LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
		return
	}
	layernormBackwardGo(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
}

func geluForward(out, th, inp []float32) {
	if simd.On() {
		simd.GeluForward(out, th, inp)
		return
	}
	geluForwardGo(out, th, inp)
}

func geluBackward(dinp, inp, th, dout []float32) {
	if simd.On() {
		simd.GeluBackward(dinp, inp, th, dout)
		return
	}
	geluBackwardGo(dinp, inp, th, dout)
}

func softmaxRows(probs, logits []float32, N, V int, zs, pls []float64, ms []float32) {
	if simd.On() {
		simd.SoftmaxRows(probs, logits, N, V, zs, pls, ms)
		return
	}
	softmaxRowsGo(probs, logits, N, V, zs, pls, ms)
}

func adamW(p, g, mm, vv []float32, scale, b1, b2, c1, c2, eps, lr32, wd float32) {
	if simd.On() {
		simd.AdamW(p, g, mm, vv, scale, b1, b2, c1, c2, eps, lr32, wd)
		return
	}
	adamWGo(p, g, mm, vv, scale, b1, b2, c1, c2, eps, lr32, wd)
}
