package api

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/wire"
	"prefer/server/store/teststore"
)

func TestAssetsEncoding(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), nil)
	cases := []struct {
		accept, wantEncoding, wantBody string
	}{
		{"br, gzip", "br", "brotli bytes"},
		{"gzip, deflate, br;q=0.5", "gzip", "gzip bytes"},
		{"gzip;q=0, br;q=0", "", "\x00asm fake wasm module"},
		{"identity", "", "\x00asm fake wasm module"},
		{"*", "br", "brotli bytes"},
		{"br;q=0, *", "gzip", "gzip bytes"},
		{"", "", "\x00asm fake wasm module"},
		{"x-gzip", "gzip", "gzip bytes"},
		{"br;q=bogus, gzip", "gzip", "gzip bytes"},
	}
	for _, c := range cases {
		// An empty Accept-Encoding must reach the server empty: Go's transport
		// would add gzip itself.
		a := e.do("GET", "/web/app.wasm", "", "", nil, "Accept-Encoding", c.accept)
		if c.accept == "" {
			a = e.do("GET", "/web/app.wasm", "", "", nil, "Accept-Encoding", "identity")
		}
		wantStatus(t, a, 200)
		if got := a.header.Get("Content-Encoding"); got != c.wantEncoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", c.accept, got, c.wantEncoding)
		}
		if string(a.body) != c.wantBody {
			t.Errorf("Accept-Encoding %q: body %q", c.accept, a.body)
		}
		if a.header.Get("Vary") != "Accept-Encoding" || a.header.Get("Content-Type") != "application/wasm" {
			t.Errorf("headers %v", a.header)
		}
		if c.wantEncoding != "" && a.header.Get(HeaderRawLength) != "21" {
			t.Errorf("raw length header %q, want 21", a.header.Get(HeaderRawLength))
		}
	}
}

func TestAssetsCaching(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), nil)
	assets, _ := NewAssets(testAssets, "")
	hashed := assets.WasmName()
	if !strings.HasPrefix(hashed, "app-") || len(hashed) != len("app-0123456789abcdef.wasm") {
		t.Fatalf("content-addressed name %q", hashed)
	}
	a := e.do("GET", "/web/"+hashed, "", "", nil, "Accept-Encoding", "br")
	wantStatus(t, a, 200)
	if got := a.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Fatalf("hashed wasm Cache-Control %q", got)
	}
	plain := e.do("GET", "/web/app.css", "", "", nil)
	wantStatus(t, plain, 200)
	if got := plain.header.Get("Cache-Control"); got != "no-cache" {
		t.Fatalf("app.css Cache-Control %q, want no-cache", got)
	}
	if plain.header.Get("Content-Type") != "text/css; charset=utf-8" || plain.header.Get("Vary") != "" {
		t.Fatalf("app.css headers %v", plain.header)
	}
	etag := plain.header.Get("ETag")
	if nm := e.do("GET", "/web/app.css", "", "", nil, "If-None-Match", etag); nm.status != 304 {
		t.Fatalf("If-None-Match: %d", nm.status)
	}
	if a := e.do("GET", "/web/../../go.mod", "", "", nil); strings.Contains(string(a.body), "module prefer") {
		t.Fatal("path traversal reached a file outside the web directory")
	}
	for _, p := range []string{"/web/app.wasm.br", "/web/nope.js", "/web/%2e%2e/x", "/web/"} {
		if a := e.do("GET", p, "", "", nil); a.status != 404 {
			t.Errorf("%s: %d, want 404", p, a.status)
		}
	}
	if a := e.do("POST", "/web/app.css", "", "", nil); a.status != 405 {
		t.Errorf("POST asset: %d", a.status)
	}
	// Version changes with any file and only then.
	v1 := assets.Version()
	again, _ := NewAssets(testAssets, "")
	changed := fstest.MapFS{}
	for k, v := range testAssets {
		changed[k] = v
	}
	changed["app.css"] = &fstest.MapFile{Data: []byte("body{color:red}")}
	v3, _ := NewAssets(changed, "")
	if again.Version() != v1 || v3.Version() == v1 {
		t.Fatalf("versions %s %s %s", v1, again.Version(), v3.Version())
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, teststore.Open(t, "embedded"), nil)
	for _, p := range []string{"/", "/s/0123456789abcdef0123456789abcdef", "/web/app.css", "/api/v1/health", "/api/v1/snapshots/zz"} {
		a := e.do("GET", p, "", "", nil)
		if a.header.Get("Content-Security-Policy") != CSP || a.header.Get("X-Content-Type-Options") != "nosniff" ||
			a.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, a.header)
		}
	}
	if a := e.do("GET", "/s/0123456789abcdef0123456789abcdef", "", "", nil); a.status != 200 || !strings.Contains(string(a.body), "stand-in app") {
		t.Fatalf("/s/{id} did not reach the app: %d %s", a.status, a.body)
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'"} {
		if !strings.Contains(CSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	if strings.Contains(CSP, "unsafe-eval'") && !strings.Contains(CSP, "wasm-unsafe-eval") {
		t.Error("CSP allows eval")
	}
}

// TestGoAppHandler serves a real go-app handler configured by Assets: its page
// loads the content-addressed wasm, and /app.wasm reaches the assets.
func TestGoAppHandler(t *testing.T) {
	assets, err := NewAssets(testAssets, "")
	if err != nil {
		t.Fatal(err)
	}
	goapp.Route("/", &standIn{})
	goapp.RouteWithRegexp(`^/s/[A-Za-z0-9._-]+$`, &standIn{})
	h := &goapp.Handler{Name: "Prefer test", Icon: goapp.Icon{Default: "/web/icon.png", SVG: "/web/icon.svg"}}
	assets.Configure(h)
	if h.Version != assets.Version() || h.WasmContentLengthHeader != HeaderRawLength {
		t.Fatal("Configure did not set Version and WasmContentLengthHeader")
	}
	e := newEnv(t, teststore.Open(t, "embedded"), nil)
	e.srv.Config.Handler = (&Site{API: e.api, Assets: assets, App: h}).Handler()

	js := e.do("GET", "/app.js", "", "", nil)
	wantStatus(t, js, 200)
	if !strings.Contains(string(js.body), "/web/"+assets.WasmName()) || !strings.Contains(string(js.body), HeaderRawLength) {
		t.Fatal("app.js does not load the content-addressed wasm with the raw-length header")
	}
	page := e.do("GET", "/s/0123456789abcdef0123456789abcdef", "", "", nil)
	wantStatus(t, page, 200)
	if !strings.Contains(string(page.body), "stand-in") {
		t.Fatalf("page: %s", page.body)
	}
	wasm := e.do("GET", "/app.wasm", "", "", nil, "Accept-Encoding", "gzip")
	if wasm.status != 200 || string(wasm.body) != "gzip bytes" {
		t.Fatalf("/app.wasm: %d %q", wasm.status, wasm.body)
	}
	if got := assets.Missing([]string{"/web/app.css", "/web/worker.js", "/lesson", "/web/" + assets.WasmName()}); len(got) != 1 || got[0] != "/web/worker.js" {
		t.Fatalf("Missing = %v", got)
	}
}

type standIn struct{ goapp.Compo }

func (*standIn) Render() goapp.UI { return goapp.Div().Text("stand-in") }

// TestLogsHoldNoSecrets runs requests carrying tokens and share ids through a site
// with an access log and an error log, and checks that neither holds them.
func TestLogsHoldNoSecrets(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	e := newEnv(t, teststore.Open(t, "embedded"), func(c *Config) { c.Log = log })
	assets, _ := NewAssets(testAssets, "")
	e.srv.Config.Handler = (&Site{API: e.api, Assets: assets, AccessLog: log}).Handler()
	p := e.project(wire.NewProject{RaterCount: 1})
	snapID := p.Snapshot
	tok := p.Raters[0].Token
	e.do("GET", "/api/v1/projects/"+p.ID+"/tasks", tok, "", nil)
	e.do("GET", "/api/v1/projects/"+p.ID+"/events?since=1", p.LeadToken, "", nil)
	e.do("GET", "/api/v1/snapshots/"+snapID, "", "", nil)
	e.do("GET", "/s/"+snapID, "", "", nil)
	e.do("GET", "/api/v1/projects/"+p.ID+"/tasks", "prf_wrong-token", "", nil)
	out := logs.String()
	if !strings.Contains(out, "/api/v1/projects/{p}/tasks") || !strings.Contains(out, "status=403") {
		t.Fatalf("access log lacks the requests:\n%s", out)
	}
	for _, secret := range []string{tok, p.LeadToken, snapID, p.ID, "prf_wrong-token", "since=1"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}
