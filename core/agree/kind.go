package agree

import (
	"fmt"
	"math"
	"sort"

	"prefer/core/num"
)

// refs holds, for every label of a table, what it is compared with.
type refs struct {
	cons     []float64 // leave-one-out consensus value (label index, or rounded mean score for rate); NaN when none
	consMean []float64 // rate: mean of the other raters' scores; NaN when none
	quality  []int8    // 1 when the label matches gold (if known) or else the consensus, 0 if not, −1 without reference
}

func (t *table) rated() bool { return t.kind == "rate" }

// named returns the number of raters of t with an id (not anonymous).
func (t *table) named() int {
	n := 0
	for _, id := range t.raters {
		if !anonymous(id) {
			n++
		}
	}
	return n
}

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
	kr.Notes = []string{}
	var ds *DSReport
	dsAcc := make([]float64, len(t.raters))
	for i := range dsAcc {
		dsAcc[i] = math.NaN()
	}
	switch {
	case kr.PairableUnits == 0:
		kr.Notes = append(kr.Notes, "Every unit was labeled by one rater only, so agreement, agreement with the consensus and Dawid–Skene cannot be computed: they compare raters on the same units. Collect overlapping labels (a project with overlap 2 or more) to measure them.")
	case kr.PairableUnits < MinFlagN:
		kr.Notes = append(kr.Notes, fmt.Sprintf("Only %d units were labeled by two or more raters: too few to fit Dawid–Skene (it needs %d), and agreement rests on those few units.", kr.PairableUnits, MinFlagN))
	default:
		ds, dsAcc = c.dawidSkene(t)
	}
	kr.DawidSkene = ds
	kr.Raters = c.raterStats(t, rf, dsAcc)
	kr.Fatigue = c.fatigue(t, rf)
	kr.Drift = c.drift(t, rf)
	kr.Groups = c.groups(t, rf)
	if kr.Fatigue == nil && kr.Drift == nil {
		kr.Notes = append(kr.Notes, "The judgments carry no session positions and fewer than two distinct times, so fatigue and drift cannot be measured.")
	}
	if t.gold != nil && !t.anyGold() {
		kr.Notes = append(kr.Notes, "No unit has a known answer (gold), so gold accuracy cannot be computed; quality rests on agreement between raters.")
	}
	return kr
}

// anyGold reports whether any unit of t has a known answer or a gold utility.
func (t *table) anyGold() bool {
	for u := range t.units {
		if t.gold[u] >= 0 || !math.IsNaN(t.goldVal[u]) {
			return true
		}
	}
	return false
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
				if anonymous(t.raters[a.rater]) || anonymous(t.raters[b.rater]) {
					continue
				}
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
		if t.named() == 2 {
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
	// A rater's accuracy is estimated from the units they share with others; with
	// none, it would only echo the prior.
	shares := make([]bool, len(t.raters))
	for _, l := range t.latest {
		if len(l) >= 2 {
			for _, i := range l {
				shares[t.obs[i].rater] = true
			}
		}
	}
	for r := range acc {
		if shares[r] {
			acc[r] = res.Accuracy[r]
		}
	}
	rep := &DSReport{
		Iterations: res.Iter, Converged: res.Converged, LogLik: Float(res.LogLik),
		Prior: num.Floats(res.Prior), Raters: []DSRater{}, Units: make([]UnitPosterior, len(t.units)),
	}
	for r, id := range t.raters {
		if anonymous(id) {
			continue
		}
		conf := make([][]Float, K)
		for k := range conf {
			conf[k] = num.Floats(res.Confusion[r][k])
		}
		rep.Raters = append(rep.Raters, DSRater{Rater: id, Accuracy: Float(acc[r]), Confusion: conf})
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
		secs                                        []float64
		secSum                                      float64
		secN                                        int
		lastJ                                       int
		own, cons                                   map[float64]int // labels compared with a consensus: the rater's, the consensus's
		byLabel                                     []int           // labels per label index
	}
	a := make([]acc, R)
	for r := range a {
		a[r].lastJ = -1
		a[r].own, a[r].cons, a[r].byLabel = map[float64]int{}, map[float64]int{}, make([]int, len(t.labels))
	}
	for i, o := range t.obs {
		x := &a[o.rater]
		x.labels++
		x.byLabel[o.label]++
		if t.own[i] == i {
			x.units++
		}
		if !math.IsNaN(rf.cons[i]) {
			x.consN++
			if o.value == rf.cons[i] {
				x.consOK++
			}
			x.own[o.value]++
			x.cons[rf.cons[i]]++
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
				x.secs = append(x.secs, s)
				if seq >= 1 {
					x.seqS = append(x.seqS, float64(seq))
					x.s = append(x.s, s)
				}
			}
		}
	}
	medians := make([]float64, R)
	totals := make([]int, len(t.labels))
	for r := range a {
		medians[r] = median(a[r].secs)
		for l, n := range a[r].byLabel {
			totals[l] += n
		}
	}
	out := make([]RaterStats, 0, R)
	for r, id := range t.raters {
		if anonymous(id) {
			continue
		}
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
		c.chanceStats(&rs, x.consOK, x.consN, x.own, x.cons)
		rs.SecondsMedian, rs.PanelSeconds = Float(medians[r]), Float(othersMedian(medians, r))
		rs.TooFast = len(x.secs) >= MinFlagN && (rs.SecondsMedian < TooFastSeconds ||
			rs.PanelSeconds.Valid() && rs.SecondsMedian < Float(Float(TooFastRatio)*rs.PanelSeconds))
		t.straightLining(&rs, x.byLabel, totals)
		out = append(out, rs)
	}
	return out
}

// chanceStats fills the rater's agreement with the consensus against chance: the
// chance agreement Σ_v p_rater(v)·p_consensus(v), Cohen's κ against the consensus, and
// the one-sided binomial p-value of agreeing at least ok times in n by chance.
func (c *context) chanceStats(rs *RaterStats, ok, n int, own, cons map[float64]int) {
	rs.ConsensusChance, rs.ConsensusKappa, rs.ConsensusP = NaN, NaN, NaN
	if n == 0 {
		return
	}
	keys := make([]float64, 0, len(own))
	for v := range own {
		keys = append(keys, v)
	}
	sort.Float64s(keys) // a fixed summation order
	var pe float64
	for _, v := range keys {
		pe += float64(float64(own[v])/float64(n)*float64(cons[v])) / float64(n)
	}
	po := float64(ok) / float64(n)
	rs.ConsensusChance = Float(pe)
	if pe < 1 {
		rs.ConsensusKappa = Float((po - pe) / (1 - pe))
	}
	rs.ConsensusP = Float(BinomialUpper(ok, n, pe))
	rs.AtChance = n >= MinFlagN && rs.ConsensusKappa.Valid() && rs.ConsensusKappa < ChanceKappa &&
		(!rs.ConsensusP.Valid() || rs.ConsensusP >= WatchLevel)
}

// straightLining fills the rater's most frequent label, its share, the other raters'
// share of it, and the straight-lining flag. Labels that mean nothing on their own
// (compare's first and second, every rank label) are not counted.
func (t *table) straightLining(rs *RaterStats, mine, totals []int) {
	rs.TopShare, rs.OthersShare = NaN, NaN
	meaningful := func(l int) bool {
		switch t.kind {
		case "compare":
			return t.labels[l] == LabelTie || t.labels[l] == LabelBothBad
		case "rank":
			return false
		}
		return true
	}
	top, n, others := -1, 0, 0
	for l, k := range mine {
		n += k
		others += totals[l] - k
		if meaningful(l) && (top < 0 || k > mine[top]) {
			top = l
		}
	}
	if top < 0 || n == 0 || mine[top] == 0 {
		return
	}
	rs.TopLabel, rs.TopShare = t.labels[top], share(mine[top], n)
	rs.OthersShare = share(totals[top]-mine[top], others)
	rs.StraightLines = n >= MinFlagN && rs.TopShare >= StraightShare &&
		(!rs.OthersShare.Valid() || rs.OthersShare <= StraightOthers)
}

// median returns the median of x (NaN when empty); x is not modified.
func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return float64((s[n/2-1] + s[n/2]) / 2)
	}
}

// othersMedian is the median of the other raters' medians (NaN when none has one).
func othersMedian(medians []float64, r int) float64 {
	var o []float64
	for k, m := range medians {
		if k != r && !math.IsNaN(m) {
			o = append(o, m)
		}
	}
	return median(o)
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
