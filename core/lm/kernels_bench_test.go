package lm

import (
	"fmt"
	"testing"

	"prefer/core/rng"
	"prefer/core/simd"
)

// BenchmarkKernel times each matrix kernel on the shapes of the default model's
// training step (16 × 48 tokens), with the SIMD kernels and without (in wasm; natively
// both rows are the Go kernels), in GFLOP/s (2 per multiply-add).
func BenchmarkKernel(b *testing.B) {
	const N, C, OC = 16 * 48, 48, 192
	r := rng.New(3)
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.Norm())
		}
		return x
	}
	inp, w, out := fill(N*C), fill(C*OC), fill(N*OC)
	for _, on := range []bool{true, false} {
		name := "simd"
		if !on {
			name = "go"
		}
		b.Run(fmt.Sprintf("gemmAcc/%s", name), func(b *testing.B) {
			prev := simd.SetEnabled(on)
			defer simd.SetEnabled(prev)
			for b.Loop() {
				gemmAcc(out, inp, C, 1, w, N, C, OC)
			}
			b.ReportMetric(float64(2*float64(N*C*OC)*float64(b.N))/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("gemmDot/%s", name), func(b *testing.B) {
			prev := simd.SetEnabled(on)
			defer simd.SetEnabled(prev)
			for b.Loop() {
				gemmDot(inp, out, w, nil, true, N, C, OC)
			}
			b.ReportMetric(float64(2*float64(N*C*OC)*float64(b.N))/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
