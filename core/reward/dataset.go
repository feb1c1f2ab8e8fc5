package reward

import (
	"sort"

	"prefer/core/feedback"
	"prefer/core/rng"
)

// Batch element kinds.
const (
	elPair uint8 = iota // rows[0] beat rows[1]
	elTie               // rows[0] and rows[1] tied
	elRank              // rows ranked best first (InstructGPT: one element)
)

// elem is one batch element: a decided pair, a tie, or a whole ranking.
type elem struct {
	kind     uint8
	rows     []int32 // response rows
	strength int     // rater strength 0..3 (pairs)
	item     int     // item index
	rater    string
	source   string // judgment id
	left     int32  // row shown on the left, −1 if unknown
}

// dataset is the training data of one Train call: one row per response of every
// item that has a batch element, and the elements.
type dataset struct {
	items   []feedback.Item
	rowItem []int32 // row → item index
	rowResp []int32 // row → response index in the item
	itemRow []int32 // item → its first row (responses are consecutive), −1 if none
	elems   []elem
	x       []Sparse      // feature vectors (feature models): x[xi[row]], or x[row] when xi is nil
	xi      []int32       // row → its feature vector in x; rows of equal text share one
	feat    FeatureConfig // the configuration x was computed with
	// keys counts the n-grams of the rows in keysOf (the training rows of the split
	// x was computed for), by hash, with the first row of each: topFeatures names
	// the top ones from it without featurizing the texts again.
	keys   map[uint64]keyCount
	keysOf []bool
}

func (d *dataset) text(row int32) string {
	return d.items[d.rowItem[row]].Responses[d.rowResp[row]].Text
}

func (d *dataset) response(row int32) *feedback.Response {
	return &d.items[d.rowItem[row]].Responses[d.rowResp[row]]
}

// newDataset derives the batch elements of js over items: feedback.Pairs with the
// default rules (ties kept as ties) and feedback.Groups, in judgment order.
func newDataset(items []feedback.Item, js []feedback.Judgment, opt feedback.PairOptions) *dataset {
	pairs := feedback.Pairs(items, js, opt)
	groups := feedback.Groups(js)
	return newDatasetFrom(items, pairs, groups)
}

func newDatasetFrom(items []feedback.Item, pairs []feedback.Pair, groups []feedback.Group) *dataset {
	d := &dataset{items: items, itemRow: make([]int32, len(items))}
	itemIdx := make(map[string]int, len(items))
	for i := range items {
		itemIdx[items[i].ID] = i
		d.itemRow[i] = -1
	}
	respRow := func(item int, id string) (int32, bool) {
		k := items[item].ResponseIndex(id)
		if k < 0 {
			return 0, false
		}
		if d.itemRow[item] < 0 {
			d.itemRow[item] = int32(len(d.rowItem))
			for r := range items[item].Responses {
				d.rowItem = append(d.rowItem, int32(item))
				d.rowResp = append(d.rowResp, int32(r))
			}
		}
		return d.itemRow[item] + int32(k), true
	}
	for _, p := range pairs {
		i, ok := itemIdx[p.Item]
		if !ok {
			continue
		}
		a, okA := respRow(i, p.Winner)
		b, okB := respRow(i, p.Loser)
		if !okA || !okB || a == b {
			continue
		}
		e := elem{kind: elPair, rows: []int32{a, b}, strength: p.Strength, item: i, rater: p.Rater, source: p.Source, left: -1}
		if p.Tie {
			e.kind = elTie
		}
		switch p.Left {
		case p.Winner:
			e.left = a
		case p.Loser:
			e.left = b
		}
		d.elems = append(d.elems, e)
	}
	for _, g := range groups {
		i, ok := itemIdx[g.Item]
		if !ok || len(g.Ranked) < 2 {
			continue
		}
		rows := make([]int32, 0, len(g.Ranked))
		for _, id := range g.Ranked {
			r, ok := respRow(i, id)
			if !ok {
				rows = nil
				break
			}
			rows = append(rows, r)
		}
		if rows != nil {
			d.elems = append(d.elems, elem{kind: elRank, rows: rows, item: i, rater: g.Rater, source: g.Source, left: -1})
		}
	}
	return d
}

// featurize computes the feature rows, in parts (natively on two cores; each row's
// features do not depend on the split), and counts the n-grams of the rows marked in
// train (nil: none) for topFeatures. Rows whose features are equal by construction —
// the same text (and, with cross features, the same prompt) — share one feature row,
// featurized once: templated or canned answers recur (the 300k-pair benchmark has
// 199,568 distinct texts in 600,000 rows), and every row's vector is the one it had
// alone, bit for bit.
func (d *dataset) featurize(f *Featurizer, train []bool) {
	d.feat = f.Config()
	cross := d.feat.Cross
	type textKey struct{ prompt, text string }
	first := make(map[textKey]int32, len(d.rowItem)/2)
	d.xi = make([]int32, len(d.rowItem))
	var reps []int32 // the first row of each feature row
	for r := range d.rowItem {
		k := textKey{text: d.text(int32(r))}
		if cross {
			k.prompt = d.items[d.rowItem[r]].Prompt
		}
		u, ok := first[k]
		if !ok {
			u = int32(len(reps))
			first[k] = u
			reps = append(reps, int32(r))
		}
		d.xi[r] = u
	}
	first = nil
	// Per feature row: how many training rows share it, and the first of them — what
	// the n-gram counts of those rows, one by one in row order, would have noted.
	var mult, firstTrain []int32
	if train != nil {
		mult, firstTrain = make([]int32, len(reps)), make([]int32, len(reps))
		for i := range firstTrain {
			firstTrain[i] = -1
		}
		for r, ok := range train {
			if !ok {
				continue
			}
			u := d.xi[r]
			if mult[u] == 0 {
				firstTrain[u] = int32(r)
			}
			mult[u]++
		}
	}
	d.x = make([]Sparse, len(reps))
	var tables [workers]map[uint64]keyCount
	inParts(len(d.x), func(part, lo, hi int) {
		g := &Featurizer{cfg: f.cfg, arena: &sparseArena{}}
		if train != nil {
			g.keys = make(map[uint64]keyCount)
		}
		keys := g.keys
		for u := lo; u < hi; u++ {
			g.keys = keys
			if train != nil {
				if mult[u] == 0 {
					g.keys = nil
				}
				g.row, g.mult = firstTrain[u], mult[u]
			}
			r := reps[u]
			d.x[u] = g.FeaturizePair(d.items[d.rowItem[r]].Prompt, d.text(r))
		}
		tables[part] = keys
	})
	d.keys, d.keysOf = nil, nil
	if train == nil {
		return
	}
	d.keys = tables[0]
	for h, k := range tables[1] {
		if have, ok := d.keys[h]; ok {
			k.row = min(k.row, have.row)
			k.n += have.n
		}
		d.keys[h] = k
	}
	d.keysOf = train
}

// fx returns the feature vector of a row.
func (d *dataset) fx(row int32) Sparse {
	if d.xi != nil {
		return d.x[d.xi[row]]
	}
	return d.x[row]
}

// xrow returns the index into x of a row's feature vector.
func (d *dataset) xrow(row int32) int32 {
	if d.xi != nil {
		return d.xi[row]
	}
	return row
}

// trainRows marks the rows of the elements idx.
func (d *dataset) trainRows(idx []int) []bool {
	m := make([]bool, len(d.rowItem))
	for _, e := range idx {
		for _, r := range d.elems[e].rows {
			m[r] = true
		}
	}
	return m
}

// splitSets are element indices of the three splits.
type splitSets struct {
	train, valid, held []int
	heldItems          []int // item indices held out (by item)
}

// split divides the elements: by item (whole prompts) or by element, with
// fractions holdout (held-out test) and valid (of the rest, for early stopping).
func (d *dataset) split(by string, holdout, valid float64, r *rng.RNG) splitSets {
	var s splitSets
	if by == "item" {
		var used []int
		for i := range d.items {
			if d.itemRow[i] >= 0 {
				used = append(used, i)
			}
		}
		perm := r.Perm(len(used))
		nHeld := fracCount(len(used), holdout)
		rest := len(used) - nHeld
		nValid := fracCount(rest, valid)
		role := make([]uint8, len(d.items)) // 0 train, 1 valid, 2 held
		for k, pi := range perm {
			it := used[pi]
			switch {
			case k < nHeld:
				role[it] = 2
				s.heldItems = append(s.heldItems, it)
			case k < nHeld+nValid:
				role[it] = 1
			}
		}
		sort.Ints(s.heldItems)
		for e := range d.elems {
			switch role[d.elems[e].item] {
			case 0:
				s.train = append(s.train, e)
			case 1:
				s.valid = append(s.valid, e)
			case 2:
				s.held = append(s.held, e)
			}
		}
		return s
	}
	perm := r.Perm(len(d.elems))
	nHeld := fracCount(len(d.elems), holdout)
	nValid := fracCount(len(d.elems)-nHeld, valid)
	for k, e := range perm {
		switch {
		case k < nHeld:
			s.held = append(s.held, e)
		case k < nHeld+nValid:
			s.valid = append(s.valid, e)
		default:
			s.train = append(s.train, e)
		}
	}
	sort.Ints(s.held)
	sort.Ints(s.valid)
	sort.Ints(s.train)
	return s
}

// fracCount is round(n·f) for f in (0, 1), 0 for f ≤ 0, and leaves at least one
// element out of the split when n > 1.
func fracCount(n int, f float64) int {
	if f <= 0 || n == 0 {
		return 0
	}
	k := int(float64(float64(n)*f) + 0.5)
	if k < 1 {
		k = 1
	}
	if k >= n {
		k = n - 1
	}
	return k
}
