package lm

// crossEntropyGrad writes into dst (grown as needed) the derivative of the mean
// negative log-likelihood of the scored targets with respect to each position's
// target log-probability:
//
//	L = −(1/n) Σ_{t: target ≥ 0} log π(target_t | prefix),   ∂L/∂logp_t = −1/n
func crossEntropyGrad(dst []float32, targets []int32) []float32 {
	dst = grow(dst, len(targets))
	n := 0
	for _, t := range targets {
		if t >= 0 {
			n++
		}
	}
	for i, t := range targets {
		if t >= 0 {
			dst[i] = -1 / float32(n)
		} else {
			dst[i] = 0
		}
	}
	return dst
}

// grow returns x resliced to length n, reallocated if its capacity is short.
func grow(x []float32, n int) []float32 {
	if cap(x) < n {
		return make([]float32, n)
	}
	return x[:n]
}
