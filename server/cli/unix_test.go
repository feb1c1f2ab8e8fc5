package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"prefer/core/snapshot"
)

// runCLIIn runs a command line with in as its standard input.
func runCLIIn(tb testing.TB, in []byte, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	old := stdin
	stdin = bytes.NewReader(in)
	defer func() { stdin = old }()
	return runCLI(tb, args...)
}

// TestDashOutput: -o - writes to standard output, for every command that writes a
// file, exactly the bytes -o FILE writes; no file named "-" appears; the human
// summary goes to stderr; --json with -o - is a usage error.
func TestDashOutput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	demoSnap := filepath.Join(dir, "d.snap")
	if code, _, errs := runCLI(t, "demo", "--items", "6", "-o", demoSnap); code != 0 {
		t.Fatal(errs)
	}
	trained := filepath.Join(dir, "t.snap")
	if code, _, errs := runCLI(t, "train-rm", demoSnap, "--model", "linear", "-o", trained); code != 0 {
		t.Fatal(errs)
	}
	jsonl := filepath.Join(dir, "d.jsonl")
	if code, _, errs := runCLI(t, "export", "--format", "jsonl", demoSnap, "-o", jsonl); code != 0 {
		t.Fatal(errs)
	}
	for _, c := range [][]string{
		{"demo", "--items", "6"},
		{"import", "--format", "jsonl", jsonl},
		{"export", "--format", "trl", demoSnap},
		{"export", "--format", "safetensors", trained},
		{"train-rm", demoSnap, "--model", "linear"},
		{"optimize", trained, "--algo", "exact"},
		{"sweep", trained, "--algo", "exact", "--betas", "0.5"},
		{"pretrain", "--steps", "2", "--examples", "40", "--samples", "2"},
	} {
		file := filepath.Join(dir, c[0]+".out")
		if code, _, errs := runCLI(t, append(c, "-o", file)...); code != 0 {
			t.Fatalf("prefer %s -o FILE: %s", c[0], errs)
		}
		want, _ := os.ReadFile(file)
		code, out, errs := runCLI(t, append(c, "-o", "-")...)
		if code != 0 {
			t.Fatalf("prefer %s -o -: exit %d: %s", c[0], code, errs)
		}
		if out != string(want) || len(want) == 0 {
			t.Errorf("prefer %s -o -: %d bytes on stdout, -o FILE wrote %d", c[0], len(out), len(want))
		}
		if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
			t.Fatalf("prefer %s -o - created a file named -", c[0])
		}
		if code, _, errs := runCLI(t, append(c, "-o", "-", "--json")...); code != 2 || !strings.Contains(errs, "-o -") {
			t.Errorf("prefer %s -o - --json: exit %d, %q; want a usage error", c[0], code, errs)
		}
	}
	// optimize --dump - writes the dump to stdout.
	code, out, errs := runCLI(t, "optimize", trained, "--algo", "exact", "-o", filepath.Join(dir, "o.snap"), "--dump", "-")
	if code != 0 || !strings.HasPrefix(out, `{"item":`) || strings.Count(out, "\n") < 6 {
		t.Errorf("optimize --dump -: exit %d, stdout %.80q, stderr %s", code, out, errs)
	}
}

// TestDashInput: every snapshot path accepts "-" (standard input), so commands
// pipe: prefer demo -o - | prefer train-rm - -o - | prefer inspect -.
func TestDashInput(t *testing.T) {
	_, demoBytes, _ := runCLI(t, "demo", "--items", "6", "-o", "-")
	code, trainedBytes, errs := runCLIIn(t, []byte(demoBytes), "train-rm", "-", "--model", "linear", "-o", "-")
	if code != 0 {
		t.Fatalf("train-rm - -o -: %s", errs)
	}
	s, err := snapshot.Unmarshal([]byte(trainedBytes))
	if err != nil || len(s.Models) != 1 || s.Provenance.Parent != snapshot.ID([]byte(demoBytes)) {
		t.Fatalf("train-rm from stdin to stdout: %v", err)
	}
	for _, c := range [][]string{
		{"inspect", "-"}, {"verify", "-"}, {"agree", "-"}, {"rank", "-"},
		{"export", "--format", "jsonl", "-", "-o", "-"},
		{"optimize", "-", "--algo", "exact", "-o", "-"},
		{"sweep", "-", "--algo", "exact", "--betas", "0.5", "-o", "-"},
	} {
		if code, out, errs := runCLIIn(t, []byte(trainedBytes), c...); code != 0 || out == "" {
			t.Errorf("prefer %s: exit %d: %s", strings.Join(c, " "), code, errs)
		}
	}
	// A dataset from stdin: export jsonl | import -.
	_, jsonl, _ := runCLIIn(t, []byte(demoBytes), "export", "--format", "jsonl", "-", "-o", "-")
	code, back, errs := runCLIIn(t, []byte(jsonl), "import", "--format", "jsonl", "-", "-o", "-")
	if s2, err := snapshot.Unmarshal([]byte(back)); code != 0 || err != nil || len(s2.Judgments) != len(s.Judgments) {
		t.Fatalf("import - -o -: exit %d, %v: %s", code, err, errs)
	}
	if code, _, errs := runCLIIn(t, nil, "import", "--format", "jsonl", "-", "-", "-o", "-"); code != 2 || !strings.Contains(errs, "only once") {
		t.Errorf("import - -: exit %d: %s", code, errs)
	}
}
