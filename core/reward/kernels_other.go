//go:build !wasm

package reward

// Natively the kernels are the Go ones (kernels.go).

func adamRange(p, g, m, v []float32, alpha, eps, b1, b2, a1, a2, decay float32) {
	adamRangeGo(p, g, m, v, alpha, eps, b1, b2, a1, a2, decay)
}

func gatherAcc(h, w []float32, idx []int32, val []float32, H int) {
	gatherAccGo(h, w, idx, val, H)
}

func scatterAcc(g, d []float32, idx []int32, val []float32, H int) {
	scatterAccGo(g, d, idx, val, H)
}
