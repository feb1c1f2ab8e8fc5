package app

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

// leadPattern matches the project lead's page, /p/{project}/lead (the lead token
// travels in the fragment, #token=…, like a rater's).
const leadPattern = `^/p/([A-Za-z0-9._-]+)/lead$`

var leadPathRE = regexp.MustCompile(leadPattern)

// Keys of the meta store for the lead's page.
const (
	metaLead         = "lead"          // JSON of leadLink: the project this browser leads
	metaLeadProgress = "lead-progress" // JSON of leadSaved: the last progress fetched
	metaLeadPull     = "lead-pull"     // JSON of leadPull: what the last pull brought
)

// leadLink is the project a lead follows: its id and the lead token.
type leadLink struct {
	Project string `json:"project"`
	Token   string `json:"token"`
	Name    string `json:"name,omitempty"`
}

// leadSaved is the progress as last fetched, kept for offline use.
type leadSaved struct {
	At       int64         `json:"at"` // when it was fetched (unix ms, this device's clock)
	Progress wire.Progress `json:"progress"`
}

// leadPull records the last pull: the server's cursor after it, which working state
// it went into (a key of its item ids) and how many judgments it holds.
type leadPull struct {
	Project string `json:"project"`
	Cursor  string `json:"cursor"`
	Items   string `json:"items"`
	Events  int    `json:"events"` // judgments of the project in the working state
	Added   int    `json:"added"`  // new in the last pull
	At      int64  `json:"at"`
}

// leadFromURL reads the lead's link: /p/{project}/lead#token=TOKEN.
func leadFromURL(u *url.URL) (leadLink, bool) {
	m := leadPathRE.FindStringSubmatch(routePath(u.Path))
	if m == nil {
		return leadLink{}, false
	}
	frag, _ := url.ParseQuery(u.Fragment)
	return leadLink{Project: m[1], Token: frag.Get("token")}, true
}

// leadPage is the project lead's page (/p/{project}/lead#token=…): the progress of
// each rater from the server (done of assigned, gold accuracy, judgments, last
// seen), and a button that pulls every judgment of the project into the working
// state, so the Quality, Reward and Policy pages analyse them. The progress and
// the pulled state are kept in this browser: the page works offline with the last
// pull.
type leadPage struct {
	pageBase

	link     leadLink
	progress *wire.Progress
	at       int64 // when progress was fetched (unix ms)
	pull     leadPull
	loaded   bool
	busy     bool
	msg      string // about the progress (offline, refused…)
	bad      bool
	pullMsg  string
	pullBad  bool
	refreshN int // completed refreshes, for tests (data-refreshed)

	records   recordBrowser // the pulled judgments, with reviews sent to the server
	reviewMsg string
	reviewBad bool
	reviewed  int // reviews the server took, for tests (data-reviewed)
}

func (p *leadPage) OnMount(ctx app.Context) {
	p.records = recordBrowser{ID: "lead-records", Review: p.review}
	p.mount(ctx)
	fromURL, _ := leadFromURL(app.Window().URL())
	p.link = fromURL
	ctx.Async(func() {
		waitReady()
		link, saved, pull, msg := loadLead(fromURL)
		p.ctx.Dispatch(func(ctx app.Context) {
			p.link, p.loaded, p.pull = link, true, pull
			if saved != nil {
				p.progress, p.at = &saved.Progress, saved.At
			}
			if msg != "" {
				p.msg, p.bad = msg, true
				return
			}
			p.refresh(ctx)
		})
	})
}

func (p *leadPage) OnDismount() { p.dismount() }

// loadLead settles the link (the URL's token, else the one stored for the same
// project) and reads what was stored of the project.
func loadLead(fromURL leadLink) (leadLink, *leadSaved, leadPull, string) {
	var stored leadLink
	_ = json.Unmarshal([]byte(wb.Meta(metaLead)), &stored)
	link := fromURL
	switch {
	case link.Token == "" && stored.Project == link.Project:
		link = stored
	case link.Token == "":
		return link, nil, leadPull{}, "This lead link has no token (#token=…): open the link the server printed for the lead."
	case stored.Project == link.Project && stored.Token == link.Token:
		link.Name = stored.Name
	default:
		raw, _ := json.Marshal(link)
		_ = wb.SetMeta(metaLead, string(raw))
	}
	var saved *leadSaved
	var s leadSaved
	if json.Unmarshal([]byte(wb.Meta(metaLeadProgress)), &s) == nil && s.Progress.ID == link.Project {
		saved = &s
	}
	var pull leadPull
	if json.Unmarshal([]byte(wb.Meta(metaLeadPull)), &pull) != nil || pull.Project != link.Project {
		pull = leadPull{}
	}
	return link, saved, pull, ""
}

// refresh fetches the progress from the server (or says why it cannot).
func (p *leadPage) refresh(ctx app.Context) {
	if p.busy || p.link.Token == "" {
		return
	}
	p.busy = true
	link := p.link
	ctx.Async(func() {
		prog, err := fetchProgress(link)
		var saved leadSaved
		if err == nil {
			saved = leadSaved{At: time.Now().UnixMilli(), Progress: *prog}
			raw, _ := json.Marshal(saved)
			_ = wb.SetMeta(metaLeadProgress, string(raw))
			if prog.Name != link.Name {
				link.Name = prog.Name
				raw, _ := json.Marshal(link)
				_ = wb.SetMeta(metaLead, string(raw))
			}
		}
		p.ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			p.refreshN++
			if err != nil {
				p.msg, p.bad = err.Error(), !errors.Is(err, errProgressOffline)
				return
			}
			p.link = link
			p.progress, p.at, p.msg, p.bad = &saved.Progress, saved.At, "", false
		})
	})
}

// errOffline says the server could not be reached.
var errOffline = errors.New("offline")

// errProgressOffline says the progress shown is the one stored (not a fault).
var errProgressOffline = errors.New("Offline: this is the progress as it was last fetched.")

// leadGet performs an authorized GET of an API path for the lead and returns the
// body of a 200 answer.
func leadGet(link leadLink, path, accept string) ([]byte, error) {
	reply, err := browser.Fetch("GET", appPath(path), nil, map[string]string{
		"Authorization": "Bearer " + link.Token, "Accept": accept})
	status, body := reply.Status, reply.Body
	switch {
	case err != nil:
		return nil, errOffline
	case status == 401 || status == 403:
		return nil, fmt.Errorf("the server refused the lead link (HTTP %d: %s): it is wrong or not the lead's; open the lead link the server printed", status, shortBody(body))
	case status == 404:
		return nil, fmt.Errorf("the server does not know this project (HTTP 404): check the link")
	case status != 200:
		return nil, fmt.Errorf("the server could not answer (HTTP %d): %s", status, shortBody(body))
	}
	return body, nil
}

// fetchProgress asks the server for the progress of each rater.
func fetchProgress(link leadLink) (*wire.Progress, error) {
	body, err := leadGet(link, "/api/v1/projects/"+url.PathEscape(link.Project), "application/json")
	if errors.Is(err, errOffline) {
		return nil, errProgressOffline
	}
	if err != nil {
		return nil, err
	}
	var prog wire.Progress
	if err := json.Unmarshal(body, &prog); err != nil {
		return nil, fmt.Errorf("the server's answer is not a project's progress: %v", err)
	}
	return &prog, nil
}

// fetchEvents reads every event stored after cursor, page by page.
func fetchEvents(link leadLink, cursor string) ([]feedback.Judgment, string, error) {
	var out []feedback.Judgment
	for range 10000 {
		q := url.Values{"limit": {"5000"}}
		if cursor != "" {
			q.Set("since", cursor)
		}
		body, err := leadGet(link, "/api/v1/projects/"+url.PathEscape(link.Project)+"/events?"+q.Encode(), "application/json")
		if err != nil {
			return nil, "", err
		}
		var page wire.EventsPage
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, "", fmt.Errorf("the server's answer is not a page of events: %v", err)
		}
		out = append(out, wire.Judgments(page.Events)...)
		cursor = page.Cursor
		if !page.More {
			return out, cursor, nil
		}
	}
	return nil, "", errors.New("the server keeps sending pages of events: try again later")
}

// itemsKey identifies a working state by its item ids: a pull goes on from the
// last one only into the state it made (jobs keep the items; opening another
// snapshot changes them).
func itemsKey(items []feedback.Item) string {
	if len(items) == 0 {
		return ""
	}
	h := sha256.New()
	for _, it := range items {
		h.Write([]byte(it.ID))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// projectRaters returns the raters of the progress and of the judgments (a lead's
// reviews may name raters the progress lacks), as human raters, in id order.
func projectRaters(prog *wire.Progress, js []feedback.Judgment) []feedback.Rater {
	seen := map[string]bool{}
	var out []feedback.Rater
	for _, r := range prog.Raters {
		if !seen[r.ID] {
			seen[r.ID] = true
			out = append(out, feedback.Rater{ID: r.ID, Name: r.Name, Group: r.Group, Kind: feedback.RaterHuman})
		}
	}
	for _, j := range js {
		if j.Rater != "" && !seen[j.Rater] {
			seen[j.Rater] = true
			out = append(out, feedback.Rater{ID: j.Rater, Name: j.Rater, Kind: feedback.RaterHuman})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// projectState builds the working state of a project: the items and guidelines of
// the snapshot it was made from (base, encoded), the project's raters and its
// judgments. The base's own judgments, raters, models and runs are left out: the
// state describes this project's labeling only.
func projectState(base []byte, prog *wire.Progress, js []feedback.Judgment) (*snapshot.Snapshot, error) {
	b, err := snapshot.Unmarshal(base)
	if err != nil {
		return nil, fmt.Errorf("the project's snapshot is not readable: %v", err)
	}
	s := &snapshot.Snapshot{
		Provenance: snapshot.Provenance{Tool: "prefer web", Parent: snapshot.ID(base),
			Command: fmt.Sprintf("lead pull of project %s (%s)", cmp.Or(prog.Name, prog.ID), prog.ID)},
		Items:      b.Items,
		Guidelines: b.Guidelines,
		Raters:     projectRaters(prog, js),
	}
	s.SetLog(feedback.NewLog(js...))
	return s, nil
}

// pullProject brings every judgment of the project into the working state. When
// the working state is the one the last pull made, only the judgments stored since
// are fetched and added; otherwise the project's state is built afresh (the
// current state is kept on the Data page).
func pullProject(link leadLink, prog *wire.Progress) (msg string, bad bool) {
	var last leadPull
	if json.Unmarshal([]byte(wb.Meta(metaLeadPull)), &last) != nil || last.Project != link.Project {
		last = leadPull{}
	}
	v := wb.view()
	same := last.Items != "" && last.Items == itemsKey(v.Snap.Items)
	cursor := ""
	if same {
		cursor = last.Cursor
	}
	js, cursor, err := fetchEvents(link, cursor)
	if errors.Is(err, errOffline) {
		return "Offline: the judgments cannot be pulled now. The Quality, Reward and Policy pages analyse the last pull.", true
	}
	if err != nil {
		return err.Error(), true
	}
	rec := leadPull{Project: link.Project, Cursor: cursor, At: time.Now().UnixMilli()}
	if same {
		added, err := wb.addPulled(js, projectRaters(prog, js))
		if err != nil {
			return "Could not keep the judgments in this browser: " + err.Error(), true
		}
		rec.Added, rec.Events = added, last.Events+added
	} else {
		base, err := leadGet(link, "/api/v1/snapshots/"+url.PathEscape(prog.Snapshot), "application/msgpack")
		if errors.Is(err, errOffline) {
			return "Offline: the judgments cannot be pulled now.", true
		}
		if err != nil {
			return "The project's snapshot: " + err.Error(), true
		}
		s, err := projectState(base, prog, js)
		if err != nil {
			return err.Error(), true
		}
		data, err := snapshot.Marshal(s)
		if err != nil {
			return err.Error(), true
		}
		if err := wb.Replace(data, s); err != nil {
			return "Could not keep the judgments in this browser: " + err.Error(), true
		}
		rec.Added, rec.Events = len(s.Judgments), len(s.Judgments)
	}
	rec.Items = itemsKey(wb.view().Snap.Items)
	raw, _ := json.Marshal(rec)
	if err := wb.SetMeta(metaLeadPull, string(raw)); err != nil {
		return err.Error(), true
	}
	return fmt.Sprintf("Pulled %d new judgment(s); the working state holds the project's %d.", rec.Added, rec.Events), false
}

// addPulled adds judgments pulled from the server to the working state, as Record
// does for one (store "events", then the state), in one transaction; judgments
// already held are skipped. raters are added when a new judgment names them.
func (w *workbench) addPulled(js []feedback.Judgment, raters []feedback.Rater) (int, error) {
	w.mu.Lock()
	db := w.db
	known := map[string]bool{}
	for _, r := range w.snap.Raters {
		known[r.ID] = true
	}
	for id := range w.extra {
		known[id] = true
	}
	var fresh []feedback.Judgment
	for _, j := range js {
		if !w.log.Has(j.ID) {
			fresh = append(fresh, j)
		}
	}
	w.mu.Unlock()
	if db == nil {
		return 0, errors.New("the browser database is not open")
	}
	byID := map[string]feedback.Rater{}
	for _, r := range raters {
		byID[r.ID] = r
	}
	var added []feedback.Rater
	ops := make([]Op, 0, len(fresh))
	for _, j := range fresh {
		rec := &snapshot.Snapshot{Judgments: []feedback.Judgment{j}}
		if j.Rater != "" && !known[j.Rater] {
			r, ok := byID[j.Rater]
			if !ok {
				r = feedback.Rater{ID: j.Rater, Name: j.Rater, Kind: feedback.RaterHuman}
			}
			known[j.Rater] = true
			rec.Raters = []feedback.Rater{r}
			added = append(added, r)
		}
		data, err := snapshot.Marshal(rec)
		if err != nil {
			return 0, fmt.Errorf("encode judgment %s: %w", j.ID, err)
		}
		ops = append(ops, Op{Store: storeEvents, Key: j.ID, Value: data})
	}
	if len(ops) == 0 {
		return 0, nil
	}
	if err := db.Apply(ops...); err != nil {
		return 0, err
	}
	w.mu.Lock()
	for _, r := range added {
		w.extra[r.ID] = r
		w.snap.Raters = append(w.snap.Raters, r)
	}
	for _, j := range fresh {
		w.log.Append(j)
		w.unsaved[j.ID] = true
	}
	w.version++
	w.mu.Unlock()
	w.notify()
	return len(fresh), nil
}

func (p *leadPage) onPull(ctx app.Context, e app.Event) {
	if p.busy || p.progress == nil {
		return
	}
	p.busy = true
	p.pullMsg, p.pullBad = "Pulling the judgments…", false
	link, prog := p.link, *p.progress
	ctx.Async(func() {
		msg, bad := pullProject(link, &prog)
		var pull leadPull
		_ = json.Unmarshal([]byte(wb.Meta(metaLeadPull)), &pull)
		p.ctx.Dispatch(func(ctx app.Context) {
			p.busy = false
			p.pullMsg, p.pullBad = msg, bad
			if pull.Project == link.Project {
				p.pull = pull
			}
		})
	})
}

func (p *leadPage) Render() app.UI {
	v := wb.view()
	title := "Project lead"
	if p.link.Name != "" {
		title = "Project " + p.link.Name
	} else if p.progress != nil && p.progress.Name != "" {
		title = "Project " + p.progress.Name
	}
	var body app.UI
	switch {
	case !v.Ready || !p.loaded:
		body = loading(v)
	case p.progress == nil && p.msg != "":
		body = app.Div().Class("notice bad").Role("alert").ID("lead-msg").Text(p.msg)
	case p.progress == nil:
		body = app.P().Class("muted").ID("lead-msg").Text("Asking the server for the progress…")
	default:
		body = p.renderProgress(p.progress)
	}
	return frame("",
		app.Div().Class("page-head").Body(
			app.Div().Body(
				app.H1().Text(title),
				app.P().Text("Your raters' progress on the server, and their judgments pulled into this browser for the Quality, Reward and Policy pages. The last pull stays here for offline work."),
			),
			app.Div().Class("row").Body(
				app.Button().ID("lead-refresh").Disabled(p.busy || p.link.Token == "").Text("Refresh").OnClick(func(ctx app.Context, e app.Event) { p.refresh(ctx) }),
				app.Button().Class("primary").ID("lead-pull").Disabled(p.busy || p.progress == nil).
					Title("Replaces the working state with the project's items and judgments; the current state is kept on the Data page").
					Text("Pull all judgments").OnClick(p.onPull),
			),
		),
		body,
	)
}

// renderProgress shows the project's figures, the rater table and the last pull.
func (p *leadPage) renderProgress(prog *wire.Progress) app.UI {
	now := time.Now().UnixMilli()
	var assigned, done int
	for _, r := range prog.Raters {
		assigned += r.Assigned
		done += r.Done
	}
	rows := make([]app.UI, len(prog.Raters))
	for i, r := range prog.Raters {
		frac := 0
		if r.Assigned > 0 {
			frac = 100 * r.Done / r.Assigned
		}
		name := r.ID
		if r.Name != "" && r.Name != r.ID {
			name += " · " + r.Name
		}
		gold := "no gold items"
		switch {
		case r.GoldDone > 0:
			gold = fmt.Sprintf("%s (%d of %d comparisons)", pct(float64(r.GoldCorrect)/float64(r.GoldDone)), r.GoldCorrect, r.GoldDone)
		case r.GoldAssigned > 0:
			gold = fmt.Sprintf("none answered yet (%d in the queue)", r.GoldAssigned)
		}
		seen := "never"
		if r.LastTime > 0 {
			seen = fmtAgo(now - r.LastTime)
		}
		rows[i] = app.Tr().DataSet("rater", r.ID).DataSet("done", r.Done).DataSet("assigned", r.Assigned).Body(
			app.Td().Body(app.Text(name), app.If(r.Group != "", app.Span().Class("tag").Style("margin-left", ".4rem").Text(r.Group))),
			app.Td().Style("min-width", "180px").Body(
				app.Div().Class("num").Style("text-align", "left").Text(fmt.Sprintf("%d of %d", r.Done, r.Assigned)),
				progressBar(frac, "Progress of "+r.ID),
			),
			app.Td().Text(gold),
			app.Td().Class("num").Body(
				app.Text(fmt.Sprint(r.Events)),
				when(quotaUse(prog, r) >= quotaWarn, func() app.UI {
					return app.Span().Class("tag bad").ID("quota-"+r.ID).Style("margin-left", ".4rem").
						Title(fmt.Sprintf("%d judgments (%s) stored of the quota of %d and %s per rater", r.Events, mibText(r.Bytes), prog.QuotaEvents, mibText(prog.QuotaBytes))).
						Text(fmt.Sprintf("quota %s used", pct(quotaUse(prog, r))))
				}),
			),
			app.Td().Text(seen),
		)
	}
	asOf := "as of " + time.UnixMilli(p.at).Format("2006-01-02 15:04")
	return app.Div().Class("stack").Body(
		app.If(p.msg != "", app.Div().Class(leadNoticeClass(p.bad)).Role("status").ID("lead-msg").Text(p.msg)),
		app.Div().Class("grid grid-4").ID("lead-summary").Body(
			stat("Raters", fmt.Sprint(len(prog.Raters)), fmt.Sprintf("overlap %d", prog.Overlap)),
			stat("Items", fmt.Sprint(prog.Items), fmt.Sprintf("%d gold", prog.GoldItems)),
			stat("Assignments done", fmt.Sprintf("%d of %d", done, assigned), pctOf(done, assigned)),
			stat("Judgments on the server", fmt.Sprint(prog.Events), asOf),
		),
		app.Section().Class("panel").Body(
			app.H2().Text("Raters"),
			app.Div().Class("table-scroll").Body(app.Table().ID("lead-raters").DataSet("refreshed", p.refreshN).Body(
				app.THead().Body(app.Tr().Body(
					app.Th().Text("Rater"), app.Th().Text("Done of assigned"), app.Th().Text("Gold accuracy"),
					app.Th().Class("num").Text("Judgments"), app.Th().Text("Last seen"),
				)),
				app.TBody().Body(rows...),
			)),
			app.P().Class("muted").Text("Done: items of the rater's queue with a judgment that stands (not withdrawn or rejected). Gold accuracy: comparisons on gold items decided in the order of the two answers' known quality, of those with such an order. Last seen: the newest judgment's time, by the rater's clock."),
			when(prog.QuotaEvents > 0, func() app.UI {
				return app.P().Class("muted").ID("lead-quota").Text(fmt.Sprintf(
					"Storage quota of each rater: %d judgments and %s. A rater who reaches it cannot sync more (their judgments wait in their browser) until you restart the server with larger --max-rater-events or --max-rater-bytes; raters past %s of it are marked.",
					prog.QuotaEvents, mibText(prog.QuotaBytes), pct(quotaWarn)))
			}),
		),
		p.renderPull(),
		when(p.pull.At > 0, func() app.UI { return p.renderReview() }),
	)
}

// renderReview is the lead's review of the pulled judgments: the record browser,
// whose accept, reject and edit go to the server as review events.
func (p *leadPage) renderReview() app.UI {
	return app.Section().Class("panel stack").ID("lead-review").DataSet("reviewed", p.reviewed).Body(
		app.H2().Text("Review judgments"),
		app.P().Class("muted").Text("Find a judgment and accept, reject or correct it. A review is a new event sent to the server and pulled by everyone: the rater's judgment stays in the history, and every figure, pair and reward model uses the latest version that no review rejected."),
		app.If(p.reviewMsg != "", app.Div().Class(noticeClass(p.reviewBad)).Role("status").ID("lead-review-msg").Text(p.reviewMsg)),
		p.records.render(wb.view()),
	)
}

// review sends a review event to the project with the lead's token, then keeps it
// in the working state (the next pull would bring it too; it is not added twice).
func (p *leadPage) review(ctx app.Context, j feedback.Judgment) {
	link := p.link
	p.reviewMsg, p.reviewBad = "Sending the review…", false
	ctx.Async(func() {
		msg, bad := sendReview(link, j)
		p.ctx.Dispatch(func(ctx app.Context) {
			p.reviewMsg, p.reviewBad = msg, bad
			if !bad {
				p.reviewed++
			}
		})
	})
}

// sendReview posts one review to the project and adds it to the working state.
func sendReview(link leadLink, j feedback.Judgment) (msg string, bad bool) {
	body, err := wire.EncodeEventsMsgpack([]feedback.Judgment{j})
	if err != nil {
		return err.Error(), true
	}
	reply, err := browser.Fetch("POST", appPath("/api/v1/projects/"+url.PathEscape(link.Project)+"/events"), body,
		map[string]string{"Authorization": "Bearer " + link.Token, "Content-Type": wire.ContentTypeMsgpack})
	status, answer := reply.Status, reply.Body
	switch {
	case err != nil:
		return "Offline: the review was not sent. Try again when the server answers.", true
	case status != 200:
		return fmt.Sprintf("The server refused the review (HTTP %d): %s", status, shortBody(answer)), true
	}
	if _, err := wb.addPulled([]feedback.Judgment{j}, nil); err != nil {
		return "Sent, but not kept in this browser: " + err.Error() + " (pull again)", true
	}
	return fmt.Sprintf("Sent: %s of %s. Raters, pairs and models now use the reviewed version.", j.Verdict, j.Target), false
}

func (p *leadPage) renderPull() app.UI {
	var last app.UI
	if p.pull.At > 0 {
		last = app.P().ID("lead-pulled").DataSet("events", p.pull.Events).Text(fmt.Sprintf(
			"Last pull %s: %d judgment(s) of this project are in the working state.", time.UnixMilli(p.pull.At).Format("2006-01-02 15:04"), p.pull.Events))
	} else {
		last = app.P().ID("lead-pulled").DataSet("events", 0).Text("Nothing pulled yet.")
	}
	var links []app.UI
	for _, pg := range pages {
		if pg.path == PathQuality || pg.path == PathReward || pg.path == PathPolicy {
			links = append(links, app.A().Class("btn").Href(appPath(pg.path)).Text(pg.title+" →"))
		}
	}
	return app.Section().Class("panel stack").ID("lead-pull-panel").Body(
		app.H2().Text("Judgments in this browser"),
		app.P().Class("muted").Text("Pull all judgments brings every judgment the raters sent into the working state (the first pull replaces it with the project's items and judgments; the state before is kept on the Data page; later pulls add what is new). Then analyse them:"),
		last,
		app.If(p.pullMsg != "", app.Div().Class(noticeClass(p.pullBad)).Role("status").ID("lead-pull-msg").DataSet("bad", p.pullBad).Text(p.pullMsg)),
		app.Div().Class("row").Body(links...),
	)
}

// leadNoticeClass is a refusal (bad) or a warning (offline: the stored progress).
func leadNoticeClass(bad bool) string {
	if bad {
		return "notice bad"
	}
	return "notice"
}

// pctOf formats a/b as a percentage ("—" when b is 0).
// quotaWarn is the share of the storage quota from which the lead page marks a rater.
const quotaWarn = 0.8

// quotaUse is the share of the storage quota rater r has used: the larger of its
// events and bytes shares; 0 when the server gave no quota.
func quotaUse(prog *wire.Progress, r wire.RaterProgress) float64 {
	var u float64
	if prog.QuotaEvents > 0 {
		u = float64(r.Events) / float64(prog.QuotaEvents)
	}
	if prog.QuotaBytes > 0 {
		u = max(u, float64(r.Bytes)/float64(prog.QuotaBytes))
	}
	return u
}

// mibText writes a byte count in MiB (KiB under one MiB).
func mibText(n int64) string {
	switch {
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func pctOf(a, b int) string {
	if b == 0 {
		return "—"
	}
	return pct(float64(a) / float64(b))
}

// fmtAgo says how long ago something happened, for people.
func fmtAgo(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < -time.Minute:
		return "in the future (the rater's clock is ahead)"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
}

// leadLinkUI links the home page to the lead's page of the project this browser
// leads, if any.
func leadLinkUI() app.UI {
	var link leadLink
	if json.Unmarshal([]byte(wb.Meta(metaLead)), &link) != nil || link.Project == "" {
		return nil
	}
	return app.P().ID("home-lead").Body(
		app.Text("You lead project "+cmp.Or(link.Name, link.Project)+": "),
		app.A().Href(appPath("/p/"+link.Project+"/lead")).Text("its progress and judgments →"),
	)
}
