//go:build !wasm

package lm

// gemmDot is gemmDot24 natively.
func gemmDot(Y, X, W, bias []float32, acc bool, R, J, L int) {
	gemmDot24(Y, X, W, bias, acc, R, J, L)
}
