package ask

import (
	"strings"
	"testing"

	"prefer/core/feedback"
)

// wordScore is a stand-in checklist: +1 per "right", −1 per "wrong"; it knows every
// prompt but "unknown".
func wordScore(prompt, answer string) (float64, []string, bool) {
	if prompt == "unknown" {
		return 0, nil, false
	}
	s := float64(strings.Count(answer, "right") - strings.Count(answer, "wrong"))
	return s, []string{"counted"}, true
}

func TestBuiltinPairs(t *testing.T) {
	rubric, _ := BuiltinJudge("judge-rubric")
	longer, _ := BuiltinJudge("judge-longer")
	first, _ := BuiltinJudge("judge-first")
	short, long := "right", "wrong but very long and detailed and padded out"
	for _, c := range []struct {
		judge         Builtin
		q, a, b, want string
	}{
		{rubric, "q", short, long, VerdictA}, // 1 against −1
		{rubric, "q", long, short, VerdictB},
		{rubric, "q", "x", "y", VerdictTie},
		{rubric, "unknown", short, long, VerdictTie},
		// judge-longer: 1 + 0.25 against −1 + 9×0.25 = 1.25: a tie is 0 apart… make it clear:
		{longer, "q", "right", "wrong " + strings.Repeat("padding ", 12), VerdictB}, // 1.25 against −1 + 3.25
		{longer, "unknown", "a b", "a b c d", VerdictB},
		// judge-first: the first wins unless the second is 3 better.
		{first, "q", "x", "right", VerdictA},
		{first, "q", "right", "x", VerdictA},
		{first, "q", "wrong wrong", "right", VerdictB}, // 3 apart
	} {
		sys, user := PairMessages(DefaultRubric, c.q, c.a, c.b)
		out := c.judge.Answer(wordScore, sys, user)
		if got := ParsePairVerdict(out); got != c.want {
			t.Errorf("%s on %q vs %q: %q, want %s:\n%s", c.judge.Name, c.a, c.b, got, c.want, out)
		}
	}
	if out := rubric.Answer(wordScore, "", "hello"); ParsePairVerdict(out) != "" || !strings.Contains(out, "not a language model") {
		t.Errorf("a prompt that is not a judge prompt: %q", out)
	}
}

func TestBuiltinRankAndRate(t *testing.T) {
	rubric, _ := BuiltinJudge("judge-rubric")
	sys, user := RankMessages(DefaultRubric, "q", []string{"x", "right right", "wrong", "right"})
	got := ParseRanking(rubric.Answer(wordScore, sys, user), 4)
	if want := []int{1, 3, 0, 2}; !equalInts(got, want) {
		t.Errorf("ranking %v, want %v", got, want)
	}
	sys, user = RateMessages(DefaultRubric, "helpful", "q", "right right right right")
	if r := ParseRating(rubric.Answer(wordScore, sys, user)); r != 7 { // 4 + 4, capped at 7
		t.Errorf("rating %d, want 7", r)
	}
	sys, user = RateMessages(DefaultRubric, "helpful", "q", "wrong")
	if r := ParseRating(rubric.Answer(wordScore, sys, user)); r != 3 {
		t.Errorf("rating %d, want 3", r)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseVerdicts(t *testing.T) {
	for text, want := range map[string]string{
		"A is better. [[A]]":     VerdictA,
		"[[A]] no wait, [[B]]":   VerdictB,
		"Final verdict: [[ c ]]": VerdictTie,
		"[[tie]]":                VerdictTie,
		"A is better":            "",
		"[[D]]":                  "",
		"[[A]":                   "",
	} {
		if got := ParsePairVerdict(text); got != want {
			t.Errorf("%q: %q, want %q", text, got, want)
		}
	}
	if got := ParseRanking("[[3, 1, 2]]", 3); !equalInts(got, []int{2, 0, 1}) {
		t.Errorf("ranking %v", got)
	}
	for _, bad := range []string{"[[1, 1, 2]]", "[[1, 2]]", "[[0, 1, 2]]", "[[1, 2, 4]]"} {
		if ParseRanking(bad, 3) != nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if ParseRating("Rating: [[8]]") != 0 || ParseRating("Rating: [[6]]") != 6 {
		t.Error("ratings")
	}
}

func TestPairJudgment(t *testing.T) {
	it := &feedback.Item{ID: "q1", Responses: []feedback.Response{{ID: "r1"}, {ID: "r2"}}}
	p := Pair{A: "r1", B: "r2"}
	for _, c := range []struct {
		firstIsA      bool
		verdict, left string
		choice        feedback.Choice
	}{
		{true, VerdictA, "a", feedback.ChoiceA},
		{true, VerdictB, "a", feedback.ChoiceB},
		{false, VerdictA, "b", feedback.ChoiceB}, // B (r2) was shown first and won
		{false, VerdictB, "b", feedback.ChoiceA},
		{false, VerdictTie, "b", feedback.ChoiceTie},
	} {
		j := PairJudgment("ai-m", it, p, c.firstIsA, c.verdict, "why", 5)
		if j.Choice != c.choice || j.Left != c.left || j.A != "r1" || j.B != "r2" || j.Note != "why" || j.Rater != "ai-m" {
			t.Errorf("%+v: %+v", c, j)
		}
	}
	a := PairJudgment("ai-m", it, p, true, VerdictA, "", 0).ID
	b := PairJudgment("ai-m", it, p, false, VerdictA, "", 0).ID
	if a == b || a != PairJudgment("ai-m", it, p, true, VerdictB, "x", 9).ID {
		t.Error("judgment ids: two orders must differ, the same order must repeat")
	}
	if AIRaterID("meta/llama-3.1:8b") != "ai-meta-llama-3.1-8b" {
		t.Error(AIRaterID("meta/llama-3.1:8b"))
	}
}
