package app

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

func TestLeadFromURL(t *testing.T) {
	cases := []struct {
		prefix, in string
		want       leadLink
		ok         bool
	}{
		{"", "https://x/p/abc123/lead#token=prf_T", leadLink{Project: "abc123", Token: "prf_T"}, true},
		{"", "https://x/p/abc123/lead", leadLink{Project: "abc123"}, true},
		{"/repo", "https://x/repo/p/abc123/lead#token=prf_T", leadLink{Project: "abc123", Token: "prf_T"}, true},
		{"", "https://x/p/abc123#token=prf_T", leadLink{}, false}, // a rater's link
		{"", "https://x/p/abc123/lead/x", leadLink{}, false},
	}
	for _, c := range cases {
		SetPathPrefix(c.prefix)
		u, _ := url.Parse(c.in)
		got, ok := leadFromURL(u)
		if ok != c.ok || got != c.want {
			t.Errorf("leadFromURL(%s) under %q = %+v, %v; want %+v, %v", c.in, c.prefix, got, ok, c.want, c.ok)
		}
	}
	SetPathPrefix("")
	// The rater's link is not the lead's and vice versa.
	if _, ok := projectFromURL(mustURL(t, "https://x/p/abc123/lead#token=T")); ok {
		t.Error("the lead's link opens the rater's page")
	}
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// leadServer answers the lead's requests like prefer serve: progress, a page of
// events after a cursor (a number: the events' index), and the project's snapshot.
type leadServer struct {
	fakeServer
	events []feedback.Judgment
	base   []byte
	token  string
	reqs   []string
}

func (f *leadServer) Fetch(method, raw string, body []byte, header map[string]string) (Reply, error) {
	status, data, err := f.answerFetch(method, raw, body, header)
	return Reply{Status: status, Body: data}, err
}

func (f *leadServer) answerFetch(method, raw string, body []byte, header map[string]string) (int, []byte, error) {
	f.reqs = append(f.reqs, method+" "+raw)
	if header["Authorization"] != "Bearer "+f.token {
		return 403, []byte(`{"code":"forbidden","error":"not the lead"}`), nil
	}
	u, _ := url.Parse(raw)
	switch {
	case u.Path == "/api/v1/projects/p1":
		b, _ := json.Marshal(wire.Progress{ID: "p1", Name: "round 1", Snapshot: "snap1", Overlap: 1, Items: 2,
			Raters: []wire.RaterProgress{{Rater: wire.Rater{ID: "r1", Name: "Ana"}, Assigned: 2, Done: 1, Events: len(f.events)}, {Rater: wire.Rater{ID: "r2"}, Assigned: 2}}})
		return 200, b, nil
	case u.Path == "/api/v1/projects/p1/events":
		since, _ := strconv.Atoi(u.Query().Get("since")) // "" is the start
		page := wire.EventsPage{Events: wire.Events(f.events[since:]), Cursor: strconv.Itoa(len(f.events))}
		b, _ := json.Marshal(page)
		return 200, b, nil
	case u.Path == "/api/v1/snapshots/snap1":
		return 200, f.base, nil
	}
	return 404, []byte(`{"code":"not_found"}`), nil
}

func compare(id, rater string, t int64) feedback.Judgment {
	return feedback.Judgment{ID: id, Kind: feedback.KindCompare, Item: "q1", Rater: rater, A: "a", B: "b", Choice: feedback.ChoiceA, Time: t}
}

// The first pull makes the project's state (its items, raters and judgments, not
// the base snapshot's own judgments); the next adds only what is new.
func TestPullProject(t *testing.T) {
	base, err := snapshot.Marshal(&snapshot.Snapshot{
		Items: []feedback.Item{
			{ID: "q1", Prompt: "p1", Responses: []feedback.Response{{ID: "a", Text: "x"}, {ID: "b", Text: "y"}}, GoldBest: "a"},
			{ID: "q2", Prompt: "p2", Responses: []feedback.Response{{ID: "a", Text: "x"}, {ID: "b", Text: "y"}}},
		},
		Raters:     []feedback.Rater{{ID: "sim1", Kind: feedback.RaterSimulated}},
		Judgments:  []feedback.Judgment{compare("old", "sim1", 1)},
		Guidelines: []feedback.Guideline{{Version: 2, Text: "Be helpful."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := &leadServer{base: base, token: "lead-tok", events: []feedback.Judgment{compare("e1", "r1", 10), compare("e2", "r1", 20)}}
	kv := newMemKV()
	oldWB, oldBrowser := wb, browser
	t.Cleanup(func() { wb, browser = oldWB, oldBrowser })
	wb = &workbench{db: kv, ready: true, meta: map[string]string{}, snap: &snapshot.Snapshot{}, log: feedback.NewLog(),
		unsaved: map[string]bool{}, extra: map[string]feedback.Rater{}}
	browser = srv
	link := leadLink{Project: "p1", Token: "lead-tok"}

	prog, err := fetchProgress(link)
	if err != nil || prog.Name != "round 1" || len(prog.Raters) != 2 {
		t.Fatalf("progress %+v, %v", prog, err)
	}
	if msg, bad := pullProject(link, prog); bad {
		t.Fatalf("first pull: %s", msg)
	}
	v := wb.view()
	if len(v.Judgments) != 2 || v.Judgments[0].ID != "e1" || len(v.Snap.Items) != 2 || v.Snap.Items[0].GoldBest != "a" {
		t.Fatalf("after the first pull: %d judgments, %d items", len(v.Judgments), len(v.Snap.Items))
	}
	if len(v.Snap.Guidelines) != 1 || len(v.Snap.Raters) != 2 || v.Snap.Raters[0].ID != "r1" || v.Snap.Raters[0].Name != "Ana" {
		t.Fatalf("guidelines %v, raters %v", v.Snap.Guidelines, v.Snap.Raters)
	}
	if !strings.HasPrefix(v.Snap.Provenance.Parent, "sha256-") || !strings.Contains(v.Snap.Provenance.Command, "p1") {
		t.Errorf("provenance %+v", v.Snap.Provenance)
	}
	// The state is stored: the next load finds it.
	if stored, ok, _ := kv.Get(storeState, stateKey); !ok {
		t.Fatal("the pulled state is not stored")
	} else if s, err := snapshot.Unmarshal(stored); err != nil || len(s.Judgments) != 2 {
		t.Fatalf("stored state: %v", err)
	}

	// A new judgment on the server, by a rater the state does not know yet.
	srv.events = append(srv.events, compare("e3", "r9", 30))
	srv.reqs = nil
	msg, bad := pullProject(link, prog)
	if bad || !strings.Contains(msg, "1 new") {
		t.Fatalf("second pull: %s", msg)
	}
	if !strings.Contains(strings.Join(srv.reqs, "\n"), "since=2") {
		t.Errorf("the second pull did not go on from the cursor: %v", srv.reqs)
	}
	v = wb.view()
	if len(v.Judgments) != 3 {
		t.Fatalf("after the second pull: %d judgments, want 3", len(v.Judgments))
	}
	if _, ok, _ := kv.Get(storeEvents, "e3"); !ok {
		t.Error("the new judgment is not stored")
	}
	found := false
	for _, r := range v.Snap.Raters {
		found = found || r.ID == "r9"
	}
	if !found {
		t.Errorf("rater r9 was not added: %v", v.Snap.Raters)
	}
	var rec leadPull
	json.Unmarshal([]byte(wb.Meta(metaLeadPull)), &rec)
	if rec.Events != 3 || rec.Added != 1 || rec.Cursor != "3" {
		t.Errorf("pull record %+v", rec)
	}

	// Another working state (a snapshot opened meanwhile): the pull starts afresh.
	other, _ := snapshot.Marshal(&snapshot.Snapshot{Items: []feedback.Item{{ID: "z", Prompt: "z"}}})
	otherSnap, _ := snapshot.Unmarshal(other)
	if err := wb.Replace(other, otherSnap); err != nil {
		t.Fatal(err)
	}
	if msg, bad := pullProject(link, prog); bad {
		t.Fatalf("pull into another state: %s", msg)
	}
	if v := wb.view(); len(v.Judgments) != 3 || len(v.Snap.Items) != 2 {
		t.Fatalf("fresh pull: %d judgments, %d items", len(v.Judgments), len(v.Snap.Items))
	}

	// A wrong token is refused with a message that says so.
	if _, err := fetchProgress(leadLink{Project: "p1", Token: "rater-tok"}); err == nil || !strings.Contains(err.Error(), "refused the lead link") {
		t.Errorf("wrong token: %v", err)
	}
}

func TestFmtAgo(t *testing.T) {
	cases := []struct {
		ms   int64
		want string
	}{
		{0, "just now"}, {59_000, "just now"}, {5 * 60_000, "5 min ago"}, {3 * 3600_000, "3 h ago"},
		{5 * 86400_000, "5 days ago"}, {-3600_000, "in the future (the rater's clock is ahead)"},
	}
	for _, c := range cases {
		if got := fmtAgo(c.ms); got != c.want {
			t.Errorf("fmtAgo(%d) = %q, want %q", c.ms, got, c.want)
		}
	}
}

// The lead page marks a rater from 80% of either part of the storage quota.
func TestQuotaUse(t *testing.T) {
	prog := &wire.Progress{QuotaEvents: 100_000, QuotaBytes: 256 << 20}
	cases := []struct {
		events int
		bytes  int64
		want   float64
	}{
		{0, 0, 0},
		{80_000, 10 << 20, 0.8}, // events: 80,000 of 100,000
		{1_000, 128 << 20, 0.5}, // bytes: 128 of 256 MiB
		{100_001, 0, 1.00001},   // past it (the quota was lowered)
	}
	for _, c := range cases {
		if got := quotaUse(prog, wire.RaterProgress{Events: c.events, Bytes: c.bytes}); got != c.want {
			t.Errorf("quotaUse(%d events, %d bytes) = %v, want %v", c.events, c.bytes, got, c.want)
		}
	}
	if got := quotaUse(&wire.Progress{}, wire.RaterProgress{Events: 5, Bytes: 5}); got != 0 {
		t.Errorf("no quota from the server: %v, want 0", got)
	}
	for n, want := range map[int64]string{256 << 20: "256 MiB", 3 << 19: "1.5 MiB", 2048: "2.0 KiB"} {
		if got := mibText(n); got != want {
			t.Errorf("mibText(%d) = %q, want %q", n, got, want)
		}
	}
}
