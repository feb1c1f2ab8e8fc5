package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"prefer/server/api"
)

// TestExportSite exports under /repo with a snapshot, serves the directory with a
// plain file server (as GitHub Pages would) and checks that every resource the
// service worker precaches is there — what an offline start needs — and that the
// snapshot is where the app fetches it.
func TestExportSite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	file, data := testSnapshot(t, 3)
	code, stdout, stderr := runCLI(t, "export-site", dir, "--base", "/repo", "--snapshot", file, "--json")
	if code != 0 {
		t.Fatalf("export-site: %s", stderr)
	}
	var rep siteReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || len(rep.Snapshots) != 1 || rep.Base != "/repo" {
		t.Fatalf("report %s: %v", stdout, err)
	}
	id := rep.Snapshots[0].ShareID
	if rep.Snapshots[0].Path != "/repo/s/"+id || len(id) != 32 {
		t.Fatalf("snapshot %+v", rep.Snapshots[0])
	}

	mux := http.NewServeMux()
	mux.Handle("/repo/", http.StripPrefix("/repo", http.FileServer(htmlDir(dir))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	_, worker := get("/repo/app-worker.js")
	m := regexp.MustCompile(`const resourcesToCache = (\[.*?\]);`).FindStringSubmatch(worker)
	if m == nil {
		t.Fatalf("no resource list in app-worker.js:\n%s", worker)
	}
	var resources []string
	if err := json.Unmarshal([]byte(m[1]), &resources); err != nil {
		t.Fatal(err)
	}
	for _, r := range resources {
		if !strings.HasPrefix(r, "/repo") {
			t.Errorf("precached %q is outside the site's prefix", r)
			continue
		}
		if status, _ := get(r); status != 200 {
			t.Errorf("precached %s: status %d (the service worker's install would fail offline)", r, status)
		}
	}
	if !contains(resources, "/repo/") {
		t.Errorf("the prefix root is not precached: %v", resources)
	}

	_, index := get("/repo/")
	_, appJS := get("/repo/app.js")
	wasm := regexp.MustCompile(`/repo/web/app-[0-9a-f]{16}\.wasm`).FindString(appJS)
	if wasm == "" {
		t.Fatalf("app.js does not load the content-addressed wasm under /repo")
	}
	if status, body := get(wasm); status != 200 || body != "\x00asm stand-in app" {
		t.Fatalf("%s: %d", wasm, status)
	}
	if !strings.Contains(index, `http-equiv="Content-Security-Policy"`) || strings.Contains(index, "frame-ancestors") {
		t.Fatal("index.html lacks the meta CSP (or carries frame-ancestors, which meta ignores)")
	}
	// The prerendered pages link to each other under the prefix.
	for _, want := range []string{`href="/repo/lesson"`, `href="/repo/data"`, `href="/repo/"`} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks the link %s", want)
		}
	}
	if strings.Contains(index, `href="/lesson"`) {
		t.Error("index.html links to /lesson outside the prefix")
	}
	if !strings.Contains(api.CSP, "frame-ancestors") {
		t.Fatal("CSP constant changed shape")
	}
	if status, body := get("/repo/api/v1/snapshots/" + id); status != 200 || body != string(data) {
		t.Fatalf("published snapshot: %d, %d bytes", status, len(body))
	}
	if status, _ := get("/repo/s/" + id); status != 200 {
		t.Fatalf("snapshot page: %d", status)
	}
	for _, f := range []string{"404.html", ".nojekyll", "web/app.css", "web/demo.snap"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "web", "app.wasm.br")); err == nil {
		t.Error("precompressed copies exported: static hosts do not serve them")
	}
	// Every page is also PATH/index.html (what a plain static server serves at PATH/),
	// none carries the address it was rendered from, and all let the user zoom.
	for _, f := range []string{"data/index.html", "lesson/index.html", "s/" + id + "/index.html", "index.html", "404.html", "data.html"} {
		page, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Errorf("missing %s", f)
			continue
		}
		if p := string(page); strings.Contains(p, "og:url") || strings.Contains(p, "127.0.0.1") || strings.Contains(p, "user-scalable") ||
			!strings.Contains(p, `<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">`) {
			t.Errorf("%s: carries og:url or forbids zoom", f)
		}
	}

	// Bad input.
	for _, args := range [][]string{
		{"export-site"},
		{"export-site", dir, "--base", "/a b"},
		{"export-site", dir, "--snapshot", filepath.Join(t.TempDir(), "missing.snap")},
	} {
		if code, _, _ := runCLI(t, args...); code == 0 {
			t.Errorf("prefer %v succeeded", args)
		}
	}
}

// htmlDir serves DIR/x.html for /x, as GitHub Pages does.
type htmlDir string

func (d htmlDir) Open(name string) (http.File, error) {
	f, err := http.Dir(d).Open(name)
	if os.IsNotExist(err) && filepath.Ext(name) == "" {
		return http.Dir(d).Open(name + ".html")
	}
	return f, err
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
