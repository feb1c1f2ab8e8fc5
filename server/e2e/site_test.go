package e2e

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
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
