// Rank mode of the label page: up to four answers ordered best first, by keys or by dragging.

package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

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

// rankUnpick takes back the last place fixed by the keyboard.
func (p *labelPage) rankUnpick() {
	if p.rankPlaced > 0 {
		p.rankPlaced--
		if p.rankPlaced == len(p.rankOrder)-1 {
			p.rankPlaced--
		}
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
