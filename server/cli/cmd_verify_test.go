package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// runCLI runs a prefer command line in-process and returns its exit status and output.
func runCLI(tb testing.TB, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeTestSnapshot(tb testing.TB, dir string, s *snapshot.Snapshot) string {
	tb.Helper()
	path := filepath.Join(dir, "t.snap")
	if _, err := writeSnapshot(path, s, nil); err != nil {
		tb.Fatal(err)
	}
	return path
}

func smallSnapshot() *snapshot.Snapshot {
	return &snapshot.Snapshot{
		Items: []feedback.Item{{ID: "q", Prompt: "2+2?", Responses: []feedback.Response{{ID: "a", Text: "4"}, {ID: "b", Text: "5"}}}},
		Judgments: []feedback.Judgment{
			{ID: "e1", Kind: feedback.KindCompare, Item: "q", A: "a", B: "b", Choice: feedback.ChoiceA, Left: "b", Time: 1},
		},
		Models: []snapshot.Model{{Name: "m", Family: "linear", Tensors: map[string]snapshot.Tensor{"w": {Shape: []int{2}, Data: []float32{1, 2}}}}},
		Runs:   []snapshot.Run{{Name: "r", Kind: "train-rm", Seed: 3, Series: map[string][]float64{"loss": {1, 0.5}}, Notes: []string{"ok"}}},
	}
}

func TestVerifyAndInspect(t *testing.T) {
	dir := t.TempDir()
	path := writeTestSnapshot(t, dir, smallSnapshot())
	code, out, errs := runCLI(t, "verify", path)
	if code != 0 || !strings.Contains(out, "sound") {
		t.Fatalf("verify of a sound file: code %d, out %q, err %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "verify", path, "--json")
	var vr verifyReport
	if code != 0 || json.Unmarshal([]byte(out), &vr) != nil || !vr.OK || !snapshot.ValidID(vr.InputID) {
		t.Fatalf("verify --json: code %d, out %s", code, out)
	}
	code, out, _ = runCLI(t, "inspect", "--json", path)
	var ir inspectReport
	if code != 0 || json.Unmarshal([]byte(out), &ir) != nil {
		t.Fatalf("inspect --json: code %d, out %s", code, out)
	}
	if ir.Items != 1 || ir.Responses != 2 || ir.Judgments != 1 || ir.ByKind["compare"] != 1 ||
		len(ir.Models) != 1 || ir.Models[0].Parameters != 2 || len(ir.Runs) != 1 || ir.Runs[0].Steps != 2 || ir.InputID != vr.InputID {
		t.Fatalf("inspect report wrong: %+v", ir)
	}
	if code, out, _ := runCLI(t, "inspect", path); code != 0 || !strings.Contains(out, "1 items, 2 responses") {
		t.Fatalf("inspect text: %d %q", code, out)
	}
}

func TestVerifyRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeTestSnapshot(t, dir, smallSnapshot())
	data, _ := os.ReadFile(good)
	trunc := filepath.Join(dir, "trunc.snap")
	os.WriteFile(trunc, data[:len(data)-7], 0o644)
	corrupt := filepath.Join(dir, "corrupt.snap")
	c := append([]byte(nil), data...)
	c[0] ^= 0xff // the top-level map header
	os.WriteFile(corrupt, c, 0o644)
	text := filepath.Join(dir, "x.json")
	os.WriteFile(text, []byte(`{"not":"msgpack"}`), 0o644)
	unsound := smallSnapshot()
	unsound.Judgments[0].B = "zz"
	bad := filepath.Join(dir, "unsound.snap")
	if _, err := writeSnapshot(bad, unsound, nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{trunc, corrupt, text, bad, filepath.Join(dir, "missing.snap")} {
		code, _, errs := runCLI(t, "verify", path)
		if code == 0 {
			t.Errorf("%s: verify exited 0", filepath.Base(path))
		}
		if len(strings.TrimSpace(errs)) == 0 || strings.Contains(errs, "panic") {
			t.Errorf("%s: unhelpful error output %q", filepath.Base(path), errs)
		}
	}
	_, _, errs := runCLI(t, "verify", bad)
	if !strings.Contains(errs, "response not in item") {
		t.Errorf("unsound file: stderr does not name the problem: %s", errs)
	}
	if code, _, _ := runCLI(t, "verify"); code != 2 {
		t.Errorf("verify without a file: code %d, want 2", code)
	}
}
