package agree

import (
	"fmt"
	"math"
	"testing"

	"prefer/core/feedback"
)

// TestAuditAI checks the audit on a hand-worked case: four pairs, each with a short
// answer r1 (1 word) and a long one r2 (4 words); three people label every pair; the
// AI judges q1–q3 in both orders and q4 in one.
//
//	pair  people (r1 = first)   AI, order r1 first   AI, order r2 first   AI debiased
//	q1    first 2 of 3          r2                   r2                   second
//	q2    first 3 of 3          r1 (shown first)     r2 (shown first)     tie (inconsistent)
//	q3    second 2 of 3         r2                   r2                   second
//	q4    first 3 of 3          r1                   —                    first
//
// κ table (AI × people): (second, first), (tie, first), (second, second), (first,
// first): p_o = 2/4; AI margins ¼, ½, ¼, people's ¾, ¼, 0; p_e = 3/16 + 2/16 = 5/16;
// κ = (8/16 − 5/16)/(11/16) = 3/11. Order consistency 2 of 3. Decided judgments 7,
// of which 5 chose the answer shown first. Longer: units with both labels decided
// are q1, q3, q4: the AI chose the longer in q1 and q3 (2/3), people in q3 (1/3).
func TestAuditAI(t *testing.T) {
	var items []feedback.Item
	for i := 1; i <= 4; i++ {
		items = append(items, feedback.Item{ID: fmt.Sprintf("q%d", i), Prompt: "p",
			Responses: []feedback.Response{{ID: "r1", Text: "short"}, {ID: "r2", Text: "a much longer one"}}})
	}
	raters := []feedback.Rater{{ID: "h1"}, {ID: "h2"}, {ID: "h3"}, {ID: "ai-j", Name: "judge", Kind: feedback.RaterAI}}
	var js []feedback.Judgment
	n := 0
	add := func(rater, item string, choice feedback.Choice, left string) {
		n++
		js = append(js, feedback.Judgment{ID: fmt.Sprintf("e%02d", n), Kind: feedback.KindCompare, Item: item, Rater: rater,
			Time: int64(n), A: "r1", B: "r2", Choice: choice, Left: left, Note: "because " + item})
	}
	a, b := feedback.ChoiceA, feedback.ChoiceB
	for item, labels := range map[string][3]feedback.Choice{"q1": {a, a, b}, "q2": {a, a, a}, "q3": {b, b, a}, "q4": {a, a, a}} {
		for i, c := range labels {
			add(fmt.Sprintf("h%d", i+1), item, c, "a")
		}
	}
	add("ai-j", "q1", b, "a")
	add("ai-j", "q1", b, "b")
	add("ai-j", "q2", a, "a")
	add("ai-j", "q2", b, "b")
	add("ai-j", "q3", b, "a")
	add("ai-j", "q3", b, "b")
	add("ai-j", "q4", a, "a")
	audits := AuditAI(items, raters, js)
	if len(audits) != 1 {
		t.Fatalf("%d audits", len(audits))
	}
	got := audits[0]
	near := func(name string, f Float, want float64) {
		t.Helper()
		if !f.Valid() || math.Abs(float64(f)-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, f, want)
		}
	}
	if got.Rater != "ai-j" || got.Judgments != 7 || got.Pairs != 4 || got.BothOrders != 3 || got.Decided != 7 || got.Shared != 4 || got.LengthUnits != 3 {
		t.Errorf("counts %+v", got)
	}
	near("kappa", got.Kappa, 3.0/11)
	near("agreement", got.Agreement, 0.5)
	near("consistency", got.Consistency, 2.0/3)
	near("first shown", got.FirstShown, 5.0/7)
	near("longer", got.LongerShare, 2.0/3)
	near("human longer", got.HumanLongerShare, 1.0/3)
	near("first-shown p", got.FirstShownP, BinomialTest(5, 7, 0.5))
	// q1: the AI chose the longer, people the shorter; q3, q4 agree: 1 against 0.
	if got.LongerOnly != 1 || got.ShorterOnly != 0 {
		t.Errorf("discordant %d, %d; want 1, 0", got.LongerOnly, got.ShorterOnly)
	}
	near("longer p", got.LongerP, 1)
	if len(got.Disagreements) != 2 || got.Disagreements[0].Item != "q1" || got.Disagreements[0].AI != "second" ||
		got.Disagreements[0].Humans != "first" || got.Disagreements[0].HumanAgree != 2 || got.Disagreements[1].Item != "q2" ||
		got.Disagreements[1].AI != "tie" || got.Disagreements[0].Note != "because q1" {
		t.Errorf("disagreements %+v", got.Disagreements)
	}
	// The report carries the audit and a finding; without AI raters it has neither.
	rep := Analyze(items, raters, js, Options{})
	if len(rep.AI) != 1 {
		t.Errorf("report audit %+v", rep.AI)
	}
	if rep := Analyze(items, raters[:3], js[:12], Options{}); rep.AI != nil {
		t.Errorf("audit without AI raters: %+v", rep.AI)
	}
}
