package app

import (
	"slices"
	"strings"
	"testing"

	"prefer/core/feedback"
)

// situation is a state of the label page in which keys are looked up.
type situation struct {
	name           string
	mode           string
	typing         bool
	help, flagOpen bool
}

func (s situation) page() *labelPage {
	return &labelPage{mode: s.mode, helpOpen: s.help, flagOpen: s.flagOpen,
		task: &labelTask{Item: "q1", Shown: []string{"a", "b"}}, reasons: map[string]bool{}}
}

var situations = []situation{
	{name: "compare", mode: modeCompare}, {name: "rank", mode: modeRank}, {name: "rate", mode: modeRate},
	{name: "rewrite", mode: modeRewrite}, {name: "typing", mode: modeRewrite, typing: true},
	{name: "help", mode: modeCompare, help: true}, {name: "flag", mode: modeCompare, flagOpen: true},
}

// TestLabelKeysUnambiguous: within a scope a chord triggers one binding, so the
// table's order never decides silently (across the active scopes, the more specific
// one — the mode before "everywhere" — wins by design).
func TestLabelKeysUnambiguous(t *testing.T) {
	seen := map[keyScope]map[string]bool{}
	for _, b := range labelKeys {
		if seen[b.scope] == nil {
			seen[b.scope] = map[string]bool{}
		}
		for _, k := range b.keys {
			if seen[b.scope][k] {
				t.Errorf("%q is bound twice in scope %d", k, b.scope)
			}
			seen[b.scope][k] = true
		}
	}
}

// TestLabelKeysResolve checks what the keys do in each situation.
func TestLabelKeysResolve(t *testing.T) {
	cases := []struct {
		situation
		chord string
		want  string // the help text of the binding that acts, "" for none
	}{
		{situations[0], "1", "the left answer is better"},
		{situations[0], "ArrowRight", "the right answer is better"},
		{situations[0], "Shift+3", "toggle a reason: " + joinTags()},
		{situations[0], "/", "write a note (Esc leaves the field)"},
		{situations[0], "Ctrl+z", "undo the last judgment"},
		{situations[0], "Ctrl+c", ""}, // the browser's copy stays the browser's
		{situations[1], "1", "the next best answer"},
		{situations[1], "Enter", "save the ranking"},
		{situations[2], "7", "score on the current axis (helpful, harmless, honest)"},
		{situations[2], "8", ""},
		{situations[3], "e", "edit"},
		{situations[4], "/", ""}, // typing a slash in a field is typing
		{situations[4], "1", ""},
		{situations[5], "z", ""}, // the help overlay is modal
		{situations[6], "2", "flag it as " + joinCategories()},
		{situations[6], "ArrowLeft", "choose the answer to flag"},
	}
	for _, c := range cases {
		p := c.page()
		b := p.binding(keyPress{Chord: c.chord, Typing: c.typing})
		got := ""
		if b != nil {
			got = b.help
		}
		// Bindings without help text act but are not shown; name them by their keys.
		if b != nil && got == "" {
			got = "unlisted " + b.keys[0]
		}
		if got != c.want {
			t.Errorf("%s, %q: acts as %q, want %q", c.name, c.chord, got, c.want)
		}
	}
}

// TestLabelKeyHelp: the help overlay is made from the same table: each mode's group
// is there, and every key a binding names in its label acts.
func TestLabelKeyHelp(t *testing.T) {
	for _, s := range situations[:4] {
		p := s.page()
		groups := p.keyHelp()
		var titles []string
		for _, g := range groups {
			titles = append(titles, g.title)
			if len(g.keys) == 0 {
				t.Errorf("%s: help group %q is empty", s.name, g.title)
			}
		}
		if want := scopeTitles[modeScope(s.mode)]; !slices.Contains(titles, want) {
			t.Errorf("%s: help groups %v lack %q", s.name, titles, want)
		}
	}
	for _, b := range labelKeys {
		if b.label != "" && b.run != nil && len(b.keys) == 0 {
			t.Errorf("binding %q has an action but no keys", b.label)
		}
	}
}

func joinTags() string       { return strings.Join(feedback.ReasonTags, ", ") }
func joinCategories() string { return strings.Join(feedback.FlagCategories, ", ") }
