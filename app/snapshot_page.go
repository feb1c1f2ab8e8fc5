package app

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/snapshot"
)

// snapshotPage opens the snapshot named in the URL (/s/{id}): from the server, or
// from this browser's library when it was opened before (so a link works offline
// the second time). It then becomes the working state.
type snapshotPage struct {
	pageBase

	id   string
	msg  string
	bad  bool
	done bool
}

func (p *snapshotPage) OnMount(ctx app.Context) {
	p.mount(ctx)
	p.id = strings.TrimPrefix(routePath(app.Window().URL().Path), PathSnapshot)
	p.msg = "Opening snapshot " + shortID(p.id) + "…"
	id := p.id
	ctx.Async(func() {
		waitReady()
		msg, bad := openSnapshotID(id)
		p.ctx.Dispatch(func(ctx app.Context) { p.msg, p.bad, p.done = msg, bad, true })
	})
}

func (p *snapshotPage) OnDismount() { p.dismount() }

// openSnapshotID fetches snapshot id (or takes it from the library) and opens it.
//
// Two kinds of id reach it. A share id (32 hex digits, from Share or prefer push)
// names a snapshot on the server. A content id (sha256-…, what the page says after
// opening a state and what the Data page lists) names the bytes themselves, which the
// server never serves by it (its links cannot be guessed from the content): it opens
// from this browser's library, by the whole id or a unique beginning of it (the
// pages show it shortened, ending in …).
func openSnapshotID(id string) (string, bool) {
	wb.mu.Lock()
	db := wb.db
	wb.mu.Unlock()
	if db != nil {
		if data, ok, err := db.Get(storeLibrary, id); err == nil && ok {
			return openBytes(shortID(id), data, nil)
		}
	}
	if strings.HasPrefix(id, "sha256-") {
		prefix := strings.TrimRight(id, "…. ")
		var found []Record
		if db != nil && len(prefix) > len("sha256-")+4 {
			recs, _ := db.All(storeLibrary)
			for _, r := range recs {
				if strings.HasPrefix(r.Key, prefix) {
					found = append(found, r)
				}
			}
		}
		switch len(found) {
		case 1:
			return openBytes(shortID(found[0].Key), found[0].Value, nil)
		case 0:
			return fmt.Sprintf("%s is the content id of a state, and this browser keeps none with it (the Data page lists the states it keeps). A server's link is /s/ followed by 32 hex digits: ask whoever shared the state for the link that Share gave them.", shortID(id)), true
		default:
			return fmt.Sprintf("%d states kept in this browser begin with %s: give more of the id, or open one from the Data page.", len(found), prefix), true
		}
	}
	reply, err := browser.Fetch("GET", appPath("/api/v1/snapshots/"+url.PathEscape(id)), nil, map[string]string{"Accept": "application/msgpack"})
	status, data := reply.Status, reply.Body
	if err != nil {
		return "This snapshot is not in this browser yet and the server cannot be reached: open the link again when you are online.", true
	}
	switch status {
	case 200:
	case 404:
		return fmt.Sprintf("No snapshot %s on this server: check the link.", shortID(id)), true
	default:
		return fmt.Sprintf("The server could not give snapshot %s (HTTP %d): %s", shortID(id), status, shortBody(data)), true
	}
	if _, err := snapshot.Unmarshal(data); err == nil {
		_ = storeInLibrary(id, data)
	}
	return openBytes(shortID(id), data, nil)
}

func (p *snapshotPage) Render() app.UI {
	v := wb.view()
	var next app.UI
	if p.done && !p.bad {
		var links []app.UI
		for _, pg := range pages {
			links = append(links, app.A().Class("btn").Href(appPath(pg.path)).Text(pg.title+" →"))
		}
		next = app.Div().Class("stack").Body(
			stateSummary(v),
			app.Div().Class("row").Body(links...),
		)
	}
	return frame(PathSnapshot,
		app.H1().Text("Snapshot"),
		app.Div().Class(noticeClass(p.bad)).ID("snapshot-msg").DataSet("done", p.done).Role("status").Text(p.msg),
		app.Div().Style("margin-top", "1rem").Body(next),
	)
}
