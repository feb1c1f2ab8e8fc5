// The label page's sync panel: a refused link, and the judgments the server refused.

package app

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/snapshot"
	"prefer/core/wire"
)

// renderSync shows what the sync could not do: the link refused (syncing stopped),
// the rater's storage quota on the server full (the judgments stay queued), and the
// judgments the server refused, each with the server's reason. Refused
// judgments stay in this browser (they still count here); the rater can send them
// again after fixing the cause, or download them for the lead.
func (p *labelPage) renderSync() app.UI {
	st := syncer.status()
	if st.Stopped == "" && st.Full == "" && len(st.Held) == 0 {
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
				app.Td().Text(cmp.Or(h.Item, "—")),
				app.Td().Text(cmp.Or(h.Kind, "—")),
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
		app.If(st.Full != "", app.Div().Class("notice bad").Role("alert").ID("sync-full").DataSet("pending", st.Pending).Body(
			app.Strong().Text(fmt.Sprintf("%d judgment(s) not synced: your storage quota on the server is full. ", st.Pending)),
			app.Text(st.Full),
		)),
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
