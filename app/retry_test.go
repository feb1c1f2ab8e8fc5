package app

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// Retry-After's delay-seconds (RFC 9110 §10.2.3); anything else is no header.
func TestParseRetryAfter(t *testing.T) {
	for h, want := range map[string]time.Duration{
		"":                              0,
		"5":                             5 * time.Second,
		" 120 ":                         2 * time.Minute,
		"0":                             0,
		"-3":                            0,
		"1.5":                           0,
		"Wed, 21 Oct 2026 07:28:00 GMT": 0, // the HTTP-date form: Prefer's server never sends it
		"999999999":                     24 * time.Hour,
	} {
		if got := ParseRetryAfter(h); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

// The sync loop's waits: the backoff doubles to a minute after failures, the
// server's Retry-After is the least wait after a failure, a success resets.
func TestSyncWait(t *testing.T) {
	cases := []struct {
		failed, again       bool
		backoff, retryAfter time.Duration
		wait, next          time.Duration
	}{
		{true, false, time.Second, 0, time.Second, 2 * time.Second},
		{true, false, 40 * time.Second, 0, 40 * time.Second, time.Minute},
		{true, false, time.Minute, 0, time.Minute, time.Minute},
		{true, false, time.Second, 30 * time.Second, 30 * time.Second, 2 * time.Second},
		{true, false, 8 * time.Second, 2 * time.Second, 8 * time.Second, 16 * time.Second},
		{false, true, 8 * time.Second, 0, 0, time.Second},
		{false, false, 8 * time.Second, 0, 10 * time.Second, time.Second},
	}
	for _, c := range cases {
		wait, next := syncWait(c.failed, c.again, c.backoff, c.retryAfter)
		if wait != c.wait || next != c.next {
			t.Errorf("syncWait(%v, %v, %v, %v) = %v, %v; want %v, %v", c.failed, c.again, c.backoff, c.retryAfter, wait, next, c.wait, c.next)
		}
	}
}

// A 503 with Retry-After (every upload slot of the server taken) keeps the batch and
// makes the loop wait what the server asked; the next answer without one clears it.
func TestSyncReadsRetryAfter(t *testing.T) {
	kv := newMemKV()
	busy := true
	srv := &fakeServer{retryAfter: 30 * time.Second, answer: func(ids []string) (int, string) {
		if busy {
			return 503, `{"code":"busy","error":"every upload slot is taken: retry after the time in Retry-After"}`
		}
		return 200, `{"accepted":2}`
	}}
	withSync(t, kv, srv)
	fillOutbox(t, kv, 2)
	if _, err := syncer.once(); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("once() on a 503 = %v, want the server's refusal", err)
	}
	if syncer.retryAfter != 30*time.Second {
		t.Fatalf("after a 503 with Retry-After: 30 the client waits %v, want 30s", syncer.retryAfter)
	}
	if n := len(kv.keys(storeOutbox)); n != 2 {
		t.Fatalf("the outbox holds %d judgments after a 503, want 2", n)
	}
	busy, srv.retryAfter = false, 0
	if err := drain(t); err != nil {
		t.Fatal(err)
	}
	if syncer.retryAfter != 0 {
		t.Errorf("after a 200 the client still waits %v", syncer.retryAfter)
	}
	if n := len(kv.keys(storeOutbox)); n != 0 {
		t.Errorf("the outbox holds %d judgments after a 200", n)
	}
}

// llmServer answers POST …/chat/completions with the statuses in order (then 200),
// each with Retry-After.
type llmServer struct {
	fakeServer
	statuses []int
	calls    int
}

func (f *llmServer) Fetch(method, url string, body []byte, header map[string]string) (Reply, error) {
	if method != "POST" || !strings.HasSuffix(url, "/api/v1/llm/chat/completions") {
		return Reply{Status: 404}, nil
	}
	f.calls++
	if len(f.statuses) > 0 {
		st := f.statuses[0]
		f.statuses = f.statuses[1:]
		return Reply{Status: st, Body: []byte(`{"error":{"message":"busy"}}`), RetryAfter: f.retryAfter}, nil
	}
	return Reply{Status: 200, Body: []byte(`{"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}]}`)}, nil
}

// "Generate answers" waits the server's Retry-After on a 429 when it is longer than
// its own backoff (1, 2, 4, 8 s), and its own backoff otherwise.
func TestGenerateReadsRetryAfter(t *testing.T) {
	oldBrowser, oldSleep := browser, genSleep
	t.Cleanup(func() { browser, genSleep = oldBrowser, oldSleep })
	var waits []time.Duration
	genSleep = func(d time.Duration, cancel chan struct{}) bool {
		waits = append(waits, d)
		return true
	}
	srv := &llmServer{statuses: []int{429, 429, 503}}
	srv.retryAfter = 3 * time.Second
	browser = srv
	text, finish, err := askAnswer("m", "p", 0.7, 16, 1, "", make(chan struct{}))
	if err != nil || text != "hi" || finish != "stop" {
		t.Fatalf("askAnswer = %q, %q, %v", text, finish, err)
	}
	// 3 s (Retry-After over the 1 s backoff), 6 s (doubled), 12 s.
	if want := []time.Duration{3 * time.Second, 6 * time.Second, 12 * time.Second}; !reflect.DeepEqual(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
	waits = nil
	srv.statuses, srv.retryAfter = []int{429, 429}, 0
	if _, _, err := askAnswer("m", "p", 0.7, 16, 1, "", make(chan struct{})); err != nil {
		t.Fatal(err)
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !reflect.DeepEqual(waits, want) {
		t.Errorf("without Retry-After: waits %v, want %v", waits, want)
	}
}
