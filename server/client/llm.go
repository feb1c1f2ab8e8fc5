package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"prefer/core/wire"
)

// LLM is a client of an OpenAI-compatible model server (docs/models.md): prefer
// generate and prefer judge ask through it. A request is retried, with exponential
// backoff, on network errors, timeouts and 5xx answers, and on 429 after the time
// its Retry-After says; other 4xx answers are final. The key is sent as a bearer
// token and appears in no error message.
type LLM struct {
	// Base is the API's base URL, e.g. "http://127.0.0.1:8000/v1".
	Base string
	// Key is the API key; "" sends none.
	Key string
	// Timeout bounds one attempt. Default 2 min.
	Timeout time.Duration
	// Retries is how many times a failed attempt is repeated. Default 0 (none); a
	// negative value also means none.
	Retries int
	// Backoff is the first wait between attempts, doubled each time up to
	// MaxBackoff (with ±20% jitter). Defaults 1 s and 60 s.
	Backoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a Retry-After may ask for. Default 10 min.
	MaxRetryAfter time.Duration
	// OnRetry, when set, is told of each retry: the attempt that failed (1-based),
	// why, and how long the client waits.
	OnRetry func(attempt int, why string, wait time.Duration)
	// HTTP is the client used; nil means http.DefaultClient's transport.
	HTTP *http.Client
}

// LLMError is a final answer other than 2xx from the model server.
type LLMError struct {
	Status int
	Body   wire.APIErrorBody
}

func (e *LLMError) Error() string {
	msg := e.Body.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Body.Param != nil && *e.Body.Param != "" {
		msg += " (parameter " + *e.Body.Param + ")"
	}
	return fmt.Sprintf("the model server answered %d: %s", e.Status, msg)
}

// Endpoint normalizes an OpenAI-compatible base URL: a URL without a path gets
// "/v1" (the path every such server uses), a trailing slash or a trailing
// "/chat/completions" is dropped. It refuses URLs with credentials (keys go in the
// environment) and other schemes than http and https. host is the URL's host[:port],
// what a snapshot records.
func Endpoint(raw string) (base, host string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an http(s) URL of a model server, e.g. http://127.0.0.1:8000/v1", raw)
	}
	if u.User != nil {
		return "", "", errors.New("the endpoint URL holds credentials: put the key in an environment variable and name it with --api-key-env")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", errors.New("the endpoint URL has a query or fragment: give the API's base URL, e.g. http://127.0.0.1:8000/v1")
	}
	p := strings.TrimSuffix(u.Path, "/")
	p = strings.TrimSuffix(p, "/chat/completions")
	p = strings.TrimSuffix(p, "/completions")
	if p == "" {
		p = "/v1"
	}
	u.Path = p
	return u.String(), u.Host, nil
}

func (c *LLM) defaults() LLM {
	d := *c
	if d.Timeout <= 0 {
		d.Timeout = 2 * time.Minute
	}
	if d.Backoff <= 0 {
		d.Backoff = time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = 60 * time.Second
	}
	if d.MaxRetryAfter <= 0 {
		d.MaxRetryAfter = 10 * time.Minute
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{}
	}
	return d
}

// Chat asks POST {Base}/chat/completions (never streamed).
func (c *LLM) Chat(ctx context.Context, req *wire.ChatRequest) (*wire.ChatCompletion, error) {
	r := *req
	r.Stream, r.StreamOptions = false, nil
	return askFor(ctx, c, "/chat/completions", &r, func(out *wire.ChatCompletion) int { return len(out.Choices) })
}

// Complete asks POST {Base}/completions (never streamed).
func (c *LLM) Complete(ctx context.Context, req *wire.CompletionRequest) (*wire.Completion, error) {
	r := *req
	r.Stream, r.StreamOptions = false, nil
	return askFor(ctx, c, "/completions", &r, func(out *wire.Completion) int { return len(out.Choices) })
}

// askFor posts req to path and decodes the answer into a T, refusing one with no
// choices (choices counts them).
func askFor[T any](ctx context.Context, c *LLM, path string, req any, choices func(*T) int) (*T, error) {
	var out T
	if err := c.post(ctx, path, req, &out); err != nil {
		return nil, err
	}
	if choices(&out) == 0 {
		return nil, errors.New("the model server answered with no choices")
	}
	return &out, nil
}

// Models asks GET {Base}/models.
func (c *LLM) Models(ctx context.Context) (*wire.ModelList, error) {
	var out wire.ModelList
	return &out, c.do(ctx, "GET", "/models", nil, &out)
}

func (c *LLM) post(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.do(ctx, "POST", path, data, out)
}

// do runs one request with the retry policy.
func (c *LLM) do(ctx context.Context, method, path string, body []byte, out any) error {
	d := c.defaults()
	backoff := d.Backoff
	for attempt := 1; ; attempt++ {
		retry, wait, why, err := d.once(ctx, method, path, body, out)
		if err == nil {
			return nil
		}
		if !retry || attempt > d.Retries || ctx.Err() != nil {
			if retry && attempt > d.Retries && d.Retries > 0 {
				return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
			}
			return err
		}
		if wait == 0 {
			jitter := 0.8 + 0.4*rand.Float64()
			wait = time.Duration(float64(backoff) * jitter)
			backoff = min(2*backoff, d.MaxBackoff)
		}
		if d.OnRetry != nil {
			d.OnRetry(attempt, why, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// once runs one attempt. retry says whether another may succeed, wait how long the
// server asked to wait (Retry-After), why what failed in a few words.
func (d *LLM) once(ctx context.Context, method, path string, body []byte, out any) (retry bool, wait time.Duration, why string, err error) {
	actx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, d.Base+path, rd)
	if err != nil {
		return false, 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if d.Key != "" {
		req.Header.Set("Authorization", "Bearer "+d.Key)
	}
	resp, err := d.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, 0, "", ctx.Err()
		}
		if actx.Err() != nil {
			return true, 0, "timeout", fmt.Errorf("the model server did not answer within %s", d.Timeout)
		}
		return true, 0, "network error", fmt.Errorf("cannot reach the model server: %s", netReason(err))
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if rerr != nil {
		if ctx.Err() != nil {
			return false, 0, "", ctx.Err()
		}
		return true, 0, "answer cut short", fmt.Errorf("the model server's answer was cut short: %s", netReason(rerr))
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return false, 0, "", fmt.Errorf("the model server's answer is not the expected JSON: %v", err)
		}
		return false, 0, "", nil
	}
	e := &LLMError{Status: resp.StatusCode}
	var body2 wire.APIError
	if json.Unmarshal(data, &body2) == nil && body2.Error.Message != "" {
		e.Body = body2.Error
	} else {
		msg := strings.TrimSpace(string(data))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		e.Body.Message = msg
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusServiceUnavailable:
		wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		if wait > d.MaxRetryAfter {
			wait = d.MaxRetryAfter
		}
		return true, wait, strconv.Itoa(resp.StatusCode), e
	case resp.StatusCode >= 500:
		return true, 0, strconv.Itoa(resp.StatusCode), e
	}
	return false, 0, "", e
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date. 0 when absent or
// unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// netReason says why a connection failed without the URL (which may carry a path
// someone considers private) or anything else of the request.
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}
