package feedback

import (
	"fmt"
	"slices"
	"strings"
)

// Index gives fast lookup of items and raters by id.
type Index struct {
	Items  map[string]*Item
	Raters map[string]*Rater
}

// NewIndex indexes items and raters. The maps point into the given slices.
func NewIndex(items []Item, raters []Rater) *Index {
	ix := &Index{Items: make(map[string]*Item, len(items)), Raters: make(map[string]*Rater, len(raters))}
	for i := range items {
		ix.Items[items[i].ID] = &items[i]
	}
	for i := range raters {
		ix.Raters[raters[i].ID] = &raters[i]
	}
	return ix
}

// Validate checks j against the items and raters of ix. Rater ids are checked only
// when ix has raters (imported data may name raters it does not describe).
// The returned error, if any, is a *JudgmentError.
func (ix *Index) Validate(j *Judgment) error {
	fail := func(err error, detail string, args ...any) error {
		return &JudgmentError{ID: j.ID, Item: j.Item, Err: err, Detail: fmt.Sprintf(detail, args...)}
	}
	if j.ID == "" {
		return fail(ErrNoID, "")
	}
	if j.Time < 0 || j.MS < 0 {
		return fail(ErrNegativeTime, "time %d, ms %d", j.Time, j.MS)
	}
	if len(ix.Raters) > 0 && j.Rater != "" {
		if _, ok := ix.Raters[j.Rater]; !ok {
			return fail(ErrUnknownRater, "%q", j.Rater)
		}
	}
	if j.Kind == KindReview {
		if !slices.Contains(Verdicts, j.Verdict) {
			return fail(ErrBadVerdict, "%q", j.Verdict)
		}
		if j.Revises != "" {
			return fail(ErrBadRevision, "a review does not revise: review again")
		}
		return nil // the target is checked by ValidateLog, which sees the whole log
	}
	if j.Revises == j.ID {
		return fail(ErrBadRevision, "a judgment cannot revise itself")
	}
	it, ok := ix.Items[j.Item]
	if !ok {
		return fail(ErrUnknownItem, "")
	}
	has := func(id string) error {
		if it.Response(id) == nil {
			return fail(ErrUnknownResponse, "%q", id)
		}
		return nil
	}
	switch j.Kind {
	case KindCompare:
		if err := has(j.A); err != nil {
			return err
		}
		if err := has(j.B); err != nil {
			return err
		}
		if j.A == j.B {
			return fail(ErrSameResponse, "%q", j.A)
		}
		switch j.Choice {
		case ChoiceA, ChoiceB, ChoiceTie, ChoiceBothBad:
		default:
			return fail(ErrBadChoice, "%q", j.Choice)
		}
		if j.Strength < 0 || j.Strength > 3 {
			return fail(ErrBadStrength, "%d", j.Strength)
		}
		if j.Left != "" && j.Left != "a" && j.Left != "b" {
			return fail(ErrBadLeft, "%q", j.Left)
		}
	case KindRank:
		if len(j.Shown) < 2 {
			return fail(ErrTooFewRanked, "%d shown", len(j.Shown))
		}
		seen := make(map[string]bool, len(j.Shown))
		for _, id := range j.Shown {
			if err := has(id); err != nil {
				return err
			}
			if seen[id] {
				return fail(ErrDuplicateShown, "%q", id)
			}
			seen[id] = true
		}
		if !IsPermutation(j.Order, len(j.Shown)) {
			return fail(ErrNotPermutation, "order %v for %d responses", j.Order, len(j.Shown))
		}
	case KindRate:
		if err := has(j.Response); err != nil {
			return err
		}
		if strings.TrimSpace(j.Axis) == "" {
			return fail(ErrBadAxis, "empty axis")
		}
		if j.Score < ScoreMin || j.Score > ScoreMax {
			return fail(ErrScoreRange, "%d not in %d..%d", j.Score, ScoreMin, ScoreMax)
		}
	case KindRewrite:
		if err := has(j.Response); err != nil {
			return err
		}
		if strings.TrimSpace(j.Text) == "" {
			return fail(ErrEmptyRewrite, "")
		}
	case KindFlag:
		if err := has(j.Response); err != nil {
			return err
		}
		if !slices.Contains(FlagCategories, j.Category) {
			return fail(ErrBadCategory, "%q (want one of %s)", j.Category, strings.Join(FlagCategories, ", "))
		}
	case KindThumb:
		if err := has(j.Response); err != nil {
			return err
		}
		if j.Score != 1 && j.Score != -1 {
			return fail(ErrBadThumb, "%d", j.Score)
		}
	default:
		return fail(ErrUnknownKind, "%q", j.Kind)
	}
	return nil
}

// ValidateLog validates every judgment of l, and every review and revision against
// the judgment it names (ReviewProblem, RevisionProblem). It returns all errors
// found, in canonical log order.
func (ix *Index) ValidateLog(l *Log) []error {
	var errs []error
	for _, j := range l.All() {
		if err := ix.Validate(&j); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := ValidateLink(&j, l.Get); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// ValidateLink checks the judgment a review or a revision names, looked up with get:
// it must exist, and the review or revision must be allowed on it (ReviewProblem,
// RevisionProblem). It returns nil for a judgment that names none.
func ValidateLink(j *Judgment, get func(id string) (Judgment, bool)) error {
	switch {
	case j.Kind == KindReview:
		t, ok := get(j.Target)
		if !ok {
			return &JudgmentError{ID: j.ID, Item: j.Item, Err: ErrBadTarget, Detail: fmt.Sprintf("%q", j.Target)}
		}
		if err := ReviewProblem(j, &t); err != nil {
			return &JudgmentError{ID: j.ID, Item: j.Item, Err: ErrBadTarget, Detail: err.Error()}
		}
	case j.Revises != "":
		t, ok := get(j.Revises)
		if !ok {
			return &JudgmentError{ID: j.ID, Item: j.Item, Err: ErrBadRevision, Detail: fmt.Sprintf("revises %q, which is not in the log", j.Revises)}
		}
		if err := RevisionProblem(j, &t); err != nil {
			return &JudgmentError{ID: j.ID, Item: j.Item, Err: ErrBadRevision, Detail: err.Error()}
		}
	}
	return nil
}

// IsPermutation reports whether order holds each of 0..n-1 exactly once.
func IsPermutation(order []int, n int) bool {
	if len(order) != n {
		return false
	}
	seen := make([]bool, n)
	for _, v := range order {
		if v < 0 || v >= n || seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}
