package agree

import (
	"fmt"
	"math"
	"sort"
)

// Metric is the difference function δ² of Krippendorff's α: how far apart two values
// are on the scale of the data.
type Metric string

// The four metrics of Krippendorff (2011). For values c and k, with n_g the number of
// pairable values equal to g:
//
//	nominal   δ² = 0 if c = k, else 1
//	ordinal   δ² = (Σ_{g=c..k} n_g − (n_c + n_k)/2)²
//	interval  δ² = (c − k)²
//	ratio     δ² = ((c − k)/(c + k))²
const (
	Nominal  Metric = "nominal"
	Ordinal  Metric = "ordinal"
	Interval Metric = "interval"
	Ratio    Metric = "ratio"
)

// Metrics lists the metrics in order of increasing strength of the scale.
var Metrics = []Metric{Nominal, Ordinal, Interval, Ratio}

// ParseMetric returns the metric named s.
func ParseMetric(s string) (Metric, error) {
	for _, m := range Metrics {
		if string(m) == s {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown metric %q: use nominal, ordinal, interval or ratio", s)
}

// Missing marks a value that was not given in a units × raters matrix.
var Missing = math.NaN()

// AlphaResult is Krippendorff's α with its parts.
type AlphaResult struct {
	Alpha  float64 // 1 − Do/De; NaN when De = 0 (no variation) or no unit is pairable
	Do     float64 // observed disagreement
	De     float64 // disagreement expected by chance
	Units  int     // pairable units: units with at least two values
	Values int     // n, the number of pairable values
}

// Alpha returns Krippendorff's α of data with metric m.
//
// data is units × raters: data[u][r] is the value rater r gave unit u, or NaN
// (Missing) when r gave none; rows may have different lengths. Units with fewer than
// two values are not pairable and are dropped. With the coincidence matrix
// (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability", §C)
//
//	o_ck = Σ_u (number of c–k pairs of values in u from different raters) / (m_u − 1)
//	n_c  = Σ_k o_ck,   n = Σ_c n_c
//	Do   = (1/n) Σ_c Σ_k o_ck δ²_ck
//	De   = 1/(n(n−1)) Σ_c Σ_k n_c n_k δ²_ck
//	α    = 1 − Do/De
//
// where m_u is the number of values in unit u. α = 1 is perfect agreement, 0 is the
// agreement expected by chance, negative is systematic disagreement.
func Alpha(data [][]float64, m Metric) AlphaResult {
	// Distinct pairable values, sorted.
	var vals []float64
	for _, row := range data {
		if countPresent(row) < 2 {
			continue
		}
		for _, v := range row {
			if !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
	}
	res := AlphaResult{Alpha: math.NaN(), Do: math.NaN(), De: math.NaN()}
	if len(vals) == 0 {
		return res
	}
	sort.Float64s(vals)
	uniq := vals[:1]
	for _, v := range vals[1:] {
		if v != uniq[len(uniq)-1] {
			uniq = append(uniq, v)
		}
	}
	idx := func(v float64) int { return sort.SearchFloat64s(uniq, v) }
	V := len(uniq)

	// Coincidence matrix, V × V.
	o := make([]float64, V*V)
	cnt := make([]float64, V)
	var touched []int
	for _, row := range data {
		mu := countPresent(row)
		if mu < 2 {
			continue
		}
		res.Units++
		touched = touched[:0]
		for _, v := range row {
			if math.IsNaN(v) {
				continue
			}
			c := idx(v)
			if cnt[c] == 0 {
				touched = append(touched, c)
			}
			cnt[c]++
		}
		w := 1 / float64(mu-1)
		for _, c := range touched {
			for _, k := range touched {
				pairs := float64(cnt[c] * cnt[k])
				if c == k {
					pairs = float64(cnt[c] * (cnt[c] - 1))
				}
				o[c*V+k] += float64(pairs * w)
			}
		}
		for _, c := range touched {
			cnt[c] = 0
		}
	}
	nc := make([]float64, V)
	var n float64
	for c := 0; c < V; c++ {
		for k := 0; k < V; k++ {
			nc[c] += o[c*V+k]
		}
		n += nc[c]
	}
	res.Values = int(math.Round(n))
	if n < 2 {
		return res
	}
	d2 := deltaSquared(uniq, nc, m)
	var so, se float64
	for c := 0; c < V; c++ {
		for k := 0; k < V; k++ {
			so += float64(o[c*V+k] * d2[c*V+k])
			se += float64(float64(nc[c]*nc[k]) * d2[c*V+k])
		}
	}
	res.Do = so / n
	res.De = se / float64(n*(n-1))
	if res.De > 0 {
		res.Alpha = 1 - res.Do/res.De
	}
	return res
}

// deltaSquared returns the V × V matrix of δ² between the sorted distinct values,
// given their pairable frequencies nc (used by the ordinal metric).
func deltaSquared(vals, nc []float64, m Metric) []float64 {
	V := len(vals)
	d := make([]float64, V*V)
	for c := 0; c < V; c++ {
		for k := 0; k < V; k++ {
			var v float64
			switch m {
			case Nominal:
				if c != k {
					v = 1
				}
			case Ordinal:
				lo, hi := c, k
				if lo > hi {
					lo, hi = hi, lo
				}
				var s float64
				for g := lo; g <= hi; g++ {
					s += nc[g]
				}
				s -= float64((nc[c] + nc[k]) / 2)
				v = float64(s * s)
			case Interval:
				x := vals[c] - vals[k]
				v = float64(x * x)
			case Ratio:
				if sum := vals[c] + vals[k]; sum != 0 {
					x := (vals[c] - vals[k]) / sum
					v = float64(x * x)
				}
			default:
				panic("agree: unknown metric " + string(m))
			}
			d[c*V+k] = v
		}
	}
	return d
}

func countPresent(row []float64) int {
	n := 0
	for _, v := range row {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}
