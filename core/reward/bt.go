package reward

import (
	"math"

	"prefer/core/num"
)

// llTerms is one comparison's log-likelihood ℓ and its first and second derivatives
// with respect to the score difference d and the tie threshold η.
type llTerms struct {
	ll    float64
	d, dd float64 // ∂ℓ/∂d, ∂²ℓ/∂d²
	e, ee float64 // ∂ℓ/∂η, ∂²ℓ/∂η²
	de    float64 // ∂²ℓ/∂d∂η
}

// decidedLL is the Bradley–Terry / Rao–Kupper log-likelihood of "first beat second"
// with score difference d = r_first − r_second:
//
//	ℓ = log σ(d − η)
//	∂ℓ/∂d = 1 − s,  ∂²ℓ/∂d² = −s(1−s),  ∂ℓ/∂η = −(1−s),  ∂²ℓ/∂η² = −s(1−s),
//	∂²ℓ/∂d∂η = s(1−s),  with s = σ(d − η).
func decidedLL(d, eta float64) llTerms {
	s, ll := sigmoidLog(d - eta)
	v := float64(s * (1 - s))
	return llTerms{
		ll: ll,
		d:  1 - s, dd: -v,
		e: -(1 - s), ee: -v,
		de: v,
	}
}

// sigmoidLog returns σ(x) and log σ(x) from one exponential:
//
//	e = exp(−|x|),  σ(x) = 1/(1+e) (x ≥ 0) or e/(1+e),  log σ(x) = −max(−x, 0) − log(1+e)
func sigmoidLog(x float64) (s, ll float64) {
	if x >= 0 {
		e := num.Exp(-x)
		return 1 / (1 + e), -num.Log(1 + e)
	}
	e := num.Exp(x)
	return e / (1 + e), x - num.Log(1+e)
}

// tieLL is the Rao–Kupper (1967) log-likelihood of a tie with score difference d:
//
//	ℓ = log σ(η − d) + log σ(η + d) + log(1 − e^(−2η))
//
// which equals log(1 − σ(d−η) − σ(−d−η)). With p = σ(η−d), q = σ(η+d):
//
//	∂ℓ/∂d = p − q,  ∂²ℓ/∂d² = −p(1−p) − q(1−q),
//	∂ℓ/∂η = (1−p) + (1−q) + 2/(e^(2η) − 1),
//	∂²ℓ/∂η² = −p(1−p) − q(1−q) − 4e^(2η)/(e^(2η) − 1)²,
//	∂²ℓ/∂d∂η = p(1−p) − q(1−q).
//
// η must be positive: a tie has probability 0 at η = 0.
func tieLL(d, eta float64) llTerms {
	p := num.Sigmoid(eta - d)
	q := num.Sigmoid(eta + d)
	e2 := num.Exp(float64(2 * eta))
	em1 := e2 - 1
	if eta < 1e-4 {
		// e^(2η) − 1 loses digits for small η; use its series.
		em1 = float64(float64(2*eta) * (1 + eta + float64(float64(2*eta)*eta)/3))
	}
	var ll float64
	if eta <= 0 {
		ll = math.Inf(-1)
	} else {
		ll = num.LogSigmoid(eta-d) + num.LogSigmoid(eta+d) + num.Log(em1) - float64(2*eta)
	}
	vp, vq := float64(p*(1-p)), float64(q*(1-q))
	return llTerms{
		ll: ll,
		d:  p - q, dd: -vp - vq,
		e: (1 - p) + (1 - q) + 2/em1, ee: -vp - vq - float64(4*e2)/float64(em1*em1),
		de: vp - vq,
	}
}

// decidedProb is P(first ≻ second | the comparison was decided) under Rao–Kupper:
// σ(d−η) / (σ(d−η) + σ(−d−η)). It is σ(d) when η = 0.
func decidedProb(d, eta float64) float64 {
	if eta == 0 {
		return num.Sigmoid(d)
	}
	a := num.Sigmoid(d - eta)
	b := num.Sigmoid(-d - eta)
	return a / (a + b)
}

// TieProb returns the Rao–Kupper probability of a tie at score difference d and
// threshold η: 1 − σ(d−η) − σ(−d−η).
func TieProb(d, eta float64) float64 {
	if eta <= 0 {
		return 0
	}
	return num.Exp(tieLL(d, eta).ll)
}

// WinProb returns P(first ≻ second) = σ(d − η) for score difference d = r₁ − r₂.
func WinProb(d, eta float64) float64 { return num.Sigmoid(d - eta) }
