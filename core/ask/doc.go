// Package ask is what Prefer asks of language models behind an OpenAI-compatible
// endpoint (docs/models.md), without the transport: the plan of a generation run
// and how its answers are recorded, and the AI judge — its prompt, the parsing of
// its verdicts, both orders of every pair, and Prefer's built-in judges.
//
// # Generation
//
// A run asks a model for K answers to each prompt (an item). Each answer is one
// request (n = 1) for a slot (item, k), with a seed derived from the run's seed, the
// item's id and k (SlotSeed), so the same run gives the same requests however it is
// split, interrupted or resumed. An answer is recorded as a response of its item
// (feedback.SourceGenerated; a text already there is not duplicated) with an Origin
// saying where it came from: the endpoint's host, the model, the settings, the seed
// and k. Missing lists the slots of a run that no recorded origin covers: run again
// after an interruption, a run asks exactly those.
//
// # Judging
//
// A judge compares the two answers of a pair under a written rubric (DefaultRubric
// unless one is given) in the prompt of MT-Bench (Zheng et al. 2023, "Judging
// LLM-as-a-judge"), ending with a verdict [[A]], [[B]] or [[C]] (a tie). Every pair is
// asked in both orders; each order is one compare judgment of the AI rater with the
// judge's reasoning as its note and Left naming the answer shown first, so the
// judge's position bias is measured (core/agree.AuditAI) and cancelled: a pair
// preferred only when shown first is a wash. Rankings ([[2, 1, 3]]) and ratings
// ([[5]]) work the same way.
//
// The built-in judges (BuiltinJudge) are not language models: the reference LM is
// far too small to judge by reading. They parse that same prompt, score each answer
// of a demo prompt with a written checklist (DemoRubricScore: right or wrong answer,
// unsafe compliance, refusals, filler and hedges), add a known bias (a bonus per word,
// or a preference for the answer shown first), and explain the score. Served by
// `prefer serve` under documented model names, they let the whole AI-judge path,
// and its audit, run offline against a judge whose bias is known.
package ask
