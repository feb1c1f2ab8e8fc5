// The label page's project link: a rater's queue from the server (/p/{project}#token=…).

package app

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
	"prefer/core/snapshot"
	"prefer/core/wire"
)

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
	reply, err := browser.Fetch("GET", link.url("/api/v1/projects/"+url.PathEscape(link.Project)+"/tasks"), nil,
		map[string]string{"Authorization": "Bearer " + link.Token, "Accept": "application/json"})
	status, body := reply.Status, reply.Body
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
	return fmt.Sprintf("Project %s: %d items in your queue.", cmp.Or(t.Name, t.Project), len(t.Items))
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
