package cli

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"prefer/core/lm"
	"prefer/core/snapshot"
	"prefer/static"
)

// smallRef pretrains a small reference model quickly (a few steps on a small
// corpus) and returns the snapshot path.
func smallRef(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "ref.snap")
	code, _, errs := runCLI(tb, "pretrain", "-o", path, "--seed", "3", "--steps", "4", "--examples", "200", "--samples", "4", "--json")
	if code != 0 {
		tb.Fatalf("pretrain: exit %d: %s", code, errs)
	}
	return path
}

func TestPretrainCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.snap")
	code, out, errs := runCLI(t, "pretrain", "-o", path, "--seed", "3", "--steps", "4", "--examples", "200", "--samples", "4", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		OutputID string             `json:"output_id"`
		Steps    int                `json:"steps"`
		Params   int                `json:"params"`
		Summary  map[string]float64 `json:"summary"`
		Samples  []struct{ Prompt, Response string }
		Loss     []float64 `json:"loss"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if rep.Steps != 4 || len(rep.Loss) != 4 || len(rep.Samples) != 4 || rep.Params < 50000 {
		t.Fatalf("report: steps %d, %d losses, %d samples, %d params", rep.Steps, len(rep.Loss), len(rep.Samples), rep.Params)
	}
	if rep.Summary["heldout_ppl"] <= 1 {
		t.Errorf("held-out perplexity %v, want > 1", rep.Summary["heldout_ppl"])
	}
	// Deterministic: the same command writes the same bytes.
	path2 := filepath.Join(dir, "b.snap")
	code, out2, _ := runCLI(t, "pretrain", "-o", path2, "--seed", "3", "--steps", "4", "--examples", "200", "--samples", "4", "--json")
	var rep2 struct {
		OutputID string `json:"output_id"`
	}
	json.Unmarshal([]byte(out2), &rep2)
	if code != 0 || rep2.OutputID != rep.OutputID {
		t.Fatalf("same seed gave ids %s and %s", rep.OutputID, rep2.OutputID)
	}
	s, _, err := readSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Provenance.Command, "--seed 3 --steps 4") || s.Provenance.Seed != 3 || s.Provenance.Created != "" {
		t.Errorf("provenance %+v", s.Provenance)
	}
	l, err := lm.FromSnapshot(s.Model(refModelName))
	if err != nil {
		t.Fatal(err)
	}
	if s.Run("pretrain") == nil {
		t.Error("no pretrain run in the snapshot")
	}
	if got, want := l.Hash(), s.Model(refModelName).Config["params_hash"]; got != want {
		t.Errorf("params hash %v, recorded %v", got, want)
	}
}

func TestPretrainBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"pretrain"},
		{"pretrain", "-o", "x.snap", "--steps", "-1"},
		{"pretrain", "-o", "x.snap", "extra"},
		{"pretrain", "-o", "x.snap", "--examples", "-5"},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 || errs == "" {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, code, errs)
		}
	}
}

// TestShippedReference checks the pretrained reference that ships with the app
// (static/web/ref-lm.snap): it loads, its recorded parameter hash matches its
// tensors, and its provenance names the command that makes it. Re-running that
// command (about a minute natively) must give the same snapshot id; that part runs
// with PREFER_LONG_TESTS=1 (the short test of determinism is lm's
// TestPretrainPinned, which also runs in wasm).
func TestShippedReference(t *testing.T) {
	data, err := fs.ReadFile(static.Web(), "ref-lm.snap")
	if err != nil {
		t.Fatalf("static/web/ref-lm.snap is missing: %v; make it with the command in docs/lm.md", err)
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Model(refModelName)
	if m == nil {
		t.Fatalf("no %q model in the shipped reference", refModelName)
	}
	l, err := lm.FromSnapshot(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Hash(), m.Config["params_hash"]; got != want {
		t.Errorf("tensors hash to %v, recorded %v", got, want)
	}
	cmd := s.Provenance.Command
	if !strings.HasPrefix(cmd, "prefer pretrain --seed ") {
		t.Fatalf("provenance command %q is not a pretrain command", cmd)
	}
	if os.Getenv("PREFER_LONG_TESTS") == "" {
		t.Logf("skipping the re-run of %q (set PREFER_LONG_TESTS=1)", cmd)
		return
	}
	args := strings.Fields(strings.TrimPrefix(cmd, "prefer "))
	out := filepath.Join(t.TempDir(), "re.snap")
	args = append(args, "-o", out, "--json", "--quiet")
	code, stdout, errs := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	var rep struct {
		OutputID string `json:"output_id"`
	}
	json.Unmarshal([]byte(stdout), &rep)
	if want := snapshot.ID(data); rep.OutputID != want {
		t.Fatalf("re-running %q gave %s, the shipped file is %s", cmd, rep.OutputID, want)
	}
	_ = strconv.Itoa
}
