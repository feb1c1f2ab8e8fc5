//go:build wasm

package reward

import "prefer/core/simd"

// In wasm the kernels are the SIMD kernels of core/simd when they are linked, else
// the Go ones: the same sums in the same order, bit for bit.

func adamRange(p, g, m, v []float32, alpha, eps, b1, b2, a1, a2, decay float32) {
	if simd.On() {
		simd.AdamRange(p, g, m, v, alpha, eps, b1, b2, a1, a2, decay)
		return
	}
	adamRangeGo(p, g, m, v, alpha, eps, b1, b2, a1, a2, decay)
}

func gatherAcc(h, w []float32, idx []int32, val []float32, H int) {
	if simd.On() {
		simd.GatherAcc(h, w, idx, val, H)
		return
	}
	gatherAccGo(h, w, idx, val, H)
}

func scatterAcc(g, d []float32, idx []int32, val []float32, H int) {
	if simd.On() {
		simd.ScatterAcc(g, d, idx, val, H)
		return
	}
	scatterAccGo(g, d, idx, val, H)
}
