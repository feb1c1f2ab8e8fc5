package work

import (
	"fmt"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"prefer/app/jobs"
	"prefer/core/formats"
	"prefer/core/lesson"
	"prefer/core/lesson/pipeline"
	"prefer/core/policy"
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

// TestLessonPipeline runs the lesson's steps 2–5 as the Lesson page sends them to the
// worker (simulate the default panel, train the reward model, PPO at the small and
// the large β, the β sweep) and checks that the jobs give core/lesson/pipeline's runs bit for
// bit: the figures pinned there (natively and under wasm) are the figures the page
// shows.
func TestLessonPipeline(t *testing.T) {
	start := time.Now()
	res, state := run(t, nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: lesson.Seed, Panel: lesson.Panels[0].Spec}})
	if !res.Replace || res.Summary["items"] != 60 {
		t.Fatalf("simulate: %+v", res.Summary)
	}
	t.Logf("simulate %v", time.Since(start))
	start = time.Now()
	res, state = run(t, state, jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: lesson.RewardSeed, SplitBy: lesson.SplitBy}})
	if acc := res.Summary["held_acc"]; acc < 0.55 || acc > 1 {
		t.Fatalf("held-out accuracy %v", acc)
	}
	t.Logf("train-rm %v: %v", time.Since(start), res.Summary)
	start = time.Now()
	res, state = run(t, state, jobs.Request{Kind: jobs.KindOptimize, Optimize: &jobs.OptimizeParams{Seed: lesson.PolicySeed, Algo: "ppo",
		Betas: []float64{lesson.BetaSmall, lesson.BetaLarge}, Steps: lesson.Steps, Prefix: "lesson"}})
	t.Logf("optimize %v: %v", time.Since(start), res.Notes)
	start = time.Now()
	_, state = run(t, state, jobs.Request{Kind: jobs.KindSweep, Sweep: &jobs.SweepParams{Seed: lesson.PolicySeed}})
	t.Logf("sweep %v", time.Since(start))
	s, err := snapshot.Unmarshal(state)
	if err != nil {
		t.Fatal(err)
	}
	want, err := pipeline.Run(pipeline.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  *snapshot.Run
		want *snapshot.Run
	}{{"lesson-1", s.Run("lesson-1"), &want.Small.Run}, {"lesson-2", s.Run("lesson-2"), &want.Large.Run}, {jobs.RunSweep, s.Run(jobs.RunSweep), &want.Sweep.Run}} {
		if c.got == nil {
			t.Errorf("run %s missing", c.name)
			continue
		}
		if g, w := policy.RunHash(c.got), policy.RunHash(c.want); g != w {
			t.Errorf("run %s: hash %s, core/lesson's %s", c.name, g, w)
		}
		for _, k := range []string{"gold_ref", "gold_peak", "gold_peak_step", "gold_gave_back", "gold_peak_point"} {
			if c.got.Summary[k] != c.want.Summary[k] {
				t.Errorf("run %s: summary %s = %v, core/lesson's %v", c.name, k, c.got.Summary[k], c.want.Summary[k])
			}
		}
	}
	if s.Run(jobs.RunRM) == nil {
		t.Errorf("run %s missing", jobs.RunRM)
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
