package agree

import (
	"fmt"
	"sort"
	"strings"

	"prefer/core/feedback"
)

// AIAudit is the audit of one AI rater (rater kind "ai": a model judging, e.g. with
// `prefer judge`) against the people, on comparisons. Each pair of responses is a
// unit; the AI may have judged it in one order or in both (the answer shown first,
// Left, swapped).
//
// Its label on a unit is debiased: the verdict when both orders agree, a tie when
// they disagree (a pair preferred only when shown first is a wash, as in MT-Bench's
// conservative rule), the single verdict when it saw one order. The human consensus
// is the plurality of the people's latest labels on the unit (first, second or tie;
// both-bad left out); a unit whose plurality is split has none. Agreement and
// Cohen's κ (with its large-sample SE) compare the two on the units both have.
type AIAudit struct {
	Rater     string `json:"rater"`
	Name      string `json:"name"`
	Judgments int    `json:"judgments"` // compare judgments of the rater
	Pairs     int    `json:"pairs"`     // units judged
	// BothOrders is the number of units judged in both orders; Consistency the
	// share of those whose two verdicts agree (null without any).
	BothOrders  int   `json:"both_orders"`
	Consistency Float `json:"order_consistency"`
	// FirstShown is the share of decided judgments that chose the answer shown
	// first, FirstShownP its two-sided binomial p-value against ½: the AI's
	// position bias.
	FirstShown  Float `json:"first_shown_share"`
	FirstShownP Float `json:"first_shown_p"`
	Decided     int   `json:"decided"`
	// Shared is the number of units with both a debiased AI label and a human
	// consensus; Agreement the share where they are equal; Kappa and KappaSE
	// Cohen's κ over first/second/tie.
	Shared    int   `json:"shared_with_humans"`
	Agreement Float `json:"agreement"`
	Kappa     Float `json:"kappa"`
	KappaSE   Float `json:"kappa_se"`
	// LongerShare is how often the AI's debiased decided label chose the longer
	// answer (units whose answers differ in words), HumanLongerShare how often the
	// human consensus did on the same units: a length bias shows as a gap.
	LongerShare      Float `json:"longer_share"`
	HumanLongerShare Float `json:"human_longer_share"`
	LengthUnits      int   `json:"length_units"`
	// LongerOnly counts the units where the AI chose the longer answer and the
	// people the shorter, ShorterOnly the reverse; LongerP is McNemar's exact test
	// of the two (binomial of ½): a small p with LongerOnly > ShorterOnly is a
	// length bias beyond the people's own.
	LongerOnly  int   `json:"longer_only"`
	ShorterOnly int   `json:"shorter_only"`
	LongerP     Float `json:"longer_p"`
	// Disagreements lists the shared units where the AI and the people disagree,
	// most clearly first: opposite winners before a tie against a winner, then the
	// strongest human consensus (at most 10).
	Disagreements []AIDisagreement `json:"disagreements"`
}

// AIDisagreement is a unit where an AI rater and the human consensus differ.
type AIDisagreement struct {
	Item string `json:"item"`
	// First and Second are the unit's responses in sorted-id order; the labels
	// name them as "first", "second" or "tie".
	First  string `json:"first"`
	Second string `json:"second"`
	AI     string `json:"ai"`
	Humans string `json:"humans"`
	// HumanVotes is the number of people who labeled the unit, HumanAgree how many
	// of them gave the consensus label.
	HumanVotes int `json:"human_votes"`
	HumanAgree int `json:"human_agree"`
	// Note is the AI's reasoning (its first judgment's note).
	Note string `json:"note,omitempty"`
}

// aiLabels are the labels of the audit, in the order of κ's table.
var aiLabels = []string{"first", "second", "tie"}

type aiUnit struct{ item, x, y string }

// AuditAI audits every AI rater of raters that made compare judgments in js, in
// rater-id order; nil when there is none. Judgments are taken as they stand after
// revisions (feedback.Current).
func AuditAI(items []feedback.Item, raters []feedback.Rater, js []feedback.Judgment) []AIAudit {
	ai := map[string]string{}
	for _, r := range raters {
		if r.Kind == feedback.RaterAI {
			ai[r.ID] = r.Name
		}
	}
	if len(ai) == 0 {
		return nil
	}
	words := map[[2]string]int{}
	for i := range items {
		for _, r := range items[i].Responses {
			words[[2]string{items[i].ID, r.ID}] = len(strings.Fields(r.Text))
		}
	}
	type aiJudgment struct {
		label      int  // 0 first, 1 second, 2 tie
		firstShown int  // -1 unknown, else 0 first or 1 second (of the unit) shown first
		decided    bool // a or b
		note       string
	}
	byAI := map[string]map[aiUnit][]aiJudgment{}
	human := map[aiUnit]map[string]int{} // unit → rater → latest label
	for _, j := range sortedJudgments(feedback.Current(js)) {
		if j.Kind != feedback.KindCompare || j.A == j.B || j.A == "" || j.B == "" {
			continue
		}
		u := aiUnit{j.Item, j.A, j.B}
		swapped := false
		if u.y < u.x {
			u.x, u.y = u.y, u.x
			swapped = true
		}
		label := -1
		switch j.Choice {
		case feedback.ChoiceA:
			label = 0
		case feedback.ChoiceB:
			label = 1
		case feedback.ChoiceTie:
			label = 2
		}
		if label < 0 {
			continue
		}
		if swapped && label < 2 {
			label = 1 - label
		}
		if _, ok := ai[j.Rater]; ok {
			first := -1
			switch j.Left {
			case "a":
				first = 0
			case "b":
				first = 1
			}
			if first >= 0 && swapped {
				first = 1 - first
			}
			if byAI[j.Rater] == nil {
				byAI[j.Rater] = map[aiUnit][]aiJudgment{}
			}
			byAI[j.Rater][u] = append(byAI[j.Rater][u], aiJudgment{label: label, firstShown: first, decided: label < 2, note: j.Note})
			continue
		}
		if human[u] == nil {
			human[u] = map[string]int{}
		}
		human[u][j.Rater] = label
	}
	// The human consensus of each unit.
	type consensus struct{ label, votes, agree int }
	cons := map[aiUnit]consensus{}
	for u, byRater := range human {
		var n [3]int
		for _, l := range byRater {
			n[l]++
		}
		best, second := -1, -1
		for l := range 3 {
			if best < 0 || n[l] > n[best] {
				best, second = l, best
			} else if second < 0 || n[l] > n[second] {
				second = l
			}
		}
		if n[best] > 0 && (second < 0 || n[best] > n[second]) {
			cons[u] = consensus{label: best, votes: len(byRater), agree: n[best]}
		}
	}
	var ids []string
	for id := range byAI {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []AIAudit
	for _, id := range ids {
		units := byAI[id]
		a := AIAudit{Rater: id, Name: ai[id], Disagreements: []AIDisagreement{}}
		var consistent, first int
		table := [][]float64{make([]float64, 3), make([]float64, 3), make([]float64, 3)}
		var longer, humanLonger int
		keys := make([]aiUnit, 0, len(units))
		for u := range units {
			keys = append(keys, u)
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].item != keys[j].item {
				return keys[i].item < keys[j].item
			}
			if keys[i].x != keys[j].x {
				return keys[i].x < keys[j].x
			}
			return keys[i].y < keys[j].y
		})
		for _, u := range keys {
			jl := units[u]
			a.Judgments += len(jl)
			a.Pairs++
			for _, j := range jl {
				if j.decided && j.firstShown >= 0 {
					a.Decided++
					if j.label == j.firstShown {
						first++
					}
				}
			}
			// The debiased label: the last judgment of each order shown.
			byOrder := map[int]aiJudgment{}
			for _, j := range jl {
				byOrder[j.firstShown] = j
			}
			label := jl[len(jl)-1].label
			o0, ok0 := byOrder[0]
			o1, ok1 := byOrder[1]
			if ok0 && ok1 {
				a.BothOrders++
				if o0.label == o1.label {
					consistent++
					label = o0.label
				} else {
					label = 2
				}
			}
			c, ok := cons[u]
			if !ok {
				continue
			}
			a.Shared++
			table[label][c.label]++
			wx, wy := words[[2]string{u.item, u.x}], words[[2]string{u.item, u.y}]
			if wx != wy && label < 2 && c.label < 2 {
				a.LengthUnits++
				longerLabel := 0
				if wy > wx {
					longerLabel = 1
				}
				if label == longerLabel {
					longer++
				}
				if c.label == longerLabel {
					humanLonger++
				}
				switch {
				case label == longerLabel && c.label != longerLabel:
					a.LongerOnly++
				case label != longerLabel && c.label == longerLabel:
					a.ShorterOnly++
				}
			}
			if label != c.label {
				a.Disagreements = append(a.Disagreements, AIDisagreement{Item: u.item, First: u.x, Second: u.y,
					AI: aiLabels[label], Humans: aiLabels[c.label], HumanVotes: c.votes, HumanAgree: c.agree, Note: jl[0].note})
			}
		}
		a.Consistency = share(consistent, a.BothOrders)
		a.FirstShown = share(first, a.Decided)
		a.FirstShownP = NaN
		if a.Decided > 0 {
			a.FirstShownP = Float(BinomialTest(first, a.Decided, 0.5))
		}
		a.Agreement, a.Kappa, a.KappaSE = NaN, NaN, NaN
		if a.Shared > 0 {
			k := CohenKappa(table)
			a.Agreement, a.Kappa, a.KappaSE = Float(k.Po), Float(k.Kappa), Float(k.SE)
		}
		a.LongerShare, a.HumanLongerShare = share(longer, a.LengthUnits), share(humanLonger, a.LengthUnits)
		a.LongerP = NaN
		if d := a.LongerOnly + a.ShorterOnly; d > 0 {
			a.LongerP = Float(BinomialTest(a.LongerOnly, d, 0.5))
		}
		sort.SliceStable(a.Disagreements, func(i, j int) bool {
			x, y := a.Disagreements[i], a.Disagreements[j]
			ox, oy := x.AI != "tie" && x.Humans != "tie", y.AI != "tie" && y.Humans != "tie"
			if ox != oy {
				return ox
			}
			sx, sy := float64(x.HumanAgree)/float64(x.HumanVotes), float64(y.HumanAgree)/float64(y.HumanVotes)
			if sx != sy {
				return sx > sy
			}
			return x.HumanVotes > y.HumanVotes
		})
		if len(a.Disagreements) > 10 {
			a.Disagreements = a.Disagreements[:10]
		}
		out = append(out, a)
	}
	return out
}

// aiFindings are the audit's findings in plain words.
func aiFindings(audits []AIAudit, level float64) []string {
	var out []string
	for _, a := range audits {
		who := a.Rater
		if a.Shared > 0 {
			out = append(out, fmt.Sprintf("AI rater %s agrees with the human consensus on %s of %d shared pairs (Cohen's κ %s).",
				who, pct(a.Agreement), a.Shared, fmtF(a.Kappa)))
		} else {
			out = append(out, fmt.Sprintf("AI rater %s judged %d pairs, none of which people labeled: nothing to audit it against; label some of the same pairs.", who, a.Pairs))
		}
		if a.Decided > 0 && a.FirstShownP.Valid() && float64(a.FirstShownP) < level {
			out = append(out, fmt.Sprintf("AI rater %s prefers the answer shown first %s of the time (p = %s): a position bias; judging both orders cancels it (order consistency %s).",
				who, pct(a.FirstShown), pval(a.FirstShownP), pct(a.Consistency)))
		}
		if a.LongerOnly > a.ShorterOnly && a.LongerP.Valid() && float64(a.LongerP) < level {
			out = append(out, fmt.Sprintf("AI rater %s chooses the longer answer %s of the time where people choose it %s (%d pairs; it alone chose the longer in %d, the people alone in %d, McNemar p = %s): a length bias.",
				who, pct(a.LongerShare), pct(a.HumanLongerShare), a.LengthUnits, a.LongerOnly, a.ShorterOnly, pval(a.LongerP)))
		}
	}
	return out
}

func fmtF(f Float) string {
	if !f.Valid() {
		return "undefined"
	}
	return fmt.Sprintf("%.2f", float64(f))
}

// writeAI prints the AI audit of WriteText.
func writeAI(p func(string, ...any), audits []AIAudit) {
	for _, a := range audits {
		p("\nAI rater %s (%s): %d judgments on %d pairs, %d in both orders (order consistency %s)\n", a.Rater, a.Name, a.Judgments, a.Pairs, a.BothOrders, pct(a.Consistency))
		p("  against the human consensus on %d pairs: agreement %s, Cohen's κ %s (SE %s)\n", a.Shared, pct(a.Agreement), fmtF(a.Kappa), fmtF(a.KappaSE))
		p("  position: chose the answer shown first %s of %d decided (p %s)\n", pct(a.FirstShown), a.Decided, pval(a.FirstShownP))
		if a.LengthUnits > 0 {
			p("  length: chose the longer answer %s, people %s (%d pairs; longer where people chose shorter %d, the reverse %d, McNemar p %s)\n",
				pct(a.LongerShare), pct(a.HumanLongerShare), a.LengthUnits, a.LongerOnly, a.ShorterOnly, pval(a.LongerP))
		}
		for i, d := range a.Disagreements {
			if i == 5 {
				p("  … %d more disagreements in --json\n", len(a.Disagreements)-5)
				break
			}
			p("  disagrees on %s (%s vs %s): AI %s, people %s (%d of %d)\n", d.Item, d.First, d.Second, d.AI, d.Humans, d.HumanAgree, d.HumanVotes)
		}
	}
}
