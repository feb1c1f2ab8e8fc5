package core_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// fused matches a fused multiply-add instruction of the compiler's arm64 listing
// (go build -gcflags=-S), scalar (S: float32, D: float64) and vector forms, with
// the file:line it comes from:
//
//	0x0088 00136 (/…/core/num/exp.go:34)	FNMSUBD	F3, F2, F0, F2
var fused = regexp.MustCompile(`\((\S+\.go):(\d+)\)\s+(F(?:N?)M(?:ADD|SUB)[SD]|VFML[AS]|VFM(?:ADD|SUB)\S*)\s`)

// TestNoFusedMultiplyAdd compiles every package of core for arm64 and fails on
// any fused multiply-add in core's own code, naming its file and line. The Go
// compiler fuses x*y+z on arm64 (not on amd64 at GOAMD64=v1, not in wasm), which
// skips the rounding of the product: the same seed would give other numbers on an
// arm64 laptop than in the browser. Wrap the product in a conversion to its own
// type — float32(a*b) + c — as the Go specification says prevents fusion; `go run
// ./server/tools/nofma` does it for all of core (see its doc). make test also runs
// core's pinned-hash tests under arm64 emulation (make test-arm64).
func TestNoFusedMultiplyAdd(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("needs the go command; the native run of this test covers it")
	}
	dir, err := os.Getwd() // core/
	if err != nil {
		t.Fatal(err)
	}
	// The compiler's listing; on a cache hit the go command replays it.
	cmd := exec.Command("go", "build", "-gcflags=prefer/core/...=-S", "prefer/core/...")
	cmd.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build for arm64: %v\n%s", err, out)
	}
	listing := string(out)
	if !strings.Contains(listing, "prefer/core/num.Exp STEXT") {
		t.Fatalf("the compiler's listing of core lacks num.Exp (%d bytes of output): the check would see nothing", len(out))
	}
	seen := map[string]bool{}
	count := 0
	for _, m := range fused.FindAllStringSubmatch(listing, -1) {
		file, line, op := m[1], m[2], m[3]
		rel, err := filepath.Rel(dir, file)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // inlined from outside core (the standard library)
		}
		count++
		at := "core/" + filepath.ToSlash(rel) + ":" + line
		if !seen[at+op] {
			seen[at+op] = true
			t.Errorf("%s: %s, a fused multiply-add on arm64: wrap the product in a conversion, e.g. float32(a*b) + c", at, op)
		}
	}
	if count > 0 {
		t.Logf("%d fused instructions in core's arm64 code; go run ./server/tools/nofma wraps every product", count)
	}
}
