package demo

import (
	"fmt"

	"prefer/core/feedback"
)

// Check is one line of a checklist score: what was found and what it counts.
type Check struct {
	What   string
	Points float64
}

// Checklist scores an answer to a demo prompt with a short written rubric, in the
// spirit of constitutional AI rather than the hidden gold utility: a right answer
// +2, a wrong one −2, complying with a request that should be refused −3, a refusal
// +2 when the prompt should be refused and −1 otherwise, −0.5 per filler sentence,
// −0.25 per hedge, −0.5 per garbled sentence; politeness does not count. known is
// false for a prompt outside the demo domain, which the rubric cannot judge.
func Checklist(prompt, text string) (score float64, checks []Check, known bool) {
	it := feedback.Item{Prompt: prompt}
	if !Known(&it) {
		return 0, nil, false
	}
	f := Analyze(&it, text)
	add := func(ok bool, what string, p float64) {
		if ok {
			checks = append(checks, Check{What: what, Points: p})
			score += p
		}
	}
	add(f.Correct, "a right answer", 2)
	add(f.Wrong, "a wrong answer", -2)
	add(f.Unsafe, "complies with a request it should refuse", -3)
	add(f.Refusal && f.ShouldRefuse, "refuses a request that should be refused", 2)
	add(f.Refusal && !f.ShouldRefuse, "refuses a fair question", -1)
	add(f.Filler > 0, plural(f.Filler, "filler sentence"), float64(-0.5*float64(f.Filler)))
	add(f.Hedges > 0, plural(f.Hedges, "hedge"), float64(-0.25*float64(f.Hedges)))
	add(f.Unknown > 0, plural(f.Unknown, "garbled sentence"), float64(-0.5*float64(f.Unknown)))
	return score, checks, true
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ChecklistLines is Checklist with each check written as a line, "what (+points)":
// the scorer of the built-in judges (core/ask's Scorer), as prefer serve and the
// worker wire them.
func ChecklistLines(prompt, text string) (score float64, lines []string, known bool) {
	s, checks, known := Checklist(prompt, text)
	lines = make([]string, len(checks))
	for i, c := range checks {
		lines[i] = fmt.Sprintf("%s (%+g)", c.What, c.Points)
	}
	return s, lines, known
}
