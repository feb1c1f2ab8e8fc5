// Package core_test holds the architecture rule of PRODUCT.md §3: the engine in core
// depends on nothing of the app, the wasm glue or the server, and does no browser or
// network I/O, so it compiles and behaves the same natively and in wasm.
package core_test

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// forbidden reports why a dependency of core is not allowed, or "".
func forbidden(pkg string) string {
	switch {
	case pkg == "syscall/js":
		return "syscall/js belongs in wasm/"
	case pkg == "net/http" || strings.HasPrefix(pkg, "net/http/"):
		return "HTTP belongs in server/"
	case strings.Contains(pkg, "maxence-charriere/go-app"):
		return "go-app belongs in app/ and wasm/"
	case pkg == "prefer/app" || strings.HasPrefix(pkg, "prefer/app/"),
		pkg == "prefer/wasm" || strings.HasPrefix(pkg, "prefer/wasm/"),
		pkg == "prefer/server" || strings.HasPrefix(pkg, "prefer/server/"):
		return "dependencies point one way: wasm → app → core, server → core"
	}
	return ""
}

func TestCoreDependsOnNothingOutside(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("needs the go command; the native run of this test covers it")
	}
	// -test includes the dependencies of core's tests; -deps the transitive closure.
	cmd := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", "prefer/core/...")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 10 {
		t.Fatalf("go list returned too few packages (%d): %s", len(lines), out)
	}
	for _, line := range lines {
		// A line is "path" or "path [variant.test]"; the path is what is imported.
		pkg := strings.Fields(line)[0]
		if why := forbidden(pkg); why != "" {
			t.Errorf("core depends on %s: %s", pkg, why)
		}
	}
}

// TestForbiddenRule makes sure the rule itself catches what it must (a rule that
// matches nothing would pass forever).
func TestForbiddenRule(t *testing.T) {
	for _, pkg := range []string{"syscall/js", "net/http", "net/http/httptest", "github.com/maxence-charriere/go-app/v9/pkg/app", "prefer/app", "prefer/wasm/ui", "prefer/server/api"} {
		if forbidden(pkg) == "" {
			t.Errorf("%s is not caught", pkg)
		}
	}
	for _, pkg := range []string{"prefer/core/feedback", "gonum.org/v1/gonum/mat", "github.com/vmihailenco/msgpack/v5", "net", "prefer/applications"} {
		if forbidden(pkg) != "" {
			t.Errorf("%s is wrongly forbidden", pkg)
		}
	}
}
