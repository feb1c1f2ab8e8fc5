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
	// Rows in chunks: softmaxRows (Go, or the SIMD kernel in wasm) up to the sums,
	// then the logarithms here.
	const chunk = 64
	var zs, pls [chunk]float64
	var ms [chunk]float32
	for n0 := 0; n0 < N; n0 += chunk {
		k := min(chunk, N-n0)
		softmaxRows(probs[n0*V:(n0+k)*V], logits[n0*V:(n0+k)*V], k, V, zs[:k], pls[:k], ms[:k])
		for i := range k {
			n := n0 + i
			softmaxFinish(lse, logp, ent, logits[n*V:(n+1)*V], targets, n, ms[i], zs[i], pls[i])
		}
	}
}

// softmaxRowsGo is softmaxRows's Go kernel: softmaxRowGo on each of N rows, the
// results in zs, pls and ms.
func softmaxRowsGo(probs, logits []float32, N, V int, zs, pls []float64, ms []float32) {
	for n := range N {
		ms[n], zs[n], pls[n] = softmaxRowGo(probs[n*V:(n+1)*V:(n+1)*V], logits[n*V:(n+1)*V:(n+1)*V])
	}
}

// softmaxRowGo is the part of softmaxForward before its logarithm for one row of
// logits l (the SIMD kernel softmax_rows computes the same): p = e**(l − m)/z, and
// returns m, z = Σ e**(l − m) and pl = Σ p·(l − m), the sums left to right in
// float64.
func softmaxRowGo(p, l []float32) (m float32, z, pl float64) {
	m = l[0]
	i := 0
	for ; i+8 <= len(l); i += 8 {
		v := l[i : i+8 : i+8]
		m = max32(m, v[0])
		m = max32(m, v[1])
		m = max32(m, v[2])
		m = max32(m, v[3])
		m = max32(m, v[4])
		m = max32(m, v[5])
		m = max32(m, v[6])
		m = max32(m, v[7])
	}
	for ; i < len(l); i++ {
		m = max32(m, l[i])
	}
	i = 0
	for ; i+8 <= len(l); i += 8 {
		v := l[i : i+8 : i+8]
		z := p[i : i+8 : i+8]
		z[0], z[1], z[2], z[3] = v[0]-m, v[1]-m, v[2]-m, v[3]-m
		z[4], z[5], z[6], z[7] = v[4]-m, v[5]-m, v[6]-m, v[7]-m
	}
	for ; i < len(l); i++ {
		p[i] = l[i] - m
	}
	expSlice(p)
	i = 0
	for ; i+8 <= len(p); i += 8 {
		e := p[i : i+8 : i+8]
		z = z + float64(e[0]) + float64(e[1]) + float64(e[2]) + float64(e[3]) +
			float64(e[4]) + float64(e[5]) + float64(e[6]) + float64(e[7])
	}
	for ; i < len(p); i++ {
		z += float64(p[i])
	}
	inv := float32(1 / z)
	i = 0
	for ; i+4 <= len(p); i += 4 {
		e := p[i : i+4 : i+4]
		v := l[i : i+4 : i+4]
		e[0] = float32(e[0] * inv)
		e[1] = float32(e[1] * inv)
		e[2] = float32(e[2] * inv)
		e[3] = float32(e[3] * inv)
		pl = pl + float64(float64(e[0])*float64(v[0]-m)) + float64(float64(e[1])*float64(v[1]-m)) +
			float64(float64(e[2])*float64(v[2]-m)) + float64(float64(e[3])*float64(v[3]-m))
	}
	for ; i < len(p); i++ {
		p[i] = float32(p[i] * inv)
		pl += float64(float64(p[i]) * float64(l[i]-m))
	}
	return m, z, pl
}

// softmaxFinish writes lse, ent and logp of row n from softmaxRowGo's m, z and pl.
func softmaxFinish(lse, logp, ent, l []float32, targets []int32, n int, m float32, z, pl float64) {
	logz := num.Log(z)
	lse[n] = m + float32(logz)
	ent[n] = float32(logz - pl)
	if t := targets[n]; t >= 0 {
		logp[n] = float32(float64(l[t]-m) - logz)
	} else {
		logp[n] = 0
	}
}

// max32 returns v when v > m, else m (so the first of equal maxima, and never NaN
// from v).
func max32(m, v float32) float32 {
	if v > m {
		return v
	}
	return m
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
			i := 0
			for ; i+8 <= len(d); i += 8 {
				z := d[i : i+8 : i+8]
				q := p[i : i+8 : i+8]
				z[0] -= float32(g * q[0])
				z[1] -= float32(g * q[1])
				z[2] -= float32(g * q[2])
				z[3] -= float32(g * q[3])
				z[4] -= float32(g * q[4])
				z[5] -= float32(g * q[5])
				z[6] -= float32(g * q[6])
				z[7] -= float32(g * q[7])
			}
			for ; i < len(d); i++ {
				d[i] -= float32(g * p[i])
			}
			d[targets[n]] += g
		}
		if dent != nil && dent[n] != 0 {
			g := dent[n]
			l := logits[n*V : (n+1)*V : (n+1)*V]
			z, h := lse[n], ent[n]
			for i := range d {
				d[i] -= float32(float32(g*p[i]) * (l[i] - z + h))
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
		if float32(v*inv) > m {
			m = float32(v * inv)
		}
	}
	var z float64
	for _, v := range logits {
		z += float64(exp32(float32(v*inv) - m))
	}
	lz := m + float32(num.Log(z))
	for i, v := range logits {
		dst[i] = float32(v*inv) - lz
	}
	return dst
}
