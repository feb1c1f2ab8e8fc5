// Package policy is Prefer's KL-penalized policy optimization: it moves a policy π
// towards higher reward while a KL penalty keeps it close to the reference π_ref,
//
//	maximize  J(π) = E_{x, y~π}[r(x,y)] − β·KL(π(·|x) ‖ π_ref(·|x)),
//
// (Ziegler et al. 2019; Ouyang et al. 2022), with a fixed β or the adaptive KL
// controller of Ziegler et al. (Controller).
//
// The optimizers — PPO, RLOO, DPO and IPO, best-of-N — are written against the small
// Policy interface (sample, per-action log-probabilities, accumulate a weighted
// gradient, step), so the candidate policy of this package and the generative
// language model of package lm share one implementation of the KL terms folded into
// the reward (PenalizedRewards), GAE, whitening, clipping, the skip of exploding
// batches, the controller and the metrics recorder.
//
// Candidate is the candidate policy: a softmax over the given responses of each
// item, initialised at π_ref. Its KL, entropy and expected rewards are exact, and
// the optimum has the closed form π* ∝ π_ref·exp(r/β) (Optimum, SolveExact), the
// ground truth every optimizer is tested against. It works on any imported dataset.
//
// Every run records per-step series (reward, gold, kl, kl_k1, kl_k3, beta, entropy,
// distinct_1, distinct_2, the algorithm's losses and the response features) in a
// snapshot.Run. Sweep runs a β sweep (or best-of-N over N) so that proxy reward,
// gold reward and √KL show the over-optimization curve of Gao et al. (2022); Detect
// flags the point where the proxy keeps rising while gold falls and names the
// features that grew. Synthetic runs the synthetic-feedback (RLAIF) loop with a human
// audit. Everything is deterministic given the seed, natively and in wasm.
//
// See docs/policy.md for the algorithms, their defaults and sources, and the JSON
// output of the prefer optimize and prefer sweep commands.
package policy
