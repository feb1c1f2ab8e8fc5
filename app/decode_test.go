package app

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"prefer/app/jobs"
	"prefer/app/work"
	"prefer/core/snapshot"
)

// lessonStates returns encoded states like the ones the page decodes: the demo,
// and the lesson's state after simulating raters and training a reward model (items,
// raters, judgments, guidelines, models with tensors, runs with curves).
func lessonStates(tb testing.TB) map[string][]byte {
	tb.Helper()
	demo, err := os.ReadFile(filepath.Join("..", "static", "web", "demo.snap"))
	if err != nil {
		tb.Fatal(err)
	}
	run := func(state []byte, req jobs.Request) []byte {
		req.Snapshot = state
		res, err := work.Run(&req)
		if err != nil {
			tb.Fatal(err)
		}
		return res.Snapshot
	}
	sim := run(nil, jobs.Request{Kind: jobs.KindSimulate, Simulate: &jobs.SimulateParams{Seed: 7}})
	trained := run(sim, jobs.Request{Kind: jobs.KindTrainRM, TrainRM: &jobs.TrainRMParams{Seed: 1}})
	return map[string][]byte{"demo": demo, "simulated": sim, "trained": trained}
}

// decodeState gives exactly what snapshot.Unmarshal gives, with yields between pieces.
func TestDecodeStateMatches(t *testing.T) {
	for name, data := range lessonStates(t) {
		want, err := snapshot.Unmarshal(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		yields := 0
		got, err := decodeState(data, func() { yields++ })
		if err != nil {
			t.Fatalf("%s: decodeState: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decodeState differs from snapshot.Unmarshal", name)
		}
		again, err := snapshot.Marshal(got)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("%s: re-encoding the decoded state gives other bytes (%v)", name, err)
		}
		t.Logf("%s: %d bytes, %d yields", name, len(data), yields)
		if len(data) > 2*pieceBytes && yields == 0 {
			t.Errorf("%s: %d bytes decoded without a yield", name, len(data))
		}
	}
}
