package cli

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/snapshot/snaptest"
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
		len(ir.Models) != 1 || ir.Models[0].Parameters != 2 || len(ir.Runs) != 1 || ir.Runs[0].Steps != 2 || ir.InputID != vr.InputID ||
		ir.Version != 1 { // no revisions: the file is version 1, whatever the reader knows

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

// TestVerifyBoundedOnHostileFiles: 'prefer verify' of a 4 MB file of empty records took 1.5 GB (one struct per element, then
// one problem line per element). Decoding is now budgeted and Check lists at most
// snapshot.MaxProblems, so memory stays within a small multiple of the file.
func TestVerifyBoundedOnHostileFiles(t *testing.T) {
	dir := t.TempDir()
	head := func(key string) []byte { return snaptest.Head(1, key) }
	const n = 4 << 20
	nils := binary.BigEndian.AppendUint32(append(head("items"), 0xdd), n)
	nils = append(nils, bytes.Repeat([]byte{0xc0}, n)...)
	// 200,000 decodable judgments of an item that does not exist: 200,000 problems.
	const m = 200000
	bad := binary.BigEndian.AppendUint32(append(head("judgments"), 0xdd), m)
	for i := range m {
		id := fmt.Sprintf("e%07d", i)
		bad = append(bad, 0x84, 0xa2, 'i', 'd', byte(0xa0|len(id)))
		bad = append(bad, id...)
		bad = append(bad, 0xa4, 'i', 't', 'e', 'm', 0xa1, 'x', 0xa4, 'k', 'i', 'n', 'd', 0xa4, 'r', 'a', 't', 'e')
		bad = append(bad, 0xa5, 's', 'c', 'o', 'r', 'e', 0x03)
	}
	for name, data := range map[string][]byte{"nil items": nils, "bad judgments": bad} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".snap")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var code int
		var stderr string
		got := allocated(func() { code, _, stderr = runCLI(t, "verify", path) })
		if code == 0 {
			t.Fatalf("%s: verify passed", name)
		}
		// 24× for decoding (snapshot.BudgetFactor), the rest for Check's index and log.
		if limit := uint64(48 * len(data)); got > limit {
			t.Errorf("%s: verify of %d bytes allocated %d (%.0f×), more than %d", name, len(data), got, float64(got)/float64(len(data)), limit)
		}
		if lines := strings.Count(stderr, "\n"); lines > snapshot.MaxProblems+3 {
			t.Errorf("%s: %d lines of problems on stderr, want at most %d", name, lines, snapshot.MaxProblems+3)
		}
		t.Logf("%s: %d bytes, %d allocated (%.1f×)", name, len(data), got, float64(got)/float64(len(data)))
	}
}

// allocated returns the bytes allocated while fn runs.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}
