// Package simdtest holds what the tests of packages with SIMD kernels share.
package simdtest

import (
	"os"
	"runtime"
	"testing"

	"prefer/core/simd"
)

// Require skips a test of the SIMD kernels where they are not linked (natively, or
// in wasm under Go's own Node wrapper), and fails there instead when
// PREFER_REQUIRE_SIMD is set (make test's wasm run), so that run cannot pass
// without them.
func Require(t testing.TB) {
	t.Helper()
	if simd.Linked() {
		return
	}
	if runtime.GOOS == "js" && os.Getenv("PREFER_REQUIRE_SIMD") != "" {
		t.Fatal("PREFER_REQUIRE_SIMD is set but the SIMD kernels are not linked: run the wasm tests with -exec=wasm/exec/go_js_wasm_exec")
	}
	t.Skip("the SIMD kernels run only in wasm, linked by wasm/exec/go_js_wasm_exec (natively the Go kernels are the only ones)")
}
