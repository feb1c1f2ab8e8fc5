package agree

import (
	"math"

	"prefer/core/feedback"
)

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
		x := per[j.Rater]
		if x == nil {
			x = &cnt{}
			per[j.Rater] = x
		}
		x.n++
		all.n++
		if won {
			x.left++
			all.left++
		}
	}
	if all.n == 0 {
		return nil
	}
	stats := func(rater string, x cnt) PositionStats {
		p := BinomialTest(x.left, x.n, 0.5)
		return PositionStats{Rater: rater, Decided: x.n, LeftWins: x.left, LeftShare: share(x.left, x.n),
			P: Float(p), Biased: p < c.opt.Level}
	}
	pb := &PositionBias{PositionStats: stats("", all), Raters: []PositionStats{}}
	for _, id := range sortedKeys(per) {
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
// the choice with the length difference, and the same share for the gold answer.
func (c *context) lengthBias() *LengthBias {
	type acc struct {
		n, longer, gN, gLonger, rLongerOnGold int
		x, y                                  []float64
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
		gold := pairGold(c.ix[j.Item], j.A, j.B) // 0: A better, 1: B better
		x := per[j.Rater]
		if x == nil {
			x = &acc{}
			per[j.Rater] = x
		}
		for _, s := range []*acc{x, &all} {
			s.n++
			s.longer += b2i(longer)
			// Both orientations: (A−B, A won) and (B−A, B won).
			s.x = append(s.x, d, -d)
			s.y = append(s.y, aWon, 1-aWon)
			if gold >= 0 {
				s.gN++
				s.gLonger += b2i((gold == 0) == (la > lb))
				s.rLongerOnGold += b2i(longer)
			}
		}
	}
	if all.n == 0 {
		return nil
	}
	stats := func(rater string, s *acc) LengthStats {
		p := BinomialTest(s.longer, s.n, 0.5)
		ls := LengthStats{Rater: rater, Decided: s.n, LongerWins: s.longer, LongerShare: share(s.longer, s.n),
			P: Float(p), Corr: Float(pearson(s.x, s.y)), GoldLongerShare: share(s.gLonger, s.gN), GoldN: s.gN,
			Excess: NaN, Biased: p < c.opt.Level}
		if s.gN > 0 {
			ls.Excess = Float(float64(s.rLongerOnGold-s.gLonger) / float64(s.gN))
		}
		if math.IsNaN(p) {
			ls.Biased = false
		}
		return ls
	}
	lb := &LengthBias{LengthStats: stats("", &all), Raters: []LengthStats{}}
	for _, id := range sortedKeys(per) {
		lb.Raters = append(lb.Raters, stats(id, per[id]))
	}
	return lb
}
