package app

import (
	"bytes"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"prefer/app/jobs"
	"prefer/core/feedback"
	"prefer/core/snapshot"
)

func TestFragmentRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("prefer snapshot bytes "), 500)
	frag, small := encodeFragment(data)
	if !small || !strings.HasPrefix(frag, fragmentKey) {
		t.Fatalf("fragment %q… small=%v", frag[:20], small)
	}
	got, err := decodeFragment("#" + frag)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("decode: %v (%d bytes, want %d)", err, len(got), len(data))
	}
	for _, bad := range []string{"", "#other=1", "#snap=!!!", "#snap=AAAA"} {
		if _, err := decodeFragment(bad); err == nil {
			t.Errorf("decodeFragment(%q): no error", bad)
		}
	}
}

func TestProjectFromURL(t *testing.T) {
	cases := []struct {
		in   string
		want projectLink
		ok   bool
	}{
		{"https://x/p/abc123#token=prf_T", projectLink{Project: "abc123", Token: "prf_T"}, true},
		{"https://x/label?project=p1&token=t1", projectLink{Project: "p1", Token: "t1"}, true},
		{"https://x/p/abc123", projectLink{Project: "abc123"}, false},
		{"https://x/label", projectLink{}, false},
	}
	for _, c := range cases {
		u, _ := url.Parse(c.in)
		got, ok := projectFromURL(u)
		if ok != c.ok || got != c.want {
			t.Errorf("projectFromURL(%s) = %+v, %v; want %+v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestMoveTo(t *testing.T) {
	cases := []struct {
		from, to int
		want     []int
	}{
		{3, 0, []int{3, 0, 1, 2}},
		{0, 3, []int{1, 2, 3, 0}},
		{1, 1, []int{0, 1, 2, 3}},
		{2, 1, []int{0, 2, 1, 3}},
	}
	for _, c := range cases {
		xs := []int{0, 1, 2, 3}
		moveTo(xs, c.from, c.to)
		if !reflect.DeepEqual(xs, c.want) {
			t.Errorf("moveTo(%d→%d) = %v, want %v", c.from, c.to, xs, c.want)
		}
	}
}

func TestGuidelineParagraphs(t *testing.T) {
	got := guidelineParagraphs("Title.\n\n1. Correct first. A\n   continued line.\n2. Second.")
	want := []string{"Title.", "1. Correct first. A continued line.", "2. Second."}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestTicksAreRound(t *testing.T) {
	// Heckbert's nice numbers: [0, 0.93] in ~5 ticks → steps of 0.2.
	got := ticks(0, 0.93, 5)
	want := []float64{0, 0.2, 0.4, 0.6, 0.8, 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ticks = %v, want %v", got, want)
	}
	if l := tickLabel(0.4, got); l != "0.4" {
		t.Errorf("label %q", l)
	}
}

func TestMergeIsWhatTheWorkerStored(t *testing.T) {
	base := &snapshot.Snapshot{Items: []feedback.Item{{ID: "q1"}}, Raters: []feedback.Rater{{ID: "r1"}}}
	delta := &snapshot.Snapshot{
		Items:     []feedback.Item{{ID: "q1", Prompt: "new"}, {ID: "q2"}},
		Judgments: []feedback.Judgment{{ID: "j1", Kind: feedback.KindThumb, Item: "q1", Score: 1}},
		Runs:      []snapshot.Run{{Name: "train-rm"}},
	}
	jobs.Merge(base, delta)
	jobs.Merge(base, delta) // twice: no change
	if len(base.Items) != 2 || base.Items[0].Prompt != "new" || len(base.Judgments) != 1 || len(base.Runs) != 1 {
		t.Fatalf("merged: %+v", base)
	}
}

func TestRoutesCoverPages(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range pages {
		if seen[p.path] || p.title == "" {
			t.Errorf("page %q listed twice or untitled", p.path)
		}
		seen[p.path] = true
	}
	h := NewHandler()
	for _, p := range pages {
		found := false
		for _, r := range h.CacheableResources {
			found = found || r == p.path
		}
		if !found {
			t.Errorf("page %s is not precached: it would not load offline", p.path)
		}
	}
	if strings.Contains(h.Icon.Default+h.Icon.Large+h.Icon.SVG, "github") {
		t.Error("icons must be our own files")
	}
}
