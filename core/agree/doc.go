// Package agree measures the quality of human feedback: how much raters agree, how
// reliable each rater is, and which biases and drifts their judgments show.
//
// The statistics work on plain data, so published examples can be checked directly:
//
//   - Alpha: Krippendorff's α on a units × raters matrix with missing values (NaN),
//     with the nominal, ordinal, interval or ratio metric (Krippendorff 2011).
//   - FleissKappa: Fleiss' κ on a subjects × categories count table (Fleiss 1971);
//     its P̄ is the percent agreement.
//   - CohenKappa: Cohen's κ of two raters on a contingency table, with the
//     large-sample standard errors of Fleiss, Cohen & Everitt (1969).
//   - DawidSkene: per-rater confusion matrices, class priors and label posteriors by
//     EM (Dawid & Skene 1979); MajorityVote for comparison.
//   - BinomialTest and ChiSquareTest: the exact binomial test and Pearson's χ² test.
//
// Analyze maps judgments to those statistics and returns a Report, the document that
// `prefer agree --json` prints and the Quality page shows (keys: docs/quality.md).
// Each judgment kind with a label scale gets its own section, on its own units:
//
//	compare  (item, unordered pair of responses) → first, second, tie, both-bad, where
//	         first/second name the responses in sorted-id order, so the same pair judged
//	         with A and B swapped, or shown in the other order, gets the same label
//	rank     every pair of a ranking, as a unit like compare's → first, second
//	rate     (item, response, axis), one section per axis → the score; α uses
//	         Options.Metric (ordinal by default), the other coefficients treat scores
//	         as categories
//	thumb    (item, response) → down, up
//	flag     (item, response) → the category (agreement among the raters who flagged)
//
// Agreement uses each rater's latest label per unit; reliability, fatigue and drift
// use every label. Gold answers come from the items: an item's GoldBest, or for a pair
// the response with the higher gold utility. Position and length bias are measured on
// decided comparisons; length bias is the effect of length on the choice at a fixed
// gold difference when gold is known. Fatigue is quality and time per judgment
// against the position in the session (Judgment.Seq); drift is agreement and label mix
// in equal-count time windows; group differences compare rater groups on the units
// they share, with a seeded permutation test.
//
// Everything is deterministic: judgments are taken in canonical order whatever order
// they come in, outputs are sorted, the permutation test draws from core/rng with an
// explicit seed, and every exp and log (p-values included) goes through core/num, so
// a report is bit-identical natively and in WebAssembly.
package agree
