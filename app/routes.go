package app

import (
	"regexp"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Paths of the workbench's pages. Every page is registered by Routes and precached by
// the service worker (NewHandler), so each one loads offline after the first visit.
const (
	PathHome       = "/"
	PathLesson     = "/lesson"
	PathPlayground = "/playground"
	PathLabel      = "/label"
	PathQuality    = "/quality"
	PathReward     = "/reward"
	PathPolicy     = "/policy"
	PathData       = "/data"
	PathSnapshot   = "/s/" // followed by a snapshot id: /s/sha256-…
)

// snapshotPattern matches /s/{id} (and /s/{id}/, where a static host puts the page
// file s/{id}/index.html); go-app matches regexps unanchored, so it is anchored.
const snapshotPattern = `^/s/[A-Za-z0-9._-]+/?$`

// projectPattern matches a rater's project link, /p/{project} (the token travels in
// the fragment, #token=…, so it never reaches a server log).
const projectPattern = `^/p/([A-Za-z0-9._-]+)$`

var projectPathRE = regexp.MustCompile(projectPattern)

// page is one entry of the navigation. A page whose engine (a core package) has not
// landed is absent from this list: it is neither routed nor shown.
type page struct {
	path  string
	title string
	comp  app.Composer
}

// pages lists the pages in navigation order.
var pages = []page{
	{PathLesson, "Lesson", &lessonPage{}},
	{PathPlayground, "Playground", &playgroundPage{}},
	{PathLabel, "Label", &labelPage{}},
	{PathQuality, "Quality", &qualityPage{}},
	{PathReward, "Reward", &rewardPage{}},
	{PathPolicy, "Policy", &policyPage{}},
	{PathData, "Data", &dataPage{}},
}

// Routes registers every page of the workbench with go-app. The UI binary calls it
// before app.RunWhenOnBrowser, and the server calls it before serving NewHandler:
// go-app answers 404 for a page path that was not registered.
func Routes() {
	app.Route(PathHome, &homePage{})
	for _, p := range pages {
		app.Route(p.path, p.comp)
		// A static host serves the page file PATH/index.html at PATH/ (and redirects
		// PATH there): the same page.
		app.Route(p.path+"/", p.comp)
	}
	app.RouteWithRegexp(snapshotPattern, &snapshotPage{})
	app.RouteWithRegexp(projectPattern, &labelPage{})
	app.RouteWithRegexp(leadPattern, &leadPage{})
}

// NewHandler returns the configured go-app handler: name, icons (our own files),
// styles, the service worker that precaches every page, the worker and the demo, so
// that the workbench loads with the network cut after the first visit.
//
// The server sets Resources (the embedded static files), Version (the build) and
// WasmContentLengthHeader before serving it.
func NewHandler() *app.Handler {
	cacheable := []string{
		"/web/worker.js",
		"/web/worker.wasm",
		"/web/simd.wasm", // the SIMD kernels (docs/lm.md); simd.js, their loader, is a script
		"/web/demo.snap",
		"/web/ref-lm.snap", // the pretrained transformer the generative policy starts from
		"/web/icon.svg",
	}
	for _, p := range pages {
		cacheable = append(cacheable, p.path)
	}
	// simdLoader: simd.js runs before go-app's app.js (a plain script runs while the
	// page is parsed, app.js is deferred) and links the SIMD kernels (docs/lm.md) to
	// app.wasm when app.js instantiates it.
	return &app.Handler{
		Name:        "Prefer",
		ShortName:   "Prefer",
		Title:       "Prefer — the RLHF workbench",
		Description: "Collect human feedback, check its quality, train a reward model and optimize a policy against it, offline in a browser tab.",
		Author:      "Prefer",
		Keywords:    []string{"RLHF", "reward model", "human feedback", "KL penalty", "reward hacking"},
		Lang:        "en",
		Icon: app.Icon{
			Default:    "/web/icon-192.png",
			Large:      "/web/icon-512.png",
			SVG:        "/web/icon.svg",
			AppleTouch: "/web/icon-192.png",
		},
		BackgroundColor:       "#0f172a",
		ThemeColor:            "#4338ca",
		LoadingLabel:          "Loading Prefer… {progress}%",
		Styles:                []string{"/web/app.css"},
		Scripts:               []string{"/web/simd.js"}, // before app.js: see simdLoader
		CacheableResources:    cacheable,
		ServiceWorkerTemplate: serviceWorkerJS,
		// go-app's own viewport tag forbids zooming (maximum-scale=1,
		// user-scalable=0); a later tag wins, and people who need larger text on a
		// phone must be able to pinch.
		RawHeaders: []string{`<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">`},
	}
}
