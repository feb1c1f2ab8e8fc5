// Rate mode of the label page: Likert scores on each axis, and thumbs up or down.

package app

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

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
