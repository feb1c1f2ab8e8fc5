package agree

import (
	"math"
	"prefer/core/num"
	"sort"
)

// refs holds, for every label of a table, what it is compared with.
type refs struct {
	cons     []float64 // leave-one-out consensus value (label index, or rounded mean score for rate); NaN when none
	consMean []float64 // rate: mean of the other raters' scores; NaN when none
	quality  []int8    // 1 when the label matches gold (if known) or else the consensus, 0 if not, −1 without reference
}

func (t *table) rated() bool { return t.kind == "rate" }

// references computes the leave-one-out consensus and quality of every label of t.
func (t *table) references() refs {
	K := len(t.labels)
	n := len(t.obs)
	rf := refs{cons: make([]float64, n), consMean: make([]float64, n), quality: make([]int8, n)}
	// Per unit: counts of the latest labels, their sum of scores, and each rater's
	// latest obs.
	counts := make([]int, len(t.units)*K) // (U, K)
	sums := make([]float64, len(t.units))
	for u, l := range t.latest {
		for _, i := range l {
			o := t.obs[i]
			counts[u*K+o.label]++
			sums[u] += o.value
		}
	}
	others := make([]float64, K)
	for i, o := range t.obs {
		rf.cons[i], rf.consMean[i], rf.quality[i] = math.NaN(), math.NaN(), -1
		u := o.unit
		own := t.obs[t.own[i]]
		m := len(t.latest[u]) - 1 // the others
		if m >= 1 {
			if t.rated() {
				mean := (sums[u] - own.value) / float64(m)
				rf.consMean[i] = mean
				rf.cons[i] = math.Round(mean)
			} else {
				for l, c := range counts[u*K : (u+1)*K] {
					others[l] = float64(c)
				}
				others[own.label]--
				if best := uniqueMax(others); best >= 0 {
					rf.cons[i] = float64(best)
				}
			}
		}
		switch {
		case t.gold[u] >= 0:
			rf.quality[i] = b2i8(o.label == t.gold[u])
		case !math.IsNaN(rf.cons[i]):
			rf.quality[i] = b2i8(o.value == rf.cons[i])
		}
	}
	return rf
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func b2i8(b bool) int8 { return int8(b2i(b)) }

// kindReport analyses one table.
func (c *context) kindReport(t *table) KindReport {
	kr := KindReport{
		Kind: t.kind, Axis: t.axis, Metric: t.metric, Labels: t.labels,
		Units: len(t.units), Observations: len(t.obs), Repeats: t.repeats,
	}
	for _, l := range t.latest {
		if len(l) >= 2 {
			kr.PairableUnits++
		}
	}
	rf := t.references()
	kr.Agreement = c.agreement(t)
	ds, dsAcc := c.dawidSkene(t)
	kr.DawidSkene = ds
	kr.Raters = c.raterStats(t, rf, dsAcc)
	kr.Fatigue = c.fatigue(t, rf)
	kr.Drift = c.drift(t, rf)
	kr.Groups = c.groups(t, rf)
	return kr
}

// unitValues returns, per unit, the values of the latest labels (for α).
func (t *table) unitValues() [][]float64 {
	out := make([][]float64, len(t.units))
	for u, l := range t.latest {
		out[u] = make([]float64, len(l))
		for k, i := range l {
			out[u][k] = t.obs[i].value
		}
	}
	return out
}

// unitCounts returns the units × labels table of latest-label counts.
func (t *table) unitCounts() [][]float64 {
	out := make([][]float64, len(t.units))
	for u, l := range t.latest {
		out[u] = make([]float64, len(t.labels))
		for _, i := range l {
			out[u][t.obs[i].label]++
		}
	}
	return out
}

func (c *context) agreement(t *table) Agreement {
	var ag Agreement
	f := FleissKappa(t.unitCounts())
	ag.Percent, ag.FleissKappa, ag.FleissChance = Float(f.P), Float(f.Kappa), Float(f.Pe)
	vals := t.unitValues()
	if t.rated() {
		// Scores keep their values, so the ordered metrics see the scale.
		a := Alpha(vals, t.metric)
		ag.Alpha, ag.AlphaValues = Float(a.Alpha), a.Values
		ag.AlphaByMetric = &AlphaByMetric{
			Nominal:  Float(Alpha(vals, Nominal).Alpha),
			Ordinal:  Float(Alpha(vals, Ordinal).Alpha),
			Interval: Float(Alpha(vals, Interval).Alpha),
			Ratio:    Float(Alpha(vals, Ratio).Alpha),
		}
	} else {
		a := Alpha(vals, Nominal)
		ag.Alpha, ag.AlphaValues = Float(a.Alpha), a.Values
	}

	// Cohen's κ for every pair of raters, from the units both labeled.
	K := len(t.labels)
	pairs := map[[2]int][]float64{}
	for _, l := range t.latest {
		for x := 0; x < len(l); x++ {
			for y := x + 1; y < len(l); y++ {
				a, b := t.obs[l[x]], t.obs[l[y]] // a.rater < b.rater
				key := [2]int{a.rater, b.rater}
				tab := pairs[key]
				if tab == nil {
					tab = make([]float64, K*K)
					pairs[key] = tab
				}
				tab[a.label*K+b.label]++
			}
		}
	}
	keys := make([][2]int, 0, len(pairs))
	for k := range pairs {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	ag.CohenPairs = []Cohen{}
	var sum float64
	var nk int
	for _, k := range keys {
		tab := pairs[k]
		m := make([][]float64, K)
		for i := range m {
			m[i] = tab[i*K : (i+1)*K]
		}
		r := CohenKappa(m)
		ck := Cohen{
			RaterA: t.raters[k[0]], RaterB: t.raters[k[1]], Units: int(r.N),
			Kappa: Float(r.Kappa), SE: Float(r.SE), SE0: Float(r.SE0), Z: Float(r.Z), P: Float(r.P),
			Po: Float(r.Po), Pe: Float(r.Pe),
		}
		if len(t.raters) == 2 {
			two := ck
			two.Table = make([][]int, K)
			for i := range two.Table {
				two.Table[i] = make([]int, K)
				for j := range two.Table[i] {
					two.Table[i][j] = int(m[i][j])
				}
			}
			ag.Cohen = &two
		}
		if ck.Units >= c.opt.MinShared {
			ag.CohenPairs = append(ag.CohenPairs, ck)
			if ck.Kappa.Valid() {
				sum += float64(ck.Kappa)
				nk++
			}
		}
	}
	ag.CohenMean = NaN
	if nk > 0 {
		ag.CohenMean = Float(sum / float64(nk))
	}
	agree, pairsN := t.selfAgreement()
	ag.SelfAgreement, ag.SelfPairs = share(agree, pairsN), pairsN
	return ag
}

// selfAgreement sums the agreeing and all pairs of repeated labels over raters.
func (t *table) selfAgreement() (agree, pairs int) {
	for r := range t.raters {
		agree += t.selfAgree[r]
		pairs += t.selfPairs[r]
	}
	return agree, pairs
}

// dawidSkene fits Dawid–Skene to the latest labels of t. It returns nil when there is
// nothing to fit, and the per-rater accuracies (NaN when not fitted).
func (c *context) dawidSkene(t *table) (*DSReport, []float64) {
	K := len(t.labels)
	acc := make([]float64, len(t.raters))
	for i := range acc {
		acc[i] = math.NaN()
	}
	votes := make([][]vote, len(t.units))
	for u, l := range t.latest {
		for _, i := range l {
			votes[u] = append(votes[u], vote{t.obs[i].rater, t.obs[i].label})
		}
	}
	res, err := fitDawidSkene(votes, len(t.raters), K, c.opt.DawidSkene.defaults())
	if err != nil {
		return nil, acc
	}
	copy(acc, res.Accuracy)
	rep := &DSReport{
		Iterations: res.Iter, Converged: res.Converged, LogLik: Float(res.LogLik),
		Prior: num.Floats(res.Prior), Raters: make([]DSRater, len(t.raters)), Units: make([]UnitPosterior, len(t.units)),
	}
	for r, id := range t.raters {
		conf := make([][]Float, K)
		for k := range conf {
			conf[k] = num.Floats(res.Confusion[r][k])
		}
		rep.Raters[r] = DSRater{Rater: id, Accuracy: Float(res.Accuracy[r]), Confusion: conf}
	}
	counts := t.unitCounts()
	var majN, majAgree, goldN, dsGold, mvGold int
	for u, un := range t.units {
		up := UnitPosterior{Unit: un, N: len(t.latest[u]), Label: t.labels[res.Labels[u]], Posterior: num.Floats(res.Posterior[u])}
		maj := uniqueMax(counts[u])
		if maj >= 0 {
			up.Majority = t.labels[maj]
			majN++
			if maj == res.Labels[u] {
				majAgree++
			}
		}
		if g := t.gold[u]; g >= 0 {
			up.Gold = t.labels[g]
			goldN++
			if res.Labels[u] == g {
				dsGold++
			}
			if maj == g {
				mvGold++
			}
		}
		rep.Units[u] = up
	}
	rep.MajorityAgreement = share(majAgree, majN)
	rep.GoldAccuracy = share(dsGold, goldN)
	rep.MajorityGoldAccuracy = share(mvGold, goldN)
	return rep, acc
}

// uniqueMax returns the index of the unique largest count, −1 when tied or all zero.
func uniqueMax(x []float64) int {
	best, tied := -1, false
	for i, v := range x {
		if v <= 0 {
			continue
		}
		switch {
		case best < 0 || v > x[best]:
			best, tied = i, false
		case v == x[best]:
			tied = true
		}
	}
	if tied {
		return -1
	}
	return best
}

// raterStats computes each rater's reliability on t.
func (c *context) raterStats(t *table, rf refs, dsAcc []float64) []RaterStats {
	R := len(t.raters)
	type acc struct {
		labels, units, consN, consOK, goldN, goldOK int
		absErr, score, mean, gscore, gval           []float64
		seqQ, q, seqS, s                            []float64
		secSum                                      float64
		secN                                        int
		lastJ                                       int
	}
	a := make([]acc, R)
	for r := range a {
		a[r].lastJ = -1
	}
	for i, o := range t.obs {
		x := &a[o.rater]
		x.labels++
		if t.own[i] == i {
			x.units++
		}
		if !math.IsNaN(rf.cons[i]) {
			x.consN++
			if o.value == rf.cons[i] {
				x.consOK++
			}
		}
		if !math.IsNaN(rf.consMean[i]) {
			x.absErr = append(x.absErr, math.Abs(o.value-rf.consMean[i]))
			x.score = append(x.score, o.value)
			x.mean = append(x.mean, rf.consMean[i])
		}
		if g := t.gold[o.unit]; g >= 0 {
			x.goldN++
			if o.label == g {
				x.goldOK++
			}
		}
		if gv := t.goldVal[o.unit]; !math.IsNaN(gv) {
			x.gscore = append(x.gscore, o.value)
			x.gval = append(x.gval, gv)
		}
		seq := c.js[o.j].Seq
		if seq >= 1 && rf.quality[i] >= 0 {
			x.seqQ = append(x.seqQ, float64(seq))
			x.q = append(x.q, float64(rf.quality[i]))
		}
		// The labels of one judgment (the pairs of a ranking) are adjacent.
		if x.lastJ != o.j {
			x.lastJ = o.j
			if s := c.seconds(o.j); !math.IsNaN(s) {
				x.secSum += s
				x.secN++
				if seq >= 1 {
					x.seqS = append(x.seqS, float64(seq))
					x.s = append(x.s, s)
				}
			}
		}
	}
	out := make([]RaterStats, R)
	for r, id := range t.raters {
		x := &a[r]
		rs := RaterStats{
			Rater: id, Group: c.group[id], Labels: x.labels, Units: x.units,
			Consensus: share(x.consOK, x.consN), ConsensusN: x.consN,
			ConsensusMAE: NaN, ConsensusCorr: NaN, GoldAccuracy: share(x.goldOK, x.goldN), GoldN: x.goldN,
			GoldCorr: NaN, DSAccuracy: Float(dsAcc[r]), Seconds: NaN,
		}
		if t.rated() {
			if len(x.absErr) > 0 {
				rs.ConsensusMAE = Float(mean(x.absErr))
			}
			rs.ConsensusCorr = Float(pearson(x.score, x.mean))
			rs.GoldCorr = Float(pearson(x.gscore, x.gval))
		}
		rs.SelfAgreement = share(t.selfAgree[r], t.selfPairs[r])
		if x.secN > 0 {
			rs.Seconds = Float(x.secSum / float64(x.secN))
		}
		b, _, p := slope(x.seqQ, x.q)
		rs.QualitySlope, rs.QualityP = Float(100*b), Float(p)
		rs.QualityFalls = b < 0 && p < c.opt.Level && len(x.q) >= MinFlagN
		b, _, p = slope(x.seqS, x.s)
		rs.SecondsSlope, rs.SecondsP = Float(100*b), Float(p)
		rs.Slows = b > 0 && p < c.opt.Level && len(x.s) >= MinFlagN
		rs.Fatigued = rs.QualityFalls || rs.Slows
		out[r] = rs
	}
	return out
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
