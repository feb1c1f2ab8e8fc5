package feedback

import "sort"

// Pair is one ordered comparison a reward model trains on: Winner ≻ Loser, or a tie
// between the two when Tie is set (then the order of Winner and Loser carries no
// meaning).
//
// Left is the id of the response shown on the left, "" if unknown; the tabular model's
// position-effect term uses it. Strength is the rater's optional strength (0 = not
// given, 1..3). Source is the id of the judgment the pair came from.
type Pair struct {
	Item     string
	Winner   string
	Loser    string
	Tie      bool
	Rater    string
	Strength int
	Left     string
	Source   string
}

// BothBadRule says what a "both-bad" comparison contributes to the pairs.
type BothBadRule int

const (
	// BothBadDrop (default): no pair. "Both bad" says nothing about which is better;
	// the judgment still counts in quality statistics and in Flagged/BothBad views.
	BothBadDrop BothBadRule = iota
	// BothBadTie: a tie pair, for models that should learn the two are close.
	BothBadTie
)

// FlagRule says how flags change comparisons.
type FlagRule int

const (
	// FlagLoses (default): a response carrying a live flag (any flag judgment on it
	// that a review did not reject) loses every comparison against an unflagged
	// response of the same item, whatever was chosen: a flag is a stronger statement
	// than a click. A comparison of two flagged responses is dropped, like both-bad.
	FlagLoses FlagRule = iota
	// FlagIgnore: comparisons stand exactly as judged.
	FlagIgnore
)

// PairOptions chooses the documented rules by which judgments become pairs.
// The zero value is the default rule set.
type PairOptions struct {
	BothBad BothBadRule
	Flags   FlagRule
	// NoRewrites turns off the rewrite rule: by default a rewrite whose text is a
	// response of the item yields the pair rewrite ≻ rewritten response.
	NoRewrites bool
	// WithRanks also expands rank judgments into all C(K,2) pairs. Off by default:
	// reward models take rankings as whole Groups (InstructGPT, one batch element per
	// ranking) rather than as independent pairs.
	WithRanks bool
}

// Pairs derives the comparison pairs of judgments js over items, in the order of js.
// Only the standing version of each judgment counts (Current): a revised, rejected or
// withdrawn version gives no pair, an edited one gives the pair of its edit.
func Pairs(items []Item, js []Judgment, opt PairOptions) []Pair {
	ix := NewIndex(items, nil)
	js = Current(js)
	flagged := liveFlags(js)
	var out []Pair
	for _, j := range js {
		switch j.Kind {
		case KindCompare:
			p, ok := comparePair(j, flagged, opt)
			if ok {
				out = append(out, p)
			}
		case KindRewrite:
			if opt.NoRewrites {
				continue
			}
			it := ix.Items[j.Item]
			if it == nil {
				continue
			}
			id := ResponseID(j.Text)
			if it.Response(id) != nil && id != j.Response {
				out = append(out, Pair{Item: j.Item, Winner: id, Loser: j.Response, Rater: j.Rater, Source: j.ID})
			}
		case KindRank:
			if !opt.WithRanks {
				continue
			}
			r := j.Ranked()
			for a := 0; a < len(r); a++ {
				for b := a + 1; b < len(r); b++ {
					out = append(out, Pair{Item: j.Item, Winner: r[a], Loser: r[b], Rater: j.Rater, Source: j.ID})
				}
			}
		}
	}
	return out
}

func comparePair(j Judgment, flagged map[ItemResponse]bool, opt PairOptions) (Pair, bool) {
	p := Pair{Item: j.Item, Rater: j.Rater, Strength: j.Strength, Source: j.ID}
	switch j.Left {
	case "a":
		p.Left = j.A
	case "b":
		p.Left = j.B
	}
	if opt.Flags == FlagLoses {
		fa := flagged[ItemResponse{j.Item, j.A}]
		fb := flagged[ItemResponse{j.Item, j.B}]
		switch {
		case fa && fb:
			return p, false
		case fa:
			p.Winner, p.Loser = j.B, j.A
			return p, true
		case fb:
			p.Winner, p.Loser = j.A, j.B
			return p, true
		}
	}
	switch j.Choice {
	case ChoiceA, ChoiceB:
		p.Winner, p.Loser = j.Winner(), j.Loser()
		return p, true
	case ChoiceTie:
		p.Winner, p.Loser, p.Tie = j.A, j.B, true
		return p, true
	case ChoiceBothBad:
		if opt.BothBad == BothBadTie {
			p.Winner, p.Loser, p.Tie = j.A, j.B, true
			return p, true
		}
	}
	return p, false
}

// ItemResponse names one response of one item.
type ItemResponse struct {
	Item     string
	Response string
}

// FlaggedResponses returns the responses that carry a live flag: the standing version
// of a flag judgment (Current: a flag no review rejected and its rater did not
// withdraw; an accepted, edited or not yet reviewed flag is live).
func FlaggedResponses(js []Judgment) map[ItemResponse]bool { return liveFlags(Current(js)) }

// liveFlags returns the flagged responses of standing judgments.
func liveFlags(cur []Judgment) map[ItemResponse]bool {
	out := make(map[ItemResponse]bool)
	for _, j := range cur {
		if j.Kind == KindFlag {
			out[ItemResponse{j.Item, j.Response}] = true
		}
	}
	return out
}

// Group is one k-wise ranking: Ranked lists response ids, best first.
// A reward model trains on all C(K,2) pairs of a group as one batch element
// (InstructGPT, Ouyang et al. 2022 §3.5).
type Group struct {
	Item   string
	Rater  string
	Ranked []string
	Source string
}

// Groups returns the k-wise rankings of js, in the order of js: the standing version
// of each (Current).
func Groups(js []Judgment) []Group {
	var out []Group
	for _, j := range Current(js) {
		if j.Kind == KindRank && len(j.Shown) >= 2 {
			out = append(out, Group{Item: j.Item, Rater: j.Rater, Ranked: j.Ranked(), Source: j.ID})
		}
	}
	return out
}

// Select returns the judgments for which keep is true, in order.
func Select(js []Judgment, keep func(*Judgment) bool) []Judgment {
	var out []Judgment
	for i := range js {
		if keep(&js[i]) {
			out = append(out, js[i])
		}
	}
	return out
}

// OfKind returns the judgments of kind k.
func OfKind(js []Judgment, k Kind) []Judgment {
	return Select(js, func(j *Judgment) bool { return j.Kind == k })
}

// ForRater returns the judgments by rater id.
func ForRater(js []Judgment, rater string) []Judgment {
	return Select(js, func(j *Judgment) bool { return j.Rater == rater })
}

// ForItem returns the judgments of item id.
func ForItem(js []Judgment, item string) []Judgment {
	return Select(js, func(j *Judgment) bool { return j.Item == item })
}

// RaterIDs returns the distinct rater ids of js, sorted.
func RaterIDs(js []Judgment) []string {
	return distinct(js, func(j *Judgment) string { return j.Rater })
}

// ItemIDs returns the distinct item ids of js, sorted.
func ItemIDs(js []Judgment) []string { return distinct(js, func(j *Judgment) string { return j.Item }) }

func distinct(js []Judgment, key func(*Judgment) string) []string {
	seen := make(map[string]bool)
	var out []string
	for i := range js {
		k := key(&js[i])
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Counts returns how many judgments of each kind js holds, keyed by kind.
func Counts(js []Judgment) map[Kind]int {
	out := make(map[Kind]int)
	for _, j := range js {
		out[j.Kind]++
	}
	return out
}
