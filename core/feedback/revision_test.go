package feedback

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func review(id string, t int64, rater, target, verdict string) Judgment {
	return Judgment{ID: id, Kind: KindReview, Item: "q1", Rater: rater, Time: t, Target: target, Verdict: verdict}
}

func revise(j Judgment, id string, t int64, c Choice) Judgment {
	j.Revises, j.ID, j.Time, j.Choice = j.ID, id, t, c
	return j
}

// pairsOf writes the pairs of js as "winner>loser" (or "a=b" for a tie), by source.
func pairsOf(js []Judgment) []string {
	var out []string
	for _, p := range Pairs(testItems(), js, PairOptions{}) {
		sep := ">"
		if p.Tie {
			sep = "="
		}
		out = append(out, p.Source+":"+p.Winner+sep+p.Loser)
	}
	slices.Sort(out)
	return out
}

func ids(js []Judgment) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.ID)
	}
	slices.Sort(out)
	return out
}

// TestRevisions checks which version stands after each kind of revision and review,
// by the rules of the Revision section (revision.go): the latest non-void version
// in canonical order, a review deciding only the version it names.
func TestRevisions(t *testing.T) {
	e1 := cmp("e1", 10, "r1", "r2", ChoiceA)
	e2 := cmp("e2", 11, "r2", "r3", ChoiceA)
	other := cmp("x1", 12, "r1", "r3", ChoiceA)
	other.Rater = "u2"
	cases := []struct {
		name  string
		js    []Judgment
		pairs []string
		state map[string]State
	}{
		{"no revisions", []Judgment{e1, e2}, []string{"e1:r1>r2", "e2:r2>r3"}, map[string]State{"e1": StateStanding}},
		{"rater revises", []Judgment{e1, e2, revise(e1, "e1b", 20, ChoiceB)},
			[]string{"e1b:r2>r1", "e2:r2>r3"}, map[string]State{"e1": StateSuperseded, "e1b": StateStanding}},
		{"revision of a revision", []Judgment{e1, revise(e1, "e1b", 20, ChoiceB), revise(revise(e1, "e1b", 20, ChoiceB), "e1c", 30, ChoiceTie)},
			[]string{"e1c:r1=r2"}, map[string]State{"e1": StateSuperseded, "e1b": StateSuperseded, "e1c": StateStanding}},
		{"two revisions of one version: the later stands", []Judgment{e1, revise(e1, "e1c", 30, ChoiceTie), revise(e1, "e1b", 20, ChoiceB)},
			[]string{"e1c:r1=r2"}, map[string]State{"e1b": StateSuperseded, "e1c": StateStanding}},
		{"rater withdraws", []Judgment{e1, e2, review("w1", 20, "u1", "e1", VerdictWithdraw)},
			[]string{"e2:r2>r3"}, map[string]State{"e1": StateWithdrawn, "w1": StateReview}},
		{"withdrawing a revision brings the earlier version back", []Judgment{e1, revise(e1, "e1b", 20, ChoiceB), review("w1", 30, "u1", "e1b", VerdictWithdraw)},
			[]string{"e1:r1>r2"}, map[string]State{"e1": StateStanding, "e1b": StateWithdrawn}},
		{"another rater cannot withdraw", []Judgment{e1, review("w1", 20, "u2", "e1", VerdictWithdraw)},
			[]string{"e1:r1>r2"}, map[string]State{"e1": StateStanding}},
		{"another rater's revision is a judgment of its own", []Judgment{e1, func() Judgment { j := revise(e1, "e1b", 20, ChoiceB); j.Rater = "u2"; return j }()},
			[]string{"e1:r1>r2", "e1b:r2>r1"}, map[string]State{"e1": StateStanding, "e1b": StateStanding}},
		{"a revision older than its target is a judgment of its own", []Judgment{e1, revise(e1, "e0", 5, ChoiceB)},
			[]string{"e0:r2>r1", "e1:r1>r2"}, nil},
		{"a revision of a missing judgment stands alone", []Judgment{revise(e1, "e1b", 20, ChoiceB)},
			[]string{"e1b:r2>r1"}, map[string]State{"e1b": StateStanding}},
		{"lead edits", []Judgment{e1, func() Judgment { r := review("v1", 20, "lead", "e1", VerdictEdit); r.Choice = ChoiceB; return r }()},
			[]string{"e1:r2>r1"}, map[string]State{"e1": StateEdited}},
		{"lead rejects", []Judgment{e1, e2, review("v1", 20, "lead", "e2", VerdictReject)},
			[]string{"e1:r1>r2"}, map[string]State{"e2": StateRejected}},
		{"the latest review decides", []Judgment{e1, review("v1", 20, "lead", "e1", VerdictReject), review("v2", 30, "lead", "e1", VerdictAccept)},
			[]string{"e1:r1>r2"}, map[string]State{"e1": StateStanding}},
		{"an edit with an invalid choice changes nothing", []Judgment{e1, func() Judgment { r := review("v1", 20, "lead", "e1", VerdictEdit); r.Choice = "c"; return r }()},
			[]string{"e1:r1>r2"}, map[string]State{"e1": StateStanding}},
		{"a rejected original under a revision", []Judgment{e1, revise(e1, "e1b", 20, ChoiceB), review("v1", 30, "lead", "e1", VerdictReject)},
			[]string{"e1b:r2>r1"}, map[string]State{"e1": StateRejected, "e1b": StateStanding}},
		{"rejecting the standing version brings the previous one back", []Judgment{e1, revise(e1, "e1b", 20, ChoiceB), review("v1", 30, "lead", "e1b", VerdictReject)},
			[]string{"e1:r1>r2"}, map[string]State{"e1": StateStanding, "e1b": StateRejected}},
		{"every version void", []Judgment{e1, other, revise(e1, "e1b", 20, ChoiceB), review("v1", 30, "lead", "e1b", VerdictReject), review("v2", 30, "lead", "e1", VerdictReject)},
			[]string{"x1:r1>r3"}, map[string]State{"e1": StateRejected, "e1b": StateRejected}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := pairsOf(c.js); !reflect.DeepEqual(got, c.pairs) {
				t.Errorf("pairs %v, want %v", got, c.pairs)
			}
			r := Resolve(c.js)
			for id, want := range c.state {
				if got, _ := r.State(id); got != want {
					t.Errorf("state of %s = %s, want %s", id, got, want)
				}
			}
			// The same in any order of the input (a log is a set).
			rng := rand.New(rand.NewPCG(1, 2))
			for k := 0; k < 5; k++ {
				js := slices.Clone(c.js)
				rng.Shuffle(len(js), func(a, b int) { js[a], js[b] = js[b], js[a] })
				if got := pairsOf(js); !reflect.DeepEqual(got, c.pairs) {
					t.Fatalf("shuffled %v: pairs %v, want %v", ids(js), got, c.pairs)
				}
			}
			// Current is idempotent.
			cur := Current(c.js)
			if again := Current(cur); !reflect.DeepEqual(ids(again), ids(cur)) {
				t.Errorf("Current(Current) = %v, want %v", ids(again), ids(cur))
			}
		})
	}
}

// TestRevisionHistory keeps every event of a judgment, in canonical order, with the
// state of each.
func TestRevisionHistory(t *testing.T) {
	e1 := cmp("e1", 10, "r1", "r2", ChoiceA)
	edit := review("v1", 40, "lead", "e1b", VerdictEdit)
	edit.Choice, edit.Note = ChoiceTie, "the two say the same"
	js := []Judgment{e1, cmp("e2", 11, "r2", "r3", ChoiceA), revise(e1, "e1b", 20, ChoiceB), edit}
	r := Resolve(js)
	var got []string
	for _, v := range r.History("e1") {
		got = append(got, v.Judgment.ID+"="+string(v.State))
	}
	want := []string{"e1=superseded", "e1b=edited", "v1=review"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	if h := r.History("v1"); len(h) != 3 {
		t.Errorf("the history of a review is its target's: %d events, want 3", len(h))
	}
	s, ok := r.Standing("e1")
	if !ok || s.ID != "e1b" || s.Choice != ChoiceTie || s.Note != "the two say the same" || s.Rater != "u1" {
		t.Errorf("standing %+v, want e1b edited to a tie, still rater u1's", s)
	}
	if got := len(Current(js)); got != 2 {
		t.Errorf("Current holds %d judgments, want 2 (e1b edited, e2)", got)
	}
}

// TestFlagReviews keeps the flag rules: a live flag makes its response lose; a
// rejected or withdrawn flag does not; an edited flag stays live.
func TestFlagReviews(t *testing.T) {
	flag := Judgment{ID: "f1", Kind: KindFlag, Item: "q1", Rater: "u2", Time: 5, Response: "r1", Category: FlagHarmful}
	c := cmp("e1", 10, "r1", "r2", ChoiceA)
	for _, tc := range []struct {
		verdict string
		rater   string
		want    []string
	}{
		{"", "", []string{"e1:r2>r1"}},
		{VerdictAccept, "lead", []string{"e1:r2>r1"}},
		{VerdictEdit, "lead", []string{"e1:r2>r1"}},
		{VerdictReject, "lead", []string{"e1:r1>r2"}},
		{VerdictWithdraw, "u2", []string{"e1:r1>r2"}},
	} {
		js := []Judgment{flag, c}
		if tc.verdict != "" {
			js = append(js, review("v1", 20, tc.rater, "f1", tc.verdict))
		}
		if got := pairsOf(js); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("verdict %q: pairs %v, want %v", tc.verdict, got, tc.want)
		}
	}
}

// TestRankEdit: a lead's edit of a ranking changes the group a reward model sees.
func TestRankEdit(t *testing.T) {
	rk := Judgment{ID: "k1", Kind: KindRank, Item: "q1", Rater: "u1", Time: 1, Shown: []string{"r1", "r2", "r3"}, Order: []int{0, 1, 2}}
	ed := review("v1", 2, "lead", "k1", VerdictEdit)
	ed.Order = []int{2, 1, 0}
	g := Groups([]Judgment{rk, ed})
	if len(g) != 1 || !reflect.DeepEqual(g[0].Ranked, []string{"r3", "r2", "r1"}) {
		t.Fatalf("groups %+v, want one ranking r3 > r2 > r1", g)
	}
}

// TestValidateLinks reports each broken review or revision with the rule it breaks.
func TestValidateLinks(t *testing.T) {
	ix := NewIndex(testItems(), nil)
	e1 := cmp("e1", 10, "r1", "r2", ChoiceA)
	theirs := revise(e1, "e1b", 20, ChoiceB)
	theirs.Rater = "u2"
	badEdit := review("v1", 30, "lead", "e1", VerdictEdit)
	badEdit.Choice = "c"
	otherWithdraw := review("w1", 30, "u2", "e1", VerdictWithdraw)
	reviewOfReview := review("v2", 40, "lead", "v1", VerdictAccept)
	missing := revise(e1, "e1c", 20, ChoiceB)
	missing.Revises = "nope"
	ok := revise(e1, "e1d", 21, ChoiceTie)
	l := NewLog(e1, theirs, badEdit, otherWithdraw, reviewOfReview, missing, ok)
	errs := ix.ValidateLog(l)
	var got []string
	for _, err := range errs {
		var je *JudgmentError
		if !errors.As(err, &je) {
			t.Fatalf("%v is not a *JudgmentError", err)
		}
		got = append(got, je.ID)
	}
	if want := []string{"e1b", "e1c", "v1", "w1", "v2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("invalid %v, want %v:\n%v", got, want, errs)
	}
	if !strings.Contains(errs[0].Error(), "revises only their own") {
		t.Errorf("error %q does not say a rater revises only their own", errs[0])
	}
}

// TestCurrentKeepsImportPlace: a revision made in Prefer (no position) of an
// imported judgment stands in the original's place in the export order, not after
// every imported row; an imported judgment that nothing revised keeps its own.
func TestCurrentKeepsImportPlace(t *testing.T) {
	js := []Judgment{
		{ID: "e1", Kind: KindCompare, Item: "q1", Rater: "u", A: "a", B: "b", Choice: ChoiceA, Pos: 1},
		{ID: "e2", Kind: KindCompare, Item: "q2", Rater: "u", A: "a", B: "b", Choice: ChoiceA, Pos: 2},
		{ID: "e3", Kind: KindCompare, Item: "q1", Rater: "u", Time: 5, A: "a", B: "b", Choice: ChoiceB, Revises: "e1"},
	}
	cur := Current(js)
	var got []string
	for _, k := range ExportOrder(cur) {
		got = append(got, cur[k].ID)
	}
	if want := []string{"e3", "e2"}; !slices.Equal(got, want) {
		t.Fatalf("export order %v, want %v", got, want)
	}
	if js[2].Pos != 0 {
		t.Fatal("Current changed its input")
	}
}
