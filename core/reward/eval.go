package reward

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"prefer/core/feedback"
	"prefer/core/num"
)

// Evaluate measures a model on every comparison and ranking in js (all of them
// count as held-out) and returns its metrics and diagnostics. topK bounds the lists
// (0: 10).
func Evaluate(m Model, items []feedback.Item, js []feedback.Judgment, topK int) (Metrics, Diagnostics) {
	ds := newDataset(items, js, feedback.PairOptions{})
	sp := splitSets{}
	for e := range ds.elems {
		sp.held = append(sp.held, e)
	}
	cfg := Config{TopK: topK}.withDefaults()
	cfg.SplitBy = "pair"
	return evaluate(ds, sp, m, cfg)
}

// evaluate computes the metrics and diagnostics of model m on the dataset's splits.
func evaluate(ds *dataset, sp splitSets, m Model, cfg Config) (Metrics, Diagnostics) {
	score := rowScorer(ds, m)
	eta := modelEta(m)
	var mt Metrics
	var dg Diagnostics
	mt.Eta = eta
	mt.NTrain, mt.NHeld = len(sp.train), len(sp.held)
	mt.HeldLogLoss, mt.HeldAcc = setLoss(ds, sp.held, score, eta)
	mt.HeldDecidedLogLoss = decidedLoss(ds, sp.held, score, eta)
	mt.TrainLogLoss, mt.TrainAcc = setLoss(ds, sp.train, score, eta)
	dg.Reliability, mt.ECE = reliability(ds, sp.held, score, eta, 10)

	rows := heldRows(ds, sp)
	rew := make([]float64, len(rows))
	words := make([]float64, len(rows))
	for i, r := range rows {
		rew[i] = score(r)
		words[i] = float64(Words(ds.text(r)))
	}
	mt.LengthSpearman = Spearman(rew, words)
	mt.GoldSpearman, mt.GoldSpearmanWithin, mt.GoldPairAcc = goldAgreement(ds, rows, rew)
	dg.Disagreements = disagreements(ds, sp.held, score, eta, cfg.TopK)
	dg.TopPositive, dg.TopNegative = topFeatures(ds, sp.train, m, cfg.TopK)
	dg.Parts = partEffects(ds, rows, rew)
	dg.Notes = notes(mt, dg)
	return mt, dg
}

// decidedLoss is the mean over the decided comparisons among idx of
//
//	−log P(winner ≻ loser | decided) = −log [σ(d−η) / (σ(d−η) + σ(−d−η))],  d = r_w − r_l
//
// (plain −log σ(d) without ties, η = 0). NaN when idx holds no decided comparison.
func decidedLoss(ds *dataset, idx []int, score func(int32) float64, eta float64) float64 {
	var sum float64
	n := 0
	for _, i := range idx {
		e := &ds.elems[i]
		if e.kind != elPair {
			continue
		}
		p := decidedProb(score(e.rows[0])-score(e.rows[1]), eta)
		if math.IsNaN(p) {
			continue
		}
		sum -= num.Log(math.Max(p, 1e-300))
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// heldRows returns the held-out responses: every response of a held-out item
// (split by item) or every response in a held-out element (split by pair), in row
// order.
func heldRows(ds *dataset, sp splitSets) []int32 {
	seen := make([]bool, len(ds.rowItem))
	if len(sp.heldItems) > 0 {
		for _, it := range sp.heldItems {
			start := ds.itemRow[it]
			if start < 0 {
				continue
			}
			for k := range ds.items[it].Responses {
				seen[start+int32(k)] = true
			}
		}
	} else {
		for _, e := range sp.held {
			for _, r := range ds.elems[e].rows {
				seen[r] = true
			}
		}
	}
	var out []int32
	for r, ok := range seen {
		if ok {
			out = append(out, int32(r))
		}
	}
	return out
}

// reliability bins the held-out decided pairs by confidence max(p, 1−p), p the
// model's probability that the first response wins given a decision, into nb equal
// bins over [0.5, 1], and returns the bins and the expected calibration error
// ECE = Σ_b (n_b/N)·|acc_b − conf_b| (Guo et al. 2017). Equal scores count as wrong.
func reliability(ds *dataset, idx []int, score func(int32) float64, eta float64, nb int) ([]Bin, float64) {
	bins := make([]Bin, nb)
	for b := range bins {
		bins[b].Lo = 0.5 + float64(0.5*float64(b))/float64(nb)
		bins[b].Hi = 0.5 + float64(0.5*float64(b+1))/float64(nb)
	}
	n := 0
	for _, i := range idx {
		e := &ds.elems[i]
		if e.kind != elPair {
			continue
		}
		d := score(e.rows[0]) - score(e.rows[1])
		p := decidedProb(d, eta)
		if math.IsNaN(p) {
			continue
		}
		conf := math.Max(p, 1-p)
		right := d > 0
		b := int(float64(float64((conf-0.5)*2) * float64(nb)))
		if b >= nb {
			b = nb - 1
		}
		bins[b].Count++
		bins[b].Conf += conf
		if right {
			bins[b].Acc++
		}
		n++
	}
	if n == 0 {
		return bins, math.NaN()
	}
	var ece float64
	for b := range bins {
		if c := bins[b].Count; c > 0 {
			bins[b].Conf /= float64(c)
			bins[b].Acc /= float64(c)
			ece += float64(float64(c) / float64(n) * math.Abs(bins[b].Acc-bins[b].Conf))
		}
	}
	return bins, ece
}

// goldAgreement compares rewards with the gold utilities of the rows that have one:
// Spearman ρ pooled over rows, mean within-item ρ (items with ≥ 3 gold responses and
// gold not all equal), and the fraction of within-item pairs with different gold
// that the rewards order the same way (equal rewards count as wrong).
func goldAgreement(ds *dataset, rows []int32, rew []float64) (pooled, within, pairAcc float64) {
	var gs, rs []float64
	byItem := map[int32][]int{}
	var itemOrder []int32
	for i, r := range rows {
		g := ds.response(r).Gold
		if g == nil {
			continue
		}
		gs = append(gs, *g)
		rs = append(rs, rew[i])
		it := ds.rowItem[r]
		if _, ok := byItem[it]; !ok {
			itemOrder = append(itemOrder, it)
		}
		byItem[it] = append(byItem[it], len(gs)-1)
	}
	if len(gs) < 3 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	pooled = Spearman(rs, gs)
	var sum float64
	var nItems, right, total int
	for _, it := range itemOrder {
		ks := byItem[it]
		for a := 0; a < len(ks); a++ {
			for b := a + 1; b < len(ks); b++ {
				ga, gb := gs[ks[a]], gs[ks[b]]
				if ga == gb {
					continue
				}
				total++
				ra, rb := rs[ks[a]], rs[ks[b]]
				if (ga > gb && ra > rb) || (gb > ga && rb > ra) {
					right++
				}
			}
		}
		if len(ks) < 3 {
			continue
		}
		x := make([]float64, len(ks))
		y := make([]float64, len(ks))
		for i, k := range ks {
			x[i], y[i] = rs[k], gs[k]
		}
		if rho := Spearman(x, y); !math.IsNaN(rho) {
			sum += rho
			nItems++
		}
	}
	within, pairAcc = math.NaN(), math.NaN()
	if nItems > 0 {
		within = sum / float64(nItems)
	}
	if total > 0 {
		pairAcc = float64(right) / float64(total)
	}
	return pooled, within, pairAcc
}

// Spearman returns Spearman's rank correlation of x and y: the Pearson correlation
// of their ranks, ties given their average rank. It is NaN for fewer than two
// values or when y is constant, and 0 when only x is constant (no information).
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("reward: Spearman length mismatch")
	}
	if len(x) < 2 {
		return math.NaN()
	}
	rx, ry := ranks(x), ranks(y)
	mx, my := meanOf(rx), meanOf(ry)
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mx, ry[i]-my
		sxy += float64(dx * dy)
		sxx += float64(dx * dx)
		syy += float64(dy * dy)
	}
	if syy == 0 {
		return math.NaN()
	}
	if sxx == 0 {
		return 0
	}
	return sxy / math.Sqrt(float64(sxx*syy))
}

// ranks returns the 1-based ranks of x, ties averaged.
func ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(float64(i+j)/2) + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// disagreements returns the held-out decided pairs whose winner the model gives the
// lowest probability, worst first, at most k.
func disagreements(ds *dataset, idx []int, score func(int32) float64, eta float64, k int) []Disagreement {
	// Ranked by probability first, as (element, probability) — only the k kept are
	// spelled out.
	type cand struct {
		e int
		p float64
	}
	var all []cand
	for _, i := range idx {
		e := &ds.elems[i]
		if e.kind != elPair {
			continue
		}
		all = append(all, cand{i, decidedProb(score(e.rows[0])-score(e.rows[1]), eta)})
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].p < all[b].p })
	var kept []Disagreement
	for _, c := range all {
		if len(kept) == k || c.p >= 0.5 {
			break
		}
		e := &ds.elems[c.e]
		w, l := ds.response(e.rows[0]), ds.response(e.rows[1])
		it := &ds.items[e.item]
		kept = append(kept, Disagreement{
			Item: it.ID, Prompt: it.Prompt, Winner: w.ID, Loser: l.ID, WinnerText: w.Text, LoserText: l.Text,
			Rater: e.rater, Source: e.source, PWinner: c.p,
		})
	}
	return kept
}

// topFeatures lists the n-grams of the training texts with the largest and smallest
// effective weights sign(g)·w[h(g)] in a linear model (the members' mean weights for
// an ensemble of linear models). Only n-grams seen at least twice are listed; other
// families give nil.
func topFeatures(ds *dataset, train []int, m Model, k int) (pos, neg []Feature) {
	var w []float32
	var fc FeatureConfig
	switch x := m.(type) {
	case *Linear:
		w, fc = x.W, x.Features
	case *Ensemble:
		for _, mm := range x.Members {
			l, ok := mm.(*Linear)
			if !ok {
				return nil, nil
			}
			if w == nil {
				w = make([]float32, len(l.W))
				fc = l.Features
			}
			for i := range w {
				w[i] += l.W[i] / float32(len(x.Members))
			}
		}
	default:
		return nil, nil
	}
	if w == nil {
		return nil, nil
	}
	seen := ds.trainRows(train)
	f := NewFeaturizer(fc)
	if ds.keys != nil && ds.feat == f.Config() && slices.Equal(ds.keysOf, seen) {
		return topKeys(ds, f, w, k)
	}
	var texts []string
	for _, e := range train {
		for _, r := range ds.elems[e].rows {
			if seen[r] {
				seen[r] = false
				texts = append(texts, ds.text(r))
			}
		}
	}
	dict := f.Explain(texts)
	var all []Feature
	for b, names := range dict.names {
		for name, count := range names {
			if count < 2 {
				continue
			}
			_, sign := f.Bucket(name[0], name[2:])
			all = append(all, Feature{Name: name, Weight: float64(sign * float64(w[b])), Bucket: int(b), Count: count})
		}
	}
	if !fc.NoLength {
		D := fc.Dim
		all = append(all, Feature{Name: "len:words", Weight: float64(w[D]), Bucket: D}, Feature{Name: "len:sentences", Weight: float64(w[D+1]), Bucket: D + 1})
	}
	sort.Slice(all, func(a, b int) bool {
		if all[a].Weight != all[b].Weight {
			return all[a].Weight > all[b].Weight
		}
		return all[a].Name < all[b].Name
	})
	for i := 0; i < len(all) && len(pos) < k && all[i].Weight > 0; i++ {
		pos = append(pos, all[i])
	}
	for i := len(all) - 1; i >= 0 && len(neg) < k && all[i].Weight < 0; i-- {
		neg = append(neg, all[i])
	}
	return pos, neg
}

// topKeys is topFeatures from the n-gram counts gathered while the training rows
// were featurized (dataset.keys): the same features in the same order, naming only
// the candidates — the n-grams whose weight reaches the k-th largest (smallest), ties
// included — by featurizing their first rows' texts again, not every text.
func topKeys(ds *dataset, f *Featurizer, w []float32, k int) (pos, neg []Feature) {
	fc := f.Config()
	type cand struct {
		h     uint64
		f     Feature
		row   int32
		named bool
	}
	var all []cand
	for h, kc := range ds.keys {
		if kc.n < 2 {
			continue
		}
		b := int(h % uint64(fc.Dim))
		sign := 1.0
		if h>>63 == 1 {
			sign = -1
		}
		all = append(all, cand{h: h, row: kc.row, f: Feature{Weight: float64(sign * float64(w[b])), Bucket: b, Count: int(kc.n)}})
	}
	if !fc.NoLength {
		D := fc.Dim
		all = append(all, cand{named: true, f: Feature{Name: "len:words", Weight: float64(w[D]), Bucket: D}},
			cand{named: true, f: Feature{Name: "len:sentences", Weight: float64(w[D+1]), Bucket: D + 1}})
	}
	// pick returns the candidates of the given sign whose weight is at least as far
	// from zero as the k-th one's, named.
	pick := func(positive bool) []Feature {
		var side []cand
		for _, c := range all {
			if positive && c.f.Weight > 0 || !positive && c.f.Weight < 0 {
				side = append(side, c)
			}
		}
		sort.Slice(side, func(a, b int) bool {
			if positive {
				return side[a].f.Weight > side[b].f.Weight
			}
			return side[a].f.Weight < side[b].f.Weight
		})
		if len(side) > k && k > 0 {
			edge := side[k-1].f.Weight
			n := k
			for n < len(side) && side[n].f.Weight == edge {
				n++
			}
			side = side[:n]
		} else if k <= 0 {
			side = nil
		}
		// Name them: each first row's text is featurized once more, recording names.
		byRow := map[int32][]int{}
		for i, c := range side {
			if !c.named {
				byRow[c.row] = append(byRow[c.row], i)
			}
		}
		for row, idx := range byRow {
			g := &Featurizer{cfg: fc, names: make(map[int32]map[string]int)}
			g.Featurize(ds.text(row))
			for _, names := range g.names {
				for name := range names {
					h := fnv1a(name[0], name[2:])
					for _, i := range idx {
						if side[i].h == h {
							side[i].f.Name = name
						}
					}
				}
			}
		}
		out := make([]Feature, len(side))
		for i, c := range side {
			out[i] = c.f
		}
		sort.Slice(out, func(a, b int) bool {
			if out[a].Weight != out[b].Weight {
				if positive {
					return out[a].Weight > out[b].Weight
				}
				return out[a].Weight < out[b].Weight
			}
			if positive {
				return out[a].Name < out[b].Name
			}
			return out[a].Name > out[b].Name
		})
		return out[:min(k, len(out))]
	}
	return pick(true), pick(false)
}

// partEffects measures, for every part tag of the held-out responses, the
// standardized difference of mean reward (and gold) with and without the part.
func partEffects(ds *dataset, rows []int32, rew []float64) []PartEffect {
	if len(rows) < 4 {
		return nil
	}
	var tags []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, p := range ds.response(r).Parts {
			if !seen[p] {
				seen[p] = true
				tags = append(tags, p)
			}
		}
	}
	sort.Strings(tags)
	gold := make([]float64, len(rows))
	hasGold := true
	for i, r := range rows {
		g := ds.response(r).Gold
		if g == nil {
			hasGold = false
			break
		}
		gold[i] = *g
	}
	sdR, sdG := stddev(rew), stddev(gold)
	var out []PartEffect
	for _, tag := range tags {
		var withR, withoutR, withG, withoutG []float64
		for i, r := range rows {
			has := false
			for _, p := range ds.response(r).Parts {
				has = has || p == tag
			}
			if has {
				withR, withG = append(withR, rew[i]), append(withG, gold[i])
			} else {
				withoutR, withoutG = append(withoutR, rew[i]), append(withoutG, gold[i])
			}
		}
		if len(withR) == 0 || len(withoutR) == 0 || sdR == 0 {
			continue
		}
		e := PartEffect{Part: tag, N: len(withR), Reward: (meanOf(withR) - meanOf(withoutR)) / sdR, Gold: math.NaN()}
		if hasGold && sdG > 0 {
			e.Gold = (meanOf(withG) - meanOf(withoutG)) / sdG
		}
		out = append(out, e)
	}
	return out
}

// notes turns the metrics into findings a lead can act on.
func notes(m Metrics, d Diagnostics) []string {
	var out []string
	if !math.IsNaN(m.LengthSpearman) && math.Abs(m.LengthSpearman) >= 0.3 {
		dir := "rises"
		if m.LengthSpearman < 0 {
			dir = "falls"
		}
		out = append(out, fmt.Sprintf("reward %s with length (Spearman %.2f on held-out responses): check for a verbosity bias in the raters or the model", dir, m.LengthSpearman))
	}
	if !math.IsNaN(m.ECE) && m.ECE > 0.1 {
		out = append(out, fmt.Sprintf("poorly calibrated: expected calibration error %.2f", m.ECE))
	}
	if !math.IsNaN(m.GoldSpearman) && m.GoldSpearman < 0.5 {
		out = append(out, fmt.Sprintf("reward tracks the gold utility poorly (Spearman %.2f): the raters' biases or noise reached the model", m.GoldSpearman))
	}
	if !math.IsNaN(m.HeldAcc) && !math.IsNaN(m.TrainAcc) && m.TrainAcc-m.HeldAcc > 0.15 {
		out = append(out, fmt.Sprintf("overfitting: training accuracy %.2f against held-out %.2f", m.TrainAcc, m.HeldAcc))
	}
	for _, p := range d.Parts {
		if !math.IsNaN(p.Gold) && p.Reward-p.Gold >= 0.5 {
			out = append(out, fmt.Sprintf("reward overvalues responses with part %q: %+.2f standard deviations of reward against %+.2f of gold utility (%d held-out responses)", p.Part, p.Reward, p.Gold, p.N))
		}
	}
	if len(d.TopPositive) > 0 {
		var names []string
		for i, f := range d.TopPositive {
			if i == 5 {
				break
			}
			names = append(names, DescribeFeature(f.Name))
		}
		out = append(out, "what raises reward most: "+strings.Join(names, ", "))
	}
	return out
}
