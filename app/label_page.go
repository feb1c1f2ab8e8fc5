package app

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/app/jobs"
	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

// Labeling modes.
const (
	modeCompare = "compare"
	modeRank    = "rank"
	modeRate    = "rate"
	modeRewrite = "rewrite"
)

var modes = []struct{ id, title string }{
	{modeCompare, "Compare"}, {modeRank, "Rank"}, {modeRate, "Rate"}, {modeRewrite, "Rewrite"},
}

// Break reminder: after this long or this many judgments in a session.
const (
	breakAfter     = 45 * time.Minute
	breakAfterJobs = 120
)

// labelPage is the rater's page (feedback collection): compare, rank,
// rate, rewrite and flag, with reasons and a note, all by keyboard (the help overlay
// on "?" lists the keys), undo, the guidelines, progress and a break reminder.
// Left/right order is randomized and recorded; the time on each item is recorded.
// Every judgment is on disk (IndexedDB) before the page moves on.
type labelPage struct {
	pageBase

	mode    string
	task    *labelTask
	shownAt time.Time

	strength int
	reasons  map[string]bool
	note     string

	flagOpen   bool
	flagTarget int // index into task.shown
	flagNote   string

	rankOrder  []int // indices into task.shown, best first
	rankPlaced int   // how many positions the keyboard has fixed
	dragFrom   int

	rateAxis int // index into feedback.Axes
	rateResp int // index into task.shown

	rewriteResp int
	rewriteText string

	helpOpen  bool
	guideOpen bool
	busy      bool
	toast     string
	toastGen  int
	errMsg    string
	projMsg   string

	session      string
	seq          int
	sessionStart time.Time
	breakShown   bool
	undo         []string // ids recorded on this page, oldest first
	// revising maps item|kind to the id of a synced judgment the rater withdrew with
	// undo: the next judgment of that item and kind revises it (Judgment.Revises).
	revising map[string]string

	unKeys func()

	activeWanted bool        // ?next=active: label the reward model's proposals first
	active       []labelTask // proposals not yet labeled

	fromLesson  bool   // came from the lesson (?from=lesson): offer the way back
	rankConfirm bool   // Enter on an untouched ranking asked to confirm it
	incomplete  string // a rater link's project whose #token=… is missing
}

// labelTask is what is on screen: an item and the responses shown, in shown order.
type labelTask struct {
	Item  string
	Shown []string // response ids as shown (left first)
}

func (p *labelPage) OnMount(ctx app.Context) {
	p.mode = modeCompare
	p.reasons = map[string]bool{}
	p.session = "web-" + randomID()[:10]
	p.sessionStart = time.Now()
	w, _ := app.Window().Size()
	p.guideOpen = w >= 1000
	p.mount(ctx)
	p.unKeys = listenKeys(ctx, p.onKey)
	u := app.Window().URL()
	p.activeWanted = u.Query().Get("next") == "active"
	p.fromLesson = u.Query().Get("from") == "lesson"
	if link, ok := projectFromURL(u); ok {
		p.joinProject(ctx, link)
	} else if m := projectPathRE.FindStringSubmatch(routePath(u.Path)); m != nil {
		p.incompleteLink(ctx, m[1])
	}
}

// incompleteLink handles a rater link without its #token=… (cut off when copied):
// the project this browser already joined carries on with its stored token;
// otherwise the page says the link is incomplete instead of offering other work.
func (p *labelPage) incompleteLink(ctx app.Context, project string) {
	p.incomplete = project
	ctx.Async(func() {
		waitReady()
		cur, ok := wb.project()
		p.ctx.Dispatch(func(ctx app.Context) {
			if ok && cur.Project == project && cur.Token != "" {
				p.incomplete = ""
				p.joinProject(ctx, cur)
			}
		})
	})
}

func (p *labelPage) OnDismount() {
	if p.unKeys != nil {
		p.unKeys()
	}
	p.dismount()
}

// rater is who labels on this page: the project's rater, or the local rater.
func (p *labelPage) rater() feedback.Rater {
	if link, ok := wb.project(); ok && link.Rater != "" {
		return feedback.Rater{ID: link.Rater, Name: link.Rater, Kind: feedback.RaterHuman}
	}
	return wb.localRater()
}

// queue returns the items to label, in order, and which of them the rater has done
// in the current mode.
func (p *labelPage) queue(v view) (items []*feedback.Item, done map[string]bool) {
	rater := p.rater().ID
	kind := p.kind()
	done = map[string]bool{}
	// Done is what stands: a judgment the rater withdrew gives its item back.
	for _, j := range feedback.Current(v.Judgments) {
		if j.Rater == rater && j.Kind == kind {
			done[j.Item] = true
		}
	}
	if raw := wb.Meta(metaDone); raw != "" && kind == feedback.KindCompare {
		var ids []string
		if json.Unmarshal([]byte(raw), &ids) == nil {
			for _, id := range ids {
				done[id] = true
			}
		}
	}
	for i := range v.Snap.Items {
		it := &v.Snap.Items[i]
		need := 2
		if p.mode == modeRate || p.mode == modeRewrite {
			need = 1
		}
		if len(it.Responses) >= need {
			items = append(items, it)
		}
	}
	return items, done
}

func (p *labelPage) kind() feedback.Kind {
	switch p.mode {
	case modeRank:
		return feedback.KindRank
	case modeRate:
		return feedback.KindRate
	case modeRewrite:
		return feedback.KindRewrite
	}
	return feedback.KindCompare
}

// next picks the next task: the first item of the queue not done in this mode, with
// its responses drawn at random and shown in random order.
func (p *labelPage) next(v view) {
	if p.activeWanted {
		p.activeWanted = false
		p.active = proposedTasks(v)
	}
	if p.mode == modeCompare && len(p.active) > 0 {
		t := p.active[0]
		p.active = p.active[1:]
		if rand.IntN(2) == 1 {
			t.Shown[0], t.Shown[1] = t.Shown[1], t.Shown[0]
		}
		p.task = &t
		p.resetInputs()
		return
	}
	items, done := p.queue(v)
	p.task = nil
	for _, it := range items {
		if done[it.ID] {
			continue
		}
		p.task = newTask(it, p.mode)
		break
	}
	p.resetInputs()
}

func newTask(it *feedback.Item, mode string) *labelTask {
	ids := make([]string, len(it.Responses))
	for i, r := range it.Responses {
		ids[i] = r.ID
	}
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	n := len(ids)
	switch mode {
	case modeCompare:
		n = 2
	case modeRank:
		n = min(n, 4)
	case modeRate, modeRewrite:
		n = min(n, 4)
	}
	return &labelTask{Item: it.ID, Shown: ids[:n]}
}

func (p *labelPage) resetInputs() {
	p.shownAt = time.Now()
	p.strength = 0
	p.reasons = map[string]bool{}
	p.note = ""
	p.flagOpen = false
	p.flagTarget = 0
	p.flagNote = ""
	p.rateAxis = 0
	p.rateResp = 0
	p.rewriteResp = 0
	p.rewriteText = ""
	p.rankPlaced = 0
	p.rankConfirm = false
	p.rankOrder = nil
	if p.task != nil {
		for i := range p.task.Shown {
			p.rankOrder = append(p.rankOrder, i)
		}
		if it := p.item(wb.view()); it != nil && p.mode == modeRewrite {
			// Start from the weakest-looking response: the shortest is a fair guess.
			p.rewriteText = responseText(it, p.task.Shown[0])
		}
	}
}

func (p *labelPage) item(v view) *feedback.Item {
	if p.task == nil {
		return nil
	}
	for i := range v.Snap.Items {
		if v.Snap.Items[i].ID == p.task.Item {
			return &v.Snap.Items[i]
		}
	}
	return nil
}

func responseText(it *feedback.Item, id string) string {
	if r := it.Response(id); r != nil {
		return r.Text
	}
	return ""
}

// guideline returns the newest guideline.
func guideline(s *snapshot.Snapshot) feedback.Guideline {
	var g feedback.Guideline
	for _, x := range s.Guidelines {
		if x.Version >= g.Version {
			g = x
		}
	}
	return g
}

// base returns a judgment with the common fields filled.
func (p *labelPage) base(kind feedback.Kind, v view) feedback.Judgment {
	p.seq++
	now := time.Now()
	j := feedback.Judgment{
		ID:        "w-" + randomID(),
		Kind:      kind,
		Item:      p.task.Item,
		Rater:     p.rater().ID,
		Time:      now.UnixMilli(),
		Session:   p.session,
		Seq:       p.seq,
		MS:        now.Sub(p.shownAt).Milliseconds(),
		Guideline: guideline(v.Snap).Version,
		Note:      strings.TrimSpace(p.note),
	}
	for _, r := range feedback.ReasonTags {
		if p.reasons[r] {
			j.Reasons = append(j.Reasons, r)
		}
	}
	if old, ok := p.revising[j.Item+"|"+string(kind)]; ok {
		j.Revises = old
		delete(p.revising, j.Item+"|"+string(kind))
	}
	return j
}

// save records judgments durably, then advances (if advance) and shows a toast.
//
// A judgment over one of the protocol's caps (core/wire: a note of 8 KiB, a text
// of 64 KiB, …) is not saved: the page says which field and by how much, in the
// server's words, so nothing is kept that a project server would refuse.
func (p *labelPage) save(ctx app.Context, js []feedback.Judgment, advance bool, toast string) {
	if p.busy || len(js) == 0 {
		return
	}
	for i := range js {
		if err := wire.CheckEventSize(&js[i]); err != nil {
			p.errMsg = "Not saved: the " + err.Error() + "."
			return
		}
	}
	p.busy = true
	rater := p.rater()
	ctx.Async(func() {
		var err error
		var saved []string
		for _, j := range js {
			if err = wb.Record(j, rater); err != nil {
				break
			}
			saved = append(saved, j.ID)
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			p.undo = append(p.undo, saved...)
			if err != nil {
				p.errMsg = "Not saved: " + err.Error()
				return
			}
			p.errMsg = ""
			if advance {
				p.next(wb.view())
			}
			p.showToast(ctx, toast)
		})
	})
}

func (p *labelPage) showToast(ctx app.Context, msg string) {
	if msg == "" {
		return
	}
	p.toast = msg
	p.toastGen++
	gen := p.toastGen
	p.ctx.After(1600*time.Millisecond, func(ctx app.Context) {
		if p.toastGen == gen {
			p.toast = ""
		}
	})
}

// currentResp is the response the single-response actions apply to.
func (p *labelPage) currentResp() int {
	switch p.mode {
	case modeRate:
		return p.rateResp
	case modeRewrite:
		return p.rewriteResp
	}
	return 0
}

// undoLast takes back the last judgment made on this page. One that has not reached
// the server yet is removed; one the server holds cannot be, so it is withdrawn (a
// review event with verdict withdraw, synced like any judgment) and its item shown
// again: the rater's next judgment of it revises the withdrawn one.
func (p *labelPage) undoLast(ctx app.Context) {
	if len(p.undo) == 0 || p.busy {
		p.showToast(ctx, "Nothing to undo")
		return
	}
	id := p.undo[len(p.undo)-1]
	j, _ := findJudgment(wb.view(), id)
	rater := p.rater()
	p.busy = true
	ctx.Async(func() {
		err := wb.Remove(id)
		withdrawn := false
		if errors.Is(err, ErrSynced) && j.ID != "" && j.Kind != feedback.KindReview {
			w := feedback.Judgment{ID: "w-" + randomID(), Kind: feedback.KindReview, Item: j.Item, Rater: rater.ID,
				Time: max(time.Now().UnixMilli(), j.Time+1), Session: p.session, Target: id, Verdict: feedback.VerdictWithdraw}
			err, withdrawn = wb.Record(w, rater), true
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			if err != nil {
				p.errMsg = err.Error()
				return
			}
			p.undo = p.undo[:len(p.undo)-1]
			if j.ID != "" && j.Kind == p.kind() {
				// Show the undone item again.
				it := findItem(wb.view(), j.Item)
				if it != nil {
					p.task = newTask(it, p.mode)
					p.resetInputs()
				}
			}
			if withdrawn {
				if p.revising == nil {
					p.revising = map[string]string{}
				}
				p.revising[j.Item+"|"+string(j.Kind)] = id
				p.showToast(ctx, "Withdrawn — label it again to revise it")
				return
			}
			p.showToast(ctx, "Undone")
		})
	})
}

func findJudgment(v view, id string) (feedback.Judgment, bool) {
	for _, j := range v.Judgments {
		if j.ID == id {
			return j, true
		}
	}
	return feedback.Judgment{}, false
}

func findItem(v view, id string) *feedback.Item {
	for i := range v.Snap.Items {
		if v.Snap.Items[i].ID == id {
			return &v.Snap.Items[i]
		}
	}
	return nil
}

// stepMode moves to the previous (d = -1) or next (d = 1) labeling mode.
func (p *labelPage) stepMode(d int) {
	i := 0
	for k, m := range modes {
		if m.id == p.mode {
			i = k
		}
	}
	p.setMode(modes[(i+d+len(modes))%len(modes)].id)
}

func (p *labelPage) setMode(m string) {
	if p.mode == m {
		return
	}
	p.mode = m
	p.next(wb.view())
}

func (p *labelPage) skip() {
	v := wb.view()
	items, done := p.queue(v)
	if p.task == nil {
		p.next(v)
		return
	}
	// The next undone item after the current one, wrapping around.
	at := -1
	for i, it := range items {
		if it.ID == p.task.Item {
			at = i
		}
	}
	for k := 1; k <= len(items); k++ {
		it := items[(at+k)%len(items)]
		if !done[it.ID] && it.ID != p.task.Item {
			p.task = newTask(it, p.mode)
			p.resetInputs()
			return
		}
	}
}

func (p *labelPage) Render() app.UI {
	v := wb.view()
	if !v.Ready {
		return frame(PathLabel, app.H1().Text("Label"), loading(v))
	}
	if p.task == nil && len(v.Snap.Items) > 0 {
		p.next(v)
	}
	items, done := p.queue(v)
	nDone := 0
	for _, it := range items {
		if done[it.ID] {
			nDone++
		}
	}
	it := p.item(v)
	g := guideline(v.Snap)
	elapsed := time.Since(p.sessionStart)
	needBreak := !p.breakShown && (elapsed > breakAfter || p.seq >= breakAfterJobs)
	return frame(PathLabel,
		app.Div().Class("page-head").Body(
			app.Div().Body(
				app.H1().Text("Label"),
				app.P().Class(projectLineClass(p.projMsg)).Text(projectLine(p.projMsg)),
			),
			app.Div().Class("row label-tools").Body(
				app.Div().Class("choices").Role("tablist").Aria("label", "Labeling mode").Body(
					app.Range(modes).Slice(func(i int) app.UI {
						m := modes[i]
						return app.Button().ID("mode-"+m.id).Role("tab").
							Aria("selected", p.mode == m.id).
							Class(selectedClass(p.mode == m.id)).Text(m.title).
							OnClick(func(ctx app.Context, e app.Event) { p.setMode(m.id) })
					}),
				),
				app.Button().ID("help-btn").Aria("label", "Keyboard shortcuts").Text("? Keys").
					OnClick(func(ctx app.Context, e app.Event) { p.helpOpen = true }),
				app.Button().ID("guide-btn").Aria("expanded", p.guideOpen).Aria("controls", "guidelines").
					Text("Guidelines").OnClick(func(ctx app.Context, e app.Event) { p.guideOpen = !p.guideOpen }),
				app.If(p.fromLesson, app.A().Class("btn").ID("back-to-lesson").Href(appPath(PathLesson)).Text("← Back to the lesson")),
			),
		),
		app.If(p.incomplete != "", app.Div().Class("notice bad").Role("alert").ID("link-incomplete").Body(
			app.Strong().Text("This rater link is incomplete. "),
			app.Text("It names project "+p.incomplete+" but lacks the part that starts with #token= — the key to your queue, which some apps cut off when a link is copied. Open the whole link your lead sent (prefer push --project prints it), or ask them for it again."),
		)),
		app.If(needBreak, app.Div().Class("notice").Role("status").ID("break").Body(
			app.Strong().Text("Time for a short break. "),
			app.Span().Text(fmt.Sprintf("You have labeled for %s (%d judgments). Quality drops in long sessions: look away from the screen for five minutes. ", fmtDuration(float64(elapsed.Milliseconds())), p.seq)),
			app.Button().Text("Continue").OnClick(func(ctx app.Context, e app.Event) { p.breakShown = true }),
		)),
		app.If(p.errMsg != "", app.Div().Class("notice bad").Role("alert").ID("label-error").Text(p.errMsg)),
		p.renderSync(),
		app.Div().Class("label-layout").Body(
			app.Div().Class("stack").Body(
				p.renderProgress(len(items), nDone, elapsed),
				either(it == nil, func() app.UI {
					if p.incomplete != "" && len(items) == 0 {
						return app.Div()
					}
					return p.renderEmpty(v, len(items) > 0)
				}, func() app.UI { return p.renderTask(it) }),
			),
			app.If(p.guideOpen, app.Aside().ID("guidelines").Class("panel").Aria("label", "Guidelines").Body(
				app.H2().Body(app.Text("Guidelines"), app.Span().Class("tag").Text(fmt.Sprintf("v%d", g.Version))),
				app.If(g.Text == "", app.P().Class("muted").Text("This project has no written guideline. Judge which answer is more helpful, honest and harmless.")).
					Else(app.Div().Class("guide-text").Body(
						app.Range(guidelineParagraphs(g.Text)).Slice(func(i int) app.UI {
							return app.P().Text(guidelineParagraphs(g.Text)[i])
						}),
					)),
			)),
		),
		when(p.helpOpen, p.renderHelp),
		app.If(p.toast != "", app.Div().Class("toast").Role("status").ID("toast").Text(p.toast)),
	)
}

// projectLineClass marks the line under the title as news (a project's state or a
// message), which a phone keeps, or the usual hint about keys, which it hides.
func projectLineClass(msg string) string {
	if _, ok := wb.project(); ok || msg != "" {
		return "status-line"
	}
	return "status-line hint"
}

func projectLine(msg string) string {
	if msg != "" {
		return msg
	}
	if link, ok := wb.project(); ok {
		return "Project " + cmp.Or(link.Name, link.Project) + " — your judgments are kept here and sent to the server."
	}
	return "Judge answers by keyboard. Press ? for the keys. Your judgments are saved in this browser as you go."
}

func selectedClass(on bool) string {
	if on {
		return "selected"
	}
	return ""
}

func (p *labelPage) renderProgress(total, done int, elapsed time.Duration) app.UI {
	frac := 0
	if total > 0 {
		frac = 100 * done / total
	}
	return app.Div().Class("panel").Body(
		app.Div().Class("row between").Body(
			app.Span().ID("progress-count").DataSet("done", done).DataSet("total", total).DataSet("session", p.seq).
				Text(fmt.Sprintf("%d of %d items done (%s)", done, total, p.mode)),
			app.Span().Class("muted session-line").Text(fmt.Sprintf("This session: %d judgments in %s", p.seq, fmtDuration(float64(elapsed.Milliseconds())))),
		),
		progressBar(frac, "Labeling progress"),
	)
}

func (p *labelPage) renderEmpty(v view, hasItems bool) app.UI {
	if hasItems {
		return app.Div().Class("panel").ID("queue-done").Body(
			app.H2().Text("All done in this mode"),
			app.P().Text("Every item of the queue has your judgment in this mode. Switch mode with [ and ], or take a break."),
		)
	}
	return app.Div().Class("panel").ID("queue-empty").Body(
		app.H2().Text("Nothing to label yet"),
		app.P().Text("Load the demo items (60 short requests with candidate answers), import a dataset on the Data page, or open a project link from your lead."),
		app.Button().Class("primary").ID("load-demo").Text("Load the demo items").OnClick(func(ctx app.Context, e app.Event) {
			p.errMsg = ""
			ctx.Async(func() {
				msg, bad := loadDemo()
				p.ctx.Dispatch(func(ctx app.Context) {
					if bad {
						p.errMsg = msg
					}
					p.task = nil
				})
			})
		}),
	)
}

// loadDemo makes the demo snapshot the working state.
func loadDemo() (string, bool) {
	reply, err := browser.Fetch("GET", appPath(demoURL), nil, nil)
	status, data := reply.Status, reply.Body
	if err != nil {
		return "The demo could not be loaded: " + err.Error(), true
	}
	if status != 200 {
		return fmt.Sprintf("The demo is missing on this server (HTTP %d).", status), true
	}
	return openBytes("the demo", data, nil)
}

// demoURL is the demo snapshot (prefer demo --seed 7), precached for offline use.
const demoURL = "/web/demo.snap"

func (p *labelPage) renderTask(it *feedback.Item) app.UI {
	var body app.UI
	switch p.mode {
	case modeRank:
		body = p.renderRank(it)
	case modeRate:
		body = p.renderRate(it)
	case modeRewrite:
		body = p.renderRewrite(it)
	default:
		body = p.renderCompare(it)
	}
	return app.Div().Class("panel stack").ID("task").DataSet("item", it.ID).Body(
		app.Div().Class("prompt").ID("label-prompt").Text(it.Prompt),
		body,
		p.renderReasons(),
		when(p.flagOpen, func() app.UI { return p.renderFlag(it) }),
		app.Div().Class("row").Body(
			app.Button().ID("flag-btn").Text("⚑ Flag (f)").OnClick(func(ctx app.Context, e app.Event) {
				p.flagOpen, p.flagTarget = !p.flagOpen, p.currentResp()
			}),
			app.Button().ID("undo-btn").Text("↶ Undo (z)").Disabled(len(p.undo) == 0).
				OnClick(func(ctx app.Context, e app.Event) { p.undoLast(ctx) }),
			app.Button().ID("skip-btn").Text("Skip (.)").OnClick(func(ctx app.Context, e app.Event) { p.skip() }),
			app.If(p.busy, app.Span().Class("muted").Text("Saving…")),
		),
	)
}

func (p *labelPage) renderReasons() app.UI {
	return app.Div().Class("stack").Body(
		app.Div().Class("row").Aria("label", "Reasons").Role("group").Body(
			app.Span().Class("muted").Text("Reasons:"),
			app.Range(feedback.ReasonTags).Slice(func(i int) app.UI {
				r := feedback.ReasonTags[i]
				cls := "chip"
				if p.reasons[r] {
					cls += " on"
				}
				return app.Button().Class(cls).Aria("pressed", p.reasons[r]).
					Title(fmt.Sprintf("Shift+%d", i+1)).
					Body(app.Kbd().Text(fmt.Sprintf("⇧%d", i+1)), app.Text(r)).
					OnClick(func(ctx app.Context, e app.Event) { p.reasons[r] = !p.reasons[r] }, r)
			}),
		),
		app.Input().Type("text").ID("note").Placeholder("Note (press / to write, Esc to leave)").
			Aria("label", "Note").Value(p.note).
			OnInput(func(ctx app.Context, e app.Event) {
				p.note = ctx.JSSrc().Get("value").String()
				p.checkCap("note", len(p.note), wire.MaxNoteBytes)
			}),
	)
}

// capNotice starts the message checkCap shows, so that it can clear its own.
const capNotice = "Too long to save: "

// checkCap shows, while the text is typed or pasted, that a field is over its cap
// (the same cap the save enforces and a server checks), and clears the notice once
// it fits again.
func (p *labelPage) checkCap(field string, n, limit int) {
	switch {
	case n > limit:
		p.errMsg = fmt.Sprintf("%sthe %s is %d bytes; the most is %d: shorten it.", capNotice, field, n, limit)
	case strings.Contains(p.errMsg, "the "+field+" is ") && strings.Contains(p.errMsg, "; the most is "):
		p.errMsg = "" // this field's notice, or the save's refusal of it
	}
}

// guidelineParagraphs reflows a guideline written with hard line breaks: a line that
// starts with spaces continues the previous one; blank lines separate paragraphs.
func guidelineParagraphs(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case len(out) > 0 && (line[0] == ' ' || line[0] == '\t'):
			out[len(out)-1] += " " + t
		default:
			out = append(out, t)
		}
	}
	return out
}

// proposedTasks are the reward model's active-learning proposals (Reward page) as
// comparison tasks.
func proposedTasks(v view) []labelTask {
	run := v.Snap.Run(jobs.RunRM)
	if run == nil {
		return nil
	}
	ps, _ := run.Config["proposals"].([]any)
	var out []labelTask
	for _, x := range ps {
		m, _ := x.(map[string]any)
		if it := findItem(v, str(m["item"])); it != nil && it.Response(str(m["a"])) != nil && it.Response(str(m["b"])) != nil {
			out = append(out, labelTask{Item: it.ID, Shown: []string{str(m["a"]), str(m["b"])}})
		}
	}
	return out
}
