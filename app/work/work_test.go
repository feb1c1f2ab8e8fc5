package work

import (
	"fmt"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"prefer/app/jobs"
	"prefer/core/formats"
	"prefer/core/snapshot"
)

// run runs one job on state through Handle, as the worker does, and applies its
// result to the state the way the UI does.
func run(tb testing.TB, state []byte, r jobs.Request) (*jobs.Result, []byte) {
	tb.Helper()
	r.Snapshot = state
	kind := r.Kind
	req, err := jobs.Encode(&r)
	if err != nil {
		tb.Fatal(err)
	}
	progress := 0
	out, err := Handle(req, func([]byte) { progress++ }, nil)
	if err != nil {
		tb.Fatalf("%s: %v", kind, err)
	}
	res, err := jobs.DecodeResult(out)
	if err != nil {
		tb.Fatal(err)
	}
	if len(res.Snapshot) == 0 {
		return res, state
	}
	return res, res.Snapshot
}

func TestLessonPipeline(t *testing.T) {
	start := time.Now()
	res, state := run(t, nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7}})
	if !res.Replace || res.Summary["items"] != 60 {
		t.Fatalf("simulate: %+v", res.Summary)
	}
	t.Logf("simulate %v", time.Since(start))
	start = time.Now()
	res, state = run(t, state, jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: 1}})
	if acc := res.Summary["held_acc"]; acc < 0.55 || acc > 1 {
		t.Fatalf("held-out accuracy %v", acc)
	}
	t.Logf("train-rm %v: %v", time.Since(start), res.Summary)
	start = time.Now()
	res, state = run(t, state, jobs.Request{Kind: jobs.KindOptimize, Optimize: &jobs.OptimizeParams{Seed: 1, Algo: "ppo", Betas: []float64{0.02, 0.5}, Steps: 150}})
	t.Logf("optimize %v: %v %v", time.Since(start), res.Summary, res.Notes)
	start = time.Now()
	res, state = run(t, state, jobs.Request{Kind: jobs.KindSweep, Sweep: &jobs.SweepParams{Seed: 1}})
	t.Logf("sweep %v: %v", time.Since(start), res.Notes)
	s, err := snapshot.Unmarshal(state)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{jobs.RunRM, "policy-1", "policy-2", jobs.RunSweep} {
		if s.Run(name) == nil {
			t.Errorf("run %s missing", name)
		}
	}
	t.Logf("state %d bytes, id %s", len(state), snapshot.ID(state))
}

func TestUnknownKind(t *testing.T) {
	req, _ := msgpack.Marshal(&jobs.Request{Kind: "nope"})
	if _, err := Handle(req, nil, nil); err == nil {
		t.Fatal("no error for an unknown job")
	}
}

func TestFormatListsMatchCore(t *testing.T) {
	if got, want := fmt.Sprint(jobs.ImportFormats), fmt.Sprint(formats.Importers); got != want {
		t.Errorf("jobs.ImportFormats = %s, core/formats.Importers = %s", got, want)
	}
	var exp []string
	for _, f := range formats.Exporters {
		if f != "safetensors" { // models, not feedback: the CLI's
			exp = append(exp, f)
		}
	}
	if got, want := fmt.Sprint(jobs.ExportFormats), fmt.Sprint(exp); got != want {
		t.Errorf("jobs.ExportFormats = %s, core/formats.Exporters = %s", got, want)
	}
}
