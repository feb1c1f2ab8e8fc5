package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot/snaptest"
	"prefer/core/wire"
	"prefer/server/store"
	"prefer/server/store/teststore"
)

// Every input costs memory and time in proportion to what is kept, and what will
// be refused is refused early. Each test says what went wrong before it.

// allocated returns the bytes allocated (by every goroutine: the test server's
// included) while fn runs.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// hostileBatch is a msgpack events batch of n minimal judgments
// ({"id": "x", "kind": "rate"}, 16 bytes each): what the issue sent, 698,333 of
// them in 4 MiB.
func hostileBatch(n int) []byte {
	b := append(snaptest.Head(1, "judgments"), snaptest.Array32(n)...)
	el := []byte{0x82, 0xa2, 'i', 'd', 0xa1, 'x', 0xa4, 'k', 'i', 'n', 'd', 0xa4, 'r', 'a', 't', 'e'}
	return append(b, bytes.Repeat(el, n)...)
}

// TestEventBatchCountCheckedBeforeDecoding is finding 2: a 4 MiB batch of 698,333
// minimal judgments cost ~700 MB before its 413, and 8 in parallel 5.2 GB. The
// count is now read from the array header (msgpack) or stopped at the limit (JSON),
// and at most MaxEventDecodes batches are decoded at once.
func TestEventBatchCountCheckedBeforeDecoding(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) { c.MaxBatchBytes = 4 << 20 })
	p := e.project(wire.NewProject{RaterCount: 1})
	tok := p.Raters[0].Token
	path := "/api/v1/projects/" + p.ID + "/events"
	mp := hostileBatch(((4 << 20) - 64) / 16)
	js := []byte(`{"events":[` + strings.Repeat(`{"id":"x","kind":"rate"},`, (4<<20)/26-2) + `{"id":"x","kind":"rate"}]}`)
	for name, c := range map[string]struct {
		ct   string
		body []byte
	}{"msgpack": {wire.ContentTypeMsgpack, mp}, "json": {wire.ContentTypeJSON, js}} {
		var a answer
		got := allocated(func() { a = e.do("POST", path, tok, c.ct, c.body) })
		er := wantStatus(t, a, http.StatusRequestEntityTooLarge)
		if er.Code != codeTooLarge || !strings.Contains(er.Message, "at most 1000") {
			t.Errorf("%s: answer %+v", name, er)
		}
		// The body itself (4 MiB, read once) and a few MiB of buffers: not 700 MB.
		if got > 24<<20 {
			t.Errorf("%s: a refused %d-byte batch allocated %d bytes", name, len(c.body), got)
		}
		t.Logf("%s: %d-byte batch refused with %d bytes allocated", name, len(c.body), got)
	}
	// Eight at once.
	var wg sync.WaitGroup
	got := allocated(func() {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if a := doReq(t, e.srv, "POST", path, tok, wire.ContentTypeMsgpack, mp); a.status != http.StatusRequestEntityTooLarge {
					t.Errorf("status %d: %s", a.status, a.body)
				}
			}()
		}
		wg.Wait()
	})
	if got > 8*24<<20 {
		t.Errorf("8 refused batches at once allocated %d bytes", got)
	}
	t.Logf("8 parallel: %d bytes allocated", got)
}

// TestEventTextCapped is finding 3's first half: a rater stored 100 events with
// 4 MiB notes. Each text field has a documented cap (wire.MaxNoteBytes, …) and an
// event over one is refused with a 400 naming the field.
func TestEventTextCapped(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) { c.MaxBatchBytes = 4 << 20 })
	p := e.project(wire.NewProject{RaterCount: 1, Overlap: 1})
	tok := p.Raters[0].Token
	path := "/api/v1/projects/" + p.ID + "/events"
	item := "q1"
	over := []struct {
		field string
		j     feedback.Judgment
	}{
		{"note", func() feedback.Judgment {
			j := compare("n1", "", item, "a")
			j.Note = strings.Repeat("n", wire.MaxNoteBytes+1)
			return j
		}()},
		{"text", feedback.Judgment{ID: "w1", Kind: feedback.KindRewrite, Item: item, Response: "a",
			Text: strings.Repeat("t", wire.MaxTextBytes+1), Time: fixedNow.UnixMilli() - 1}},
		{"reasons", func() feedback.Judgment {
			j := compare("r1", "", item, "a")
			for i := range wire.MaxReasons + 1 {
				j.Reasons = append(j.Reasons, fmt.Sprintf("reason %d", i))
			}
			return j
		}()},
		{"a reason", func() feedback.Judgment {
			j := compare("r2", "", item, "a")
			j.Reasons = []string{strings.Repeat("r", wire.MaxShortBytes+1)}
			return j
		}()},
	}
	for _, c := range over {
		er := wantStatus(t, e.do("POST", path, tok, wire.ContentTypeMsgpack, msgpackBatch(t, c.j)), http.StatusBadRequest)
		if er.Code != codeBadEvents || len(er.Events) != 1 || !strings.HasPrefix(er.Events[0].Error, c.field+" is ") {
			t.Errorf("%s over its cap: %+v", c.field, er)
		}
	}
	// At the caps, accepted.
	j := compare("ok1", "", item, "a")
	j.Note = strings.Repeat("n", wire.MaxNoteBytes)
	rw := feedback.Judgment{ID: "ok2", Kind: feedback.KindRewrite, Item: item, Response: "a",
		Text: strings.Repeat("t", wire.MaxTextBytes), Time: fixedNow.UnixMilli() - 1}
	wantStatus(t, e.do("POST", path, tok, wire.ContentTypeMsgpack, msgpackBatch(t, j, rw)), http.StatusOK)
}

// TestEventPagesBoundedByBytes is finding 3's second half: one read of a rater's
// own page cost 2.5 GB (pages were cut by count only and built whole). A page now
// also ends at MaxPageBytes, with more=true, and paging on loses nothing.
func TestEventPagesBoundedByBytes(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, st, func(c *Config) { c.MaxPageBytes = 100 << 10; c.MaxBatchBytes = 4 << 20 })
		p := e.project(wire.NewProject{RaterCount: 1, Overlap: 1})
		tok := p.Raters[0].Token
		var js []feedback.Judgment
		for i := range 20 {
			js = append(js, feedback.Judgment{ID: fmt.Sprintf("w%02d", i), Kind: feedback.KindRewrite, Item: "q1", Response: "a",
				Text: strings.Repeat("t", 60<<10), Time: fixedNow.UnixMilli() - 1})
		}
		wantStatus(t, e.do("POST", "/api/v1/projects/"+p.ID+"/events", tok, wire.ContentTypeMsgpack, msgpackBatch(t, js...)), http.StatusOK)
		seen := 0
		since := ""
		for range 30 {
			a := e.do("GET", "/api/v1/projects/"+p.ID+"/events?since="+since, tok, "", nil)
			wantStatus(t, a, http.StatusOK)
			var page wire.EventsPage
			if err := json.Unmarshal(a.body, &page); err != nil {
				t.Fatalf("page is not JSON: %v", err)
			}
			if len(page.Events) > 2 {
				t.Fatalf("a page of %d events of 60 KiB, over the 100 KiB bound", len(page.Events))
			}
			seen += len(page.Events)
			since = page.Cursor
			if !page.More {
				break
			}
		}
		if seen != 20 {
			t.Fatalf("paging by bytes gave %d events, want 20", seen)
		}
	})
}

// countingStore counts what the API reads from the store.
type countingStore struct {
	store.Store
	snapshots atomic.Int64 // Snapshot calls
	events    atomic.Int64 // events returned by Events
	fail      atomic.Bool  // answer every call with ErrUnavailable
}

func (c *countingStore) Snapshot(ctx context.Context, id string) (store.Snapshot, error) {
	c.snapshots.Add(1)
	return c.Store.Snapshot(ctx, id)
}

func (c *countingStore) Events(ctx context.Context, p string, q store.EventQuery) ([]store.Event, error) {
	if c.fail.Load() {
		return nil, store.Unavailable(fmt.Errorf("connection refused"))
	}
	evs, err := c.Store.Events(ctx, p, q)
	c.events.Add(int64(len(evs)))
	return evs, err
}

func (c *countingStore) AppendEvents(ctx context.Context, p string, evs []store.Event, q store.Quota) (store.AppendResult, error) {
	if c.fail.Load() {
		return store.AppendResult{}, store.Unavailable(fmt.Errorf("connection refused"))
	}
	return c.Store.AppendEvents(ctx, p, evs, q)
}

// TestProgressIsIncremental is finding 3's third part: the lead's progress over
// 186k events cost 400 MB, every time (the whole log was read for each request).
// Progress and tasks now fold in only the events stored since they last looked.
func TestProgressIsIncremental(t *testing.T) {
	cs := &countingStore{Store: teststore.Open(t, "embedded")}
	e := newEnv(t, cs, nil)
	p := e.project(wire.NewProject{RaterCount: 1, Overlap: 1})
	tok := p.Raters[0].Token
	var js []feedback.Judgment
	for i := range 300 {
		js = append(js, compare(fmt.Sprintf("e%03d", i), "", fmt.Sprintf("q%d", 1+i%6), "a"))
	}
	wantStatus(t, e.do("POST", "/api/v1/projects/"+p.ID+"/events", tok, wire.ContentTypeMsgpack, msgpackBatch(t, js...)), http.StatusOK)
	wantStatus(t, e.do("GET", "/api/v1/projects/"+p.ID, p.LeadToken, "", nil), http.StatusOK)
	first := cs.events.Load()
	wantStatus(t, e.do("POST", "/api/v1/projects/"+p.ID+"/events", tok, wire.ContentTypeMsgpack,
		msgpackBatch(t, compare("late", "", "q2", "b"))), http.StatusOK)
	a := e.do("GET", "/api/v1/projects/"+p.ID, p.LeadToken, "", nil)
	wantStatus(t, a, http.StatusOK)
	var pr wire.Progress
	json.Unmarshal(a.body, &pr)
	if pr.Events != 301 || pr.Raters[0].Events != 301 {
		t.Fatalf("progress counts %d events (rater %d), want 301", pr.Events, pr.Raters[0].Events)
	}
	if again := cs.events.Load() - first; again != 1 {
		t.Errorf("the second progress read %d events from the store, want only the 1 new one", again)
	}
	before := cs.events.Load()
	wantStatus(t, e.do("GET", "/api/v1/projects/"+p.ID+"/tasks", tok, "", nil), http.StatusOK)
	if n := cs.events.Load() - before; n != 0 {
		t.Errorf("tasks read %d events again, want 0", n)
	}
}

// TestTokenCheckedBeforeProjectLoads is finding 4: token-less requests made the
// server read and decode the project's snapshot (132 GETs over 66 projects: 37.6 s
// of CPU and 6.05 GB). A request without a token, or with a wrong one, now never
// reads a snapshot.
func TestTokenCheckedBeforeProjectLoads(t *testing.T) {
	cs := &countingStore{Store: teststore.Open(t, "embedded")}
	e := newEnv(t, cs, nil)
	var ps []wire.ProjectCreated
	for range 3 {
		ps = append(ps, e.project(wire.NewProject{RaterCount: 1}))
	}
	e.api.mu.Lock()
	clear(e.api.projects)
	e.api.cacheBytes = 0
	e.api.mu.Unlock()
	before := cs.snapshots.Load()
	for _, p := range ps {
		for _, path := range []string{"", "/tasks", "/events"} {
			wantStatus(t, e.do("GET", "/api/v1/projects/"+p.ID+path, "", "", nil), http.StatusUnauthorized)
			wantStatus(t, e.do("GET", "/api/v1/projects/"+p.ID+path, "prf_not-a-token", "", nil), http.StatusForbidden)
		}
	}
	if n := cs.snapshots.Load() - before; n != 0 {
		t.Fatalf("token-less and wrong-token requests read %d snapshots, want 0", n)
	}
	wantStatus(t, e.do("GET", "/api/v1/projects/"+ps[0].ID+"/tasks", ps[0].Raters[0].Token, "", nil), http.StatusOK)
	if n := cs.snapshots.Load() - before; n != 1 {
		t.Fatalf("a rater's first request read %d snapshots, want 1", n)
	}
}

// TestProjectCacheBoundedByBytes is finding 4's second half: the cache held 64
// decoded projects whatever their size. It now holds at most MaxCacheBytes of
// them (by estimate), least recently used out first.
func TestProjectCacheBoundedByBytes(t *testing.T) {
	cs := &countingStore{Store: teststore.Open(t, "embedded")}
	one := int64(CacheCostFactor*len(fixtureBytes(t)) + 3*64*8)
	e := newEnv(t, cs, func(c *Config) { c.MaxCacheBytes = 2 * one })
	var ps []wire.ProjectCreated
	for range 4 {
		p := e.project(wire.NewProject{RaterCount: 1})
		ps = append(ps, p)
		wantStatus(t, e.do("GET", "/api/v1/projects/"+p.ID+"/tasks", p.Raters[0].Token, "", nil), http.StatusOK)
	}
	e.api.mu.Lock()
	n, bytes := len(e.api.projects), e.api.cacheBytes
	_, newest := e.api.projects[ps[3].ID]
	e.api.mu.Unlock()
	if n != 2 || bytes > 2*one || !newest {
		t.Fatalf("cache holds %d projects, %d bytes (bound %d), newest cached %v", n, bytes, 2*one, newest)
	}
}

// TestSlowUploadsDoNotBlockUploads is finding 5: two clients that send their
// bodies slowly took both decode slots and blocked every upload for 10 minutes. A
// body is now read (by a deadline) before a decode slot is taken; a full set of
// slots answers 503 with Retry-After after SlotWait.
func TestSlowUploadsDoNotBlockUploads(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) {
		c.MaxUploads = 2
		c.MinUploadRate = 1 << 20 // 1 MiB/s: a 1 MiB body must arrive within 11 s
		c.SlotWait = 200 * time.Millisecond
	})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	var slow []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/v1/snapshots HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: %d\r\n\r\n\x83", 1<<20)
		slow = append(slow, c)
	}
	time.Sleep(100 * time.Millisecond) // both are now reading their bodies
	done := make(chan answer, 1)
	go func() {
		done <- doReq(t, e.srv, "POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, fixtureBytes(t))
	}()
	select {
	case a := <-done:
		if a.status != http.StatusCreated && a.status != http.StatusOK {
			t.Fatalf("an upload beside two slow ones: status %d: %s", a.status, a.body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an upload waited behind two slow clients for more than 5 s")
	}
	// With every decode slot taken, an upload waits SlotWait and gets 503.
	for range cap(e.api.uploads) {
		e.api.uploads <- struct{}{}
	}
	a := e.do("POST", "/api/v1/snapshots", "", wire.ContentTypeMsgpack, fixtureBytes(t))
	for range cap(e.api.uploads) {
		<-e.api.uploads
	}
	er := wantStatus(t, a, http.StatusServiceUnavailable)
	if er.Code != codeBusy || a.header.Get("Retry-After") == "" {
		t.Fatalf("busy answer: %+v, Retry-After %q", er, a.header.Get("Retry-After"))
	}
	// A body that does not arrive by its deadline gets 408 (checked with a short one).
	e2 := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) { c.MinUploadRate = 1 << 30 })
	e2.api.uploadGrace = 100 * time.Millisecond
	c, err := net.Dial("tcp", strings.TrimPrefix(e2.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/snapshots HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\nContent-Length: %d\r\n\r\n\x83", 1<<20)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufioReader(c), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), codeTimeout) {
		t.Fatalf("stalled upload: %d %s", resp.StatusCode, body)
	}
}

// TestStoreUnavailableIs503 is finding 6's second half: while PostgreSQL
// restarted, 695 requests got 500. A store that does not answer gives the
// documented 503 unavailable, with Retry-After.
func TestStoreUnavailableIs503(t *testing.T) {
	cs := &countingStore{Store: teststore.Open(t, "embedded")}
	e := newEnv(t, cs, nil)
	p := e.project(wire.NewProject{RaterCount: 1})
	tok := p.Raters[0].Token
	cs.fail.Store(true)
	for _, a := range []answer{
		e.do("POST", "/api/v1/projects/"+p.ID+"/events", tok, wire.ContentTypeMsgpack, msgpackBatch(t, compare("e1", "", "q1", "a"))),
		e.do("GET", "/api/v1/projects/"+p.ID+"/events", tok, "", nil),
		e.do("GET", "/api/v1/projects/"+p.ID, p.LeadToken, "", nil),
	} {
		er := wantStatus(t, a, http.StatusServiceUnavailable)
		if er.Code != codeUnavailable || a.header.Get("Retry-After") == "" {
			t.Errorf("answer %+v, Retry-After %q", er, a.header.Get("Retry-After"))
		}
	}
}

// TestPageRoutesOnlyGet is part of finding 8: page routes answered 200 to any
// method.
func TestPageRoutesOnlyGet(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), nil)
	for _, path := range []string{"/", "/s/0123456789abcdef0123456789abcdef", "/p/0123456789abcdef01234567", "/no/such/page"} {
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			a := e.do(m, path, "", "text/plain", []byte("x"))
			if a.status != http.StatusMethodNotAllowed || a.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: status %d, Allow %q", m, path, a.status, a.header.Get("Allow"))
			}
		}
		if a := e.do("GET", path, "", "", nil); a.status != http.StatusOK {
			t.Errorf("GET %s: %d", path, a.status)
		}
	}
}

// TestAccessLogRedactsAndTruncates is part of finding 8: the access log kept
// /p/{project} and unknown path segments verbatim.
func TestAccessLogRedactsAndTruncates(t *testing.T) {
	long := strings.Repeat("A", 5000)
	for in, want := range map[string]string{
		"/p/0123456789abcdef01234567":           "/p/{p}",
		"/p/0123456789abcdef01234567/lead":      "/p/{p}/lead",
		"/no/" + long:                           "/no/{long}",
		"/" + strings.Repeat("seg/", 40):        ("/" + strings.Repeat("seg/", 40))[:maxLoggedPath] + "…",
		"/web/" + strings.Repeat("x", 40):       "/web/{long}",
		"/api/v1/projects/abc/events":           "/api/v1/projects/{p}/events",
		"/s/0123456789abcdef0123456789abcdef/x": "/s/{id}/x",
	} {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%.40q…) = %q, want %q", in, got, want)
		}
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
