package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"prefer/core/feedback"
	"prefer/core/reward"
)

// TestSafetensorsPython: the numpy snippet of docs/formats.md
// (testdata/interop/safetensors_scores.py) loads what `prefer export --format
// safetensors` writes — linear, MLP (with cross features), ensemble and tabular
// reward models — and reproduces Prefer's scores of demo responses. It needs
// python3 with numpy (make deps installs python3-numpy); without them it is skipped,
// saying so.
func TestSafetensorsPython(t *testing.T) {
	py, err := pythonWithNumpy()
	if err != nil {
		if os.Getenv("PREFER_REQUIRE_INTEROP") != "" {
			t.Fatalf("python3 with numpy is required (make deps installs python3-numpy): %v", err)
		}
		t.Skipf("python3 with numpy is not here (make deps installs python3-numpy): %v", err)
	}
	dir := t.TempDir()
	snap := filepath.Join(dir, "d.snap")
	if code, _, errs := runCLI(t, "demo", "--items", "12", "-o", snap); code != 0 {
		t.Fatal(errs)
	}
	for _, args := range [][]string{
		{"--model", "linear", "--name", "lin"},
		{"--model", "mlp", "--name", "net", "--cross", "--dim", "512", "--hidden", "8"},
		{"--model", "ensemble", "--members", "3", "--name", "ens", "--dim", "256"},
		{"--model", "tabular", "--name", "tab"},
	} {
		if code, _, errs := runCLI(t, append([]string{"train-rm", snap, "-o", snap}, args...)...); code != 0 {
			t.Fatal(errs)
		}
	}
	file := filepath.Join(dir, "m.safetensors")
	if code, _, errs := runCLI(t, "export", "--format", "safetensors", snap, "-o", file); code != 0 {
		t.Fatal(errs)
	}
	s, _, err := readSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	type pair struct {
		Prompt   string `json:"prompt"`
		Text     string `json:"text"`
		Item     string `json:"item"`
		Response string `json:"response"`
	}
	var pairs []pair
	var items []*feedback.Item
	for i := range s.Items {
		it := &s.Items[i]
		for _, r := range it.Responses[:2] {
			pairs = append(pairs, pair{it.Prompt, r.Text, it.ID, r.ID})
			items = append(items, it)
		}
	}
	in, _ := json.Marshal(pairs)
	for _, name := range []string{"lin", "net", "ens", "tab"} {
		m := s.Model(name)
		if m == nil {
			t.Fatalf("no model %s", name)
		}
		rm, err := reward.FromSnapshot(*m)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, "../../testdata/interop/safetensors_scores.py", file, name)
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: python: %v\n%s", name, err, stderr.String())
		}
		var got []float64
		if err := json.Unmarshal(out, &got); err != nil || len(got) != len(pairs) {
			t.Fatalf("%s: %v %s", name, err, out)
		}
		for k, p := range pairs {
			want := rm.Score(items[k], p.Text)
			// float32 weights, sums in another order: agree to 1e-5.
			if math.Abs(got[k]-want) > 1e-5*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: %q: numpy %v, Prefer %v", name, p.Text, got[k], want)
			}
		}
	}
}

// pythonWithNumpy finds a python3 that imports numpy: the one on PATH, else
// Debian's /usr/bin/python3 (where python3-numpy installs it).
func pythonWithNumpy() (string, error) {
	var err error
	for _, c := range []string{"python3", "/usr/bin/python3"} {
		var py string
		if py, err = exec.LookPath(c); err != nil {
			continue
		}
		if err = exec.Command(py, "-c", "import numpy").Run(); err == nil {
			return py, nil
		}
	}
	return "", err
}
