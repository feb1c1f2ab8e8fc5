package app

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
	run := func(state []byte, kind string, p jobs.Params) []byte {
		req, err := jobs.Encode(&jobs.Request{Kind: kind, Snapshot: state, Params: &p})
		if err != nil {
			tb.Fatal(err)
		}
		out, err := work.Handle(req, nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		res, err := jobs.DecodeResult(out)
		if err != nil {
			tb.Fatal(err)
		}
		return res.Snapshot
	}
	sim := run(nil, jobs.KindSimulate, jobs.Params{Seed: 7})
	trained := run(sim, jobs.KindTrainRM, jobs.Params{Seed: 1})
	return map[string][]byte{"demo": demo, "simulated": sim, "trained": trained}
}

// decodeState gives exactly what snapshot.Unmarshal gives, in several pieces.
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
		pieces, ok := splitSnapshot(data, pieceBytes)
		if !ok {
			t.Fatalf("%s: not split", name)
		}
		for i, p := range pieces {
			// A piece is at most pieceBytes of elements plus its header, unless one
			// element alone is larger.
			if len(p) > 2*pieceBytes {
				if s, err := snapshot.Unmarshal(p); err != nil || len(s.Items)+len(s.Judgments)+len(s.Raters)+len(s.Models)+len(s.Runs)+len(s.Guidelines) > 1 {
					t.Errorf("%s: piece %d holds %d bytes", name, i, len(p))
				}
			}
		}
		t.Logf("%s: %d bytes in %d pieces, %d yields", name, len(data), len(pieces), yields)
		if len(data) > 2*pieceBytes && yields == 0 {
			t.Errorf("%s: %d bytes decoded without a yield", name, len(data))
		}
	}
}

// Bytes that are not a snapshot give snapshot.Unmarshal's error, never a panic.
func TestDecodeStateErrors(t *testing.T) {
	data := lessonStates(t)["demo"]
	for _, bad := range [][]byte{nil, {0x80}, {0xc1}, data[:len(data)/2], append(append([]byte(nil), data...), 0x00), {0x81, 0xa1, 'x', 0xdd, 0xff, 0xff, 0xff, 0xff}} {
		_, want := snapshot.Unmarshal(bad)
		_, got := decodeState(bad, nil)
		if (got == nil) != (want == nil) {
			t.Errorf("%x…: decodeState error %v, snapshot.Unmarshal %v", bad[:min(len(bad), 8)], got, want)
		}
	}
}

// FuzzDecodeState: for any bytes, decodeState agrees with snapshot.Unmarshal.
func FuzzDecodeState(f *testing.F) {
	demo, err := os.ReadFile(filepath.Join("..", "static", "web", "demo.snap"))
	if err != nil {
		f.Fatal(err)
	}
	s, err := snapshot.Unmarshal(demo)
	if err != nil {
		f.Fatal(err)
	}
	small := &snapshot.Snapshot{Provenance: s.Provenance, Items: s.Items[:3], Raters: s.Raters[:2],
		Judgments: s.Judgments[:5], Guidelines: s.Guidelines}
	data, _ := snapshot.Marshal(small)
	f.Add(data)
	f.Add(data[:len(data)/2])
	empty, _ := snapshot.Marshal(&snapshot.Snapshot{Provenance: snapshot.Provenance{Tool: "fuzz"}})
	f.Add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := snapshot.Unmarshal(data)
		got, gerr := decodeState(data, nil)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("decodeState error %v, snapshot.Unmarshal %v", gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(normalize(got), normalize(want)) {
			t.Fatal("decodeState differs from snapshot.Unmarshal")
		}
		// Small pieces exercise the splitting on short inputs too.
		if pieces, ok := splitSnapshot(data, 16); ok {
			for _, p := range pieces {
				snapshot.Unmarshal(p)
			}
		}
	})
}

// normalize maps empty slices to nil (an empty array decodes to either).
func normalize(s *snapshot.Snapshot) *snapshot.Snapshot {
	c := *s
	if len(c.Judgments) == 0 {
		c.Judgments = nil
	}
	if len(c.Items) == 0 {
		c.Items = nil
	}
	return &c
}

// writeF1 writes what %.1f writes, but for ties of the last digit.
func TestWriteF1(t *testing.T) {
	for _, x := range []float64{0, 0.04, 0.06, -0.04, -0.06, 1, -1, 12.34, -12.36, 559.99, 72.15, 1e6 + 0.3, 3.049, -0.0, 1e20, math.NaN(), math.Inf(-1)} {
		var b strings.Builder
		writeF1(&b, x)
		want := fmt.Sprintf("%.1f", x)
		if x == -0.04 || x == -0.0 { // %.1f keeps the sign of a negative that rounds to zero
			want = "0.0"
		}
		if b.String() != want {
			t.Errorf("writeF1(%v) = %q, want %q", x, b.String(), want)
		}
	}
	// On a fine grid the two agree except at exact ties.
	diff := 0
	for i := -100000; i <= 100000; i++ {
		x := float64(i) * 0.0137
		var b strings.Builder
		writeF1(&b, x)
		if want := fmt.Sprintf("%.1f", x); b.String() != want && !(want == "-0.0" && b.String() == "0.0") {
			diff++
		}
	}
	if diff > 200 {
		t.Errorf("writeF1 and %%.1f differ at %d of 200001 points", diff)
	}
}
