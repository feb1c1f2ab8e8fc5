// Compare mode of the label page: two answers, left or right better, tie or both bad, with a strength.

package app

import (
	"cmp"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

// strengths are the optional strengths of a comparison (feedback.Judgment.Strength).
var strengths = []string{"", "slightly", "clearly", "much"}

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
				Text("Strength: "+cmp.Or(strengths[p.strength], "not given")+" (s)").
				OnClick(func(ctx app.Context, e app.Event) { p.strength = (p.strength + 1) % len(strengths) }),
		),
	)
}
