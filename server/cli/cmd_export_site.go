package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"

	ui "prefer/app"
	"prefer/core/snapshot"
	"prefer/server/api"
)

func init() {
	register(&command{
		name:    "export-site",
		usage:   "export-site DIR [--base /repo] [--snapshot SNAP]... [--json]",
		summary: "write the workbench as a static site (GitHub Pages or any static host), offline start included",
		run:     runExportSite,
	})
}

// staticKey keys the share ids of snapshots published in a static site. A static
// site is public, so its ids need no secret; they only have the form of the server's.
var staticKey = []byte("prefer static site")

type siteReport struct {
	Output    string         `json:"output"` // the directory written
	Base      string         `json:"base"`
	Files     int            `json:"files"`
	Snapshots []siteSnapshot `json:"snapshots"`
}

type siteSnapshot struct {
	Input   string `json:"input"`
	InputID string `json:"input_id"` // sha256-… of its bytes
	ShareID string `json:"share_id"` // its id in the site's links
	Path    string `json:"path"`     // the page that opens it, under base
}

// repeatedFlag collects a repeated flag.
type repeatedFlag []string

func (m *repeatedFlag) String() string     { return strings.Join(*m, ",") }
func (m *repeatedFlag) Set(v string) error { *m = append(*m, v); return nil }

// runExportSite writes a static copy of the workbench: go-app's pages, app.js and
// service worker, the web directory's files, and, for each --snapshot, the snapshot
// at api/v1/snapshots/ID (where the app fetches it, as from a server) with its page
// s/ID. 404.html is the home page, so any other link (/s/… of a snapshot that travels
// in the URL fragment, a project page) still boots the app, which routes on the URL.
func runExportSite(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export-site", stderr)
	base := fs.String("base", "", "path prefix the site is served under (GitHub Pages of a repository: /REPO)")
	var snaps repeatedFlag
	fs.Var(&snaps, "snapshot", "a snapshot to publish with the site (repeatable)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give the directory to write")
	}
	dir := pos[0]
	prefix := "/" + strings.Trim(*base, "/")
	if prefix == "/" {
		prefix = ""
	}
	if strings.ContainsAny(prefix, " ?#\\") || strings.Contains(prefix, "..") {
		return usagef("--base %q: give a URL path such as /prefer", *base)
	}
	assets, err := api.NewAssets(webFS(), prefix)
	if err != nil {
		return err
	}
	if !assets.Has("app.wasm") {
		return fmt.Errorf("this binary has no workbench to export (no web/app.wasm): run 'make build' first")
	}

	rep := siteReport{Output: dir, Base: prefix, Snapshots: []siteSnapshot{}}
	var pages []string
	type published struct {
		id   string
		data []byte
	}
	var pubs []published
	for _, f := range snaps {
		s, data, err := readSnapshot(f)
		if err != nil {
			return err
		}
		if ps := snapshot.Check(s); len(ps) > 0 {
			return fmt.Errorf("%s is not sound (%s): run 'prefer verify %s'", f, ps[0], f)
		}
		id := api.ShareID(staticKey, data)
		pubs = append(pubs, published{id, data})
		pages = append(pages, "/s/"+id)
		rep.Snapshots = append(rep.Snapshots, siteSnapshot{Input: f, InputID: snapshot.ID(data), ShareID: id, Path: prefix + "/s/" + id})
	}

	h := appHandler(assets, func(h *goapp.Handler) {
		// Pages in the offline cache live under the prefix too; so does the root.
		for i, r := range h.CacheableResources {
			if strings.HasPrefix(r, "/") && !strings.HasPrefix(r, "/web/") {
				h.CacheableResources[i] = prefix + r
			}
		}
		if prefix != "" {
			h.CacheableResources = append(h.CacheableResources, prefix+"/")
		}
		// Static hosts set no headers: the policy travels in the page. (A meta
		// policy cannot set frame-ancestors; browsers ignore it there.)
		h.RawHeaders = append(h.RawHeaders, `<meta http-equiv="Content-Security-Policy" content="`+
			strings.TrimSuffix(api.CSP, "; frame-ancestors 'none'")+`">`)
	})
	if missing := assets.Missing(h.CacheableResources); len(missing) > 0 {
		return fmt.Errorf("the offline cache lists files this build lacks (%s): run 'make build'", strings.Join(missing, ", "))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The prerendered pages link to each other under the prefix, as the app does
	// in the browser (where go-app gives it the prefix).
	ui.SetPathPrefix(prefix)
	err = goapp.GenerateStaticWebsite(dir, h, pages...)
	ui.SetPathPrefix("")
	if err != nil {
		return fmt.Errorf("generate the pages: %w", err)
	}
	for _, name := range assets.Names() {
		if err := copyAsset(assets, name, filepath.Join(dir, "web", filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	if err := copyAsset(assets, "app.wasm", filepath.Join(dir, "web", assets.WasmName())); err != nil {
		return err
	}
	for _, p := range pubs {
		path := filepath.Join(dir, "api", "v1", "snapshots", p.id)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := writeFileAtomic(path, p.data); err != nil {
			return err
		}
	}
	if err := staticPages(dir); err != nil {
		return err
	}
	index, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("generate the pages: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "404.html"), index, 0o644); err != nil {
		return err
	}
	// GitHub Pages would hide files and directories starting with _ from Jekyll.
	if err := os.WriteFile(filepath.Join(dir, ".nojekyll"), nil, 0o644); err != nil {
		return err
	}
	err = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rep.Files++
		}
		return err
	})
	if err != nil {
		return err
	}
	sort.Slice(rep.Snapshots, func(i, j int) bool { return rep.Snapshots[i].ShareID < rep.Snapshots[j].ShareID })
	if *asJSON {
		return printJSON(stdout, rep)
	}
	fmt.Fprintf(stdout, "wrote %d files to %s (serve it under %s/)\n", rep.Files, dir, prefix)
	for _, s := range rep.Snapshots {
		fmt.Fprintf(stdout, "%s: %s\n", s.Input, s.Path)
	}
	return nil
}

// Tags go-app writes into every page that do not suit a static copy: og:url names
// the address the pages were rendered from (a local test server), and the viewport
// forbids zooming.
var (
	ogURLTag    = regexp.MustCompile(`<meta [^>]*property="og:url"[^>]*>\n?`) // go-app writes attributes in any order
	viewportTag = regexp.MustCompile(`<meta [^>]*name="viewport"[^>]*>`)
)

// viewport is the pages' viewport: zoom allowed (WCAG 1.4.4, resize text).
const viewport = `<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">`

// staticPages makes the generated pages work on any static host: each page
// PATH.html (GitHub Pages serves it at PATH) is also written as PATH/index.html,
// which every static server (python3 -m http.server, nginx, S3) serves at PATH/ and
// redirects PATH to; and every page loses the og:url of the local address it was
// rendered from and gets a viewport that allows zoom.
func staticPages(dir string) error {
	var pages []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != dir && filepath.Base(path) == "web" && filepath.Dir(path) == dir {
			return filepath.SkipDir // the assets
		}
		if !d.IsDir() && strings.HasSuffix(path, ".html") {
			pages = append(pages, path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("generate the pages: %w", err)
	}
	for _, path := range pages {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = ogURLTag.ReplaceAll(data, nil)
		data = viewportTag.ReplaceAll(data, []byte(viewport))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return err
		}
		if name := filepath.Base(path); name == "index.html" || name == "404.html" {
			continue
		}
		sub := strings.TrimSuffix(path, ".html")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(sub, "index.html"), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// copyAsset writes the raw content of a web file to path.
func copyAsset(assets *api.Assets, name, path string) error {
	src, err := assets.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	dst, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return dst.Close()
}
