package api

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"prefer/core/lm"
	"prefer/core/wire"
)

// LLMConfig configures the OpenAI-compatible endpoints (docs/models.md). Zero values
// mean the defaults given.
type LLMConfig struct {
	// Models are the models served under their names (GET /v1/models lists them),
	// besides the language models of the snapshots the store holds.
	Models []ServedModel
	// Token, when set, is required as a bearer token (the "API key" of OpenAI
	// clients) by /v1/… and /api/v1/llm/…. Empty: anyone who reaches the server.
	Token string

	// MaxN bounds the answers of one request (n, and prompts × n). Default 16.
	MaxN int
	// MaxTokens bounds max_tokens. Default 1024. (Prefer's own models write at
	// most their context, 80 tokens, whatever it says.)
	MaxTokens int
	// Concurrency is how many requests generate at once; each holds one model
	// replica and one core. Default 2.
	Concurrency int
	// Queue is how many more may wait for a turn; beyond it a request gets 429
	// with Retry-After before any work. Default 32.
	Queue int
	// QueueWait is the longest a request waits for its turn before it gets 429.
	// Default 30 s.
	QueueWait time.Duration
	// MaxBodyBytes bounds a request's body. Default 1 MiB.
	MaxBodyBytes int64
	// StoredModels bounds the language models of stored snapshots kept loaded
	// (least recently used dropped). Default 4.
	StoredModels int

	// Upstream, when set, is the model server the Data page's "Generate answers"
	// goes to through /api/v1/llm/ (never a URL from the browser).
	Upstream *Upstream
}

func (c *LLMConfig) defaults() {
	if c.MaxN <= 0 {
		c.MaxN = 16
	}
	if c.MaxTokens <= 0 {
		c.MaxTokens = 1024
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.Queue < 0 {
		c.Queue = 0
	} else if c.Queue == 0 {
		c.Queue = 32
	}
	if c.QueueWait <= 0 {
		c.QueueWait = 30 * time.Second
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.StoredModels <= 0 {
		c.StoredModels = 4
	}
}

// Request limits that do not depend on the configuration.
const (
	maxMessages    = 256      // messages in a chat request
	maxPromptBytes = 64 << 10 // text of all messages, or of all prompts
	maxStops       = 4        // stop strings (OpenAI's limit)
	maxStopBytes   = 64       // bytes of one stop string
	maxTopLogprobs = 5        // alternatives per token (the legacy API's limit)
	maxModelName   = 256
)

// llm is the state of the OpenAI-compatible endpoints.
type llm struct {
	cfg    LLMConfig
	byName map[string]*ServedModel
	slots  chan struct{} // generations running
	queued atomic.Int64  // requests waiting for a slot
	stored *modelCache
	up     *upstreamClient
}

func newLLM(a *API, cfg LLMConfig) *llm {
	cfg.defaults()
	l := &llm{cfg: cfg, byName: map[string]*ServedModel{}, slots: make(chan struct{}, cfg.Concurrency)}
	for i := range cfg.Models {
		l.byName[cfg.Models[i].Name] = &l.cfg.Models[i]
	}
	l.stored = newModelCache(a, cfg.StoredModels)
	if cfg.Upstream != nil {
		l.up = newUpstreamClient(cfg.Upstream)
	}
	return l
}

// oaiError is an error answered in OpenAI's shape.
type oaiError struct {
	status     int
	typ        string
	code       string
	param      string
	msg        string
	retryAfter int // seconds, for 429 and 503
}

func (e *oaiError) Error() string { return e.msg }

func oaiErrorf(status int, typ, code, param, format string, args ...any) *oaiError {
	return &oaiError{status: status, typ: typ, code: code, param: param, msg: fmt.Sprintf(format, args...)}
}

func invalid(param, format string, args ...any) *oaiError {
	return oaiErrorf(http.StatusBadRequest, "invalid_request_error", "", param, format, args...)
}

// writeOAIError answers err in OpenAI's error shape.
func (a *API) writeOAIError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *oaiError
	var bp *badParam
	switch {
	case errors.As(err, &oe):
	case errors.As(err, &bp):
		oe = invalid(bp.param, "%s", bp.msg)
	case errors.Is(err, errShuttingDown):
		oe = oaiErrorf(http.StatusServiceUnavailable, "service_unavailable", "", "", "the server is shutting down: retry in a moment")
		oe.retryAfter = 5
	case r.Context().Err() != nil:
		oe = oaiErrorf(http.StatusServiceUnavailable, "service_unavailable", "", "", "request cancelled")
	default:
		a.log.Error("request failed", slog.String("method", r.Method), slog.String("route", routeOf(r)), slog.Any("err", err))
		oe = oaiErrorf(http.StatusInternalServerError, "server_error", "", "", "the server failed to answer; it has been logged: retry later")
	}
	body := wire.APIError{Error: wire.APIErrorBody{Message: oe.msg, Type: oe.typ}}
	if oe.param != "" {
		body.Error.Param = &oe.param
	}
	if oe.code != "" {
		body.Error.Code = &oe.code
	}
	if oe.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(oe.retryAfter))
	}
	if oe.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="prefer"`)
	}
	writeJSON(w, oe.status, body)
}

// handleOAI registers an OpenAI-shaped handler.
func (a *API) handleOAI(m *http.ServeMux, pattern string, h func(http.ResponseWriter, *http.Request) error) {
	m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeOAIError(w, r, err)
		}
	})
}

func (a *API) llmRoutes(m *http.ServeMux) {
	a.handleOAI(m, "GET /v1/models", a.listModels)
	a.handleOAI(m, "POST /v1/chat/completions", a.chatCompletions)
	a.handleOAI(m, "POST /v1/completions", a.completions)
	a.handleOAI(m, "GET /api/v1/llm", a.llmInfo)
	a.handleOAI(m, "POST /api/v1/llm/chat/completions", a.relayChat)
	for _, p := range []string{"/v1/models", "/v1/chat/completions", "/v1/completions", "/api/v1/llm", "/api/v1/llm/chat/completions"} {
		a.handleOAI(m, p, func(w http.ResponseWriter, r *http.Request) error {
			return oaiErrorf(http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed", "", "%s is not allowed on %s", r.Method, routeOf(r))
		})
	}
	a.handleOAI(m, "/v1/", func(w http.ResponseWriter, r *http.Request) error {
		return oaiErrorf(http.StatusNotFound, "invalid_request_error", "unknown_url", "",
			"this server answers GET /v1/models, POST /v1/chat/completions and POST /v1/completions (docs/models.md)")
	})
}

// isLLMPath reports whether a path is one of the model endpoints, whose errors
// have OpenAI's shape.
func isLLMPath(p string) bool {
	return strings.HasPrefix(p, "/v1/") || p == "/api/v1/llm" || strings.HasPrefix(p, "/api/v1/llm/")
}

// checkLLMToken enforces the server's access key of the model endpoints.
func (a *API) checkLLMToken(r *http.Request) error {
	want := a.llm.cfg.Token
	if want == "" {
		return nil
	}
	tok := bearer(r)
	if tok == "" {
		return oaiErrorf(http.StatusUnauthorized, "authentication_error", "missing_api_key", "",
			"this server's models need its access key: send it as 'Authorization: Bearer KEY' (the API key of an OpenAI client)")
	}
	if !sameHash(hashToken(tok), hashToken(want)) {
		return oaiErrorf(http.StatusUnauthorized, "authentication_error", "invalid_api_key", "", "the access key is not this server's")
	}
	return nil
}

func (a *API) listModels(w http.ResponseWriter, r *http.Request) error {
	if err := a.checkLLMToken(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.ModelList{Object: "list", Data: a.modelInfos(false)})
	return nil
}

// modelInfos lists the served models (only those that write answers when
// generators is set). Stored snapshots' models are not listed: their names hold
// share ids, which are capabilities.
func (a *API) modelInfos(generators bool) []wire.ModelInfo {
	out := []wire.ModelInfo{}
	for _, m := range a.llm.cfg.Models {
		if generators && !m.Generator {
			continue
		}
		out = append(out, wire.ModelInfo{ID: m.Name, Object: "model", Created: 0, OwnedBy: "prefer", Description: m.Description})
	}
	return out
}

// model returns the model called name: a served one, or "SHAREID" / "SHAREID/NAME"
// for a language model of a stored snapshot.
func (a *API) model(ctx context.Context, name string) (Model, error) {
	if name == "" {
		return nil, invalid("model", "no model: name one of GET /v1/models")
	}
	if len(name) > maxModelName || !utf8.ValidString(name) {
		return nil, invalid("model", "the model name is not valid UTF-8 of at most %d bytes", maxModelName)
	}
	if m, ok := a.llm.byName[name]; ok {
		return m.Model, nil
	}
	id, rest, _ := strings.Cut(name, "/")
	if validShareID(id) {
		return a.llm.stored.get(ctx, id, rest)
	}
	return nil, oaiErrorf(http.StatusNotFound, "invalid_request_error", "model_not_found", "model",
		"this server has no model %q: GET /v1/models lists them, and a stored snapshot's language model is SHAREID/NAME", name)
}

// genParams are a request's generation settings, checked.
type genParams struct {
	cfg    lm.CompleteConfig
	seed   uint64
	seeded bool
}

// checkParams checks the settings shared by both APIs against the limits and turns
// them into the models' configuration. Every check happens before any work.
func (a *API) checkParams(n *int, temperature, topP *float64, topK, maxTokens *int, seed *int64, stop wire.Stop, perPrompt int) (genParams, error) {
	var g genParams
	c := &g.cfg
	c.N = 1
	if n != nil {
		if *n < 1 || *n > a.llm.cfg.MaxN {
			return g, invalid("n", "n is %d; this server gives 1 to %d answers a request", *n, a.llm.cfg.MaxN)
		}
		c.N = *n
	}
	if perPrompt*c.N > a.llm.cfg.MaxN {
		return g, invalid("n", "%d prompts × n %d is %d answers; this server gives at most %d a request", perPrompt, c.N, perPrompt*c.N, a.llm.cfg.MaxN)
	}
	c.Sample.Temperature = 1
	if temperature != nil {
		t := *temperature
		if math.IsNaN(t) || t < 0 || t > 2 {
			return g, invalid("temperature", "temperature is %g; give 0 to 2 (0: always the most likely token)", t)
		}
		if t == 0 {
			c.Sample.TopK = 1 // greedy
		} else {
			c.Sample.Temperature = t
		}
	}
	if topP != nil {
		p := *topP
		if math.IsNaN(p) || p <= 0 || p > 1 {
			return g, invalid("top_p", "top_p is %g; give a number above 0 and at most 1", p)
		}
		if p < 1 {
			c.Sample.TopP = p
		}
	}
	if topK != nil {
		switch {
		case *topK < -1:
			return g, invalid("top_k", "top_k is %d; give 0 or -1 (all tokens) or a count", *topK)
		case *topK > 0 && c.Sample.TopK != 1:
			c.Sample.TopK = *topK
		}
	}
	if maxTokens != nil {
		if *maxTokens < 1 || *maxTokens > a.llm.cfg.MaxTokens {
			return g, invalid("max_tokens", "max_tokens is %d; give 1 to %d", *maxTokens, a.llm.cfg.MaxTokens)
		}
		c.Sample.MaxTokens = *maxTokens
	}
	if len(stop) > maxStops {
		return g, invalid("stop", "%d stop strings; give at most %d", len(stop), maxStops)
	}
	for _, s := range stop {
		if s == "" || len(s) > maxStopBytes || !utf8.ValidString(s) {
			return g, invalid("stop", "a stop string must be 1 to %d bytes of UTF-8", maxStopBytes)
		}
	}
	c.Stop = stop
	if seed != nil {
		g.seed, g.seeded = uint64(*seed), true
	} else {
		var b [8]byte
		rand.Read(b[:])
		g.seed = binary.LittleEndian.Uint64(b[:])
	}
	return g, nil
}

// decodeOAI reads a JSON body within the limit into v: 413 from Content-Length
// before reading, 400 for anything malformed.
func (a *API) decodeOAI(w http.ResponseWriter, r *http.Request, v any) error {
	// The body is read as JSON whatever its Content-Type says (curl -d sends
	// application/x-www-form-urlencoded), as OpenAI-compatible servers do.
	limit := a.llm.cfg.MaxBodyBytes
	if r.ContentLength > limit {
		return oaiErrorf(http.StatusRequestEntityTooLarge, "invalid_request_error", "too_large", "",
			"the body is %d bytes; this server takes at most %d", r.ContentLength, limit)
	}
	body, err := a.readBodyPaced(w, r, limit, "request")
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return oaiErrorf(ae.status, "invalid_request_error", ae.body.Code, "", "%s", ae.body.Message)
		}
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return oaiErrorf(http.StatusRequestEntityTooLarge, "invalid_request_error", "too_large", "", "the body is longer than %d bytes", limit)
		}
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		return invalid("", "the body is not a valid request: %v", err)
	}
	if dec.More() {
		return invalid("", "the body has data after the JSON object")
	}
	return nil
}

// turn waits for a generation slot: 429 at once when the queue is full, or after
// QueueWait. release gives the slot back.
func (a *API) turn(ctx context.Context) (release func(), err error) {
	l := a.llm
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, nil
	default:
	}
	if l.queued.Add(1) > int64(l.cfg.Queue) {
		l.queued.Add(-1)
		e := oaiErrorf(http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "",
			"%d requests are generating and %d waiting, the most this server allows: retry after the time in Retry-After", l.cfg.Concurrency, l.cfg.Queue)
		e.retryAfter = 1
		return nil, e
	}
	defer l.queued.Add(-1)
	t := time.NewTimer(l.cfg.QueueWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, nil
	case <-t.C:
		e := oaiErrorf(http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded", "",
			"no generation slot came free in %s: the server is busy; retry after the time in Retry-After", l.cfg.QueueWait)
		e.retryAfter = 2
		return nil, e
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// begin starts an answer: it takes a generation turn (release gives it back), sets
// the Prefer-Seed header, and returns head, the first fields of the answer's
// objects: a new id with idPrefix, the time, the model asked for and m's
// fingerprint.
func (a *API) begin(w http.ResponseWriter, r *http.Request, g genParams, m Model, model, idPrefix string) (head func(object string) wire.ResponseHead, release func(), err error) {
	release, err = a.turn(r.Context())
	if err != nil {
		return nil, nil, err
	}
	w.Header().Set("Prefer-Seed", strconv.FormatUint(g.seed, 10))
	id, created := completionID(idPrefix), time.Now().Unix()
	head = func(object string) wire.ResponseHead {
		return wire.ResponseHead{ID: id, Object: object, Created: created, Model: model, SystemFingerprint: m.Fingerprint()}
	}
	return head, release, nil
}

func completionID(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (a *API) chatCompletions(w http.ResponseWriter, r *http.Request) error {
	req, err := llmRequest[wire.ChatRequest](a, w, r)
	if err != nil {
		return err
	}
	return a.answerChat(w, r, req)
}

// llmRequest checks the token of a model endpoint's request, then decodes its
// body into a T.
func llmRequest[T any](a *API, w http.ResponseWriter, r *http.Request) (*T, error) {
	if err := a.checkLLMToken(r); err != nil {
		return nil, err
	}
	var req T
	if err := a.decodeOAI(w, r, &req); err != nil {
		return nil, err
	}
	return &req, nil
}

// checkChat checks a chat request whole and returns its model and settings.
func (a *API) checkChat(ctx context.Context, req *wire.ChatRequest) (Model, genParams, error) {
	if p, why := req.Unsupported(); p != "" {
		return nil, genParams{}, invalid(p, "%s by this server's models", why)
	}
	if len(req.Messages) == 0 {
		return nil, genParams{}, invalid("messages", "no messages: give at least one user message")
	}
	if len(req.Messages) > maxMessages {
		return nil, genParams{}, invalid("messages", "%d messages; this server reads at most %d", len(req.Messages), maxMessages)
	}
	size := 0
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "developer", "user", "assistant":
		default:
			return nil, genParams{}, invalid(fmt.Sprintf("messages[%d].role", i), "role %q: use system, user or assistant", m.Role)
		}
		if !utf8.ValidString(string(m.Content)) {
			return nil, genParams{}, invalid(fmt.Sprintf("messages[%d].content", i), "the content is not valid UTF-8")
		}
		size += len(m.Content)
	}
	if size > maxPromptBytes {
		return nil, genParams{}, invalid("messages", "the messages hold %d bytes of text; this server reads at most %d", size, maxPromptBytes)
	}
	maxTok := req.MaxTokens
	if req.MaxCompletionTokens != nil {
		maxTok = req.MaxCompletionTokens
	}
	g, err := a.checkParams(req.N, req.Temperature, req.TopP, req.TopK, maxTok, req.Seed, req.Stop, 1)
	if err != nil {
		return nil, g, err
	}
	if req.TopLogprobs != nil {
		if !req.Logprobs {
			return nil, g, invalid("top_logprobs", "top_logprobs needs logprobs: true")
		}
		if *req.TopLogprobs < 0 || *req.TopLogprobs > maxTopLogprobs {
			return nil, g, invalid("top_logprobs", "top_logprobs is %d; give 0 to %d", *req.TopLogprobs, maxTopLogprobs)
		}
		g.cfg.TopLogProbs = *req.TopLogprobs
	}
	g.cfg.Sample.LogProbs = req.Logprobs
	m, err := a.model(ctx, req.Model)
	return m, g, err
}

// answerChat answers a checked or unchecked chat request with the server's own
// models (the relay without an upstream comes here too).
func (a *API) answerChat(w http.ResponseWriter, r *http.Request, req *wire.ChatRequest) error {
	m, g, err := a.checkChat(r.Context(), req)
	if err != nil {
		return err
	}
	head, release, err := a.begin(w, r, g, m, req.Model, "chatcmpl-")
	if err != nil {
		return err
	}
	defer release()
	if req.Stream {
		return a.streamChat(w, r, req, m, g, head)
	}
	nPrompt, answers, err := m.Answer(r.Context(), req.Messages, g.cfg, g.seed, nil)
	if err != nil {
		return err
	}
	out := wire.ChatCompletion{ResponseHead: head("chat.completion"), Usage: usage(nPrompt, answers)}
	for i, ans := range answers {
		c := wire.ChatChoice{Index: i, Message: wire.ChatMessage{Role: "assistant", Content: wire.Content(ans.Text)}, FinishReason: ans.Finish}
		if req.Logprobs {
			c.Logprobs = &wire.ChatLogprob{Content: chatLogprobs(ans.LogProbs)}
		}
		out.Choices = append(out.Choices, c)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func usage(prompt int, answers []lm.Answer) *wire.Usage {
	u := &wire.Usage{PromptTokens: prompt}
	for _, a := range answers {
		u.CompletionTokens += a.Tokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func byteInts(s string) []int {
	out := make([]int, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = int(s[i])
	}
	return out
}

func chatLogprobs(lps []lm.TokenLogProb) []wire.TokenLogprob {
	out := make([]wire.TokenLogprob, len(lps))
	for i, t := range lps {
		top := make([]wire.TopLogprob, len(t.Top))
		for k, alt := range t.Top {
			top[k] = wire.TopLogprob{Token: alt.Text, Logprob: float64(alt.LogP), Bytes: byteInts(alt.Text)}
		}
		out[i] = wire.TokenLogprob{Token: t.Text, Logprob: float64(t.LogP), Bytes: byteInts(t.Text), TopLogprobs: top}
	}
	return out
}

// sse writes server-sent events.
type sse struct {
	w       http.ResponseWriter
	flusher http.Flusher
	failed  bool
}

func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	if f == nil {
		f = flusherOf(w)
	}
	return &sse{w: w, flusher: f}
}

// flusherOf finds an http.Flusher under wrapping writers (the access log's).
func flusherOf(w http.ResponseWriter) http.Flusher {
	for {
		if f, ok := w.(http.Flusher); ok {
			return f
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
}

// send writes one event; it reports false once the client is gone.
func (s *sse) send(v any) bool {
	if s.failed {
		return false
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.failed = true
		return false
	}
	if _, err := fmt.Fprintf(s.w, "data: %s\n\n", data); err != nil {
		s.failed = true
		return false
	}
	if s.flusher != nil {
		s.flusher.Flush()
	}
	return true
}

func (s *sse) done() {
	if !s.failed {
		fmt.Fprint(s.w, "data: [DONE]\n\n")
		if s.flusher != nil {
			s.flusher.Flush()
		}
	}
}

func (a *API) streamChat(w http.ResponseWriter, r *http.Request, req *wire.ChatRequest, m Model, g genParams, head func(object string) wire.ResponseHead) error {
	s := startSSE(w)
	chunk := func(choices []wire.ChunkChoice) wire.ChatChunk {
		return wire.ChatChunk{ResponseHead: head("chat.completion.chunk"), Choices: choices}
	}
	for i := 0; i < g.cfg.N; i++ {
		s.send(chunk([]wire.ChunkChoice{{Index: i, Delta: wire.ChatDelta{Role: "assistant"}}}))
	}
	nPrompt, answers, err := m.Answer(r.Context(), req.Messages, g.cfg, g.seed, func(d lm.Delta) bool {
		c := wire.ChunkChoice{Index: d.Choice, Delta: wire.ChatDelta{Content: d.Text}}
		if req.Logprobs {
			c.Logprobs = &wire.ChatLogprob{Content: chatLogprobs(d.LogProbs)}
		}
		if d.Finish != "" {
			f := d.Finish
			c.FinishReason = &f
		}
		return !s.send(chunk([]wire.ChunkChoice{c}))
	})
	if err != nil {
		if r.Context().Err() == nil {
			s.send(wire.APIError{Error: wire.APIErrorBody{Message: err.Error(), Type: "server_error"}})
		}
		return nil
	}
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		c := chunk([]wire.ChunkChoice{})
		c.Usage = usage(nPrompt, answers)
		s.send(c)
	}
	s.done()
	return nil
}

func (a *API) completions(w http.ResponseWriter, r *http.Request) error {
	req, err := llmRequest[wire.CompletionRequest](a, w, r)
	if err != nil {
		return err
	}
	if p, why := req.Unsupported(); p != "" {
		return invalid(p, "%s by this server's models", why)
	}
	if len(req.Prompt) == 0 {
		return invalid("prompt", "no prompt: give a string or an array of strings")
	}
	size := 0
	for _, p := range req.Prompt {
		if !utf8.ValidString(p) {
			return invalid("prompt", "a prompt is not valid UTF-8")
		}
		size += len(p)
	}
	if size > maxPromptBytes {
		return invalid("prompt", "the prompts hold %d bytes; this server reads at most %d", size, maxPromptBytes)
	}
	g, err := a.checkParams(req.N, req.Temperature, req.TopP, req.TopK, req.MaxTokens, req.Seed, req.Stop, len(req.Prompt))
	if err != nil {
		return err
	}
	if req.Logprobs != nil {
		if *req.Logprobs < 0 || *req.Logprobs > maxTopLogprobs {
			return invalid("logprobs", "logprobs is %d; give 0 to %d", *req.Logprobs, maxTopLogprobs)
		}
		g.cfg.Sample.LogProbs, g.cfg.TopLogProbs = true, *req.Logprobs
	}
	m, err := a.model(r.Context(), req.Model)
	if err != nil {
		return err
	}
	head, release, err := a.begin(w, r, g, m, req.Model, "cmpl-")
	if err != nil {
		return err
	}
	defer release()
	mk := func(choices []wire.CompletionChoice) wire.Completion {
		return wire.Completion{ResponseHead: head("text_completion"), Choices: choices}
	}
	var s *sse
	if req.Stream {
		s = startSSE(w)
	}
	out := mk(nil)
	total := &wire.Usage{}
	for p, prompt := range req.Prompt {
		msgs := []wire.ChatMessage{{Role: "user", Content: wire.Content(prompt)}}
		// Each prompt of a batch gets its own stream of the seed.
		seed := g.seed + uint64(p)*0x9e3779b97f4a7c15
		var onDelta func(lm.Delta) bool
		offsets := make([]int, g.cfg.N)
		if s != nil {
			onDelta = func(d lm.Delta) bool {
				c := wire.CompletionChoice{Text: d.Text, Index: p*g.cfg.N + d.Choice}
				if g.cfg.Sample.LogProbs {
					c.Logprobs = completionLogprobs(d.LogProbs, offsets[d.Choice])
				}
				offsets[d.Choice] += len(d.Text)
				if d.Finish != "" {
					f := d.Finish
					c.FinishReason = &f
				}
				return !s.send(mk([]wire.CompletionChoice{c}))
			}
		}
		nPrompt, answers, err := m.Answer(r.Context(), msgs, g.cfg, seed, onDelta)
		if err != nil {
			if s != nil {
				if r.Context().Err() == nil {
					s.send(wire.APIError{Error: wire.APIErrorBody{Message: err.Error(), Type: "server_error"}})
				}
				return nil
			}
			return err
		}
		u := usage(nPrompt, answers)
		total.PromptTokens += u.PromptTokens
		total.CompletionTokens += u.CompletionTokens
		for i, ans := range answers {
			f := ans.Finish
			c := wire.CompletionChoice{Text: ans.Text, Index: p*g.cfg.N + i, FinishReason: &f}
			if g.cfg.Sample.LogProbs {
				c.Logprobs = completionLogprobs(ans.LogProbs, 0)
			}
			out.Choices = append(out.Choices, c)
		}
	}
	total.TotalTokens = total.PromptTokens + total.CompletionTokens
	if s != nil {
		if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
			c := mk([]wire.CompletionChoice{})
			c.Usage = total
			s.send(c)
		}
		s.done()
		return nil
	}
	out.Usage = total
	writeJSON(w, http.StatusOK, out)
	return nil
}

func completionLogprobs(lps []lm.TokenLogProb, offset int) *wire.CompletionLogprobs {
	out := &wire.CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, t := range lps {
		out.Tokens = append(out.Tokens, t.Text)
		out.TokenLogprobs = append(out.TokenLogprobs, float64(t.LogP))
		top := map[string]float64{}
		for _, alt := range t.Top {
			top[alt.Text] = float64(alt.LogP)
		}
		out.TopLogprobs = append(out.TopLogprobs, top)
		out.TextOffset = append(out.TextOffset, offset)
		if !t.Special {
			offset += len(t.Text)
		}
	}
	return out
}

func (a *API) llmInfo(w http.ResponseWriter, r *http.Request) error {
	l := a.llm
	info := wire.LLMInfo{KeyRequired: l.cfg.Token != "", MaxN: l.cfg.MaxN, MaxTokens: l.cfg.MaxTokens, Concurrency: l.cfg.Concurrency}
	if l.up != nil {
		info.Upstream = l.up.host
		info.Concurrency = l.up.cfg.Concurrency
		for _, name := range l.up.modelNames(r.Context()) {
			info.Models = append(info.Models, wire.ModelInfo{ID: name, Object: "model", OwnedBy: l.up.host})
		}
		if info.Models == nil {
			info.Models = []wire.ModelInfo{}
		}
	} else {
		info.Models = a.modelInfos(true)
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}
