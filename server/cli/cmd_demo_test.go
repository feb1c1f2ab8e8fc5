package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"prefer/core/demo"
	"prefer/core/snapshot"
)

// TestDemoDeterministic: "prefer demo -o d.snap --seed 7" twice gives byte-identical
// files (the determinism contract: a seeded command takes nothing from the
// clock), and a different seed a different file.
func TestDemoDeterministic(t *testing.T) {
	dir := t.TempDir()
	read := func(name string, args ...string) []byte {
		t.Helper()
		path := filepath.Join(dir, name)
		code, _, errs := runCLI(t, append([]string{"demo", "-o", path}, args...)...)
		if code != 0 {
			t.Fatalf("demo %v: exit %d: %s", args, code, errs)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a := read("a.snap", "--seed", "7")
	b := read("b.snap", "--seed", "7")
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with --seed 7 wrote different bytes")
	}
	if c := read("c.snap", "--seed", "8"); bytes.Equal(a, c) {
		t.Fatal("--seed 7 and --seed 8 wrote the same bytes")
	}
	s, err := snapshot.Unmarshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if s.Provenance.Created != "" || s.Provenance.Seed != 7 || !strings.Contains(s.Provenance.Command, "--seed 7") {
		t.Errorf("provenance = %+v; want a command and seed, no creation time", s.Provenance)
	}
	if probs := snapshot.Check(s); len(probs) != 0 {
		t.Errorf("demo snapshot has problems: %v", probs)
	}
}

// TestDemoJSON: --json prints exactly one JSON object with the counts and the id of
// the written file.
func TestDemoJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.snap")
	code, out, errs := runCLI(t, "demo", "-o", path, "--seed", "3", "--items", "20", "--raters", "expert,2*polite,verbose", "--overlap", "2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var rep demoReport
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value in %q", out)
	}
	data, _ := os.ReadFile(path)
	if rep.OutputID != snapshot.ID(data) || rep.Items != 20 || rep.Raters != 4 || rep.Responses < 20*5 || rep.Judgments == 0 || rep.ByKind["compare"] == 0 {
		t.Fatalf("report %+v does not match the file %s", rep, snapshot.ID(data))
	}
}

// TestDemoErrors: bad flags give a clear message on stderr that says what to fix, and
// a non-zero exit.
func TestDemoErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.snap")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"demo"}, "give the output file with -o FILE"},
		{[]string{"demo", "-o", out, "--raters", "politee"}, `--raters: rater entry 1 "politee": unknown preset "politee" (presets: cautious, crowd, expert`},
		{[]string{"demo", "-o", out, "--raters", "expert,nosie=2"}, `rater entry 2 "nosie=2": unknown setting "nosie" (keys: name, group, noise`},
		{[]string{"demo", "-o", out, "--raters", "noise=x"}, `noise: "x" is not a number`},
		{[]string{"demo", "-o", out, "--raters", "0*expert"}, "must be a whole number from 1 to 100"},
		{[]string{"demo", "-o", out, "--raters", "expert", "--overlap", "2"}, "--overlap 2 must be between 1 and the number of raters (1)"},
		{[]string{"demo", "-o", out, "--items", "0"}, "--items 0 is out of range"},
		{[]string{"demo", "-o", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"demo", "-o", out, "--seed", "-1"}, "invalid value"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want non-zero and %q", c.args, code, errs, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed demo command wrote its output file")
	}
}

// TestDemoWasmMatchesNative: the demo generator gives the same snapshot id natively
// and in WebAssembly under Node (the cross-platform determinism contract). It
// computes the id of Generate(seed 7) here, runs core/demo's TestGoldenSnapshot
// compiled for js/wasm under Node, and compares the id that test logs. Skipped with
// -short or without node on PATH (the core/demo golden constant still pins the value
// on both platforms when its tests run under wasm).
func TestDemoWasmMatchesNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm test binary")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found")
	}
	d, err := demo.Generate(demo.Config{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	data, err := snapshot.Marshal(d.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	native := snapshot.ID(data)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found on PATH")
	}
	root, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	wrapper := filepath.Join(strings.TrimSpace(string(root)), "lib", "wasm", "go_js_wasm_exec")
	cmd := exec.Command(gobin, "test", "-count=1", "-v", "-run", "^TestGoldenSnapshot$", "-exec="+wrapper, "prefer/core/demo")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	m := regexp.MustCompile(`snapshot id of seed 7: (sha256-[0-9a-f]{64})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("wasm run printed no id (err %v):\n%s", err, out)
	}
	if wasm := string(m[1]); wasm != native {
		t.Fatalf("snapshot id of seed 7: native %s, wasm %s", native, wasm)
	}
}
