package agree

import (
	"strings"
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

// lessonPanel is the lesson's "realistic crowd" (core/lesson.Panels[0], seed 7), the
// demo's default panel: r12 prefers the left answer and r14 is the spammer.
const lessonPanel = demo.DefaultPanel

// withoutGold returns a copy of items with every gold utility and gold answer
// removed: what real data looks like.
func withoutGold(items []feedback.Item) []feedback.Item {
	out := make([]feedback.Item, len(items))
	for i, it := range items {
		it.GoldBest = ""
		it.Responses = append([]feedback.Response(nil), it.Responses...)
		for k := range it.Responses {
			it.Responses[k].Gold = nil
		}
		out[i] = it
	}
	return out
}

// TestLessonFindings: the Quality page names the lesson's spammer (0.5 s per
// judgment) and its left-picker (68% left) from signals real data has — time per
// judgment, the position rate with its binomial test, agreement with the consensus —
// and still does with every gold utility removed. (Neither was once named.)
func TestLessonFindings(t *testing.T) {
	ps, err := demo.ParseProfiles(lessonPanel)
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.Generate(demo.Config{Seed: 7, Raters: ps})
	if err != nil {
		t.Fatal(err)
	}
	for _, gold := range []bool{true, false} {
		items := d.Items
		if !gold {
			items = withoutGold(items)
		}
		rep := Analyze(items, d.Raters, d.Judgments, Options{})
		all := strings.Join(rep.Findings, "\n")
		spam := finding(rep, "rater r14 takes")
		if spam == "" || !strings.Contains(spam, "too fast") {
			t.Errorf("gold %v: no finding names the spammer r14 as too fast:\n%s", gold, all)
		}
		if left := finding(rep, "rater r12 (left wins 68% of 38"); left == "" {
			t.Errorf("gold %v: no finding names the left-picker r12:\n%s", gold, all)
		}
		k := kindOf(t, rep, feedback.KindCompare)
		r14 := raterOf(t, k, "r14")
		// The lesson's spammer answers in about 0.5 s where the others take 10 s.
		if !r14.TooFast || !(r14.SecondsMedian < 1) || !(r14.PanelSeconds > 8) {
			t.Errorf("gold %v: r14 %+v", gold, r14)
		}
		for _, rs := range k.Raters {
			if rs.Rater != "r14" && rs.TooFast {
				t.Errorf("gold %v: %s flagged too fast (median %s s, panel %s s)", gold, rs.Rater, rs.SecondsMedian, rs.PanelSeconds)
			}
		}
		if !gold && strings.Contains(all, "gold") && !strings.Contains(all, "no gold") {
			t.Errorf("findings without gold mention gold:\n%s", all)
		}
	}
}

// finding returns the first finding of r that contains s.
func finding(r *Report, s string) string {
	for _, f := range r.Findings {
		if strings.Contains(f, s) {
			return f
		}
	}
	return ""
}
