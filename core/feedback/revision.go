package feedback

import (
	"fmt"
	"slices"
	"strings"
)

// Revision: judgments are never changed or deleted, only superseded.
//
// A rater revises their own judgment with a new judgment of the same kind and item
// whose Revises field names the judgment it replaces; a revision can itself be
// revised, so the versions of one judgment form a chain (or a tree, when two devices
// revised the same version) rooted at the first one. A rater takes a judgment back
// with a review whose Verdict is "withdraw" and whose Target is the version taken
// back (the label page's undo after sync).
//
// A lead reviews any version of any judgment with a review event: "accept" confirms
// it, "reject" voids it, and "edit" replaces its content by the review's — for a
// compare Choice and Strength, for a rank Order, for a rate or thumb Score, for a
// rewrite Text, for a flag Category (empty keeps it) and Text (a corrected answer).
// Reasons and Note, when the edit gives them, replace the version's.
//
// The latest review of a version (canonical order: time, then id) decides its state;
// a review changes only the version it names. The standing version of a judgment is
// the latest version, in canonical order, that is not void (rejected or withdrawn),
// with an edit applied; a judgment all of whose versions are void has none. Current
// returns the standing versions, and every view of this package (Pairs, Groups,
// FlaggedResponses) and every model or statistic built on them reads only those;
// the log keeps every event, so the history stays.
//
// Links that break the rules are ignored rather than trusted: a revision of another
// rater's judgment, of another kind or item, of a review, of an unknown id, or of a
// later judgment counts as a judgment of its own; a withdrawal by anyone but the
// version's rater, an edit whose content is invalid for the target's kind, and a
// review of a review or of an unknown id change nothing. ValidateLog reports each of
// them.

// State is what the reviews and revisions made of one judgment event.
type State string

const (
	StateStanding   State = "standing"   // the version that counts
	StateEdited     State = "edited"     // the version that counts, with a lead's edit applied
	StateSuperseded State = "superseded" // a later version of the same judgment counts instead
	StateRejected   State = "rejected"   // voided by a lead's review
	StateWithdrawn  State = "withdrawn"  // taken back by its own rater
	StateReview     State = "review"     // a review event (it has no state of its own)
)

// Revisions is the resolution of a list of judgments into the versions that stand.
type Revisions struct {
	js       []Judgment
	index    map[string]int   // id → index in js (first occurrence)
	root     []int            // index → index of its chain's root (-1 for reviews)
	decision []int            // index → index of its deciding review, -1 if none
	current  []int            // indices of the standing versions, ascending
	reviews  map[string][]int // target id → indices of its valid reviews, canonical order
	versions map[int][]int    // root index → indices of its versions, canonical order
	standing map[int]int      // root index → index of the standing version, -1 if none
}

// Current returns the standing version of every judgment of js (see Revisions), in
// the order of js, with lead edits applied. Review events are left out: their effect
// is in the versions. When js holds no revision and no review it is returned as is.
// The result may share memory with js: do not modify it.
func Current(js []Judgment) []Judgment {
	if !hasRevisions(js) {
		return js
	}
	return Resolve(js).Current()
}

func hasRevisions(js []Judgment) bool {
	for i := range js {
		if js[i].Revises != "" || js[i].Kind == KindReview {
			return true
		}
	}
	return false
}

// Resolve works out the chains, reviews and standing versions of js.
func Resolve(js []Judgment) *Revisions {
	r := &Revisions{js: js, index: make(map[string]int, len(js)), root: make([]int, len(js)), decision: make([]int, len(js)),
		reviews: map[string][]int{}, versions: map[int][]int{}, standing: map[int]int{}}
	for i := range js {
		if _, dup := r.index[js[i].ID]; !dup {
			r.index[js[i].ID] = i
		}
		r.root[i] = -2 // not yet known
		r.decision[i] = -1
	}
	// Roots: follow valid Revises links back. A valid link points to an earlier
	// judgment in canonical order, so the links cannot form a cycle.
	var path []int
	for i := range js {
		if js[i].Kind == KindReview {
			r.root[i] = -1
			continue
		}
		path = path[:0]
		k := i
		for r.root[k] == -2 {
			path = append(path, k)
			t, ok := r.revised(k)
			if !ok {
				r.root[k] = k
				break
			}
			k = t
		}
		for _, p := range path {
			r.root[p] = r.root[k]
		}
	}
	for i := range js {
		if js[i].Kind == KindReview {
			if t, ok := r.index[js[i].Target]; ok && ReviewProblem(&js[i], &js[t]) == nil {
				r.reviews[js[t].ID] = append(r.reviews[js[t].ID], i)
			}
			continue
		}
		r.versions[r.root[i]] = append(r.versions[r.root[i]], i)
	}
	for _, rs := range r.reviews {
		slices.SortFunc(rs, r.cmp)
		last := rs[len(rs)-1]
		r.decision[r.index[js[last].Target]] = last
	}
	for root, vs := range r.versions {
		slices.SortFunc(vs, r.cmp)
		r.standing[root] = -1
		for k := len(vs) - 1; k >= 0; k-- {
			if !r.void(vs[k]) {
				r.standing[root] = vs[k]
				break
			}
		}
		if s := r.standing[root]; s >= 0 {
			r.current = append(r.current, s)
		}
	}
	slices.Sort(r.current)
	return r
}

// revised returns the index of the judgment that judgment k validly revises.
func (r *Revisions) revised(k int) (int, bool) {
	j := &r.js[k]
	if j.Revises == "" {
		return 0, false
	}
	t, ok := r.index[j.Revises]
	if !ok || RevisionProblem(j, &r.js[t]) != nil {
		return 0, false
	}
	return t, true
}

// cmp is the canonical order of two judgments of js given by index.
func (r *Revisions) cmp(a, b int) int {
	switch {
	case before(r.js[a], r.js[b]):
		return -1
	case before(r.js[b], r.js[a]):
		return 1
	}
	return a - b
}

// void reports whether the deciding review of judgment i rejects or withdraws it.
func (r *Revisions) void(i int) bool {
	d := r.decision[i]
	return d >= 0 && (r.js[d].Verdict == VerdictReject || r.js[d].Verdict == VerdictWithdraw)
}

// Current returns the standing versions in the order of the judgments given to
// Resolve, with lead edits applied.
//
// A standing version takes the import position (Pos) of its chain's first version
// when that has one, so that an export writes a revised or edited row where the
// original was in the input (ExportOrder).
func (r *Revisions) Current() []Judgment {
	out := make([]Judgment, len(r.current))
	for k, i := range r.current {
		out[k] = r.version(i)
		if p := r.js[r.root[i]].Pos; p > 0 {
			out[k].Pos = p
		}
	}
	return out
}

// version returns judgment i with its deciding edit, if any, applied.
func (r *Revisions) version(i int) Judgment {
	j := r.js[i]
	if d := r.decision[i]; d >= 0 && r.js[d].Verdict == VerdictEdit {
		applyEdit(&j, &r.js[d])
	}
	return j
}

// State returns what became of the judgment with the given id; ok is false when js
// holds no such id.
func (r *Revisions) State(id string) (s State, ok bool) {
	i, ok := r.index[id]
	if !ok {
		return "", false
	}
	if r.js[i].Kind == KindReview {
		return StateReview, true
	}
	switch {
	case r.standing[r.root[i]] == i && r.decision[i] >= 0 && r.js[r.decision[i]].Verdict == VerdictEdit:
		return StateEdited, true
	case r.standing[r.root[i]] == i:
		return StateStanding, true
	case r.void(i) && r.js[r.decision[i]].Verdict == VerdictReject:
		return StateRejected, true
	case r.void(i):
		return StateWithdrawn, true
	}
	return StateSuperseded, true
}

// Standing returns the standing version of the judgment that the event with the
// given id is a version of (with a lead edit applied); ok is false when it has none
// (every version void) or the id is unknown or a review.
func (r *Revisions) Standing(id string) (Judgment, bool) {
	i, ok := r.index[id]
	if !ok || r.root[i] < 0 {
		return Judgment{}, false
	}
	s := r.standing[r.root[i]]
	if s < 0 {
		return Judgment{}, false
	}
	return r.version(s), true
}

// Version is one event in the history of a judgment: a version with its state, or a
// review of one of the versions.
type Version struct {
	Judgment Judgment
	State    State
}

// History returns every event of the judgment that the event with the given id
// belongs to — its versions and the reviews of them — in canonical order.
func (r *Revisions) History(id string) []Version {
	i, ok := r.index[id]
	if !ok {
		return nil
	}
	if r.root[i] < 0 { // a review: the history of its target
		t, ok := r.index[r.js[i].Target]
		if !ok || r.root[t] < 0 {
			return []Version{{Judgment: r.js[i], State: StateReview}}
		}
		i = t
	}
	var idx []int
	for _, v := range r.versions[r.root[i]] {
		idx = append(idx, v)
		idx = append(idx, r.reviews[r.js[v].ID]...)
	}
	slices.SortFunc(idx, r.cmp)
	out := make([]Version, len(idx))
	for k, x := range idx {
		s, _ := r.State(r.js[x].ID)
		out[k] = Version{Judgment: r.js[x], State: s}
	}
	return out
}

// RevisionProblem says why j may not revise target (nil when it may): a revision is
// made by the target's rater, of the same kind and item, later in canonical order,
// and neither is a review.
func RevisionProblem(j, target *Judgment) error {
	switch {
	case j.Kind == KindReview || target.Kind == KindReview:
		return fmt.Errorf("a review is not revised and does not revise: review it again")
	case j.ID == target.ID:
		return fmt.Errorf("a judgment cannot revise itself")
	case j.Rater != target.Rater:
		return fmt.Errorf("%q is rater %q's judgment: a rater revises only their own", target.ID, target.Rater)
	case j.Kind != target.Kind:
		return fmt.Errorf("a %s cannot revise a %s", j.Kind, target.Kind)
	case j.Item != target.Item:
		return fmt.Errorf("%q is a judgment of item %q, not %q", target.ID, target.Item, j.Item)
	case !before(*target, *j):
		return fmt.Errorf("a revision must come after the judgment it revises (time %d, id %q)", target.Time, target.ID)
	}
	return nil
}

// ReviewProblem says why review may not apply to target (nil when it may): the
// target is not a review; a withdrawal comes from the target's own rater; an edit
// carries valid content for the target's kind.
func ReviewProblem(review, target *Judgment) error {
	if target.Kind == KindReview {
		return fmt.Errorf("%q is a review: review the judgment itself", target.ID)
	}
	switch review.Verdict {
	case VerdictAccept, VerdictReject:
	case VerdictWithdraw:
		if review.Rater != target.Rater {
			return fmt.Errorf("only its rater %q withdraws %q", target.Rater, target.ID)
		}
	case VerdictEdit:
		return editProblem(review, target)
	default:
		return ErrBadVerdict
	}
	return nil
}

// editProblem checks the content of an edit against the kind of its target.
func editProblem(e, t *Judgment) error {
	switch t.Kind {
	case KindCompare:
		switch e.Choice {
		case ChoiceA, ChoiceB, ChoiceTie, ChoiceBothBad:
		default:
			return fmt.Errorf("an edit of a comparison gives its choice: %v, not %q", ErrBadChoice, e.Choice)
		}
		if e.Strength < 0 || e.Strength > 3 {
			return ErrBadStrength
		}
	case KindRank:
		if !IsPermutation(e.Order, len(t.Shown)) {
			return fmt.Errorf("an edit of a ranking gives its order: %v (order %v for %d responses)", ErrNotPermutation, e.Order, len(t.Shown))
		}
	case KindRate:
		if e.Score < ScoreMin || e.Score > ScoreMax {
			return fmt.Errorf("an edit of a rating gives its score: %v (%d)", ErrScoreRange, e.Score)
		}
	case KindThumb:
		if e.Score != 1 && e.Score != -1 {
			return fmt.Errorf("an edit of a thumb gives its score: %v", ErrBadThumb)
		}
	case KindRewrite:
		if strings.TrimSpace(e.Text) == "" {
			return fmt.Errorf("an edit of a rewrite gives its text: %v", ErrEmptyRewrite)
		}
	case KindFlag:
		if e.Category != "" && !slices.Contains(FlagCategories, e.Category) {
			return fmt.Errorf("%v: %q", ErrBadCategory, e.Category)
		}
	}
	return nil
}

// applyEdit replaces the content of j by that of the edit review e.
func applyEdit(j, e *Judgment) {
	switch j.Kind {
	case KindCompare:
		j.Choice, j.Strength = e.Choice, e.Strength
	case KindRank:
		j.Order = e.Order
	case KindRate, KindThumb:
		j.Score = e.Score
	case KindRewrite:
		j.Text = e.Text
	case KindFlag:
		if e.Category != "" {
			j.Category = e.Category
		}
		j.Text = e.Text
	}
	if len(e.Reasons) > 0 {
		j.Reasons = e.Reasons
	}
	if e.Note != "" {
		j.Note = e.Note
	}
}
