package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"prefer/core/wire"
)

// Upstream is the model server that the Data page's "Generate answers" goes to
// through this server (`prefer serve --llm-upstream URL`). Only the operator sets
// it: the browser names a model, never a URL, so the server is no open proxy.
type Upstream struct {
	// URL is the OpenAI-compatible base URL, e.g. "http://127.0.0.1:8000/v1";
	// requests go to URL + "/chat/completions".
	URL string
	// Key is sent as the bearer token (from the environment, never a flag). It is
	// never logged nor shown.
	Key string
	// Models are the names the Data page may ask for; empty: those the upstream's
	// GET /models lists.
	Models []string
	// Timeout bounds one upstream request. Default 2 min.
	Timeout time.Duration
	// Concurrency bounds the requests in flight to the upstream; more get 429.
	// Default 4.
	Concurrency int
}

type upstreamClient struct {
	cfg   Upstream
	host  string
	http  *http.Client
	slots chan struct{}

	mu      sync.Mutex
	models  []string
	fetched time.Time
}

func newUpstreamClient(u *Upstream) *upstreamClient {
	cfg := *u
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	host := cfg.URL
	if p, err := url.Parse(cfg.URL); err == nil {
		host = p.Host
	}
	return &upstreamClient{cfg: cfg, host: host, http: &http.Client{Timeout: cfg.Timeout}, slots: make(chan struct{}, cfg.Concurrency),
		models: append([]string(nil), cfg.Models...)}
}

// request is a request to the upstream at path, with the operator's key, and a
// JSON body when body is not nil.
func (u *upstreamClient) request(ctx context.Context, method, path string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.cfg.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+u.cfg.Key)
	}
	return req, nil
}

// modelNames lists the models the Data page may ask for, fetching the
// upstream's list (kept 5 minutes) when the operator gave none.
func (u *upstreamClient) modelNames(ctx context.Context) []string {
	if len(u.cfg.Models) > 0 {
		return u.cfg.Models
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if time.Since(u.fetched) < 5*time.Minute && u.models != nil {
		return u.models
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := u.request(ctx, "GET", "/models", nil)
	if err != nil {
		return nil
	}
	resp, err := u.http.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var list wire.ModelList
	if resp.StatusCode != 200 || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&list) != nil {
		return nil
	}
	u.models = u.models[:0]
	for _, m := range list.Data {
		u.models = append(u.models, m.ID)
	}
	u.fetched = time.Now()
	return u.models
}

// relayChat is POST /api/v1/llm/chat/completions: the Data page's generation. With
// an upstream the checked request (its known fields only, never streamed) goes
// there with the operator's key; without, the server's own models answer.
func (a *API) relayChat(w http.ResponseWriter, r *http.Request) error {
	req, err := llmRequest[wire.ChatRequest](a, w, r)
	if err != nil {
		return err
	}
	u := a.llm.up
	if u == nil {
		if m, ok := a.llm.byName[req.Model]; ok && !m.Generator {
			return invalid("model", "%q is a judge, not a model that writes answers", req.Model)
		}
		return a.answerChat(w, r, req)
	}
	// The same checks as for the server's own models, but the model is the
	// upstream's.
	if p, why := req.Unsupported(); p != "" {
		return invalid(p, "%s through this server", why)
	}
	if len(req.Messages) == 0 || len(req.Messages) > maxMessages {
		return invalid("messages", "give 1 to %d messages", maxMessages)
	}
	if _, err := a.checkParams(req.N, req.Temperature, req.TopP, req.TopK, req.MaxTokens, req.Seed, req.Stop, 1); err != nil {
		return err
	}
	known := false
	for _, name := range u.modelNames(r.Context()) {
		known = known || name == req.Model
	}
	if !known {
		return oaiErrorf(http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
			"the upstream model server of this Prefer server offers no model %q (GET /api/v1/llm lists them)", req.Model)
	}
	req.Stream, req.StreamOptions = false, nil
	select {
	case u.slots <- struct{}{}:
		defer func() { <-u.slots }()
	default:
		e := oaiErrorf(http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "",
			"%d requests to the upstream are in flight, the most this server sends: retry after the time in Retry-After", u.cfg.Concurrency)
		e.retryAfter = 1
		return e
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ur, err := u.request(r.Context(), "POST", "/chat/completions", body)
	if err != nil {
		return err
	}
	resp, err := u.http.Do(ur)
	if err != nil {
		if r.Context().Err() != nil {
			return r.Context().Err()
		}
		var ue *url.Error
		msg := "cannot reach it"
		if errors.As(err, &ue) && ue.Timeout() {
			return oaiErrorf(http.StatusGatewayTimeout, "server_error", "upstream_timeout", "",
				"the upstream model server (%s) did not answer within %s", u.host, u.cfg.Timeout)
		}
		return oaiErrorf(http.StatusBadGateway, "server_error", "upstream_unreachable", "", "the upstream model server (%s): %s", u.host, msg)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return oaiErrorf(http.StatusBadGateway, "server_error", "upstream_unreachable", "", "the upstream model server (%s) broke off its answer", u.host)
	}
	switch {
	case resp.StatusCode == 200:
		var out wire.ChatCompletion
		if json.Unmarshal(data, &out) != nil {
			return oaiErrorf(http.StatusBadGateway, "server_error", "upstream_bad_answer", "", "the upstream model server (%s) answered something that is not a chat completion", u.host)
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		e := oaiErrorf(resp.StatusCode, "rate_limit_error", "upstream_busy", "", "the upstream model server (%s) is busy (HTTP %d): %s", u.host, resp.StatusCode, upstreamMessage(data))
		e.retryAfter = 1
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			e.retryAfter = min(s, 600)
		}
		return e
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		// The request was refused; the upstream's reasons, but never its auth
		// status as ours: a 401 there is the operator's key.
		status := resp.StatusCode
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			return oaiErrorf(http.StatusBadGateway, "server_error", "upstream_auth", "",
				"the upstream model server (%s) refused this server's key (HTTP %d): tell the operator", u.host, status)
		}
		return oaiErrorf(status, "invalid_request_error", "upstream_refused", "", "the upstream model server (%s) refused the request: %s", u.host, upstreamMessage(data))
	}
	return oaiErrorf(http.StatusBadGateway, "server_error", "upstream_error", "", "the upstream model server (%s) failed (HTTP %d): %s", u.host, resp.StatusCode, upstreamMessage(data))
}

// upstreamMessage is the message of an upstream's error body, cut short.
func upstreamMessage(data []byte) string {
	var e wire.APIError
	msg := ""
	if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	} else {
		msg = strings.TrimSpace(string(data))
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if msg == "" {
		return "no message"
	}
	return fmt.Sprintf("%q", msg)
}
