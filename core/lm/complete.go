package lm

import (
	"strings"
	"unicode/utf8"

	"prefer/core/demo"
	"prefer/core/rng"
)

// CompleteConfig is one request for answers to a prompt, as an OpenAI-compatible
// server receives it (docs/models.md).
type CompleteConfig struct {
	// N is the number of answers, decoded together. Default 1.
	N int
	// Sample sets the temperature, top-k, top-p and the token bound; with
	// Sample.LogProbs each answer carries its tokens' log-probabilities.
	Sample SampleConfig
	// Stop ends an answer just before the first occurrence of any of these strings
	// (not included in the text). Default none: an answer ends at EOS or the bound.
	Stop []string
	// TopLogProbs is how many of the most likely tokens of each step to report
	// beside the chosen one (with Sample.LogProbs). Default 0.
	TopLogProbs int
}

// TokenLogProb is one token of an answer with the model's log-probability of it
// (temperature 1, before top-k and top-p). Text is the token as it appears in the
// answer (a leading space, a capital letter); the special tokens are named ("<eos>",
// "<unk>"). Without them, the Texts of an answer's tokens add up to its text.
type TokenLogProb struct {
	Text    string
	LogP    float32
	Special bool         // EOS or UNK: Text names it and is not part of the answer
	Top     []TopLogProb // the most likely tokens of the step, most likely first
}

// TopLogProb is an alternative token of a step and its log-probability.
type TopLogProb struct {
	Text string
	LogP float32
}

// Answer is one answer of Complete.
type Answer struct {
	Text string
	// Tokens is the number of tokens generated, EOS included: the usage count.
	Tokens int
	// Finish is "stop" when the answer ended by itself (EOS) or at a stop string,
	// "length" when it reached the token bound or the model's context.
	Finish string
	// LogProbs lists the answer's tokens (with Sample.LogProbs).
	LogProbs []TokenLogProb
}

// Delta is a piece of an answer as it is written, for streaming: Text continues
// answer Choice (the pieces of an answer add up to its Text); Finish is set on the
// answer's last delta.
type Delta struct {
	Choice   int
	Text     string
	LogProbs []TokenLogProb
	Finish   string
}

// Complete answers prompt c.N times (one batch, all randomness from r) and returns
// the prompt's length in tokens (as the model reads it: BOS, the prompt's last
// Context/2 − 2 words, SEP) and the answers. onDelta, when not nil, gets each piece
// of text as soon as it is certain (text that may begin a stop string is held back
// until it is decided); when it returns true (the client went away) generation
// stops. The answers are a pure function of the model, prompt, c and r's state.
func (l *LM) Complete(prompt string, c CompleteConfig, r *rng.RNG, onDelta func(Delta) bool) (int, []Answer) {
	n := max(c.N, 1)
	ids := l.Vocab.PromptIDs(prompt, l.Model.Config.Context/2)
	prompts := make([][]int32, n)
	for i := range prompts {
		prompts[i] = ids
	}
	seqs := make([]completion, n)
	maxStop := 0
	for _, s := range c.Stop {
		maxStop = max(maxStop, len(s))
	}
	gone := false
	l.Model.GenerateEach(prompts, c.Sample, r, func(t Token) bool {
		s := &seqs[t.Seq]
		s.tokens++
		var lp *TokenLogProb
		if c.Sample.LogProbs {
			lp = &TokenLogProb{Text: l.tokenText(s.words, t.ID), LogP: t.LogP, Special: t.ID <= UNKID, Top: l.topTokens(s.words, t.Row, c.TopLogProbs)}
		}
		if t.ID == EOSID {
			s.finish = "stop"
		} else if t.ID > UNKID && int(t.ID) < len(l.Vocab.Words) {
			s.words = append(s.words, l.Vocab.Words[t.ID])
		}
		full := demo.Detokenize(s.words)
		s.pending = append(s.pending, pendingToken{end: len(full), lp: lp})
		cut := -1
		for _, stop := range c.Stop {
			if i := strings.Index(full, stop); i >= 0 && (cut < 0 || i < cut) {
				cut = i
			}
		}
		if cut >= 0 {
			s.finish = "stop"
			full = full[:cut]
		}
		s.text = full
		safe := len(full)
		if s.finish == "" && maxStop > 1 {
			safe -= heldBack(full, c.Stop)
		}
		s.flush(t.Seq, safe, onDelta, &gone)
		return gone || s.finish != ""
	})
	answers := make([]Answer, n)
	for i := range seqs {
		s := &seqs[i]
		if s.finish == "" {
			s.finish = "length"
		}
		s.flush(i, len(s.text), onDelta, &gone)
		a := Answer{Text: s.text, Tokens: s.tokens, Finish: s.finish}
		if c.Sample.LogProbs {
			a.LogProbs = s.logprobs
		}
		answers[i] = a
	}
	return len(ids), answers
}

// completion is the state of one answer being written.
type completion struct {
	words    []string // the answer's words so far (special tokens left out)
	text     string   // its text (cut at a stop string)
	tokens   int
	finish   string
	sent     int            // bytes of text already given to onDelta
	pending  []pendingToken // tokens not yet given to onDelta
	logprobs []TokenLogProb
	done     bool // the last delta was sent
}

type pendingToken struct {
	end int // where the token's text ends in the answer, in bytes
	lp  *TokenLogProb
}

// flush gives onDelta the whole tokens whose text ends at or before limit, and once
// the answer has ended, everything left with the finish reason.
func (s *completion) flush(choice, limit int, onDelta func(Delta) bool, gone *bool) {
	if s.done {
		return
	}
	d := Delta{Choice: choice}
	upto := s.sent
	k := 0
	for ; k < len(s.pending); k++ {
		p := s.pending[k]
		if s.finish == "" && p.end > limit {
			break
		}
		upto = max(upto, min(p.end, len(s.text)))
		if p.lp != nil {
			s.logprobs = append(s.logprobs, *p.lp)
			d.LogProbs = append(d.LogProbs, *p.lp)
		}
	}
	s.pending = s.pending[k:]
	if s.finish != "" {
		upto = len(s.text)
		d.Finish = s.finish
		s.done = true
	}
	d.Text = s.text[s.sent:upto]
	s.sent = upto
	if onDelta != nil && !*gone && (d.Text != "" || d.Finish != "" || len(d.LogProbs) > 0) {
		*gone = onDelta(d)
	}
}

// heldBack is the length of the longest end of text that is a proper beginning of
// a stop string: that text may still turn out to be part of a stop string.
func heldBack(text string, stops []string) int {
	best := 0
	for _, stop := range stops {
		for k := min(len(stop)-1, len(text)); k > best; k-- {
			if strings.HasPrefix(stop, text[len(text)-k:]) {
				best = k
				break
			}
		}
	}
	for best > 0 && !utf8.RuneStart(text[len(text)-best]) {
		best++ // never split a character
	}
	return best
}

// tokenText is how token id reads when it follows words: its piece of the text
// (Detokenize renders each token from the tokens before it only), or the special
// token's name.
func (l *LM) tokenText(words []string, id int32) string {
	if id <= UNKID || int(id) >= len(l.Vocab.Words) {
		if id >= 0 && int(id) < len(l.Vocab.Words) {
			return l.Vocab.Words[id]
		}
		return UNK
	}
	before := demo.Detokenize(words)
	return demo.Detokenize(append(words[:len(words):len(words)], l.Vocab.Words[id]))[len(before):]
}

// topTokens returns the k most likely tokens of a row of log-probabilities (ties
// towards the lower id), as they would read after words.
func (l *LM) topTokens(words []string, row []float32, k int) []TopLogProb {
	if k <= 0 || row == nil {
		return nil
	}
	k = min(k, len(row))
	best := make([]int32, 0, k+1)
	for id := range row {
		i := len(best)
		for i > 0 && row[best[i-1]] < row[id] {
			i--
		}
		if i >= k {
			continue
		}
		best = append(best, 0)
		copy(best[i+1:], best[i:])
		best[i] = int32(id)
		if len(best) > k {
			best = best[:k]
		}
	}
	out := make([]TopLogProb, len(best))
	for i, id := range best {
		out[i] = TopLogProb{Text: l.tokenText(words, id), LogP: row[id]}
	}
	return out
}
