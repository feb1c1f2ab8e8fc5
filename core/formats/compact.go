package formats

import (
	"cmp"
	"math"
	"slices"

	"prefer/core/feedback"
)

// Compact holds the judgments of an import in about a quarter of the memory of
// []feedback.Judgment: most imported judgments use a handful of its 27 fields (a
// comparison: id, kind, item, a, b, choice, strength, position), and a
// feedback.Judgment costs 400 bytes whatever it uses. A judgment that uses only the
// fields of slimJudgment is held as one (112 bytes, its strings shared with the
// items'); any other keeps its feedback.Judgment behind a pointer.
//
// The importers build every dataset this way; Import hands back Dataset.Judgments
// (expanded once, at the end), and an import with Options.Compact keeps the
// Compact (Dataset.Compact), which `prefer import` writes to the snapshot one
// judgment at a time (snapshot.EncodeFrom): at 300,000 TRL pairs 34 MB instead of
// 120 MB.
type Compact struct {
	js []slimJudgment
}

// slimJudgment is a judgment of the common fields. When full is set, it holds the
// whole judgment (id and time are kept here too, for sorting).
type slimJudgment struct {
	id, item, rater, a, b string
	time                  int64
	full                  *feedback.Judgment
	pos                   int32
	strength, score       int32
	kind, choice          uint8 // 1 + the index in feedback.Kinds, slimChoices; 0: ""
	respInA               bool  // a holds Response (a thumb or a rating), not A
}

var slimChoices = []feedback.Choice{feedback.ChoiceA, feedback.ChoiceB, feedback.ChoiceTie, feedback.ChoiceBothBad}

// code returns 1 + the index of v in list, or 0 for "" and -1 when v is not in it.
func code[T comparable](list []T, v T) int {
	var zero T
	if v == zero {
		return 0
	}
	if k := slices.Index(list, v); k >= 0 {
		return k + 1
	}
	return -1
}

func fits32(n int64) bool { return n >= math.MinInt32 && n <= math.MaxInt32 }

// slim returns j in its compact form.
func slim(j *feedback.Judgment) slimJudgment {
	s := slimJudgment{id: j.ID, time: j.Time}
	kind, choice := code(feedback.Kinds, j.Kind), code(slimChoices, j.Choice)
	simple := kind >= 0 && choice >= 0 && j.Session == "" && j.Seq == 0 && j.MS == 0 && j.Guideline == 0 &&
		len(j.Reasons) == 0 && j.Note == "" && j.Revises == "" && j.Left == "" && len(j.Shown) == 0 &&
		len(j.Order) == 0 && j.Axis == "" && j.Text == "" && j.Category == "" && j.Target == "" && j.Verdict == "" &&
		fits32(int64(j.Pos)) && fits32(int64(j.Strength)) && fits32(int64(j.Score)) &&
		(j.Response == "" || j.A == "")
	if !simple {
		c := *j
		s.full = &c
		return s
	}
	s.item, s.rater, s.a, s.b = j.Item, j.Rater, j.A, j.B
	if j.Response != "" {
		s.a, s.respInA = j.Response, true
	}
	s.pos, s.strength, s.score = int32(j.Pos), int32(j.Strength), int32(j.Score)
	s.kind, s.choice = uint8(kind), uint8(choice)
	return s
}

// judgment fills *j with s.
func (s *slimJudgment) judgment(j *feedback.Judgment) {
	if s.full != nil {
		*j = *s.full
		return
	}
	*j = feedback.Judgment{ID: s.id, Item: s.item, Rater: s.rater, Time: s.time, Pos: int(s.pos),
		B: s.b, Strength: int(s.strength), Score: int(s.score)}
	if s.respInA {
		j.Response = s.a
	} else {
		j.A = s.a
	}
	if s.kind > 0 {
		j.Kind = feedback.Kinds[s.kind-1]
	}
	if s.choice > 0 {
		j.Choice = slimChoices[s.choice-1]
	}
}

func (s *slimJudgment) kindOf() feedback.Kind {
	switch {
	case s.full != nil:
		return s.full.Kind
	case s.kind > 0:
		return feedback.Kinds[s.kind-1]
	}
	return ""
}

// Len returns the number of judgments.
func (c *Compact) Len() int { return len(c.js) }

// Judgment fills *j with the i-th judgment (snapshot.JudgmentSource).
func (c *Compact) Judgment(i int, j *feedback.Judgment) { c.js[i].judgment(j) }

// Kind returns the kind of the i-th judgment.
func (c *Compact) Kind(i int) feedback.Kind { return c.js[i].kindOf() }

// Linked reports whether the i-th judgment is a review or a revision (it names
// another judgment: feedback.ValidateLink checks it).
func (c *Compact) Linked(i int) bool {
	f := c.js[i].full
	return c.js[i].kindOf() == feedback.KindReview || f != nil && f.Revises != ""
}

// SortCanonical sorts the judgments as feedback.SortCanonical does: by time, then
// id (ids are unique within an import; position breaks a tie all the same).
func (c *Compact) SortCanonical() {
	slices.SortFunc(c.js, func(x, y slimJudgment) int {
		if x.time != y.time {
			return cmp.Compare(x.time, y.time)
		}
		if x.id != y.id {
			return cmp.Compare(x.id, y.id)
		}
		return cmp.Compare(x.posOf(), y.posOf())
	})
}

func (s *slimJudgment) posOf() int {
	if s.full != nil {
		return s.full.Pos
	}
	return int(s.pos)
}

// All returns the judgments as a new slice.
func (c *Compact) All() []feedback.Judgment {
	if len(c.js) == 0 {
		return nil
	}
	out := make([]feedback.Judgment, len(c.js))
	for i := range c.js {
		c.js[i].judgment(&out[i])
	}
	return out
}

func (c *Compact) add(j *feedback.Judgment, b *builder) {
	c.js = append(growFor(b, c.js), slim(j))
}

// Expand moves d.Compact, if set, into d.Judgments (which must be empty).
func (d *Dataset) Expand() {
	if d.Compact == nil {
		return
	}
	d.Judgments = d.Compact.All()
	d.Compact = nil
}
