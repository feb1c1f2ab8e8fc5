package policy

import (
	"fmt"
	"math"

	"prefer/core/num"
)

// Estimator names a per-action KL estimator (Schulman 2020, "Approximating KL
// divergence"). With ρ = π_ref(a)/π(a) and a ~ π:
//
//	k1 = −log ρ = log π − log π_ref        unbiased, can be negative
//	k2 = ½ (log ρ)²                        biased, ≥ 0
//	k3 = (ρ − 1) − log ρ                   unbiased, ≥ 0
type Estimator string

const (
	K1 Estimator = "k1"
	K2 Estimator = "k2"
	K3 Estimator = "k3"
)

// KLTerm returns the estimator's value for one action with log-probabilities logp
// under π and ref under π_ref.
func KLTerm(e Estimator, logp, ref float64) float64 {
	d := logp - ref // −log ρ
	switch e {
	case K2:
		return float64(float64(0.5*d) * d)
	case K3:
		return num.Exp(-d) - 1 + d
	default:
		return d
	}
}

// ExactKL returns KL(p‖q) = Σ_k p_k·log(p_k/q_k) for distributions over the same
// outcomes. Outcomes with p_k = 0 contribute 0; p_k > 0 with q_k = 0 gives +Inf.
// KL is never negative (Gibbs' inequality), and a policy equal to its reference up to
// rounding (a softmax of log-probabilities, best-of-1) gives sums of about ±1e−17:
// a sum below klRounding is returned as exactly 0, never −0 or −3.5e−17.
func ExactKL(p, q []float64) float64 {
	if len(p) != len(q) {
		panic("policy: ExactKL length mismatch")
	}
	var s float64
	for k, pk := range p {
		if pk <= 0 {
			continue
		}
		if q[k] <= 0 {
			return math.Inf(1)
		}
		s += float64(pk * (num.Log(pk) - num.Log(q[k])))
	}
	if !(s >= klRounding) {
		return 0
	}
	return s
}

// klRounding is the size below which an exact KL is rounding error: a few hundred
// terms of about 1e−17 each, far below the 1e−3 nats any figure shows.
const klRounding = 1e-14

// ExpectedEstimators returns E_{a~p}[k1], E[k2], E[k3] of the estimators of KL(p‖q),
// computed exactly by enumeration (E[k1] = E[k3] = KL(p‖q)).
func ExpectedEstimators(p, q []float64) (k1, k2, k3 float64) {
	for k, pk := range p {
		if pk <= 0 {
			continue
		}
		lp, lq := num.Log(pk), num.Log(q[k])
		k1 += float64(pk * KLTerm(K1, lp, lq))
		k2 += float64(pk * KLTerm(K2, lp, lq))
		k3 += float64(pk * KLTerm(K3, lp, lq))
	}
	return k1, k2, k3
}

// Entropy returns H(p) = −Σ_k p_k·log p_k.
func Entropy(p []float64) float64 {
	var h float64
	for _, pk := range p {
		if pk > 0 {
			h -= float64(pk * num.Log(pk))
		}
	}
	return h
}

// TV returns the total variation distance ½·Σ_k |p_k − q_k|.
func TV(p, q []float64) float64 {
	if len(p) != len(q) {
		panic("policy: TV length mismatch")
	}
	var s float64
	for k := range p {
		s += math.Abs(p[k] - q[k])
	}
	return float64(s / 2)
}

// KLConfig sets the KL penalty of PPO and RLOO. The zero value is a fixed β = 0.1
// with the k1 estimator in the reward.
type KLConfig struct {
	// Beta is the KL coefficient β, fixed, or the initial β of the adaptive
	// controller. Default 0.1; 0.2 is Ziegler et al.'s initial value for the
	// adaptive controller and is used when TargetKL is set and Beta is 0.
	Beta float64
	// TargetKL > 0 turns on the adaptive controller of Ziegler et al. (2019, §2.2)
	// aiming at this KL in nats per prompt (they use 6). 0 means a fixed β.
	TargetKL float64
	// Horizon is the controller's horizon in episodes. Default 10,000 (Ziegler et
	// al.; openai/lm-human-preferences; TRL ≤ 0.11).
	Horizon float64
	// Estimator is the per-action KL term folded into the reward:
	// r_t = −β·k(t). Default k1, whose policy gradient is exactly ∇KL; k3 is
	// available but biases the gradient (it is an unbiased estimate of the value,
	// not of its gradient).
	Estimator Estimator
}

func (c KLConfig) withDefaults() KLConfig {
	if c.Beta == 0 {
		if c.TargetKL > 0 {
			c.Beta = 0.2
		} else {
			c.Beta = 0.1
		}
	}
	if c.Horizon == 0 {
		c.Horizon = 10000
	}
	if c.Estimator == "" {
		c.Estimator = K1
	}
	return c
}

func (c KLConfig) validate() error {
	if !(c.Beta > 0) || math.IsInf(c.Beta, 0) {
		return fmt.Errorf("beta must be a positive number, got %v", c.Beta)
	}
	if c.TargetKL < 0 || math.IsNaN(c.TargetKL) {
		return fmt.Errorf("target KL must be ≥ 0 (0 for a fixed beta), got %v", c.TargetKL)
	}
	if !(c.Horizon > 0) {
		return fmt.Errorf("KL horizon must be positive, got %v", c.Horizon)
	}
	switch c.Estimator {
	case K1, K2, K3:
	default:
		return fmt.Errorf("unknown KL estimator %q: use k1, k2 or k3", c.Estimator)
	}
	return nil
}

// Controller holds the KL coefficient β of a run: fixed, or adapted towards a
// target KL.
type Controller struct {
	Beta    float64 // the current β
	Target  float64 // target KL in nats; 0 means β stays fixed
	Horizon float64 // horizon in episodes
}

// NewController returns the controller of c (after defaults).
func NewController(c KLConfig) *Controller {
	c = c.withDefaults()
	return &Controller{Beta: c.Beta, Target: c.TargetKL, Horizon: c.Horizon}
}

// Update adapts β after a batch of nSteps episodes whose measured KL was kl, with
// the proportional controller of Ziegler et al. (2019, §2.2), as in
// openai/lm-human-preferences and TRL ≤ 0.11 AdaptiveKLController:
//
//	e = clip(KL/target − 1, −0.2, 0.2)
//	β ← β·(1 + e·nSteps/horizon)
//
// A fixed controller (Target = 0) leaves β unchanged.
func (c *Controller) Update(kl float64, nSteps int) {
	if c.Target <= 0 || math.IsNaN(kl) {
		return
	}
	e := kl/c.Target - 1
	if e > 0.2 {
		e = 0.2
	}
	if e < -0.2 {
		e = -0.2
	}
	c.Beta = float64(c.Beta * (1 + float64(e*float64(nSteps))/c.Horizon))
}
