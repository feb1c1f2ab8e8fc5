package feedback

import (
	"fmt"
	"slices"
	"sort"
)

// Log is a set of judgments keyed by their ids: an append-only event log.
//
// Iteration order is canonical — by Time, then ID — so two logs with the same events
// iterate identically however they were built. Merge is a set union: merging in any
// order, or twice, gives the same log. The zero value is an empty log ready to use.
// A Log is not safe for concurrent use.
type Log struct {
	list   []Judgment
	byID   map[string]int // id → index in list
	sorted bool           // list is in canonical order
}

// NewLog returns a log holding js. Duplicates by id are resolved as in Merge.
func NewLog(js ...Judgment) *Log {
	l := &Log{}
	l.Grow(len(js))
	for _, j := range js {
		l.Append(j)
	}
	return l
}

// Grow makes room for n more judgments, so that filling a log of known size
// allocates once (appending one at a time would allocate ~5× the final size).
func (l *Log) Grow(n int) {
	if l.byID == nil {
		l.byID = make(map[string]int, n)
		l.sorted = true
	}
	l.list = slices.Grow(l.list, n)
}

// Len returns the number of judgments.
func (l *Log) Len() int { return len(l.list) }

// Get returns the judgment with the given id.
func (l *Log) Get(id string) (Judgment, bool) {
	i, ok := l.byID[id]
	if !ok {
		return Judgment{}, false
	}
	return l.list[i], true
}

// Has reports whether the log holds a judgment with the given id.
func (l *Log) Has(id string) bool {
	_, ok := l.byID[id]
	return ok
}

// Append adds j. It reports whether the log changed: false when an identical judgment
// with the same id is already there. A different judgment with an existing id is a
// conflict; the canonical winner (see Merge) is kept and ErrConflict is returned.
// An empty id is an error.
func (l *Log) Append(j Judgment) (added bool, err error) {
	if j.ID == "" {
		return false, &JudgmentError{ID: j.ID, Item: j.Item, Err: ErrNoID}
	}
	if l.byID == nil {
		l.byID = make(map[string]int)
		l.sorted = true
	}
	if i, ok := l.byID[j.ID]; ok {
		old := l.list[i]
		if equalJudgment(old, j) {
			// The same event imported at two places (two files of one import, or an
			// overlapping re-import): it keeps the first place, whatever the merge order.
			l.list[i].Pos = firstPos(old.Pos, j.Pos)
			return false, nil
		}
		if fingerprint(j) < fingerprint(old) {
			l.list[i] = j
			l.sorted = false
		}
		return false, &JudgmentError{ID: j.ID, Item: j.Item, Err: ErrConflict}
	}
	if n := len(l.list); n > 0 && l.sorted && !before(l.list[n-1], j) {
		l.sorted = false
	}
	l.byID[j.ID] = len(l.list)
	l.list = append(l.list, j)
	return true, nil
}

// Merge adds every judgment of other that l lacks and returns how many were added.
// Conflicts (same id, different content) keep the judgment whose canonical
// fingerprint sorts first, so the result does not depend on merge order; their count
// is returned.
func (l *Log) Merge(other *Log) (added, conflicts int) {
	for _, j := range other.list {
		ok, err := l.Append(j)
		if ok {
			added++
		}
		if err != nil {
			conflicts++
		}
	}
	return added, conflicts
}

// All returns the judgments in canonical order. The slice is shared with the log:
// do not modify it.
func (l *Log) All() []Judgment {
	l.sort()
	return l.list
}

// Since returns the judgments whose ids are not in seen, in canonical order.
func (l *Log) Since(seen func(id string) bool) []Judgment {
	var out []Judgment
	for _, j := range l.All() {
		if !seen(j.ID) {
			out = append(out, j)
		}
	}
	return out
}

func (l *Log) sort() {
	if l.sorted {
		return
	}
	sort.Slice(l.list, func(a, b int) bool { return before(l.list[a], l.list[b]) })
	for i, j := range l.list {
		l.byID[j.ID] = i
	}
	l.sorted = true
}

// SortCanonical sorts js in place into a Log's canonical order (Time, then ID): for
// judgments whose ids are distinct, what NewLog(js...).All() returns, without the
// log's copy and index.
func SortCanonical(js []Judgment) {
	sort.Slice(js, func(a, b int) bool {
		x, y := &js[a], &js[b]
		if x.Time != y.Time {
			return x.Time < y.Time
		}
		return x.ID < y.ID
	})
}

// before is the canonical order: Time, then ID.
func before(a, b Judgment) bool {
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	return a.ID < b.ID
}

// fingerprint is a canonical text form of a judgment's content (every field but
// Pos, which records where an import found it) used to break id conflicts.
func fingerprint(j Judgment) string {
	j.Pos = 0
	return fmt.Sprintf("%#v", j)
}

// firstPos is the earlier of two import positions; 0 (none) counts as later than any.
func firstPos(a, b int) int {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// ExportOrder returns the indices of js in the order the exports write their rows:
// judgments with an import position (Pos > 0) first, by position — the order of the
// input they were imported from — then the others (made in Prefer, or from a
// snapshot written before positions were recorded) in the order of js, which for a
// log's or a snapshot's judgments is the canonical order (Time, then ID): the order
// they were made. Equal positions keep the order of js.
func ExportOrder(js []Judgment) []int {
	idx := make([]int, len(js))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		pa, pb := js[idx[a]].Pos, js[idx[b]].Pos
		if pa == 0 || pb == 0 {
			return pa != 0 && pb == 0
		}
		return pa < pb
	})
	return idx
}

func equalJudgment(a, b Judgment) bool { return fingerprint(a) == fingerprint(b) }
