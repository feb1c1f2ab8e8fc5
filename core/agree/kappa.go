package agree

import "math"

// FleissResult is Fleiss' κ with its parts.
type FleissResult struct {
	Kappa    float64 // (P̄ − P̄e)/(1 − P̄e); NaN when P̄e = 1 or no subject has two ratings
	P        float64 // P̄, the mean share of agreeing rater pairs per subject: the percent agreement
	Pe       float64 // P̄e = Σ_j p_j², the agreement expected by chance
	Subjects int     // subjects with at least two ratings
	Ratings  int     // ratings on those subjects
}

// FleissKappa returns Fleiss' κ (Fleiss 1971, "Measuring nominal scale agreement among
// many raters") of counts, a subjects × categories table: counts[i][j] is how many raters
// put subject i in category j.
//
//	P_i = Σ_j n_ij (n_ij − 1) / (n_i (n_i − 1)),   n_i = Σ_j n_ij
//	P̄   = mean_i P_i,   p_j = Σ_i n_ij / Σ_i n_i,   P̄e = Σ_j p_j²
//	κ   = (P̄ − P̄e) / (1 − P̄e)
//
// Fleiss assumes the same number of raters per subject; with varying n_i the formulas
// above are the natural generalization (each subject's share of agreeing pairs), and they
// equal Fleiss' when n_i is constant. Subjects with fewer than two ratings are skipped.
func FleissKappa(counts [][]float64) FleissResult {
	k := 0
	for _, r := range counts {
		if len(r) > k {
			k = len(r)
		}
	}
	pj := make([]float64, k)
	var sumP, total float64
	res := FleissResult{Kappa: math.NaN(), P: math.NaN(), Pe: math.NaN()}
	for _, r := range counts {
		var ni, agree float64
		for _, v := range r {
			ni += v
			agree += float64(v * (v - 1))
		}
		if ni < 2 {
			continue
		}
		res.Subjects++
		sumP += agree / float64(ni*(ni-1))
		for j, v := range r {
			pj[j] += v
		}
		total += ni
	}
	if res.Subjects == 0 {
		return res
	}
	res.Ratings = int(math.Round(total))
	res.P = sumP / float64(res.Subjects)
	var pe float64
	for _, v := range pj {
		p := v / total
		pe += float64(p * p)
	}
	res.Pe = pe
	if pe < 1 {
		res.Kappa = (res.P - pe) / (1 - pe)
	}
	return res
}

// CohenResult is Cohen's κ for two raters with its standard errors and test.
type CohenResult struct {
	N     float64 // units rated by both
	Kappa float64 // (p_o − p_e)/(1 − p_e); NaN when p_e = 1
	Po    float64 // observed agreement Σ_i p_ii
	Pe    float64 // chance agreement Σ_i p_i. p_.i
	SE    float64 // large-sample standard error of κ̂ (for confidence intervals)
	SE0   float64 // standard error under κ = 0 (for the test)
	Z     float64 // κ̂ / SE0
	P     float64 // two-sided p-value of κ = 0 (normal approximation)
}

// CohenKappa returns Cohen's κ (Cohen 1960) of table, a k × k contingency table of
// counts: table[i][j] is the number of units the first rater put in category i and the
// second in category j. With p_ij = table[i][j]/n, row margins p_i. and column margins
// p_.j:
//
//	p_o = Σ_i p_ii,   p_e = Σ_i p_i. p_.i,   κ = (p_o − p_e)/(1 − p_e)
//
// Standard errors are the large-sample ones of Fleiss, Cohen & Everitt (1969), "Large
// sample standard errors of kappa and weighted kappa", Psychological Bulletin 72(5),
// 323–327 (also Fleiss, Levin & Paik 2003, eqs. 18.13 and 18.15):
//
//	SE(κ̂) = √( Σ_i p_ii [1 − (p_i. + p_.i)(1 − κ̂)]²
//	           + (1 − κ̂)² Σ_{i≠j} p_ij (p_.i + p_j.)²
//	           − [κ̂ − p_e (1 − κ̂)]² ) / ((1 − p_e) √n)
//	SE₀    = √( p_e + p_e² − Σ_i p_i. p_.i (p_i. + p_.i) ) / ((1 − p_e) √n)
//
// It panics if table is not square.
func CohenKappa(table [][]float64) CohenResult {
	k := len(table)
	for _, r := range table {
		if len(r) != k {
			panic("agree: CohenKappa needs a square table")
		}
	}
	nan := math.NaN()
	res := CohenResult{Kappa: nan, Po: nan, Pe: nan, SE: nan, SE0: nan, Z: nan, P: nan}
	var n float64
	for _, r := range table {
		for _, v := range r {
			n += v
		}
	}
	res.N = n
	if n == 0 {
		return res
	}
	row := make([]float64, k)
	col := make([]float64, k)
	for i, r := range table {
		for j, v := range r {
			row[i] += v / n
			col[j] += v / n
		}
	}
	var po, pe float64
	for i := 0; i < k; i++ {
		po += table[i][i] / n
		pe += float64(row[i] * col[i])
	}
	res.Po, res.Pe = po, pe
	if pe >= 1 {
		return res
	}
	kappa := (po - pe) / (1 - pe)
	res.Kappa = kappa
	var a, b, c0 float64
	for i := 0; i < k; i++ {
		pii := table[i][i] / n
		t := 1 - float64((row[i]+col[i])*(1-kappa))
		a += float64(float64(pii*t) * t)
		c0 += float64(float64(row[i]*col[i]) * (row[i] + col[i]))
		for j := 0; j < k; j++ {
			if i == j {
				continue
			}
			s := col[i] + row[j]
			b += float64(float64(table[i][j]/n*s) * s)
		}
	}
	c := kappa - float64(pe*(1-kappa))
	v := a + float64(float64((1-kappa)*(1-kappa))*b) - float64(c*c)
	den := float64((1 - pe) * math.Sqrt(n))
	if v >= 0 {
		res.SE = math.Sqrt(v) / den
	}
	if v0 := pe + float64(pe*pe) - c0; v0 >= 0 {
		res.SE0 = math.Sqrt(v0) / den
		if res.SE0 > 0 {
			res.Z = kappa / res.SE0
			res.P = normalTwoSided(res.Z)
		}
	}
	return res
}
