package app

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
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

// strengths are the optional strengths of a comparison (feedback.Judgment.Strength).
var strengths = []string{"", "slightly", "clearly", "much"}

// labelPage is the rater's page (PRODUCT.md §2 "Feedback collection"): compare, rank,
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

	unKeys func()

	activeWanted bool        // ?next=active: label the reward model's proposals first
	active       []labelTask // proposals not yet labeled
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
	p.unKeys = app.Window().AddEventListener("keydown", p.onKey)
	p.activeWanted = app.Window().URL().Query().Get("next") == "active"
	if link, ok := projectFromURL(app.Window().URL()); ok {
		p.joinProject(ctx, link)
	}
}

func (p *labelPage) OnDismount() {
	if p.unKeys != nil {
		p.unKeys()
	}
	p.dismount()
}

// projectFromURL reads a rater's project link: /p/{project}#token=TOKEN (the link
// the server gives each rater, docs/server.md), or /label?project=P&token=T.
func projectFromURL(u *url.URL) (projectLink, bool) {
	var link projectLink
	if m := projectPathRE.FindStringSubmatch(routePath(u.Path)); m != nil {
		link.Project = m[1]
		frag, _ := url.ParseQuery(u.Fragment)
		link.Token = frag.Get("token")
	} else {
		q := u.Query()
		link.Project, link.Token = q.Get("project"), q.Get("token")
	}
	return link, link.Project != "" && link.Token != ""
}

// joinProject switches to project mode for the link's project and loads the rater's
// queue from the server. Offline, the queue stored earlier is used.
func (p *labelPage) joinProject(ctx app.Context, link projectLink) {
	p.projMsg = "Loading your queue…"
	ctx.Async(func() {
		waitReady()
		cur, ok := wb.project()
		same := ok && cur.Project == link.Project && cur.Token == link.Token && cur.Server == link.Server
		msg := loadTasks(link, same)
		p.ctx.Dispatch(func(ctx app.Context) {
			p.projMsg = msg
			p.task = nil
		})
	})
}

// waitReady blocks until the workbench has loaded.
func waitReady() {
	for {
		if v := wb.view(); v.Ready {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loadTasks fetches the rater's queue and makes it the working state (unless it is
// the project already open and the fetch fails: then the stored queue is used).
func loadTasks(link projectLink, same bool) string {
	status, body, err := browser.Fetch("GET", link.url("/api/v1/projects/"+url.PathEscape(link.Project)+"/tasks"), nil,
		map[string]string{"Authorization": "Bearer " + link.Token, "Accept": "application/json"})
	if err != nil {
		if same {
			return "Offline: labeling your stored queue. Judgments are kept here and sent when the network is back."
		}
		return "Could not reach the server to load your queue: " + err.Error()
	}
	if status != 200 {
		return fmt.Sprintf("The server refused the project link (HTTP %d): %s. Ask your lead for a new link.", status, shortBody(body))
	}
	var t wire.Tasks
	if err := json.Unmarshal(body, &t); err != nil {
		return "The server's answer is not a task list: " + err.Error()
	}
	link.Rater, link.Name = t.Rater.ID, t.Name
	raw, _ := json.Marshal(link)
	if err := wb.SetMeta(metaProject, string(raw)); err != nil {
		return err.Error()
	}
	_ = wb.SetMeta(metaRater, t.Rater.ID)
	done, _ := json.Marshal(t.Done)
	_ = wb.SetMeta(metaDone, string(done))
	if !same || len(wb.view().Snap.Items) == 0 {
		s := tasksSnapshot(&t)
		data, err := snapshot.Marshal(s)
		if err != nil {
			return err.Error()
		}
		if err := wb.Replace(data, s); err != nil {
			return err.Error()
		}
	}
	syncer.resume() // a link the server accepts: a stop for a refused link is over
	return fmt.Sprintf("Project %s: %d items in your queue.", orDefault(t.Name, t.Project), len(t.Items))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// metaDone holds the ids of the queue's items the server already has judgments of.
const metaDone = "project-done"

// tasksSnapshot is a rater's queue (the answer of GET /api/v1/projects/{p}/tasks) as
// the working state: its items, its guidelines and the rater.
func tasksSnapshot(t *wire.Tasks) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Provenance: snapshot.Provenance{Tool: "prefer web", Command: "project " + t.Project}}
	s.Items = t.FeedbackItems()
	for _, g := range t.Guidelines {
		s.Guidelines = append(s.Guidelines, feedback.Guideline{Version: g.Version, Text: g.Text})
	}
	s.Raters = []feedback.Rater{{ID: t.Rater.ID, Name: t.Rater.Name, Group: t.Rater.Group, Kind: feedback.RaterHuman}}
	return s
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
	for i := range v.Judgments {
		j := &v.Judgments[i]
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
	return j
}

// save records judgments durably, then advances (if advance) and shows a toast.
func (p *labelPage) save(ctx app.Context, js []feedback.Judgment, advance bool, toast string) {
	if p.busy || len(js) == 0 {
		return
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

// compare records a comparison: side 0 left better, 1 right better; or tie/both-bad.
func (p *labelPage) compare(ctx app.Context, choice string) {
	if p.task == nil || len(p.task.Shown) < 2 || p.busy {
		return
	}
	v := wb.view()
	j := p.base(feedback.KindCompare, v)
	// A and B are the two responses in item order; Left records which one was shown
	// on the left, so position bias can be measured.
	left, right := p.task.Shown[0], p.task.Shown[1]
	it := p.item(v)
	a, b := left, right
	if it != nil && it.ResponseIndex(right) < it.ResponseIndex(left) {
		a, b = right, left
	}
	j.A, j.B = a, b
	if a == left {
		j.Left = "a"
	} else {
		j.Left = "b"
	}
	switch choice {
	case "left", "right":
		winner := left
		if choice == "right" {
			winner = right
		}
		if winner == a {
			j.Choice = feedback.ChoiceA
		} else {
			j.Choice = feedback.ChoiceB
		}
		j.Strength = p.strength
	case "tie":
		j.Choice = feedback.ChoiceTie
	default:
		j.Choice = feedback.ChoiceBothBad
	}
	p.save(ctx, []feedback.Judgment{j}, true, "Saved: "+choiceText(choice))
}

func choiceText(c string) string {
	switch c {
	case "left":
		return "left is better"
	case "right":
		return "right is better"
	case "tie":
		return "tie"
	}
	return "both bad"
}

func (p *labelPage) submitRank(ctx app.Context) {
	if p.task == nil || p.busy {
		return
	}
	j := p.base(feedback.KindRank, wb.view())
	j.Shown = append([]string(nil), p.task.Shown...)
	j.Order = append([]int(nil), p.rankOrder...)
	p.save(ctx, []feedback.Judgment{j}, true, "Ranking saved")
}

// rankPick moves the response shown as number n (0-based) to the next fixed place.
func (p *labelPage) rankPick(n int) {
	if p.task == nil || n >= len(p.rankOrder) || p.rankPlaced >= len(p.rankOrder) {
		return
	}
	pos := -1
	for i, x := range p.rankOrder {
		if x == n {
			pos = i
		}
	}
	if pos < p.rankPlaced {
		return // already placed
	}
	moveTo(p.rankOrder, pos, p.rankPlaced)
	p.rankPlaced++
	if p.rankPlaced == len(p.rankOrder)-1 {
		p.rankPlaced++ // the last one is implied
	}
}

// moveTo moves xs[from] to index to, shifting the ones between.
func moveTo(xs []int, from, to int) {
	x := xs[from]
	if from < to {
		copy(xs[from:to], xs[from+1:to+1])
	} else {
		copy(xs[to+1:from+1], xs[to:from])
	}
	xs[to] = x
}

func (p *labelPage) rate(ctx app.Context, score int) {
	if p.task == nil || p.busy {
		return
	}
	j := p.base(feedback.KindRate, wb.view())
	j.Response = p.task.Shown[p.rateResp]
	j.Axis = feedback.Axes[p.rateAxis]
	j.Score = score
	last := p.rateAxis == len(feedback.Axes)-1
	msg := fmt.Sprintf("%s: %d", j.Axis, score)
	if !last {
		p.rateAxis++
		p.save(ctx, []feedback.Judgment{j}, false, msg)
		return
	}
	p.save(ctx, []feedback.Judgment{j}, true, msg)
}

func (p *labelPage) thumb(ctx app.Context, up bool) {
	if p.task == nil || p.busy {
		return
	}
	j := p.base(feedback.KindThumb, wb.view())
	j.Response = p.task.Shown[p.currentResp()]
	j.Score = -1
	if up {
		j.Score = 1
	}
	p.save(ctx, []feedback.Judgment{j}, false, map[bool]string{true: "Thumb up", false: "Thumb down"}[up])
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

func (p *labelPage) submitRewrite(ctx app.Context) {
	if p.task == nil || p.busy {
		return
	}
	text := strings.TrimSpace(p.rewriteText)
	it := p.item(wb.view())
	if text == "" || (it != nil && text == strings.TrimSpace(responseText(it, p.task.Shown[p.rewriteResp]))) {
		p.errMsg = "Change the answer before saving the rewrite (or press . to skip)."
		return
	}
	j := p.base(feedback.KindRewrite, wb.view())
	j.Response = p.task.Shown[p.rewriteResp]
	j.Text = text
	p.save(ctx, []feedback.Judgment{j}, true, "Rewrite saved")
}

func (p *labelPage) submitFlag(ctx app.Context, category string) {
	if p.task == nil || p.busy {
		return
	}
	j := p.base(feedback.KindFlag, wb.view())
	j.Response = p.task.Shown[p.flagTarget]
	j.Category = category
	j.Note = strings.TrimSpace(p.flagNote)
	j.Reasons = nil
	p.flagOpen = false
	p.save(ctx, []feedback.Judgment{j}, false, "Flagged as "+category)
}

func (p *labelPage) undoLast(ctx app.Context) {
	if len(p.undo) == 0 || p.busy {
		p.showToast(ctx, "Nothing to undo")
		return
	}
	id := p.undo[len(p.undo)-1]
	j, _ := findJudgment(wb.view(), id)
	p.busy = true
	ctx.Async(func() {
		err := wb.Remove(id)
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

// onKey handles the keyboard. Typing in a text field only reacts to Escape and
// Ctrl+Enter.
func (p *labelPage) onKey(ctx app.Context, e app.Event) {
	key := e.Get("key").String()
	code := e.Get("code").String()
	ctrl := e.Get("ctrlKey").Bool() || e.Get("metaKey").Bool()
	shift := e.Get("shiftKey").Bool()
	tag := strings.ToLower(e.Get("target").Get("tagName").String())
	typing := tag == "input" || tag == "textarea" || tag == "select"
	handled := true
	defer func() {
		if handled {
			e.PreventDefault()
		}
	}()
	if typing {
		switch {
		case key == "Escape":
			e.Get("target").Call("blur")
		case key == "Enter" && ctrl && p.mode == modeRewrite:
			p.submitRewrite(ctx)
		case key == "Enter" && p.flagOpen:
			handled = false
		default:
			handled = false
		}
		return
	}
	if ctrl && key != "z" {
		handled = false
		return
	}
	if p.helpOpen {
		if key == "Escape" || key == "?" {
			p.helpOpen = false
		}
		return
	}
	if p.flagOpen {
		switch {
		case key == "Escape":
			p.flagOpen = false
		case key == "ArrowLeft" || key == "ArrowUp":
			p.flagTarget = max(0, p.flagTarget-1)
		case key == "ArrowRight" || key == "ArrowDown":
			p.flagTarget = min(len(p.task.Shown)-1, p.flagTarget+1)
		case len(key) == 1 && key >= "1" && key <= "4":
			p.submitFlag(ctx, feedback.FlagCategories[key[0]-'1'])
		case key == "n":
			focus("flag-note")
		default:
			handled = false
		}
		return
	}
	// Reason tags: Shift + 1…7 (by physical key, whatever the layout prints).
	if shift && strings.HasPrefix(code, "Digit") {
		n := int(code[len(code)-1] - '1')
		if n >= 0 && n < len(feedback.ReasonTags) {
			r := feedback.ReasonTags[n]
			p.reasons[r] = !p.reasons[r]
			return
		}
	}
	switch key {
	case "?":
		p.helpOpen = true
		return
	case "g":
		p.guideOpen = !p.guideOpen
		return
	case "z":
		p.undoLast(ctx)
		return
	case ".":
		p.skip()
		return
	case "f":
		if p.task != nil {
			p.flagOpen = true
			p.flagTarget = p.currentResp()
		}
		return
	case "/":
		focus("note")
		return
	case "[", "]":
		i := 0
		for k, m := range modes {
			if m.id == p.mode {
				i = k
			}
		}
		if key == "]" {
			i = (i + 1) % len(modes)
		} else {
			i = (i + len(modes) - 1) % len(modes)
		}
		p.setMode(modes[i].id)
		return
	case "Escape":
		p.errMsg = ""
		return
	}
	switch p.mode {
	case modeCompare:
		switch key {
		case "ArrowLeft", "1":
			p.compare(ctx, "left")
		case "ArrowRight", "2":
			p.compare(ctx, "right")
		case "3", "t":
			p.compare(ctx, "tie")
		case "4", "x":
			p.compare(ctx, "both-bad")
		case "s":
			p.strength = (p.strength + 1) % len(strengths)
		default:
			handled = false
		}
	case modeRank:
		switch {
		case len(key) == 1 && key >= "1" && key <= "9":
			p.rankPick(int(key[0] - '1'))
		case key == "Backspace":
			if p.rankPlaced > 0 {
				p.rankPlaced--
				if p.rankPlaced == len(p.rankOrder)-1 {
					p.rankPlaced--
				}
			}
		case key == "Enter":
			p.submitRank(ctx)
		default:
			handled = false
		}
	case modeRate:
		switch {
		case len(key) == 1 && key >= "1" && key <= "7":
			p.rate(ctx, int(key[0]-'0'))
		case key == "ArrowLeft" || key == "ArrowUp":
			p.rateAxis = max(0, p.rateAxis-1)
		case key == "ArrowRight" || key == "ArrowDown":
			p.rateAxis = min(len(feedback.Axes)-1, p.rateAxis+1)
		case key == "u":
			p.thumb(ctx, true)
		case key == "d":
			p.thumb(ctx, false)
		default:
			handled = false
		}
	case modeRewrite:
		switch key {
		case "e", "Enter":
			focus("rewrite")
		case "ArrowLeft":
			p.pickRewrite(-1)
		case "ArrowRight":
			p.pickRewrite(1)
		case "u":
			p.thumb(ctx, true)
		case "d":
			p.thumb(ctx, false)
		default:
			handled = false
		}
	default:
		handled = false
	}
}

func (p *labelPage) pickRewrite(d int) {
	if p.task == nil {
		return
	}
	n := len(p.task.Shown)
	p.rewriteResp = (p.rewriteResp + d + n) % n
	if it := p.item(wb.view()); it != nil {
		p.rewriteText = responseText(it, p.task.Shown[p.rewriteResp])
	}
}

// focus focuses the element with the given id.
func focus(id string) {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Call("focus")
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
				app.P().Text(projectLine(p.projMsg)),
			),
			app.Div().Class("row").Body(
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
			),
		),
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
				either(it == nil, func() app.UI { return p.renderEmpty(v, len(items) > 0) }, func() app.UI { return p.renderTask(it) }),
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

func projectLine(msg string) string {
	if msg != "" {
		return msg
	}
	if link, ok := wb.project(); ok {
		return "Project " + orDefault(link.Name, link.Project) + " — your judgments are kept here and sent to the server."
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
			app.Span().Class("muted").Text(fmt.Sprintf("This session: %d judgments in %s", p.seq, fmtDuration(float64(elapsed.Milliseconds())))),
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
	status, data, err := browser.Fetch("GET", appPath(demoURL), nil, nil)
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

func (p *labelPage) renderCompare(it *feedback.Item) app.UI {
	side := func(i int, name, key string) app.UI {
		return app.Div().Class("answer").ID("answer-"+name).Aria("label", name+" answer").Body(
			app.Span().Class("side").Text(strings.ToUpper(name[:1])+name[1:]+" · "+key),
			app.P().Text(responseText(it, p.task.Shown[i])),
		)
	}
	choose := func(c string) app.EventHandler {
		return func(ctx app.Context, e app.Event) { p.compare(ctx, c) }
	}
	return app.Div().Class("stack").Body(
		app.Div().Class("answers").Body(side(0, "left", "← or 1"), side(1, "right", "→ or 2")),
		app.Div().Class("choices").Body(
			app.Button().Class("primary").ID("choose-left").Text("← Left is better").OnClick(choose("left")),
			app.Button().Class("primary").ID("choose-right").Text("Right is better →").OnClick(choose("right")),
			app.Button().ID("choose-tie").Text("Tie (3)").OnClick(choose("tie")),
			app.Button().ID("choose-bad").Text("Both bad (4)").OnClick(choose("both-bad")),
			app.Button().ID("strength").Aria("label", "Strength of preference").
				Text("Strength: "+orDefault(strengths[p.strength], "not given")+" (s)").
				OnClick(func(ctx app.Context, e app.Event) { p.strength = (p.strength + 1) % len(strengths) }),
		),
	)
}

func (p *labelPage) renderRank(it *feedback.Item) app.UI {
	return app.Div().Class("stack").Body(
		app.P().Class("muted").Text("Press the numbers of the answers from best to worst (or drag them), then Enter. Backspace takes back the last place."),
		app.Ol().Class("rank-list").ID("rank-list").Aria("label", "Ranking, best first").Body(
			app.Range(p.rankOrder).Slice(func(pos int) app.UI {
				idx := p.rankOrder[pos]
				cls := ""
				if pos < p.rankPlaced {
					cls = "picked"
				}
				return app.Li().Class(cls).Draggable(true).DataSet("pos", pos).
					OnDragStart(func(ctx app.Context, e app.Event) { p.dragFrom = pos }, pos).
					OnDragOver(func(ctx app.Context, e app.Event) { e.PreventDefault() }, pos).
					OnDrop(func(ctx app.Context, e app.Event) {
						e.PreventDefault()
						moveTo(p.rankOrder, p.dragFrom, pos)
						p.rankPlaced = len(p.rankOrder)
					}, pos).
					Body(
						app.Span().Class("pos").Text(fmt.Sprintf("%d.", pos+1)),
						app.Kbd().Text(fmt.Sprint(idx+1)),
						app.Span().Text(responseText(it, p.task.Shown[idx])),
					)
			}),
		),
		app.Button().Class("primary").ID("rank-submit").Text("Save ranking (Enter)").
			OnClick(func(ctx app.Context, e app.Event) { p.submitRank(ctx) }),
	)
}

func (p *labelPage) renderRate(it *feedback.Item) app.UI {
	resp := p.task.Shown[p.rateResp]
	return app.Div().Class("stack").Body(
		app.Div().Class("answer").ID("rate-answer").Body(app.P().Text(responseText(it, resp))),
		app.Range(feedback.Axes).Slice(func(a int) app.UI {
			axis := feedback.Axes[a]
			return app.Div().Class("row").Body(
				app.Strong().Style("min-width", "6rem").Text(strings.ToUpper(axis[:1])+axis[1:]),
				app.Div().Class("likert").Role("radiogroup").Aria("label", axis+" from 1 (worst) to 7 (best)").Body(
					app.Range(make([]struct{}, feedback.ScoreMax)).Slice(func(k int) app.UI {
						score := k + 1
						cls := ""
						if a == p.rateAxis {
							cls = "selected"
						}
						return app.Button().Class(cls).Text(fmt.Sprint(score)).Aria("label", fmt.Sprintf("%s %d", axis, score)).
							OnClick(func(ctx app.Context, e app.Event) { p.rateAxis = a; p.rate(ctx, score) }, a, score)
					}),
				),
				app.If(a == p.rateAxis, app.Span().Class("muted").Text("← keys 1–7")),
			)
		}),
		app.Div().Class("row").Body(
			app.Button().ID("thumb-up").Text("👍 Thumb up (u)").OnClick(func(ctx app.Context, e app.Event) { p.thumb(ctx, true) }),
			app.Button().ID("thumb-down").Text("👎 Thumb down (d)").OnClick(func(ctx app.Context, e app.Event) { p.thumb(ctx, false) }),
		),
	)
}

func (p *labelPage) renderRewrite(it *feedback.Item) app.UI {
	return app.Div().Class("stack").Body(
		app.P().Class("muted").Text("Rewrite the answer into a good one: your text becomes a demonstration that beats the original. ← → picks another answer; e edits; Ctrl+Enter saves."),
		app.Div().Class("answer").ID("rewrite-original").Body(
			app.Span().Class("side").Text(fmt.Sprintf("Answer %d of %d", p.rewriteResp+1, len(p.task.Shown))),
			app.P().Text(responseText(it, p.task.Shown[p.rewriteResp])),
		),
		app.Label().For("rewrite").Text("Your rewrite"),
		app.Textarea().ID("rewrite").Text(p.rewriteText).Aria("label", "Your rewrite").
			OnInput(func(ctx app.Context, e app.Event) { p.rewriteText = ctx.JSSrc().Get("value").String() }),
		app.Button().Class("primary").ID("rewrite-submit").Text("Save rewrite (Ctrl+Enter)").
			OnClick(func(ctx app.Context, e app.Event) { p.submitRewrite(ctx) }),
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
			OnInput(func(ctx app.Context, e app.Event) { p.note = ctx.JSSrc().Get("value").String() }),
	)
}

func (p *labelPage) renderFlag(it *feedback.Item) app.UI {
	return app.Div().Class("notice").ID("flag-panel").Role("dialog").Aria("label", "Flag an answer").Body(
		app.P().Body(app.Strong().Text("Flag which answer? "), app.Span().Class("muted").Text("(← → to choose, 1–4 for the category, Esc to close)")),
		app.Div().Class("choices").Body(
			app.Range(p.task.Shown).Slice(func(i int) app.UI {
				label := fmt.Sprintf("Answer %d", i+1)
				if p.mode == modeCompare {
					label = []string{"Left", "Right"}[i]
				}
				return app.Button().Class(selectedClass(p.flagTarget == i)).Text(label).
					OnClick(func(ctx app.Context, e app.Event) { p.flagTarget = i }, i)
			}),
		),
		app.Input().Type("text").ID("flag-note").Placeholder("What is wrong (optional)").Aria("label", "Flag note").
			Value(p.flagNote).OnInput(func(ctx app.Context, e app.Event) { p.flagNote = ctx.JSSrc().Get("value").String() }),
		app.Div().Class("choices").Style("margin-top", ".5rem").Body(
			app.Range(feedback.FlagCategories).Slice(func(i int) app.UI {
				c := feedback.FlagCategories[i]
				return app.Button().Class("danger").ID("flag-"+c).Body(app.Kbd().Text(fmt.Sprint(i+1)), app.Text(c)).
					OnClick(func(ctx app.Context, e app.Event) { p.submitFlag(ctx, c) }, c)
			}),
		),
	)
}

// keyHelp lists the keys: for every mode, then for the current one.
func (p *labelPage) keyHelp() [][2]string {
	keys := [][2]string{
		{"?", "show or hide this help"},
		{"[ ]", "previous / next mode (compare, rank, rate, rewrite)"},
		{"⇧1 … ⇧7", "toggle a reason: " + strings.Join(feedback.ReasonTags, ", ")},
		{"/", "write a note (Esc leaves the field)"},
		{"f", "flag an answer: ← → choose it, 1–4 harmful, biased, misleading, private"},
		{"z", "undo the last judgment"},
		{".", "skip this item"},
		{"g", "show or hide the guidelines"},
	}
	switch p.mode {
	case modeCompare:
		keys = append(keys, [][2]string{
			{"← or 1", "the left answer is better"}, {"→ or 2", "the right answer is better"},
			{"3 or t", "tie"}, {"4 or x", "both are bad"}, {"s", "strength: slightly, clearly, much better"},
		}...)
	case modeRank:
		keys = append(keys, [][2]string{
			{"1 … 4", "the next best answer"}, {"Backspace", "take back the last place"}, {"Enter", "save the ranking"},
		}...)
	case modeRate:
		keys = append(keys, [][2]string{
			{"1 … 7", "score on the current axis (helpful, harmless, honest)"}, {"↑ ↓", "change axis"},
			{"u / d", "thumb up / down"},
		}...)
	case modeRewrite:
		keys = append(keys, [][2]string{
			{"← →", "choose the answer to rewrite"}, {"e", "edit"}, {"Ctrl+Enter", "save the rewrite"},
			{"u / d", "thumb up / down"},
		}...)
	}
	return keys
}

func (p *labelPage) renderHelp() app.UI {
	keys := p.keyHelp()
	return app.Div().Class("overlay").ID("help").OnClick(func(ctx app.Context, e app.Event) { p.helpOpen = false }).Body(
		app.Div().Class("dialog").Role("dialog").Aria("modal", true).Aria("label", "Keyboard shortcuts").
			OnClick(func(ctx app.Context, e app.Event) { e.StopImmediatePropagation() }).
			Body(
				app.H2().Text("Keyboard shortcuts"),
				app.Div().Class("keys").Body(
					app.Range(keys).Slice(func(i int) app.UI {
						return app.Div().Style("display", "contents").Body(
							app.Kbd().Text(keys[i][0]), app.Span().Text(keys[i][1]),
						)
					}),
				),
				app.P().Class("muted").Style("margin-top", "1rem").Text("Press ? or Esc to close."),
			),
	)
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

// renderSync shows what the sync could not do: the link refused (syncing stopped),
// and the judgments the server refused, each with the server's reason. Refused
// judgments stay in this browser (they still count here); the rater can send them
// again after fixing the cause, or download them for the lead.
func (p *labelPage) renderSync() app.UI {
	st := syncer.status()
	if st.Stopped == "" && len(st.Held) == 0 {
		return nil
	}
	var held app.UI
	if len(st.Held) > 0 {
		rows := make([]app.UI, len(st.Held))
		for i, h := range st.Held {
			made := ""
			if h.Time > 0 {
				made = time.UnixMilli(h.Time).Format("2006-01-02 15:04")
			}
			rows[i] = app.Tr().Body(
				app.Td().Text(orDefault(h.Item, "—")),
				app.Td().Text(orDefault(h.Kind, "—")),
				app.Td().Text(made),
				app.Td().Class("held-error").Text(h.Error),
			)
		}
		held = app.Section().Class("panel").ID("sync-held").DataSet("count", len(st.Held)).Aria("label", "Judgments the server refused").Body(
			app.H2().Body(app.Text("Refused by the server"), app.Span().Class("tag bad").Text(fmt.Sprint(len(st.Held)))),
			app.P().Class("muted").Text("These judgments are kept in this browser and still count here, but the server did not take them, for the reason it gave. "+
				"Fix the cause (for example the device's clock) and send them again, or download them for your lead."),
			app.Div().Class("table-scroll").Body(app.Table().Body(
				app.THead().Body(app.Tr().Body(app.Th().Text("Item"), app.Th().Text("Kind"), app.Th().Text("Made"), app.Th().Text("The server's reason"))),
				app.TBody().Body(rows...),
			)),
			app.Div().Class("row").Body(
				app.Button().ID("held-retry").Text("Send them again").OnClick(p.onRetryHeld),
				app.Button().ID("held-download").Text("Download them").OnClick(p.onDownloadHeld),
			),
		)
	}
	return app.Div().Class("stack").Body(
		app.If(st.Stopped != "", app.Div().Class("notice bad").Role("alert").ID("sync-stopped").Text(st.Stopped)),
		held,
	)
}

func (p *labelPage) onRetryHeld(ctx app.Context, e app.Event) {
	ctx.Async(func() {
		err := syncer.retryHeld()
		p.ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				p.errMsg = "Could not send them again: " + err.Error()
				return
			}
			p.showToast(ctx, "Sending them again")
		})
	})
}

// onDownloadHeld offers the refused judgments as JSON lines: each line the
// judgment in the API's event form with the server's reason.
func (p *labelPage) onDownloadHeld(ctx app.Context, e app.Event) {
	var buf strings.Builder
	for _, h := range syncer.status().Held {
		line := map[string]any{"id": h.ID, "status": h.Status, "error": h.Error}
		if d, err := snapshot.Unmarshal(h.Record); err == nil && len(d.Judgments) > 0 {
			line["event"] = wire.FromJudgment(d.Judgments[0])
		}
		b, _ := json.Marshal(line)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	browser.Download("refused-judgments.jsonl", "application/x-ndjson", []byte(buf.String()))
}
