// Package demo is Prefer's demo domain: a small, self-made world of short requests and
// composed responses in which the three reward-hacking stories of RLHF happen for real,
// and the simulated raters who judge it.
//
// Prompts are short requests across six topics: facts (capitals, simple science), unit
// conversions (computed, so answers are checkable), how-to, advice, safety questions
// that deserve an answer but sound risky, and harmful requests that should be refused.
// Responses are composed from parts — an answer (right or wrong, or unsafe compliance),
// a refusal, opening and closing politeness phrases, filler sentences that say little,
// hedges — drawn from fixed sentence inventories, so the vocabulary is a few hundred
// words (Vocabulary) and every response has a known gold utility (Features.Gold).
// Analyze recognizes the parts of any text, so gold is defined for new text too, such
// as a language model's samples.
//
// Simulated raters (Rater, with a Profile from Presets or ParseProfiles) see the gold
// utility through noise and biases: verbosity, position, politeness over accuracy,
// over-caution, fatigue, spam. They produce every judgment kind of package feedback
// with simulated times. Generate builds a whole dataset; Corpus gives the reference
// policy's text for language-model pretraining.
//
// Everything is a pure function of the seed: no clock, no global randomness, no map
// order in results, the same bits natively and in wasm.
package demo
