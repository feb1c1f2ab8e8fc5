package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	goapp "github.com/maxence-charriere/go-app/v9/pkg/app"
)

// HeaderRawLength carries the uncompressed size of a precompressed asset; go-app's
// loader reads it (Handler.WasmContentLengthHeader) to show progress.
const HeaderRawLength = "X-Uncompressed-Content-Length"

// Assets serves the workbench's static files (static/web, embedded in the binary)
// under PREFIX/web/, and is the go-app handler's resource provider.
//
//   - A file with precompressed siblings (app.wasm.br, app.wasm.gz, written at build
//     time by server/tools/precompress) is served in the best encoding the request's
//     Accept-Encoding allows (brotli, then gzip, then identity), with
//     Content-Encoding, Vary: Accept-Encoding and its raw size in HeaderRawLength.
//     The siblings are not served under their own names.
//   - app.wasm is also served as app-HASH.wasm (HASH: the first 16 hex digits of its
//     SHA-256), which AppWASM names: content-addressed, so cached immutably for a
//     year. Every other file is revalidated each time (Cache-Control: no-cache) by
//     its ETag, a hash of its content.
type Assets struct {
	fsys    fs.FS
	prefix  string // URL prefix before /web ("" or "/repo")
	files   map[string]*asset
	wasm    string // content-addressed name of app.wasm, "" if absent
	version string
}

type asset struct {
	name  string
	size  int64
	sum   string // hex SHA-256 of the raw content
	ctype string
	enc   []encoded // precompressed variants, best first
}

type encoded struct {
	coding string // "br" or "gzip"
	name   string // file name of the variant
	size   int64
}

// NewAssets indexes the files of fsys (the contents of the web directory: "app.wasm",
// "app.css", …) to be served under prefix+"/web/". prefix is "" on the server and
// "/repo" for a static site under a path.
func NewAssets(fsys fs.FS, prefix string) (*Assets, error) {
	a := &Assets{fsys: fsys, prefix: strings.TrimSuffix(prefix, "/"), files: map[string]*asset{}}
	if a.prefix != "" && !strings.HasPrefix(a.prefix, "/") {
		a.prefix = "/" + a.prefix
	}
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index assets: %w", err)
	}
	sort.Strings(names)
	present := map[string]bool{}
	for _, n := range names {
		present[n] = true
	}
	version := sha256.New()
	for _, n := range names {
		if strings.HasSuffix(n, ".br") && present[strings.TrimSuffix(n, ".br")] ||
			strings.HasSuffix(n, ".gz") && present[strings.TrimSuffix(n, ".gz")] {
			continue // a variant
		}
		f, err := a.stat(n)
		if err != nil {
			return nil, err
		}
		for _, v := range []struct{ coding, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
			if present[n+v.ext] {
				info, err := fs.Stat(fsys, n+v.ext)
				if err != nil {
					return nil, fmt.Errorf("index assets: %w", err)
				}
				f.enc = append(f.enc, encoded{coding: v.coding, name: n + v.ext, size: info.Size()})
			}
		}
		a.files[n] = f
		fmt.Fprintf(version, "%s %s\n", n, f.sum)
	}
	a.version = hex.EncodeToString(version.Sum(nil))[:16]
	if w := a.files["app.wasm"]; w != nil {
		a.wasm = "app-" + w.sum[:16] + ".wasm"
	}
	return a, nil
}

func (a *Assets) stat(name string) (*asset, error) {
	f, err := a.fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("index assets: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("index assets: read %s: %w", name, err)
	}
	return &asset{name: name, size: n, sum: hex.EncodeToString(h.Sum(nil)), ctype: contentType(name)}, nil
}

// contentType is the Content-Type of a file name.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	case ".webmanifest":
		return "application/manifest+json"
	case ".snap":
		return "application/msgpack"
	case ".txt", ".md":
		return "text/plain; charset=utf-8"
	case ".woff2":
		return "font/woff2"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Version identifies the build of the assets: a hash of every file's name and
// content. It changes exactly when one of them changes, which is when the service
// worker must update.
func (a *Assets) Version() string { return a.version }

// Has reports whether the web directory holds a file of that name ("app.wasm").
func (a *Assets) Has(name string) bool { return a.files[name] != nil }

// Names lists the files served, sorted (precompressed variants left out).
func (a *Assets) Names() []string {
	out := make([]string, 0, len(a.files))
	for n := range a.files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// WasmName is the content-addressed name of app.wasm ("app-HASH.wasm"), or "".
func (a *Assets) WasmName() string { return a.wasm }

// Open opens a file of the web directory (raw content).
func (a *Assets) Open(name string) (fs.File, error) { return a.fsys.Open(name) }

// Package is the path of go-app's own resources (app.js, …): the prefix.
func (a *Assets) Package() string { return a.prefix }

// Static is the path before /web of the static resources: the prefix.
func (a *Assets) Static() string { return a.prefix }

// AppWASM is the path of the app's wasm: content-addressed when app.wasm exists.
func (a *Assets) AppWASM() string {
	if a.wasm != "" {
		return a.prefix + "/web/" + a.wasm
	}
	return a.prefix + "/web/app.wasm"
}

// Configure makes h serve these assets: Resources, Version (of the build) and
// WasmContentLengthHeader.
func (a *Assets) Configure(h *goapp.Handler) {
	h.Resources = a
	h.Version = a.version
	h.WasmContentLengthHeader = HeaderRawLength
}

// Missing returns the paths among resources (as in Handler.CacheableResources,
// "/web/…") that no file serves: the service worker's install fails on any of them.
func (a *Assets) Missing(resources []string) []string {
	var out []string
	for _, r := range resources {
		name, ok := strings.CutPrefix(r, a.prefix+"/web/")
		if ok && a.files[name] == nil && name != a.wasm {
			out = append(out, r)
		}
	}
	return out
}

// ServeHTTP serves PREFIX/web/NAME.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, a.prefix+"/web/")
	if !ok || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	immutable := false
	if a.wasm != "" && name == a.wasm {
		name, immutable = "app.wasm", true
	}
	f := a.files[name]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	if immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	file, etag := name, `"`+f.sum[:32]+`"`
	if len(f.enc) > 0 {
		h.Add("Vary", "Accept-Encoding")
		if e := chooseEncoding(r.Header.Get("Accept-Encoding"), f.enc); e != nil {
			file, etag = e.name, `"`+f.sum[:32]+"-"+e.coding+`"`
			h.Set("Content-Encoding", e.coding)
			h.Set(HeaderRawLength, strconv.FormatInt(f.size, 10))
		}
	}
	h.Set("ETag", etag)
	rd, err := a.fsys.Open(file)
	if err != nil {
		http.Error(w, "asset unreadable", http.StatusInternalServerError)
		return
	}
	defer rd.Close()
	rs, ok := rd.(io.ReadSeeker)
	if !ok {
		data, err := io.ReadAll(rd)
		if err != nil {
			http.Error(w, "asset unreadable", http.StatusInternalServerError)
			return
		}
		rs = bytes.NewReader(data)
	}
	http.ServeContent(w, r, "", zeroTime, rs)
}

var zeroTime time.Time

// chooseEncoding picks the variant the Accept-Encoding header allows with the
// highest quality value (ties: the order of enc, brotli first), or nil for identity.
// "*" stands for any coding not named; q=0 forbids one.
func chooseEncoding(accept string, enc []encoded) *encoded {
	if accept == "" {
		return nil
	}
	q := map[string]float64{}
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		v := 1.0
		for _, p := range strings.Split(params, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				v = f
			}
		}
		if coding != "" {
			q[coding] = v
		}
	}
	var best *encoded
	bestQ := 0.0
	for i := range enc {
		v, ok := q[enc[i].coding]
		if !ok && enc[i].coding == "gzip" {
			v, ok = q["x-gzip"]
		}
		if !ok {
			v, ok = q["*"]
		}
		if ok && v > bestQ {
			best, bestQ = &enc[i], v
		}
	}
	return best
}
