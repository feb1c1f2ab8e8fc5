// Package storetest is the conformance suite of store.Store: every implementation
// runs Run from its own tests, so the embedded and the PostgreSQL store are held to
// the same contract (package store's doc).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"prefer/server/store"
)

// Factory opens stores for the suite. Open returns an empty store that the test may
// use alone; Reopen, if not nil, closes s and opens the same store again (to check
// that what was acknowledged survives a restart).
type Factory struct {
	Open   func(tb testing.TB) store.Store
	Reopen func(tb testing.TB, s store.Store) store.Store
	// Uncount, if not nil, closes s, removes its usage counts the way a store
	// written before them looks (or by a program that did not keep them), and
	// opens it again: the store must count what it holds.
	Uncount func(tb testing.TB, s store.Store) store.Store
}

// Run runs the conformance suite.
func Run(t *testing.T, f Factory) {
	t.Run("Snapshots", func(t *testing.T) { testSnapshots(t, f) })
	t.Run("Secret", func(t *testing.T) { testSecret(t, f) })
	t.Run("Projects", func(t *testing.T) { testProjects(t, f) })
	t.Run("Events", func(t *testing.T) { testEvents(t, f) })
	t.Run("EventConflict", func(t *testing.T) { testConflict(t, f) })
	t.Run("ConcurrentResends", func(t *testing.T) { testConcurrent(t, f) })
	t.Run("CursorNeverSkips", func(t *testing.T) { testCursor(t, f) })
	t.Run("PageBytes", func(t *testing.T) { testPageBytes(t, f) })
	t.Run("OppositeOrderBatches", func(t *testing.T) { testOppositeOrders(t, f) })
	t.Run("UnavailableAfterClose", func(t *testing.T) { testUnavailable(t, f) })
	t.Run("Quota", func(t *testing.T) { testQuota(t, f) })
	t.Run("QuotaConcurrent", func(t *testing.T) { testQuotaConcurrent(t, f) })
	if f.Reopen != nil {
		t.Run("Reopen", func(t *testing.T) { testReopen(t, f) })
	}
	if f.Uncount != nil {
		t.Run("UsageCountedOnOpen", func(t *testing.T) { testUncounted(t, f) })
	}
}

var ctx = context.Background()

// Project returns a small project record for tests.
func Project(id string) *store.Project {
	return &store.Project{
		ID: id, Name: "test " + id, Snapshot: "0123456789abcdef0123456789abcdef", Created: 1700000000000,
		Overlap: 2, GoldRate: 0.1, Seed: 7, LeadTokenHash: bytes.Repeat([]byte{1}, 32),
		Raters: []store.PRater{
			{ID: "r1", Name: "Ada", Group: "g1", TokenHash: bytes.Repeat([]byte{2}, 32), Queue: []string{"q1", "q2"}},
			{ID: "r2", TokenHash: bytes.Repeat([]byte{3}, 32), Queue: []string{"q2", "q1"}},
		},
		Version: 1,
	}
}

// Ev returns a test event.
func Ev(id, rater, body string) store.Event {
	return store.Event{ID: id, Rater: rater, Body: []byte(body)}
}

func mustCreate(tb testing.TB, s store.Store, id string) {
	tb.Helper()
	if err := s.CreateProject(ctx, Project(id)); err != nil {
		tb.Fatalf("create project %s: %v", id, err)
	}
}

func mustAppend(tb testing.TB, s store.Store, p string, evs ...store.Event) store.AppendResult {
	tb.Helper()
	res, err := s.AppendEvents(ctx, p, evs, store.Quota{})
	if err != nil {
		tb.Fatalf("append to %s: %v", p, err)
	}
	return res
}

func all(tb testing.TB, s store.Store, p string, q store.EventQuery) []store.Event {
	tb.Helper()
	evs, err := s.Events(ctx, p, q)
	if err != nil {
		tb.Fatalf("events of %s: %v", p, err)
	}
	return evs
}

func ids(evs []store.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func testSnapshots(t *testing.T, f Factory) {
	s := f.Open(t)
	data := []byte("\x85some snapshot bytes\x00\xff")
	snap := store.Snapshot{ID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ContentID: "sha256-1", Data: data, Created: 42}
	created, err := s.PutSnapshot(ctx, snap)
	if err != nil || !created {
		t.Fatalf("first put: created=%v err=%v, want true, nil", created, err)
	}
	created, err = s.PutSnapshot(ctx, snap)
	if err != nil || created {
		t.Fatalf("second put: created=%v err=%v, want false, nil", created, err)
	}
	other := snap
	other.ContentID, other.Data = "sha256-2", []byte("other")
	if _, err := s.PutSnapshot(ctx, other); err == nil {
		t.Fatal("put of other content under a stored id succeeded")
	}
	got, err := s.Snapshot(ctx, snap.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, snap) {
		t.Fatalf("got %+v, want %+v", got, snap)
	}
	if _, err := s.Snapshot(ctx, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown snapshot: err = %v, want ErrNotFound", err)
	}
	big := store.Snapshot{ID: "cccccccccccccccccccccccccccccccc", ContentID: "sha256-3", Data: bytes.Repeat([]byte("x"), 3<<20)}
	if _, err := s.PutSnapshot(ctx, big); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Snapshot(ctx, big.ID); err != nil || !bytes.Equal(got.Data, big.Data) {
		t.Fatalf("3 MiB snapshot did not round-trip: err=%v", err)
	}
}

func testSecret(t *testing.T, f Factory) {
	s := f.Open(t)
	a, err := s.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("secret %x then %x, want the same 32 bytes", a, b)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func testProjects(t *testing.T, f Factory) {
	s := f.Open(t)
	p := Project("p1")
	if err := s.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateProject(ctx, Project("p1")); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second create: err = %v, want ErrExists", err)
	}
	got, err := s.Project(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Fatalf("got %+v\nwant %+v", got, p)
	}
	if _, err := s.Project(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown project: err = %v, want ErrNotFound", err)
	}
	if _, err := s.AppendEvents(ctx, "nope", []store.Event{Ev("e1", "r1", "{}")}, store.Quota{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("append to unknown project: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Events(ctx, "nope", store.EventQuery{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("events of unknown project: err = %v, want ErrNotFound", err)
	}
}

func testEvents(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	mustCreate(t, s, "p2")
	if got := mustAppend(t, s, "p1", Ev("e1", "r1", "b1"), Ev("e2", "r2", "b2"), Ev("e3", "r1", "b3")); got != (store.AppendResult{Added: 3}) {
		t.Fatalf("first batch: %+v", got)
	}
	// The same batch again (a lost response), and a batch mixing old and new events.
	if got := mustAppend(t, s, "p1", Ev("e1", "r1", "b1"), Ev("e2", "r2", "b2"), Ev("e3", "r1", "b3")); got != (store.AppendResult{Duplicates: 3}) {
		t.Fatalf("resent batch: %+v", got)
	}
	if got := mustAppend(t, s, "p1", Ev("e4", "r2", "b4"), Ev("e1", "r1", "b1")); got != (store.AppendResult{Added: 1, Duplicates: 1}) {
		t.Fatalf("mixed batch: %+v", got)
	}
	mustAppend(t, s, "p2", Ev("e1", "r1", "other project"))

	evs := all(t, s, "p1", store.EventQuery{})
	if got, want := ids(evs), []string{"e1", "e2", "e3", "e4"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Cursor == "" || evs[i].Cursor == evs[i-1].Cursor {
			t.Fatalf("cursors %q then %q, want distinct non-empty", evs[i-1].Cursor, evs[i].Cursor)
		}
	}
	if string(evs[3].Body) != "b4" || evs[3].Rater != "r2" {
		t.Fatalf("event e4 = %+v", evs[3])
	}
	if got := ids(all(t, s, "p1", store.EventQuery{After: evs[1].Cursor})); !reflect.DeepEqual(got, []string{"e3", "e4"}) {
		t.Fatalf("since e2: %v", got)
	}
	if got := ids(all(t, s, "p1", store.EventQuery{Limit: 2})); !reflect.DeepEqual(got, []string{"e1", "e2"}) {
		t.Fatalf("limit 2: %v", got)
	}
	if got := ids(all(t, s, "p1", store.EventQuery{Rater: "r1"})); !reflect.DeepEqual(got, []string{"e1", "e3"}) {
		t.Fatalf("rater r1: %v", got)
	}
	if got := ids(all(t, s, "p1", store.EventQuery{Rater: "r2", After: evs[1].Cursor, Limit: 1})); !reflect.DeepEqual(got, []string{"e4"}) {
		t.Fatalf("rater r2 after e2: %v", got)
	}
	if got := all(t, s, "p1", store.EventQuery{After: evs[3].Cursor}); len(got) != 0 {
		t.Fatalf("after the last: %v", ids(got))
	}
	for _, bad := range []string{"x", "-1", "1.2.3", "../1", "99999999999999999999999999"} {
		if _, err := s.Events(ctx, "p1", store.EventQuery{After: bad}); !errors.Is(err, store.ErrCursor) {
			t.Errorf("cursor %q: err = %v, want ErrCursor", bad, err)
		}
	}
	if got := all(t, s, "p2", store.EventQuery{}); len(got) != 1 || string(got[0].Body) != "other project" {
		t.Fatalf("p2 events: %+v", got)
	}
}

func testConflict(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	mustAppend(t, s, "p1", Ev("e1", "r1", "b1"))
	_, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e2", "r1", "b2"), Ev("e1", "r1", "changed")}, store.Quota{})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, store.ErrConflict) || !reflect.DeepEqual(ce.IDs, []string{"e1"}) {
		t.Fatalf("conflict: err = %v, want a ConflictError naming e1", err)
	}
	evs := all(t, s, "p1", store.EventQuery{})
	if got := ids(evs); !reflect.DeepEqual(got, []string{"e1"}) || string(evs[0].Body) != "b1" {
		t.Fatalf("after a rejected batch: %v (the batch must store nothing)", got)
	}
}

// testConcurrent sends overlapping batches from many goroutines, each batch twice:
// every event must be stored exactly once.
func testConcurrent(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	const writers, batches, size = 16, 10, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				var evs []store.Event
				for k := range size {
					// Writers w and w+1 share half their ids (the same events resent).
					id := fmt.Sprintf("e%d-%d-%d", (w+k%2)%writers, b, k)
					evs = append(evs, Ev(id, "r1", "body "+id))
				}
				for range 2 {
					if _, err := s.AppendEvents(ctx, "p1", evs, store.Quota{}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := all(t, s, "p1", store.EventQuery{})
	seen := map[string]bool{}
	for _, e := range evs {
		if seen[e.ID] {
			t.Fatalf("event %s stored twice", e.ID)
		}
		seen[e.ID] = true
		if string(e.Body) != "body "+e.ID {
			t.Fatalf("event %s has body %q", e.ID, e.Body)
		}
	}
	// Each (writer, batch, k) id pattern: writer index (w + k%2) mod writers covers
	// every writer for both parities of k.
	if want := writers * batches * size; len(evs) != want {
		t.Fatalf("%d events stored, want %d", len(evs), want)
	}
}

// testCursor polls with since=cursor while writers append: the reader must end with
// every event exactly once (no event commits behind a cursor already handed out).
func testCursor(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	const writers, batches = 8, 25
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				id := fmt.Sprintf("w%d-b%d", w, b)
				if _, err := s.AppendEvents(ctx, "p1", []store.Event{Ev(id+"-a", "r1", "x"), Ev(id+"-b", "r2", "y")}, store.Quota{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	got := map[string]int{}
	var cursor string
	poll := func() {
		evs, err := s.Events(ctx, "p1", store.EventQuery{After: cursor, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got[e.ID]++
			cursor = e.Cursor
		}
		time.Sleep(200 * time.Microsecond)
	}
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		poll()
	}
	for before := -1; before != len(got); {
		before = len(got)
		poll()
	}
	if len(got) != writers*batches*2 {
		t.Fatalf("reader saw %d distinct events, want %d", len(got), writers*batches*2)
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("reader saw %s %d times", id, n)
		}
	}
}

func testReopen(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	mustAppend(t, s, "p1", Ev("e1", "r1", "b1"))
	snap := store.Snapshot{ID: "dddddddddddddddddddddddddddddddd", ContentID: "sha256-d", Data: []byte("d")}
	if _, err := s.PutSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	secret, err := s.Secret(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s = f.Reopen(t, s)
	if got := ids(all(t, s, "p1", store.EventQuery{})); !reflect.DeepEqual(got, []string{"e1"}) {
		t.Fatalf("after reopen: %v", got)
	}
	if got, err := s.Snapshot(ctx, snap.ID); err != nil || string(got.Data) != "d" {
		t.Fatalf("snapshot after reopen: %v", err)
	}
	if again, _ := s.Secret(ctx); !bytes.Equal(again, secret) {
		t.Fatal("secret changed on reopen")
	}
	if got := mustAppend(t, s, "p1", Ev("e1", "r1", "b1"), Ev("e2", "r1", "b2")); got != (store.AppendResult{Added: 1, Duplicates: 1}) {
		t.Fatalf("append after reopen: %+v", got)
	}
}

// testPageBytes: EventQuery.MaxBytes ends a page once its bodies reach the bound,
// always with at least one event, and paging on from the cursor loses nothing
// (pages were once built whole in memory).
func testPageBytes(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "pb")
	var evs []store.Event
	for i := range 10 {
		evs = append(evs, Ev(fmt.Sprintf("e%d", i), "r1", fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), 990))))
	}
	mustAppend(t, s, "pb", evs...)
	size := len(evs[0].Body) // every body is 1,000 or 1,001 bytes
	for _, c := range []struct{ max, want int }{{1, 1}, {size, 1}, {size + 1, 2}, {3 * size, 3}, {1 << 20, 10}} {
		page, err := s.Events(ctx, "pb", store.EventQuery{MaxBytes: c.max})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != c.want {
			t.Errorf("MaxBytes %d: %d events, want %d", c.max, len(page), c.want)
		}
	}
	var got []string
	cursor := ""
	for range 20 {
		page, err := s.Events(ctx, "pb", store.EventQuery{After: cursor, Limit: 5, MaxBytes: 2500})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d events over 2,500 bytes", len(page))
		}
		got = append(got, ids(page)...)
		cursor = page[len(page)-1].Cursor
	}
	if len(got) != 10 {
		t.Fatalf("paging by bytes gave %v, want the 10 events", got)
	}
}

// testOppositeOrders: two concurrent batches with the same ids in opposite orders
// once deadlocked PostgreSQL (42 of 120 requests failed with a
// 500). Every batch must succeed, and each id be stored once.
func testOppositeOrders(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "oo")
	const rounds, n = 30, 40
	var wg sync.WaitGroup
	errs := make(chan error, 4*rounds)
	for r := range rounds {
		var fwd []store.Event
		for i := range n {
			fwd = append(fwd, Ev(fmt.Sprintf("r%d-e%02d", r, i), "r1", fmt.Sprintf(`{"r":%d,"i":%d}`, r, i)))
		}
		rev := make([]store.Event, n)
		for i := range fwd {
			rev[n-1-i] = fwd[i]
		}
		for _, b := range [][]store.Event{fwd, rev, fwd, rev} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.AppendEvents(ctx, "oo", b, store.Quota{}); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if failed == 0 {
			t.Errorf("a batch failed: %v", err)
		}
		failed++
	}
	if failed > 0 {
		t.Errorf("%d of %d batches failed", failed, 4*rounds)
	}
	if got := len(all(t, s, "oo", store.EventQuery{})); got != rounds*n {
		t.Errorf("%d events stored, want %d", got, rounds*n)
	}
}

// testUnavailable: a store that cannot answer (here: closed) fails with
// store.ErrUnavailable, which the API answers with 503, never 500 (there were once
// 695 × 500 while PostgreSQL restarted).
func testUnavailable(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "un")
	s.Close()
	if _, err := s.AppendEvents(ctx, "un", []store.Event{Ev("e1", "r1", "{}")}, store.Quota{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("AppendEvents on a closed store: %v, want ErrUnavailable", err)
	}
	if _, err := s.Events(ctx, "un", store.EventQuery{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Events on a closed store: %v, want ErrUnavailable", err)
	}
	if _, err := s.Project(ctx, "un"); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Project on a closed store: %v, want ErrUnavailable", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Ping on a closed store: %v, want ErrUnavailable", err)
	}
}

func mustUsage(tb testing.TB, s store.Store, p, rater string, want store.Usage) {
	tb.Helper()
	got, err := s.Usage(ctx, p, rater)
	if err != nil || got != want {
		tb.Fatalf("usage of %s in %s = %+v, %v; want %+v", rater, p, got, err, want)
	}
}

// testQuota: AppendEvents refuses, whole, a batch whose new events would take a
// rater over the quota; other raters are not affected; a resent (stored) batch is
// acknowledged even at the quota; the counts survive a restart. (Before the quota a
// rater could store without bound: the second append below succeeded.)
func testQuota(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	q := store.Quota{Events: 3, Bytes: 10}
	// Bodies of 2 and 3 bytes: r1 holds 2 events, 5 bytes.
	if res, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e1", "r1", "aa"), Ev("e2", "r1", "bbb")}, q); err != nil || res.Added != 2 {
		t.Fatalf("first batch: %+v, %v", res, err)
	}
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 2, Bytes: 5})
	// 2 more would make 4 events > 3: refused, nothing stored, counts unchanged.
	_, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e3", "r1", "c"), Ev("e4", "r1", "d")}, q)
	var qe *store.QuotaError
	if !errors.Is(err, store.ErrQuota) || !errors.As(err, &qe) {
		t.Fatalf("over the event quota: %v, want a *QuotaError", err)
	}
	if want := (store.QuotaError{Rater: "r1", Stored: store.Usage{Events: 2, Bytes: 5}, Adding: store.Usage{Events: 2, Bytes: 2}, Quota: q}); *qe != want {
		t.Fatalf("quota error %+v, want %+v", *qe, want)
	}
	if got := ids(all(t, s, "p1", store.EventQuery{Rater: "r1"})); !reflect.DeepEqual(got, []string{"e1", "e2"}) {
		t.Fatalf("refused batch left %v", got)
	}
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 2, Bytes: 5})
	// 6 bytes more would make 11 > 10 bytes (one event: within the event quota).
	if _, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e3", "r1", "cccccc")}, q); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("over the byte quota: %v", err)
	}
	// Exactly at the quota is allowed: 3 events, 10 bytes.
	if res, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e3", "r1", "ccccc")}, q); err != nil || res.Added != 1 {
		t.Fatalf("up to the quota: %+v, %v", res, err)
	}
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 3, Bytes: 10})
	// Another rater has a quota of their own.
	if res, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("f1", "r2", "x"), Ev("f2", "r2", "y"), Ev("f3", "r2", "z")}, q); err != nil || res.Added != 3 {
		t.Fatalf("r2 beside a full r1: %+v, %v", res, err)
	}
	// A resend of stored events at the quota counts nothing and is acknowledged.
	if res, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e2", "r1", "bbb"), Ev("e1", "r1", "aa"), Ev("e3", "r1", "ccccc")}, q); err != nil || res != (store.AppendResult{Duplicates: 3}) {
		t.Fatalf("resend at the quota: %+v, %v", res, err)
	}
	// A resend with one new event is refused whole (the new one does not fit).
	if _, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e1", "r1", "aa"), Ev("e5", "r1", "e")}, q); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("resend plus a new event at the quota: %v", err)
	}
	// A batch naming two raters (the lead's) is refused whole when one is over.
	_, err = s.AppendEvents(ctx, "p1", []store.Event{Ev("g1", "r3", "ok"), Ev("g2", "r2", "w")}, q)
	if !errors.As(err, &qe) || qe.Rater != "r2" {
		t.Fatalf("two raters, r2 over: %v", err)
	}
	mustUsage(t, s, "p1", "r3", store.Usage{})
	// A conflict is reported before the quota (the client drops the named events).
	if _, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e1", "r1", "changed"), Ev("e6", "r1", "f")}, q); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("conflict and over quota: %v, want a conflict", err)
	}
	// The zero quota bounds nothing. Events naming no rater (the lead's may) are
	// counted under "".
	mustAppend(t, s, "p1", Ev("e6", "r1", "ffff"), Ev("l1", "", "lead"))
	mustUsage(t, s, "p1", "", store.Usage{Events: 1, Bytes: 4})
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 4, Bytes: 14})
	if _, err := s.Usage(ctx, "nope", "r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("usage in an unknown project: %v", err)
	}
	if f.Reopen == nil {
		return
	}
	s = f.Reopen(t, s)
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 4, Bytes: 14})
	mustUsage(t, s, "p1", "r2", store.Usage{Events: 3, Bytes: 3})
	if _, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e7", "r1", "g")}, store.Quota{Events: 4}); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("after reopen, over the quota: %v", err)
	}
	if res, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e7", "r1", "g")}, store.Quota{Events: 5}); err != nil || res.Added != 1 {
		t.Fatalf("after reopen, within the quota: %+v, %v", res, err)
	}
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 5, Bytes: 15})
}

// testQuotaConcurrent: concurrent batches of one rater cannot together pass the
// quota (the check and the count are in the storing transaction).
func testQuotaConcurrent(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "qc")
	q := store.Quota{Events: 10}
	var wg sync.WaitGroup
	var mu sync.Mutex
	added, refused := 0, 0
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 4 {
				res, err := s.AppendEvents(ctx, "qc", []store.Event{Ev(fmt.Sprintf("g%d-%d", g, i), "r1", "x")}, q)
				mu.Lock()
				switch {
				case err == nil:
					added += res.Added
				case errors.Is(err, store.ErrQuota):
					refused++
				default:
					t.Error(err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// 24 single-event batches against a quota of 10: exactly 10 stored.
	if added != 10 || refused != 14 {
		t.Fatalf("added %d, refused %d; want 10 and 14", added, refused)
	}
	if n := len(all(t, s, "qc", store.EventQuery{})); n != 10 {
		t.Fatalf("%d events stored, want 10", n)
	}
	mustUsage(t, s, "qc", "r1", store.Usage{Events: 10, Bytes: 10})
}

// testUncounted: a store opened without counts (written before them) counts its
// events once, on open, and keeps counting from there.
func testUncounted(t *testing.T, f Factory) {
	s := f.Open(t)
	mustCreate(t, s, "p1")
	mustCreate(t, s, "p2")
	mustAppend(t, s, "p1", Ev("e1", "r1", "aa"), Ev("e2", "r2", "bbb"), Ev("e3", "r1", "c"))
	mustAppend(t, s, "p2", Ev("e1", "r1", "dddd"))
	s = f.Uncount(t, s)
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 2, Bytes: 3})
	mustUsage(t, s, "p1", "r2", store.Usage{Events: 1, Bytes: 3})
	mustUsage(t, s, "p2", "r1", store.Usage{Events: 1, Bytes: 4})
	if _, err := s.AppendEvents(ctx, "p1", []store.Event{Ev("e4", "r1", "e")}, store.Quota{Events: 2}); !errors.Is(err, store.ErrQuota) {
		t.Fatalf("over the quota after counting: %v", err)
	}
	mustAppend(t, s, "p1", Ev("e4", "r1", "e"))
	mustUsage(t, s, "p1", "r1", store.Usage{Events: 3, Bytes: 4})
}

// BenchAppend measures AppendEvents of batches of 20 new events of one rater
// (300-byte bodies, what a workbench batch with short notes sends) under quota:
// the per-batch cost of counting and checking the rater's usage shows against a
// store without the counts run the same way.
func BenchAppend(b *testing.B, s store.Store, quota store.Quota) {
	mustCreate(b, s, "bp")
	body := bytes.Repeat([]byte{'x'}, 300)
	evs := make([]store.Event, 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for k := range evs {
			evs[k] = store.Event{ID: fmt.Sprintf("b%d-%d", i, k), Rater: "r1", Body: body}
		}
		if _, err := s.AppendEvents(ctx, "bp", evs, quota); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}
