package agree

import (
	"errors"
	"fmt"
	"math"

	"prefer/core/num"
)

// DSConfig configures DawidSkene. The zero value (or nil) means the defaults.
type DSConfig struct {
	// MaxIter bounds the EM iterations. Default 500: EM on rater data usually settles
	// in 10–100 iterations; the bound only stops a slow crawl.
	MaxIter int
	// Tol stops EM when the log-likelihood improves by less than Tol·(1+|LL|).
	// Default 1e-6: EM creeps when a class is rare (ties), and at this tolerance the
	// accuracies are within about 0.005 of where hundreds more iterations lead.
	Tol float64
	// Smoothing is the pseudo-count added to every cell of every confusion matrix and to
	// the class counts (a symmetric Dirichlet prior), so a rater never gets probability
	// zero for a label and a log of zero never appears. Default 0.01: small enough not to
	// bias raters with hundreds of labels, large enough to keep the E-step finite.
	Smoothing float64
}

func (c *DSConfig) defaults() DSConfig {
	d := DSConfig{MaxIter: 500, Tol: 1e-6, Smoothing: 0.01}
	if c == nil {
		return d
	}
	if c.MaxIter > 0 {
		d.MaxIter = c.MaxIter
	}
	if c.Tol > 0 {
		d.Tol = c.Tol
	}
	if c.Smoothing > 0 {
		d.Smoothing = c.Smoothing
	}
	return d
}

// DSResult is the Dawid–Skene fit.
type DSResult struct {
	Prior     []float64     // (K) class priors π_k
	Confusion [][][]float64 // (R, K, K) Confusion[r][k][l] = P(rater r says l | true class k)
	Accuracy  []float64     // (R) Σ_k π_k Confusion[r][k][k]; NaN for a rater with no labels on fitted units
	Posterior [][]float64   // (U, K) P(true class of unit u = k | all labels)
	Labels    []int         // (U) argmax of Posterior (lowest class on ties)
	LogLik    float64       // log-likelihood of the labels of the fitted units
	Iter      int           // EM iterations run
	Converged bool          // whether the tolerance was reached before MaxIter
}

// ErrNoLabels is returned by DawidSkene when no unit has a label.
var ErrNoLabels = errors.New("no labels to fit")

// DawidSkene estimates each rater's confusion matrix, the class priors and the
// posterior of each unit's true class by EM (Dawid & Skene 1979, "Maximum likelihood
// estimation of observer error-rates using the EM algorithm", Applied Statistics 28).
//
// labels is units × raters (U × R): labels[u][r] in 0..k−1 is rater r's label of unit u,
// or −1 when r did not label u. With T_uk the posterior of class k for unit u:
//
//	init:   T_uk = share of unit u's labels equal to k            (majority vote)
//	M-step: π_k = (Σ_u T_uk + s) / (U + K s)                       (U fitted units)
//	        θ_r[k][l] = (Σ_u T_uk [y_ur = l] + s) / (Σ_{u labeled by r} T_uk + K s)
//	E-step: log T_uk = log π_k + Σ_r log θ_r[k][y_ur] − log Σ_k' exp(…)
//
// with s the smoothing pseudo-count. The parameters are fitted on the units with at
// least two labels (on all labeled units when no unit has two): a unit labeled once
// carries no information on its rater's accuracy, and in sparse panels such units
// only reinforce the current estimate. Every unit gets its posterior from the fitted
// parameters; a unit nobody labeled gets the prior. The E-step is computed in log
// space with num.Log and num.Exp, so results are bit-identical natively and in wasm.
// It panics if a label is outside −1..k−1.
func DawidSkene(labels [][]int, k int, cfg *DSConfig) (*DSResult, error) {
	c := cfg.defaults()
	if k < 1 {
		return nil, fmt.Errorf("dawid-skene: %d classes: need at least one", k)
	}
	R := 0
	for _, row := range labels {
		if len(row) > R {
			R = len(row)
		}
	}
	votes := make([][]vote, len(labels))
	for u, row := range labels {
		for r, l := range row {
			if l < -1 || l >= k {
				panic(fmt.Sprintf("agree: DawidSkene label %d outside -1..%d", l, k-1))
			}
			if l >= 0 {
				votes[u] = append(votes[u], vote{r, l})
			}
		}
	}
	return fitDawidSkene(votes, R, k, c)
}

// vote is one label of a unit: rater r said l.
type vote struct{ r, l int }

// fitDawidSkene runs EM on sparse labels: votes[u] lists the labels of unit u, from R
// raters, in k classes.
func fitDawidSkene(votes [][]vote, R, k int, c DSConfig) (*DSResult, error) {
	U := len(votes)
	// The parameters are fitted on the units with at least two labels (all labeled
	// units when there are none): a unit labeled once says nothing about its rater's
	// accuracy, and in a sparse panel such units only reinforce whatever the EM
	// believes of that rater, down to a rater "known" to be always wrong.
	most := 0
	for u := range votes {
		most = max(most, len(votes[u]))
	}
	if most == 0 {
		return nil, fmt.Errorf("dawid-skene: %w", ErrNoLabels)
	}
	minVotes := min(2, most)
	T := make([][]float64, U)
	for u := range T {
		T[u] = make([]float64, k)
		if len(votes[u]) == 0 {
			continue
		}
		for _, v := range votes[u] {
			T[u][v.l] += 1 / float64(len(votes[u]))
		}
	}
	res := &DSResult{
		Prior:     make([]float64, k),
		Confusion: make([][][]float64, R),
		Accuracy:  make([]float64, R),
		Posterior: T,
		Labels:    make([]int, U),
		LogLik:    math.Inf(-1),
	}
	for r := range res.Confusion {
		res.Confusion[r] = make([][]float64, k)
		for kk := range res.Confusion[r] {
			res.Confusion[r][kk] = make([]float64, k)
		}
	}
	logPrior := make([]float64, k)
	logTheta := make([]float64, R*k*k) // (R, K, K)
	lt := make([]float64, k)
	labeled := make([]bool, R) // rater has labels on fitted units
	for u := range votes {
		if len(votes[u]) < minVotes {
			continue
		}
		for _, v := range votes[u] {
			labeled[v.r] = true
		}
	}
	s := c.Smoothing
	for it := 1; it <= c.MaxIter; it++ {
		// M-step.
		for kk := range res.Prior {
			res.Prior[kk] = s
		}
		for r := range res.Confusion {
			for kk := range res.Confusion[r] {
				for l := range res.Confusion[r][kk] {
					res.Confusion[r][kk][l] = s
				}
			}
		}
		nUnits := 0
		for u := range votes {
			if len(votes[u]) < minVotes {
				continue
			}
			nUnits++
			for kk, t := range T[u] {
				res.Prior[kk] += t
			}
			for _, v := range votes[u] {
				for kk, t := range T[u] {
					res.Confusion[v.r][kk][v.l] += t
				}
			}
		}
		for kk := range res.Prior {
			res.Prior[kk] /= float64(nUnits) + float64(float64(k)*s)
			logPrior[kk] = num.Log(res.Prior[kk])
		}
		for r := range res.Confusion {
			for kk, row := range res.Confusion[r] {
				var tot float64
				for _, x := range row {
					tot += x
				}
				for l := range row {
					row[l] /= tot
					logTheta[(r*k+kk)*k+l] = num.Log(row[l])
				}
			}
		}
		// E-step.
		var ll float64
		for u := range votes {
			copy(lt, logPrior)
			for _, v := range votes[u] {
				for kk := range lt {
					lt[kk] += logTheta[(v.r*k+kk)*k+v.l]
				}
			}
			// T_u = softmax(lt), and log Σ exp(lt) for the log-likelihood.
			m := lt[0]
			for _, v := range lt[1:] {
				m = max(m, v)
			}
			var sum float64
			for kk, v := range lt {
				T[u][kk] = num.Exp(v - m)
				sum += T[u][kk]
			}
			for kk := range lt {
				T[u][kk] /= sum
			}
			if len(votes[u]) >= minVotes {
				ll += m + num.Log(sum)
			}
		}
		res.Iter = it
		if ll-res.LogLik < float64(c.Tol*(1+math.Abs(ll))) {
			res.LogLik = ll
			res.Converged = true
			break
		}
		res.LogLik = ll
	}
	for r := range res.Accuracy {
		if !labeled[r] {
			res.Accuracy[r] = math.NaN()
			continue
		}
		var a float64
		for kk := range res.Prior {
			a += float64(res.Prior[kk] * res.Confusion[r][kk][kk])
		}
		res.Accuracy[r] = a
	}
	for u := range T {
		res.Labels[u] = num.Argmax(T[u])
	}
	return res, nil
}

// MajorityVote returns the most frequent label of each unit of labels (units × raters,
// −1 missing), the lowest label on ties, and −1 for a unit with no labels.
func MajorityVote(labels [][]int, k int) []int {
	out := make([]int, len(labels))
	cnt := make([]float64, k)
	for u, row := range labels {
		for i := range cnt {
			cnt[i] = 0
		}
		n := 0
		for _, l := range row {
			if l >= 0 && l < k {
				cnt[l]++
				n++
			}
		}
		if n == 0 {
			out[u] = -1
			continue
		}
		out[u] = num.Argmax(cnt)
	}
	return out
}
