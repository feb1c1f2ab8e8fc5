package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	ui "prefer/app"
	"prefer/server/api"
	"prefer/server/store"
	"prefer/server/store/embedded"
	"prefer/server/store/postgres"
	"prefer/static"
)

func init() {
	register(&command{
		name: "serve",
		usage: "serve [--addr :8080] [--data DIR] [--store embedded|postgres] [--dsn DSN] [--public-url URL] [--max-snapshot MiB] [--private-uploads] [--quiet]\n" +
			"              [--max-rater-events N] [--max-rater-bytes MiB]\n" +
			"              [--lm FILE]... [--llm-upstream URL] [--llm-upstream-key-env NAME] [--llm-upstream-models LIST] [--llm-upstream-concurrency N]\n" +
			"              [--llm-upstream-timeout D] [--llm-concurrency N] [--llm-queue N] [--llm-max-n N] [--llm-max-tokens N]",
		summary: "serve the workbench, the snapshot store, rater sync and OpenAI-compatible model endpoints over HTTP",
		run:     untilInterrupted(serve),
	})
}

// Environment variables read by serve. Secrets come from the environment, not from
// flags, which other users of the machine can read in the process list.
const (
	envAdminToken = "PREFER_ADMIN_TOKEN" // required to create projects (and upload, with --private-uploads)
	envDSN        = "PREFER_DSN"         // PostgreSQL DSN when --dsn is not given
)

// shutdownGrace is how long a stopping server waits for requests in flight.
const shutdownGrace = 30 * time.Second

// serve runs the server until ctx is done, then stops gracefully: new writes are
// refused with 503, requests in flight finish (each write is committed before it is
// answered), and the store is closed last.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", ":8080", "address to listen on (host:port; port 0 picks a free one)")
	data := fs.String("data", "prefer-data", "directory of the embedded store")
	kind := fs.String("store", "embedded", "store: embedded (one file under --data) or postgres (--dsn)")
	dsn := fs.String("dsn", "", "PostgreSQL connection string for --store postgres (or set "+envDSN+")")
	publicURL := fs.String("public-url", "", "scheme, host and path prefix of links in answers, when behind a proxy (default: from each request)")
	maxSnap := fs.Int64("max-snapshot", 64, "largest snapshot upload, in MiB")
	raterEvents := fs.Int64("max-rater-events", api.DefaultRaterEvents,
		"storage quota of each rater in a project: most events a rater's token may store (a week of a judgment every 2 s, 8 h a day; the lead's token has none)")
	raterMiB := fs.Int64("max-rater-bytes", api.DefaultRaterBytes>>20,
		"storage quota of each rater in a project: most MiB of stored events (their JSON) a rater's token may store")
	private := fs.Bool("private-uploads", false, "require the admin token ("+envAdminToken+") to upload snapshots")
	quiet := fs.Bool("quiet", false, "no access log")
	llmf := addLLMFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("serve takes no arguments, only flags")
	}
	if *maxSnap < 1 || *maxSnap > 1<<14 {
		return usagef("--max-snapshot %d: give a size in MiB from 1 to 16384", *maxSnap)
	}
	if *raterEvents < 1 || *raterEvents > 1e9 {
		return usagef("--max-rater-events %d: give a number of events from 1 to 1000000000", *raterEvents)
	}
	if *raterMiB < 1 || *raterMiB > 1<<20 {
		return usagef("--max-rater-bytes %d: give a size in MiB from 1 to 1048576", *raterMiB)
	}
	adminToken := os.Getenv(envAdminToken)
	if *private && adminToken == "" {
		return usagef("--private-uploads needs an admin token: set %s", envAdminToken)
	}
	llmCfg, llmNotes, err := llmf.config(webFS())
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	st, where, err := openStore(ctx, *kind, *data, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()

	a, err := api.New(ctx, api.Config{
		Store: st, MaxSnapshotBytes: *maxSnap << 20, PublicURL: *publicURL,
		MaxRaterEvents: *raterEvents, MaxRaterBytes: *raterMiB << 20,
		AdminToken: adminToken, PrivateUploads: *private, Log: log, LLM: llmCfg,
	})
	if err != nil {
		return err
	}
	assets, err := api.NewAssets(webFS(), "")
	if err != nil {
		return err
	}
	site := &api.Site{API: a, Assets: assets}
	if !*quiet {
		site.AccessLog = log
	}
	var notes []string
	if assets.Has("app.wasm") {
		h := appHandler(assets, nil)
		if missing := assets.Missing(h.CacheableResources); len(missing) > 0 {
			notes = append(notes, fmt.Sprintf("warning: the offline cache lists files this build lacks (%s): the app will not install offline; run 'make build'", strings.Join(missing, ", ")))
		}
		site.App = h
	} else {
		notes = append(notes, "warning: the workbench is not built into this binary (no web/app.wasm): run 'make build'; the API works")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using the port? pick another with --addr)", *addr, err)
	}
	base := "http://" + displayAddr(ln.Addr())
	if *publicURL != "" {
		base = strings.TrimSuffix(*publicURL, "/")
	}
	fmt.Fprintf(stdout, "Prefer serves %s/ (store: %s)\n", base, where)
	if demo, err := storeDemo(ctx, a, assets, base); err != nil {
		notes = append(notes, "warning: the demo snapshot was not stored: "+err.Error())
	} else if demo != "" {
		fmt.Fprintf(stdout, "demo snapshot: %s\n", demo)
	}
	if adminToken == "" {
		fmt.Fprintf(stdout, "anyone who reaches this server may create projects; set %s to require a token\n", envAdminToken)
	}
	fmt.Fprintf(stdout, "OpenAI-compatible endpoints: %s/v1 (%s; docs/models.md)\n", base, plural(len(llmCfg.Models), "model"))
	notes = append(notes, llmNotes...)
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}

	srv := &http.Server{
		Handler:           site.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Minute, // a 64 MiB upload on a slow link
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "stopping: finishing requests in flight")
	a.StartShutdown()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("close the store: %w", err)
	}
	fmt.Fprintln(stdout, "stopped")
	return nil
}

// openStore opens the chosen store and describes where it lives.
func openStore(ctx context.Context, kind, data, dsn string) (store.Store, string, error) {
	switch kind {
	case "embedded":
		st, err := embedded.Open(data)
		if err != nil {
			return nil, "", err
		}
		return st, "embedded, " + data + "/" + embedded.FileName, nil
	case "postgres":
		if dsn == "" {
			dsn = os.Getenv(envDSN)
		}
		if dsn == "" {
			return nil, "", usagef("--store postgres needs --dsn or %s (postgres://user@host:5432/db)", envDSN)
		}
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err := postgres.Open(octx, postgres.Config{DSN: dsn})
		if err != nil {
			return nil, "", fmt.Errorf("%w (check --dsn and that PostgreSQL is running)", err)
		}
		return st, "postgres", nil
	}
	return nil, "", usagef("--store %q: use embedded or postgres", kind)
}

// displayAddr turns a listening address into one a browser can open.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// storeDemo stores the embedded demo snapshot, so that /s/{id} opens it, and
// returns its link ("" when the build has none).
func storeDemo(ctx context.Context, a *api.API, assets *api.Assets, base string) (string, error) {
	if !assets.Has("demo.snap") {
		return "", nil
	}
	f, err := assets.Open("demo.snap")
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	res, _, err := a.StoreSnapshot(ctx, data, base)
	if err != nil {
		return "", err
	}
	return res.URL, nil
}

// webFS returns the web directory served (the embedded one; tests replace it).
var webFS = static.Web

var routesOnce sync.Once

// appHandler returns the workbench's go-app handler (package app) configured to
// serve assets: Resources, Version and the raw-length header. edit, if not nil,
// adjusts it before the first request (export-site uses it for path prefixes).
func appHandler(assets *api.Assets, edit func(*goapp.Handler)) *goapp.Handler {
	routesOnce.Do(ui.Routes)
	h := ui.NewHandler()
	assets.Configure(h)
	if edit != nil {
		edit(h)
	}
	return h
}
