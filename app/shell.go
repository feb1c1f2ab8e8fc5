package app

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// pageBase is embedded in every page: it starts the workbench, re-renders the page
// when the workbench changes, and follows the browser's online state and theme.
type pageBase struct {
	app.Compo

	// ctx is the page's own context (from OnMount): work started by an event
	// handler reports back through it, because the element that fired the event
	// may be gone by the time the work is done (go-app then drops the dispatch).
	ctx app.Context

	unsub    func()
	unOnline func()
	unOff    func()
}

// online is the browser's network state (navigator.onLine and its events), kept
// up to date by every mounted page.
var online = true

// mount is called from the page's OnMount.
func (b *pageBase) mount(ctx app.Context) {
	b.ctx = ctx
	wb.start()
	b.unsub = wb.subscribe(func() { ctx.Dispatch(func(app.Context) {}) })
	online = app.Window().Get("navigator").Get("onLine").Bool()
	setOnline := func(v bool) func(app.Context, app.Event) {
		return func(ctx app.Context, e app.Event) {
			online = v
			syncer.wake()
		}
	}
	b.unOnline = app.Window().AddEventListener("online", setOnline(true))
	b.unOff = app.Window().AddEventListener("offline", setOnline(false))
	applyTheme(wb.Meta(metaTheme))
	syncer.start()
}

// dismount is called from the page's OnDismount.
func (b *pageBase) dismount() {
	for _, f := range []func(){b.unsub, b.unOnline, b.unOff} {
		if f != nil {
			f()
		}
	}
}

// applyTheme sets data-theme on <html>: "light", "dark", or "" to follow the system.
func applyTheme(theme string) {
	root := app.Window().Get("document").Get("documentElement")
	if theme == "" {
		root.Call("removeAttribute", "data-theme")
		return
	}
	root.Call("setAttribute", "data-theme", theme)
}

// frame is the page layout: the top bar (brand, navigation, job, network state,
// theme) and the page's content.
func frame(path string, content ...app.UI) app.UI {
	return app.Div().Class("app").Body(
		app.A().Href("#main").Class("sr-only").Text("Skip to content"),
		app.Header().Class("topbar").Body(
			app.A().Class("brand").Href(appPath(PathHome)).Aria("label", "Prefer home").Body(
				app.Img().Src("/web/icon.svg").Alt(""),
				app.Span().Text("Prefer"),
			),
			app.Nav().Class("nav").Aria("label", "Pages").Body(
				app.Range(pages).Slice(func(i int) app.UI {
					a := app.A().Href(appPath(pages[i].path)).Text(pages[i].title)
					if pages[i].path == path {
						a = a.Aria("current", "page")
					}
					return a
				}),
			),
			app.Div().Class("spacer"),
			&jobBar{},
			statusBadge(),
			app.Button().Class("icon-btn").ID("theme").
				Aria("label", "Switch between light and dark theme").
				Title("Light / dark theme").
				Text(themeIcon()).
				OnClick(toggleTheme),
		),
		app.Div().ID("main").Class("page").Body(content...),
	)
}

func themeIcon() string {
	if currentDark() {
		return "☀"
	}
	return "☾"
}

// currentDark reports whether the dark theme is showing.
func currentDark() bool {
	switch wb.Meta(metaTheme) {
	case "dark":
		return true
	case "light":
		return false
	}
	mq := app.Window().Call("matchMedia", "(prefers-color-scheme: dark)")
	return mq.Truthy() && mq.Get("matches").Bool()
}

func toggleTheme(ctx app.Context, e app.Event) {
	next := "dark"
	if currentDark() {
		next = "light"
	}
	applyTheme(next)
	ctx.Async(func() { _ = wb.SetMeta(metaTheme, next) })
}

// statusBadge shows the network state and, in project mode, how many judgments
// have not reached the server yet.
//
// Until the outbox has been counted after a load, the number is not known: the
// badge says "…" (and data-pending is empty) rather than a wrong 0.
func statusBadge() app.UI {
	st := syncer.status()
	cls := "badge"
	text := "Online"
	if !online {
		cls += " offline"
		text = "Offline"
	}
	pending := ""
	if st.Known {
		pending = fmt.Sprint(st.Pending)
	}
	project := st.Project
	if !st.Known {
		_, project = wb.project()
	}
	switch {
	case project && !st.Known:
		text += " · … not synced"
	case project && st.Pending == 1:
		text += " · 1 judgment not synced"
	case project && st.Pending > 0:
		text += fmt.Sprintf(" · %d judgments not synced", st.Pending)
	case project:
		text += " · all synced"
	default:
		text += " · saved in this browser"
	}
	if n := len(st.Held); n > 0 {
		text += fmt.Sprintf(" · %d refused", n)
	}
	title := st.Err
	switch {
	case st.Stopped != "":
		cls += " error"
		text += " · link refused"
		title = st.Stopped
	case st.Full != "":
		cls += " error"
		text += " · server quota full"
		title = st.Full
	case (st.Err != "" && online) || len(st.Held) > 0:
		cls += " error"
	}
	return app.Span().ID("net-badge").Class(cls).Title(title).
		Aria("live", "polite").DataSet("pending", pending).DataSet("held", len(st.Held)).
		DataSet("stopped", st.Stopped != "").DataSet("online", online).DataSet("idle", st.Idle).
		Body(app.Span().Class("dot"), app.Span().Text(text))
}

// jobBar shows the running job with its progress and a cancel button. It is a
// component of its own that follows job progress, so progress redraws only it.
type jobBar struct {
	app.Compo
	unsub func()
}

func (b *jobBar) OnMount(ctx app.Context) {
	b.unsub = wb.subscribeProgress(func() { ctx.Dispatch(func(app.Context) {}) })
}

func (b *jobBar) OnDismount() {
	if b.unsub != nil {
		b.unsub()
	}
}

func (b *jobBar) Render() app.UI {
	wb.mu.Lock()
	j := wb.job
	var st jobStatus
	if j != nil {
		st = *j
	}
	wb.mu.Unlock()
	// The root element stays the same whether a job runs or not, so starting and
	// ending a job updates the bar in place instead of replacing it.
	if j == nil {
		return app.Div().Class("job-slot").Body(app.Span().ID("job-idle"))
	}
	return app.Div().Class("job-slot").Body(jobBadge(&st))
}

// jobBadge shows a job, with its progress and a cancel button.
func jobBadge(j *jobStatus) app.UI {
	if j == nil || j.Done {
		return app.Span().ID("job-idle")
	}
	pct := 0
	if j.Total > 0 {
		pct = 100 * j.Step / j.Total
	}
	return app.Div().Class("job").ID("job").Style("min-width", "260px").Body(
		app.Span().Class("muted").Text(j.Title+": "+j.Phase),
		app.Div().Style("flex", "1 0 80px").Body(progressBar(pct, j.Title)),
		app.Button().Class("icon-btn").ID("job-cancel").Aria("label", "Cancel "+j.Title).Text("Cancel").
			OnClick(func(ctx app.Context, e app.Event) { wb.Cancel() }),
	)
}

// progressBar is an accessible progress bar at pct percent.
func progressBar(pct int, label string) app.UI {
	return app.Div().Class("progress").Role("progressbar").
		Aria("valuemin", 0).Aria("valuemax", 100).Aria("valuenow", pct).Aria("label", label).
		Body(app.Div().Style("width", fmt.Sprintf("%d%%", pct)))
}

// loading is the content of a page while the workbench loads from the database.
func loading(v view) app.UI {
	if v.LoadErr != "" {
		return app.Div().Class("notice bad").Role("alert").Text(v.LoadErr)
	}
	return app.P().Class("muted").Text("Loading your work from this browser…")
}

// fmtNum formats a number with a sensible number of digits.
func fmtNum(x float64, digits int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–" // unknown: never "NaN" or "+Inf" on a page
	}
	s := fmt.Sprintf("%.*f", digits, x)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// fmtDuration formats milliseconds for people.
func fmtDuration(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
}

// pct formats a fraction as a percentage.
func pct(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return fmtNum(100*x, 1) + "%"
}

// known returns the value of key k of a run's summary or a model's metrics when it
// is there and finite: a figure the data gave. A missing key reads as 0 from a Go
// map and a NaN as "NaN", neither of which a page may show for "unknown".
func known(m map[string]float64, k string) (float64, bool) {
	v, ok := m[k]
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// when returns f() if cond, and nothing otherwise. Unlike app.If, f is only called
// when cond holds (app.If evaluates its argument even when cond is false).
func when(cond bool, f func() app.UI) app.UI {
	if cond {
		return f()
	}
	return nil
}

// either returns a() if cond and b() otherwise, calling only the one chosen.
func either(cond bool, a, b func() app.UI) app.UI {
	if cond {
		return a()
	}
	return b()
}
