package feedback

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func testItems() []Item {
	return []Item{{
		ID:     "q1",
		Prompt: "What is the capital of France?",
		Responses: []Response{
			{ID: "r1", Text: "Paris.", Source: SourceReference},
			{ID: "r2", Text: "Lyon.", Source: SourceReference},
			{ID: "r3", Text: "I can't help with that.", Source: SourceReference},
		},
	}}
}

func cmp(id string, t int64, a, b string, c Choice) Judgment {
	return Judgment{ID: id, Kind: KindCompare, Item: "q1", Rater: "u1", Time: t, A: a, B: b, Choice: c, Left: "a"}
}

func TestMergeIsSetUnion(t *testing.T) {
	x := []Judgment{cmp("e1", 3, "r1", "r2", ChoiceA), cmp("e2", 1, "r2", "r3", ChoiceB)}
	y := []Judgment{cmp("e3", 2, "r1", "r3", ChoiceTie), cmp("e1", 3, "r1", "r2", ChoiceA)}
	ab := NewLog(x...)
	ab.Merge(NewLog(y...))
	ba := NewLog(y...)
	ba.Merge(NewLog(x...))
	twice := NewLog(x...)
	twice.Merge(NewLog(y...))
	twice.Merge(NewLog(y...))
	twice.Merge(NewLog(x...))
	if !reflect.DeepEqual(ab.All(), ba.All()) || !reflect.DeepEqual(ab.All(), twice.All()) {
		t.Fatalf("merge depends on order:\n%v\n%v\n%v", ab.All(), ba.All(), twice.All())
	}
	if ab.Len() != 3 {
		t.Fatalf("len = %d, want 3", ab.Len())
	}
	var ids []string
	for _, j := range ab.All() {
		ids = append(ids, j.ID)
	}
	if want := []string{"e2", "e3", "e1"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("order %v, want %v (by time)", ids, want)
	}
}

func TestConflictResolvedIndependentOfOrder(t *testing.T) {
	j1 := cmp("e1", 3, "r1", "r2", ChoiceA)
	j2 := cmp("e1", 3, "r1", "r2", ChoiceB)
	a := NewLog(j1)
	_, c1 := a.Merge(NewLog(j2))
	b := NewLog(j2)
	_, c2 := b.Merge(NewLog(j1))
	if c1 != 1 || c2 != 1 {
		t.Fatalf("conflicts = %d, %d, want 1, 1", c1, c2)
	}
	if !reflect.DeepEqual(a.All(), b.All()) {
		t.Fatalf("conflict winner depends on order: %v vs %v", a.All(), b.All())
	}
	if _, err := NewLog().Append(Judgment{}); !errors.Is(err, ErrNoID) {
		t.Fatalf("empty id: err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	ix := NewIndex(testItems(), []Rater{{ID: "u1"}})
	ok := []Judgment{
		cmp("c", 1, "r1", "r2", ChoiceA),
		{ID: "k", Kind: KindRank, Item: "q1", Shown: []string{"r1", "r2", "r3"}, Order: []int{2, 0, 1}},
		{ID: "t", Kind: KindRate, Item: "q1", Response: "r1", Axis: AxisHelpful, Score: 7},
		{ID: "w", Kind: KindRewrite, Item: "q1", Response: "r2", Text: "Paris, not Lyon."},
		{ID: "f", Kind: KindFlag, Item: "q1", Response: "r3", Category: FlagMisleading},
		{ID: "h", Kind: KindThumb, Item: "q1", Response: "r1", Score: -1},
		{ID: "v", Kind: KindReview, Target: "f", Verdict: VerdictAccept},
	}
	for _, j := range ok {
		if err := ix.Validate(&j); err != nil {
			t.Errorf("%s: unexpected error %v", j.ID, err)
		}
	}
	bad := []struct {
		j    Judgment
		want error
	}{
		{Judgment{ID: "x1", Kind: "vote", Item: "q1"}, ErrUnknownKind},
		{Judgment{ID: "x2", Kind: KindCompare, Item: "nope", A: "r1", B: "r2", Choice: ChoiceA}, ErrUnknownItem},
		{cmp("x3", 1, "r1", "r9", ChoiceA), ErrUnknownResponse},
		{cmp("x4", 1, "r1", "r1", ChoiceA), ErrSameResponse},
		{cmp("x5", 1, "r1", "r2", "left"), ErrBadChoice},
		{Judgment{ID: "x6", Kind: KindCompare, Item: "q1", A: "r1", B: "r2", Choice: ChoiceA, Strength: 4}, ErrBadStrength},
		{Judgment{ID: "x7", Kind: KindCompare, Item: "q1", A: "r1", B: "r2", Choice: ChoiceA, Left: "c"}, ErrBadLeft},
		{Judgment{ID: "x8", Kind: KindRank, Item: "q1", Shown: []string{"r1", "r2", "r3"}, Order: []int{0, 0, 1}}, ErrNotPermutation},
		{Judgment{ID: "x9", Kind: KindRank, Item: "q1", Shown: []string{"r1", "r2"}, Order: []int{0, 2}}, ErrNotPermutation},
		{Judgment{ID: "x10", Kind: KindRank, Item: "q1", Shown: []string{"r1"}, Order: []int{0}}, ErrTooFewRanked},
		{Judgment{ID: "x11", Kind: KindRank, Item: "q1", Shown: []string{"r1", "r1"}, Order: []int{0, 1}}, ErrDuplicateShown},
		{Judgment{ID: "x12", Kind: KindRate, Item: "q1", Response: "r1", Axis: AxisHelpful, Score: 8}, ErrScoreRange},
		{Judgment{ID: "x13", Kind: KindRate, Item: "q1", Response: "r1", Score: 3}, ErrBadAxis},
		{Judgment{ID: "x14", Kind: KindRewrite, Item: "q1", Response: "r1", Text: "  "}, ErrEmptyRewrite},
		{Judgment{ID: "x15", Kind: KindFlag, Item: "q1", Response: "r1", Category: "rude"}, ErrBadCategory},
		{Judgment{ID: "x16", Kind: KindThumb, Item: "q1", Response: "r1", Score: 2}, ErrBadThumb},
		{Judgment{ID: "x17", Kind: KindReview, Target: "f", Verdict: "maybe"}, ErrBadVerdict},
		{Judgment{ID: "x18", Kind: KindThumb, Item: "q1", Response: "r1", Score: 1, Rater: "ghost"}, ErrUnknownRater},
		{Judgment{ID: "x19", Kind: KindThumb, Item: "q1", Response: "r1", Score: 1, MS: -5}, ErrNegativeTime},
		{Judgment{Kind: KindThumb, Item: "q1", Response: "r1", Score: 1}, ErrNoID},
	}
	for _, c := range bad {
		err := ix.Validate(&c.j)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.j.ID, err, c.want)
			continue
		}
		var je *JudgmentError
		if !errors.As(err, &je) || je.ID != c.j.ID {
			t.Errorf("%s: error does not name the judgment: %v", c.j.ID, err)
		}
	}
	log := NewLog(ok...)
	// A review of any judgment is valid (every kind can be revised); one of
	// an id the log does not hold is not.
	log.Append(Judgment{ID: "v2", Kind: KindReview, Target: "nope", Verdict: VerdictReject})
	errs := ix.ValidateLog(log)
	if len(errs) != 1 || !errors.Is(errs[0], ErrBadTarget) {
		t.Fatalf("ValidateLog = %v, want one ErrBadTarget", errs)
	}
}

func TestPairsRules(t *testing.T) {
	items := testItems()
	items[0].Responses = append(items[0].Responses, Response{ID: ResponseID("Paris, not Lyon."), Text: "Paris, not Lyon.", Source: SourceRewrite})
	js := []Judgment{
		cmp("c1", 1, "r1", "r2", ChoiceA),
		cmp("c2", 2, "r1", "r2", ChoiceTie),
		cmp("c3", 3, "r1", "r2", ChoiceBothBad),
		cmp("c4", 4, "r3", "r1", ChoiceA), // r3 is flagged below: r1 must win
		{ID: "f1", Kind: KindFlag, Item: "q1", Response: "r3", Category: FlagMisleading, Time: 5},
		{ID: "w1", Kind: KindRewrite, Item: "q1", Response: "r2", Text: "Paris, not Lyon.", Time: 6},
		{ID: "k1", Kind: KindRank, Item: "q1", Shown: []string{"r1", "r2", "r3"}, Order: []int{0, 2, 1}, Time: 7},
	}
	got := Pairs(items, js, PairOptions{})
	want := []Pair{
		{Item: "q1", Winner: "r1", Loser: "r2", Rater: "u1", Left: "r1", Source: "c1"},
		{Item: "q1", Winner: "r1", Loser: "r2", Tie: true, Rater: "u1", Left: "r1", Source: "c2"},
		{Item: "q1", Winner: "r1", Loser: "r3", Rater: "u1", Left: "r3", Source: "c4"},
		{Item: "q1", Winner: ResponseID("Paris, not Lyon."), Loser: "r2", Source: "w1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("default pairs:\n got %+v\nwant %+v", got, want)
	}
	// Rejecting the flag restores the rater's choice; both-bad as tie; ranks expanded.
	js = append(js, Judgment{ID: "v1", Kind: KindReview, Target: "f1", Verdict: VerdictReject, Time: 8})
	got = Pairs(items, js, PairOptions{BothBad: BothBadTie, WithRanks: true, NoRewrites: true})
	var summary []string
	for _, p := range got {
		summary = append(summary, fmt.Sprintf("%s>%s tie=%v", p.Winner, p.Loser, p.Tie))
	}
	wantSummary := []string{"r1>r2 tie=false", "r1>r2 tie=true", "r1>r2 tie=true", "r3>r1 tie=false", "r1>r3 tie=false", "r1>r2 tie=false", "r3>r2 tie=false"}
	if !reflect.DeepEqual(summary, wantSummary) {
		t.Fatalf("pairs with options:\n got %v\nwant %v", summary, wantSummary)
	}
	if g := Groups(js); len(g) != 1 || !reflect.DeepEqual(g[0].Ranked, []string{"r1", "r3", "r2"}) {
		t.Fatalf("groups = %+v", g)
	}
}

func TestViews(t *testing.T) {
	js := []Judgment{
		{ID: "1", Rater: "b", Item: "x", Kind: KindThumb},
		{ID: "2", Rater: "a", Item: "y", Kind: KindRate},
		{ID: "3", Rater: "b", Item: "y", Kind: KindThumb},
	}
	if got := RaterIDs(js); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("RaterIDs = %v", got)
	}
	if got := ItemIDs(js); !reflect.DeepEqual(got, []string{"x", "y"}) {
		t.Errorf("ItemIDs = %v", got)
	}
	if got := ForRater(js, "b"); len(got) != 2 || got[1].ID != "3" {
		t.Errorf("ForRater = %v", got)
	}
	if got := ForItem(js, "y"); len(got) != 2 {
		t.Errorf("ForItem = %v", got)
	}
	if got := Counts(js); got[KindThumb] != 2 || got[KindRate] != 1 {
		t.Errorf("Counts = %v", got)
	}
	if ResponseID("Paris.") != ResponseID("Paris.") || ResponseID("Paris.") == ResponseID("Paris") {
		t.Error("ResponseID is not a function of the text")
	}
}

// TestLogKeepsFirstPos: two judgments that differ only in their import position are
// one event, not a conflict, and the log keeps the earlier position whatever the
// merge order (0, no position, counts as later than any).
func TestLogKeepsFirstPos(t *testing.T) {
	j := Judgment{ID: "e1", Kind: KindCompare, Item: "q", A: "a", B: "b", Choice: ChoiceA}
	at := func(pos int) Judgment { k := j; k.Pos = pos; return k }
	for _, c := range []struct {
		first, then, want int
	}{{7, 3, 3}, {3, 7, 3}, {0, 5, 5}, {5, 0, 5}, {0, 0, 0}} {
		l := NewLog(at(c.first))
		added, conflicts := l.Merge(NewLog(at(c.then)))
		got, _ := l.Get("e1")
		if added != 0 || conflicts != 0 || got.Pos != c.want {
			t.Errorf("pos %d then %d: added %d, conflicts %d, pos %d; want 0, 0, %d", c.first, c.then, added, conflicts, got.Pos, c.want)
		}
	}
	// A real conflict still is one, and its winner does not depend on the positions.
	k := at(9)
	k.Choice = ChoiceB
	l := NewLog(at(1))
	if _, conflicts := l.Merge(NewLog(k)); conflicts != 1 {
		t.Fatalf("conflicts %d, want 1", conflicts)
	}
	w1, _ := l.Get("e1")
	l2 := NewLog(k)
	l2.Merge(NewLog(at(1)))
	w2, _ := l2.Get("e1")
	if w1.Choice != w2.Choice {
		t.Fatalf("the winner depends on merge order: %s vs %s", w1.Choice, w2.Choice)
	}
}

// TestExportOrder: positioned judgments first by position, then the others in the
// order given (a log's canonical order); equal positions keep the given order.
func TestExportOrder(t *testing.T) {
	js := []Judgment{
		{ID: "made-1", Time: 1},
		{ID: "imp-c", Pos: 3},
		{ID: "imp-a", Pos: 1},
		{ID: "made-2", Time: 2},
		{ID: "imp-b1", Pos: 2},
		{ID: "imp-b2", Pos: 2},
	}
	var got []string
	for _, i := range ExportOrder(js) {
		got = append(got, js[i].ID)
	}
	want := []string{"imp-a", "imp-b1", "imp-b2", "imp-c", "made-1", "made-2"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
