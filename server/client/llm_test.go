package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"prefer/core/wire"
)

const okChat = `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`

// script is a model server that answers each request with the next status of a
// list (then 200) and records when each request came and its Authorization.
type script struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	times    []time.Time
	auth     []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	status := 200
	if len(s.statuses) > 0 {
		status, s.statuses = s.statuses[0], s.statuses[1:]
	}
	if status != 200 {
		for k, v := range s.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"status %d","type":"x","param":null,"code":null}}`, status)
		return
	}
	w.Write([]byte(okChat))
}

func chat(tb testing.TB, c *LLM) error {
	tb.Helper()
	_, err := c.Chat(context.Background(), &wire.ChatRequest{Model: "m", Messages: []wire.ChatMessage{{Role: "user", Content: "hi"}}})
	return err
}

// TestRetryAfterHonoured: after a 429 with Retry-After: 2 the next attempt comes
// no sooner than 2 s later, though the backoff is 10 ms. (A lower bound holds
// however busy the machine is.)
func TestRetryAfterHonoured(t *testing.T) {
	s := &script{statuses: []int{429}, header: http.Header{"Retry-After": {"2"}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	var waits []time.Duration
	c := &LLM{Base: srv.URL, Key: "sk-k", Retries: 3, Backoff: 10 * time.Millisecond,
		OnRetry: func(attempt int, why string, wait time.Duration) { waits = append(waits, wait) }}
	if err := chat(t, c); err != nil {
		t.Fatal(err)
	}
	if len(s.times) != 2 || s.times[1].Sub(s.times[0]) < 2*time.Second {
		t.Fatalf("requests at %v: the retry came before Retry-After", s.times)
	}
	if len(waits) != 1 || waits[0] != 2*time.Second {
		t.Errorf("waits %v, want [2s]", waits)
	}
	if s.auth[0] != "Bearer sk-k" {
		t.Errorf("Authorization %q", s.auth[0])
	}
}

func TestRetryPolicy(t *testing.T) {
	for _, c := range []struct {
		name     string
		statuses []int
		retries  int
		requests int
		status   int // of the final error, 0 for success
	}{
		{"5xx then success", []int{500, 502, 503}, 3, 4, 0},
		{"gives up", []int{500, 500, 500}, 2, 3, 500},
		{"400 is final", []int{400}, 5, 1, 400},
		{"401 is final", []int{401}, 5, 1, 401},
		{"404 is final", []int{404}, 5, 1, 404},
		{"no retries", []int{503}, 0, 1, 503},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &script{statuses: c.statuses}
			srv := httptest.NewServer(s)
			defer srv.Close()
			err := chat(t, &LLM{Base: srv.URL, Retries: c.retries, Backoff: time.Millisecond})
			if len(s.times) != c.requests {
				t.Errorf("%d requests, want %d", len(s.times), c.requests)
			}
			var le *LLMError
			switch {
			case c.status == 0 && err != nil:
				t.Errorf("err %v", err)
			case c.status != 0 && (!errors.As(err, &le) || le.Status != c.status):
				t.Errorf("err %v, want status %d", err, c.status)
			}
		})
	}
}

// TestNetworkErrorRetried: a server that is not there is retried, and the error
// says so without the key.
func TestNetworkErrorRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	n := 0
	err := chat(t, &LLM{Base: url, Key: "sk-secret-1234", Retries: 2, Backoff: time.Millisecond,
		OnRetry: func(int, string, time.Duration) { n++ }})
	if err == nil || n != 2 || strings.Contains(err.Error(), "sk-secret") {
		t.Fatalf("err %v after %d retries", err, n)
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string][2]string{
		"http://127.0.0.1:8000":                       {"http://127.0.0.1:8000/v1", "127.0.0.1:8000"},
		"http://localhost:11434/v1/":                  {"http://localhost:11434/v1", "localhost:11434"},
		"https://api.example.org/v1/chat/completions": {"https://api.example.org/v1", "api.example.org"},
		"https://host/openai/v1":                      {"https://host/openai/v1", "host"},
	} {
		base, host, err := Endpoint(in)
		if err != nil || base != want[0] || host != want[1] {
			t.Errorf("Endpoint(%q) = %q, %q, %v; want %q", in, base, host, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "http://user:key@host/v1", "localhost:8000", "http://h/v1?key=x"} {
		if _, _, err := Endpoint(bad); err == nil {
			t.Errorf("Endpoint(%q): no error", bad)
		}
	}
}
