// Package feedback is Prefer's data model of human feedback: the items people judge,
// the raters who judge them, and the judgments themselves as an append-only event log.
//
// An Item is a prompt with its candidate responses. A Rater is a person (or a simulated
// or AI rater) with an id, a display name and a group. A Judgment is one event: a
// pairwise comparison, a k-wise ranking, a Likert rating, a rewrite, a flag, a thumb, or
// a review of an earlier flag. Every judgment has a unique id; a Log is a set of
// judgments keyed by that id, so merging two logs is a set union that gives the same
// result in any order and when repeated.
//
// Views derive what the other packages consume: Pairs (what a reward model trains on),
// Groups (k-wise rankings), and per-rater and per-item selections. Validate checks a
// judgment against the items it refers to and returns a *JudgmentError naming the
// judgment and the rule it breaks.
//
// The package does no I/O and holds no clock: times are given by the caller.
package feedback
