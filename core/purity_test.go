// Package core_test holds the import rules of docs/architecture.md: the engine in core
// depends on nothing of the app, the wasm glue or the server, and does no browser or
// network I/O, so it compiles and behaves the same natively and in wasm; and the
// browser side (app, wasm) depends on nothing under server/, so the folders form no
// cycle (wasm → app → core, server → app, core).
package core_test

import (
	"os"
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

// forbiddenInBrowser reports why a dependency of app or wasm is not allowed, or "".
func forbiddenInBrowser(pkg string) string {
	if pkg == "prefer/server" || strings.HasPrefix(pkg, "prefer/server/") {
		return "the browser side must not depend on the server: shared protocol types live in core/wire"
	}
	return ""
}

// deps lists the transitive dependencies of the patterns, their tests' included, as
// the go command resolves them in the environment env (nil: the native one).
func deps(t *testing.T, env []string, patterns ...string) []string {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("needs the go command; the native run of this test covers it")
	}
	// -test includes the dependencies of the tests; -deps the transitive closure.
	cmd := exec.Command("go", append([]string{"list", "-deps", "-test", "-f", "{{.ImportPath}}"}, patterns...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 10 {
		t.Fatalf("go list returned too few packages (%d): %s", len(lines), out)
	}
	pkgs := make([]string, len(lines))
	for i, line := range lines {
		// A line is "path" or "path [variant.test]"; the path is what is imported.
		pkgs[i] = strings.Fields(line)[0]
	}
	return pkgs
}

func TestCoreDependsOnNothingOutside(t *testing.T) {
	for _, pkg := range deps(t, nil, "prefer/core/...") {
		if why := forbidden(pkg); why != "" {
			t.Errorf("core depends on %s: %s", pkg, why)
		}
	}
}

// TestBrowserSideDoesNotImportServer holds the second rule for the code that runs in
// the browser, compiled as it is for it (GOOS=js GOARCH=wasm).
func TestBrowserSideDoesNotImportServer(t *testing.T) {
	for _, pkg := range deps(t, []string{"GOOS=js", "GOARCH=wasm"}, "prefer/app/...", "prefer/wasm/...") {
		if why := forbiddenInBrowser(pkg); why != "" {
			t.Errorf("app or wasm depends on %s: %s", pkg, why)
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
	for _, pkg := range []string{"prefer/server", "prefer/server/api", "prefer/server/api/wire"} {
		if forbiddenInBrowser(pkg) == "" {
			t.Errorf("%s is not caught in the browser side", pkg)
		}
	}
	for _, pkg := range []string{"prefer/core/wire", "prefer/app/work", "prefer/serverless"} {
		if forbiddenInBrowser(pkg) != "" {
			t.Errorf("%s is wrongly forbidden in the browser side", pkg)
		}
	}
}

// domainFree are the algorithm packages of core that must not import the demo
// domain (core/demo): what an algorithm needs of a domain comes in through its
// inputs (for core/policy, the Env's features and gold). Their tests may use the
// demo domain as data. core/lm is not among them: its reference model is
// pretrained on the demo grammar, and lm.DemoEnv wires the domain in for its callers.
var domainFree = []string{"agree", "feedback", "formats", "num", "policy", "reward", "rng", "snapshot", "wire"}

func TestAlgorithmsDoNotImportDemo(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("needs the go command; the native run of this test covers it")
	}
	for _, name := range domainFree {
		// Without -test: the package's own (non-test) dependencies.
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "prefer/core/"+name).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if pkg == "prefer/core/demo" {
				t.Errorf("core/%s depends on core/demo: inject what it needs of the domain through its inputs", name)
			}
		}
	}
}
