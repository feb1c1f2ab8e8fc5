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
