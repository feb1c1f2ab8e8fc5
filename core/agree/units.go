package agree

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"prefer/core/feedback"
)

// Unit is one thing several raters label on a shared scale.
//
//	compare, rank  (item, unordered pair of responses): Responses = [first, second],
//	               the two ids in sorted order; the label says which of them won
//	rate           (item, response, axis): the label is the score
//	thumb, flag    (item, response): the label is up/down, or the flag's category
type Unit struct {
	Key       string   `json:"key"`            // "item|first|second", "item|response|axis" or "item|response"
	Item      string   `json:"item"`           // the item id
	Responses []string `json:"responses"`      // the response ids the unit is about
	Axis      string   `json:"axis,omitempty"` // rate: the rating axis
}

// Label names of the pairwise kinds. A comparison's label is normalized to the
// unordered pair, so the same pair judged with A and B swapped gets the same label.
const (
	LabelFirst   = "first"    // Responses[0] won
	LabelSecond  = "second"   // Responses[1] won
	LabelTie     = "tie"      // a tie
	LabelBothBad = "both-bad" // both bad
)

// obs is one label: a rater's judgment of a unit (a ranking gives one per pair).
type obs struct {
	unit, rater, label int
	value              float64 // rate: the score; otherwise the label index
	j                  int     // index of the judgment in the sorted judgments
}

// table holds the labels of one kind (and axis) as units × raters.
type table struct {
	kind    feedback.Kind
	axis    string
	labels  []string
	metric  Metric // metric of Krippendorff's α for this table
	units   []Unit
	unitIdx map[string]int
	gold    []int     // per unit: the known label (pairwise kinds), −1 when unknown
	goldVal []float64 // per unit: gold utility of the rated response (rate), NaN when unknown
	raters  []string  // sorted rater ids
	obs     []obs     // in judgment order
	latest  [][]int   // per unit: indices into obs of each rater's latest label, by rater
	own     []int     // per obs: index of the same rater's latest obs on the same unit
	repeats int       // labels superseded by a later label of the same rater on the same unit
	// selfAgree and selfPairs count, per rater, the agreeing pairs and all pairs among
	// repeated labels of one unit.
	selfAgree, selfPairs []int
}

// sortedJudgments returns js in canonical order (by time, then id), like feedback.Log:
// js itself when it is already in that order (as a snapshot's judgments are), else a
// sorted copy.
func sortedJudgments(js []feedback.Judgment) []feedback.Judgment {
	before := func(a, b *feedback.Judgment) bool {
		if a.Time != b.Time {
			return a.Time < b.Time
		}
		return a.ID < b.ID
	}
	sorted := true
	for i := 1; i < len(js); i++ {
		if before(&js[i], &js[i-1]) {
			sorted = false
			break
		}
	}
	if sorted {
		return js
	}
	idx := make([]int, len(js))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return before(&js[idx[a]], &js[idx[b]]) })
	out := make([]feedback.Judgment, len(js))
	for i, k := range idx {
		out[i] = js[k]
	}
	return out
}

// anonPrefix starts the internal rater id of a judgment without a rater. Each such
// judgment counts as its own unknown rater — imported data such as HH-RLHF names no
// raters, and its judgments may come from many people — so two of them on one unit
// are two raters' labels, never one rater's repeat. Anonymous raters are left out of
// every per-rater list (and of Cohen's κ); their labels count in the panel's figures.
const anonPrefix = "\x00"

// raterKey is the rater id a judgment's labels are filed under.
func raterKey(j *feedback.Judgment) string {
	if j.Rater != "" {
		return j.Rater
	}
	return anonPrefix + j.ID
}

// anonymous reports whether a rater id of a table stands for a judgment without a
// rater.
func anonymous(id string) bool { return strings.HasPrefix(id, anonPrefix) }

// builder collects the labels of one table.
type builder struct {
	t      *table
	rIdx   map[string]int
	ix     map[string]*feedback.Item
	labels map[int]bool // rate: the distinct scores
}

func newBuilder(kind feedback.Kind, axis string, ix map[string]*feedback.Item) *builder {
	return &builder{t: &table{kind: kind, axis: axis, unitIdx: map[string]int{}}, rIdx: map[string]int{}, ix: ix}
}

func (b *builder) unit(u Unit) int {
	if i, ok := b.t.unitIdx[u.Key]; ok {
		return i
	}
	i := len(b.t.units)
	b.t.unitIdx[u.Key] = i
	b.t.units = append(b.t.units, u)
	return i
}

func (b *builder) add(u Unit, rater string, label int, value float64, j int) {
	ui := b.unit(u)
	ri, ok := b.rIdx[rater]
	if !ok {
		ri = len(b.rIdx)
		b.rIdx[rater] = ri
	}
	b.t.obs = append(b.t.obs, obs{unit: ui, rater: ri, label: label, value: value, j: j})
}

func pairUnit(item, x, y string) Unit {
	if y < x {
		x, y = y, x
	}
	return Unit{Key: item + "|" + x + "|" + y, Item: item, Responses: []string{x, y}}
}

// buildTables turns judgments (sorted canonically) into one table per kind and
// rating axis, in the order compare, rank, rate (axes in feedback.Axes order, then
// others sorted), thumb, flag. Judgments that cannot be labeled (undecodable choice,
// a ranking that is not a permutation, missing responses) are skipped.
func buildTables(items []feedback.Item, raters []feedback.Rater, js []feedback.Judgment, opt *Options) []*table {
	ts := newTableSet(items)
	for j := range js {
		if opt.wants(js[j].Kind) {
			ts.add(&js[j], j, opt.Axis)
		}
	}
	return ts.tables(raters, opt.Metric)
}

// tableSet builds the tables of buildTables, one builder per kind and rating axis.
type tableSet struct {
	ix                 map[string]*feedback.Item
	cmp, rnk, thm, flg *builder
	flagCats           []string            // flag labels: feedback.FlagCategories, then others as met
	rate               map[string]*builder // by axis
}

func newTableSet(items []feedback.Item) *tableSet {
	ix := make(map[string]*feedback.Item, len(items))
	for i := range items {
		ix[items[i].ID] = &items[i]
	}
	ts := &tableSet{ix: ix,
		cmp: newBuilder(feedback.KindCompare, "", ix), rnk: newBuilder(feedback.KindRank, "", ix),
		thm: newBuilder(feedback.KindThumb, "", ix), flg: newBuilder(feedback.KindFlag, "", ix),
		flagCats: append([]string(nil), feedback.FlagCategories...), rate: map[string]*builder{}}
	ts.cmp.t.labels = []string{LabelFirst, LabelSecond, LabelTie, LabelBothBad}
	ts.rnk.t.labels = []string{LabelFirst, LabelSecond}
	ts.thm.t.labels = []string{"down", "up"}
	return ts
}

// add labels judgment jd (index j) in its table; rate judgments only of axis
// when it is set. A judgment that cannot be labeled is skipped.
func (ts *tableSet) add(jd *feedback.Judgment, j int, axis string) {
	switch jd.Kind {
	case feedback.KindCompare:
		ts.addCompare(jd, j)
	case feedback.KindRank:
		if !validRanking(jd) {
			return
		}
		r := jd.Ranked()
		for a := 0; a < len(r); a++ {
			for c := a + 1; c < len(r); c++ {
				u := pairUnit(jd.Item, r[a], r[c])
				l := 0
				if r[a] != u.Responses[0] {
					l = 1
				}
				ts.rnk.add(u, raterKey(jd), l, float64(l), j)
			}
		}
	case feedback.KindRate:
		if jd.Response == "" || (axis != "" && jd.Axis != axis) {
			return
		}
		b := ts.rate[jd.Axis]
		if b == nil {
			b = newBuilder(feedback.KindRate, jd.Axis, ts.ix)
			b.labels = map[int]bool{}
			ts.rate[jd.Axis] = b
		}
		u := Unit{Key: jd.Item + "|" + jd.Response + "|" + jd.Axis, Item: jd.Item, Responses: []string{jd.Response}, Axis: jd.Axis}
		b.labels[jd.Score] = true
		b.add(u, raterKey(jd), jd.Score, float64(jd.Score), j) // label fixed by rateTables
	case feedback.KindThumb:
		if jd.Response == "" || (jd.Score != 1 && jd.Score != -1) {
			return
		}
		l := 0
		if jd.Score == 1 {
			l = 1
		}
		ts.thm.add(Unit{Key: jd.Item + "|" + jd.Response, Item: jd.Item, Responses: []string{jd.Response}}, raterKey(jd), l, float64(l), j)
	case feedback.KindFlag:
		if jd.Response == "" || jd.Category == "" {
			return
		}
		l := indexOf(ts.flagCats, jd.Category)
		if l < 0 {
			l = len(ts.flagCats)
			ts.flagCats = append(ts.flagCats, jd.Category)
		}
		ts.flg.add(Unit{Key: jd.Item + "|" + jd.Response, Item: jd.Item, Responses: []string{jd.Response}}, raterKey(jd), l, float64(l), j)
	}
}

// addCompare labels a comparison: the first or second response of its pair (in
// id order), a tie or both bad.
func (ts *tableSet) addCompare(jd *feedback.Judgment, j int) {
	if jd.A == "" || jd.B == "" || jd.A == jd.B {
		return
	}
	u := pairUnit(jd.Item, jd.A, jd.B)
	var l int
	switch jd.Choice {
	case feedback.ChoiceA, feedback.ChoiceB:
		if jd.Winner() == u.Responses[0] {
			l = 0
		} else {
			l = 1
		}
	case feedback.ChoiceTie:
		l = 2
	case feedback.ChoiceBothBad:
		l = 3
	default:
		return
	}
	ts.cmp.add(u, raterKey(jd), l, float64(l), j)
}

// tables finishes the tables that hold labels, in buildTables' order; ratings are
// measured with metric.
func (ts *tableSet) tables(raters []feedback.Rater, metric Metric) []*table {
	ts.flg.t.labels = ts.flagCats
	var out []*table
	for _, b := range []*builder{ts.cmp, ts.rnk} {
		if len(b.t.obs) > 0 {
			b.t.metric = Nominal
			out = append(out, b.finish(raters, true))
		}
	}
	out = append(out, ts.rateTables(raters, metric)...)
	for _, b := range []*builder{ts.thm, ts.flg} {
		if len(b.t.obs) > 0 {
			b.t.metric = Nominal
			out = append(out, b.finish(raters, false))
		}
	}
	return out
}

// rateTables finishes one table per rating axis, in feedback.Axes order (then
// others sorted), each with the scores given as its labels, in increasing order.
func (ts *tableSet) rateTables(raters []feedback.Rater, metric Metric) []*table {
	axes := make([]string, 0, len(ts.rate))
	for a := range ts.rate {
		axes = append(axes, a)
	}
	sort.Slice(axes, func(x, y int) bool {
		ix, iy := indexOf(feedback.Axes, axes[x]), indexOf(feedback.Axes, axes[y])
		if ix < 0 {
			ix = len(feedback.Axes)
		}
		if iy < 0 {
			iy = len(feedback.Axes)
		}
		if ix != iy {
			return ix < iy
		}
		return axes[x] < axes[y]
	})
	var out []*table
	for _, a := range axes {
		b := ts.rate[a]
		scores := make([]int, 0, len(b.labels))
		for s := range b.labels {
			scores = append(scores, s)
		}
		sort.Ints(scores)
		pos := map[int]int{}
		b.t.labels = make([]string, len(scores))
		for i, s := range scores {
			pos[s] = i
			b.t.labels[i] = strconv.Itoa(s)
		}
		for i := range b.t.obs {
			b.t.obs[i].label = pos[b.t.obs[i].label]
		}
		b.t.metric = metric
		out = append(out, b.finish(raters, false))
	}
	return out
}

// finish sorts raters, finds each rater's latest label per unit and the gold labels.
func (b *builder) finish(raters []feedback.Rater, pairwise bool) *table {
	t := b.t
	t.raters = make([]string, 0, len(b.rIdx))
	for r := range b.rIdx {
		t.raters = append(t.raters, r)
	}
	sort.Strings(t.raters)
	remap := make([]int, len(t.raters))
	for i, r := range t.raters {
		remap[b.rIdx[r]] = i
	}
	for i := range t.obs {
		t.obs[i].rater = remap[t.obs[i].rater]
	}
	// Latest label per (unit, rater): obs are in judgment order, so the last wins.
	// Earlier labels of the same pair are kept in prev for self-agreement.
	last := make(map[[2]int]int, len(t.obs))
	prev := map[[2]int][]int{}
	t.selfAgree = make([]int, len(t.raters))
	t.selfPairs = make([]int, len(t.raters))
	for i, o := range t.obs {
		k := [2]int{o.unit, o.rater}
		if p, ok := last[k]; ok {
			t.repeats++
			prev[k] = append(prev[k], p)
			for _, q := range prev[k] {
				t.selfPairs[o.rater]++
				t.selfAgree[o.rater] += b2i(t.obs[q].label == o.label)
			}
		}
		last[k] = i
	}
	t.latest = make([][]int, len(t.units))
	for i, o := range t.obs {
		if last[[2]int{o.unit, o.rater}] == i {
			t.latest[o.unit] = append(t.latest[o.unit], i)
		}
	}
	t.own = make([]int, len(t.obs))
	for u := range t.latest {
		l := t.latest[u]
		sort.Slice(l, func(a, c int) bool { return t.obs[l[a]].rater < t.obs[l[c]].rater })
	}
	for i, o := range t.obs {
		t.own[i] = last[[2]int{o.unit, o.rater}]
	}
	t.gold = make([]int, len(t.units))
	t.goldVal = make([]float64, len(t.units))
	for u, un := range t.units {
		t.gold[u], t.goldVal[u] = -1, math.NaN()
		it := b.ix[un.Item]
		if it == nil {
			continue
		}
		if pairwise {
			t.gold[u] = pairGold(it, un.Responses[0], un.Responses[1])
		} else if r := it.Response(un.Responses[0]); r != nil && r.Gold != nil {
			t.goldVal[u] = *r.Gold
		}
	}
	return t
}

// pairGold returns the known label of the pair (x, y) of item it: 0 when x is better,
// 1 when y is, −1 when unknown (GoldOrder).
func pairGold(it *feedback.Item, x, y string) int {
	switch GoldOrder(it, x, y) {
	case 1:
		return 0
	case -1:
		return 1
	}
	return -1
}

// GoldOrder is the gold order of responses x and y of item it: +1 when x is the better
// one, −1 when y is, 0 when it is not known. When both responses carry gold utilities
// that differ, the higher one is better; otherwise an item's GoldBest (its known best
// response) is better than any other response; otherwise — different responses with
// equal utilities, or no gold — there is no gold order, and the comparison is left
// out of gold accuracy. This is the one definition of a comparison's right answer
// for gold accuracy: `prefer agree`, the Quality page and the project lead's progress
// all use it.
func GoldOrder(it *feedback.Item, x, y string) int {
	if it == nil {
		return 0
	}
	rx, ry := it.Response(x), it.Response(y)
	if rx != nil && ry != nil && rx.Gold != nil && ry.Gold != nil {
		switch {
		case *rx.Gold > *ry.Gold:
			return 1
		case *rx.Gold < *ry.Gold:
			return -1
		}
	}
	switch it.GoldBest {
	case x:
		return 1
	case y:
		return -1
	}
	return 0
}

// GoldScore counts the comparisons of judgment j whose gold order is known
// (GoldOrder) and how many of them j gets right: a compare judgment is one comparison,
// right when its choice is the better response (a tie or both-bad is wrong); a
// ranking of K responses gives its C(K,2) pairs, each right when the better one is
// ranked above the other. Other kinds give none. This is gold accuracy as
// RaterStats.GoldAccuracy counts it.
func GoldScore(it *feedback.Item, j *feedback.Judgment) (n, correct int) {
	switch j.Kind {
	case feedback.KindCompare:
		g := GoldOrder(it, j.A, j.B)
		if g == 0 {
			return 0, 0
		}
		if g == 1 && j.Choice == feedback.ChoiceA || g == -1 && j.Choice == feedback.ChoiceB {
			return 1, 1
		}
		return 1, 0
	case feedback.KindRank:
		if !validRanking(j) {
			return 0, 0
		}
		r := j.Ranked()
		for a := 0; a < len(r); a++ {
			for b := a + 1; b < len(r); b++ {
				switch GoldOrder(it, r[a], r[b]) {
				case 1:
					n, correct = n+1, correct+1
				case -1:
					n++
				}
			}
		}
	}
	return n, correct
}

func validRanking(j *feedback.Judgment) bool {
	if len(j.Shown) < 2 || len(j.Order) != len(j.Shown) {
		return false
	}
	seen := make([]bool, len(j.Shown))
	for _, v := range j.Order {
		if v < 0 || v >= len(seen) || seen[v] {
			return false
		}
		seen[v] = true
	}
	ids := map[string]bool{}
	for _, s := range j.Shown {
		if s == "" || ids[s] {
			return false
		}
		ids[s] = true
	}
	return true
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// words counts the whitespace-separated words of s (as strings.Fields would split it).
func words(s string) int {
	n := 0
	in := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			in = false
		} else if !in {
			in = true
			n++
		}
	}
	return n
}
