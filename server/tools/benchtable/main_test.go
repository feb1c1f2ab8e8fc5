package main

import (
	"strings"
	"testing"
)

// TestBeforeColumn checks that a metric's -before and -recorded figures go to the
// before column of its row, and that a -before figure without its metric keeps a
// row of its own.
func TestBeforeColumn(t *testing.T) {
	out := `pkg: prefer/server/cli
BenchmarkMemory/optimize-2   	       1	  12 s/op	       106.0 MiB-peak	       347.0 MiB-peak-before	        1.000 runs
BenchmarkBrowser-2   	       1	  1 s/op	       90.00 worker_MB	       671.0 worker_MB-recorded	        3.000 only-before
`
	res, keys, err := parse(strings.NewReader(out))
	if err != nil || len(keys) != 2 {
		t.Fatalf("parse: %v, %d benchmarks", err, len(keys))
	}
	m := res["server/cli Memory/optimize"]
	if got := before(m, "MiB-peak"); got != "347 MiB-peak" {
		t.Errorf("before column %q, want %q", got, "347 MiB-peak")
	}
	if shown(m, "MiB-peak-before") || !shown(m, "MiB-peak") || !shown(m, "runs") {
		t.Error("MiB-peak-before has a row of its own, or MiB-peak or runs has none")
	}
	br := res["server/cli Browser"]
	if got := before(br, "worker_MB"); got != "671 worker_MB (recorded before)" {
		t.Errorf("recorded figure shown as %q", got)
	}
	if !shown(br, "only-before") {
		t.Error("a -before figure without its metric has no row")
	}
}

// TestStepsTable checks the transformer steps table: each engine's row takes its
// training and PPO steps/s from its benchmarks (native file, wasm file), and the
// "× PyTorch" columns divide by PyTorch's. The figures are made up so the cells are
// easy to check: TF.js trains at 2 steps/s against PyTorch's 8 (0.25) and runs PPO
// at 0.1 against 0.4 (0.25); Prefer's wasm PPO step, 0.6, is 1.50 × PyTorch.
func TestStepsTable(t *testing.T) {
	native, _, err := parse(strings.NewReader(`pkg: prefer/core/lm
BenchmarkTrainStep-2      	       1	  10.00 steps/s	 7680 tokens/s
BenchmarkPPOStep-2        	       1	  0.5000 steps/s
BenchmarkTFJSTrainStep-2  	       1	  2.000 steps/s	 1536 tokens/s
BenchmarkTFJSPPOStep-2    	       1	  0.1000 steps/s
BenchmarkTorchTrainStep-2 	       1	  8.000 steps/s	 6144 tokens/s
BenchmarkTorchPPOStep-2   	       1	  0.4000 steps/s
`))
	if err != nil {
		t.Fatal(err)
	}
	wasm, _, err := parse(strings.NewReader(`pkg: prefer/core/lm
BenchmarkTrainStep   	       1	  9.000 steps/s
BenchmarkPPOStep     	       1	  0.6000 steps/s
`))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	steps(&out, native, wasm, nil)
	row := func(prefix string) []string {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, prefix) {
				return strings.Fields(strings.TrimPrefix(line, prefix))
			}
		}
		t.Fatalf("no row %q in\n%s", prefix, out.String())
		return nil
	}
	for _, c := range []struct {
		prefix string
		want   string
	}{
		{"TensorFlow.js 4.22, wasm backend, SIMD, 1 thread", "2 0.25 0.1 0.25"},
		{"Prefer, wasm (Node), SIMD kernels, 1 thread", "9 1.12 0.6 1.50"},
		{"PyTorch CPU, 1 thread", "8 1.00 0.4 1.00"},
	} {
		if got := strings.Join(row(c.prefix), " "); got != c.want {
			t.Errorf("%s: cells %q, want %q", c.prefix, got, c.want)
		}
	}
}
