package simd_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"

	"prefer/core/simd"
	"prefer/core/simd/module"
)

// TestModuleUpToDate checks that the committed static/web/simd.wasm is exactly what
// the generator writes (make and `go run ./server/tools/simdgen static/web/simd.wasm`
// rewrite it).
func TestModuleUpToDate(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("reads the repository: native only")
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "static", "web", "simd.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, module.Bytes()) {
		t.Fatal("static/web/simd.wasm differs from the generator's output: run `go run ./server/tools/simdgen static/web/simd.wasm` (make does)")
	}
}

// TestLoaderTable checks that the loader's table of kernels (static/web/simd.js)
// names exactly the module's exported kernels with their numbers of parameters:
// the loader gives the Go program one trampoline per entry.
func TestLoaderTable(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("reads the repository: native only")
	}
	js, err := os.ReadFile(filepath.Join("..", "..", "static", "web", "simd.js"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)const kernels = \{(.*?)\};`).FindSubmatch(js)
	if block == nil {
		t.Fatal("simd.js: no `const kernels = {…};` table")
	}
	table := map[string]int{}
	for _, m := range regexp.MustCompile(`(\w+): (\d+),`).FindAllSubmatch(block[1], -1) {
		n, _ := strconv.Atoi(string(m[2]))
		table[string(m[1])] = n
	}
	exports := module.Exports()
	for name, n := range exports {
		if name == "version" {
			continue
		}
		if got, ok := table[name]; !ok || got != n {
			t.Errorf("simd.js: kernel %s has %d parameters in the table (present: %v), the module's has %d", name, got, ok, n)
		}
	}
	for name := range table {
		if _, ok := exports[name]; !ok {
			t.Errorf("simd.js: the table names %s, which the module does not export", name)
		}
	}
}

// TestFallback runs in `make test-wasm`'s second pass, where PREFER_SIMD_WASM names
// an invalid kernel module (testdata/refused.wasm): the loader must have refused it,
// so that pass runs the pinned tests on the Go kernels.
func TestFallback(t *testing.T) {
	file := os.Getenv("PREFER_SIMD_WASM")
	if runtime.GOOS != "js" || file == "" {
		t.Skip("only in wasm with PREFER_SIMD_WASM set (make test-wasm)")
	}
	if simd.Linked() {
		t.Fatalf("the kernel module %s was linked; it is invalid and must be refused", file)
	}
	if simd.On() {
		t.Fatal("On is true without a linked module")
	}
}
