package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/client"
	"prefer/server/store"
)

// fixedNow is the server clock in tests: 2026-01-02T03:04:05Z.
var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture returns a snapshot of 8 items with responses a, b, c; q7 and q8 are gold
// items (best response a; gold utilities a 3, b 2, c 1, so every pair has a gold
// order), the others have equal utilities.
func fixture() *snapshot.Snapshot {
	s := &snapshot.Snapshot{
		Provenance: snapshot.Provenance{Tool: "test"},
		Guidelines: []feedback.Guideline{{Version: 1, Text: "Prefer the correct answer."}},
	}
	for i := 1; i <= 8; i++ {
		it := feedback.Item{ID: fmt.Sprintf("q%d", i), Prompt: fmt.Sprintf("prompt %d", i)}
		for k, r := range []string{"a", "b", "c"} {
			g := 1.0
			if i >= 7 {
				g = float64(3 - k)
			}
			it.Responses = append(it.Responses, feedback.Response{ID: r, Text: "answer " + r, Gold: &g, Parts: []string{"secret-part"}})
		}
		if i >= 7 {
			it.GoldBest = "a"
		}
		s.Items = append(s.Items, it)
	}
	return s
}

func fixtureBytes(tb testing.TB) []byte {
	tb.Helper()
	data, err := snapshot.Marshal(fixture())
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// testAssets is a web directory with a precompressed app.wasm.
var testAssets = fstest.MapFS{
	"app.wasm":    {Data: []byte("\x00asm fake wasm module")},
	"app.wasm.br": {Data: []byte("brotli bytes")},
	"app.wasm.gz": {Data: []byte("gzip bytes")},
	"app.css":     {Data: []byte("body{}")},
	"demo.snap":   {Data: []byte("demo")},
}

// env is a running test server over one store.
type env struct {
	t     *testing.T
	api   *API
	srv   *httptest.Server
	store store.Store
}

func newEnv(t *testing.T, st store.Store, mod func(*Config)) *env {
	t.Helper()
	cfg := Config{Store: st, Now: func() time.Time { return fixedNow }, MaxSnapshotBytes: 1 << 20}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	assets, err := NewAssets(testAssets, "")
	if err != nil {
		t.Fatal(err)
	}
	site := &Site{API: a, Assets: assets, App: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!DOCTYPE html><title>stand-in app</title>"+r.URL.Path)
	})}
	srv := httptest.NewServer(site.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, api: a, srv: srv, store: st}
}

func (e *env) client(token string) *client.Client {
	c := client.New(e.srv.URL, token)
	c.HTTP = e.srv.Client()
	return c
}

// answer is a raw HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// errBody decodes an error answer.
func (a answer) err(tb testing.TB) wire.Error {
	tb.Helper()
	var e wire.Error
	if err := json.Unmarshal(a.body, &e); err != nil {
		tb.Fatalf("error answer is not JSON: %v: %s", err, a.body)
	}
	if e.Code == "" || e.Message == "" {
		tb.Fatalf("error answer without code or message: %s", a.body)
	}
	return e
}

func (e *env) do(method, path, token, ctype string, body []byte, hdr ...string) answer {
	e.t.Helper()
	return doReq(e.t, e.srv, method, path, token, ctype, body, hdr...)
}

func doReq(tb testing.TB, srv *httptest.Server, method, path, token, ctype string, body []byte, hdr ...string) answer {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// wantStatus fails unless a has the given status; for 4xx and 5xx it also checks
// the JSON error body and returns it.
func wantStatus(tb testing.TB, a answer, status int) wire.Error {
	tb.Helper()
	if a.status != status {
		tb.Fatalf("status %d, want %d: %s", a.status, status, a.body)
	}
	if status >= 400 {
		return a.err(tb)
	}
	return wire.Error{}
}

// project pushes the fixture and creates a project of 3 raters with overlap 2.
func (e *env) project(req wire.NewProject) wire.ProjectCreated {
	e.t.Helper()
	ctx := context.Background()
	snap, _, err := e.client("").PushSnapshot(ctx, fixtureBytes(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Snapshot = snap.ID
	if req.RaterCount == 0 && req.Raters == nil {
		req.RaterCount = 3
	}
	p, err := e.client("").CreateProject(ctx, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// compare returns a valid compare judgment of rater on item.
func compare(id, rater, item string, choice feedback.Choice) feedback.Judgment {
	return feedback.Judgment{ID: id, Kind: feedback.KindCompare, Item: item, Rater: rater,
		Time: fixedNow.UnixMilli() - 1000, A: "a", B: "b", Choice: choice, Left: "a"}
}

func msgpackBatch(tb testing.TB, js ...feedback.Judgment) []byte {
	tb.Helper()
	data, err := wire.EncodeEventsMsgpack(js)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func jsonBatch(tb testing.TB, js ...feedback.Judgment) []byte {
	tb.Helper()
	data, err := wire.EncodeEventsJSON(js)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
