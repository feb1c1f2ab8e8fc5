// Rewrite mode of the label page: a poor answer rewritten into a demonstration.

package app

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
	"prefer/core/wire"
)

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

func (p *labelPage) renderRewrite(it *feedback.Item) app.UI {
	return app.Div().Class("stack").Body(
		app.P().Class("muted").Text("Rewrite the answer into a good one: your text becomes a demonstration that beats the original. ← → picks another answer; e edits; Ctrl+Enter saves."),
		app.Div().Class("answer").ID("rewrite-original").Body(
			app.Span().Class("side").Text(fmt.Sprintf("Answer %d of %d", p.rewriteResp+1, len(p.task.Shown))),
			app.P().Text(responseText(it, p.task.Shown[p.rewriteResp])),
		),
		app.Label().For("rewrite").Text("Your rewrite"),
		app.Textarea().ID("rewrite").Text(p.rewriteText).Aria("label", "Your rewrite").
			OnInput(func(ctx app.Context, e app.Event) {
				p.rewriteText = ctx.JSSrc().Get("value").String()
				p.checkCap("text", len(p.rewriteText), wire.MaxTextBytes)
			}),
		app.Button().Class("primary").ID("rewrite-submit").Text("Save rewrite (Ctrl+Enter)").
			OnClick(func(ctx app.Context, e app.Event) { p.submitRewrite(ctx) }),
	)
}
