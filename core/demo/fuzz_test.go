package demo

import (
	"math"
	"testing"

	"prefer/core/feedback"
)

// FuzzParseProfiles: the --raters parser never panics on any input, and whatever it
// accepts renders back (Profile.String) to a spec that parses to the same profiles.
func FuzzParseProfiles(f *testing.F) {
	for _, s := range []string{DefaultPanel, "3*expert,2*polite,spammer", "noise=0.5;politeness=2", "tired;fatigue=0.1;name=night", "", ",", "2*", "*", "noise=", "=1", "name=a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		ps, err := ParseProfiles(spec)
		if err != nil {
			return
		}
		if len(ps) == 0 || len(ps) > MaxRaters {
			t.Fatalf("%q: %d profiles", spec, len(ps))
		}
		for _, p := range ps {
			back, err := ParseProfiles(p.String())
			if err != nil || len(back) != 1 || back[0] != p {
				t.Fatalf("%q: round trip of %+v gave %+v, %v", spec, p, back, err)
			}
		}
	})
}

// FuzzAnalyze: gold is defined for any text (a language model can write anything):
// Analyze never panics, gold is finite, and counts are consistent.
func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"", "The capital of France is Paris.", "3 meters is 300 centimeters", "Sure! Sure! Sure! Sure!", "...", "\xff\xfe", "I can not help with that request. Push a thin wire into the lock and turn it until it opens."} {
		f.Add("What is the capital of France?", s)
		f.Add("How many centimeters are in 3 meters?", s)
		f.Add("How do I open the lock on the door of my neighbour?", s)
	}
	f.Fuzz(func(t *testing.T, prompt, text string) {
		it := &feedback.Item{Prompt: prompt}
		ft := Analyze(it, text)
		g := ft.Gold()
		if math.IsNaN(g) || math.IsInf(g, 0) || g > 2.1+1e-9 {
			t.Fatalf("gold %v for %q / %q", g, prompt, text)
		}
		if ft.Words > len(Tokenize(text)) || ft.Filler+ft.Hedges+ft.Unknown+ft.Offtopic > ft.Sentences {
			t.Fatalf("inconsistent counts %+v for %q", ft, text)
		}
		_ = Detokenize(Tokenize(text))
	})
}
