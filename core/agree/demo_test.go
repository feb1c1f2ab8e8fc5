package agree

import (
	"testing"

	"prefer/core/demo"
	"prefer/core/feedback"
)

// TestDemoPanel runs the report on the demo domain's simulated raters (package demo),
// whose biases are known by construction: r04 favours the left response, r05 tires
// (noise and time per judgment grow within a session), r06 is a spammer and r07 likes
// filler.
func TestDemoPanel(t *testing.T) {
	ps, err := demo.ParseProfiles("expert,unbiased,unbiased,position,tired,spammer,verbose")
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Generate(demo.Config{Seed: 1, Items: 200, Raters: ps, Overlap: 4, Kinds: []feedback.Kind{feedback.KindCompare}})
	if err != nil {
		t.Fatal(err)
	}
	rep := Analyze(d.Items, d.Raters, d.Judgments, Options{})
	k := kindOf(t, rep, feedback.KindCompare)
	for _, ps := range rep.Position.Raters {
		if want := ps.Rater == "r04"; ps.Biased != want || (want && !(ps.P < 0.01)) || (!want && !(ps.P >= 0.01)) {
			t.Errorf("position bias of %s: biased %v (left %s, p %v), want %v", ps.Rater, ps.Biased, ps.LeftShare, ps.P, want)
		}
	}
	var slowest RaterStats
	for _, rs := range k.Raters {
		if want := rs.Rater == "r05"; rs.Fatigued != want {
			t.Errorf("fatigue of %s: %v (quality %s/100 p %s, seconds %s/100 p %s), want %v",
				rs.Rater, rs.Fatigued, rs.QualitySlope, rs.QualityP, rs.SecondsSlope, rs.SecondsP, want)
		}
		if rs.SecondsSlope > slowest.SecondsSlope {
			slowest = rs
		}
	}
	if r05 := raterOf(t, k, "r05"); slowest.Rater != "r05" || !r05.Slows || !(r05.SecondsP < 0.01) {
		t.Errorf("steepest time-per-judgment slope: %s; r05: %+v", slowest.Rater, r05)
	}
	worst := k.Raters[0]
	for _, rs := range k.Raters {
		if rs.DSAccuracy < worst.DSAccuracy {
			worst = rs
		}
	}
	if worst.Rater != "r06" {
		t.Errorf("lowest Dawid–Skene accuracy: %s (%s), want the spammer r06", worst.Rater, worst.DSAccuracy)
	}
	for _, ls := range rep.Length.Raters {
		if want := ls.Rater == "r07"; ls.Biased != want {
			t.Errorf("length bias of %s: biased %v (effect %s, p %s), want %v", ls.Rater, ls.Biased, ls.Effect, ls.EffectP, want)
		}
	}
	if testing.Verbose() {
		for _, f := range rep.Findings {
			t.Log(f)
		}
	}
}
