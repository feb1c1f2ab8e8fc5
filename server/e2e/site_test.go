package e2e

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// pagesServer serves dir under prefix as GitHub Pages does: the prefix alone
// redirects to prefix/, a path without an extension is served from its .html file,
// and anything missing gets 404.html with status 404. Everything else is net/http's
// FileServer.
func pagesServer(dir, prefix string) http.Handler {
	files := http.StripPrefix(prefix, http.FileServer(http.Dir(dir)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == prefix {
			http.Redirect(w, r, prefix+"/", http.StatusMovedPermanently)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, prefix+"/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		name := filepath.Join(dir, filepath.FromSlash(rest))
		if st, err := os.Stat(name); err == nil && (!st.IsDir() || fileExists(filepath.Join(name, "index.html"))) {
			files.ServeHTTP(w, r)
			return
		}
		if path.Ext(rest) == "" && fileExists(name+".html") {
			r2 := r.Clone(r.Context())
			r2.URL.Path += ".html"
			files.ServeHTTP(w, r2)
			return
		}
		page, err := os.ReadFile(filepath.Join(dir, "404.html"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write(page)
	})
}

func fileExists(name string) bool {
	st, err := os.Stat(name)
	return err == nil && !st.IsDir()
}

// smallSnapshot writes a small snapshot (4 items, 6 judgments by 2 raters) and
// returns its file and bytes.
func smallSnapshot(t *testing.T) (string, []byte) {
	t.Helper()
	s := &snapshot.Snapshot{Provenance: snapshot.Provenance{Tool: "e2e"}}
	for i := 1; i <= 4; i++ {
		s.Items = append(s.Items, feedback.Item{ID: fmt.Sprintf("q%d", i), Prompt: fmt.Sprintf("Question %d?", i),
			Responses: []feedback.Response{{ID: "a", Text: "A short answer."}, {ID: "b", Text: "A longer, more careful answer."}}})
	}
	s.Raters = []feedback.Rater{{ID: "ana", Kind: feedback.RaterHuman}, {ID: "bo", Kind: feedback.RaterHuman}}
	for i := 0; i < 6; i++ {
		s.Judgments = append(s.Judgments, feedback.Judgment{ID: fmt.Sprintf("j%d", i), Kind: feedback.KindCompare,
			Item: fmt.Sprintf("q%d", i%4+1), Rater: s.Raters[i%2].ID, A: "a", B: "b", Choice: feedback.ChoiceB, Time: int64(1000 + i)})
	}
	data, err := snapshot.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "small.snap")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file, data
}

// snapFragment is the #snap= fragment that carries data (the app's share link
// without a server: deflate, then unpadded base64url).
func snapFragment(t *testing.T, data []byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zw.Write(data)
	zw.Close()
	return "snap=" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// TestStaticSiteUnderPrefix exports the workbench with --base /repo, serves the
// directory under /repo/ with a plain file server (GitHub Pages' rules), and in
// Chromium: opens /repo/ (links stay under /repo), opens a snapshot published with
// the site (/repo/s/{id}, fetched from /repo/api/…) and one carried in the URL
// fragment, runs a job in the worker (its script and wasm under the prefix), then
// cuts the network and reloads: the app starts offline under the prefix, and a
// hard load of another page and of the snapshot page works offline too.
func TestStaticSiteUnderPrefix(t *testing.T) {
	bin := serverBinary(t)
	file, data := smallSnapshot(t)
	dir := filepath.Join(t.TempDir(), "site")
	out, err := exec.Command(bin, "export-site", dir, "--base", "/repo", "--snapshot", file, "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("prefer export-site: %v\n%s", err, out)
	}
	var rep struct {
		Snapshots []struct{ Path string } `json:"snapshots"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Snapshots) != 1 {
		t.Fatalf("export-site report %s: %v", out, err)
	}
	site := httptest.NewServer(pagesServer(dir, "/repo"))
	defer site.Close()

	b := newBrowser(t)
	b.nav(site.URL + "/repo/")
	b.ready()
	if p := eval[string](b, `location.pathname`); p != "/repo/" {
		b.fail("the app moved to %s", p)
	}
	if bad := eval[string](b, `[...document.querySelectorAll("a[href^='/']")].map(a => a.getAttribute("href")).filter(h => !h.startsWith("/repo/")).join(" ")`); bad != "" {
		b.fail("links outside the prefix: %s", bad)
	}
	// The service worker is installed (every page and file precached).
	eval[bool](b, `(navigator.serviceWorker.ready.then(() => { window.__swReady = true }), true)`)
	b.wait("the service worker to be installed", `window.__swReady`, time.Minute)

	// The snapshot published with the site, by its page.
	b.nav(site.URL + rep.Snapshots[0].Path)
	b.ready()
	b.wait("the published snapshot", `document.querySelector("#snapshot-msg[data-done=true]")`, time.Minute)
	if msg := b.text("#snapshot-msg"); !strings.HasPrefix(msg, "Opened") {
		b.fail("opening %s: %s", rep.Snapshots[0].Path, msg)
	}
	// A link of the page goes on under the prefix (go-app's client-side routing).
	b.click(`a.btn[href="/repo/quality"]`)
	b.wait("the quality page under the prefix", `location.pathname === "/repo/quality" && document.querySelector("#quality-report")`, 2*time.Minute)

	// A state carried in the link itself.
	b.nav(site.URL + "/repo/lesson") // leave the home page, so the next load is a fresh one
	b.ready()
	b.nav(site.URL + "/repo/#" + snapFragment(t, data))
	b.ready()
	b.wait("the state in the link", `(document.querySelector("#open-msg") || {}).innerText?.startsWith("Opened")`, time.Minute)
	if got := int(b.stats()["judgments"]); got != 6 {
		b.fail("the state in the link has %d judgments, want 6", got)
	}
	if p := eval[string](b, `location.pathname + location.hash`); p != "/repo/" {
		b.fail("after opening the link the address is %s, want /repo/", p)
	}
	b.shot("site-prefix-online")

	// Cut the network: the site's server goes away and the browser is offline.
	site.Close()
	b.offline(true)
	b.reload()
	b.ready()
	b.wait("the state offline", `document.querySelector("#state-summary")`, 30*time.Second)
	if got := int(b.stats()["judgments"]); got != 6 {
		b.fail("offline the state has %d judgments, want 6", got)
	}
	for _, p := range []string{"/repo/data", rep.Snapshots[0].Path} {
		b.nav(site.URL + p)
		b.ready()
	}
	b.wait("the published snapshot offline (from this browser)", `document.querySelector("#snapshot-msg[data-done=true]")`, time.Minute)
	if msg := b.text("#snapshot-msg"); !strings.HasPrefix(msg, "Opened") {
		b.fail("offline %s: %s", rep.Snapshots[0].Path, msg)
	}
	b.shot("site-prefix-offline")
}

// TestStaticSitePlainServer: the exported site works on a plain
// static file server — python3 -m http.server, which knows nothing of extensionless
// pages — under a sub-path: /prefer/data (a directory page, PATH/index.html) and a
// published /prefer/s/{id} open; the service worker installs (before, /prefer/data
// answered 404 and the all-or-nothing install failed silently); with the server gone
// and the browser offline a reload and hard loads of other pages still start the
// app; the pages carry no og:url of the exporting machine and let the user zoom.
func TestStaticSitePlainServer(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not here (make deps installs it with python3-numpy)")
	}
	bin := serverBinary(t)
	file, _ := smallSnapshot(t)
	root := t.TempDir()
	out, err := exec.Command(bin, "export-site", filepath.Join(root, "prefer"), "--base", "/prefer", "--snapshot", file, "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("prefer export-site: %v\n%s", err, out)
	}
	var rep struct {
		Snapshots []struct{ Path string } `json:"snapshots"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || len(rep.Snapshots) != 1 {
		t.Fatalf("export-site report %s: %v", out, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	srv := exec.Command(py, "-m", "http.server", strconv.Itoa(port), "--bind", "127.0.0.1", "--directory", root)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { srv.Process.Kill(); srv.Wait() }
	defer stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/prefer/"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("python3 -m http.server did not start")
		}
	}
	// The pages as served: no og:url of the exporting machine, zoom allowed.
	resp, err := http.Get(base + "/prefer/data")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/prefer/data/" {
		t.Fatalf("/prefer/data: HTTP %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}
	if strings.Contains(string(page), "og:url") || strings.Contains(string(page), "127.0.0.1") || strings.Contains(string(page), "user-scalable") || strings.Contains(string(page), "maximum-scale") {
		t.Errorf("the data page carries the exporting address or forbids zoom")
	}

	b := newBrowser(t)
	b.nav(base + "/prefer/")
	b.ready()
	eval[bool](b, `(navigator.serviceWorker.ready.then(() => { window.__swReady = true }), true)`)
	b.wait("the service worker to be installed", `window.__swReady`, time.Minute)
	b.nav(base + "/prefer/data")
	b.ready()
	b.wait("the data page", `document.querySelector("#import-format")`, time.Minute)
	b.nav(base + rep.Snapshots[0].Path)
	b.ready()
	b.wait("the published snapshot", `document.querySelector("#snapshot-msg[data-done=true]")`, time.Minute)
	if msg := b.text("#snapshot-msg"); !strings.HasPrefix(msg, "Opened") {
		b.fail("opening %s: %s", rep.Snapshots[0].Path, msg)
	}
	b.shot("site-plain-online")

	stop()
	b.offline(true)
	b.reload()
	b.ready()
	b.wait("the snapshot page offline", `document.querySelector("#main")`, time.Minute)
	for _, p := range []string{"/prefer/data", "/prefer/quality/", "/prefer/"} {
		b.nav(base + p)
		b.ready()
		b.wait("page "+p+" offline", `document.querySelector("#main")`, time.Minute)
	}
	b.wait("the data page offline", `location.pathname === "/prefer/" && document.querySelector("#main")`, time.Minute)
	b.shot("site-plain-offline")
}
