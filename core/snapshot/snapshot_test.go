package snapshot

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"prefer/core/feedback"
)

func gold(v float64) *float64 { return &v }

// sample returns a snapshot that uses every field of the schema.
func sample() *Snapshot {
	return &Snapshot{
		Provenance: Provenance{Tool: "prefer test", Parent: "sha256-00", Command: "test", Seed: 7, Note: "n"},
		Items: []feedback.Item{{
			ID: "q1", Prompt: "What is 2+2?", Tags: []string{"facts"}, GoldBest: "r1",
			Responses: []feedback.Response{
				{ID: "r1", Text: "4.", Source: feedback.SourceReference, Gold: gold(2), Parts: []string{"correct"}, RefProb: 0.25},
				{ID: "r2", Text: "5, my friend!", Source: feedback.SourceImported, Gold: gold(-1.5)},
			},
		}},
		Raters:     []feedback.Rater{{ID: "u1", Name: "Ada", Group: "g1", Kind: feedback.RaterSimulated, Profile: "noise=0.5"}},
		Guidelines: []feedback.Guideline{{Version: 1, Text: "Prefer correct answers.", Time: 1000}},
		Judgments: []feedback.Judgment{
			{ID: "e1", Kind: feedback.KindCompare, Item: "q1", Rater: "u1", Time: 1, Session: "s1", Seq: 1, MS: 5400, Guideline: 1,
				Reasons: []string{"too long"}, Note: "x", A: "r1", B: "r2", Choice: feedback.ChoiceA, Strength: 2, Left: "b"},
			{ID: "e2", Kind: feedback.KindRank, Item: "q1", Rater: "u1", Time: 2, Shown: []string{"r2", "r1"}, Order: []int{1, 0}},
			{ID: "e3", Kind: feedback.KindRate, Item: "q1", Rater: "u1", Time: 3, Response: "r1", Axis: "helpful", Score: -0 + 6},
			{ID: "e4", Kind: feedback.KindRewrite, Item: "q1", Time: 4, Response: "r2", Text: "4."},
			{ID: "e5", Kind: feedback.KindFlag, Item: "q1", Time: 5, Response: "r2", Category: "misleading"},
			{ID: "e6", Kind: feedback.KindReview, Time: 6, Target: "e5", Verdict: "accept"},
		},
		Models: []Model{{
			Name: "rm", Family: "linear", Run: "train-1",
			Config:  map[string]any{"lr": 0.1, "epochs": int64(3), "name": "x", "on": true, "dims": []any{int64(1), int64(2)}, "sub": map[string]any{"k": -1.5}},
			Tensors: map[string]Tensor{"w": {Shape: []int{2, 2}, Data: []float32{1, -2, 3.5, 0}}, "b": {Shape: []int{1}, Data: []float32{0.25}}},
			Metrics: map[string]float64{"acc": 0.75},
		}},
		Runs: []Run{{
			Name: "train-1", Kind: "train-rm", Seed: 1<<63 + 5,
			Config:  map[string]any{"holdout": 0.2},
			Series:  map[string][]float64{"loss": {0.69, 0.5}, "acc": {0.5, 0.75}},
			Summary: map[string]float64{"steps": 2},
			Notes:   []string{"ok"},
		}},
	}
}

// roundTrip encodes s, decodes the bytes again and requires the decoded snapshot
// to encode to the same bytes.
func roundTrip(t *testing.T, s *Snapshot) *Snapshot {
	t.Helper()
	data, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := Marshal(got); !bytes.Equal(again, data) {
		t.Fatal("re-encoding gave different bytes")
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	s := sample()
	got := roundTrip(t, s)
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip changed the snapshot:\n got %+v\nwant %+v", got, s)
	}
}

func TestCanonicalIndependentOfMapOrder(t *testing.T) {
	// Go randomizes map iteration; encode many times and require identical bytes.
	first, _ := Marshal(sample())
	for i := 0; i < 50; i++ {
		b, _ := Marshal(sample())
		if !bytes.Equal(b, first) {
			t.Fatal("encoding depends on map iteration order")
		}
	}
}

func TestNewerVersionRefused(t *testing.T) {
	s := &Snapshot{Extra: map[string][]byte{}}
	data, _ := Marshal(s)
	// The header's "version" value is the positive fixint 0x01 right after the key.
	i := bytes.Index(data, []byte("version"))
	data[i+len("version")] = 0x03
	_, err := Unmarshal(data)
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("err = %v, want ErrTooNew", err)
	}
	if msg := err.Error(); !bytes.Contains([]byte(msg), []byte("version 3")) || !bytes.Contains([]byte(msg), []byte("version 2")) {
		t.Fatalf("message does not name both versions: %s", msg)
	}
}

// TestVersionOfRevisions: a snapshot is version 2 exactly when it holds revisions
// (a revises key, a withdrawal, a review of a judgment that is not a flag), and a
// version-1 snapshot keeps its bytes; revises round-trips.
func TestVersionOfRevisions(t *testing.T) {
	version := func(s *Snapshot) int {
		t.Helper()
		data, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(data, []byte("version"))
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Judgments) != len(s.Judgments) {
			t.Fatalf("round trip lost judgments")
		}
		for k := range back.Judgments {
			if back.Judgments[k].Revises != s.Judgments[k].Revises {
				t.Fatalf("revises %q came back as %q", s.Judgments[k].Revises, back.Judgments[k].Revises)
			}
		}
		return int(data[i+len("version")])
	}
	c := feedback.Judgment{ID: "c1", Kind: feedback.KindCompare, Item: "q", Time: 1, A: "a", B: "b", Choice: "a"}
	f := feedback.Judgment{ID: "f1", Kind: feedback.KindFlag, Item: "q", Time: 2, Response: "a", Category: "harmful"}
	rev := c
	rev.ID, rev.Time, rev.Revises = "c2", 3, "c1"
	for _, tc := range []struct {
		name string
		js   []feedback.Judgment
		want int
	}{
		{"plain", []feedback.Judgment{c, f}, 1},
		{"review of a flag", []feedback.Judgment{c, f, {ID: "v", Kind: feedback.KindReview, Time: 4, Target: "f1", Verdict: "reject"}}, 1},
		{"revision", []feedback.Judgment{c, rev}, 2},
		{"review of a comparison", []feedback.Judgment{c, {ID: "v", Kind: feedback.KindReview, Time: 4, Target: "c1", Verdict: "reject"}}, 2},
		{"withdrawal of a flag", []feedback.Judgment{f, {ID: "v", Kind: feedback.KindReview, Time: 4, Target: "f1", Verdict: "withdraw"}}, 2},
	} {
		if got := version(&Snapshot{Judgments: tc.js}); got != tc.want {
			t.Errorf("%s: version %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestUnmarshalPacedEqualsUnmarshal(t *testing.T) {
	data, _ := Marshal(bigSnapshot())
	want, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	pauses := 0
	got, err := UnmarshalPaced(data, 24<<10, func() { pauses++ })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("UnmarshalPaced decoded something else than Unmarshal")
	}
	// About one pause per 24 KiB of input (the 4 MB tensor is one element, so fewer).
	if min := (len(data) - 4<<20) / (24 << 10) / 2; pauses < min {
		t.Fatalf("%d pauses for %d bytes, want at least %d", pauses, len(data), min)
	}
	if _, err := UnmarshalPaced(data[:len(data)/2], 1024, func() {}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: err = %v", err)
	}
}

// TestOriginsRoundTrip: a generated response's origins (one per sampling) survive
// a round trip, seed 0 included (Seeded tells it from no seed), and re-encode to the
// same bytes.
func TestOriginsRoundTrip(t *testing.T) {
	s := &Snapshot{Items: []feedback.Item{{ID: "p1", Prompt: "What do bees make?", Responses: []feedback.Response{{
		ID: feedback.ResponseID("Bees make honey."), Text: "Bees make honey.", Source: feedback.SourceGenerated,
		Origins: []feedback.Origin{
			{Endpoint: "127.0.0.1:8000", Model: "ref-lm", API: "chat", System: "Be brief.", Temperature: 0.7, TopP: 0.9, TopK: 5,
				MaxTokens: 64, Stop: []string{"\n"}, Seed: -3, Seeded: true, K: 2, Finish: "stop"},
			{Endpoint: "api.example.org", Model: "m", K: 0, Seed: 0, Seeded: true},
			{Endpoint: "localhost:11434", Model: "llama3", Finish: "length"},
		},
	}}}}}
	got := roundTrip(t, s)
	if !reflect.DeepEqual(got.Items, s.Items) {
		t.Fatalf("round trip changed the origins:\n got %+v\nwant %+v", got.Items[0].Responses[0].Origins, s.Items[0].Responses[0].Origins)
	}
}

// TestJudgmentPos: a judgment's import position is the optional key "pos": written
// only when set (a snapshot without positions keeps the bytes a writer before them
// gives, and the same version), read back, and refused when negative.
func TestJudgmentPos(t *testing.T) {
	s := &Snapshot{Items: []feedback.Item{{ID: "q1", Prompt: "p", Responses: []feedback.Response{{ID: "r1", Text: "a"}, {ID: "r2", Text: "b"}}}},
		Judgments: []feedback.Judgment{{ID: "e1", Kind: feedback.KindCompare, Item: "q1", A: "r1", B: "r2", Choice: feedback.ChoiceA}}}
	without, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(without, []byte("\xa3pos")) {
		t.Fatal("a judgment without a position is written with a \"pos\" key")
	}
	s.Judgments[0].Pos = 2312
	with, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	// fixstr "pos" (0xa3 'p' 'o' 's') then uint16 2312 (0xcd 0x09 0x08).
	if !bytes.Contains(with, []byte("\xa3pos\xcd\x09\x08")) || VersionOf(s) != 1 {
		t.Fatalf("pos not written as expected, or version %d", VersionOf(s))
	}
	got, err := Unmarshal(with)
	if err != nil || got.Judgments[0].Pos != 2312 {
		t.Fatalf("read back: %v, %+v", err, got)
	}
	s.Judgments[0].Pos = -1
	bad, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Unmarshal(bad); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "pos") {
		t.Fatalf("negative pos: %v", err)
	}
}

// sourceOnly gives judgments only through the JudgmentSource methods, as
// formats.Compact does.
type sourceOnly []feedback.Judgment

func (s sourceOnly) Len() int { return len(s) }
func (s sourceOnly) Judgment(i int, j *feedback.Judgment) {
	*j = s[i]
}

// itemsOnly gives items one at a time, reusing the Responses array as
// formats.CompactItems does.
type itemsOnly []feedback.Item

func (s itemsOnly) Len() int { return len(s) }
func (s itemsOnly) Item(i int, it *feedback.Item) {
	resp := append(it.Responses[:0], s[i].Responses...)
	*it = s[i]
	it.Responses = resp
}

// TestEncodeFromEqualsEncode: EncodeFrom with the judgments from a source writes the
// bytes Encode writes with them in Snapshot.Judgments (what prefer import relies on
// to keep its pinned hashes), for every kind of judgment and for the version-2 case.
func TestEncodeFromEqualsEncode(t *testing.T) {
	withRevision := sample()
	rev := withRevision.Judgments[0]
	rev.ID, rev.Revises = "e7", "e1"
	withRevision.Judgments = append(withRevision.Judgments, rev)
	twoItems := sample()
	twoItems.Items = append(twoItems.Items, feedback.Item{ID: "q2", Prompt: "Hi?", Responses: []feedback.Response{{ID: "r3", Text: "Hello.", Source: feedback.SourceImported}}})
	for name, s := range map[string]*Snapshot{"sample": sample(), "revision": withRevision, "two items": twoItems, "empty": {}} {
		want, err := Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		src, items := sourceOnly(s.Judgments), itemsOnly(s.Items)
		s.Judgments, s.Items = nil, nil
		var got bytes.Buffer
		if err := EncodeFrom(&got, s, items, src); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: EncodeFrom wrote %d bytes unlike Encode's %d", name, got.Len(), len(want))
		}
	}
}

// TestOnlyJudgments: Options.OnlyJudgments gives the judgments every field of the
// schema decodes to, and nothing of the other sections; a malformed skipped
// section is still an error.
func TestOnlyJudgments(t *testing.T) {
	s := sample()
	data, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalWith(data, Options{OnlyJudgments: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Judgments, s.Judgments) {
		t.Errorf("judgments %+v, want %+v", got.Judgments, s.Judgments)
	}
	if got.Items != nil || got.Raters != nil || got.Guidelines != nil || got.Models != nil || got.Runs != nil || got.Provenance != (Provenance{}) {
		t.Errorf("other sections decoded: %+v", got)
	}
	if _, err := UnmarshalWith(data[:len(data)-3], Options{OnlyJudgments: true}); err == nil {
		t.Error("a truncated snapshot decoded")
	}
}
