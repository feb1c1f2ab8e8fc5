package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"prefer/server/store"
)

// Config configures the API. Zero values mean the defaults given.
type Config struct {
	// Store holds snapshots, projects and events. Required.
	Store store.Store

	// MaxSnapshotBytes bounds an uploaded snapshot; larger bodies get 413 before they
	// are read. Default 64 MiB.
	MaxSnapshotBytes int64
	// MaxBatchBytes bounds the body of an events batch. Default 4 MiB.
	MaxBatchBytes int64
	// MaxBatchEvents bounds the number of events in a batch. Default 1000.
	MaxBatchEvents int
	// MaxUploads bounds the snapshot uploads decoded at once (each may need a few
	// times its size in memory); others wait their turn. Default 2.
	MaxUploads int
	// MaxClockSkew is how far in the future of the server's clock an event's time
	// may be. Default 24 h.
	MaxClockSkew time.Duration

	// PublicURL is the scheme, host and path prefix of links in answers
	// ("https://prefer.example.org"); "" takes them from each request.
	PublicURL string
	// AdminToken, when set, is required (as a bearer token) to create projects and,
	// with PrivateUploads, to upload snapshots. When empty anyone who reaches the
	// server may create projects: fine on a laptop or a classroom network.
	AdminToken string
	// PrivateUploads requires the admin token for POST /api/v1/snapshots.
	PrivateUploads bool

	// LLM configures the OpenAI-compatible endpoints: /v1/… and /api/v1/llm/…
	// (docs/models.md).
	LLM LLMConfig

	// Now is the clock (for the clock-skew check and creation times); default
	// time.Now.
	Now func() time.Time
	// Log receives server faults (5xx); default slog.Default(). Tokens, bodies and
	// share ids are never logged.
	Log *slog.Logger
}

// API serves /api/v1/ (docs/server.md). It is an http.Handler.
type API struct {
	cfg     Config
	store   store.Store
	log     *slog.Logger
	mux     *http.ServeMux
	secret  []byte
	uploads chan struct{} // semaphore of snapshot uploads
	closing atomic.Bool
	llm     *llm

	mu       sync.Mutex
	projects map[string]*project     // cache of immutable projects
	loading  map[string]*projectLoad // loads in progress
}

// maxCachedProjects bounds the project cache (each holds its decoded items).
const maxCachedProjects = 64

// New returns the API over cfg.Store.
func New(ctx context.Context, cfg Config) (*API, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: no store")
	}
	if cfg.MaxSnapshotBytes <= 0 {
		cfg.MaxSnapshotBytes = 64 << 20
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 4 << 20
	}
	if cfg.MaxBatchEvents <= 0 {
		cfg.MaxBatchEvents = 1000
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = 2
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	secret, err := cfg.Store.Secret(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	a := &API{
		cfg: cfg, store: cfg.Store, log: cfg.Log, secret: secret,
		uploads:  make(chan struct{}, cfg.MaxUploads),
		projects: map[string]*project{},
		loading:  map[string]*projectLoad{},
	}
	a.llm = newLLM(a, cfg.LLM)
	a.routes()
	return a, nil
}

func (a *API) routes() {
	m := http.NewServeMux()
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		m.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				a.fail(w, r, err)
			}
		})
	}
	handle("GET /api/v1/health", a.health)
	handle("POST /api/v1/snapshots", a.postSnapshot)
	handle("GET /api/v1/snapshots/{id}", a.getSnapshot)
	handle("POST /api/v1/projects", a.postProject)
	handle("GET /api/v1/projects/{p}", a.getProgress)
	handle("GET /api/v1/projects/{p}/tasks", a.getTasks)
	handle("POST /api/v1/projects/{p}/events", a.postEvents)
	handle("GET /api/v1/projects/{p}/events", a.getEvents)
	a.llmRoutes(m)
	// The same paths with other methods, and unknown paths, answer in JSON too.
	for _, p := range []string{"/api/v1/health", "/api/v1/snapshots", "/api/v1/snapshots/{id}",
		"/api/v1/projects", "/api/v1/projects/{p}", "/api/v1/projects/{p}/tasks", "/api/v1/projects/{p}/events"} {
		handle(p, func(w http.ResponseWriter, r *http.Request) error {
			return errorf(http.StatusMethodNotAllowed, codeMethod, "%s is not allowed on %s", r.Method, routeOf(r))
		})
	}
	handle("/", func(w http.ResponseWriter, r *http.Request) error {
		return errorf(http.StatusNotFound, codeNotFound, "no such API endpoint; see docs/server.md")
	})
	a.mux = m
}

// ServeHTTP serves the API. A panic in a handler is logged and answered with a 500
// (fuzzing checks that none happens).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.fail(w, r, fmt.Errorf("panic: %v", v))
		}
	}()
	if a.closing.Load() && r.Method != http.MethodGet && r.Method != http.MethodHead {
		if isLLMPath(r.URL.Path) {
			a.writeOAIError(w, r, errShuttingDown)
		} else {
			a.fail(w, r, errShuttingDown)
		}
		return
	}
	a.mux.ServeHTTP(w, r)
}

// StartShutdown makes new writes answer 503 while those in flight finish (the
// http.Server's Shutdown waits for them).
func (a *API) StartShutdown() { a.closing.Store(true) }

func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.Ping(r.Context()); err != nil {
		a.log.Error("store unreachable", slog.Any("err", err))
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the store does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

// readBody reads a request body of at most limit bytes: 413 when Content-Length
// says more (before reading anything) or when the body turns out longer.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
			"the %s is %d bytes; this server takes at most %d", what, r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
			"the %s is longer than %d bytes, the most this server takes", what, limit)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, codeBadRequest, "read the %s: %v (the body was cut short)", what, err)
	}
	return body, nil
}

// baseURL is the scheme, host and prefix of links in answers.
func (a *API) baseURL(r *http.Request) string {
	if a.cfg.PublicURL != "" {
		return a.cfg.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// routeOf names a request's route without its ids, for logs and messages: ids of
// snapshots are capabilities and must not land in logs.
func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		if _, p, ok := strings.Cut(r.Pattern, " "); ok {
			return p
		}
		return r.Pattern
	}
	return RedactPath(r.URL.Path)
}

// RedactPath replaces the ids in a URL path by placeholders (/s/{id},
// /api/v1/snapshots/{id}, /api/v1/projects/{p}/…), for access logs.
func RedactPath(p string) string {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		switch parts[i-1] {
		case "s", "snapshots":
			parts[i] = "{id}"
		case "projects":
			parts[i] = "{p}"
		}
	}
	return strings.Join(parts, "/")
}

// checkAdmin enforces the admin token when one is configured.
func (a *API) checkAdmin(r *http.Request, what string) error {
	if a.cfg.AdminToken == "" {
		return nil
	}
	tok := bearer(r)
	if tok == "" {
		return errorf(http.StatusUnauthorized, codeUnauthorized,
			"%s needs the server's admin token: send it as 'Authorization: Bearer TOKEN'", what)
	}
	if !sameHash(hashToken(tok), hashToken(a.cfg.AdminToken)) {
		return errorf(http.StatusForbidden, codeForbidden, "%s needs the server's admin token; this token is not it", what)
	}
	return nil
}
