package agree

import (
	"maps"
	"math"
	"slices"
	"sort"

	"prefer/core/rng"
)

// groups compares how rater groups label the same units.
func (c *context) groups(t *table, rf refs) *GroupDiff {
	gNames, gOf := c.groupIndex(t)
	if len(gNames) < 2 {
		return nil
	}
	G, K := len(gNames), len(t.labels)
	shared, sharedUnits := sharedLabels(t, gOf, G)
	gd := &GroupDiff{
		Groups: c.groupStats(t, rf, gNames, gOf, shared), SharedUnits: len(shared),
		Within: NaN, Between: NaN, Chi2: NaN, P: NaN, Disputed: []DisputedUnit{},
	}
	if len(shared) == 0 {
		return gd
	}
	gd.Within, gd.Between = agreementWithinBetween(shared)
	gd.Chi2, gd.P, gd.Permutations = c.groupTest(shared, G, K)
	gd.Differ = float64(gd.P) < c.opt.Level
	gd.Disputed = c.disputed(t, shared, sharedUnits, G, K)
	return gd
}

// groupLabel is one latest label of a shared unit: the rater's group (index into
// the sorted group names), the label and the rater (index into t.raters).
type groupLabel struct{ g, l, r int }

// groupIndex returns the sorted names of the groups of t's raters and the group
// of each rater of t as an index into them (−1 for none).
func (c *context) groupIndex(t *table) ([]string, []int) {
	names := map[string]bool{}
	for _, id := range t.raters {
		if g := c.group[id]; g != "" {
			names[g] = true
		}
	}
	gNames := slices.Sorted(maps.Keys(names))
	gOf := make([]int, len(t.raters))
	for r, id := range t.raters {
		gOf[r] = indexOf(gNames, c.group[id])
	}
	return gNames, gOf
}

// sharedLabels returns the shared units — latest labels from at least two of the
// G groups — with their labels, and each one's unit index in t.
func sharedLabels(t *table, gOf []int, G int) (shared [][]groupLabel, sharedUnits []int) {
	for u, l := range t.latest {
		var ls []groupLabel
		present := 0
		seenG := make([]bool, G)
		for _, i := range l {
			o := t.obs[i]
			if g := gOf[o.rater]; g >= 0 {
				ls = append(ls, groupLabel{g, o.label, o.rater})
				if !seenG[g] {
					seenG[g] = true
					present++
				}
			}
		}
		if present >= 2 {
			shared = append(shared, ls)
			sharedUnits = append(sharedUnits, u)
		}
	}
	return shared, sharedUnits
}

// groupStats are the figures of each group: raters, label mix on the shared
// units, consensus and gold accuracy over all its labels, and (compare) how often
// it chose the longer response.
func (c *context) groupStats(t *table, rf refs, gNames []string, gOf []int, shared [][]groupLabel) []GroupStats {
	G, K := len(gNames), len(t.labels)
	mix := make([][]float64, G)
	for g := range mix {
		mix[g] = make([]float64, K)
	}
	for _, ls := range shared {
		for _, x := range ls {
			mix[x.g][x.l]++
		}
	}
	consN, consOK := make([]int, G), make([]int, G)
	goldN, goldOK := make([]int, G), make([]int, G)
	for i, o := range t.obs {
		g := gOf[o.rater]
		if g < 0 {
			continue
		}
		if !math.IsNaN(rf.cons[i]) {
			consN[g]++
			consOK[g] += b2i(o.value == rf.cons[i])
		}
		if gl := t.gold[o.unit]; gl >= 0 {
			goldN[g]++
			goldOK[g] += b2i(o.label == gl)
		}
	}
	longN, longOK := make([]int, G), make([]int, G)
	if t.kind == "compare" {
		for _, o := range t.obs {
			g := gOf[o.rater]
			if g < 0 {
				continue
			}
			if won, ok := c.choseLonger(o.j); ok {
				longN[g]++
				longOK[g] += b2i(won)
			}
		}
	}
	out := make([]GroupStats, G)
	for g, name := range gNames {
		gs := GroupStats{Group: name, LabelMix: make([]Float, K), Consensus: share(consOK[g], consN[g]),
			GoldAccuracy: share(goldOK[g], goldN[g]), LongerShare: share(longOK[g], longN[g])}
		for r := range t.raters {
			if gOf[r] == g {
				gs.Raters++
			}
		}
		var n float64
		for _, v := range mix[g] {
			n += v
		}
		gs.Labels = int(n)
		for l, v := range mix[g] {
			if n > 0 {
				gs.LabelMix[l] = Float(v / n)
			} else {
				gs.LabelMix[l] = NaN
			}
		}
		out[g] = gs
	}
	return out
}

// agreementWithinBetween is the agreement of label pairs on the shared units from
// raters of the same group and of different groups.
func agreementWithinBetween(shared [][]groupLabel) (within, between Float) {
	var wN, wOK, bN, bOK int
	for _, ls := range shared {
		for x := 0; x < len(ls); x++ {
			for y := x + 1; y < len(ls); y++ {
				same := ls[x].l == ls[y].l
				if ls[x].g == ls[y].g {
					wN++
					wOK += b2i(same)
				} else {
					bN++
					bOK += b2i(same)
				}
			}
		}
	}
	return share(wOK, wN), share(bOK, bN)
}

// groupTest is the unit-stratified χ² of group against label on the shared units
// and its permutation test. In one unit with n labels, group sizes R_g and label
// counts C_l (both fixed under permutation),
//
//	χ² = Σ_gl (O_gl − E_gl)²/E_gl = n (Σ_gl O_gl² / (R_g C_l) − 1),   E_gl = R_g C_l / n,
//
// so a permutation only changes Σ O²/(R C), accumulated label by label.
// Permutations stop early once h of them reach the observed statistic (Besag &
// Clifford 1991, "Sequential Monte Carlo p-values", Biometrika 78): p = h/l after l
// permutations; otherwise p = (1 + #{≥ observed})/(1 + permutations).
func (c *context) groupTest(shared [][]groupLabel, G, K int) (chi2, p Float, permutations int) {
	type stratum struct {
		gs []int     // group of each label (shuffled in place)
		ls []int     // each label
		w  []float64 // (G, K) 1/(R_g C_l)
		n  float64
	}
	strata := make([]stratum, 0, len(shared))
	row, col := make([]float64, G), make([]float64, K)
	for _, ls := range shared {
		for g := range row {
			row[g] = 0
		}
		for l := range col {
			col[l] = 0
		}
		st := stratum{gs: make([]int, len(ls)), ls: make([]int, len(ls)), w: make([]float64, G*K), n: float64(len(ls))}
		labelsPresent := 0
		for i, x := range ls {
			st.gs[i], st.ls[i] = x.g, x.l
			row[x.g]++
			if col[x.l] == 0 {
				labelsPresent++
			}
			col[x.l]++
		}
		if labelsPresent < 2 {
			continue // everyone gave the same label: χ² = 0 under every permutation
		}
		for g := range row {
			for l := range col {
				if row[g] > 0 && col[l] > 0 {
					st.w[g*K+l] = 1 / float64(row[g]*col[l])
				}
			}
		}
		strata = append(strata, st)
	}
	cnt := make([]int, G*K)
	chi := func(st *stratum) float64 {
		var s float64
		for i, g := range st.gs {
			c := g*K + st.ls[i]
			s += float64(float64(2*cnt[c]+1) * st.w[c]) // (O+1)² − O² = 2O + 1
			cnt[c]++
		}
		for i, g := range st.gs {
			cnt[g*K+st.ls[i]] = 0
		}
		return float64(st.n * (s - 1))
	}
	var obsStat float64
	for i := range strata {
		obsStat += chi(&strata[i])
	}
	const h = 20
	r := rng.New(c.opt.Seed ^ 0x67726f757073) // "groups"
	ge, done := 0, 0
	for done < c.opt.Permutations && ge < h {
		var stat float64
		for i := range strata {
			st := &strata[i]
			for a := len(st.gs) - 1; a > 0; a-- { // Fisher–Yates
				b := r.IntN(a + 1)
				st.gs[a], st.gs[b] = st.gs[b], st.gs[a]
			}
			stat += chi(st)
		}
		done++
		if stat >= float64(obsStat*(1-1e-12)) {
			ge++
		}
	}
	if ge >= h && done < c.opt.Permutations {
		return Float(obsStat), Float(float64(h) / float64(done)), done
	}
	return Float(obsStat), Float(float64(1+ge) / float64(1+done)), done
}

// disputed returns the shared units with the largest difference between two
// groups' label distributions (maxTV), most different first, at most
// c.opt.Disputed.
func (c *context) disputed(t *table, shared [][]groupLabel, sharedUnits []int, G, K int) []DisputedUnit {
	type disp struct {
		s    int
		dist float64
	}
	var ds []disp
	tab := make([]float64, G*K)
	for s, ls := range shared {
		for i := range tab {
			tab[i] = 0
		}
		for _, x := range ls {
			tab[x.g*K+x.l]++
		}
		if d := maxTV(tab, G, K); d > 0 {
			ds = append(ds, disp{s, d})
		}
	}
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].dist != ds[j].dist {
			return ds[i].dist > ds[j].dist
		}
		if len(shared[ds[i].s]) != len(shared[ds[j].s]) {
			return len(shared[ds[i].s]) > len(shared[ds[j].s])
		}
		return t.units[sharedUnits[ds[i].s]].Key < t.units[sharedUnits[ds[j].s]].Key
	})
	if len(ds) > c.opt.Disputed {
		ds = ds[:c.opt.Disputed]
	}
	out := []DisputedUnit{}
	for _, d := range ds {
		du := DisputedUnit{Unit: t.units[sharedUnits[d.s]], Distance: Float(d.dist), Counts: make([][]int, G)}
		for g := range du.Counts {
			du.Counts[g] = make([]int, K)
		}
		for _, x := range shared[d.s] {
			du.Counts[x.g][x.l]++
		}
		out = append(out, du)
	}
	return out
}

// maxTV returns the largest total variation distance ½ Σ_l |p_g(l) − p_h(l)| between
// the label distributions of two groups present in cnt (G × K, row-major).
func maxTV(cnt []float64, G, K int) float64 {
	row := make([]float64, G)
	for g := 0; g < G; g++ {
		for l := 0; l < K; l++ {
			row[g] += cnt[g*K+l]
		}
	}
	var best float64
	for g := 0; g < G; g++ {
		for h := g + 1; h < G; h++ {
			if row[g] == 0 || row[h] == 0 {
				continue
			}
			var d float64
			for l := 0; l < K; l++ {
				d += math.Abs(cnt[g*K+l]/row[g] - cnt[h*K+l]/row[h])
			}
			if float64(d/2) > best {
				best = float64(d / 2)
			}
		}
	}
	return best
}
