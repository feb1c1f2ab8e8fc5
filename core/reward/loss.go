package reward

// lossOpts are the terms of an element's loss.
type lossOpts struct {
	eta    float64 // Rao–Kupper threshold (0: no ties modelled)
	margin float64 // TRL margin per unit of strength
	center float64 // TRL center_rewards_coefficient
}

// elemLoss returns the loss of one batch element given the rewards r of its rows
// (pair or tie: [first, second]; ranking: best first), and writes ∂loss/∂r into dr
// (len(r)) and returns ∂loss/∂η:
//
//	pair     softplus(−(Δ − η − m)),  Δ = r₀ − r₁, m = margin·strength
//	tie      −[log σ(η − Δ) + log σ(η + Δ) + log(1 − e^(−2η))]
//	ranking  1/C(K,2) · Σ_{a<b} softplus(−(r_a − r_b − η))
//	centering  + center · 1/P · Σ over the element's P pairs of (r_a + r_b)²
func elemLoss(kind uint8, strength int, r, dr []float64, o lossOpts) (loss, deta float64) {
	for i := range dr {
		dr[i] = 0
	}
	switch kind {
	case elPair, elTie:
		d := r[0] - r[1]
		var t llTerms
		if kind == elTie {
			t = tieLL(d, o.eta)
		} else {
			// The margin shifts Δ; ∂/∂η is then the same as for the plain pair.
			t = decidedLL(d-float64(o.margin*float64(strength)), o.eta)
		}
		loss = -t.ll
		dr[0] = -t.d
		dr[1] = t.d
		deta = -t.e
		if o.center != 0 {
			s := r[0] + r[1]
			loss += float64(float64(o.center*s) * s)
			dr[0] += float64(float64(2*o.center) * s)
			dr[1] += float64(float64(2*o.center) * s)
		}
	case elRank:
		k := len(r)
		inv := 2 / float64(k*(k-1))
		for a := 0; a < k; a++ {
			for b := a + 1; b < k; b++ {
				t := decidedLL(r[a]-r[b], o.eta)
				loss -= float64(inv * t.ll)
				dr[a] -= float64(inv * t.d)
				dr[b] += float64(inv * t.d)
				deta -= float64(inv * t.e)
				if o.center != 0 {
					s := r[a] + r[b]
					loss += float64(float64(float64(inv*o.center)*s) * s)
					dr[a] += float64(float64(float64(inv*2)*o.center) * s)
					dr[b] += float64(float64(float64(inv*2)*o.center) * s)
				}
			}
		}
	}
	return loss, deta
}
