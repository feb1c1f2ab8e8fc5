package api

import (
	"log/slog"
	"net/http"
	"time"
)

// CSP is the Content-Security-Policy of every answer. It allows what the workbench
// needs and nothing else:
//
//   - default-src 'none': nothing unless listed below;
//   - script-src 'self' 'wasm-unsafe-eval': go-app's app.js and wasm_exec.js from
//     this origin, and compiling WebAssembly (no inline script, no eval);
//   - style-src 'self' 'unsafe-inline': the app's CSS, and the style attributes go-app
//     sets on elements (Style(…) writes a style attribute);
//   - img-src 'self' data: blob:: icons, and images the app draws or exports;
//   - font-src, manifest-src 'self'; connect-src 'self': the API, the wasm and the
//     snapshots are fetched from this origin only;
//   - worker-src 'self': the service worker (offline start) and the training worker;
//   - base-uri 'none', form-action 'none', object-src 'none', frame-ancestors 'none':
//     no base-tag hijack, no form posts, no plugins, no framing (clickjacking).
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'none'; object-src 'none'; frame-ancestors 'none'"

// Site is the whole server: the API under /api/, the static files under /web/, and
// the go-app workbench for every other path (including /s/{id}).
type Site struct {
	API    *API
	Assets *Assets
	// App serves the pages (the go-app handler configured by Assets.Configure).
	// When nil, pages answer 503 saying that the app is not built.
	App http.Handler
	// AccessLog, when not nil, gets one line per request: method, route with ids
	// redacted, status, size and duration. Never headers, queries or bodies.
	AccessLog *slog.Logger
}

// Handler returns the site's handler.
func (s *Site) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", s.API)
	mux.Handle("/v1/", s.API)
	if s.Assets != nil {
		mux.Handle("/web/", s.Assets)
	}
	app := s.App
	if app == nil {
		app = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "The workbench is not built into this binary: run 'make build', then start the server again. The API under /api/v1/ works.", http.StatusServiceUnavailable)
		})
	}
	mux.Handle("/", pagesOnly(app))
	var h http.Handler = mux
	h = securityHeaders(h)
	if s.AccessLog != nil {
		h = accessLog(s.AccessLog, h)
	}
	return h
}

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// pagesOnly answers 405 to any method but GET and HEAD on a page: pages are only
// read (the API is under /api/).
func pagesOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, r.Method+" is not allowed on a page of the workbench; the API is under /api/v1/ (docs/server.md)", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status and size of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := RedactPath(r.URL.Path)
		log.Info("request", slog.String("method", r.Method), slog.String("path", route),
			slog.Int("status", sw.status), slog.Int64("bytes", sw.n),
			slog.Duration("took", time.Since(start).Round(time.Microsecond)))
	})
}
