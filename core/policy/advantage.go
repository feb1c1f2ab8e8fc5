package policy

import "math"

// Offsets writes the start of each sample's actions in a flat per-token array into
// dst (len(dst) == len(ss)+1, dst[len(ss)] = Actions(ss)) and returns it.
func Offsets(dst []int, ss []Sample) []int {
	if len(dst) != len(ss)+1 {
		panic("policy: Offsets length mismatch")
	}
	dst[0] = 0
	for i := range ss {
		dst[i+1] = dst[i] + ss[i].Len()
	}
	return dst
}

// PenalizedRewards writes the per-action rewards of the KL-penalized objective into
// dst, shape (N):
//
//	r_t = −β·k(log π_t, log π_ref,t) − α·log π_t  + [t = T]·score
//
// where k is the KL estimator, α the diversity (entropy) bonus coefficient, and the
// sequence-level score is added on the last action of each sample (Ziegler et al.
// 2019; TRL ≤ 0.11 PPOTrainer.compute_rewards). off holds the sample offsets
// (Offsets), scores one score per sample.
func PenalizedRewards(dst, logp, ref []float64, off []int, scores []float64, beta, alpha float64, est Estimator) {
	if len(dst) != len(logp) || len(dst) != len(ref) || len(off) != len(scores)+1 || off[len(scores)] != len(dst) {
		panic("policy: PenalizedRewards shape mismatch")
	}
	for t := range dst {
		dst[t] = float64(-beta*KLTerm(est, logp[t], ref[t])) - float64(alpha*logp[t])
	}
	for i, s := range scores {
		dst[off[i+1]-1] += s
	}
}

// GAE writes generalized advantage estimates and returns (Schulman et al. 2016,
// "High-Dimensional Continuous Control Using Generalized Advantage Estimation"),
// sample by sample, each sample an episode that ends after its last action:
//
//	δ_t = r_t + γ·V_{t+1} − V_t          (V_{T} = 0 after the last action)
//	A_t = δ_t + γλ·A_{t+1}
//	R_t = A_t + V_t                       (the value target)
//
// All arrays have shape (N); off holds the sample offsets. For a one-step episode
// (a candidate sample) A = r − V.
func GAE(adv, ret, rewards, values []float64, off []int, gamma, lambda float64) {
	n := len(rewards)
	if len(adv) != n || len(ret) != n || len(values) != n || off[len(off)-1] != n {
		panic("policy: GAE shape mismatch")
	}
	for i := 0; i+1 < len(off); i++ {
		var next, last float64
		for t := off[i+1] - 1; t >= off[i]; t-- {
			delta := rewards[t] + float64(gamma*next) - values[t]
			last = delta + float64(float64(gamma*lambda)*last)
			adv[t] = last
			ret[t] = last + values[t]
			next = values[t]
		}
	}
}

// Whiten shifts and scales x in place to mean 0 and unit variance, with the
// unbiased variance and ε = 1e-8 as in TRL's core.whiten:
//
//	x ← (x − mean) / √(var + 1e-8)
//
// Fewer than two values are only centered.
func Whiten(x []float64) {
	n := len(x)
	if n == 0 {
		return
	}
	var mean float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(n)
	if n < 2 {
		for i := range x {
			x[i] -= mean
		}
		return
	}
	var ss float64
	for _, v := range x {
		d := v - mean
		ss += float64(d * d)
	}
	sd := math.Sqrt(ss/float64(n-1) + 1e-8)
	for i := range x {
		x[i] = (x[i] - mean) / sd
	}
}

// LeaveOneOut writes the RLOO advantages of a group of G ≥ 2 sequence rewards
// (Kool et al. 2019, "Buy 4 REINFORCE samples, get a baseline for free!"; Ahmadian
// et al. 2024):
//
//	A_i = R_i − (1/(G−1))·Σ_{j≠i} R_j
func LeaveOneOut(adv, rewards []float64) {
	g := len(rewards)
	if len(adv) != g || g < 2 {
		panic("policy: LeaveOneOut needs two or more rewards and adv of equal length")
	}
	var s float64
	for _, r := range rewards {
		s += r
	}
	for i, r := range rewards {
		adv[i] = r - (s-r)/float64(g-1)
	}
}
