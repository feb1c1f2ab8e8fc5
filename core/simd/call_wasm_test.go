//go:build wasm

package simd

import (
	"testing"
	"unsafe"
)

// BenchmarkCall measures the cost of one call of a kernel that does nothing
// (exp_slice of 0 values): Go → the loader's JavaScript trampoline → the kernel
// module and back, against a Go function call of the same arguments.
func BenchmarkCall(b *testing.B) {
	if !linked {
		b.Skip("the kernel module is not linked")
	}
	x := make([]float32, 4)
	p := unsafe.Pointer(&x[0])
	b.Run("kernel", func(b *testing.B) {
		for b.Loop() {
			expSlice(p, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/call")
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			goNop(p, 0)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/call")
	})
}

//go:noinline
func goNop(p unsafe.Pointer, n int32) {
	if n > 0 {
		*(*float32)(p) = 0
	}
}
