package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"prefer/server/store"
)

// The default storage quota of a rater in a project (Config.MaxRaterEvents and
// MaxRaterBytes). A fast rater — a judgment every 2 s for 8 hours — makes 14,400
// events a day; 100,000 is a week of that without a break. Such events take 150–400
// bytes of JSON (a compare with a short note ~400); 256 MiB holds 100,000 events of
// 2.6 KiB each on average (every one with a 2 KiB note or rewrite), or 3,500 events
// at the field caps. Real labeling reaches neither; a runaway or hostile client is
// stopped at 256 MiB per rater instead of at the disk's size.
const (
	DefaultRaterEvents = 100_000
	DefaultRaterBytes  = 256 << 20
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
	// MaxUploads bounds the snapshot uploads decoded at once (each may need up to
	// UploadBudgetFactor times its size in memory); others wait up to SlotWait for a
	// turn, then get 503 with Retry-After. Default 2.
	MaxUploads int
	// MaxUploadBodies bounds the upload bodies being received at once (each held in
	// memory, at most MaxSnapshotBytes); a body is read before a decode slot is
	// taken, so a slow client never holds one. Default 4 × MaxUploads.
	MaxUploadBodies int
	// MinUploadRate is the slowest an upload body may arrive, in bytes per second,
	// after a 10 s grace: a body must be whole by 10 s + size/MinUploadRate, or the
	// request gets 408. Default 64 KiB/s (a 64 MiB upload may take 17 minutes).
	MinUploadRate int64
	// MaxEventDecodes bounds the events batches decoded and checked at once; others
	// wait up to SlotWait, then get 503 with Retry-After. Default 8.
	MaxEventDecodes int
	// MaxBatchesBytes bounds the events-batch bodies in memory at once, each counted
	// at its Content-Length (MaxBatchBytes without one); others wait up to SlotWait,
	// then get 503. Default 64 MiB: 16 batches at the 4 MiB limit, thousands of
	// real ones (a batch of 20 judgments is ~4 KB).
	MaxBatchesBytes int64
	// SlotWait is how long a request waits for an upload or decode slot. Default 10 s.
	SlotWait time.Duration
	// MaxCacheBytes bounds the decoded projects kept in memory, by their estimated
	// size (CacheCostFactor × the snapshot's bytes); the least recently used go first.
	// A project larger than the whole bound is still served, and cached alone.
	// Default 256 MiB.
	MaxCacheBytes int64
	// MaxPageBytes bounds the event bodies of one events page (at least one event is
	// sent); the page ends early with more=true. Default 4 MiB.
	MaxPageBytes int
	// MaxClockSkew is how far in the future of the server's clock an event's time
	// may be. Default 24 h.
	MaxClockSkew time.Duration
	// MaxRaterEvents and MaxRaterBytes are the storage quota of each rater of a
	// project: the events a rater's token may store in it, and the bytes of their
	// stored bodies (the events' JSON). A batch that would pass either is refused
	// whole with 413 quota_exceeded. The lead's token has no quota. Defaults
	// DefaultRaterEvents and DefaultRaterBytes.
	MaxRaterEvents int64
	MaxRaterBytes  int64

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
	uploads chan struct{} // semaphore of snapshot decodes
	bodies  chan struct{} // semaphore of upload bodies being read
	decodes chan struct{} // semaphore of events-batch decodes

	batchBytes  *semaphore.Weighted // bytes of events-batch bodies in flight
	uploadGrace time.Duration       // added to a body's deadline: 10 s
	closing     atomic.Bool
	llm         *llm

	mu          sync.Mutex
	projects    map[string]*project                  // cache of immutable projects
	loading     map[string]*loadCall[*project]       // loads in progress
	records     map[string]*store.Project            // project records (token checks), at most maxRecordBytes
	recordBytes int64                                // their estimated size
	recordLoads map[string]*loadCall[*store.Project] // record reads in progress
	cacheBytes  int64                                // estimated size of the cached projects
	useClock    int64                                // ticks of project use, for LRU eviction
}

// UploadBudgetFactor bounds the memory of decoding an uploaded snapshot: at most
// this many times its size (snapshot.Options.BudgetFactor). Real snapshots decode to
// 1.3–2.6× (core/snapshot's TestDecodeCostOfRealSnapshots), so 8× refuses only files
// of near-empty records, which Prefer never writes.
const UploadBudgetFactor = 8

// CacheCostFactor estimates a cached project's memory from its snapshot's size:
// decoding takes ~2.6× (see UploadBudgetFactor) and the item index a little more.
const CacheCostFactor = 3

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
	if cfg.MaxUploadBodies <= 0 {
		cfg.MaxUploadBodies = 4 * cfg.MaxUploads
	}
	if cfg.MinUploadRate <= 0 {
		cfg.MinUploadRate = 64 << 10
	}
	if cfg.MaxEventDecodes <= 0 {
		cfg.MaxEventDecodes = 8
	}
	if cfg.MaxBatchesBytes <= 0 {
		cfg.MaxBatchesBytes = 64 << 20
	}
	if cfg.MaxBatchesBytes < cfg.MaxBatchBytes {
		cfg.MaxBatchesBytes = cfg.MaxBatchBytes
	}
	if cfg.SlotWait <= 0 {
		cfg.SlotWait = 10 * time.Second
	}
	if cfg.MaxCacheBytes <= 0 {
		cfg.MaxCacheBytes = 256 << 20
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = 4 << 20
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = 24 * time.Hour
	}
	if cfg.MaxRaterEvents <= 0 {
		cfg.MaxRaterEvents = DefaultRaterEvents
	}
	if cfg.MaxRaterBytes <= 0 {
		cfg.MaxRaterBytes = DefaultRaterBytes
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
		uploads: make(chan struct{}, cfg.MaxUploads),
		bodies:  make(chan struct{}, cfg.MaxUploadBodies),
		decodes: make(chan struct{}, cfg.MaxEventDecodes),

		batchBytes:  semaphore.NewWeighted(cfg.MaxBatchesBytes),
		uploadGrace: 10 * time.Second,
		projects:    map[string]*project{},
		loading:     map[string]*loadCall[*project]{},
		records:     map[string]*store.Project{},
		recordLoads: map[string]*loadCall[*store.Project]{},
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
// says more (before reading anything) or when the body turns out longer, 408 when
// it has not arrived by the connection's read deadline.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
			"the %s is %d bytes; this server takes at most %d", what, r.ContentLength, limit)
	}
	var body []byte
	var err error
	if r.ContentLength > 0 {
		// Read into a buffer of the announced size (io.ReadAll would grow one ~2×).
		// net/http never reads past the Content-Length.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return nil, errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
			"the %s is longer than %d bytes, the most this server takes", what, limit)
	case errors.As(err, &ne) && ne.Timeout():
		return nil, errorf(http.StatusRequestTimeout, codeTimeout,
			"the %s arrived too slowly (docs/server.md gives the least rate this server takes): send it again on a faster link", what)
	case err != nil:
		return nil, errorf(http.StatusBadRequest, codeBadRequest, "read the %s: %v (the body was cut short)", what, err)
	}
	return body, nil
}

// readBodyPaced is readBody under a read deadline that a client sending at
// MinUploadRate meets: 10 s, and the body's size (or limit, when not announced) at
// that rate. A slower body gets 408.
func (a *API) readBodyPaced(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, error) {
	size := r.ContentLength
	if size < 0 || size > limit {
		size = limit
	}
	deadline := time.Now().Add(a.uploadGrace + time.Duration(size)*time.Second/time.Duration(a.cfg.MinUploadRate))
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(deadline) // not every ResponseWriter can; then the server's ReadTimeout holds
	defer rc.SetReadDeadline(time.Time{})
	return readBody(w, r, limit, what)
}

// acquireBytes waits up to SlotWait for n bytes of batch bodies in flight; then
// 503 with Retry-After. The returned function gives them back.
func (a *API) acquireBytes(ctx context.Context, n int64) (func(), error) {
	if a.batchBytes.TryAcquire(n) {
		return func() { a.batchBytes.Release(n) }, nil
	}
	wctx, cancel := context.WithTimeout(ctx, a.cfg.SlotWait)
	defer cancel()
	if err := a.batchBytes.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e := errorf(http.StatusServiceUnavailable, codeBusy,
			"the server is busy with other events batches (%d MiB of them at once); retry in a few seconds", a.cfg.MaxBatchesBytes>>20)
		e.retryAfter = 5
		return nil, e
	}
	return func() { a.batchBytes.Release(n) }, nil
}

// acquire waits up to SlotWait for a place in sem; then 503 with Retry-After. The
// returned function gives the place back.
func (a *API) acquire(ctx context.Context, sem chan struct{}, what string) (func(), error) {
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	default:
	}
	t := time.NewTimer(a.cfg.SlotWait)
	defer t.Stop()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-t.C:
		e := errorf(http.StatusServiceUnavailable, codeBusy,
			"the server is busy with other %s (%d at once); retry in a few seconds", what, cap(sem))
		e.retryAfter = 5
		return nil, e
	case <-ctx.Done():
		return nil, ctx.Err()
	}
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

// maxLoggedPath bounds a path in the access log; maxLoggedSegment a segment of it.
const (
	maxLoggedPath    = 96
	maxLoggedSegment = 32
)

// RedactPath replaces the ids in a URL path by placeholders (/s/{id},
// /api/v1/snapshots/{id}, /p/{p}, /api/v1/projects/{p}/…), any other segment longer
// than 32 bytes by {long}, and cuts the result at 96 bytes, for access logs: ids of
// snapshots and projects are capabilities, and a client must not be able to write
// what it likes into the log.
func RedactPath(p string) string {
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		switch parts[i-1] {
		case "s", "snapshots":
			parts[i] = "{id}"
			continue
		case "p", "projects":
			if i == 2 || parts[i-2] == "v1" { // /p/{p}…, /api/v1/projects/{p}…
				parts[i] = "{p}"
				continue
			}
		}
		if len(parts[i]) > maxLoggedSegment {
			parts[i] = "{long}"
		}
	}
	out := strings.Join(parts, "/")
	if len(out) > maxLoggedPath {
		out = out[:maxLoggedPath] + "…"
	}
	return out
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
