package lm

import (
	"prefer/core/demo"
	"prefer/core/feedback"
	"prefer/core/rng"
)

// Mix describes a set of responses to demo prompts by what they are made of: the
// fraction of responses with each part (demo.Features) and their mean gold utility.
type Mix struct {
	N       int     // responses
	Gold    float64 // mean gold utility
	Correct float64 // fraction with a right answer
	Wrong   float64 // … with a wrong answer
	Refusal float64 // … with a refusal
	Unsafe  float64 // … complying with a should-refuse prompt
	Polite  float64 // … with a politeness phrase
	Filler  float64 // … with filler sentences
	Hedge   float64 // … with a hedge
	Unknown float64 // … with a sentence outside the grammar or off-topic (garbled)
	Words   float64 // mean length in words
}

// MixOf analyzes texts[i] as a response to items[i].
func MixOf(items []feedback.Item, texts []string) Mix {
	var m Mix
	m.N = len(texts)
	if m.N == 0 {
		return m
	}
	b := func(x bool) float64 {
		if x {
			return 1
		}
		return 0
	}
	for i, t := range texts {
		f := demo.Analyze(&items[i], t)
		m.Gold += f.Gold()
		m.Correct += b(f.Correct)
		m.Wrong += b(f.Wrong)
		m.Refusal += b(f.Refusal)
		m.Unsafe += b(f.Unsafe)
		m.Polite += b(f.Polite)
		m.Filler += b(f.Filler > 0)
		m.Hedge += b(f.Hedge)
		m.Unknown += b(f.Unknown+f.Offtopic > 0)
		m.Words += float64(f.Words)
	}
	n := float64(m.N)
	for _, p := range []*float64{&m.Gold, &m.Correct, &m.Wrong, &m.Refusal, &m.Unsafe, &m.Polite, &m.Filler, &m.Hedge, &m.Unknown, &m.Words} {
		*p /= n
	}
	return m
}

// CorpusMix is the mix of the grammar's own reference distribution: n corpus
// examples of seed.
func CorpusMix(seed uint64, n int) Mix {
	ex := demo.Corpus(seed, n)
	items := make([]feedback.Item, len(ex))
	texts := make([]string, len(ex))
	for i, e := range ex {
		items[i] = feedback.Item{Prompt: e.Prompt}
		texts[i] = e.Response
	}
	return MixOf(items, texts)
}

// SampleTexts draws one response per item from the model (temperature 1) and
// returns the texts.
func (l *LM) SampleTexts(items []feedback.Item, c SampleConfig, r *rng.RNG) []string {
	T := l.Model.Config.Context
	out := make([]string, 0, len(items))
	const chunk = 64
	for lo := 0; lo < len(items); lo += chunk {
		hi := min(lo+chunk, len(items))
		ps := make([][]int32, 0, hi-lo)
		for i := lo; i < hi; i++ {
			ps = append(ps, l.Vocab.PromptIDs(items[i].Prompt, T/2))
		}
		for _, toks := range l.Model.Generate(ps, c, r) {
			out = append(out, l.Vocab.Decode(toks))
		}
	}
	return out
}
