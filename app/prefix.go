package app

import (
	"strings"
	"sync"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// The workbench may be served under a path prefix: a static site on GitHub Pages
// lives at https://USER.github.io/REPO/, so its pages are /REPO/, /REPO/lesson, …
// and its API files /REPO/api/v1/…. go-app strips the prefix before routing and
// adds it to /web/ resources, but every other path the app builds (links between
// pages, fetches of /api/ and /web/ files, the worker's script) or parses (the
// page's own URL) goes through appPath and routePath.
//
// go-app hands the prefix to the app as the GOAPP_ROOT_PREFIX environment value
// (Handler.Resources.Package(): "" on a server, "/REPO" for prefer export-site
// --base /REPO).

var (
	prefixOnce   sync.Once
	prefixValue  string
	serverPrefix string // the prefix while prerendering on the server (SetPathPrefix)
)

// SetPathPrefix sets the path prefix used when pages are rendered on the server
// (prefer export-site prerenders every page under --base). In the browser the
// prefix comes from go-app (GOAPP_ROOT_PREFIX).
func SetPathPrefix(prefix string) { serverPrefix = cleanPrefix(prefix) }

// pathPrefix returns the prefix the workbench is served under: "" or "/REPO".
func pathPrefix() string {
	if app.IsServer {
		return serverPrefix
	}
	prefixOnce.Do(func() { prefixValue = cleanPrefix(app.Getenv("GOAPP_ROOT_PREFIX")) })
	return prefixValue
}

// cleanPrefix normalizes a prefix to "" or "/a/b" (leading slash, no trailing one).
func cleanPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// appPath returns the address of a path of the site (which starts with "/"): the
// path under the prefix. A path that already carries the prefix, a fragment-only
// link ("#main") or an absolute URL is returned as is.
func appPath(path string) string {
	return withPrefix(pathPrefix(), path)
}

// withPrefix puts path under prefix (see appPath).
func withPrefix(prefix, path string) string {
	switch {
	case prefix == "", !strings.HasPrefix(path, "/"), strings.HasPrefix(path, "//"):
		return path
	case path == prefix, strings.HasPrefix(path, prefix+"/"):
		return path
	case path == "/":
		return prefix + "/"
	}
	return prefix + path
}

// routePath returns the route of a URL path: the path without the prefix, "/" for
// the prefix itself.
func routePath(urlPath string) string {
	p := withoutPrefix(pathPrefix(), urlPath)
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1] // PATH/ is PATH (a static host's directory index)
	}
	return p
}

// withoutPrefix strips prefix from a URL path (see routePath).
func withoutPrefix(prefix, urlPath string) string {
	if prefix == "" {
		return urlPath
	}
	if urlPath == prefix {
		return "/"
	}
	if rest, ok := strings.CutPrefix(urlPath, prefix+"/"); ok {
		return "/" + rest
	}
	return urlPath
}

// siteURL returns the absolute address of a path of the site in this browser:
// origin, prefix and path (share links).
func siteURL(path string) string {
	origin := app.Window().Get("location").Get("origin").String()
	return origin + appPath(path)
}

// SitePath returns a path of the site under its prefix (see appPath); wasm/ui uses
// it for the worker's script.
func SitePath(path string) string { return appPath(path) }
