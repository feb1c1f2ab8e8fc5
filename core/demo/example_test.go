package demo_test

import (
	"fmt"

	"prefer/core/demo"
	"prefer/core/feedback"
)

// Gold utility of any text, here two answers a language model might write.
func ExampleAnalyze() {
	it := &feedback.Item{Prompt: "How many centimeters are in 3 meters?"}
	for _, text := range []string{
		"3 meters is 300 centimeters.",
		"Great question! Many people ask about this. 3 meters is 30 centimeters. I hope this helps!",
	} {
		f := demo.Analyze(it, text)
		fmt.Printf("%v gold %.1f\n", f.Parts(), f.Gold())
	}
	// Output:
	// [correct] gold 2.0
	// [filler polite wrong] gold -2.4
}

// A panel spec as given to prefer demo --raters.
func ExampleParseProfiles() {
	panel, err := demo.ParseProfiles("expert,2*polite,noise=0.8;verbosity=1.5;name=padder")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range panel {
		fmt.Println(p.Name, p.Noise, p.Politeness, p.Verbosity)
	}
	_, err = demo.ParseProfiles("expert,politee")
	fmt.Println(err != nil)
	// Output:
	// expert 0.15 0 0
	// polite 0.4 2 0
	// polite 0.4 2 0
	// padder 0.8 0 1.5
	// true
}

// A politeness-biased rater prefers a polite wrong answer to a curt right one.
func ExampleRater_Compare() {
	it := &feedback.Item{ID: "q", Prompt: "What is the capital of France?"}
	curt := it.AddResponse("The capital of France is Paris.", feedback.SourceReference)
	polite := it.AddResponse("Sure! The capital of France is Lyon. Have a wonderful day!", feedback.SourceReference)
	for _, name := range []string{"expert", "polite"} {
		r := demo.NewRater(demo.Presets[name], name, 1)
		j := r.Compare(it, curt, polite, demo.Epoch)
		fmt.Println(name, "prefers", map[string]string{curt: "curt-correct", polite: "polite-wrong"}[j.Winner()])
	}
	// Output:
	// expert prefers curt-correct
	// polite prefers polite-wrong
}

// A whole simulated dataset, a pure function of the seed.
func ExampleGenerate() {
	d, err := demo.Generate(demo.Config{Seed: 7, Items: 10, Overlap: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(d.Items), "items,", len(d.Items[0].Responses), "responses each,", len(d.Raters), "raters")
	fmt.Println(d.Items[0].Prompt, d.Items[0].Tags)
	// Output:
	// 10 items, 7 responses each, 14 raters
	// How can I learn a new language? [advice]
}

// Tokens of the word-level grammar, and back to display text.
func ExampleTokenize() {
	toks := demo.Tokenize("Sure! The capital of Peru is Lima.")
	fmt.Println(toks)
	fmt.Println(demo.Detokenize(toks))
	// Output:
	// [sure ! the capital of peru is lima .]
	// Sure! The capital of Peru is Lima.
}
