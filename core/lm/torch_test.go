package lm

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"prefer/core/demo"
	"prefer/core/rng"
)

var updateTorch = flag.Bool("update-torch", false, "rewrite testdata/torch/ppo_shape.json")

// torchShape is the work of BenchmarkPPOStep's sampling as testdata/torch/bench.py
// replays it: each prompt's tokens and the lengths of its sampled answers.
type torchShape struct {
	Prompts [][]int32 `json:"prompts"`
	Lengths [][]int   `json:"lengths"`
}

// TestTorchPPOShape keeps testdata/torch/ppo_shape.json equal to the prompts and
// answer lengths that the shipped reference model samples for BenchmarkPPOStep's
// 16 prompts × 4 answers (seed 1), so that the PyTorch PPO step does the same work;
// -update-torch rewrites it.
func TestTorchPPOShape(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("reads the repository: native only")
	}
	ref := benchRef(t)
	p, err := NewPolicy(ref, demo.Prompts(1, 16), PolicyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rs := rng.New(1).Split("sample")
	var sh torchShape
	for q := range p.Items() {
		sh.Prompts = append(sh.Prompts, p.prompts[q])
		var lens []int
		for _, s := range p.Sample(nil, rs, q, 4) {
			lens = append(lens, len(s.Tokens))
		}
		sh.Lengths = append(sh.Lengths, lens)
	}
	got, err := json.Marshal(sh)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", "torch", "ppo_shape.json")
	if *updateTorch {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the reference model's samples: run go test ./core/lm -run TestTorchPPOShape -update-torch", file)
	}
}

// torchPython returns a python3 that imports torch (Debian's python3-torch is in
// /usr/bin), or "" and why not.
func torchPython() (string, string) {
	if runtime.GOOS == "js" {
		return "", "runs python3 as a subprocess: native only"
	}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import torch").Run() == nil {
			return path, ""
		}
	}
	return "", "PyTorch is not installed (apt-get install python3-torch; make bench installs it)"
}

// runTorch runs testdata/torch/bench.py with its two step counts and returns its
// JSON report.
func runTorch(b *testing.B, train, ppo string) map[string]any {
	py, why := torchPython()
	if py == "" {
		b.Skip(why)
	}
	cmd := exec.Command(py, "bench.py", train, ppo)
	cmd.Dir = filepath.Join("testdata", "torch")
	// One thread everywhere: OpenMP, and OpenBLAS's own pool (Debian's torch calls it).
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	return benchJSON(b, cmd)
}

// benchJSON runs a reference benchmark script and returns the one JSON object it
// prints.
func benchJSON(b *testing.B, cmd *exec.Cmd) map[string]any {
	name := filepath.Base(cmd.Args[1])
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	var r map[string]any
	if err := json.Unmarshal(out, &r); err != nil {
		b.Fatalf("%s output %q: %v", name, out, err)
	}
	return r
}

// BenchmarkTorchTrainStep is BenchmarkTrainStep in PyTorch on one CPU thread
// (testdata/torch/bench.py): steps and tokens per second.
func BenchmarkTorchTrainStep(b *testing.B) {
	var r map[string]any
	for b.Loop() {
		r = runTorch(b, "20", "0")
	}
	b.ReportMetric(r["train_steps_per_s"].(float64), "steps/s")
	b.ReportMetric(r["train_tokens_per_s"].(float64), "tokens/s")
}

// BenchmarkTorchPPOStep is BenchmarkPPOStep in PyTorch on one CPU thread, on the
// same prompts and answer lengths (testdata/torch/ppo_shape.json): steps per second.
func BenchmarkTorchPPOStep(b *testing.B) {
	var r map[string]any
	for b.Loop() {
		r = runTorch(b, "0", "3")
	}
	b.ReportMetric(r["ppo_steps_per_s"].(float64), "steps/s")
}
