//go:build !wasm

package lm

// gemmDot is gemmDot24 natively.
func gemmDot(Y, X, W, bias []float32, acc bool, R, J, L int) {
	gemmDot24(Y, X, W, bias, acc, R, J, L)
}

// gemmAcc is gemmAccGo natively.
func gemmAcc(Y, A []float32, ars, aks int, S []float32, R, K, L int) {
	gemmAccGo(Y, A, ars, aks, S, R, K, L)
}

// expSlice is expSliceGo natively.
func expSlice(x []float32) { expSliceGo(x) }

// attentionForward is attentionForwardGo natively.
func attentionForward(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	attentionForwardGo(out, att, qkv, B, T, C, NH, t0, t1)
}

// attentionBackward is attentionBackwardGo natively.
func attentionBackward(dqkv, dout, qkv, att, scratch []float32, B, T, C, NH, t1 int) {
	attentionBackwardGo(dqkv, dout, qkv, att, scratch, B, T, C, NH, t1)
}

// Natively the row kernels are the Go ones.

func layernormForward(out, mean, rstd, inp, w, b []float32, N, C int) {
	layernormForwardGo(out, mean, rstd, inp, w, b, N, C)
}

func layernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	layernormBackwardGo(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
}

func geluForward(out, th, inp []float32) { geluForwardGo(out, th, inp) }

func geluBackward(dinp, inp, th, dout []float32) { geluBackwardGo(dinp, inp, th, dout) }

func softmaxRows(probs, logits []float32, N, V int, zs, pls []float64, ms []float32) {
	softmaxRowsGo(probs, logits, N, V, zs, pls, ms)
}

func adamW(p, g, mm, vv []float32, scale, b1, b2, c1, c2, eps, lr32, wd float32) {
	adamWGo(p, g, mm, vv, scale, b1, b2, c1, c2, eps, lr32, wd)
}
