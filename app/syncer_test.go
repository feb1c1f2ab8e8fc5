package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

func TestDecideSync(t *testing.T) {
	batch := []string{"e1", "e2", "e3", "e4"}
	invalid := `{"code":"invalid_events","error":"1 of 4 events are invalid; nothing was stored: drop or fix them and send the rest again",` +
		`"events":[{"id":"e2","error":"time 1 is 48h0m0s ahead of the server's clock"},{"id":"zz","error":"not in this batch"}]}`
	cases := []struct {
		name   string
		status int
		body   string
		ids    []string
		kind   syncKind
		held   map[string]string
		limit  int
	}{
		{"accepted", 200, `{"accepted":4,"duplicates":0}`, batch, syncDone, nil, 0},
		{"network error", 0, "", batch, syncBackoff, nil, 0},
		{"server fault", 500, `{"code":"internal","error":"retry later"}`, batch, syncBackoff, nil, 0},
		{"shutting down", 503, `{"code":"unavailable"}`, batch, syncBackoff, nil, 0},
		{"proxy error page", 502, `<html>bad gateway</html>`, batch, syncBackoff, nil, 0},
		// The server names the bad event (docs/server.md, invalid_events): hold exactly
		// that one, ignoring ids that are not in the batch.
		{"400 names one", 400, invalid, batch, syncHold, map[string]string{"e2": "time 1 is 48h0m0s ahead of the server's clock"}, 0},
		{"409 names two", 409, `{"code":"conflict","events":[{"id":"e1","error":"stored with different content"},{"id":"e4","error":"stored with different content"}]}`,
			batch, syncHold, map[string]string{"e1": "stored with different content", "e4": "stored with different content"}, 0},
		{"403 names one", 403, `{"code":"forbidden","events":[{"id":"e3","error":"only the project lead reviews flags"}]}`,
			batch, syncHold, map[string]string{"e3": "only the project lead reviews flags"}, 0},
		// Nothing named: bisect until the bad event is alone, then hold it.
		{"400 unnamed splits", 400, `{"code":"bad_request","error":"malformed"}`, batch, syncSplit, nil, 2},
		{"400 names only others splits", 400, `{"code":"invalid_events","events":[{"id":"zz","error":"x"}]}`, []string{"e1", "e2", "e3"}, syncSplit, nil, 1},
		{"400 unnamed alone is held", 400, `{"code":"bad_request","error":"malformed"}`, []string{"e3"}, syncHold,
			map[string]string{"e3": "the server refused this judgment (HTTP 400): malformed"}, 0},
		{"401", 401, `{"code":"unauthorized","error":"send a bearer token"}`, batch, syncStop, nil, 0},
		{"403 unnamed", 403, `{"code":"forbidden","error":"the token does not open this project"}`, batch, syncStop, nil, 0},
		{"404", 404, `{"code":"not_found","error":"not found"}`, batch, syncStop, nil, 0},
		{"413 splits", 413, `{"code":"too_large"}`, batch, syncSplit, nil, 2},
		{"413 odd splits", 413, `{"code":"too_large"}`, []string{"e1", "e2", "e3"}, syncSplit, nil, 1},
		{"413 alone is held", 413, `{"code":"too_large","error":"body over 4 MiB"}`, []string{"e1"}, syncHold,
			map[string]string{"e1": "this judgment is too large for the server (HTTP 413): body over 4 MiB"}, 0},
		// The rater's storage quota: split (what fits is stored); one event refused
		// keeps everything queued (never held: the judgments are valid).
		{"quota splits", 413, `{"code":"quota_exceeded","error":"rater \"r1\" has reached the storage quota of this project"}`, batch, syncSplit, nil, 2},
		{"quota alone pauses", 413, `{"code":"quota_exceeded","error":"rater \"r1\" has reached the storage quota of this project"}`, []string{"e1"}, syncFull, nil, 0},
		{"429 backs off", 429, `slow down`, batch, syncBackoff, nil, 0},
		{"415 backs off", 415, `{"code":"unsupported_type"}`, batch, syncBackoff, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := decideSync(c.status, []byte(c.body), c.ids)
			if got.Kind != c.kind {
				t.Fatalf("kind = %d, want %d (%+v)", got.Kind, c.kind, got)
			}
			if c.kind == syncHold && !reflect.DeepEqual(got.Held, c.held) {
				t.Errorf("held = %v, want %v", got.Held, c.held)
			}
			if c.kind == syncSplit && got.Limit != c.limit {
				t.Errorf("limit = %d, want %d", got.Limit, c.limit)
			}
			if (c.kind == syncStop || c.kind == syncHold || c.kind == syncFull) && got.Msg == "" {
				t.Errorf("no message for the rater")
			}
		})
	}
	if got := decideSync(401, []byte(`{"error":"revoked"}`), batch); !strings.Contains(got.Msg, "new link") {
		t.Errorf("401 message %q does not tell the rater to ask for a new link", got.Msg)
	}
}

// memKV is an in-memory KV.
type memKV struct {
	mu     sync.Mutex
	stores map[string]map[string][]byte
}

func newMemKV() *memKV { return &memKV{stores: map[string]map[string][]byte{}} }

func (m *memKV) Get(store, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.stores[store][key]
	return v, ok, nil
}

func (m *memKV) All(store string) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for k, v := range m.stores[store] {
		out = append(out, Record{Key: k, Value: v})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Key < out[b].Key })
	return out, nil
}

func (m *memKV) Count(store string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.stores[store]), nil
}

func (m *memKV) Apply(ops ...Op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, op := range ops {
		if m.stores[op.Store] == nil {
			m.stores[op.Store] = map[string][]byte{}
		}
		if op.Delete {
			delete(m.stores[op.Store], op.Key)
		} else {
			m.stores[op.Store][op.Key] = op.Value
		}
	}
	return nil
}

func (m *memKV) keys(store string) []string {
	recs, _ := m.All(store)
	var ks []string
	for _, r := range recs {
		ks = append(ks, r.Key)
	}
	return ks
}

// fakeServer is a Browser whose Fetch answers POST …/events with answer, and
// records the ids of each batch it was sent.
type fakeServer struct {
	answer     func(ids []string) (int, string)
	batches    [][]string
	retryAfter time.Duration // sent with every answer (Retry-After)
}

func (f *fakeServer) Fetch(method, url string, body []byte, header map[string]string) (Reply, error) {
	status, data, err := f.answerFetch(method, url, body, header)
	return Reply{Status: status, Body: data, RetryAfter: f.retryAfter}, err
}

func (f *fakeServer) answerFetch(method, url string, body []byte, header map[string]string) (int, []byte, error) {
	if method != "POST" || !strings.HasSuffix(url, "/api/v1/projects/p1/events") {
		return 0, nil, fmt.Errorf("unexpected %s %s", method, url)
	}
	if header["Authorization"] != "Bearer tok" {
		return 401, []byte(`{"code":"unauthorized"}`), nil
	}
	s, err := snapshot.Unmarshal(body)
	if err != nil {
		return 400, []byte(`{"code":"bad_request"}`), nil
	}
	var ids []string
	for _, j := range s.Judgments {
		ids = append(ids, j.ID)
	}
	f.batches = append(f.batches, ids)
	status, b := f.answer(ids)
	return status, []byte(b), nil
}
func (f *fakeServer) OpenDB() (KV, error)          { return nil, errors.New("no database") }
func (f *fakeServer) StartWorker() (Worker, error) { return nil, errors.New("no worker") }
func (f *fakeServer) ReadFile(app.Value) (string, []byte, error) {
	return "", nil, errors.New("no files")
}
func (f *fakeServer) Download(name, mime string, data []byte) {}
func (f *fakeServer) CopyText(string) error                   { return nil }
func (f *fakeServer) Memory() (int64, int64)                  { return 0, 0 }
func (f *fakeServer) sent() (n int)                           { return len(f.batches) }
func (f *fakeServer) last() []string                          { return f.batches[len(f.batches)-1] }
func (f *fakeServer) all() (ids []string)                     { return flatten(f.batches) }
func flatten(bs [][]string) (out []string) {
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

// withSync installs a fresh workbench in project mode over kv, a fresh sync client
// and the fake server, and restores the globals after the test.
func withSync(tb testing.TB, kv *memKV, srv *fakeServer) {
	tb.Helper()
	oldWB, oldSync, oldBrowser, oldOnline := wb, syncer, browser, online
	tb.Cleanup(func() { wb, syncer, browser, online = oldWB, oldSync, oldBrowser, oldOnline })
	link, _ := json.Marshal(projectLink{Project: "p1", Token: "tok", Rater: "r1"})
	wb = &workbench{db: kv, ready: true, meta: map[string]string{metaProject: string(link)}}
	syncer = &syncClient{wakeCh: make(chan struct{}, 1), limit: batchSize}
	browser = srv
	online = true
}

// outbox puts judgments e1…en (times 1…n) in the outbox as Record writes them.
func fillOutbox(tb testing.TB, kv *memKV, n int) {
	tb.Helper()
	for i := 1; i <= n; i++ {
		j := feedback.Judgment{ID: fmt.Sprintf("e%d", i), Kind: feedback.KindCompare, Item: "q1", Rater: "r1",
			A: "a", B: "b", Choice: feedback.ChoiceA, Time: int64(i)}
		data, err := snapshot.Marshal(&snapshot.Snapshot{Judgments: []feedback.Judgment{j}})
		if err != nil {
			tb.Fatal(err)
		}
		kv.Apply(Op{Store: storeOutbox, Key: j.ID, Value: data})
	}
}

// drain runs the sync client until it has nothing to do at once.
func drain(tb testing.TB) error {
	tb.Helper()
	for i := 0; i < 50; i++ {
		again, err := syncer.once()
		if err != nil || !again {
			return err
		}
	}
	tb.Fatal("the sync client did not settle in 50 rounds")
	return nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// A 400 naming one event holds exactly that one (with the server's message) and
// the rest are sent again and accepted: nothing is retried forever, nothing lost.
func TestSyncHoldsTheNamedEvent(t *testing.T) {
	kv := newMemKV()
	srv := &fakeServer{answer: func(ids []string) (int, string) {
		if contains(ids, "e2") {
			return 400, `{"code":"invalid_events","error":"1 of 3 events are invalid","events":[{"id":"e2","error":"time is 48h ahead of the server's clock"}]}`
		}
		return 200, `{"accepted":2}`
	}}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 3)
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if got, want := srv.batches, [][]string{{"e1", "e2", "e3"}, {"e1", "e3"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("batches sent %v, want %v", got, want)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 0 {
		t.Errorf("outbox still holds %v", ks)
	}
	st := syncer.status()
	if len(st.Held) != 1 || st.Held[0].ID != "e2" || st.Held[0].Error != "time is 48h ahead of the server's clock" || st.Held[0].Status != 400 {
		t.Fatalf("held %+v, want e2 with the server's message", st.Held)
	}
	if !st.Known || st.Pending != 0 {
		t.Errorf("pending %d (known %v), want 0", st.Pending, st.Known)
	}
	// Sending again puts it back in the outbox; the server refuses it again and it
	// is held again, with its record intact.
	if err := syncer.retryHeld(); err != nil {
		t.Fatal(err)
	}
	if ks := kv.keys(storeOutbox); !reflect.DeepEqual(ks, []string{"e2"}) {
		t.Fatalf("after retry the outbox holds %v, want [e2]", ks)
	}
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(); !reflect.DeepEqual(got, []string{"e2"}) {
		t.Errorf("retry sent %v, want [e2]", got)
	}
	if ks := kv.keys(storeHeld); !reflect.DeepEqual(ks, []string{"e2"}) {
		t.Errorf("held %v, want [e2]", ks)
	}
}

// A 400 that names nothing is bisected until the bad event is alone.
func TestSyncBisectsAnUnnamedRefusal(t *testing.T) {
	kv := newMemKV()
	srv := &fakeServer{answer: func(ids []string) (int, string) {
		if contains(ids, "e3") {
			return 400, `{"code":"bad_request","error":"malformed event"}`
		}
		return 200, `{}`
	}}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 5)
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if ks := kv.keys(storeHeld); !reflect.DeepEqual(ks, []string{"e3"}) {
		t.Fatalf("held %v, want [e3] (batches %v)", ks, srv.batches)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 0 {
		t.Fatalf("outbox still holds %v (batches %v)", ks, srv.batches)
	}
	accepted := map[string]bool{}
	for _, b := range srv.batches {
		if !contains(b, "e3") {
			for _, id := range b {
				accepted[id] = true
			}
		}
	}
	if len(accepted) != 4 {
		t.Errorf("accepted %v, want e1 e2 e4 e5 (batches %v)", accepted, srv.batches)
	}
}

// 413 halves the batch until the server takes it.
func TestSyncSplitsOn413(t *testing.T) {
	kv := newMemKV()
	srv := &fakeServer{answer: func(ids []string) (int, string) {
		if len(ids) > 2 {
			return 413, `{"code":"too_large","error":"send at most 2 events"}`
		}
		return 200, `{}`
	}}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 7)
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 0 {
		t.Fatalf("outbox still holds %v", ks)
	}
	if ks := kv.keys(storeHeld); len(ks) != 0 {
		t.Fatalf("held %v, want none", ks)
	}
	got := map[string]int{}
	for _, b := range srv.batches {
		if len(b) <= 2 {
			for _, id := range b {
				got[id]++
			}
		}
	}
	for i := 1; i <= 7; i++ {
		if got[fmt.Sprintf("e%d", i)] != 1 {
			t.Fatalf("accepted counts %v, want each of e1…e7 once (batches %v)", got, srv.batches)
		}
	}
}

// 401 stops syncing: no more requests until a new link resumes it.
func TestSyncStopsOn401(t *testing.T) {
	kv := newMemKV()
	srv := &fakeServer{answer: func([]string) (int, string) { return 200, `{}` }}
	withSync(t, kv, srv)
	link, _ := json.Marshal(projectLink{Project: "p1", Token: "revoked", Rater: "r1"})
	wb.meta[metaProject] = string(link)
	fillOutbox(t, kv, 2)
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	st := syncer.status()
	if st.Stopped == "" || !strings.Contains(st.Stopped, "401") {
		t.Fatalf("not stopped after 401: %+v", st)
	}
	for i := 0; i < 3; i++ {
		syncer.once()
	}
	if n := srv.sent(); n != 0 { // the fake answers 401 before recording a batch
		t.Fatalf("%d batches reached the server after the stop", n)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 2 {
		t.Fatalf("the outbox holds %v, want both judgments kept", ks)
	}
	// A new, good link resumes.
	link, _ = json.Marshal(projectLink{Project: "p1", Token: "tok", Rater: "r1"})
	wb.meta[metaProject] = string(link)
	syncer.resume()
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 0 || syncer.status().Stopped != "" {
		t.Fatalf("after resume: outbox %v, status %+v", ks, syncer.status())
	}
}

// Network errors keep the batch and back off.
func TestSyncBacksOffOffline(t *testing.T) {
	kv := newMemKV()
	srv := &fakeServer{answer: func([]string) (int, string) { return 503, `{"code":"unavailable"}` }}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 2)
	again, err := syncer.once()
	if again || err == nil {
		t.Fatalf("once() = %v, %v; want a backoff error", again, err)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 2 {
		t.Fatalf("the outbox holds %v, want both kept", ks)
	}
	// Offline: nothing is sent, but the badge knows the count.
	online = false
	n := srv.sent()
	syncer.once()
	if srv.sent() != n {
		t.Fatal("a batch was sent while offline")
	}
	if st := syncer.status(); !st.Known || st.Pending != 2 {
		t.Fatalf("status %+v, want 2 pending, known", st)
	}
}

// A record that cannot be decoded is held, not dropped.
func TestSyncHoldsADamagedRecord(t *testing.T) {
	kv := newMemKV()
	srv := &fakeServer{answer: func([]string) (int, string) { return 200, `{}` }}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 1)
	kv.Apply(Op{Store: storeOutbox, Key: "broken", Value: []byte{0xc1}})
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if ks := kv.keys(storeHeld); !reflect.DeepEqual(ks, []string{"broken"}) {
		t.Fatalf("held %v, want [broken]", ks)
	}
	if got := srv.all(); !reflect.DeepEqual(got, []string{"e1"}) {
		t.Fatalf("sent %v, want [e1]", got)
	}
}

// The badge does not claim 0 pending before the outbox is counted.
func TestBadgeUnknownUntilCounted(t *testing.T) {
	kv := newMemKV()
	withSync(t, kv, &fakeServer{answer: func([]string) (int, string) { return 200, `{}` }})
	if st := syncer.status(); st.Known {
		t.Fatalf("a fresh sync client claims to know the count: %+v", st)
	}
	online = false
	fillOutbox(t, kv, 3)
	syncer.once()
	if st := syncer.status(); !st.Known || st.Pending != 3 {
		t.Fatalf("status %+v, want 3 pending", st)
	}
}

// The server's quota refusal (413 quota_exceeded) stores what still fits, keeps the
// rest in the outbox (nothing set aside, nothing lost), shows why, and sends them
// once the lead has raised the quota. Before, a quota 413 was read as "too large":
// the last event was set aside as refused.
func TestSyncQuotaKeepsJudgmentsQueued(t *testing.T) {
	kv := newMemKV()
	room := 3 // the events the server still stores for this rater
	stored := map[string]bool{}
	srv := &fakeServer{answer: func(ids []string) (int, string) {
		if len(ids) > room {
			return 413, `{"code":"quota_exceeded","error":"rater \"r1\" has reached the storage quota of this project: 3 events (1.2 KiB) are stored and this batch adds 1 (400 B), over the quota of 3 events per rater; nothing of this batch was stored. Keep the events and ask the project lead to raise the quota (prefer serve --max-rater-events, --max-rater-bytes), then send them again"}`
		}
		room -= len(ids)
		for _, id := range ids {
			stored[id] = true
		}
		return 200, fmt.Sprintf(`{"accepted":%d}`, len(ids))
	}}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 7)
	err := drain(t)
	if err == nil || !strings.Contains(err.Error(), "reached the storage quota") {
		t.Fatalf("drain: %v, want the quota refusal", err)
	}
	// Oldest first: e1…e3 fit, e4…e7 stay queued.
	if len(stored) != 3 || !stored["e1"] || !stored["e2"] || !stored["e3"] {
		t.Fatalf("stored %v, want e1 e2 e3", stored)
	}
	if ks := kv.keys(storeOutbox); !reflect.DeepEqual(ks, []string{"e4", "e5", "e6", "e7"}) {
		t.Fatalf("outbox %v, want e4…e7", ks)
	}
	if ks := kv.keys(storeHeld); len(ks) != 0 {
		t.Fatalf("held %v, want none", ks)
	}
	st := syncer.status()
	if !strings.Contains(st.Full, "reached the storage quota") || !strings.Contains(st.Full, "stay in this browser") || st.Pending != 4 {
		t.Fatalf("status %+v: want the quota message and 4 pending", st)
	}
	// The lead raises the quota: the next round sends them all and clears it.
	room = 100
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if ks := kv.keys(storeOutbox); len(ks) != 0 || len(stored) != 7 {
		t.Fatalf("outbox %v, stored %d; want empty and 7", ks, len(stored))
	}
	if st := syncer.status(); st.Full != "" {
		t.Fatalf("quota message left after the judgments went: %q", st.Full)
	}
}
