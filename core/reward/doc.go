// Package reward learns reward models from human comparisons: a scalar r(x, y) for a
// prompt x and a response y such that people prefer responses with higher reward.
//
// # Likelihood
//
// Bradley–Terry (Bradley & Terry 1952): a decided comparison of y_w over y_l has
//
//	P(y_w ≻ y_l) = σ(Δ − η),   Δ = r(x, y_w) − r(x, y_l)
//
// and ties follow Rao & Kupper (1967) with threshold η = log θ ≥ 0:
//
//	P(tie) = 1 − σ(Δ − η) − σ(−Δ − η)
//	log P(tie) = log σ(η − Δ) + log σ(η + Δ) + log(1 − e^(−2η))
//
// η is learned (it is 0 and absent when the data hold no ties). Rao–Kupper rather than
// Davidson (1970) because it is a threshold on the same logistic scale as the
// untied loss: with η = 0 it is exactly the TRL/InstructGPT loss softplus(−Δ), the
// margin and η both shift Δ, and the closed form above of log P(tie) is stable for
// every Δ. Davidson's model keeps the win/loss odds at π_i/π_j but its tie term
// ν√(π_iπ_j) lives on another scale and does not compose with a margin.
//
// Losses per batch element (one pair, one tie, or one whole ranking):
//
//	pair     softplus(−(Δ − η − m))              m = Margin·strength (TRL margin)
//	tie      −log P(tie)
//	ranking  1/C(K,2) · Σ_{a ranked above b} softplus(−(r_a − r_b − η))
//	         (InstructGPT, Ouyang et al. 2022 §3.5: all C(K,2) pairs of one prompt
//	         form one batch element)
//	centering  + Center · mean over the element's pairs of (r_a + r_b)²
//	         (TRL center_rewards_coefficient, Eisenstein et al. 2023)
//
// # Families
//
// Tabular: one free score per response, fitted by Newton's method to convergence,
// with standard errors from the inverse observed information, an optional position
// effect α (logit P(left wins) = λ_left − λ_right + α), and bootstrap confidence
// intervals. Scores of one connected group of responses are identified by fixing a
// reference response at 0. This is the leaderboard behind `prefer rank` and it
// reproduces BradleyTerry2's citations fit.
//
// Linear: r = w·φ(y) + b on hashed features φ: word unigrams and bigrams, whole
// sentences and character 3-grams (optionally prompt×response word pairs), hashed
// with FNV-1a into D buckets with a sign bit (Weinberger et al. 2009), each group
// scaled to unit norm, plus length features (log words, log sentences). MLP: r = w₂·relu(W₁φ + b₁) + b₂ on the same features. Both train with
// AdamW (Loshchilov & Hutter 2019) on float32 parameters with a fixed summation
// order, so training is bit-identical natively and in wasm, and stop early on a
// validation split. Ensemble: several members trained on bootstrap resamples with
// different seeds; the score is the members' mean and their spread measures
// uncertainty.
//
// # Diagnostics, active learning, personalization
//
// Evaluate reports held-out accuracy (a tie of scores counts as wrong, as in TRL),
// log-loss, reliability bins and expected calibration error, the Spearman correlation
// of reward with response length (verbosity) and, where gold utilities are known,
// with gold; the held-out pairs on which the model most confidently disagrees with
// people; for linear models the n-grams that drive reward up and down; and, when
// responses carry part tags (the demo domain's "polite", "wrong", …), how much each
// part moves reward compared with gold, which flags a model that overvalues one.
//
// Propose picks the next pairs to label: by default the pairs the ensemble's mean
// model is least sure how to order (uncertainty sampling), which on the demo domain
// reaches a target accuracy with about two thirds of the labels random choice
// needs; BALD (Houlsby et al. 2011) and plain ensemble disagreement are available
// and measured worse there. Personalize fits one model
// per rater group and reports how far the groups' models disagree and how badly the
// pooled model fits each group.
//
// See docs/reward.md for the command line, what is stored in a snapshot, and the
// measured results.
package reward
