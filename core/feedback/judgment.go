package feedback

// Kind is the type of a judgment.
type Kind string

const (
	KindCompare Kind = "compare" // pairwise: A, B, Choice, Strength, Left
	KindRank    Kind = "rank"    // k-wise: Shown, Order
	KindRate    Kind = "rate"    // Likert: Response, Axis, Score
	KindRewrite Kind = "rewrite" // demonstration: Response, Text
	KindFlag    Kind = "flag"    // Response, Category, Note
	KindThumb   Kind = "thumb"   // implicit: Response, Score ±1
	KindReview  Kind = "review"  // a verdict on another judgment: Target, Verdict (and an edit's content)
)

// Kinds lists every judgment kind in a fixed order.
var Kinds = []Kind{KindCompare, KindRank, KindRate, KindRewrite, KindFlag, KindThumb, KindReview}

// Choice is the outcome of a pairwise comparison.
type Choice string

const (
	ChoiceA       Choice = "a"
	ChoiceB       Choice = "b"
	ChoiceTie     Choice = "tie"
	ChoiceBothBad Choice = "both-bad"
)

// Flag categories (README: judgment record).
const (
	FlagHarmful    = "harmful"
	FlagBiased     = "biased"
	FlagMisleading = "misleading"
	FlagPrivate    = "private"
)

// FlagCategories lists the flag categories in display order.
var FlagCategories = []string{FlagHarmful, FlagBiased, FlagMisleading, FlagPrivate}

// ReasonTags are the suggested reason tags (the Label page offers them). Other tags
// are allowed.
var ReasonTags = []string{"too generic", "off-topic", "unclear", "factually wrong", "too long", "unsafe", "over-cautious"}

// Rating axes and the Likert scale.
const (
	AxisHelpful  = "helpful"
	AxisHarmless = "harmless"
	AxisHonest   = "honest"

	ScoreMin = 1
	ScoreMax = 7
)

// Axes lists the rating axes in display order.
var Axes = []string{AxisHelpful, AxisHarmless, AxisHonest}

// Review verdicts (see Revisions). Accept, reject and edit are a lead's; withdraw is
// the judgment's own rater taking it back.
const (
	VerdictAccept   = "accept"
	VerdictReject   = "reject"
	VerdictEdit     = "edit"
	VerdictWithdraw = "withdraw"
)

// Verdicts lists the review verdicts.
var Verdicts = []string{VerdictAccept, VerdictReject, VerdictEdit, VerdictWithdraw}

// Judgment is one feedback event. Fields that do not apply to its Kind stay zero.
//
// Common fields:
//   - ID: unique event id (random for people, derived from the seed for simulations).
//   - Item, Rater: what was judged and by whom.
//   - Time: unix milliseconds when it was made (simulated for simulated raters).
//   - Session: the labeling session it belongs to; Seq its position in that session
//     (1-based), which fatigue analyses use.
//   - MS: milliseconds spent on the item (an implicit signal).
//   - Guideline: the guideline version in force.
//   - Reasons: reason tags; Note: free text.
//   - Revises: the id of an earlier judgment of the same rater, kind and item that
//     this one supersedes (a revision; see Revisions), "" for a first version.
//   - Pos: where it came from in an import: its 1-based place among the judgments
//     of the import's input (files in the order given), so that exports write rows
//     in the input's order (ExportOrder); 0 for judgments made in Prefer and in
//     snapshots written before positions were recorded. Pos is not part of the
//     judgment's content: two judgments that differ only in Pos are the same event
//     (a Log keeps the smaller position), and imports derive ids without it.
//
// compare: A and B are response ids; Choice; Strength 0 (not given) or 1..3
// (slightly, clearly, much better); Left is "a" or "b", the response shown on the left.
//
// rank: Shown lists the response ids in the order shown; Order lists indices into
// Shown, best first, and is a permutation of 0..len(Shown)-1.
//
// rate: Response, Axis, Score in [ScoreMin, ScoreMax].
// rewrite: Response (the one rewritten) and Text (the new answer).
// flag: Response, Category (one of FlagCategories), Note.
// thumb: Response and Score +1 (up) or −1 (down).
// review: Target (the id of the judgment reviewed, of any kind but review), Verdict,
// and for an edit the new content in the fields of the target's kind (see Revisions).
type Judgment struct {
	ID        string
	Kind      Kind
	Item      string
	Rater     string
	Time      int64
	Session   string
	Seq       int
	MS        int64
	Guideline int
	Reasons   []string
	Note      string
	Revises   string
	Pos       int

	A, B     string
	Choice   Choice
	Strength int
	Left     string

	Shown []string
	Order []int

	Response string
	Axis     string
	Score    int
	Text     string
	Category string

	Target  string
	Verdict string
}

// Winner returns the id of the preferred response of a compare judgment with choice
// a or b, and "" otherwise.
func (j *Judgment) Winner() string {
	switch j.Choice {
	case ChoiceA:
		return j.A
	case ChoiceB:
		return j.B
	}
	return ""
}

// Loser returns the id of the other response of a decided comparison, or "".
func (j *Judgment) Loser() string {
	switch j.Choice {
	case ChoiceA:
		return j.B
	case ChoiceB:
		return j.A
	}
	return ""
}

// LeftWon reports whether the response shown on the left was chosen. ok is false when
// the comparison was not decided or the side is unknown.
func (j *Judgment) LeftWon() (won, ok bool) {
	if j.Left != "a" && j.Left != "b" {
		return false, false
	}
	switch j.Choice {
	case ChoiceA:
		return j.Left == "a", true
	case ChoiceB:
		return j.Left == "b", true
	}
	return false, false
}

// Ranked returns the response ids of a rank judgment, best first.
func (j *Judgment) Ranked() []string {
	out := make([]string, len(j.Order))
	for k, idx := range j.Order {
		if idx >= 0 && idx < len(j.Shown) {
			out[k] = j.Shown[idx]
		}
	}
	return out
}

// Responses returns the response ids a judgment refers to, in a fixed order.
func (j *Judgment) Responses() []string {
	switch j.Kind {
	case KindCompare:
		return []string{j.A, j.B}
	case KindRank:
		return append([]string(nil), j.Shown...)
	case KindRate, KindRewrite, KindFlag, KindThumb:
		return []string{j.Response}
	}
	return nil
}
