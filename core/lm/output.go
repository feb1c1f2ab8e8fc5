package lm

import (
	"math"

	"prefer/core/num"
)

// The output layer maps the final hidden state to logits over the vocabulary with
// the (tied) matrix Lmw — a linear layer without bias, see linear.go — and turns the
// logits into probabilities, log-probabilities of the target tokens and entropies.

// softmaxForward computes, for each of N rows of logits,
//
//	probs[n,v] = exp(l_v − m) / Z,      m = max_v l_v,  Z = Σ_v exp(l_v − m)
//	lse[n]     = m + log Z
//	logp[n]    = l_target − lse          (0 when target < 0: no target at this row)
//	ent[n]     = −Σ_v p_v log p_v = lse − Σ_v p_v·l_v
//
//	probs (N, V), lse (N), logp (N), ent (N), logits (N, V), targets (N)
//
// Sums and logarithms are in float64 (num.Log), so log-probabilities are accurate to
// float32 rounding of the logits.
func softmaxForward(probs, lse, logp, ent, logits []float32, targets []int32, N, V int) {
	for n := 0; n < N; n++ {
		l := logits[n*V : (n+1)*V : (n+1)*V]
		p := probs[n*V : (n+1)*V : (n+1)*V]
		m := l[0]
		for _, v := range l[1:] {
			if v > m {
				m = v
			}
		}
		for i, v := range l {
			p[i] = v - m
		}
		expSlice(p)
		var z float64
		for _, e := range p {
			z += float64(e)
		}
		inv := float32(1 / z)
		var pl float64
		for i := range p {
			p[i] *= inv
			pl += float64(p[i]) * float64(l[i]-m)
		}
		logz := num.Log(z)
		lse[n] = m + float32(logz)
		ent[n] = float32(logz - pl)
		if t := targets[n]; t >= 0 {
			logp[n] = float32(float64(l[t]-m) - logz)
		} else {
			logp[n] = 0
		}
	}
}

// softmaxBackward accumulates dlogits from the gradients of the per-row target
// log-probability and entropy:
//
//	∂logp/∂l_v = 1[v = target] − p_v
//	∂H/∂l_v    = −p_v·(log p_v + H),   log p_v = l_v − lse
//
//	dlogits (N, V), dlogp (N), dent (N) or nil, probs (N, V), logits (N, V),
//	lse (N), ent (N), targets (N)
func softmaxBackward(dlogits, dlogp, dent, probs, logits, lse, ent []float32, targets []int32, N, V int) {
	for n := 0; n < N; n++ {
		d := dlogits[n*V : (n+1)*V : (n+1)*V]
		p := probs[n*V : (n+1)*V : (n+1)*V]
		if g := dlogp[n]; g != 0 && targets[n] >= 0 {
			for i := range d {
				d[i] -= g * p[i]
			}
			d[targets[n]] += g
		}
		if dent != nil && dent[n] != 0 {
			g := dent[n]
			l := logits[n*V : (n+1)*V : (n+1)*V]
			z, h := lse[n], ent[n]
			for i := range d {
				d[i] -= g * p[i] * (l[i] - z + h)
			}
		}
	}
}

// logSoftmaxRow writes log-probabilities of one row of logits divided by a
// temperature into dst and returns dst; used by sampling.
func logSoftmaxRow(dst, logits []float32, temperature float64) []float32 {
	inv := float32(1 / temperature)
	m := float32(math.Inf(-1))
	for _, v := range logits {
		if v*inv > m {
			m = v * inv
		}
	}
	var z float64
	for _, v := range logits {
		z += float64(exp32(v*inv - m))
	}
	lz := m + float32(num.Log(z))
	for i, v := range logits {
		dst[i] = v*inv - lz
	}
	return dst
}
