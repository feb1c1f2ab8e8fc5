//go:build !wasm

package simd

// Linked is false natively: the kernels exist only in wasm.
func Linked() bool { return false }

// On is false natively (a constant, so callers' SIMD branches compile away).
func On() bool { return false }

// SetEnabled does nothing natively and returns false.
func SetEnabled(bool) bool { return false }

// GemmAcc is never called natively (On is false).
func GemmAcc(Y, A []float32, ars, aks int, S []float32, R, K, L int) {
	panic("simd: no SIMD kernels natively")
}

// GemmDot is never called natively (On is false).
func GemmDot(Y, X, W, bias []float32, acc bool, R, J, L int) {
	panic("simd: no SIMD kernels natively")
}

// ExpSlice is never called natively (On is false).
func ExpSlice(x []float32) { panic("simd: no SIMD kernels natively") }

// AttentionOK is false natively.
func AttentionOK(C, NH int) bool { return false }

// AttentionForward is never called natively (On is false).
func AttentionForward(out, att, qkv []float32, B, T, C, NH, t0, t1 int) {
	panic("simd: no SIMD kernels natively")
}

// AttentionBackward is never called natively (On is false).
func AttentionBackward(dqkv, dout, qkv, att, scratch []float32, B, T, C, NH, t1 int) {
	panic("simd: no SIMD kernels natively")
}

// GatherAcc is never called natively (On is false).
func GatherAcc(Y, S []float32, idx []int32, val []float32, L int) {
	panic("simd: no SIMD kernels natively")
}

// ScatterAcc is never called natively (On is false).
func ScatterAcc(G, D []float32, idx []int32, val []float32, L int) {
	panic("simd: no SIMD kernels natively")
}

// AdamRange is never called natively (On is false).
func AdamRange(p, g, m, v []float32, alpha, eps, b1, b2, a1, a2, decay float32) {
	panic("simd: no SIMD kernels natively")
}

// LayernormForward is never called natively (On is false).
func LayernormForward(out, mean, rstd, inp, w, b []float32, N, C int) {
	panic("simd: no SIMD kernels natively")
}

// LayernormBackward is never called natively (On is false).
func LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int) {
	panic("simd: no SIMD kernels natively")
}

// GeluForward is never called natively (On is false).
func GeluForward(out, th, inp []float32) { panic("simd: no SIMD kernels natively") }

// GeluBackward is never called natively (On is false).
func GeluBackward(dinp, inp, th, dout []float32) { panic("simd: no SIMD kernels natively") }

// SoftmaxRows is never called natively (On is false).
func SoftmaxRows(probs, logits []float32, N, V int, zs, pls []float64, ms []float32) {
	panic("simd: no SIMD kernels natively")
}

// AdamW is never called natively (On is false).
func AdamW(p, g, m, v []float32, scale, b1, b2, c1, c2, eps, lr, wd float32) {
	panic("simd: no SIMD kernels natively")
}
