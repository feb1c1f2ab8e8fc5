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

// renderCompare shows the two answers and the choices. On a phone (a coarse
// pointer: touch) the answers stack, the choices are a bar at the bottom of the
// screen within a thumb's reach, and tapping an answer chooses it.
func (p *labelPage) renderCompare(it *feedback.Item) app.UI {
	touch := coarsePointer()
	choose := func(c string) app.EventHandler {
		return func(ctx app.Context, e app.Event) { p.compare(ctx, c) }
	}
	side := func(i int, name, key string) app.UI {
		label := strings.ToUpper(name[:1]) + name[1:] + " · " + key
		d := app.Div().Class("answer").ID("answer-"+name).Aria("label", name+" answer").Body(
			app.Span().Class("side").Text(label),
			app.P().Text(responseText(it, p.task.Shown[i])),
		)
		if touch {
			d = d.Class("answer tappable").Role("button").TabIndex(0).Aria("label", name+" answer: tap to choose it as better").OnClick(choose(name))
		}
		return d
	}
	return app.Div().Class("stack").Body(
		app.Div().Class("answers").Body(side(0, "left", "← or 1"), side(1, "right", "→ or 2")),
		app.If(touch, app.P().Class("muted tap-hint").Text("Tap the better answer, or use the buttons below.")),
		app.Div().Class("choices choice-bar").Role("group").Aria("label", "Your choice").Body(
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

// coarsePointer reports whether the page is used by touch (a phone or tablet):
// CSS's (pointer: coarse).
func coarsePointer() bool {
	mq := app.Window().Call("matchMedia", "(pointer: coarse)")
	return mq.Truthy() && mq.Get("matches").Bool()
}
