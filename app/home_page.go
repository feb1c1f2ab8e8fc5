package app

import (
	"errors"
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
	"prefer/core/snapshot"
)

// homePage is the landing page: three doors — run the lesson, label, open a snapshot
// (a file, a link, or a file dropped on the page) — and what the browser holds.
type homePage struct {
	pageBase

	booted bool   // set in OnMount: the wasm runs
	link   string // the link or id typed in
	over   bool   // a file is dragged over the drop zone
	msg    string // result of the last open
	bad    bool
}

func (h *homePage) OnMount(ctx app.Context) {
	h.booted = true
	h.mount(ctx)
	if frag := app.Window().URL().Fragment; strings.HasPrefix(frag, fragmentKey) {
		h.openFragment(ctx, frag)
	}
}

func (h *homePage) OnDismount() { h.dismount() }

func (h *homePage) Render() app.UI {
	v := wb.view()
	var doors []app.UI
	if lessonAvailable {
		doors = append(doors, door(PathLesson, "door-lesson", "▶", "Run the lesson",
			"For educators: why models need human feedback, how a reward model learns it, and how optimizing it too hard makes the policy hack it — with simulated raters, in five minutes. Then move β yourself in the playground.",
			app.A().Class("btn").ID("door-playground").Href(appPath(PathPlayground)).Text("Playground →")))
	}
	doors = append(doors, door(PathLabel, "door-label", "⇆", "Label",
		"For raters: compare, rank, rate, rewrite and flag answers — keyboard first, with guidelines, undo and breaks. Works offline; nothing is lost on reload."))
	doors = append(doors, app.Div().Class("door").ID("door-open").Body(
		app.Div().Class("door-icon").Aria("hidden", true).Text("⤓"),
		app.H2().Text("Open a snapshot"),
		app.P().Text("A whole state — data, judgments, models, curves, seeds — from a file, a link, or a file dropped here."),
		app.Div().Class(dropClass(h.over)).ID("drop").
			OnDragOver(func(ctx app.Context, e app.Event) { e.PreventDefault(); h.over = true }).
			OnDragLeave(func(ctx app.Context, e app.Event) { h.over = false }).
			OnDrop(h.onDrop).
			Body(
				// The native file input is visually hidden (it stays focusable and
				// keyboard-operable); its label is the visible button, so the drop
				// zone's content wraps inside the zone at any width.
				app.Input().Type("file").ID("open-file").Class("file-input").Accept(".snap,application/msgpack").
					OnChange(h.onFile),
				app.Label().For("open-file").Body(
					app.Span().Text("Drop a .snap file here, or"),
					app.Span().Class("btn").Text("choose a file"),
				),
			),
		app.Form().Class("row").OnSubmit(h.onLink).Body(
			app.Input().Type("text").ID("open-link").Placeholder("Share link (…/s/…), or an id").
				Aria("label", "Snapshot link or id").Value(h.link).
				OnInput(func(ctx app.Context, e app.Event) { h.link = ctx.JSSrc().Get("value").String() }).
				Style("flex", "1"),
			app.Button().Type("submit").Text("Open"),
		),
	))
	status := "Starting…"
	if h.booted {
		status = "Ready."
	}
	return frame(PathHome,
		app.Section().Class("hero").Body(
			app.H1().Text("See how RLHF works — and how it fails."),
			app.P().Text("Prefer runs the whole loop of reinforcement learning from human feedback in this tab: people compare answers, the feedback is checked, a reward model learns from it, and a policy is optimized against that reward with a KL penalty. Everything runs offline; nothing leaves your machine unless you share it."),
		),
		app.Div().Class("doors").Body(doors...),
		app.If(h.msg != "", app.Div().Class(noticeClass(h.bad)).Role("status").ID("open-msg").Style("margin-top", "1rem").Text(h.msg)),
		app.Section().Class("panel").Style("margin-top", "1rem").Body(
			app.H2().Text("In this browser"),
			either(!v.Ready, func() app.UI { return loading(v) }, func() app.UI { return stateSummary(v) }),
			app.If(v.Ready && len(v.Snap.Items) == 0, app.Div().Class("row").Style("margin-top", ".5rem").Body(
				app.Button().ID("home-demo").Text("Load the demo data").Title("60 short requests with candidate answers and the judgments of 14 simulated raters (prefer demo --seed 7)").
					OnClick(func(ctx app.Context, e app.Event) {
						h.msg, h.bad = "Loading the demo…", false
						ctx.Async(func() {
							msg, bad := loadDemo()
							h.ctx.Dispatch(func(ctx app.Context) { h.msg, h.bad = msg, bad })
						})
					}),
				app.A().Class("btn").ID("home-playground").Href(appPath(PathPlayground)).Text("Or play with β in the playground"),
			)),
			leadLinkUI(),
			app.P().Class("muted").ID("boot-status").DataSet("booted", h.booted).Text(status),
		),
	)
}

// door is one of the home page's doors: a card whose title links to path, with a
// button to it and any extra links.
func door(path, id, icon, title, text string, extra ...app.UI) app.UI {
	return app.Div().Class("door").Body(
		app.Div().Class("door-icon").Aria("hidden", true).Text(icon),
		app.H2().Body(app.A().Href(appPath(path)).Class("door-title").Text(title)),
		app.P().Text(text),
		app.Div().Class("row").Body(append([]app.UI{app.A().Class("btn primary").ID(id).Href(appPath(path)).Text(title + " →")}, extra...)...),
	)
}

func dropClass(over bool) string {
	if over {
		return "drop over"
	}
	return "drop"
}

func noticeClass(bad bool) string {
	if bad {
		return "notice bad"
	}
	return "notice info"
}

// stateSummary describes the working state in one line of figures.
func stateSummary(v view) app.UI {
	s := v.Snap
	if len(s.Items) == 0 {
		return app.P().ID("state-summary").Text("Nothing yet. Run the lesson, load the demo data, or open a snapshot.")
	}
	return app.Div().ID("state-summary").Class("grid grid-4").Body(
		stat("Items", fmt.Sprint(len(s.Items)), ""),
		stat("Judgments", fmt.Sprint(len(v.Judgments)), ratersNote(len(feedback.RaterIDs(v.Judgments)))),
		stat("Models", fmt.Sprint(len(s.Models)), ""),
		stat("Runs", fmt.Sprint(len(s.Runs)), ""),
	)
}

// stat is one figure with its label and a note.
func stat(label, value, note string) app.UI {
	return app.Div().Class("stat").Body(
		app.Div().Class("label").Text(label),
		app.Div().Class("value").Text(value),
		app.If(note != "", app.Div().Class("note").Text(note)),
	)
}

func (h *homePage) onFile(ctx app.Context, e app.Event) {
	files := ctx.JSSrc().Get("files")
	if files.Length() == 0 {
		return
	}
	h.openFile(ctx, files.Index(0))
}

func (h *homePage) onDrop(ctx app.Context, e app.Event) {
	e.PreventDefault()
	h.over = false
	files := e.Get("dataTransfer").Get("files")
	if files.Length() == 0 {
		return
	}
	h.openFile(ctx, files.Index(0))
}

func (h *homePage) openFile(ctx app.Context, file app.Value) {
	h.msg, h.bad = "Opening…", false
	ctx.Async(func() {
		waitReady()
		name, data, err := browser.ReadFile(file)
		msg, bad := openBytes(name, data, err)
		h.ctx.Dispatch(func(ctx app.Context) { h.msg, h.bad = msg, bad })
	})
}

// openBytes makes an encoded snapshot the working state and says how it went.
func openBytes(name string, data []byte, err error) (string, bool) {
	if err != nil {
		return err.Error(), true
	}
	s, err := snapshot.Unmarshal(data)
	if err != nil {
		// The decoder's error names what is wrong ("not a Prefer snapshot: …" for a
		// file of another kind), so it is said once, after the file's name.
		msg := fmt.Sprintf("%s could not be opened: %v.", name, err)
		if errors.Is(err, snapshot.ErrNotSnapshot) {
			msg = fmt.Sprintf("%s: %v. To bring in a dataset file (TRL, HH-RLHF, Label Studio, …) use Import on the Data page.", name, err)
		}
		return msg, true
	}
	if err := wb.Replace(data, s); err != nil {
		return "Could not save it in this browser: " + err.Error(), true
	}
	return fmt.Sprintf("Opened %s: %d items, %d judgments, %d models (%s). Your previous state is kept on the Data page.",
		name, len(s.Items), len(s.Judgments), len(s.Models), shortID(snapshot.ID(data))), false
}

func (h *homePage) onLink(ctx app.Context, e app.Event) {
	e.PreventDefault()
	link := strings.TrimSpace(h.link)
	if link == "" {
		return
	}
	if i := strings.Index(link, "#"+fragmentKey); i >= 0 {
		h.openFragment(ctx, link[i+1:])
		return
	}
	id := link
	if i := strings.LastIndex(link, "/s/"); i >= 0 {
		id = link[i+3:]
	}
	// The path's id: a content id shortened on a page ends in "…", which a URL
	// would carry as %E2%80%A6; the snapshot page matches what is left as a prefix.
	id = strings.TrimRight(id, "…. ")
	ctx.Navigate(appPath(PathSnapshot + id))
}

// openFragment opens a state carried in the URL fragment (#snap=…).
func (h *homePage) openFragment(ctx app.Context, frag string) {
	h.msg, h.bad = "Opening the state in the link…", false
	ctx.Async(func() {
		waitReady() // a fresh load: the browser database opens first
		data, err := decodeFragment(frag)
		msg, bad := openBytes("the link", data, err)
		h.ctx.Dispatch(func(ctx app.Context) {
			h.msg, h.bad = msg, bad
			if !bad {
				// Drop the fragment so a reload does not open it again.
				app.Window().Get("history").Call("replaceState", nil, "", appPath(PathHome))
			}
		})
	})
}

// shortID shortens a content id for display.
func shortID(id string) string {
	if len(id) > 19 {
		return id[:19] + "…"
	}
	return id
}
