package feedback

import (
	"errors"
	"fmt"
)

// Validation errors. A *JudgmentError wraps one of them; test with errors.Is.
var (
	ErrNoID            = errors.New("judgment has no id")
	ErrConflict        = errors.New("another judgment with the same id has different content")
	ErrUnknownKind     = errors.New("unknown judgment kind")
	ErrUnknownItem     = errors.New("item not found")
	ErrUnknownRater    = errors.New("rater not found")
	ErrUnknownResponse = errors.New("response not in item")
	ErrSameResponse    = errors.New("a comparison needs two different responses")
	ErrBadChoice       = errors.New("choice must be a, b, tie or both-bad")
	ErrBadStrength     = errors.New("strength must be 0 (not given) or 1..3")
	ErrBadLeft         = errors.New(`left must be "a", "b" or empty`)
	ErrNotPermutation  = errors.New("rank order is not a permutation of the shown responses")
	ErrTooFewRanked    = errors.New("a ranking needs at least two responses")
	ErrDuplicateShown  = errors.New("a ranking shows the same response twice")
	ErrBadAxis         = errors.New("unknown rating axis")
	ErrScoreRange      = errors.New("score off the scale")
	ErrEmptyRewrite    = errors.New("rewrite text is empty")
	ErrBadCategory     = errors.New("unknown flag category")
	ErrBadThumb        = errors.New("thumb score must be +1 or -1")
	ErrBadTarget       = errors.New("review target is not a judgment in the log")
	ErrBadVerdict      = errors.New("verdict must be accept, reject, edit or withdraw")
	ErrBadRevision     = errors.New("not a valid revision")
	ErrNegativeTime    = errors.New("time or duration is negative")
)

// JudgmentError names the judgment that broke a rule and the rule.
type JudgmentError struct {
	ID     string // the judgment's id
	Item   string // its item id
	Err    error  // one of the Err… values
	Detail string // the offending value, when useful
}

func (e *JudgmentError) Error() string {
	msg := fmt.Sprintf("judgment %q (item %q): %v", e.ID, e.Item, e.Err)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

func (e *JudgmentError) Unwrap() error { return e.Err }
