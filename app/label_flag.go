// The label page's flag dialog: an answer flagged as harmful, biased, misleading or private.

package app

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
	"prefer/core/wire"
)

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
			Value(p.flagNote).OnInput(func(ctx app.Context, e app.Event) {
			p.flagNote = ctx.JSSrc().Get("value").String()
			p.checkCap("note", len(p.flagNote), wire.MaxNoteBytes)
		}),
		app.Div().Class("choices").Style("margin-top", ".5rem").Body(
			app.Range(feedback.FlagCategories).Slice(func(i int) app.UI {
				c := feedback.FlagCategories[i]
				return app.Button().Class("danger").ID("flag-"+c).Body(app.Kbd().Text(fmt.Sprint(i+1)), app.Text(c)).
					OnClick(func(ctx app.Context, e app.Event) { p.submitFlag(ctx, c) }, c)
			}),
		),
	)
}
