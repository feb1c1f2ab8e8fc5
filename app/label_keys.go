// The label page's keyboard: one binding table drives both the key handler and the help overlay.

package app

import (
	"slices"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"prefer/core/feedback"
)

// keyScope says when a key binding of the label page applies.
type keyScope int

const (
	scopeTyping  keyScope = iota // the focus is in a text field: only these keys act
	scopeHelp                    // the help overlay is open
	scopeFlag                    // the flag dialog is open
	scopeAny                     // any mode, no dialog open
	scopeCompare                 // compare mode
	scopeRank                    // rank mode
	scopeRate                    // rate mode
	scopeRewrite                 // rewrite mode
)

// scopeTitles head the groups of the help overlay.
var scopeTitles = map[keyScope]string{
	scopeAny: "Everywhere", scopeFlag: "In the flag dialog", scopeCompare: "Compare",
	scopeRank: "Rank", scopeRate: "Rate", scopeRewrite: "Rewrite",
}

// modeScope is the scope of a labeling mode's own keys.
func modeScope(mode string) keyScope {
	switch mode {
	case modeRank:
		return scopeRank
	case modeRate:
		return scopeRate
	case modeRewrite:
		return scopeRewrite
	}
	return scopeCompare
}

// keyBinding is one keyboard shortcut of the label page: where it applies, the
// chords that trigger it (see keyPress), how the help overlay writes them and what
// they do (label "" keeps a binding out of the help), and the action.
type keyBinding struct {
	scope keyScope
	keys  []string
	label string
	help  string
	run   func(p *labelPage, ctx app.Context, k keyPress)
}

// digits returns the chords "from" … "to" of the digit keys, with a prefix
// ("Shift+" for the reason tags).
func digits(prefix string, from, to int) []string {
	var out []string
	for d := from; d <= to; d++ {
		out = append(out, prefix+string(rune('0'+d)))
	}
	return out
}

// digitOf is the digit of a chord made by digits: "Shift+3" → 3.
func digitOf(k keyPress) int { return int(k.Chord[len(k.Chord)-1] - '0') }

// labelKeys is every key of the label page. onKey dispatches on it and the help
// overlay (renderHelp) is generated from it, so the two cannot disagree.
var labelKeys = []keyBinding{
	{scopeTyping, []string{"Escape"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) { k.blurTarget() }},
	{scopeTyping, []string{"Ctrl+Enter"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) {
		if p.mode == modeRewrite && !p.flagOpen {
			p.submitRewrite(ctx)
		}
	}},

	{scopeHelp, []string{"Escape", "?"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) { p.helpOpen = false }},

	{scopeAny, []string{"?"}, "?", "show or hide this help", func(p *labelPage, ctx app.Context, k keyPress) { p.helpOpen = true }},
	{scopeAny, []string{"[", "]"}, "[ ]", "previous / next mode (compare, rank, rate, rewrite)", func(p *labelPage, ctx app.Context, k keyPress) {
		p.stepMode(map[string]int{"[": -1, "]": 1}[k.Chord])
	}},
	{scopeAny, digits("Shift+", 1, len(feedback.ReasonTags)), "⇧1 … ⇧" + string(rune('0'+len(feedback.ReasonTags))),
		"toggle a reason: " + strings.Join(feedback.ReasonTags, ", "), func(p *labelPage, ctx app.Context, k keyPress) {
			r := feedback.ReasonTags[digitOf(k)-1]
			p.reasons[r] = !p.reasons[r]
		}},
	{scopeAny, []string{"/"}, "/", "write a note (Esc leaves the field)", func(p *labelPage, ctx app.Context, k keyPress) { focus("note") }},
	{scopeAny, []string{"f"}, "f", "flag an answer", func(p *labelPage, ctx app.Context, k keyPress) {
		if p.task != nil {
			p.flagOpen = true
			p.flagTarget = p.currentResp()
		}
	}},
	{scopeAny, []string{"z", "Ctrl+z"}, "z", "undo the last judgment", func(p *labelPage, ctx app.Context, k keyPress) { p.undoLast(ctx) }},
	{scopeAny, []string{"."}, ".", "skip this item", func(p *labelPage, ctx app.Context, k keyPress) { p.skip() }},
	{scopeAny, []string{"g"}, "g", "show or hide the guidelines", func(p *labelPage, ctx app.Context, k keyPress) { p.guideOpen = !p.guideOpen }},
	{scopeAny, []string{"Escape"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) { p.errMsg = "" }},

	{scopeFlag, []string{"ArrowLeft", "ArrowUp"}, "← →", "choose the answer to flag", func(p *labelPage, ctx app.Context, k keyPress) {
		p.flagTarget = max(0, p.flagTarget-1)
	}},
	{scopeFlag, []string{"ArrowRight", "ArrowDown"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) {
		p.flagTarget = min(len(p.task.Shown)-1, p.flagTarget+1)
	}},
	{scopeFlag, digits("", 1, len(feedback.FlagCategories)), "1 … " + string(rune('0'+len(feedback.FlagCategories))),
		"flag it as " + strings.Join(feedback.FlagCategories, ", "), func(p *labelPage, ctx app.Context, k keyPress) {
			p.submitFlag(ctx, feedback.FlagCategories[digitOf(k)-1])
		}},
	{scopeFlag, []string{"n"}, "n", "write what is wrong", func(p *labelPage, ctx app.Context, k keyPress) { focus("flag-note") }},
	{scopeFlag, []string{"Escape"}, "Esc", "close the dialog", func(p *labelPage, ctx app.Context, k keyPress) { p.flagOpen = false }},

	{scopeCompare, []string{"ArrowLeft", "1"}, "← or 1", "the left answer is better", func(p *labelPage, ctx app.Context, k keyPress) { p.compare(ctx, "left") }},
	{scopeCompare, []string{"ArrowRight", "2"}, "→ or 2", "the right answer is better", func(p *labelPage, ctx app.Context, k keyPress) { p.compare(ctx, "right") }},
	{scopeCompare, []string{"3", "t"}, "3 or t", "tie", func(p *labelPage, ctx app.Context, k keyPress) { p.compare(ctx, "tie") }},
	{scopeCompare, []string{"4", "x"}, "4 or x", "both are bad", func(p *labelPage, ctx app.Context, k keyPress) { p.compare(ctx, "both-bad") }},
	{scopeCompare, []string{"s"}, "s", "strength: slightly, clearly, much better", func(p *labelPage, ctx app.Context, k keyPress) {
		p.strength = (p.strength + 1) % len(strengths)
	}},

	{scopeRank, digits("", 1, 9), "1 … 4", "the next best answer", func(p *labelPage, ctx app.Context, k keyPress) { p.rankPick(digitOf(k) - 1) }},
	{scopeRank, []string{"Backspace"}, "Backspace", "take back the last place", func(p *labelPage, ctx app.Context, k keyPress) { p.rankUnpick() }},
	{scopeRank, []string{"Enter"}, "Enter", "save the ranking", func(p *labelPage, ctx app.Context, k keyPress) { p.submitRank(ctx) }},

	{scopeRate, digits("", 1, feedback.ScoreMax), "1 … 7", "score on the current axis (helpful, harmless, honest)", func(p *labelPage, ctx app.Context, k keyPress) {
		p.rate(ctx, digitOf(k))
	}},
	{scopeRate, []string{"ArrowUp", "ArrowLeft"}, "↑ ↓", "change axis", func(p *labelPage, ctx app.Context, k keyPress) { p.rateAxis = max(0, p.rateAxis-1) }},
	{scopeRate, []string{"ArrowDown", "ArrowRight"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) {
		p.rateAxis = min(len(feedback.Axes)-1, p.rateAxis+1)
	}},
	{scopeRate, []string{"u"}, "u / d", "thumb up / down", func(p *labelPage, ctx app.Context, k keyPress) { p.thumb(ctx, true) }},
	{scopeRate, []string{"d"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) { p.thumb(ctx, false) }},

	{scopeRewrite, []string{"ArrowLeft"}, "← →", "choose the answer to rewrite", func(p *labelPage, ctx app.Context, k keyPress) { p.pickRewrite(-1) }},
	{scopeRewrite, []string{"ArrowRight"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) { p.pickRewrite(1) }},
	{scopeRewrite, []string{"e", "Enter"}, "e", "edit", func(p *labelPage, ctx app.Context, k keyPress) { focus("rewrite") }},
	{scopeRewrite, nil, "Ctrl+Enter", "save the rewrite (in the text field)", nil},
	{scopeRewrite, []string{"u"}, "u / d", "thumb up / down", func(p *labelPage, ctx app.Context, k keyPress) { p.thumb(ctx, true) }},
	{scopeRewrite, []string{"d"}, "", "", func(p *labelPage, ctx app.Context, k keyPress) { p.thumb(ctx, false) }},
}

// activeScopes are the scopes whose keys act now, most specific first.
func (p *labelPage) activeScopes(typing bool) []keyScope {
	switch {
	case typing:
		return []keyScope{scopeTyping}
	case p.helpOpen:
		return []keyScope{scopeHelp}
	case p.flagOpen:
		return []keyScope{scopeFlag}
	}
	return []keyScope{modeScope(p.mode), scopeAny}
}

// binding returns the binding a key press triggers now, or nil.
func (p *labelPage) binding(k keyPress) *keyBinding {
	for _, scope := range p.activeScopes(k.Typing) {
		for i := range labelKeys {
			b := &labelKeys[i]
			if b.scope == scope && b.run != nil && slices.Contains(b.keys, k.Chord) {
				return b
			}
		}
	}
	return nil
}

// onKey decides what a key does on the label page (listenKeys runs it).
func (p *labelPage) onKey(k keyPress) func(ctx app.Context) {
	b := p.binding(k)
	if b == nil {
		return nil
	}
	return func(ctx app.Context) { b.run(p, ctx, k) }
}

// keyGroup is a group of the help overlay: a title and its keys.
type keyGroup struct {
	title string
	keys  [][2]string // label, help
}

// keyHelp lists the keys for the help overlay: those of every mode, of the current
// mode and of the flag dialog.
func (p *labelPage) keyHelp() []keyGroup {
	var out []keyGroup
	for _, scope := range []keyScope{scopeAny, modeScope(p.mode), scopeFlag} {
		g := keyGroup{title: scopeTitles[scope]}
		for _, b := range labelKeys {
			if b.scope == scope && b.label != "" {
				g.keys = append(g.keys, [2]string{b.label, b.help})
			}
		}
		out = append(out, g)
	}
	return out
}

func (p *labelPage) renderHelp() app.UI {
	keys := p.keyHelp()
	return app.Div().Class("overlay").ID("help").OnClick(func(ctx app.Context, e app.Event) { p.helpOpen = false }).Body(
		app.Div().Class("dialog").Role("dialog").Aria("modal", true).Aria("label", "Keyboard shortcuts").
			OnClick(func(ctx app.Context, e app.Event) { e.StopImmediatePropagation() }).
			Body(
				app.H2().Text("Keyboard shortcuts"),
				app.Range(keys).Slice(func(g int) app.UI {
					return app.Div().Body(
						app.H3().Text(keys[g].title),
						app.Div().Class("keys").Body(
							app.Range(keys[g].keys).Slice(func(i int) app.UI {
								return app.Div().Style("display", "contents").Body(
									app.Kbd().Text(keys[g].keys[i][0]), app.Span().Text(keys[g].keys[i][1]),
								)
							}),
						),
					)
				}),
				app.P().Class("muted").Style("margin-top", "1rem").Text("Press ? or Esc to close."),
			),
	)
}

// focus focuses the element with the given id.
func focus(id string) {
	if el := app.Window().GetElementByID(id); el.Truthy() {
		el.Call("focus")
	}
}
