package lesson_test

import (
	"fmt"

	"prefer/core/lesson"
)

// The playground's computation: the closed-form optimum π* ∝ π_ref·exp(r/β) of a
// prompt whose reward model over-rates a padded answer. As β falls the policy moves
// to the padded answer: the proxy rises, gold falls.
func ExampleLandscape_At() {
	l := &lesson.Landscape{Prompts: []lesson.Prompt{{ID: "q1", Answers: []lesson.Answer{
		{Text: "Eight.", Ref: 0.5, Proxy: 0, Gold: 2, Parts: []string{"correct"}},
		{Text: "Many people ask about this. Eight.", Ref: 0.5, Proxy: 1, Gold: 1.5, Parts: []string{"correct", "filler"}},
	}}}}
	for _, beta := range []float64{10, 1, 0.1} {
		p := l.At(beta)
		fmt.Printf("β %-4g √KL %.2f proxy %.2f gold %.2f padded %.0f%%\n", beta, p.SqrtKL, p.Proxy, p.Gold, 100*p.Mix.Filler)
	}
	// Output:
	// β 10   √KL 0.04 proxy 0.52 gold 1.74 padded 52%
	// β 1    √KL 0.33 proxy 0.73 gold 1.63 padded 73%
	// β 0.1  √KL 0.83 proxy 1.00 gold 1.50 padded 100%
}
