package agree

import (
	"maps"
	"math"
	"slices"

	"prefer/core/feedback"
	"prefer/core/num"
)

// goldDiff is the gold difference of responses a and b of it: gold(a) − gold(b) when
// both utilities are known, else ±1 from GoldBest, else 0.
func goldDiff(it *feedback.Item, a, b string) float64 {
	ra, rb := it.Response(a), it.Response(b)
	if ra != nil && rb != nil && ra.Gold != nil && rb.Gold != nil {
		return *ra.Gold - *rb.Gold
	}
	switch it.GoldBest {
	case a:
		return 1
	case b:
		return -1
	}
	return 0
}

// positionBias counts how often the response shown on the left wins a decided
// comparison, for the panel and per rater, with the exact binomial test of ½.
func (c *context) positionBias() *PositionBias {
	type cnt struct{ n, left int }
	per := map[string]*cnt{}
	var all cnt
	for i := range c.js {
		j := &c.js[i]
		if j.Kind != feedback.KindCompare {
			continue
		}
		won, ok := j.LeftWon()
		if !ok {
			continue
		}
		all.n++
		all.left += b2i(won)
		if j.Rater == "" {
			continue // the panel's only (see anonPrefix)
		}
		x := per[j.Rater]
		if x == nil {
			x = &cnt{}
			per[j.Rater] = x
		}
		x.n++
		x.left += b2i(won)
	}
	if all.n == 0 {
		return nil
	}
	stats := func(rater string, x cnt) PositionStats {
		p := BinomialTest(x.left, x.n, 0.5)
		return PositionStats{Rater: rater, Decided: x.n, LeftWins: x.left, LeftShare: share(x.left, x.n),
			P: Float(p), Biased: p < c.opt.Level, Possible: p >= c.opt.Level && p < WatchLevel}
	}
	pb := &PositionBias{PositionStats: stats("", all), Raters: []PositionStats{}}
	for _, id := range slices.Sorted(maps.Keys(per)) {
		pb.Raters = append(pb.Raters, stats(id, *per[id]))
	}
	return pb
}

// lengths returns the word counts of the two responses of compare judgment j, ok false
// when a text is unknown.
func (c *context) lengths(j *feedback.Judgment) (a, b int, ok bool) {
	it := c.ix[j.Item]
	if it == nil {
		return 0, 0, false
	}
	ia, ib := it.ResponseIndex(j.A), it.ResponseIndex(j.B)
	if ia < 0 || ib < 0 {
		return 0, 0, false
	}
	wc := c.words[j.Item]
	return wc[ia], wc[ib], true
}

// choseLonger reports whether the rater of decided compare judgment js[i] chose the
// longer response; ok is false when the comparison is not decided, a text is unknown
// or both have the same length.
func (c *context) choseLonger(i int) (longer, ok bool) {
	j := &c.js[i]
	if j.Kind != feedback.KindCompare || (j.Choice != feedback.ChoiceA && j.Choice != feedback.ChoiceB) {
		return false, false
	}
	la, lb, ok := c.lengths(j)
	if !ok || la == lb {
		return false, false
	}
	return (j.Choice == feedback.ChoiceA) == (la > lb), true
}

// lengthBias counts how often the longer response wins a decided comparison, for the
// panel and per rater, with the binomial test of ½, the point-biserial correlation of
// the choice with the length difference, the same share for the gold answer, and the
// length effect on the choice at a fixed gold difference.
func (c *context) lengthBias() *LengthBias {
	type acc struct {
		n, longer, gN, gLonger, rLongerOnGold int
		x, y                                  []float64 // length difference, A won (both orientations)
		gd, lr, gy                            []float64 // gold difference, log₂ length ratio, A won
	}
	per := map[string]*acc{}
	var all acc
	for i := range c.js {
		j := &c.js[i]
		longer, ok := c.choseLonger(i)
		if !ok {
			continue
		}
		la, lb, _ := c.lengths(j)
		aWon := 0.0
		if j.Choice == feedback.ChoiceA {
			aWon = 1
		}
		d := float64(la - lb)
		it := c.ix[j.Item]
		gold := pairGold(it, j.A, j.B) // 0: A better, 1: B better, −1 unknown
		tally := []*acc{&all}
		if j.Rater != "" { // else the panel's only (see anonPrefix)
			x := per[j.Rater]
			if x == nil {
				x = &acc{}
				per[j.Rater] = x
			}
			tally = append(tally, x)
		}
		for _, s := range tally {
			s.n++
			s.longer += b2i(longer)
			// Both orientations: (A−B, A won) and (B−A, B won).
			s.x = append(s.x, d, -d)
			s.y = append(s.y, aWon, 1-aWon)
			if gold < 0 {
				continue
			}
			s.gN++
			s.gLonger += b2i((gold == 0) == (la > lb))
			s.rLongerOnGold += b2i(longer)
			s.gd = append(s.gd, goldDiff(it, j.A, j.B))
			s.lr = append(s.lr, num.Log(float64(la)/float64(lb))/math.Ln2)
			s.gy = append(s.gy, aWon)
		}
	}
	if all.n == 0 {
		return nil
	}
	stats := func(rater string, s *acc) LengthStats {
		p := BinomialTest(s.longer, s.n, 0.5)
		ls := LengthStats{Rater: rater, Decided: s.n, LongerWins: s.longer, LongerShare: share(s.longer, s.n),
			P: Float(p), Corr: Float(pearson(s.x, s.y)), GoldLongerShare: share(s.gLonger, s.gN), GoldN: s.gN,
			Excess: NaN, Effect: NaN, EffectSE: NaN, EffectP: NaN}
		if s.gN > 0 {
			ls.Excess = Float(float64(s.rLongerOnGold-s.gLonger) / float64(s.gN))
		}
		if b, se, ok := logit2(s.gd, s.lr, s.gy, 1); ok && s.gN >= MinFlagN {
			ls.Effect, ls.EffectSE = Float(b[1]), Float(se[1])
			ls.EffectP = Float(normalTwoSided(b[1] / se[1]))
			ls.Biased = float64(ls.EffectP) < c.opt.Level
		} else {
			ls.Biased = p < c.opt.Level
		}
		return ls
	}
	lb := &LengthBias{LengthStats: stats("", &all), Raters: []LengthStats{}}
	for _, id := range slices.Sorted(maps.Keys(per)) {
		lb.Raters = append(lb.Raters, stats(id, per[id]))
	}
	return lb
}
