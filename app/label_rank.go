// Rank mode of the label page: up to four answers ordered best first, by keys or by dragging.

package app

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

// submitRank saves the ranking. An order the rater has not touched (no number
// pressed, nothing dragged) is saved only when confirmed by a second Enter (or
// click): a stray Enter must not record the order the answers happened to be
// shown in as a judgment.
func (p *labelPage) submitRank(ctx app.Context) {
	if p.task == nil || p.busy {
		return
	}
	if p.rankPlaced == 0 && !p.rankConfirm {
		p.rankConfirm = true
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
	p.rankConfirm = false
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
	touch := coarsePointer()
	hint := "Press the numbers of the answers from best to worst (or drag them), then Enter. Backspace takes back the last place."
	if touch {
		hint = "Tap the answers from best to worst, then Save."
	}
	return app.Div().Class("stack").Body(
		app.P().Class("muted").Text(hint),
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
					OnClick(func(ctx app.Context, e app.Event) {
						if touch { // no dragging on a touch screen: a tap places the answer next
							p.rankPick(idx)
						}
					}, pos).
					Body(
						app.Span().Class("pos").Text(fmt.Sprintf("%d.", pos+1)),
						app.Kbd().Text(fmt.Sprint(idx+1)),
						app.Span().Text(responseText(it, p.task.Shown[idx])),
					)
			}),
		),
		app.If(p.rankConfirm, app.Div().Class("notice info").Role("status").ID("rank-confirm").Text(
			"You have not ranked these answers yet: this is the order they were shown in. Press Enter (or Save) again to save it as your ranking, or press the numbers from best to worst.")),
		app.Button().Class("primary").ID("rank-submit").Text(rankSaveLabel(p.rankConfirm)).
			OnClick(func(ctx app.Context, e app.Event) { p.submitRank(ctx) }),
	)
}

func rankSaveLabel(confirm bool) string {
	if confirm {
		return "Save this order as shown (Enter)"
	}
	return "Save ranking (Enter)"
}
