// Package policy is Prefer's KL-penalized policy optimization: it moves a policy π
// towards higher reward while a KL penalty keeps it close to the reference π_ref,
//
//	maximize  J(π) = E_{x, y~π}[r(x,y)] − β·KL(π(·|x) ‖ π_ref(·|x)),
//
// (Ziegler et al. 2019; Ouyang et al. 2022), with a fixed β or the adaptive KL
// controller of Ziegler et al.
//
// The optimizers (PPO, RLOO, DPO, IPO, best-of-N) are written against the small
// Policy interface — sample, log-probabilities per action, accumulate a weighted
// gradient, step — so the candidate policy of this package and the generative
// language model of package lm share one implementation of clipping, GAE,
// whitening, KL penalties, the controller and the metrics.
package policy
